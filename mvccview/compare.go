package mvccview

import (
	"bytes"
	"cmp"
	"iter"

	"github.com/etcdscope/etcdscope/walfmt"
)

// CompareRange is etcd's applyCompare (server/etcdserver/txn/txn.go):
// whether every key-value kvs yields, those of c's range at the revision
// compared, satisfies c. An empty range compares as one zero key-value,
// except that a value compare then fails: a missing key has no value.
func CompareRange(c *walfmt.Compare, kvs iter.Seq[*KeyValue]) bool {
	empty := true
	for kv := range kvs {
		empty = false
		if !CompareKV(c, kv) {
			return false
		}
	}
	if empty {
		return c.Target != walfmt.CompareValue && CompareKV(c, &KeyValue{})
	}
	return true
}

// CompareKV is etcd's compareKV: whether kv satisfies the compare c,
// against the target value c holds for c.Target (zero, or no value, when
// it holds another). A target etcd does not know compares as equal, and a
// result it does not know is true, as in etcd.
func CompareKV(c *walfmt.Compare, kv *KeyValue) bool {
	var r int
	switch c.Target {
	case walfmt.CompareValue:
		r = bytes.Compare(kv.Value, c.Value)
	case walfmt.CompareCreate:
		r = cmp.Compare(kv.CreateRevision, deref(c.CreateRevision))
	case walfmt.CompareMod:
		r = cmp.Compare(kv.ModRevision, deref(c.ModRevision))
	case walfmt.CompareVersion:
		r = cmp.Compare(kv.Version, deref(c.Version))
	case walfmt.CompareLease:
		r = cmp.Compare(kv.Lease, deref(c.Lease))
	}
	switch c.Result {
	case walfmt.CompareEqual:
		return r == 0
	case walfmt.CompareNotEqual:
		return r != 0
	case walfmt.CompareGreater:
		return r > 0
	case walfmt.CompareLess:
		return r < 0
	}
	return true
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
