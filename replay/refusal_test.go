package replay_test

import (
	"context"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/replaytest"
	"github.com/etcdscope/etcdscope/replay"
)

// What etcd's auth and alarm appliers refuse when they apply an entry,
// replay refuses too (refusal, authcheck.go, alarm.go).

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

// TestReplayAlarms: etcd proposes writes without looking at its alarms and
// refuses them only when applying them, so with a NOSPACE or CORRUPT
// alarm active the WAL holds writes that changed nothing. Which ones
// depends on the version: 3.6 and later keep the auth checks and stack the
// alarms' appliers; 3.5, when an alarm is raised while it runs, drops the
// auth checks and keeps only the latest alarm's applier, and clearing
// either alarm clears both. Replay must end at the live server's revision
// and HashKV on each version.
func TestReplayAlarms(t *testing.T) {
	for _, v := range etcdtest.Versions {
		t.Run(v, func(t *testing.T) {
			m, root, alice := replaytest.AuthMember(t, v, []string{"readwrite", "/a/", "--prefix"})
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()

			must := func(what string, err error) {
				t.Helper()
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
			}
			for _, k := range []string{"/a/seed", "/b/seed", "/b/victim", "/b/victim2"} {
				_, err := root.Put(ctx, k, "v")
				must("put "+k, err)
			}
			l, err := root.Grant(ctx, 3600)
			must("grant", err)
			_, err = root.Put(ctx, "/a/leased", "v", clientv3.WithLease(l.ID))
			must("put with lease", err)
			st, err := root.Status(ctx, m.ClientURL)
			must("status", err)
			id := st.Header.MemberId
			maint := pb.NewMaintenanceClient(root.ActiveConnection())
			alarm := func(action pb.AlarmRequest_AlarmAction, typ pb.AlarmType) {
				t.Helper()
				_, err := maint.Alarm(ctx, &pb.AlarmRequest{Action: action, MemberID: id, Alarm: typ})
				must("alarm "+action.String()+" "+typ.String(), err)
			}
			// Each write is made; whether etcd applied it is what the
			// live HashKV and revision say, and what replay must match.
			// The errors are logged, not asserted: they differ by version.
			try := func(what string, err error) { t.Logf("%s: %v", what, err) }

			alarm(pb.AlarmRequest_ACTIVATE, pb.AlarmType_NOSPACE)
			_, err = root.Put(ctx, "/a/refused", "v")
			try("put under NOSPACE", err)
			_, err = root.Txn(ctx).If(clientv3.Compare(clientv3.Version("/a/seed"), ">", 0)).
				Then(clientv3.OpDelete("/a/seed")).Commit()
			try("delete-only txn under NOSPACE", err)
			_, err = root.Txn(ctx).If(clientv3.Compare(clientv3.Version("/b/seed"), ">", 0)).
				Then(clientv3.OpDelete("/b/seed")).Else(clientv3.OpPut("/b/else", "v")).Commit()
			try("txn with a put in its else branch under NOSPACE", err)
			_, err = root.Grant(ctx, 60)
			try("lease grant under NOSPACE", err)
			_, err = alice.Delete(ctx, "/b/victim")
			try("alice's denied delete under NOSPACE", err)
			_, err = root.Compact(ctx, 3)
			try("compaction under NOSPACE", err)
			_, err = root.Revoke(ctx, l.ID)
			try("lease revoke under NOSPACE", err)

			alarm(pb.AlarmRequest_ACTIVATE, pb.AlarmType_CORRUPT)
			_, err = root.Put(ctx, "/a/corrupt", "v")
			try("put under CORRUPT", err)
			_, err = root.Delete(ctx, "/b/victim2")
			try("delete under CORRUPT", err)
			_, err = alice.Delete(ctx, "/b/victim2")
			try("alice's denied delete under CORRUPT", err)

			alarm(pb.AlarmRequest_DEACTIVATE, pb.AlarmType_NOSPACE)
			_, err = root.Put(ctx, "/a/after-nospace", "v")
			try("put with only CORRUPT left", err)
			alarm(pb.AlarmRequest_DEACTIVATE, pb.AlarmType_CORRUPT)
			_, err = root.Put(ctx, "/a/after-all", "v")
			must("put with no alarm", err)

			h, err := root.HashKV(ctx, m.ClientURL, 0)
			must("hashkv", err)
			m.Stop(t)

			out, res := replaytest.Replay(t, m.DataDir, replay.Options{})
			t.Logf("etcd %s: revision %d (live %d); refused %v", v, res.Revision, h.Header.Revision, res.Stats.Failed)
			replaytest.CheckLive(t, res, out, h.Header.Revision, h.Hash)
			if res.Stats.Failed["put"] == 0 || res.Stats.Failed["lease-grant"] == 0 {
				t.Errorf("no put or lease grant refused: %v", res.Stats.Failed)
			}
		})
	}
}
