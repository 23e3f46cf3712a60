package walfmt

import (
	"encoding/json"
	"testing"
)

// TestRaftJSON pins the JSON of the raft records: snake_case keys, member
// and cluster ids in 16 hex digits.
func TestRaftJSON(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{Metadata{NodeID: 0x8e9e05c52164694d, ClusterID: 0xcdf818194e3a8c32}, `{"node_id":"8e9e05c52164694d","cluster_id":"cdf818194e3a8c32"}`},
		{&HardState{Term: 2, Vote: 0x3f81, Commit: 367}, `{"term":2,"vote":"0000000000003f81","commit":367}`},
		{Snapshot{Index: 101, Term: 2, ConfState: &ConfState{Voters: []uint64{1}, LearnersNext: []uint64{2}}},
			`{"index":101,"term":2,"conf_state":{"voters":["0000000000000001"],"learners_next":["0000000000000002"]}}`},
		{ConfState{}, `{"voters":[]}`},
	} {
		b, err := json.Marshal(c.v)
		if err != nil || string(b) != c.want {
			t.Errorf("%+v: %s %v, want %s", c.v, b, err, c.want)
		}
	}
}

// TestRequestJSONOneEncoder checks that encoding/json and AppendJSON give
// a request the same document (one encoder), with member and lease ids in
// hex, and a put's value as its size only when asked.
func TestRequestJSONOneEncoder(t *testing.T) {
	lease := int64(0x7e570002)
	for _, c := range []struct {
		r    *Request
		want string
	}{
		{&Request{Kind: "put", ID: 7, Put: &PutRequest{Key: []byte("k"), Value: []byte("v"), Lease: lease}},
			`{"kind":"put","id":7,"put":{"key":"aw==","value":"dg==","lease":"000000007e570002"}}`},
		{&Request{Kind: "lease-grant", LeaseGrant: &LeaseGrantRequest{TTL: 60, ID: lease}},
			`{"kind":"lease-grant","lease_grant":{"ttl":60,"id":"000000007e570002"}}`},
		{&Request{Kind: "lease-revoke", LeaseRevoke: &LeaseRevokeRequest{ID: lease}}, `{"kind":"lease-revoke","lease_revoke":{"id":"000000007e570002"}}`},
		{&Request{Kind: "alarm", Alarm: &AlarmRequest{Action: AlarmAction(1), MemberID: 0x3f81, Alarm: AlarmType(1)}},
			`{"kind":"alarm","alarm":{"action":"` + AlarmAction(1).String() + `","member_id":"0000000000003f81","alarm":"` + AlarmType(1).String() + `"}}`},
		{&Request{Kind: "cluster-member-attr-set", ClusterMemberAttrSet: &ClusterMemberAttrSetRequest{MemberID: 0x3f81, Name: "n"}},
			`{"kind":"cluster-member-attr-set","cluster_member_attr_set":{"member_id":"0000000000003f81","name":"n"}}`},
		{&Request{Kind: "txn", Txn: &TxnRequest{Compare: []Compare{{Target: CompareTarget(4), Key: []byte("k"), Lease: &lease}}}},
			`{"kind":"txn","txn":{"compare":[{"result":"EQUAL","target":"` + CompareTarget(4).String() + `","key":"aw==","lease":"000000007e570002"}]}}`},
	} {
		b, err := json.Marshal(c.r)
		if err != nil || string(b) != c.want {
			t.Errorf("json.Marshal: %s %v\nwant %s", b, err, c.want)
		}
		if got := string(c.r.AppendJSON(nil, JSONOptions{})); got != c.want {
			t.Errorf("AppendJSON: %s\nwant %s", got, c.want)
		}
	}
	r := &Request{Kind: "put", Put: &PutRequest{Key: []byte("k"), Value: []byte("value")}}
	if got := string(r.AppendJSON(nil, JSONOptions{ValueSizes: true})); got != `{"kind":"put","put":{"key":"aw==","value_size":5}}` {
		t.Errorf("ValueSizes: %s", got)
	}
	cc := ConfChange{Type: ConfChangeAddNode, NodeID: 0x3f81, Member: &Member{ID: 0x3f81, Name: "n"}}
	if b, _ := json.Marshal(cc); string(b) != `{"type":"add-node","node_id":"0000000000003f81","member":{"id":"0000000000003f81","name":"n"}}` {
		t.Errorf("conf change: %s", b)
	}
}
