package repair_test

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/etcdscope/etcdscope/finding"
	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/fixture"
	"github.com/etcdscope/etcdscope/repair"
	"github.com/etcdscope/etcdscope/walfmt"
)

// TestNothingAtOutUntilVerified: every repair builds its whole output
// beside --out and publishes it with one rename after the check, so a
// repair stopped at any point before (killed, or its check failing) leaves
// nothing at --out; a failed check leaves nothing beside it either. The
// input is unchanged.
func TestNothingAtOutUntilVerified(t *testing.T) {
	src := fixture.CopyDir(t, etcdtest.SampleDir(t))
	defer etcdtest.RequireUnchanged(t, src)()
	files, err := walfmt.OpenPath(filepath.Join(src, "member", "wal"))
	if err != nil {
		t.Fatal(err)
	}
	defer files.Close()
	db := filepath.Join(src, "member", "snap", "db")
	refuse := errors.New("refused by the test")
	for name, run := range map[string]func(out string, verify repair.Verify) error{
		"rebuild": func(out string, v repair.Verify) error {
			_, err := repair.Rebuild(files.Segments, out, repair.RebuildOptions{Verify: v})
			return err
		},
		"wal": func(out string, v repair.Verify) error {
			_, err := repair.WAL(filepath.Join(src, "member"), files.Segments, out, repair.WALOptions{Verify: v})
			return err
		},
		"bolt": func(out string, v repair.Verify) error {
			_, err := repair.Bolt(db, out, repair.BoltOptions{Verify: v})
			return err
		},
		"salvage": func(out string, v repair.Verify) error {
			_, err := repair.Salvage(db, out, repair.SalvageOptions{Verify: v})
			return err
		},
		"auto": func(out string, v repair.Verify) error {
			_, err := repair.Auto(src, out, repair.AutoOptions{Verify: v})
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			parent := t.TempDir()
			out := filepath.Join(parent, "out")
			verified := false
			err := run(out, func(built string) error {
				verified = true
				if _, err := os.Stat(out); err == nil {
					t.Errorf("%s exists before the check", out)
				}
				if _, err := os.Stat(built); err != nil {
					t.Errorf("the output being checked: %v", err)
				}
				return refuse
			})
			if !verified || !errors.Is(err, refuse) {
				t.Fatalf("verified %v, error %v", verified, err)
			}
			if ents, _ := os.ReadDir(parent); len(ents) != 0 {
				t.Errorf("left after a failed check: %v", ents)
			}
			if err := run(out, nil); err != nil {
				t.Fatal(err)
			}
			if err := run(out, nil); err == nil {
				t.Error("a second repair onto the same --out was not refused")
			}
		})
	}
}

// TestDamagedInputsNeverPanic: every repair, dry run, on copies of the
// sample member damaged at random (seeded: bytes flipped, 4 KiB blocks
// zeroed, in the db or in a WAL segment) returns a plan or an error, and
// never panics.
func TestDamagedInputsNeverPanic(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	for i := range 24 {
		src := fixture.CopyDir(t, etcdtest.SampleDir(t))
		db := fixture.DamageMember(t, rng, src)
		files, err := walfmt.OpenPath(filepath.Join(src, "member", "wal"))
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "out")
		for name, run := range map[string]func() error{
			"rebuild": func() error {
				_, err := repair.Rebuild(files.Segments, out, repair.RebuildOptions{DryRun: true})
				return err
			},
			"wal": func() error {
				_, err := repair.WAL(filepath.Join(src, "member"), files.Segments, out, repair.WALOptions{DryRun: true})
				return err
			},
			"bolt": func() error {
				_, err := repair.Bolt(db, out, repair.BoltOptions{DryRun: true, WAL: files.Segments})
				return err
			},
			"salvage": func() error {
				_, err := repair.Salvage(db, out, repair.SalvageOptions{DryRun: true, WAL: files.Segments})
				return err
			},
		} {
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Errorf("damage #%d: repair %s panicked: %v", i, name, p)
					}
				}()
				run()
			}()
			if _, err := os.Stat(out); err == nil {
				t.Fatalf("damage #%d: the dry run of repair %s wrote %s", i, name, out)
			}
		}
		files.Close()
	}
}

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
