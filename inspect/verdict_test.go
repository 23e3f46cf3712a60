package inspect_test

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/inspect"
	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/fixture"
)

// verdictCases damage a copy of the committed sample (written by real etcd
// 3.6) in each way issue 14 lists. The outcomes are what the boot model
// predicts; TestVerdictsMatchRealEtcd (repair) checks the same damages
// against real etcd 3.5, 3.6 and 3.7 started on a copy.
var verdictCases = []struct {
	name    string
	damage  func(t *testing.T, dir string)
	version string
	outcome inspect.Outcome
	message string // a part of the verdict's message
	change  string // a part of one of its changes
}{
	{name: "undamaged", damage: func(*testing.T, string) {}, outcome: inspect.Starts},
	{name: "wal-bitflip-mid", damage: func(t *testing.T, dir string) {
		seg, f := midEntry(t, dir)
		fixture.FlipBit(t, seg, fixture.DataOffset(t, seg, f)+f.Length/2, 2)
	}, outcome: inspect.Refuses, message: "walpb: crc mismatch"},
	{name: "wal-torn-tail", damage: func(t *testing.T, dir string) {
		seg := lastSegment(t, dir)
		fs := fixture.Frames(t, seg)
		f := fs[len(fs)-1]
		fixture.Zero(t, seg, f.Offset+8, f.Length+f.Pad)
	}, outcome: inspect.SelfRepairs, change: "truncates"},
	{name: "wal-torn-cut", damage: func(t *testing.T, dir string) {
		seg := lastSegment(t, dir)
		fs := fixture.Frames(t, seg)
		fixture.Truncate(t, seg, fs[len(fs)-1].Offset+8+fs[len(fs)-1].Length/2)
	}, outcome: inspect.SelfRepairs, change: "truncates"},
	{name: "wal-garbage-gap", damage: func(t *testing.T, dir string) {
		seg := lastSegment(t, dir)
		fs := fixture.Frames(t, seg)
		fixture.WriteAt(t, seg, fs[len(fs)-1].End()+2048, bytes.Repeat([]byte{0xa5}, 700))
	}, outcome: inspect.SelfRepairs, change: "zero-fills"},
	{name: "wal-garbage-adjacent", damage: func(t *testing.T, dir string) {
		seg := lastSegment(t, dir)
		fs := fixture.Frames(t, seg)
		fixture.WriteAt(t, seg, fs[len(fs)-1].End(), bytes.Repeat([]byte{0xa5}, 700))
	}, outcome: inspect.SelfRepairs, change: "truncates"},
	{name: "wal-nonzero-padding", damage: func(t *testing.T, dir string) {
		seg, f := midEntry(t, dir)
		for f.Pad == 0 {
			seg, f = paddedFrame(t, dir)
		}
		fixture.WriteAt(t, seg, f.Offset+8+f.Length, []byte{0x55})
	}, outcome: inspect.Starts},
	{name: "snap-bitflip-newest", damage: func(t *testing.T, dir string) {
		fixture.FlipBit(t, newestSnap(t, dir), 300, 3)
	}, outcome: inspect.SelfRepairs, change: ".broken"},
	{name: "snap-bitflip-newest", damage: func(t *testing.T, dir string) {
		fixture.FlipBit(t, newestSnap(t, dir), 300, 3)
	}, version: "3.7", outcome: inspect.Starts},
	{name: "db-zeroed-key-leaf", damage: func(t *testing.T, dir string) {
		db := dbPath(dir)
		fixture.Zero(t, db, int64(keyLeaf(t, db))*4096, 4096)
	}, outcome: inspect.Refuses, message: "Page expected to be"},
	{name: "db-meta0-broken", damage: func(t *testing.T, dir string) {
		fixture.FlipBit(t, dbPath(dir), 40, 1)
	}, outcome: inspect.SelfRepairs, change: "meta"},
	{name: "db-meta1-broken", damage: func(t *testing.T, dir string) {
		fixture.FlipBit(t, dbPath(dir), 4096+40, 1)
	}, outcome: inspect.SelfRepairs, change: "meta"},
	{name: "db-metas-broken", damage: func(t *testing.T, dir string) {
		fixture.FlipBit(t, dbPath(dir), 40, 1)
		fixture.FlipBit(t, dbPath(dir), 4096+40, 1)
	}, outcome: inspect.Refuses, message: "failed to open database: checksum error"},
	{name: "db-freelist-garbage", damage: func(t *testing.T, dir string) {
		db := dbPath(dir)
		fixture.PersistFreelist(t, db)
		fixture.WriteAt(t, db, int64(activeMeta(t, db).Freelist)*4096, bytes.Repeat([]byte{0x5a}, 4096))
	}, outcome: inspect.Refuses, message: "invalid freelist page"},
	{name: "db-freelist-inuse", damage: func(t *testing.T, dir string) {
		db := dbPath(dir)
		fixture.PersistFreelist(t, db)
		listInFreelist(t, db, keyLeaf(t, db))
	}, outcome: inspect.Damages, message: "freelist"},
	{name: "wal-last-segment-lost", damage: func(t *testing.T, dir string) {
		if err := os.Remove(lastSegment(t, dir)); err != nil {
			t.Fatal(err)
		}
	}, outcome: inspect.ServesWrongData, message: "never reach the db"},
	{name: "db-deleted", damage: func(t *testing.T, dir string) {
		if err := os.Remove(dbPath(dir)); err != nil {
			t.Fatal(err)
		}
	}, outcome: inspect.Refuses, message: "failed to find database snapshot file"},
}

