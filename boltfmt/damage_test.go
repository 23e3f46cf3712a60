package boltfmt_test

import (
	"bytes"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/internal/etcdtest"
)

// walkBytes runs New and Walk over an in-memory image, failing on a panic
// (which the test would show as a crash anyway) or an I/O error.
func walkBytes(t *testing.T, img []byte) (*boltfmt.DB, *boltfmt.Report) {
	t.Helper()
	db, err := boltfmt.New(bytes.NewReader(img), int64(len(img)), boltfmt.Options{})
	if err != nil {
		return nil, nil
	}
	rep, err := db.Walk(boltfmt.WalkOptions{})
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	return db, rep
}

func reportedAt(rep *boltfmt.Report, id boltfmt.PageID) bool {
	for _, p := range rep.Problems {
		if pe, ok := p.(*boltfmt.PageError); ok && pe.Page == id {
			return true
		}
	}
	return false
}

// zeroEachPage zeroes the given pages of img one at a time. Every page in
// use (a meta page, the first page of a tree page, the freelist page) must
// be reported with its own id; no page may make the walk panic. Free pages
// and the continuation pages of overflowing values carry no structure a
// reader could check (bbolt has no data checksums), so zeroing them is
// invisible here; the MVCC layer decodes the values themselves.
func zeroEachPage(t *testing.T, img []byte, ids []boltfmt.PageID) (checked int) {
	db, clean := walkBytes(t, img)
	if db == nil || len(clean.Problems) > 0 {
		t.Fatalf("clean image: %v", clean.Problems)
	}
	ps := db.PageSize
	orig := make([]byte, ps)
	for _, id := range ids {
		off := int(id) * ps
		inUse := false
		if id < clean.Pages() {
			switch clean.Status(id) {
			case boltfmt.StatusMeta, boltfmt.StatusFreelist:
				inUse = true
			case boltfmt.StatusTree:
				h, err := db.ReadHeader(id)
				inUse = err == nil && h.HeaderID == uint64(id) // a page's first page, not a continuation
			}
		}
		copy(orig, img[off:off+ps])
		clear(img[off : off+ps])
		_, rep := walkBytes(t, img)
		if inUse {
			checked++
			if rep == nil || !reportedAt(rep, id) {
				t.Errorf("page %d (%s) zeroed: not reported", id, clean.Status(id))
			}
		}
		copy(img[off:off+ps], orig)
	}
	return checked
}

func TestZeroEachPageSample(t *testing.T) {
	img, err := os.ReadFile(filepath.Join(etcdtest.SampleDir(t), "member", "snap", "db"))
	if err != nil {
		t.Fatal(err)
	}
	db, _ := walkBytes(t, img)
	var ids []boltfmt.PageID
	for id := boltfmt.PageID(0); id < db.HWM()+2; id++ {
		ids = append(ids, id)
	}
	n := zeroEachPage(t, img, ids)
	t.Logf("zeroed %d pages one by one; %d were in use and all were reported", len(ids), n)
}

func TestZeroEachPageLargeDB(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a larger db with real etcd")
	}
	dir := etcdtest.LargeWAL(t, "3.6", 32<<20)
	img, err := os.ReadFile(filepath.Join(dir, "member", "snap", "db"))
	if err != nil {
		t.Fatal(err)
	}
	db, rep := walkBytes(t, img)
	// 200 pages in use, chosen at random, plus both metas.
	var inUse []boltfmt.PageID
	for id := range rep.Pages() {
		if rep.Status(id) == boltfmt.StatusTree {
			if h, err := db.ReadHeader(id); err == nil && h.HeaderID == uint64(id) {
				inUse = append(inUse, id)
			}
		}
	}
	rng := rand.New(rand.NewSource(1))
	rng.Shuffle(len(inUse), func(i, j int) { inUse[i], inUse[j] = inUse[j], inUse[i] })
	ids := append([]boltfmt.PageID{0, 1}, inUse[:min(200, len(inUse))]...)
	n := zeroEachPage(t, img, ids)
	if n < 200 {
		t.Errorf("only %d pages in use were tested", n)
	}
	t.Logf("db of %d pages (%d in the tree): zeroed %d pages in use, all reported", db.HWM(), rep.Tree, n)
}

// TestBigEndianFile: a file whose meta magic reads byte-swapped was written
// on a big-endian machine; it is reported as such, not misparsed.
func TestBigEndianFile(t *testing.T) {
	img, err := os.ReadFile(filepath.Join(etcdtest.SampleDir(t), "member", "snap", "db"))
	if err != nil {
		t.Fatal(err)
	}
	img = img[:64*4096]
	for _, off := range []int{16, 4096 + 16} {
		copy(img[off:off+4], []byte{0xed, 0x0c, 0xda, 0xed}) // the magic, big-endian
	}
	if _, err := boltfmt.New(bytes.NewReader(img), int64(len(img)), boltfmt.Options{}); !errors.Is(err, boltfmt.ErrBigEndian) {
		t.Fatalf("New: %v, want ErrBigEndian", err)
	}
}
