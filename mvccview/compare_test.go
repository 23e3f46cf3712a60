package mvccview_test

import (
	"slices"
	"testing"

	"github.com/etcdscope/etcdscope/mvccview"
	"github.com/etcdscope/etcdscope/walfmt"
)

// TestCompareRange follows etcd's applyCompare and compareKV: every key of
// the range must satisfy the compare; an empty range is one zero key-value
// except for a value compare, which fails; an unknown target compares as
// equal and an unknown result is true.
func TestCompareRange(t *testing.T) {
	n := func(v int64) *int64 { return &v }
	a := &mvccview.KeyValue{Key: []byte("a"), Value: []byte("x"), CreateRevision: 2, ModRevision: 5, Version: 3, Lease: 7}
	b := &mvccview.KeyValue{Key: []byte("b"), Value: []byte("y"), CreateRevision: 4, ModRevision: 4, Version: 1}
	for _, tc := range []struct {
		name string
		c    walfmt.Compare
		kvs  []*mvccview.KeyValue
		want bool
	}{
		{"version equal", walfmt.Compare{Target: walfmt.CompareVersion, Result: walfmt.CompareEqual, Version: n(3)}, []*mvccview.KeyValue{a}, true},
		{"create greater", walfmt.Compare{Target: walfmt.CompareCreate, Result: walfmt.CompareGreater, CreateRevision: n(1)}, []*mvccview.KeyValue{a, b}, true},
		{"mod less, one key fails", walfmt.Compare{Target: walfmt.CompareMod, Result: walfmt.CompareLess, ModRevision: n(5)}, []*mvccview.KeyValue{a, b}, false},
		{"value not equal", walfmt.Compare{Target: walfmt.CompareValue, Result: walfmt.CompareNotEqual, Value: []byte("y")}, []*mvccview.KeyValue{a}, true},
		{"lease equal", walfmt.Compare{Target: walfmt.CompareLease, Result: walfmt.CompareEqual, Lease: n(7)}, []*mvccview.KeyValue{a}, true},
		{"another target's value reads as 0", walfmt.Compare{Target: walfmt.CompareVersion, Result: walfmt.CompareEqual, ModRevision: n(3)}, []*mvccview.KeyValue{a}, false},
		{"missing key, version 0", walfmt.Compare{Target: walfmt.CompareVersion, Result: walfmt.CompareEqual, Version: n(0)}, nil, true},
		{"missing key, value", walfmt.Compare{Target: walfmt.CompareValue, Result: walfmt.CompareNotEqual, Value: []byte("z")}, nil, false},
		{"unknown target", walfmt.Compare{Target: 9, Result: walfmt.CompareEqual}, []*mvccview.KeyValue{a}, true},
		{"unknown result", walfmt.Compare{Target: walfmt.CompareVersion, Result: 9, Version: n(99)}, []*mvccview.KeyValue{a}, true},
	} {
		if got := mvccview.CompareRange(&tc.c, slices.Values(tc.kvs)); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
