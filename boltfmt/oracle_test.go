package boltfmt_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/fixture"
)

type kv struct {
	bucket, key, value string
	isBucket           bool
}

// boltKeys reads every bucket and key with go.etcd.io/bbolt, read-only, on
// a copy (bbolt takes a shared lock; the original is never touched).
func boltKeys(t *testing.T, path string) []kv {
	t.Helper()
	db := fixture.OpenBoltCopy(t, path)
	var out []kv
	var walk func(prefix []string, b *bolt.Bucket)
	walk = func(prefix []string, b *bolt.Bucket) {
		b.ForEach(func(k, v []byte) error {
			if v == nil {
				out = append(out, kv{strings.Join(prefix, "/"), string(k), "", true})
				walk(append(append([]string(nil), prefix...), string(k)), b.Bucket(k))
				return nil
			}
			out = append(out, kv{strings.Join(prefix, "/"), string(k), string(v), false})
			return nil
		})
	}
	db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			out = append(out, kv{"", string(name), "", true})
			walk([]string{string(name)}, b)
			return nil
		})
	})
	return out
}

// ourKeys reads the same with boltfmt's walk.
func ourKeys(t *testing.T, path string) ([]kv, *boltfmt.Report) {
	t.Helper()
	db, err := boltfmt.Open(path, boltfmt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var out []kv
	var rep *boltfmt.Report
	rep, err = db.Walk(boltfmt.WalkOptions{Leaf: func(b *boltfmt.BucketInfo, _ boltfmt.PageID, e *boltfmt.LeafElement) bool {
		out = append(out, kv{b.Name(), string(e.Key), string(e.Value), false})
		return true
	}})
	if err != nil {
		t.Fatal(err)
	}
	return out, rep
}

func TestWalkMatchesBbolt(t *testing.T) {
	for _, v := range etcdtest.Versions {
		t.Run(v, func(t *testing.T) {
			dir, _ := etcdtest.Generate(t, v, etcdtest.GenOptions{})
			path := filepath.Join(dir, "member", "snap", "db")
			defer etcdtest.RequireUnchanged(t, path)()
			ours, rep := ourKeys(t, path)
			for _, p := range rep.Problems {
				t.Errorf("problem in a clean db: %v", p)
			}
			var want []kv
			for _, x := range boltKeys(t, path) {
				if !x.isBucket {
					want = append(want, x)
				}
			}
			// Our walk visits buckets breadth first, keys in order within
			// each; compare per bucket.
			group := func(l []kv) map[string][]kv {
				m := map[string][]kv{}
				for _, x := range l {
					m[x.bucket] = append(m[x.bucket], x)
				}
				return m
			}
			g1, g2 := group(ours), group(want)
			if len(g1) != len(g2) {
				t.Errorf("buckets with keys: walk %d, bbolt %d", len(g1), len(g2))
			}
			total := 0
			for b, w := range g2 {
				o := g1[b]
				if len(o) != len(w) {
					t.Errorf("bucket %q: walk %d keys, bbolt %d", b, len(o), len(w))
					continue
				}
				for i := range w {
					if o[i].key != w[i].key || !bytes.Equal([]byte(o[i].value), []byte(w[i].value)) {
						t.Fatalf("bucket %q key %d: walk %q, bbolt %q", b, i, o[i].key, w[i].key)
					}
				}
				total += len(w)
			}
			t.Logf("etcd %s: %d buckets, %d keys, %d tree pages, %d free, hwm %d", v, len(rep.Buckets), total, rep.Tree, rep.Free, rep.HWM)
		})
	}
}
