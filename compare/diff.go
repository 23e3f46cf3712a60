package compare

import (
	"bytes"
	"errors"
	"fmt"
	"iter"
	"strings"

	"github.com/etcdscope/etcdscope/mvccview"
)

// maxKeys bounds the keys listed for one divergent revision.
const maxKeys = 20

// difference is where two members' hashed key-bucket records first
// differ: the main revision, and the keys that differ at it.
type difference struct {
	Revision int64
	Keys     []keyDiff
	More     int // keys beyond the listed ones
}

type keyDiff struct {
	Key  string
	What string // "value differs", "only in A", ...
}

func (d *difference) describe(a, b string) string {
	var parts []string
	for _, k := range d.Keys {
		parts = append(parts, fmt.Sprintf("%q %s", k.Key, strings.NewReplacer("{a}", a, "{b}", b).Replace(k.What)))
	}
	s := fmt.Sprintf("first differs at revision %d", d.Revision)
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, ", ")
	}
	if d.More > 0 {
		s += fmt.Sprintf(" and %d more keys", d.More)
	}
	return s
}

var errStopDiff = errors.New("stop")

// records yields the records HashKVAt(rev, compact) hashes, in order.
func records(st *mvccview.Store, rev, compact int64) iter.Seq2[[]byte, []byte] {
	return func(yield func(k, v []byte) bool) {
		st.HashedRecords(rev, compact, func(k, v []byte) error {
			if !yield(k, v) {
				return errStopDiff
			}
			return nil
		})
	}
}

// firstDifference walks the records ref and other hash at (compact, rev)
// side by side and returns the first main revision where they differ,
// with the keys that differ at it ({a}: other, {b}: ref in What), or nil
// when they hash the same records. One pass over each, in order: the
// exact answer a bisection over HashKV would converge to, without
// hashing each db log2(rev) times.
func firstDifference(ref, other *mvccview.Store, rev, compact int64) (*difference, error) {
	nextA, stopA := iter.Pull2(records(other, rev, compact))
	defer stopA()
	nextB, stopB := iter.Pull2(records(ref, rev, compact))
	defer stopB()
	ka, va, okA := nextA()
	kb, vb, okB := nextB()
	var d *difference
	mainOf := func(k []byte) int64 {
		r, _, err := mvccview.DecodeRevisionKey(k)
		if err != nil {
			return -1
		}
		return r.Main
	}
	add := func(k, v []byte, what string) {
		if len(d.Keys) >= maxKeys {
			d.More++
			return
		}
		key := fmt.Sprintf("revision key %x", k)
		if kv, err := mvccview.DecodeKeyValue(v); err == nil {
			key = string(kv.Key)
		}
		d.Keys = append(d.Keys, keyDiff{Key: key, What: what})
	}
	for okA || okB {
		c := 0
		switch {
		case !okA:
			c = 1
		case !okB:
			c = -1
		default:
			c = bytes.Compare(ka, kb)
		}
		if c == 0 && bytes.Equal(va, vb) {
			if d != nil && mainOf(ka) > d.Revision {
				break
			}
			ka, va, okA = nextA()
			kb, vb, okB = nextB()
			continue
		}
		var main int64
		switch {
		case c < 0:
			main = mainOf(ka)
		case c > 0:
			main = mainOf(kb)
		default:
			main = mainOf(ka)
		}
		if d == nil {
			d = &difference{Revision: main}
		} else if main > d.Revision {
			break
		}
		switch {
		case c == 0:
			add(ka, va, "has a different value in {a}")
			ka, va, okA = nextA()
			kb, vb, okB = nextB()
		case c < 0:
			add(ka, va, "is only in {a}")
			ka, va, okA = nextA()
		default:
			add(kb, vb, "is missing from {a}")
			kb, vb, okB = nextB()
		}
	}
	return d, nil
}
