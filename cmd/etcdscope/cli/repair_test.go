package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/etcdscope/etcdscope/boltfmt"
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
			if code != ExitFindings { // the input is damaged: the dry run says so, as inspect does
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

// TestRepairWAL: on members of etcd 3.5, 3.6 and 3.7 whose WAL has a torn
// tail, a CRC mismatch mid-log, non-zero padding or garbage after its end,
// repair wal writes a member that passes inspect and that real etcd of the
// same version starts on; etcdctl get "" --prefix then returns exactly the
// input db's keys but those the plan lists as lost, which are as the plan
// says. A CRC mismatch one flipped bit explains is not cut at: the bit is
// flipped back; a torn tail is cut at, and when the torn record is an
// entry the db applied, the WAL starts from the db: nothing is lost in any
// case. The input is unchanged.
func TestRepairWAL(t *testing.T) {
	for _, v := range etcdtest.Versions {
		for _, name := range []string{"torn-tail", "torn-entry", "crc-mismatch", "nonzero-padding", "garbage-after-end"} {
			t.Run(v+"/"+name, func(t *testing.T) {
				gen, _ := etcdtest.Generate(t, v, etcdtest.GenOptions{})
				src := fixture.CopyDir(t, gen)
				inj, ok := injections[name]
				if name == "torn-entry" {
					// The file ends halfway through its last entry, as
					// after a crash while etcd wrote it.
					inj = injection{code: "wal-torn-tail", inject: func(t *testing.T, walDir string) (string, int64) {
						seg := last(t, walDir)
						var e fixture.Frame
						for _, f := range fixture.Frames(t, seg) {
							if f.Type == 2 {
								e = f
							}
						}
						fixture.Truncate(t, seg, e.Offset+8+e.Length/2)
						return seg, e.Offset
					}}
				} else if !ok {
					t.Fatalf("no injection %s", name)
				}
				seg, off := inj.inject(t, filepath.Join(src, "member", "wal"))
				defer etcdtest.RequireUnchanged(t, src)()
				out := filepath.Join(t.TempDir(), "repaired")

				// The undamaged member stands in for a peer holding the log.
				stdout, errOut, code := run(t, "repair", "wal", src, "--out", out, "--dry-run", "--peer", gen, "-w", "json")
				// The input is damaged: the dry run says so, as inspect does,
				// exiting 1 where etcd would refuse (a CRC mismatch mid-log)
				// and 0 where etcd repairs it on start without loss.
				if want := map[bool]int{true: ExitFindings, false: ExitOK}[name == "crc-mismatch"]; code != want {
					t.Fatalf("dry run: exit %d, want %d: %s", code, want, errOut)
				}
				var plan struct {
					Cut *struct {
						Segment string `json:"segment"`
						Offset  int64  `json:"offset"`
						Code    string `json:"code"`
					} `json:"cut"`
					Findings  []struct{ Code string }        `json:"findings"`
					Flipped   []struct{ Offset int64 }       `json:"flipped"`
					FromDB    *struct{ Index uint64 }        `json:"from_db"`
					Lost      []struct{ Index, Term uint64 } `json:"lost"`
					PeersHave map[string]int                 `json:"peers_have"`
					Revision  int64                          `json:"revision"`
					Keys      int64                          `json:"keys"`
					LostKeys  []planKey                      `json:"lost_keys"`
				}
				if err := json.Unmarshal([]byte(stdout), &plan); err != nil {
					t.Fatalf("%v: %s", err, stdout)
				}
				if len(plan.Findings) == 0 || plan.Findings[0].Code != inj.code {
					t.Errorf("the dry run's findings: %+v, want %s first", plan.Findings, inj.code)
				}
				cut := name == "torn-tail" || name == "torn-entry"
				switch {
				case cut && (plan.Cut == nil || plan.Cut.Code != inj.code || plan.Cut.Segment != filepath.Base(seg) || plan.Cut.Offset != off):
					t.Fatalf("the plan does not cut at the %s at %s:%#x: %s", inj.code, filepath.Base(seg), off, stdout)
				case len(plan.Lost) > 0 || len(plan.LostKeys) > 0:
					t.Fatalf("%s should lose nothing: %s", name, stdout)
				case !cut && plan.Cut != nil:
					t.Fatalf("%s should cut nothing: %s", name, stdout)
				case name == "torn-entry" && plan.FromDB == nil:
					t.Fatalf("the WAL does not start from the db, which holds the torn entry: %s", stdout)
				case name == "crc-mismatch" && len(plan.Flipped) != 1:
					t.Fatalf("the flipped bit is not flipped back: %s", stdout)
				}
				if _, err := os.Stat(out); err == nil {
					t.Fatal("the dry run wrote its output")
				}
				read := 0 // the lost entries whose records were read: a peer holds them with the same term
				for _, l := range plan.Lost {
					if l.Term != 0 {
						read++
					}
				}
				if plan.PeersHave[gen] != read {
					t.Errorf("the peer holds %d of the %d entries lost whose records were read, want all", plan.PeersHave[gen], read)
				}

				if _, errOut, code := run(t, "repair", "wal", src, "--out", out); code != ExitOK {
					t.Fatalf("exit %d: %s", code, errOut)
				}
				if stdout, _, code := run(t, "inspect", out); code != ExitOK {
					t.Fatalf("inspect on the repaired member: exit %d:\n%s", code, stdout)
				}
				// What etcd answers: the input's keys, but the lost ones as planned.
				in, _, code := run(t, "mvcc", "range", src, "", "--prefix", "-w", "json")
				if code != ExitOK {
					t.Fatalf("mvcc range on the input: exit %d", code)
				}
				got, rev, raw := etcdKVs(t, v, out)
				if rev != plan.Revision || int64(len(got)) != plan.Keys {
					t.Errorf("etcd %s: revision %d, %d keys; the plan said %d, %d keys", v, rev, len(got), plan.Revision, plan.Keys)
				}
				checkAsPlanned(t, got, recordedKVs(t, []byte(in)), plan.LostKeys)
				if t.Failed() {
					t.Logf("etcd answered: %s\nthe plan: %s", raw, stdout)
				}
				if os.Getenv("REPAIR_PLAN") != "" {
					t.Log(stdout)
				}
				t.Logf("%s: %d entries lost, %d keys lost; etcd %s answered revision %d, %d keys, as planned", name, len(plan.Lost), len(plan.LostKeys), v, rev, len(got))
			})
		}
	}
}

// TestRepairBolt: on members of etcd 3.5, 3.6 and 3.7 whose db has a broken
// meta 0 (its checksum, or the whole page zeroed), a corrupted freelist, or
// the newest transaction's root page zeroed, repair bolt writes a db that
// bolt check and inspect pass and real etcd of the same version starts on.
// Where the plan loses no key, etcd answers get "" --prefix with the input
// db's keys exactly; where it goes back a transaction, etcd re-applies what
// the WAL holds past the older consistent index and answers with the keys
// the live server held.
func TestRepairBolt(t *testing.T) {
	for _, v := range etcdtest.Versions {
		for _, name := range []string{"meta0-checksum", "meta0-zeroed", "freelist", "newest-root-zeroed"} {
			t.Run(v+"/"+name, func(t *testing.T) {
				gen, rec := etcdtest.Generate(t, v, etcdtest.GenOptions{})
				src := fixture.CopyDir(t, gen)
				db := filepath.Join(src, "member", "snap", "db")
				if name == "freelist" {
					fixture.PersistFreelist(t, db) // etcd writes no freelist page
				}
				in, _, code := run(t, "mvcc", "range", db, "", "--prefix", "-w", "json")
				if code != ExitOK {
					t.Fatalf("mvcc range on the input: exit %d", code)
				}
				metas := boltMetas(t, db)
				newest := metas[0]
				if metas[1].TxID > newest.TxID {
					newest = metas[1]
				}
				switch name {
				case "meta0-checksum":
					fixture.FlipBit(t, db, 16+56, 0)
				case "meta0-zeroed":
					fixture.Zero(t, db, 0, 4096)
				case "freelist":
					if newest.Freelist == boltfmt.NoFreelist {
						t.Fatal("bbolt wrote no freelist page")
					}
					// A count of ids past the page, and ids past the high-water mark.
					fixture.WriteAt(t, db, int64(newest.Freelist)*4096+16, bytes.Repeat([]byte{0xee}, 64))
				case "newest-root-zeroed":
					fixture.Zero(t, db, int64(newest.Root)*4096, 4096)
				}
				if _, _, code := run(t, "bolt", "check", db); code != ExitFindings {
					t.Fatalf("bolt check on the damaged db: exit %d, want %d", code, ExitFindings)
				}
				defer etcdtest.RequireUnchanged(t, src)()
				out := filepath.Join(t.TempDir(), "db")
				stdout, errOut, code := run(t, "repair", "bolt", src, "--out", out, "--dry-run", "-w", "json")
				if code != ExitFindings { // the input is damaged: the dry run says so, as inspect does
					t.Fatalf("dry run: exit %d: %s", code, errOut)
				}
				var plan struct {
					OnStart *struct {
						Revision int64 `json:"revision"`
						Keys     int64 `json:"keys"`
					} `json:"on_start"`
					Reverted *struct{ TxID uint64 } `json:"reverted"`
					LostKeys []json.RawMessage      `json:"changed_keys"`
					Freelist string                 `json:"freelist"`
				}
				if err := json.Unmarshal([]byte(stdout), &plan); err != nil {
					t.Fatalf("%v: %s", err, stdout)
				}
				if _, err := os.Stat(out); err == nil {
					t.Fatal("the dry run wrote its output")
				}
				if (plan.Reverted != nil) != (name == "newest-root-zeroed") || (name == "freelist" && plan.Freelist != "rebuilt") {
					t.Errorf("the plan: %s", stdout)
				}
				if _, errOut, code := run(t, "repair", "bolt", src, "--out", out); code != ExitOK {
					t.Fatalf("exit %d: %s", code, errOut)
				}
				if stdout, _, code := run(t, "bolt", "check", out); code != ExitOK {
					t.Fatalf("bolt check on the repaired db: exit %d:\n%s", code, stdout)
				}
				// The member with the repaired db.
				member := fixture.CopyDir(t, src)
				os.Remove(filepath.Join(member, "member", "snap", "db"))
				if err := os.Link(out, filepath.Join(member, "member", "snap", "db")); err != nil {
					t.Fatal(err)
				}
				if stdout, _, code := run(t, "inspect", member); code != ExitOK {
					t.Fatalf("inspect with the repaired db: exit %d:\n%s", code, stdout)
				}
				got, rev, raw := etcdKVs(t, v, member)
				if plan.Reverted != nil && plan.OnStart == nil {
					t.Errorf("the plan reverts a transaction but does not say what etcd applies again on start: %s", stdout)
				}
				if s := plan.OnStart; s != nil && (rev != s.Revision || int64(len(got)) != s.Keys) {
					t.Errorf("etcd %s answered revision %d, %d keys; the plan said it would reach revision %d, %d keys on start", v, rev, len(got), s.Revision, s.Keys)
				}
				want := recordedKVs(t, []byte(in))
				if plan.Reverted != nil {
					want = recordedKVs(t, rec.Point(etcdtest.PointFinal).Get)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("etcd %s with the repaired db answered %s\nthe plan: %s", v, raw, stdout)
				}
				t.Logf("%s: freelist %s, reverted %v, %d keys changed; etcd %s answered %d keys", name, plan.Freelist, plan.Reverted != nil, len(plan.LostKeys), v, len(got))
			})
		}
	}
}

// boltMetas reads both metas of a db.
func boltMetas(t *testing.T, path string) [2]boltfmt.Meta {
	t.Helper()
	db, err := boltfmt.Open(path, boltfmt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return db.Metas
}

// TestRepairSalvageZeroedLeaf: on members of etcd 3.5, 3.6 and 3.7 whose db
// has its last key-bucket leaf page zeroed (the newest revisions), repair
// salvage writes a db that bolt check and inspect pass and real etcd of the
// same version starts on. The plan names the revisions of which no record
// is left and, from the WAL, the keys whose state is lost; etcd answers get
// "" --prefix with the live server's keys but those, which are as the plan
// says.
func TestRepairSalvageZeroedLeaf(t *testing.T) {
	for _, v := range etcdtest.Versions {
		t.Run(v, func(t *testing.T) {
			gen, rec := etcdtest.Generate(t, v, etcdtest.GenOptions{})
			src := fixture.CopyDir(t, gen)
			db := filepath.Join(src, "member", "snap", "db")
			leaf := lastKeyLeaf(t, db)
			fixture.Zero(t, db, int64(leaf)*4096, 4096)
			defer etcdtest.RequireUnchanged(t, src)()
			out := filepath.Join(t.TempDir(), "db")
			stdout, errOut, code := run(t, "repair", "salvage", src, "--out", out, "-w", "json")
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var plan struct {
				Missing       []struct{ From, To int64 } `json:"missing_revisions"`
				Revision      int64                      `json:"revision"`
				Keys          int64                      `json:"keys"`
				KnowsLostKeys bool                       `json:"knows_lost_keys"`
				LostKeys      []planKey                  `json:"lost_keys"`
			}
			if err := json.Unmarshal([]byte(stdout), &plan); err != nil {
				t.Fatalf("%v: %s", err, stdout)
			}
			if len(plan.Missing) == 0 || !plan.KnowsLostKeys || len(plan.LostKeys) == 0 {
				t.Fatalf("the plan names no missing revision or lost key: %s", stdout)
			}
			if stdout, _, code := run(t, "bolt", "check", out); code != ExitOK {
				t.Fatalf("bolt check on the salvaged db: exit %d:\n%s", code, stdout)
			}
			member := fixture.CopyDir(t, src)
			os.Remove(filepath.Join(member, "member", "snap", "db"))
			if err := os.Link(out, filepath.Join(member, "member", "snap", "db")); err != nil {
				t.Fatal(err)
			}
			if stdout, _, code := run(t, "inspect", member); code != ExitOK {
				t.Fatalf("inspect with the salvaged db: exit %d:\n%s", code, stdout)
			}
			got, rev, raw := etcdKVs(t, v, member)
			if rev != plan.Revision || int64(len(got)) != plan.Keys {
				t.Errorf("etcd %s: revision %d, %d keys; the plan said %d, %d keys", v, rev, len(got), plan.Revision, plan.Keys)
			}
			checkAsPlanned(t, got, recordedKVs(t, rec.Point(etcdtest.PointFinal).Get), plan.LostKeys)
			if t.Failed() {
				t.Logf("etcd answered %s\nthe plan: %s", raw, stdout)
			}
			t.Logf("page %d zeroed: %d revision ranges missing, %d keys lost; etcd %s answered revision %d, %d keys, as planned", leaf, len(plan.Missing), len(plan.LostKeys), v, rev, len(got))
		})
	}
}

// lastKeyLeaf is the page id of the last leaf of etcd's key bucket.
func lastKeyLeaf(t *testing.T, path string) boltfmt.PageID {
	t.Helper()
	db, err := boltfmt.Open(path, boltfmt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var last boltfmt.PageID
	_, err = db.Walk(boltfmt.WalkOptions{NoFreelist: true, Bucket: []string{"key"}, Leaf: func(b *boltfmt.BucketInfo, page boltfmt.PageID, _ *boltfmt.LeafElement) bool {
		if b.Name() == "key" && b.Root != 0 {
			last = page
		}
		return true
	}})
	if err != nil || last == 0 {
		t.Fatalf("no leaf page of the key bucket: %v", err)
	}
	return last
}

// planKey is a key a repair's plan lists as lost, and its state after.
type planKey struct {
	Key   []byte `json:"key"`
	After *struct {
		ModRevision int64 `json:"mod_revision"`
	} `json:"after"`
}

// checkAsPlanned checks etcd's answer (got) against want, the kvs the
// member held: equal but for the keys the plan lists as lost, which must be
// as the plan says (absent, or at its mod revision), and no other missing.
func checkAsPlanned(t *testing.T, got, want []map[string]any, planned []planKey) {
	t.Helper()
	lost := map[string]int64{} // base64 key -> mod revision after; -1 absent
	for _, k := range planned {
		kk, _ := json.Marshal(k.Key)
		key := strings.Trim(string(kk), `"`)
		lost[key] = -1
		if k.After != nil {
			lost[key] = k.After.ModRevision
		}
	}
	byKey := map[string]map[string]any{}
	for _, kv := range want {
		byKey[kv["key"].(string)] = kv
	}
	seen := map[string]bool{}
	for _, kv := range got {
		key := kv["key"].(string)
		seen[key] = true
		if after, ok := lost[key]; ok {
			if mod, _ := kv["mod_revision"].(float64); int64(mod) != after {
				t.Errorf("lost key %s: etcd has mod revision %v, the plan said %d", key, kv["mod_revision"], after)
			}
		} else if !reflect.DeepEqual(kv, byKey[key]) {
			t.Errorf("key %s: etcd has %v, the member held %v, and the plan does not list it as lost", key, kv, byKey[key])
		}
	}
	for key := range byKey {
		if _, ok := lost[key]; !ok && !seen[key] {
			t.Errorf("key %s is missing, and the plan does not list it as lost", key)
		}
	}
	for key, after := range lost {
		if after >= 0 && !seen[key] {
			t.Errorf("lost key %s: the plan says it stays (mod %d), etcd does not have it", key, after)
		}
	}
}

// TestRepairRefusesAnInputItDoesNotTake: repair wal of a lone WAL, and
// the repairs of a db of a path that holds none, are usage errors that
// point at the command's help.
func TestRepairRefusesAnInputItDoesNotTake(t *testing.T) {
	walDir := filepath.Join(etcdtest.SampleDir(t), "member", "wal")
	for verb, want := range map[string]string{"wal": "not a lone WAL", "bolt": "holds no db", "salvage": "holds no db"} {
		_, errOut, code := run(t, "repair", verb, walDir, "--out", filepath.Join(t.TempDir(), "out"), "--dry-run")
		if code != ExitTrouble || !strings.Contains(errOut, want) || !strings.Contains(errOut, "(see etcdscope repair "+verb+" --help)") {
			t.Errorf("repair %s of a wal dir: exit %d, %q; want exit %d, %q and the command's help", verb, code, errOut, ExitTrouble, want)
		}
	}
}
