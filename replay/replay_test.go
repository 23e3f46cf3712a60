package replay_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/replaytest"
	"github.com/etcdscope/etcdscope/mvccview"
	"github.com/etcdscope/etcdscope/replay"
	"github.com/etcdscope/etcdscope/walfmt"
)

// TestReplayMatchesLiveEtcd replays each version's WAL (kept from index 1)
// from an empty state through a raft node into a fresh db, and compares
// that db with what the live server answered: HashKV at every recorded
// revision above the compaction, and the whole key space at the latest.
func TestReplayMatchesLiveEtcd(t *testing.T) {
	for _, v := range etcdtest.Versions {
		t.Run(v, func(t *testing.T) {
			dir, rec := etcdtest.Generate(t, v, etcdtest.GenOptions{})
			defer etcdtest.RequireUnchanged(t, dir)()
			out, res := replaytest.Replay(t, dir, replay.Options{})
			t.Logf("etcd %s: applied %d entries to index %d (revision %d, compacted at %d) in %v; requests %v; unsupported %v; failed %v",
				v, res.Stats.Entries, res.AppliedIndex, res.Revision, res.CompactRev, res.Duration, res.Stats.Requests, res.Stats.Unsupported, res.Stats.Failed)
			if res.Revision != rec.Revision || res.CompactRev != rec.CompactRevision {
				t.Errorf("revision %d compacted %d, the server said %d and %d", res.Revision, res.CompactRev, rec.Revision, rec.CompactRevision)
			}
			db := replaytest.OpenDB(t, out)
			walk, _ := db.Walk(boltfmt.WalkOptions{})
			for _, p := range walk.Problems {
				t.Errorf("replayed db: %v", p)
			}
			// The key buckets hold the same records, byte for byte.
			orig := replaytest.OpenDB(t, filepath.Join(dir, "member", "snap", "db"))
			records := func(d *boltfmt.DB) []string {
				var out []string
				(&mvccview.BoltSource{DB: d}).ForEach("key", func(k, v []byte) error {
					out = append(out, string(k)+"="+string(v))
					return nil
				})
				return out
			}
			if a, b := records(orig), records(db); !reflect.DeepEqual(a, b) {
				t.Errorf("key bucket: the original has %d records, the replay %d", len(a), len(b))
			}
			st := replaytest.Store(t, db)
			// The other buckets, decoded, equal the original's.
			ost := replaytest.Store(t, orig)
			for name, get := range map[string]func(*mvccview.Store) (any, error){
				"auth":    func(s *mvccview.Store) (any, error) { return s.Auth() },
				"members": func(s *mvccview.Store) (any, error) { return s.Members() },
				"cluster": func(s *mvccview.Store) (any, error) { return s.Cluster() },
				"leases":  func(s *mvccview.Store) (any, error) { return s.Leases() },
			} {
				a, err1 := get(ost)
				b, err2 := get(st)
				if err1 != nil || err2 != nil || !reflect.DeepEqual(a, b) {
					ja, _ := json.Marshal(a)
					jb, _ := json.Marshal(b)
					t.Errorf("%s: the original %s, the replay %s", name, ja, jb)
				}
			}
			for _, p := range rec.Points {
				if p.Revision <= rec.CompactRevision {
					continue
				}
				var want []struct {
					HashKV struct {
						Hash            uint32 `json:"hash"`
						CompactRevision int64  `json:"compact_revision"`
					} `json:"HashKV"`
				}
				json.Unmarshal(p.HashKV, &want)
				h := replaytest.HashKV(t, st, p.Revision)
				if h.Hash != want[0].HashKV.Hash || h.CompactRevision != want[0].HashKV.CompactRevision {
					t.Errorf("%s (rev %d): replayed hash %d compact %d, the live server %d %d", p.Name, p.Revision, h.Hash, h.CompactRevision, want[0].HashKV.Hash, want[0].HashKV.CompactRevision)
				}
			}
		})
	}
}

// TestReplayedDataDirStartsRealEtcd: real etcd of the version that wrote the
// source starts on RunDataDir's output as a single-member cluster and
// answers get "" --prefix with the original's key-values.
func TestReplayedDataDirStartsRealEtcd(t *testing.T) {
	for _, v := range etcdtest.Versions {
		t.Run(v, func(t *testing.T) {
			dir, rec := etcdtest.Generate(t, v, etcdtest.GenOptions{})
			out := filepath.Join(t.TempDir(), "replayed")
			res, err := replay.RunDataDir(replaytest.WAL(t, dir).Segments, out, replay.Options{})
			if err != nil {
				t.Fatal(err)
			}
			// The provenance file beside it answers each revision as the
			// replay recorded it.
			pl, err := replay.OpenProvenance(filepath.Join(out, replay.ProvenanceFile))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range res.Provenance() {
				if got, ok := pl.Lookup(p.Revision); !ok || got != p.Position {
					t.Fatalf("provenance of revision %d: %+v %v, want %+v", p.Revision, got, ok, p.Position)
				}
			}
			if _, ok := pl.Lookup(res.Revision + 1); ok {
				t.Errorf("provenance of revision %d, past the last", res.Revision+1)
			}
			pl.Close()
			// Auth was replayed too: log in as root with the original's password.
			m := etcdtest.StartMember(t, etcdtest.Binaries(t, v), etcdtest.MemberOptions{DataDir: out, Auth: "root:" + etcdtest.RootPassword})
			got := m.Ctl(t, "get", "", "--prefix", "-w", "json")
			m.Stop(t)
			type kvs struct {
				KVs []map[string]any `json:"kvs"`
			}
			var g, w kvs
			json.Unmarshal(got, &g)
			json.Unmarshal(rec.Point(etcdtest.PointFinal).Get, &w)
			if len(g.KVs) == 0 || !reflect.DeepEqual(g.KVs, w.KVs) {
				t.Fatalf("etcd %s on the replayed dir returned %d kvs, the original %d", v, len(g.KVs), len(w.KVs))
			}
			t.Logf("etcd %s started on the replayed data dir and returned the original's %d key-values", v, len(g.KVs))
		})
	}
}

