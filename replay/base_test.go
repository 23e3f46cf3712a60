package replay_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/replay"
	"github.com/etcdscope/etcdscope/snapfmt"
	"github.com/etcdscope/etcdscope/walfmt"
)

// TestChooseBase: the newest .snap.db snapfmt finds usable, else the
// member's own db, else none; a .snap.db whose trailer does not match, or
// that is not named as etcd names them, is passed over.
func TestChooseBase(t *testing.T) {
	db, err := os.ReadFile(filepath.Join(etcdtest.SampleDir(t), "member", "snap", "db"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	put := func(name string, b []byte) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	check := func(what, wantPath string, wantMember bool) {
		t.Helper()
		got, member, err := replay.ChooseBase(dir)
		if err != nil || got != wantPath || member != wantMember {
			t.Errorf("%s: %q member db %v (%v), want %q %v", what, got, member, err, wantPath, wantMember)
		}
	}
	check("empty", "", false)
	own := put("db", db)
	check("the db only", own, true)
	older := put(snapfmt.DBName(0x10), db)
	check("one .snap.db", older, false)
	put(snapfmt.DBName(0x20), append(append([]byte(nil), db...), make([]byte, snapfmt.TrailerBytes)...)) // a trailer that does not match
	put("ffffffffffffffff-x.snap.db", db)
	check("a newer damaged one and a misnamed one", older, false)
	newer := put(snapfmt.DBName(0x30), db)
	check("a newer sound one", newer, false)
}

// A base whose pages are damaged is refused with ErrDamagedBase before
// bbolt opens its copy: bbolt panics on a zeroed page ("Page expected to
// be: 49, but self identifies as 0").
func TestDamagedBaseIsRefused(t *testing.T) {
	sample := etcdtest.SampleDir(t)
	db, err := os.ReadFile(filepath.Join(sample, "member", "snap", "db"))
	if err != nil {
		t.Fatal(err)
	}
	clear(db[49*4096 : 50*4096]) // the last leaf of the key bucket
	base := filepath.Join(t.TempDir(), "base.db")
	if err := os.WriteFile(base, db, 0o600); err != nil {
		t.Fatal(err)
	}
	files, err := walfmt.OpenPath(filepath.Join(sample, "member", "wal"))
	if err != nil {
		t.Fatal(err)
	}
	defer files.Close()
	out := filepath.Join(t.TempDir(), "out")
	_, err = replay.Run(files.Segments, replay.Options{Out: out, Base: base})
	if !errors.Is(err, replay.ErrDamagedBase) {
		t.Fatalf("Run with a damaged base: %v, want ErrDamagedBase", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused replay left %s behind (%v)", out, err)
	}
}
