package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/fixture"
)

// TestRepairKilled: the built binary's repairs killed with SIGKILL at
// staggered moments leave at --out either nothing or a whole output that
// passes inspect (one killed after its rename); the input is unchanged.
func TestRepairKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "etcdscope")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
	src := fixture.CopyDir(t, etcdtest.SampleDir(t))
	defer etcdtest.RequireUnchanged(t, src)()
	// How long a whole repair takes here, to spread the kills over it.
	t0 := time.Now()
	if out, err := exec.Command(bin, "repair", "rebuild", src, "--out", filepath.Join(t.TempDir(), "whole")).CombinedOutput(); err != nil {
		t.Fatalf("repair rebuild: %v: %s", err, out)
	}
	whole := time.Since(t0)
	killed, published := 0, 0
	for i := range 12 {
		for _, verb := range []string{"rebuild", "wal"} {
			out := filepath.Join(t.TempDir(), "out")
			cmd := exec.Command(bin, "repair", verb, src, "--out", out)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(whole * time.Duration(i) / 12)
			cmd.Process.Kill()
			err := cmd.Wait()
			if err != nil && strings.Contains(err.Error(), "killed") {
				killed++
			}
			if _, err := os.Stat(out); err != nil {
				continue // nothing at --out
			}
			published++
			if msg, err := exec.Command(bin, "inspect", out).CombinedOutput(); err != nil {
				t.Errorf("repair %s killed after %v: %s holds an output inspect rejects: %v\n%s", verb, whole*time.Duration(i)/12, out, err, msg)
			}
		}
	}
	if killed == 0 {
		t.Fatal("no repair was killed before it ended")
	}
	t.Logf("a whole repair takes %v; %d of 24 killed while running, %d outputs published whole, none partial", whole, killed, published)
}
