package boltfmt_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/etcdscope/etcdscope/boltfmt"
)

// smallDB has bbolt write a small file with 1 KiB pages: nested and inline
// buckets, a value that overflows, and a persisted freelist.
func smallDB(tb testing.TB) []byte {
	path := filepath.Join(tb.TempDir(), "small.db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{PageSize: 1024})
	if err != nil {
		tb.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		a, _ := tx.CreateBucket([]byte("a"))
		for i := 0; i < 60; i++ {
			a.Put([]byte(fmt.Sprintf("k%03d", i)), bytes.Repeat([]byte{byte(i)}, 20+i))
		}
		a.Put([]byte("big"), bytes.Repeat([]byte("v"), 3000))
		n, _ := a.CreateBucket([]byte("nested"))
		n.Put([]byte("x"), []byte("y"))
		tx.CreateBucket([]byte("inline-empty"))
		b, _ := tx.CreateBucket([]byte("inline"))
		b.Put([]byte("one"), []byte("1"))
		return nil
	})
	if err == nil {
		err = db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("a")).Delete([]byte("k010")) })
	}
	if err != nil {
		tb.Fatal(err)
	}
	db.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// FuzzWalk runs New, Walk and Range on arbitrary images: no panic,
// allocation bounded by the input, every problem placed within the file.
func FuzzWalk(f *testing.F) {
	small := smallDB(f)
	f.Add(small)
	if b, err := os.ReadFile("../testdata/sample/member/snap/db"); err == nil {
		f.Add(b[:min(len(b), 60*4096)])
	}
	f.Add(small[:2048])
	f.Fuzz(func(t *testing.T, img []byte) {
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		db, err := boltfmt.New(bytes.NewReader(img), int64(len(img)), boltfmt.Options{})
		if err != nil {
			return
		}
		rep, err := db.Walk(boltfmt.WalkOptions{Leaf: func(*boltfmt.BucketInfo, boltfmt.PageID, *boltfmt.LeafElement) bool { return true }})
		if err != nil {
			t.Fatalf("Walk on an in-memory image: %v", err)
		}
		for _, p := range rep.Problems {
			pe, ok := p.(*boltfmt.PageError)
			if !ok {
				t.Fatalf("problem %v is not a PageError", p)
			}
			if pe.Offset < 0 || pe.Offset > int64(len(img)) {
				t.Fatalf("problem offset %#x outside the file of %d bytes: %v", pe.Offset, len(img), p)
			}
			if boltfmt.Code(p) == "bolt-internal" {
				t.Fatalf("problem without a code: %v", p)
			}
		}
		// A window of the first buckets' keys, forward from the start and
		// back from the window's last key.
		for _, b := range rep.Buckets[:min(len(rep.Buckets), 8)] {
			var from []byte
			for _, reverse := range []bool{false, true} {
				n := 0
				problems, err := db.Range(boltfmt.RangeOptions{Bucket: b.Path, From: from, Reverse: reverse}, func(_ boltfmt.PageID, e *boltfmt.LeafElement) bool {
					n++
					from = bytes.Clone(e.Key)
					return n < 50
				})
				if err != nil && !errors.Is(err, boltfmt.ErrBucketNotFound) {
					t.Fatalf("Range on an in-memory image: %v", err)
				}
				for _, p := range problems {
					pe, ok := p.(*boltfmt.PageError)
					if !ok || boltfmt.Code(p) == "bolt-internal" {
						t.Fatalf("Range problem %v is not a PageError with a code", p)
					}
					if pe.Offset < 0 || pe.Offset > int64(len(img)) {
						t.Fatalf("Range problem offset %#x outside the file of %d bytes: %v", pe.Offset, len(img), p)
					}
				}
			}
		}
		runtime.ReadMemStats(&ms1)
		if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc > uint64(64*len(img))+8<<20 {
			t.Fatalf("allocated %d bytes for a %d-byte image", alloc, len(img))
		}
		// The layout of the first pages names only bytes it read.
		ids := make([]boltfmt.PageID, min(db.FilePages(), 16))
		for i := range ids {
			ids[i] = boltfmt.PageID(i)
		}
		err = db.DescribePages(rep, ids, boltfmt.DescribeOptions{Annotate: true}, func(l *boltfmt.PageLayout) error {
			for _, a := range l.Annotations {
				if a.Offset < 0 || a.Length < 0 || a.Offset+a.Length > len(l.Data) {
					t.Fatalf("page %d: annotation %+v outside its %d bytes", l.ID, a, len(l.Data))
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("DescribePages on an in-memory image: %v", err)
		}
	})
}

// FuzzPage decodes arbitrary bytes as every kind of page and element.
func FuzzPage(f *testing.F) {
	small := smallDB(f)
	for off := 0; off+1024 <= len(small); off += 1024 {
		f.Add(small[off : off+1024])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < boltfmt.PageHeaderSize {
			return
		}
		count := int(uint16(b[10]) | uint16(b[11])<<8)
		if els, err := boltfmt.LeafElements(b, count); err == nil {
			for _, e := range els {
				if e.Problem == nil && (len(e.Key) != int(e.KSize) || len(e.Value) != int(e.VSize)) {
					t.Fatalf("leaf element %d: key %d/%d value %d/%d", e.Index, len(e.Key), e.KSize, len(e.Value), e.VSize)
				}
				if e.Problem == nil && e.IsBucket() {
					if bk, err := boltfmt.DecodeBucket(e.Value); err == nil && bk.Inline != nil {
						_, c, _ := boltfmt.InlineHeader(bk.Inline)
						boltfmt.LeafElements(bk.Inline, int(c))
					}
				}
			}
		}
		if els, err := boltfmt.BranchElements(b, count); err == nil {
			for _, e := range els {
				if e.Problem == nil && len(e.Key) != int(e.KSize) {
					t.Fatalf("branch element %d: key %d/%d", e.Index, len(e.Key), e.KSize)
				}
			}
		}
		if ids, err := boltfmt.FreelistIDs(b, uint16(count)); err == nil && len(ids)*8 > len(b) {
			t.Fatalf("%d freelist ids from %d bytes", len(ids), len(b))
		}
		m := boltfmt.DecodeMeta(0, b)
		if m.Valid() && m.Checksum != m.Computed {
			t.Fatalf("meta valid with a bad checksum")
		}
	})
}
