package replay_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/mvccview"
	"github.com/etcdscope/etcdscope/replay"
	"github.com/etcdscope/etcdscope/walfmt"
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

			files, err := walfmt.OpenPath(filepath.Join(lag.DataDir, "member", "wal"))
			if err != nil {
				t.Fatal(err)
			}
			defer files.Close()
			if _, err := replay.Run(files.Segments, replay.Options{Out: filepath.Join(t.TempDir(), "x")}); err == nil {
				t.Errorf("replaying from an empty state across the snapshot gap should fail")
			}
			out := filepath.Join(t.TempDir(), "db")
			res, err := replay.Run(files.Segments, replay.Options{Out: out, Base: captured})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("etcd %s: captured %016x.snap.db; base %s; applied through %d; revision %d (leader %d)", v, idx, res.Base, res.AppliedIndex, res.Revision, rev)
			db, err := boltfmt.Open(out, boltfmt.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			st, err := mvccview.Open(&mvccview.BoltSource{DB: db})
			if err != nil {
				t.Fatal(err)
			}
			h, err := st.HashKV(rev)
			if err != nil {
				t.Fatal(err)
			}
			if res.BaseIndex != idx {
				t.Errorf("base at raft index %d, the captured snapshot is %d", res.BaseIndex, idx)
			}
			if res.AppliedIndex <= res.BaseIndex {
				t.Errorf("nothing replayed past the base (applied through %d)", res.AppliedIndex)
			}
			if h.Hash != hash || res.Revision != rev {
				t.Errorf("replayed revision %d hash %d, the leader %d %d", res.Revision, h.Hash, rev, hash)
			}
		})
	}
}
