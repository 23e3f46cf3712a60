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
