package boltfmt_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/etcdscope/etcdscope/boltfmt"
)

const bigKeys = 20000

// cursorDB has bbolt write a file with 1 KiB pages: root buckets a (a few
// keys and a nested bucket), big (bigKeys keys in random order, some then
// deleted, so that its tree has branch pages two levels deep), inline (a
// small bucket kept in its entry) and empty, and nested/child/grandchild.
func cursorDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cursor.db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{PageSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rng := rand.New(rand.NewSource(1))
	err = db.Update(func(tx *bolt.Tx) error {
		a, err := tx.CreateBucket([]byte("a"))
		if err != nil {
			return err
		}
		for _, k := range []string{"apple", "b", "banana", "cherry", "z"} {
			if err := a.Put([]byte(k), []byte("v-"+k)); err != nil {
				return err
			}
		}
		sub, err := a.CreateBucket([]byte("bucket-in-a"))
		if err != nil {
			return err
		}
		for i := range 50 {
			if err := sub.Put(fmt.Appendf(nil, "s%02d", i), bytes.Repeat([]byte{'s'}, 30)); err != nil {
				return err
			}
		}
		big, err := tx.CreateBucket([]byte("big"))
		if err != nil {
			return err
		}
		for _, i := range rng.Perm(bigKeys) {
			if err := big.Put(fmt.Appendf(nil, "key%06d", 3*i), fmt.Appendf(nil, "value %d", i)); err != nil {
				return err
			}
		}
		in, err := tx.CreateBucket([]byte("inline"))
		if err != nil {
			return err
		}
		for _, k := range []string{"x", "y", "yy"} {
			if err := in.Put([]byte(k), []byte(k+k)); err != nil {
				return err
			}
		}
		if _, err := tx.CreateBucket([]byte("empty")); err != nil {
			return err
		}
		n, err := tx.CreateBucket([]byte("nested"))
		if err != nil {
			return err
		}
		c, err := n.CreateBucket([]byte("child"))
		if err != nil {
			return err
		}
		for i := range 200 {
			if err := c.Put(fmt.Appendf(nil, "c%03d", i), bytes.Repeat([]byte{'c'}, i%40)); err != nil {
				return err
			}
		}
		gc, err := c.CreateBucket([]byte("grandchild"))
		if err != nil {
			return err
		}
		return gc.Put([]byte("g"), []byte("gg"))
	})
	if err == nil {
		// Deleting every seventh key leaves leaves of different fill and
		// branch keys that are no longer keys.
		err = db.Update(func(tx *bolt.Tx) error {
			big := tx.Bucket([]byte("big"))
			for i := 0; i < bigKeys; i += 7 {
				if err := big.Delete(fmt.Appendf(nil, "key%06d", 3*i)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	return path
}

type elem struct {
	key, value string
	bucket     bool
}

// boltRange reads what Range should yield with bbolt's own cursor: at most
// n elements (n < 0: all) from from, forward or in reverse.
func boltRange(t *testing.T, db *bolt.DB, path []string, from []byte, reverse bool, n int) []elem {
	t.Helper()
	var out []elem
	err := db.View(func(tx *bolt.Tx) error {
		var c *bolt.Cursor
		if len(path) == 0 {
			c = tx.Cursor()
		} else {
			b := tx.Bucket([]byte(path[0]))
			for _, name := range path[1:] {
				b = b.Bucket([]byte(name))
			}
			c = b.Cursor()
		}
		var k, v []byte
		switch {
		case !reverse && from == nil:
			k, v = c.First()
		case !reverse:
			k, v = c.Seek(from)
		case from == nil:
			k, v = c.Last()
		default:
			if k, _ = c.Seek(from); k == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
		}
		for k != nil && (n < 0 || len(out) < n) {
			out = append(out, elem{string(k), string(v), v == nil})
			if reverse {
				k, v = c.Prev()
			} else {
				k, v = c.Next()
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

type visit struct {
	page boltfmt.PageID
	elem
}

// ourRange reads the same with Range.
func ourRange(t *testing.T, db *boltfmt.DB, path []string, from []byte, reverse bool, n int) ([]visit, []error) {
	t.Helper()
	var out []visit
	problems, err := db.Range(boltfmt.RangeOptions{Bucket: path, From: from, Reverse: reverse}, func(page boltfmt.PageID, e *boltfmt.LeafElement) bool {
		x := visit{page: page, elem: elem{key: string(e.Key), bucket: e.IsBucket()}}
		if !x.bucket {
			x.value = string(e.Value)
		}
		out = append(out, x)
		return n < 0 || len(out) < n
	})
	if err != nil {
		t.Fatalf("Range(%q from %q reverse %v): %v", path, from, reverse, err)
	}
	return out, problems
}

func elems(vs []visit) []elem {
	out := make([]elem, len(vs))
	for i, v := range vs {
		out[i] = v.elem
	}
	return out
}

// froms returns seek keys for a bucket whose keys are keys: nil, empty,
// before the first and after the last, and for a sample of the keys the
// key itself, a key just after it and a prefix of it (between keys).
func froms(keys []string, every int) [][]byte {
	out := [][]byte{nil, {}, {0}, []byte("\xff\xff"), []byte("a"), []byte("key")}
	for i := 0; i < len(keys); i += every {
		k := keys[i]
		out = append(out, []byte(k), []byte(k+"\x00"), []byte(k[:len(k)-1]))
	}
	if len(keys) > 0 {
		k := keys[len(keys)-1]
		out = append(out, []byte(k), []byte(k+"\x00"))
	}
	return out
}

func TestRangeMatchesBboltCursor(t *testing.T) {
	path := cursorDB(t)
	bdb, err := bolt.Open(path, 0o400, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	db, err := boltfmt.Open(path, boltfmt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, bucket := range [][]string{nil, {"a"}, {"a", "bucket-in-a"}, {"big"}, {"inline"}, {"empty"}, {"nested"}, {"nested", "child"}, {"nested", "child", "grandchild"}} {
		t.Run(fmt.Sprint(bucket), func(t *testing.T) {
			var keys []string
			for _, x := range boltRange(t, bdb, bucket, nil, false, -1) {
				keys = append(keys, x.key)
			}
			every := max(1, len(keys)/150)
			checked := 0
			for i, from := range froms(keys, every) {
				for _, reverse := range []bool{false, true} {
					for _, n := range []int{1, 7, 30, -1} {
						if n < 0 && len(keys) > 1000 && from != nil && i%20 != 0 {
							continue // all of big from every seek key is slow and adds nothing
						}
						checked++
						want := boltRange(t, bdb, bucket, from, reverse, n)
						got, problems := ourRange(t, db, bucket, from, reverse, n)
						for _, p := range problems {
							t.Errorf("from %q reverse %v: problem in a clean db: %v", from, reverse, p)
						}
						if !slices.Equal(elems(got), want) {
							t.Fatalf("from %q reverse %v n %d:\n got %d %v\nwant %d %v", from, reverse, n, len(got), head(elems(got)), len(want), head(want))
						}
						// The page is the one Get finds the key on.
						if len(got) > 0 {
							f, err := db.Get(bucket, []byte(got[0].key))
							if err != nil && !errors.Is(err, boltfmt.ErrIsBucket) {
								t.Fatalf("Get %q: %v", got[0].key, err)
							}
							if f.Page != got[0].page {
								t.Fatalf("key %q on page %d, Get finds it on page %d", got[0].key, got[0].page, f.Page)
							}
						}
					}
				}
			}
			t.Logf("%d keys, %d ranges compared", len(keys), checked)
		})
	}
}

func head(l []elem) []elem { return l[:min(len(l), 5)] }

// TestRangeFixture checks that the big bucket's tree has branch pages two
// levels deep, so that the comparison above crosses branches, and that the
// inline bucket is inline.
func TestRangeFixture(t *testing.T) {
	db, err := boltfmt.Open(cursorDB(t), boltfmt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f, err := db.Get(nil, []byte("inline"))
	if !errors.Is(err, boltfmt.ErrIsBucket) {
		t.Fatalf("Get inline: %v", err)
	}
	if b, err := boltfmt.DecodeBucket(f.Element.Value); err != nil || b.Root != 0 {
		t.Fatalf("bucket inline: root %d, %v; want an inline bucket", b.Root, err)
	}
	root := bucketRoot(t, db, "big")
	levels := 0
	for id := root; ; levels++ {
		p, err := db.ReadPage(id, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		if p.Type != boltfmt.BranchPage {
			break
		}
		els, err := boltfmt.BranchElements(p.Data, int(p.Count))
		if err != nil {
			t.Fatal(err)
		}
		id = els[len(els)/2].Child
	}
	if levels < 2 {
		t.Fatalf("big has %d branch levels, want at least 2", levels)
	}
}

func bucketRoot(t *testing.T, db *boltfmt.DB, name string) boltfmt.PageID {
	t.Helper()
	f, err := db.Get(nil, []byte(name))
	if !errors.Is(err, boltfmt.ErrIsBucket) {
		t.Fatalf("Get %q: %v", name, err)
	}
	b, err := boltfmt.DecodeBucket(f.Element.Value)
	if err != nil || b.Root == 0 {
		t.Fatalf("bucket %q: root %d, %v", name, b.Root, err)
	}
	return b.Root
}

// countingReader counts reads: every page read is one ReadAt.
type countingReader struct {
	r     io.ReaderAt
	reads int
}

func (c *countingReader) ReadAt(b []byte, off int64) (int, error) {
	c.reads++
	return c.r.ReadAt(b, off)
}

// TestRangeReadsAWindow checks that a window of 30 keys of the big bucket
// reads a page per level and the few leaves the window spans, not the
// bucket, and that nothing is read once fn has returned false.
func TestRangeReadsAWindow(t *testing.T) {
	img, err := os.ReadFile(cursorDB(t))
	if err != nil {
		t.Fatal(err)
	}
	cr := &countingReader{r: bytes.NewReader(img)}
	db, err := boltfmt.New(cr, int64(len(img)), boltfmt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, reverse := range []bool{false, true} {
		for _, from := range [][]byte{nil, []byte("key030000")} {
			cr.reads = 0
			n := 0
			problems, err := db.Range(boltfmt.RangeOptions{Bucket: []string{"big"}, From: from, Reverse: reverse}, func(boltfmt.PageID, *boltfmt.LeafElement) bool {
				n++
				return n < 30
			})
			if err != nil || len(problems) > 0 {
				t.Fatalf("Range: %v %v", problems, err)
			}
			// The root bucket's leaf, then a branch per level and at most
			// three of big's leaves (30 keys of leaves of at least ~10).
			if n != 30 || cr.reads > 8 {
				t.Errorf("from %q reverse %v: %d elements, %d page reads", from, reverse, n, cr.reads)
			}
		}
	}
	if pages := len(img) / db.PageSize; pages < 200 {
		t.Errorf("the file has only %d pages", pages)
	}

	// One element from a branch key reads one page per level, as the
	// first element does: the descent takes the child that holds it, and
	// in reverse the child before it.
	one := func(from []byte, reverse bool) int {
		cr.reads = 0
		if _, err := db.Range(boltfmt.RangeOptions{Bucket: []string{"big"}, From: from, Reverse: reverse}, func(boltfmt.PageID, *boltfmt.LeafElement) bool { return false }); err != nil {
			t.Fatal(err)
		}
		return cr.reads
	}
	base := one(nil, false)
	root, err := db.ReadPage(bucketRoot(t, db, "big"), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	els, _ := boltfmt.BranchElements(root.Data, int(root.Count))
	mid, err := db.ReadPage(els[len(els)/2].Child, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	midEls, _ := boltfmt.BranchElements(mid.Data, int(mid.Count))
	for _, e := range append(els[1:], midEls[1:]...) {
		for _, reverse := range []bool{false, true} {
			if n := one(e.Key, reverse); n != base {
				t.Errorf("one element from branch key %q reverse %v: %d page reads, want %d", e.Key, reverse, n, base)
			}
		}
	}
}

func TestRangeBucketNotFound(t *testing.T) {
	db, err := boltfmt.Open(cursorDB(t), boltfmt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, path := range [][]string{{"nope"}, {"a", "apple"}, {"nested", "nope"}, {"inline", "x"}} {
		_, err := db.Range(boltfmt.RangeOptions{Bucket: path}, func(boltfmt.PageID, *boltfmt.LeafElement) bool {
			t.Fatalf("%q: called fn", path)
			return false
		})
		if !errors.Is(err, boltfmt.ErrBucketNotFound) {
			t.Errorf("%q: %v, want ErrBucketNotFound", path, err)
		}
	}
}

// TestRangeDamagedPage overwrites the header of one of big's pages (a leaf,
// then a branch below the root) in a copy of the file with garbage: Range
// reports the page, does not panic, and yields every key outside it.
func TestRangeDamagedPage(t *testing.T) {
	path := cursorDB(t)
	img, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	db, err := boltfmt.Open(path, boltfmt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clean, _ := ourRange(t, db, []string{"big"}, nil, false, -1)

	// A branch below the root, and a leaf in the middle of it.
	p, err := db.ReadPage(bucketRoot(t, db, "big"), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	els, err := boltfmt.BranchElements(p.Data, int(p.Count))
	if err != nil || p.Type != boltfmt.BranchPage {
		t.Fatalf("big's root: %s, %v", p.Type, err)
	}
	branch := els[len(els)/2].Child
	var leaves []boltfmt.PageID // the leaves below branch
	var below func(id boltfmt.PageID)
	below = func(id boltfmt.PageID) {
		p, err := db.ReadPage(id, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		if p.Type == boltfmt.LeafPage {
			leaves = append(leaves, id)
			return
		}
		els, _ := boltfmt.BranchElements(p.Data, int(p.Count))
		for _, e := range els {
			below(e.Child)
		}
	}
	below(branch)
	if len(leaves) < 2 {
		t.Fatalf("page %d has %d leaves below it", branch, len(leaves))
	}

	for _, tc := range []struct {
		name string
		page boltfmt.PageID
		lost []boltfmt.PageID
	}{
		{"leaf", leaves[len(leaves)/2], leaves[len(leaves)/2 : len(leaves)/2+1]},
		{"branch", branch, leaves},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := slices.Clone(img)
			off := int(tc.page) * db.PageSize
			copy(bad[off:off+boltfmt.PageHeaderSize], "\xde\xad\xbe\xef garbage \x99\x42\x13")
			badPath := filepath.Join(t.TempDir(), "bad.db")
			if err := os.WriteFile(badPath, bad, 0o600); err != nil {
				t.Fatal(err)
			}
			bdb, err := boltfmt.Open(badPath, boltfmt.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer bdb.Close()
			var want []elem
			var lost []elem
			for _, v := range clean {
				if slices.Contains(tc.lost, v.page) {
					lost = append(lost, v.elem)
				} else {
					want = append(want, v.elem)
				}
			}
			// Seek from nil, from a key on the damaged page and from one
			// just before it, both ways.
			for _, from := range [][]byte{nil, []byte(lost[len(lost)/2].key), []byte(lost[0].key), []byte(want[0].key)} {
				for _, reverse := range []bool{false, true} {
					got, problems := ourRange(t, bdb, []string{"big"}, from, reverse, -1)
					w := inRange(want, from, reverse)
					if !slices.Equal(elems(got), w) {
						t.Errorf("from %q reverse %v: got %d keys %v, want %d %v", from, reverse, len(got), head(elems(got)), len(w), head(w))
					}
					var pe *boltfmt.PageError
					if len(problems) == 0 && len(inRange(lost, from, reverse)) > 0 {
						t.Errorf("from %q reverse %v: no problem reported", from, reverse)
					}
					for _, p := range problems {
						if !errors.As(p, &pe) || pe.Page != tc.page || pe.Bucket != "big" || !errors.Is(p, boltfmt.ErrPageInvalid) {
							t.Errorf("from %q reverse %v: problem %v, want an invalid page %d in big", from, reverse, p, tc.page)
						}
					}
				}
			}
			// Stopping early still works.
			got, _ := ourRange(t, bdb, []string{"big"}, []byte(lost[0].key), false, 3)
			if w := inRange(want, []byte(lost[0].key), false)[:3]; !slices.Equal(elems(got), w) {
				t.Errorf("3 from %q: got %v, want %v", lost[0].key, elems(got), w)
			}
		})
	}
}

// inRange returns the elements of the ascending l that a range from from
// yields, in its order.
func inRange(l []elem, from []byte, reverse bool) []elem {
	var out []elem
	for _, x := range l {
		if from == nil || (bytes.Compare([]byte(x.key), from) >= 0) != reverse {
			out = append(out, x)
		}
	}
	if reverse {
		slices.Reverse(out)
	}
	return out
}