// TestReplayToIndexAndProvenance: a full replay records which WAL entry
// produced every revision (each position holds that entry), and replaying
// only to the entry that produced a recorded revision R gives the key space
// the live server returned for get "" --prefix --rev R.
func TestReplayToIndexAndProvenance(t *testing.T) {
	for _, v := range etcdtest.Versions {
		t.Run(v, func(t *testing.T) {
			dir, rec := etcdtest.Generate(t, v, etcdtest.GenOptions{})
			files := replaytest.WAL(t, dir)
			_, full := replaytest.Run(t, files.Segments, replay.Options{})
			// Every position holds the entry it names.
			at := map[string]uint64{}
			r := walfmt.NewReader(files.Segments, walfmt.Options{})
			for f, err := r.Next(); err == nil; f, err = r.Next() {
				if f.Entry != nil {
					at[f.Segment.Name+"@"+strconv.FormatInt(f.Offset, 10)] = f.Entry.Index
				}
			}
			prov := map[int64]replay.Position{}
			for _, p := range full.Provenance() {
				if at[p.Segment+"@"+strconv.FormatInt(p.Offset, 10)] != p.Index {
					t.Fatalf("revision %d: %s:%#x does not hold entry %d", p.Revision, p.Segment, p.Offset, p.Index)
				}
				prov[p.Revision] = p.Position
			}
			if int64(len(prov)) != full.Revision-1 {
				t.Errorf("provenance for %d revisions, want %d", len(prov), full.Revision-1)
			}
			for _, p := range rec.Points {
				src, ok := prov[p.Revision]
				if !ok {
					t.Fatalf("no provenance for revision %d", p.Revision)
				}
				out, res := replaytest.Run(t, files.Segments, replay.Options{ToIndex: src.Index})
				if res.Revision != p.Revision || res.AppliedIndex != src.Index {
					t.Fatalf("--to-index %d: revision %d applied %d, want revision %d", src.Index, res.Revision, res.AppliedIndex, p.Revision)
				}
				got, err := replaytest.OpenStore(t, out).Range([]byte{0}, []byte{}, mvccview.RangeOptions{})
				if err != nil {
					t.Fatal(err)
				}
				var want struct {
					KVs []struct {
						Key         []byte `json:"key"`
						ModRevision int64  `json:"mod_revision"`
						Value       []byte `json:"value"`
					} `json:"kvs"`
				}
				json.Unmarshal(p.Get, &want)
				if len(got.KVs) != len(want.KVs) {
					t.Fatalf("%s (rev %d, index %d): %d keys, the server had %d", p.Name, p.Revision, src.Index, len(got.KVs), len(want.KVs))
				}
				for i, w := range want.KVs {
					g := got.KVs[i]
					if string(g.Key) != string(w.Key) || g.ModRevision != w.ModRevision || string(g.Value) != string(w.Value) {
						t.Fatalf("%s: key %d: %q@%d, the server %q@%d", p.Name, i, g.Key, g.ModRevision, w.Key, w.ModRevision)
					}
				}
			}
		})
	}
}

// TestReplayFromBackup: point in time. A real etcd member runs the
// workload; part-way through, etcdctl snapshot save takes a backup from the
// live server. Replaying that backup plus the member's WAL must give what
// the live server answered at the end.
func TestReplayFromBackup(t *testing.T) {
	for _, v := range etcdtest.Versions {
		t.Run(v, func(t *testing.T) {
			m := etcdtest.StartMember(t, etcdtest.Binaries(t, v), etcdtest.MemberOptions{WALSegmentBytes: etcdtest.DefaultWALSegmentBytes})
			done := make(chan *etcdtest.Recording, 1)
			go func() { done <- etcdtest.RunWorkload(t, m) }()
			cli := m.Client(t)
			backup := filepath.Join(t.TempDir(), "backup.db")
			for {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				st, err := cli.Status(ctx, m.ClientURL)
				cancel()
				if err == nil && st.Header.Revision >= 60 {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			m.Ctl(t, "snapshot", "save", backup)
			rec := <-done
			m.Stop(t)

			defer etcdtest.RequireUnchanged(t, backup)()
			out, res := replaytest.Replay(t, m.DataDir, replay.Options{Base: backup})
			t.Logf("etcd %s: base %s; applied through %d; revision %d", v, res.Base, res.AppliedIndex, res.Revision)
			if res.BaseIndex < 10 || res.BaseIndex >= res.AppliedIndex {
				t.Fatalf("the backup was not taken mid-workload: base index %d, applied %d", res.BaseIndex, res.AppliedIndex)
			}
			final := rec.Point(etcdtest.PointFinal)
			var want []struct {
				HashKV struct {
					Hash uint32 `json:"hash"`
				} `json:"HashKV"`
			}
			json.Unmarshal(final.HashKV, &want)
			h := replaytest.HashKV(t, replaytest.OpenStore(t, out), final.Revision)
			if res.Revision != rec.Revision || h.Hash != want[0].HashKV.Hash {
				t.Errorf("revision %d hash %d, the live server %d %d", res.Revision, h.Hash, rec.Revision, want[0].HashKV.Hash)
			}
		})
	}
}

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
