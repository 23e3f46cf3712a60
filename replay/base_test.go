package replay_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/replay"
	"github.com/etcdscope/etcdscope/snapfmt"
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
