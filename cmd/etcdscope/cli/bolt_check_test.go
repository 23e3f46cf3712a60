package cli

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/finding"
	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/fixture"
)

// checkJSON runs bolt check -w json and returns the report, exit code and
// the stderr of a simple run (which says which meta was used).
func checkJSON(t *testing.T, path string) (*finding.Report, int, string) {
	t.Helper()
	defer etcdtest.RequireUnchanged(t, path)()
	out, errOut, code := run(t, "bolt", "check", "-w", "json", path)
	if code == ExitTrouble {
		t.Fatalf("bolt check exit 2: %s", errOut)
	}
	var rep finding.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	_, simpleErr, _ := run(t, "bolt", "check", path)
	return &rep, code, simpleErr
}

func hasFinding(r *finding.Report, code string, page uint64) bool {
	for _, f := range r.Findings {
		if f.Code == code && f.Page != nil && *f.Page == page {
			return true
		}
	}
	return false
}

// pageOf finds a page by its bucket, type and a predicate, on a clean db.
func pageOf(t *testing.T, path, bucket string, typ boltfmt.PageType, ok func(db *boltfmt.DB, id boltfmt.PageID) bool) (boltfmt.PageID, *boltfmt.DB, *boltfmt.Report) {
	t.Helper()
	db, err := boltfmt.Open(path, boltfmt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rep, err := db.Walk(boltfmt.WalkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for id := range rep.Pages() {
		if b, owned := rep.Owner(id); rep.Status(id) != boltfmt.StatusTree || !owned || b.Name() != bucket {
			continue
		}
		h, err := db.ReadHeader(id)
		if err == nil && h.HeaderID == uint64(id) && h.Type == typ && (ok == nil || ok(db, id)) {
			return id, db, rep
		}
	}
	t.Fatalf("no %s page in bucket %q", typ, bucket)
	return 0, nil, nil
}

func sampleDB(t *testing.T) string {
	dir := fixture.CopyDir(t, etcdtest.SampleDir(t))
	return filepath.Join(dir, "member", "snap", "db")
}

// largeDB copies the db of a larger real etcd member, whose key bucket is
// three levels deep.
func largeDB(t *testing.T) string {
	src := filepath.Join(etcdtest.LargeWAL(t, "3.6", 32<<20), "member", "snap", "db")
	dst := filepath.Join(t.TempDir(), "db")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dst
}

func branchChildAt(t *testing.T, db *boltfmt.DB, id boltfmt.PageID, i int) int64 {
	p, err := db.ReadPage(id, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	els, err := boltfmt.BranchElements(p.Data, int(p.Count))
	if err != nil || len(els) <= i {
		t.Fatalf("branch %d: %v (%d elements)", id, err, len(els))
	}
	return p.Offset + int64(els[i].Offset) + 8
}

func TestBoltCheckCleanSample(t *testing.T) {
	rep, code, _ := checkJSON(t, sampleDB(t))
	if code != ExitOK || rep.Summary.Errors != 0 {
		t.Fatalf("exit %d, %+v", code, rep.Findings)
	}
}

func TestBoltCheckZeroedKeyLeaf(t *testing.T) {
	path := sampleDB(t)
	id, db, _ := pageOf(t, path, "key", boltfmt.LeafPage, nil)
	off := int64(id) * int64(db.PageSize)
	fixture.Zero(t, path, off, int64(db.PageSize))
	rep, code, errOut := checkJSON(t, path)
	if code != ExitFindings || !hasFinding(rep, "bolt-page-invalid", uint64(id)) {
		t.Fatalf("zeroed key leaf %d: exit %d, findings %+v", id, code, rep.Findings)
	}
	if !strings.Contains(errOut, "10 buckets") {
		t.Errorf("the rest of the db was not checked: %s", errOut)
	}
}

func TestBoltCheckMeta0Checksum(t *testing.T) {
	path := sampleDB(t)
	fixture.FlipBit(t, path, 16+48, 0) // meta 0's txid, under the checksum
	rep, code, errOut := checkJSON(t, path)
	if code != ExitFindings || !hasFinding(rep, "bolt-meta-invalid", 0) {
		t.Fatalf("exit %d, findings %+v", code, rep.Findings)
	}
	if !strings.Contains(errOut, "using meta 1") || !strings.Contains(errOut, "10 buckets") {
		t.Errorf("want a fallback to meta 1 and the tree checked: %s", errOut)
	}
	if rep.Summary.Errors != 1 {
		t.Errorf("want only the meta finding, got %+v", rep.Findings)
	}
}

func TestBoltCheckBothMetas(t *testing.T) {
	path := sampleDB(t)
	fixture.FlipBit(t, path, 16+48, 0)
	fixture.FlipBit(t, path, 4096+16+48, 0)
	rep, code, errOut := checkJSON(t, path)
	if code != ExitFindings || !hasFinding(rep, "bolt-meta-invalid", 0) || !hasFinding(rep, "bolt-meta-invalid", 1) {
		t.Fatalf("exit %d, findings %+v", code, rep.Findings)
	}
	if !strings.Contains(errOut, "10 buckets") {
		t.Errorf("the tree was not checked: %s", errOut)
	}
}

// TestBoltCheckFreelist corrupts a persisted freelist. etcd never persists
// one (NoFreelistSync), so the etcd db is first compacted by bbolt itself
// into a file that does.
func TestBoltCheckFreelist(t *testing.T) {
	src := sampleDB(t)
	dst := filepath.Join(t.TempDir(), "persisted.db")
	sdb, err := bolt.Open(src, 0o400, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	ddb, err := bolt.Open(dst, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := bolt.Compact(ddb, sdb, 1<<20); err != nil {
		t.Fatal(err)
	}
	// One more write so that the freelist holds pages.
	if err := ddb.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("key")).Put([]byte("x"), []byte("y")) }); err != nil {
		t.Fatal(err)
	}
	sdb.Close()
	ddb.Close()

	rep, code, _ := checkJSON(t, dst)
	if code != ExitOK {
		t.Fatalf("compacted copy: exit %d, %+v", code, rep.Findings)
	}
	db, err := boltfmt.Open(dst, boltfmt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fl := db.Meta().Freelist
	db.Close()
	if fl == boltfmt.NoFreelist {
		t.Fatal("bbolt did not persist a freelist")
	}
	// The freelist page now claims to be a leaf.
	off := int64(fl) * 4096
	fixture.WriteAt(t, dst, off+8, binary.LittleEndian.AppendUint16(nil, uint16(boltfmt.LeafPage)))
	rep, code, errOut := checkJSON(t, dst)
	if code != ExitFindings || !hasFinding(rep, "bolt-freelist-invalid", uint64(fl)) {
		t.Fatalf("exit %d, findings %+v", code, rep.Findings)
	}
	if !strings.Contains(errOut, "10 buckets") {
		t.Errorf("the tree was not checked: %s", errOut)
	}
}

func TestBoltCheckBranchPastHWM(t *testing.T) {
	path := largeDB(t)
	id, db, _ := pageOf(t, path, "key", boltfmt.BranchPage, nil)
	fixture.PutUint64(t, path, branchChildAt(t, db, id, 1), uint64(db.HWM())+100)
	rep, code, _ := checkJSON(t, path)
	if code != ExitFindings || !hasFinding(rep, "bolt-page-invalid", uint64(id)) {
		t.Fatalf("branch %d: exit %d, findings %+v", id, code, rep.Findings)
	}
}

func TestBoltCheckBranchCycle(t *testing.T) {
	path := largeDB(t)
	// A: a branch page of the key bucket whose first child B is a branch too.
	var childB boltfmt.PageID
	a, db, _ := pageOf(t, path, "key", boltfmt.BranchPage, func(db *boltfmt.DB, id boltfmt.PageID) bool {
		p, err := db.ReadPage(id, 0, nil)
		if err != nil {
			return false
		}
		els, err := boltfmt.BranchElements(p.Data, int(p.Count))
		if err != nil || len(els) == 0 {
			return false
		}
		h, err := db.ReadHeader(els[0].Child)
		if err == nil && h.Type == boltfmt.BranchPage {
			childB = els[0].Child
			return true
		}
		return false
	})
	// B's first child now points back at A: A -> B -> A.
	fixture.PutUint64(t, path, branchChildAt(t, db, childB, 0), uint64(a))
	rep, code, _ := checkJSON(t, path)
	if code != ExitFindings || !hasFinding(rep, "bolt-page-double-use", uint64(childB)) {
		t.Fatalf("cycle %d -> %d -> %d: exit %d, findings %+v", a, childB, a, code, rep.Findings)
	}
}
