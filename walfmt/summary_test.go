package walfmt_test

import (
	"testing"

	"github.com/etcdscope/etcdscope/walfmt"
)

// TestStats: the sample's entries counted by payload kind and by key
// prefix, and the order ByBytes gives them.
func TestStats(t *testing.T) {
	st, err := walfmt.CollectStats(walfmt.NewReader(sample(t), walfmt.Options{}), 1)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, c := range st.Requests {
		n += c.Count
	}
	if n != st.Entries || st.Requests["confchange"].Count != 1 || st.Problems != 0 {
		t.Errorf("%d entries by kind, want %d; %+v", n, st.Entries, st.Requests)
	}
	counts := walfmt.ByBytes(st.Prefixes)
	for i := 1; i < len(counts); i++ {
		if a, b := counts[i-1], counts[i]; a.Bytes < b.Bytes || a.Bytes == b.Bytes && a.Name > b.Name {
			t.Errorf("ByBytes: %+v before %+v", a, b)
		}
	}
	for k, want := range map[string]string{"/registry/pods/ns/x": "/registry/", "/a": "(no prefix)", "/a/b": "/a/", "x/y": "x/", "\xff/y": `"\xff/"`} {
		if got := walfmt.KeyPrefix([]byte(k), 1); got != want {
			t.Errorf("KeyPrefix(%q, 1) = %q, want %q", k, got, want)
		}
	}
	if got := walfmt.KeyPrefix([]byte("/registry/pods/ns/x"), 2); got != "/registry/pods/" {
		t.Errorf("KeyPrefix depth 2: %q", got)
	}
}
