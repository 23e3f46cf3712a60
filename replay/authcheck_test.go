package replay_test

import (
	"context"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/replaytest"
	"github.com/etcdscope/etcdscope/replay"
)

// TestReplayRefusesDeniedWrites: etcd proposes a write without checking the
// caller's permissions and refuses it only when applying it, so a denied
// put, delete or txn is in the WAL but changed nothing. Replay must refuse
// the same entries: its revision and HashKV equal the live server's.
func TestReplayRefusesDeniedWrites(t *testing.T) {
	for _, v := range etcdtest.Versions {
		t.Run(v, func(t *testing.T) {
			m, root, alice := replaytest.AuthMember(t, v, []string{"readwrite", "/a/", "--prefix"}, []string{"read", "/b/", "--prefix"})
			m.Ctl(t, "put", "/b/seed", "v")
			m.Ctl(t, "put", "/c/seed", "v")
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			allowed := []func() error{
				func() error { _, err := alice.Put(ctx, "/a/1", "x"); return err },
				func() error { _, err := alice.Put(ctx, "/a/2", "y", clientv3.WithPrevKV()); return err },
				func() error { _, err := alice.Delete(ctx, "/a/1"); return err },
			}
			denied := []func() error{
				func() error { _, err := alice.Put(ctx, "/b/1", "x"); return err },
				func() error { _, err := alice.Put(ctx, "/c/1", "x"); return err },
				func() error { _, err := alice.Delete(ctx, "/b/", clientv3.WithPrefix()); return err },
				func() error { _, err := alice.Delete(ctx, "/a/", clientv3.WithFromKey()); return err },
				func() error {
					_, err := alice.Txn(ctx).If(clientv3.Compare(clientv3.Version("/b/seed"), ">", 0)).
						Then(clientv3.OpPut("/a/3", "z")).Else(clientv3.OpPut("/b/2", "z")).Commit()
					return err
				},
				func() error {
					_, err := alice.Txn(ctx).If(clientv3.Compare(clientv3.Version("/c/seed"), ">", 0)).
						Then(clientv3.OpPut("/a/4", "z")).Commit()
					return err
				},
			}
			for i, f := range allowed {
				if err := f(); err != nil {
					t.Fatalf("allowed write %d: %v", i, err)
				}
			}
			for i, f := range denied {
				if err := f(); err == nil {
					t.Fatalf("denied write %d was accepted", i)
				}
			}
			m.Ctl(t, "put", "/a/last", "v") // as root
			h, err := root.HashKV(ctx, m.ClientURL, 0)
			if err != nil {
				t.Fatal(err)
			}
			m.Stop(t)

			out, res := replaytest.Replay(t, m.DataDir, replay.Options{})
			t.Logf("etcd %s: revision %d (live %d); refused %v", v, res.Revision, h.Header.Revision, res.Stats.Failed)
			refused := res.Stats.Failed["put"] + res.Stats.Failed["delete-range"] + res.Stats.Failed["txn"]
			if refused != int64(len(denied)) {
				t.Errorf("refused %d writes, etcd refused %d", refused, len(denied))
			}
			replaytest.CheckLive(t, res, out, h.Header.Revision, h.Hash)
		})
	}
}
