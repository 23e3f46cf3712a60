package repair_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/etcdscope/etcdscope/finding"
	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/fixture"
	"github.com/etcdscope/etcdscope/repair"
)

// TestRepairsOfAPath: each repair of a path, dry run on the sample data
// dir, reports with its plan what the check of its input found; a lone
// WAL is refused by the WAL repair and a path without a db by the db
// repairs, as *InputError; an input the check cannot read is one
// input-unreadable finding.
func TestRepairsOfAPath(t *testing.T) {
	src := fixture.CopyDir(t, etcdtest.SampleDir(t))
	defer etcdtest.RequireUnchanged(t, src)()
	out := filepath.Join(t.TempDir(), "out")
	walDir := filepath.Join(src, "member", "wal")
	for name, run := range map[string]func(path string) (repair.Plan, error){
		"rebuild": func(p string) (repair.Plan, error) {
			return repair.RebuildPath(p, out, repair.RebuildOptions{DryRun: true})
		},
		"wal": func(p string) (repair.Plan, error) {
			return repair.WALPath(p, out, []string{src}, repair.WALOptions{DryRun: true})
		},
		"bolt": func(p string) (repair.Plan, error) {
			return repair.BoltPath(p, out, repair.BoltOptions{DryRun: true})
		},
		"salvage": func(p string) (repair.Plan, error) {
			return repair.SalvagePath(p, out, repair.SalvageOptions{DryRun: true})
		},
	} {
		p, err := run(src)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if in := p.Input(); in == nil || in.Findings == nil || in.HasErrors() {
			t.Errorf("%s: the check of the sample: %+v", name, in)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("%s: the dry run wrote %s", name, out)
		}
		if name == "wal" || name == "bolt" || name == "salvage" {
			if _, err := run(walDir); !errors.As(err, new(*repair.InputError)) {
				t.Errorf("%s of a lone WAL: %v; want an *InputError", name, err)
			}
		}
	}
	rep := repair.CheckDB(walDir)
	if len(rep.Findings) != 1 || rep.Findings[0].Code != "input-unreadable" || rep.Findings[0].Severity != finding.Error {
		t.Errorf("CheckDB of a wal dir: %+v", rep.Findings)
	}
}
