package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/fixture"
)

// builtBinary builds this command into a temporary dir and returns the
// binary's path, for the tests here of what the scripts (which run this
// test binary as etcdscope) do not reach: signals, kills and a real
// terminal. It skips the test in -short mode.
func builtBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "etcdscope")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
	return bin
}

// TestServeSignals: the built binary serving the sample member's db stops
// cleanly, exit 0, on SIGTERM and on SIGINT, even with a watch open, and
// leaves the db byte-identical.
func TestServeSignals(t *testing.T) {
	bin := builtBinary(t)
	db := filepath.Join(etcdtest.SampleDir(t), "member", "snap", "db")
	unchanged := etcdtest.RequireUnchanged(t, db)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := l.Addr().String()
			l.Close()
			cmd := exec.Command(bin, "serve", "--db", db, "--listen", addr)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			exited := false
			defer func() { // only if the test failed before serve exited
				if !exited {
					cmd.Process.Kill()
					<-done
				}
			}()

			cli, err := clientv3.New(clientv3.Config{Endpoints: []string{addr}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
			if err != nil {
				t.Fatal(err)
			}
			defer cli.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var resp *clientv3.GetResponse
			for {
				if resp, err = cli.Get(ctx, "", clientv3.WithPrefix(), clientv3.WithCountOnly()); err == nil || ctx.Err() != nil {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if err != nil || resp.Count == 0 {
				t.Fatalf("get: %v %v; serve printed %s", resp, err, stderr.String())
			}
			wch := cli.Watch(ctx, "", clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision))
			if w := <-wch; w.Err() != nil || len(w.Events) == 0 {
				t.Fatalf("watch: %v, %d events", w.Err(), len(w.Events))
			}

			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				exited = true
				if err != nil {
					t.Errorf("serve after %s: %v: %s", sig, err, stderr.String())
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("serve still running 20 s after %s", sig)
			}
			if !strings.Contains(stderr.String(), "serve: stopped") {
				t.Errorf("serve printed %q, want it to say it stopped", stderr.String())
			}
		})
	}
	unchanged()
}

// TestRepairKilled: the built binary's repairs (rebuild, wal, auto) killed with SIGKILL at
// staggered moments leave at --out either nothing or a whole output that
// passes inspect (one killed after its rename); the input is unchanged.
func TestRepairKilled(t *testing.T) {
	bin := builtBinary(t)
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
		for _, verb := range []string{"rebuild", "wal", "auto"} {
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
	t.Logf("a whole repair takes %v; %d of 36 killed while running, %d outputs published whole, none partial", whole, killed, published)
}

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
	bin := builtBinary(t)
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
	// The findings tab (the last): inspect's verdict, then its report, the
	// damaged record first; enter on it shows it in the WAL tab.
	run("send-keys", "-t", "tui", "[")
	s = screen("Findings: ")
	if !strings.Contains(s, "wal-crc-mismatch "+where) {
		t.Errorf("the findings tab does not list the damaged record at %s:\n%s", where, s)
	}
	if d := os.Getenv("ETCDSCOPE_TUI_CAPTURE"); d != "" { // the README's capture
		os.WriteFile(filepath.Join(d, "findings.txt"), []byte(s), 0o644)
	}
	if !strings.Contains(s, "verdict: etcd 3.6 refuses") {
		t.Errorf("the findings tab does not open with the verdict:\n%s", s)
	}
	run("send-keys", "-t", "tui", "j")
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
