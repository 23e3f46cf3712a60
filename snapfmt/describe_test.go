package snapfmt_test

import (
	"encoding/json"
	"testing"

	"github.com/etcdscope/etcdscope/snapfmt"
)

// TestDescribe: a file's descriptions and its store's JSON show learners,
// a joint configuration, removed members and v2 content, ids in hex, and
// say when a layer did not decode.
func TestDescribe(t *testing.T) {
	f := &snapfmt.File{
		Snapshot: &snapfmt.Snapshot{Metadata: snapfmt.Metadata{ConfState: snapfmt.ConfState{
			Voters: []uint64{1, 2}, Learners: []uint64{3}, VotersOutgoing: []uint64{1}, AutoLeave: true}}},
		Store: &snapfmt.Store{ClusterVersion: "3.5.0", Nodes: 1, Keys: 1, V2Content: true, Removed: []uint64{0xab},
			Members: []snapfmt.Member{{ID: 3, Name: "m3", PeerURLs: []string{"http://p"}, IsLearner: true}}},
	}
	for _, c := range []struct{ got, want string }{
		{f.DescribeConfState(), "voters 0000000000000001,0000000000000002 learners 0000000000000003 (joint: outgoing 0000000000000001, learners next [], auto leave true)"},
		{f.DescribeStore(), `cluster version 3.5.0, 1 node (1 key), 1 member: 0000000000000003 "m3" peers http://p clients  learner; removed 00000000000000ab; holds v2 data (etcd 3.6 refuses to start from it)`},
		{f.DescribeCRC(), "CRC! stored 0x00000000 computed 0x00000000"},
		{(&snapfmt.File{}).DescribeConfState(), "conf state unknown"},
		{(&snapfmt.File{}).DescribeStore(), "v2 store not decoded"},
		{(&snapfmt.DBFile{}).DescribeBolt(), "NOT BOLT"},
		{snapfmt.TrailerUnchecked.Describe(), ""},
	} {
		if c.got != c.want {
			t.Errorf("got  %s\nwant %s", c.got, c.want)
		}
	}
	b, err := json.Marshal(f.Store)
	if want := `{"members":[{"id":"0000000000000003","name":"m3","peer_urls":["http://p"],"client_urls":[],"is_learner":true}],` +
		`"removed_members":["00000000000000ab"],"cluster_version":"3.5.0","nodes":1,"keys":1,"v2_content":true,"current_index":0}`; err != nil || string(b) != want {
		t.Errorf("store JSON %s, %v\nwant %s", b, err, want)
	}
}
