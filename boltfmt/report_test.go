package boltfmt_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/internal/etcdtest"
)

// sampleImage is the committed sample member's db.
func sampleImage(t *testing.T) []byte {
	t.Helper()
	img, err := os.ReadFile(filepath.Join(etcdtest.SampleDir(t), "member", "snap", "db"))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestReportAccessors checks what a walk of the sample says of every page
// id against the walk's counts, and of the ids it has no verdict on.
func TestReportAccessors(t *testing.T) {
	db, rep := walkBytes(t, sampleImage(t))
	if rep.Pages() != min(rep.HWM, db.FilePages()) || rep.Pages() == 0 {
		t.Fatalf("Pages %d, high-water mark %d, file %d pages", rep.Pages(), rep.HWM, db.FilePages())
	}
	counts := map[boltfmt.PageStatus]int{}
	for id := range rep.Pages() {
		st := rep.Status(id)
		counts[st]++
		live := st == boltfmt.StatusMeta || st == boltfmt.StatusTree || st == boltfmt.StatusFreelist
		if rep.Live(id) != live {
			t.Errorf("page %d (%s): Live %v", id, st, rep.Live(id))
		}
		b, owned := rep.Owner(id)
		if owned != (st == boltfmt.StatusTree) {
			t.Errorf("page %d (%s): owned %v", id, st, owned)
			continue
		}
		if owned && b.Pages == 0 {
			t.Errorf("page %d is bucket %q's, which has no pages", id, b.Name())
		}
	}
	if counts[boltfmt.StatusTree] != rep.Tree || counts[boltfmt.StatusFree] != rep.Free || counts[boltfmt.StatusMeta] != 2 {
		t.Errorf("statuses %v; the walk counts %d in the tree, %d free", counts, rep.Tree, rep.Free)
	}
	for _, id := range []boltfmt.PageID{rep.HWM, db.FilePages(), 1<<64 - 1} {
		if st := rep.Status(id); st != boltfmt.StatusBeyondHWM || rep.Live(id) {
			t.Errorf("page %d past the high-water mark: %s, live %v", id, st, rep.Live(id))
		}
		if _, ok := rep.Owner(id); ok {
			t.Errorf("page %d past the high-water mark has an owner", id)
		}
	}
	root, ok := rep.Bucket(nil)
	if !ok || !root.IsRoot() || root != &rep.Buckets[0] {
		t.Errorf("root bucket: %+v, %v", root, ok)
	}
	if b, ok := rep.Bucket([]string{"key"}); !ok || b.Name() != "key" || b.IsRoot() || b.Keys == 0 {
		t.Errorf("bucket key: %+v, %v", b, ok)
	}
	if b, ok := rep.Bucket([]string{"no-such-bucket"}); ok {
		t.Errorf("bucket no-such-bucket: %+v", b)
	}
}

// TestReportStatusWithoutVerdict: a truncated file's missing ids, and a
// file neither of whose metas can be used.
func TestReportStatusWithoutVerdict(t *testing.T) {
	img := sampleImage(t)
	_, clean := walkBytes(t, img)
	keep := int(clean.HWM) * 3 / 4
	db, rep := walkBytes(t, img[:keep*4096])
	if rep.Pages() != boltfmt.PageID(keep) {
		t.Fatalf("truncated to %d pages: Pages %d", keep, rep.Pages())
	}
	for _, id := range []boltfmt.PageID{db.FilePages(), clean.HWM - 1} {
		if st := rep.Status(id); st != boltfmt.StatusMissing {
			t.Errorf("page %d of a file of %d pages: %s, want missing", id, db.FilePages(), st)
		}
	}
	if st := rep.Status(clean.HWM); st != boltfmt.StatusBeyondHWM {
		t.Errorf("page %d: %s, want beyond-hwm", clean.HWM, st)
	}

	// Both roots outside the file's pages, under a wrong checksum.
	bad := slices.Clone(img)
	for _, off := range []int{0, 4096} {
		binary.LittleEndian.PutUint64(bad[off+boltfmt.PageHeaderSize+16:], 1)
	}
	_, rep = walkBytes(t, bad)
	if rep.Pages() != 0 || rep.HWM != 0 {
		t.Fatalf("no usable meta: Pages %d, high-water mark %d", rep.Pages(), rep.HWM)
	}
	if st := rep.Status(0); st != boltfmt.StatusUnknown || rep.Live(0) {
		t.Errorf("page 0 without a usable meta: %s, live %v", st, rep.Live(0))
	}
	if got := boltfmt.PageStatus(200).String(); got != "status(200)" {
		t.Errorf("PageStatus(200) = %q", got)
	}
}

// TestLookup finds keys by descent and by reading the bucket, and tells
// what is not there.
func TestLookup(t *testing.T) {
	db, err := boltfmt.Open(cursorDB(t), boltfmt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, scan := range []bool{false, true} {
		opts := boltfmt.LookupOptions{Scan: scan}
		for _, c := range []struct {
			path       []string
			key, value string
		}{
			{[]string{"a"}, "banana", "v-banana"},
			{[]string{"big"}, "key000003", "value 1"},
			{[]string{"inline"}, "yy", "yyyy"},
			{[]string{"nested", "child", "grandchild"}, "g", "gg"},
		} {
			f, err := db.Lookup(c.path, []byte(c.key), opts)
			if err != nil || string(f.Element.Key) != c.key || string(f.Element.Value) != c.value || len(f.Problems) > 0 {
				t.Errorf("scan %v: Lookup(%v, %s) = %+v, %v", scan, c.path, c.key, f, err)
			}
		}
		for _, c := range []struct {
			path []string
			key  string
			want error
		}{
			{[]string{"big"}, "key000000", boltfmt.ErrKeyNotFound}, // deleted
			{[]string{"a"}, "nope", boltfmt.ErrKeyNotFound},
			{[]string{"nope"}, "k", boltfmt.ErrBucketNotFound},
			{[]string{"a", "nope"}, "k", boltfmt.ErrBucketNotFound},
		} {
			if f, err := db.Lookup(c.path, []byte(c.key), opts); !errors.Is(err, c.want) || f == nil {
				t.Errorf("scan %v: Lookup(%v, %s): %v, want %v", scan, c.path, c.key, err, c.want)
			}
		}
	}
	// A nested bucket's name: the descent says it is a bucket, a scan
	// passes over bucket entries.
	if _, err := db.Lookup([]string{"a"}, []byte("bucket-in-a"), boltfmt.LookupOptions{}); !errors.Is(err, boltfmt.ErrIsBucket) {
		t.Errorf("descent to a nested bucket's name: %v", err)
	}
	if _, err := db.Lookup([]string{"a"}, []byte("bucket-in-a"), boltfmt.LookupOptions{Scan: true}); !errors.Is(err, boltfmt.ErrKeyNotFound) {
		t.Errorf("scan for a nested bucket's name: %v", err)
	}
}

// TestLookupFallsBackToScan damages the element of big's root that leads
// to a key: the descent passes over it and does not find the key, so
// Lookup reads the whole bucket, which still reaches the child.
func TestLookupFallsBackToScan(t *testing.T) {
	path := cursorDB(t)
	img, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	db, err := boltfmt.New(bytes.NewReader(img), int64(len(img)), boltfmt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	root := bucketRoot(t, db, "big")
	p, err := db.ReadPage(root, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	els, err := boltfmt.BranchElements(p.Data, int(p.Count))
	if err != nil || len(els) < 3 {
		t.Fatalf("big's root: %d elements, %v", len(els), err)
	}
	e := els[len(els)/2]
	key := firstKey(t, db, e.Child) // a key below the element
	// Its ksize now runs past the page.
	binary.LittleEndian.PutUint32(img[int(p.Offset)+e.Offset+4:], 1<<20)
	db, err = boltfmt.New(bytes.NewReader(img), int64(len(img)), boltfmt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Get([]string{"big"}, key); !errors.Is(err, boltfmt.ErrKeyNotFound) {
		t.Fatalf("the descent finds %s past the damaged element: %v", key, err)
	}
	f, err := db.Lookup([]string{"big"}, key, boltfmt.LookupOptions{})
	if err != nil || !bytes.Equal(f.Element.Key, key) || len(f.Problems) == 0 {
		t.Fatalf("Lookup %s: %v, %d problems", key, err, len(f.Problems))
	}
}

// firstKey returns the first key of the leftmost leaf below page id.
func firstKey(t *testing.T, db *boltfmt.DB, id boltfmt.PageID) []byte {
	t.Helper()
	for {
		p, err := db.ReadPage(id, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		if p.Type == boltfmt.LeafPage {
			els, err := boltfmt.LeafElements(p.Data, int(p.Count))
			if err != nil || len(els) == 0 {
				t.Fatalf("leaf %d: %d elements, %v", id, len(els), err)
			}
			return slices.Clone(els[0].Key)
		}
		els, err := boltfmt.BranchElements(p.Data, int(p.Count))
		if err != nil || len(els) == 0 {
			t.Fatalf("branch %d: %d elements, %v", id, len(els), err)
		}
		id = els[0].Child
	}
}