func TestVerdicts(t *testing.T) {
	for _, c := range verdictCases {
		t.Run(c.name+"/"+c.version, func(t *testing.T) {
			dir := fixture.CopyDir(t, etcdtest.SampleDir(t))
			c.damage(t, dir)
			defer etcdtest.RequireUnchanged(t, dir)()
			rep, err := inspect.Member(dir, inspect.Options{EtcdVersion: c.version})
			if err != nil {
				t.Fatal(err)
			}
			v := rep.Verdict
			if v.Outcome != c.outcome || !strings.Contains(v.Message, c.message) {
				t.Fatalf("verdict %s: %s; want %s with %q\n%v", v.Outcome, v.Message, c.outcome, c.message, rep.Findings)
			}
			if c.change != "" && !strings.Contains(strings.Join(v.Changes, "\n"), c.change) {
				t.Errorf("changes %q, want one with %q", v.Changes, c.change)
			}
			// What etcd deals with by itself without loss is a warning: a
			// member etcd starts on without loss has no error.
			if lossless := c.outcome == inspect.Starts || c.outcome == inspect.SelfRepairs; lossless && rep.HasErrors() || !lossless && !rep.HasErrors() {
				t.Errorf("outcome %s with %d errors: %v", c.outcome, rep.Summary.Errors, rep.Findings)
			}
			for _, f := range rep.Findings {
				if f.EtcdAction == "" && c.name != "undamaged" && !strings.HasPrefix(f.Code, "db-") {
					t.Errorf("finding %s has no etcd_action", f)
				}
			}
		})
	}
}

func dbPath(dir string) string { return filepath.Join(dir, "member", "snap", "db") }

func lastSegment(t *testing.T, dir string) string {
	segs := fixture.Segments(t, filepath.Join(dir, "member", "wal"))
	return segs[len(segs)-1]
}

// midEntry is an entry record with data in the middle of the log: in the
// segment before the last.
func midEntry(t *testing.T, dir string) (string, fixture.Frame) {
	segs := fixture.Segments(t, filepath.Join(dir, "member", "wal"))
	seg := segs[len(segs)-2]
	var es []fixture.Frame
	for _, f := range fixture.Frames(t, seg) {
		if f.Type == 2 && f.Length > 40 {
			es = append(es, f)
		}
	}
	return seg, es[len(es)/2]
}

// paddedFrame is a padded record in the segment before the last.
func paddedFrame(t *testing.T, dir string) (string, fixture.Frame) {
	segs := fixture.Segments(t, filepath.Join(dir, "member", "wal"))
	seg := segs[len(segs)-2]
	fs := fixture.Frames(t, seg)
	for _, f := range fs[len(fs)/2:] {
		if f.Pad > 0 {
			return seg, f
		}
	}
	t.Fatal("no padded record")
	return "", fixture.Frame{}
}

func newestSnap(t *testing.T, dir string) string {
	snaps, _ := filepath.Glob(filepath.Join(dir, "member", "snap", "*.snap"))
	return snaps[len(snaps)-1]
}

func activeMeta(t *testing.T, path string) *boltfmt.Meta {
	db, err := boltfmt.Open(path, boltfmt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m := *db.Meta()
	return &m
}

// keyLeaf is a leaf page of the key bucket.
func keyLeaf(t *testing.T, path string) uint64 {
	db, err := boltfmt.Open(path, boltfmt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	walk, err := db.Walk(boltfmt.WalkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for id := boltfmt.PageID(2); id < walk.Pages(); id++ {
		if b, ok := walk.Owner(id); walk.Status(id) != boltfmt.StatusTree || !ok || b.Name() != "key" {
			continue
		}
		if h, err := db.ReadHeader(id); err == nil && h.Type == boltfmt.LeafPage && h.Overflow == 0 {
			return uint64(id)
		}
	}
	t.Fatal("no key-bucket leaf")
	return 0
}

// listInFreelist adds page id to the db's persisted freelist page.
func listInFreelist(t *testing.T, path string, id uint64) {
	fl := int64(activeMeta(t, path).Freelist) * 4096
	hdr := fixture.ReadAt(t, path, fl, 16)
	n := binary.LittleEndian.Uint16(hdr[10:])
	if n == 0xffff {
		t.Fatal("freelist count overflows")
	}
	ids := fixture.ReadAt(t, path, fl+16, int64(n)*8)
	ids = binary.LittleEndian.AppendUint64(ids, id)
	fixture.WriteAt(t, path, fl+10, binary.LittleEndian.AppendUint16(nil, n+1))
	fixture.WriteAt(t, path, fl+16, ids)
}
