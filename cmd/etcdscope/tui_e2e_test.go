package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/fixture"
)

// tmuxPath finds tmux, installing Debian's package when the test runs as
// root on a machine without it (a clean CI machine).
func tmuxPath(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("tmux"); err == nil {
		return p
	}
	if os.Geteuid() == 0 {
		if _, err := exec.LookPath("apt-get"); err == nil {
			out, err := exec.Command("sh", "-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux").CombinedOutput()
			if err != nil {
				t.Logf("installing tmux: %v: %s", err, out)
			}
			if p, err := exec.LookPath("tmux"); err == nil {
				return p
			}
		}
	}
	t.Skip("tmux is not installed and cannot be installed here")
	return ""
}

// TestTUIInTmux runs the built binary's tui in a real terminal (tmux, 120
// by 36) on a copy of the sample member whose WAL has one damaged record,
// presses n, and reads the screen: the damaged record is selected and the
// detail shows its segment and offset. q quits; the data dir is unchanged.
func TestTUIInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs tmux")
	}
	tmux := tmuxPath(t)
	bin := filepath.Join(t.TempDir(), "etcdscope")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
	dir := fixture.CopyDir(t, etcdtest.SampleDir(t))
	segs := fixture.Segments(t, filepath.Join(dir, "member", "wal"))
	fr := fixture.Frames(t, segs[2])
	bad := fr[len(fr)/2]
	fixture.FlipBit(t, segs[2], bad.Offset+8+bad.Length-1, 0)
	unchanged := etcdtest.RequireUnchanged(t, dir)

	sock := filepath.Join(t.TempDir(), "tmux.sock") // a server of our own, stopped below
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(tmux, append([]string{"-S", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("new-session", "-d", "-s", "tui", "-x", "120", "-y", "36", bin+" tui "+dir)
	defer exec.Command(tmux, "-S", sock, "kill-server").Run()
	screen := func(want string) string {
		t.Helper()
		var s string
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			s = run("capture-pane", "-p", "-t", "tui")
			if strings.Contains(s, want) {
				return s
			}
		}
		t.Fatalf("the screen never showed %q:\n%s", want, s)
		return s
	}
	screen("Records of")
	run("send-keys", "-t", "tui", "n")
	where := fmt.Sprintf("%s:%#x", filepath.Base(segs[2]), bad.Offset)
	s := screen(where)
	if !strings.Contains(s, fmt.Sprintf("> %#08x !! entry", bad.Offset)) {
		t.Errorf("n did not select the damaged record at %s:\n%s", where, s)
	}
	// The findings tab (the last): inspect's report, the damaged record
	// first; enter on it shows it in the WAL tab.
	run("send-keys", "-t", "tui", "[")
	s = screen("Findings: ")
	if !strings.Contains(s, "wal-crc-mismatch "+where) {
		t.Errorf("the findings tab does not list the damaged record at %s:\n%s", where, s)
	}
	if d := os.Getenv("ETCDSCOPE_TUI_CAPTURE"); d != "" { // the README's capture
		os.WriteFile(filepath.Join(d, "findings.txt"), []byte(s), 0o644)
	}
	run("send-keys", "-t", "tui", "Enter")
	if s := screen("[WAL]"); !strings.Contains(s, fmt.Sprintf("> %#08x !! entry", bad.Offset)) {
		t.Errorf("enter on the finding did not show the record:\n%s", s)
	}
	run("send-keys", "-t", "tui", "q")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if err := exec.Command(tmux, "-S", sock, "has-session", "-t", "tui").Run(); err != nil {
			break // the session ended with the program
		}
		if time.Now().After(deadline) {
			t.Fatal("q did not end the tui")
		}
	}
	unchanged()
}
