package boltfmt_test

import (
	"encoding/binary"
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
