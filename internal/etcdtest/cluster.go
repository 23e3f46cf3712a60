package etcdtest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// StartCluster starts n members of one new cluster on 127.0.0.1 (names m1,
// m2, ...), waits until every member is healthy, and registers their stop
// with tb.Cleanup. opts apply to every member (DataDir is ignored: each gets
// its own).
//
// One cluster runs at a time on the machine (a lock file in the cache
// dir, held until the test ends): go test runs packages in parallel, and
// two clusters taking leader snapshots at once on a 2-CPU machine starve
// each other (etcd 3.7 retries a refused publish in a tight loop).
func StartCluster(tb testing.TB, bins Bins, n int, opts MemberOptions) []*Member {
	tb.Helper()
	unlock, err := lockFile(filepath.Join(CacheDir(tb), "cluster.lock"))
	if err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
	tb.Cleanup(unlock) // registered first: runs after the members stop
	if opts.SnapshotCount == 0 {
		opts.SnapshotCount = 100
	}
	ports, err := freePorts(2 * n)
	if err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
	logDir := tb.TempDir()
	var ms []*Member
	var cluster []string
	for i := 0; i < n; i++ {
		o := opts
		o.Name = fmt.Sprintf("m%d", i+1)
		o.DataDir = filepath.Join(tb.TempDir(), "data")
		m := &Member{Bins: bins, Opts: o, Name: o.Name, DataDir: o.DataDir, Auth: o.Auth,
			LogPath:   filepath.Join(logDir, o.Name+".log"),
			ClientURL: "http://127.0.0.1:" + strconv.Itoa(ports[2*i]),
			PeerURL:   "http://127.0.0.1:" + strconv.Itoa(ports[2*i+1])}
		cluster = append(cluster, o.Name+"="+m.PeerURL)
		ms = append(ms, m)
	}
	for _, m := range ms {
		m.cluster = strings.Join(cluster, ",")
		if err := m.start(); err != nil {
			tb.Fatalf("etcdtest: starting %s: %v", m.Name, err)
		}
		tb.Cleanup(func() { m.Stop(tb) })
	}
	for _, m := range ms {
		if err := m.waitHealthy(); err != nil {
			tb.Fatalf("etcdtest: %s: %v\n%s", m.Name, err, m.logTail())
		}
	}
	return ms
}

// Restart starts a stopped member again on its data dir and ports, and
// waits until it is healthy.
func (m *Member) Restart(tb testing.TB) {
	tb.Helper()
	if err := m.start(); err != nil {
		tb.Fatalf("etcdtest: restarting %s: %v", m.Name, err)
	}
	if err := m.waitHealthy(); err != nil {
		tb.Fatalf("etcdtest: %s: %v\n%s", m.Name, err, m.logTail())
	}
}

// StartBehind restarts a stopped member without waiting for it to be
// healthy: one that lags far behind first takes a snapshot from the
// leader, which on a loaded machine can outlast a health check's
// patience. The caller polls (Status) until it has caught up.
func (m *Member) StartBehind(tb testing.TB) {
	tb.Helper()
	if err := m.start(); err != nil {
		tb.Fatalf("etcdtest: restarting %s: %v", m.Name, err)
	}
}

// StartAndCaptureSnapDB restarts a stopped member that lags so far behind
// that the leader sends it a snapshot, and captures the *.snap.db it
// receives: etcd renames that file over member/snap/db within milliseconds,
// and then keeps writing to it as its db, so the member is paused (SIGSTOP,
// only this process) the moment the file appears, the file is copied to dst
// (a hard link would share the inode etcd goes on writing), and the member
// resumed. It returns the raft index in the captured file's name, without
// waiting for the member to finish catching up: on a loaded machine that can
// take longer than a health check's patience, so the caller polls.
func (m *Member) StartAndCaptureSnapDB(tb testing.TB, dst string, timeout time.Duration) uint64 {
	tb.Helper()
	idx, ok := m.TryStartAndCaptureSnapDB(tb, dst, timeout)
	if !ok {
		tb.Fatalf("etcdtest: %s received no snapshot db within %v, or applied it before it could be copied\n%s", m.Name, timeout, m.logTail())
	}
	return idx
}

// TryStartAndCaptureSnapDB is StartAndCaptureSnapDB reporting a miss
// instead of failing: etcd can receive a snapshot and rename it over its
// db between two looks at the directory. On a miss (its log says it
// applied a snapshot, or the timeout passed) the member is left running;
// the caller can stop it, let it fall behind again and retry.
func (m *Member) TryStartAndCaptureSnapDB(tb testing.TB, dst string, timeout time.Duration) (uint64, bool) {
	tb.Helper()
	if err := m.start(); err != nil {
		tb.Fatalf("etcdtest: restarting %s: %v", m.Name, err)
	}
	snapDir := filepath.Join(m.DataDir, "member", "snap")
	deadline := time.Now().Add(timeout)
	for i := 0; time.Now().Before(deadline); i++ {
		matches, _ := filepath.Glob(filepath.Join(snapDir, "*.snap.db"))
		if len(matches) > 0 {
			resume := pause(m.Pid())
			info, err := os.Stat(matches[0])
			if err == nil {
				err = copyFile(matches[0], dst, info)
			}
			resume()
			if err != nil {
				os.Remove(dst)
				continue // renamed before the pause took hold; wait for the next
			}
			idx, perr := strconv.ParseUint(strings.TrimSuffix(filepath.Base(matches[0]), ".snap.db"), 16, 64)
			if perr != nil {
				tb.Fatalf("etcdtest: %s: %v", matches[0], perr)
			}
			return idx, true
		}
		if i%50 == 0 { // every 10 ms or so: was it applied unseen?
			if log, err := os.ReadFile(m.LogPath); err == nil && bytes.Contains(log, []byte(`"msg":"applied snapshot"`)) {
				return 0, false
			}
		}
		time.Sleep(200 * time.Microsecond)
	}
	return 0, false
}

// PutMany puts n keys, prefix/00000 to prefix/(n-1 mod 3000), from 16
// goroutines, retrying each put a few times: on a loaded machine a leader
// change fails requests in flight. A failed put may still have been
// applied, so callers count revisions from what etcd answers.
func PutMany(tb testing.TB, cli *clientv3.Client, prefix string, n int) {
	tb.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 16 {
		wg.Go(func() {
			for i := w; i < n; i += 16 {
				if err := Put(cli, fmt.Sprintf("%s/%05d", prefix, i%3000), fmt.Sprintf("v%d", i)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
}

// Put puts one key, retrying as PutMany does.
func Put(cli *clientv3.Client, key, val string) error {
	var err error
	for range 5 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err = cli.Put(ctx, key, val)
		cancel()
		if err == nil {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return err
}
