package main

import (
	"bytes"
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/etcdscope/etcdscope/internal/etcdtest"
)

// TestServeSignals: the built binary serving the sample member's db stops
// cleanly, exit 0, on SIGTERM and on SIGINT, even with a watch open, and
// leaves the db byte-identical.
func TestServeSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "etcdscope")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
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
