package replay_test

import (
	"testing"

	"github.com/etcdscope/etcdscope/replay"
)

// TestResultFields: the summary names the member in hex, counts requests
// by kind in order, and says which revisions are rebuilt from the log for
// each kind of base.
func TestResultFields(t *testing.T) {
	field := func(r *replay.Result, name string) string {
		for _, f := range r.Fields() {
			if f[0] == name {
				return f[1]
			}
		}
		t.Fatalf("no field %s in %v", name, r.Fields())
		return ""
	}
	r := &replay.Result{NodeID: 0x3f8129351331494b, ClusterID: 0xa, Revision: 337,
		Stats: replay.Stats{Requests: map[string]int64{"txn": 3, "put": 328}}}
	for name, want := range map[string]string{
		"member":      "3f8129351331494b in cluster 000000000000000a",
		"requests":    "put 328, txn 3",
		"refused":     "none",
		"trustworthy": "revisions 1 to 337, rebuilt from the whole log",
	} {
		if got := field(r, name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	r.BaseIndex, r.BaseRevision = 300, 337
	if got, want := field(r, "trustworthy"), "no revision after the base's 337: everything is the base's"; got != want {
		t.Errorf("trustworthy, nothing after the base: %q, want %q", got, want)
	}
	r.BaseRevision = 200
	if got, want := field(r, "trustworthy"), "revisions 201 to 337 rebuilt from the WAL; up to 200 they are the base's"; got != want {
		t.Errorf("trustworthy, after a base: %q, want %q", got, want)
	}
}
