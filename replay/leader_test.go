package replay_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/replaytest"
	"github.com/etcdscope/etcdscope/replay"
	"github.com/etcdscope/etcdscope/snapfmt"
)

// TestReplayLeaderSnapshot: a member of a real 3-member cluster lags so far
// that the leader sends it a snapshot. Its WAL then has a gap, and the
// *.snap.db it received (captured the moment it appears, before etcd renames
// it over the db) is the base: replaying it plus the member's WAL gives the
// leader's HashKV.
func TestReplayLeaderSnapshot(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a 3-member cluster through a leader snapshot")
	}
	for _, v := range etcdtest.Versions {
		t.Run(v, func(t *testing.T) {
			ms := etcdtest.StartCluster(t, etcdtest.Binaries(t, v), 3, etcdtest.MemberOptions{SnapshotCount: 100, WALSegmentBytes: 64 << 10})
			lag := ms[2]
			lag.Stop(t)
			cli := ms[0].Client(t)
			etcdtest.PutMany(t, cli, "/lag", 5600) // beyond the leader's 5,000 catch-up entries
			captured := filepath.Join(t.TempDir(), "captured.snap.db")
			var idx uint64
			for attempt := 1; ; attempt++ {
				var ok bool
				if idx, ok = lag.TryStartAndCaptureSnapDB(t, captured, 90*time.Second); ok {
					break
				}
				if attempt == 3 {
					t.Fatalf("%s applied the leader's snapshot unseen %d times", lag.Name, attempt)
				}
				t.Logf("%s applied the leader's snapshot before it could be copied; lagging it again", lag.Name)
				lag.Stop(t)
				etcdtest.PutMany(t, cli, fmt.Sprintf("/lag%d", attempt), 5600)
			}
			etcdtest.PutMany(t, cli, "/after", 200)
			// Wait until the lagging member answers and has applied everything.
			var rev int64
			var hash uint32
			for deadline := time.Now().Add(120 * time.Second); ; {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				ls, err1 := cli.Status(ctx, ms[0].ClientURL)
				fs, err2 := cli.Status(ctx, lag.ClientURL)
				cancel()
				if err1 == nil && err2 == nil && fs.RaftAppliedIndex >= ls.RaftAppliedIndex {
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					h, err := cli.HashKV(ctx, ms[0].ClientURL, 0)
					cancel()
					if err != nil {
						t.Fatal(err)
					}
					rev, hash = h.Header.Revision, h.Hash
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the lagging member did not catch up")
				}
				time.Sleep(50 * time.Millisecond)
			}
			for _, m := range ms {
				m.Stop(t)
			}

			files := replaytest.WAL(t, lag.DataDir)
			if _, err := replay.Run(files.Segments, replay.Options{Out: filepath.Join(t.TempDir(), "x")}); err == nil {
				t.Errorf("replaying from an empty state across the snapshot gap should fail")
			}
			out, res := replaytest.Run(t, files.Segments, replay.Options{Base: captured})
			t.Logf("etcd %s: captured %016x.snap.db; base %s; applied through %d; revision %d (leader %d)", v, idx, res.Base, res.AppliedIndex, res.Revision, rev)
			if res.BaseIndex != idx {
				t.Errorf("base at raft index %d, the captured snapshot is %d", res.BaseIndex, idx)
			}
			if res.AppliedIndex <= res.BaseIndex {
				t.Errorf("nothing replayed past the base (applied through %d)", res.AppliedIndex)
			}
			replaytest.CheckLive(t, res, out, rev, hash)

			// With the .snap.db in a snap dir, AutoBase finds it.
			snapDir := t.TempDir()
			snapDB, err := os.ReadFile(captured)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(snapDir, snapfmt.DBName(idx)), snapDB, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(snapDir, snapfmt.DBName(idx+1)), []byte("not a db"), 0o600); err != nil {
				t.Fatal(err)
			}
			out, auto := replaytest.Run(t, files.Segments, replay.Options{AutoBase: snapDir})
			if auto.BaseIndex != idx {
				t.Errorf("AutoBase: base at raft index %d (%s), the captured snapshot is %d", auto.BaseIndex, auto.Base, idx)
			}
			replaytest.CheckLive(t, auto, out, rev, hash)
		})
	}
}
