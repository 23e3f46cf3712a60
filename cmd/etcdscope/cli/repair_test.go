package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/fixture"
)

// etcdKVs starts real etcd of version v on dir, as the source's root user,
// and returns what etcdctl get "" --prefix answers (args are added to it),
// its kvs and its header revision.
func etcdKVs(t *testing.T, v, dir string, args ...string) (kvs []map[string]any, rev int64, raw []byte) {
	t.Helper()
	m := etcdtest.StartMember(t, etcdtest.Binaries(t, v), etcdtest.MemberOptions{DataDir: dir, Auth: "root:" + etcdtest.RootPassword})
	defer m.Stop(t)
	raw = m.Ctl(t, append([]string{"get", "", "--prefix", "-w", "json"}, args...)...)
	var g struct {
		Header struct {
			Revision int64 `json:"revision"`
		} `json:"header"`
		KVs []map[string]any `json:"kvs"`
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatalf("etcdctl get: %v: %s", err, raw)
	}
	return g.KVs, g.Header.Revision, raw
}

// recordedKVs is the kvs of a recorded get.
func recordedKVs(t *testing.T, raw []byte) []map[string]any {
	t.Helper()
	var w struct {
		KVs []map[string]any `json:"kvs"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		t.Fatal(err)
	}
	return w.KVs
}

// TestRepairRebuildDeletedDB: a member of etcd 3.5, 3.6 and 3.7 whose db
// was deleted is rebuilt from its snapshot and WAL; the dry run writes
// nothing; the new member passes inspect, real etcd of the same version
// starts on it and answers get "" --prefix with exactly the keys the live
// server held; with --bump-revision and --mark-compacted its revision is
// raised and the old revisions read as compacted. The input is unchanged.
func TestRepairRebuildDeletedDB(t *testing.T) {
	for _, v := range etcdtest.Versions {
		t.Run(v, func(t *testing.T) {
			gen, rec := etcdtest.Generate(t, v, etcdtest.GenOptions{})
			src := fixture.CopyDir(t, gen)
			if err := os.Remove(filepath.Join(src, "member", "snap", "db")); err != nil {
				t.Fatal(err)
			}
			defer etcdtest.RequireUnchanged(t, src)()
			final := rec.Point(etcdtest.PointFinal)
			want := recordedKVs(t, final.Get)
			parent := t.TempDir()

			out := filepath.Join(parent, "dry")
			stdout, errOut, code := run(t, "repair", "rebuild", src, "--out", out, "--dry-run", "-w", "json")
			if code != ExitOK {
				t.Fatalf("dry run: exit %d: %s", code, errOut)
			}
			var plan struct {
				Revision int64 `json:"revision"`
				Keys     int64 `json:"keys"`
			}
			if err := json.Unmarshal([]byte(stdout), &plan); err != nil || plan.Revision != final.Revision || plan.Keys != int64(len(want)) {
				t.Fatalf("dry run plan: %v: %s; want revision %d, %d keys", err, stdout, final.Revision, len(want))
			}
			if _, err := os.Stat(out); err == nil {
				t.Fatal("the dry run wrote its output")
			}

			out = filepath.Join(parent, "rebuilt")
			if _, errOut, code := run(t, "repair", "rebuild", src, "--out", out); code != ExitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if stdout, _, code := run(t, "inspect", out); code != ExitOK {
				t.Fatalf("inspect on the rebuilt member: exit %d:\n%s", code, stdout)
			}
			got, rev, _ := etcdKVs(t, v, out)
			if rev != final.Revision || !reflect.DeepEqual(got, want) {
				t.Fatalf("etcd %s on the rebuilt member: revision %d, %d keys; the live server had revision %d, %d keys", v, rev, len(got), final.Revision, len(want))
			}

			bumped := filepath.Join(parent, "bumped")
			if _, errOut, code := run(t, "repair", "rebuild", src, "--out", bumped, "--bump-revision", "1000", "--mark-compacted"); code != ExitOK {
				t.Fatalf("with a bump: exit %d: %s", code, errOut)
			}
			got, rev, _ = etcdKVs(t, v, bumped)
			if rev != final.Revision+1000 || !reflect.DeepEqual(got, want) {
				t.Errorf("etcd %s on the bumped member: revision %d, %d keys; want %d, %d keys", v, rev, len(got), final.Revision+1000, len(want))
			}
			m := etcdtest.StartMember(t, etcdtest.Binaries(t, v), etcdtest.MemberOptions{DataDir: bumped, Auth: "root:" + etcdtest.RootPassword})
			_, err := m.CtlErr("get", "", "--prefix", "--rev", strconv.FormatInt(final.Revision, 10))
			m.Stop(t)
			if err == nil || !strings.Contains(err.Error(), "compacted") {
				t.Errorf("get --rev %d on the bumped member: %v, want compacted", final.Revision, err)
			}
			ents, _ := os.ReadDir(parent)
			if len(ents) != 2 {
				t.Errorf("beside --out: %v, want rebuilt and bumped only", ents)
			}
		})
	}
}
