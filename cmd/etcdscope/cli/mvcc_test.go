package cli

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"testing"

	"github.com/etcdscope/etcdscope/internal/etcdtest"
)

// normalizeGet decodes etcdctl get -w json, or mvcc range -w json: the
// whole document, header included (the db's revision and raft term, the
// member and cluster ids of its WAL, which the recording's gets, all made
// at the end of the workload, carry too).
func normalizeGet(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	return m
}

func TestMVCCRangeAndHashEqualEtcdctl(t *testing.T) {
	for _, v := range etcdtest.Versions {
		t.Run(v, func(t *testing.T) {
			dir, rec := etcdtest.Generate(t, v, etcdtest.GenOptions{})
			defer etcdtest.RequireUnchanged(t, dir)()
			n := 0
			for _, p := range rec.Points {
				if p.Revision <= rec.CompactRevision {
					continue
				}
				rev := strconv.FormatInt(p.Revision, 10)
				out, errOut, code := run(t, "mvcc", "range", dir, "", "--prefix", "--rev", rev, "-w", "json")
				if code != ExitOK {
					t.Fatalf("mvcc range --rev %s: exit %d: %s", rev, code, errOut)
				}
				if got, want := normalizeGet(t, []byte(out)), normalizeGet(t, p.Get); !reflect.DeepEqual(got, want) {
					t.Fatalf("rev %s: mvcc range -w json differs from etcdctl get -w json:\n%v\n%v", rev, got["header"], want["header"])
				}
				out, errOut, code = run(t, "mvcc", "hash", dir, "--rev", rev, "-w", "json")
				if code != ExitOK {
					t.Fatalf("mvcc hash --rev %s: exit %d: %s", rev, code, errOut)
				}
				var got map[string]any
				json.Unmarshal([]byte(out), &got)
				var want []struct {
					HashKV map[string]any `json:"HashKV"`
				}
				json.Unmarshal(p.HashKV, &want)
				for _, f := range []string{"hash", "compact_revision"} {
					if got[f] != want[0].HashKV[f] {
						t.Errorf("rev %s: %s %v, etcdctl endpoint hashkv %v", rev, f, got[f], want[0].HashKV[f])
					}
				}
				n++
			}
			if n < 4 {
				t.Errorf("compared %d revisions", n)
			}
		})
	}
}

// TestMVCCHistoryEqualsServerGets checks each key's history against what
// the server returned for it at every recorded revision: the record live at
// that revision (the newest one at or below it, absent after a tombstone).
func TestMVCCHistoryEqualsServerGets(t *testing.T) {
	for _, v := range etcdtest.Versions {
		t.Run(v, func(t *testing.T) {
			dir, rec := etcdtest.Generate(t, v, etcdtest.GenOptions{})
			historyMatches(t, dir, rec)
		})
	}
}

func historyMatches(t *testing.T, dir string, rec *etcdtest.Recording) {
	type kv struct {
		Key         []byte `json:"key"`
		ModRevision int64  `json:"mod_revision"`
		Value       []byte `json:"value"`
	}
	seen := map[string]map[int64]*kv{} // key -> point revision -> kv
	var points []int64
	for _, p := range rec.Points {
		if p.Revision <= rec.CompactRevision {
			continue
		}
		points = append(points, p.Revision)
		var g struct {
			KVs []kv `json:"kvs"`
		}
		json.Unmarshal(p.Get, &g)
		for i := range g.KVs {
			k := string(g.KVs[i].Key)
			if seen[k] == nil {
				seen[k] = map[int64]*kv{}
			}
			seen[k][p.Revision] = &g.KVs[i]
		}
	}
	checked := 0
	for key, at := range seen {
		out, errOut, code := run(t, "mvcc", "history", dir, key, "-w", "json")
		if code != ExitOK {
			t.Fatalf("history %q: exit %d %s", key, code, errOut)
		}
		var h struct {
			Records []struct {
				Main      int64  `json:"main"`
				Tombstone bool   `json:"tombstone"`
				Value     []byte `json:"value"`
			} `json:"records"`
		}
		json.Unmarshal([]byte(out), &h)
		for _, r := range points {
			var live *struct {
				Main      int64  `json:"main"`
				Tombstone bool   `json:"tombstone"`
				Value     []byte `json:"value"`
			}
			for i := range h.Records {
				if h.Records[i].Main <= r {
					live = &h.Records[i]
				}
			}
			want := at[r]
			switch {
			case want == nil && live != nil && !live.Tombstone:
				t.Errorf("%q at %d: history has rev %d, the server had no key", key, r, live.Main)
			case want != nil && (live == nil || live.Tombstone || live.Main != want.ModRevision || !bytes.Equal(live.Value, want.Value)):
				t.Errorf("%q at %d: history %+v, the server had mod %d", key, r, live, want.ModRevision)
			}
			checked++
		}
	}
	t.Logf("%d keys x %d revisions checked", len(seen), len(points))
}

func TestMVCCCommandsLeaveInputUnchanged(t *testing.T) {
	dir := etcdtest.SampleDir(t)
	defer etcdtest.RequireUnchanged(t, dir)()
	for _, args := range [][]string{
		{"mvcc", "meta", dir}, {"mvcc", "meta", "-w", "json", dir}, {"mvcc", "leases", dir}, {"mvcc", "members", "-w", "table", dir},
		{"mvcc", "auth", "-w", "json", dir}, {"mvcc", "range", dir, "/data/", "--prefix", "-w", "table"}, {"mvcc", "hash", dir},
		{"mvcc", "history", dir, "/fill/00"}, {"mvcc", "range", dir, "", "--prefix", "--count-only"},
	} {
		if _, errOut, code := run(t, args...); code != ExitOK {
			t.Errorf("%v: exit %d: %s", args, code, errOut)
		}
	}
	if _, errOut, code := run(t, "mvcc", "range", dir, "", "--prefix", "--rev", "5"); code != ExitTrouble || !bytes.Contains([]byte(errOut), []byte("compacted")) {
		t.Errorf("a revision below the compaction: exit %d %q", code, errOut)
	}
}
