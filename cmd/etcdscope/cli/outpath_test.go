package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/fixture"
)

// TestOutNeverInsideTheInput is issue 15 case 2: --out inside the input
// (or the input itself, or above it, or inside it through a symlink) is
// refused with exit 2 before anything is read or written, by every repair
// and by replay, dry run or not; the input is unchanged.
func TestOutNeverInsideTheInput(t *testing.T) {
	p := fixture.CopyDir(t, etcdtest.SampleDir(t))
	defer etcdtest.RequireUnchanged(t, p)()
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(filepath.Join(p, "member"), link); err != nil {
		t.Fatal(err)
	}
	snap := filepath.Join(p, "member", "snap", "0000000000000003-0000000000000200.snap")
	seg := filepath.Join(p, "member", "wal", "0000000000000007-0000000000000170.wal")
	for _, args := range [][]string{
		{"repair", "salvage", p, "--out", snap},
		{"repair", "salvage", p, "--out", snap, "--dry-run"},
		{"repair", "bolt", p, "--out", filepath.Join(p, "member", "snap", "db2")},
		{"repair", "wal", p, "--out", seg},
		{"repair", "rebuild", p, "--out", filepath.Join(link, "snap", "x")},
		{"repair", "auto", p, "--out", filepath.Join(p, "repaired")},
		{"repair", "wal", filepath.Join(p, "member"), "--out", filepath.Join(p, "x")},
		{"replay", p, "--out", filepath.Join(p, "member", "replayed")},
	} {
		_, errOut, code := run(t, args...)
		if code != ExitTrouble || !strings.Contains(errOut, "the input") {
			t.Errorf("%s: exit %d, %s; want exit 2 naming the input", strings.Join(args, " "), code, errOut)
		}
	}
}

// TestLeftoversNamed is issue 15 case 12: the staging dir a killed repair
// left beside --out is named on the next run onto it; replay refuses a
// dangling symlink at --out before it replays anything.
func TestLeftoversNamed(t *testing.T) {
	p := fixture.CopyDir(t, etcdtest.SampleDir(t))
	defer etcdtest.RequireUnchanged(t, p)()
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	left := filepath.Join(dir, ".out.repair-4242")
	if err := os.Mkdir(left, 0o700); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := run(t, "repair", "wal", p, "--out", out, "--dry-run")
	if code != ExitOK || !strings.Contains(errOut, left) {
		t.Errorf("exit %d, stderr %q; want the leftover %s named", code, errOut, left)
	}
	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink(filepath.Join(dir, "nowhere"), dangling); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := run(t, "replay", p, "--out", dangling); code != ExitTrouble || !strings.Contains(errOut, "exists") {
		t.Errorf("replay onto a dangling symlink: exit %d, %s; want exit 2 at once", code, errOut)
	}
}
