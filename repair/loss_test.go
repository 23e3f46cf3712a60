package repair_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/fixture"
	"github.com/etcdscope/etcdscope/repair"
	"github.com/etcdscope/etcdscope/replay"
	"github.com/etcdscope/etcdscope/walfmt"
)

// TestLossOfRebuilds: on the data dir each etcd release wrote running the
// workload, a member rebuilt to the raft index of a recorded point (after
// the txns, before any lease was granted; after the leases, before auth
// was enabled) loses, against the member's db, exactly what the recording
// says came after that point: the keys whose state differs between the
// point's get and the final one, the revisions after it, the lease kept
// alive and its keys (when cut before the leases), auth (enabled →
// disabled, users root and alice, roles root and reader); a member
// rebuilt to the last index loses nothing. Real etcd of the same release
// started on each output (and on the member as etcd wrote it) serves the revision and the keys predicted, at
// the raft index predicted; so does the next release started on the
// member rebuilt to the last index.
func TestLossOfRebuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real etcd")
	}
	for _, v := range etcdtest.Versions {
		t.Run(v, func(t *testing.T) {
			dir, rec := etcdtest.Generate(t, v, etcdtest.GenOptions{})
			defer etcdtest.RequireUnchanged(t, dir)()
			files, err := walfmt.OpenPath(filepath.Join(dir, "member", "wal"))
			if err != nil {
				t.Fatal(err)
			}
			defer files.Close()
			index := indexOfRevision(t, files.Segments, rec)
			t.Run("as written", func(t *testing.T) {
				s, err := repair.Serves(dir, repair.ServesOptions{TempDir: t.TempDir()})
				if err != nil {
					t.Fatal(err)
				}
				if s.Revision != rec.Revision || s.Commit != rec.RaftIndex {
					t.Errorf("serves %+v; the recording says revision %d at raft index %d", s, rec.Revision, rec.RaftIndex)
				}
				measureStart(t, v, dir, s, true)
			})
			db := filepath.Join(dir, "member", "snap", "db")
			for _, point := range []string{etcdtest.PointAfterTxns, etcdtest.PointAfterLeases, etcdtest.PointFinal} {
				t.Run(point, func(t *testing.T) {
					p := rec.Point(point)
					out := filepath.Join(t.TempDir(), "out")
					to := index[p.Revision]
					if point == etcdtest.PointFinal {
						to = 0
					}
					res, err := repair.Rebuild(files.Segments, out, repair.RebuildOptions{Replay: replay.Options{ToIndex: to}, Reference: db})
					if err != nil {
						t.Fatal(err)
					}
					l := res.Loss
					if l == nil || l.Problem != "" || l.Serves == nil {
						t.Fatalf("loss %+v", l)
					}
					t.Logf("rebuilt to index %d: %s", res.Replay.AppliedIndex, describeLoss(l))
					if l.Serves.Revision != p.Revision || res.Revision != p.Revision {
						t.Errorf("serves revision %d, plan %d; want the point's %d", l.Serves.Revision, res.Revision, p.Revision)
					}
					if point == etcdtest.PointFinal {
						if !l.None() {
							t.Errorf("a rebuild to the last index loses %s", describeLoss(l))
						}
					} else {
						checkLossAfter(t, l, rec, point, len(res.Dropped))
					}
					measureStart(t, v, out, l.Serves, l.Auth.EnabledAfter)
					if next := nextMinor(v); point == etcdtest.PointFinal && next != "" {
						measureStart(t, next, out, l.Serves, true) // an upgrade: it sets its own cluster version
					}
				})
			}
		})
	}
}

// nextMinor is the release after v that the tests run, or "".
func nextMinor(v string) string {
	if i := slices.Index(etcdtest.Versions, v); i >= 0 && i+1 < len(etcdtest.Versions) {
		return etcdtest.Versions[i+1]
	}
	return ""
}

// indexOfRevision maps each main revision to the raft index of the entry
// that made it, from a replay of the whole log.
func indexOfRevision(t *testing.T, segs []walfmt.Segment, rec *etcdtest.Recording) map[int64]uint64 {
	t.Helper()
	res, err := replay.Run(segs, replay.Options{Out: filepath.Join(t.TempDir(), "full.db")})
	if err != nil {
		t.Fatal(err)
	}
	if res.Revision != rec.Revision {
		t.Fatalf("the replay reaches revision %d, the recording %d", res.Revision, rec.Revision)
	}
	m := map[int64]uint64{}
	for _, p := range res.Provenance() {
		m[p.Revision] = p.Index
	}
	return m
}

// recordedKV is a kv of etcdctl get -w json.
type recordedKV struct {
	Key            []byte `json:"key"`
	CreateRevision int64  `json:"create_revision"`
	ModRevision    int64  `json:"mod_revision"`
	Version        int64  `json:"version"`
}

func recordedKeys(t *testing.T, p *etcdtest.Point) map[string]repair.KeyState {
	t.Helper()
	var get struct {
		KVs []recordedKV `json:"kvs"`
	}
	if err := json.Unmarshal(p.Get, &get); err != nil {
		t.Fatal(err)
	}
	m := map[string]repair.KeyState{}
	for _, kv := range get.KVs {
		m[string(kv.Key)] = repair.KeyState{CreateRevision: kv.CreateRevision, ModRevision: kv.ModRevision, Version: kv.Version}
	}
	return m
}

// checkLossAfter checks a loss against what the recording says came after
// the point the rebuild stopped at.
func checkLossAfter(t *testing.T, l *repair.Loss, rec *etcdtest.Recording, point string, dropped int) {
	t.Helper()
	before, after := recordedKeys(t, rec.Point(etcdtest.PointFinal)), recordedKeys(t, rec.Point(point))
	want := map[string]string{}
	for k, b := range before {
		if a, ok := after[k]; !ok || a != b {
			want[k] = fmt.Sprint(b, after[k])
		}
	}
	for k, a := range after {
		if _, ok := before[k]; !ok {
			want[k] = fmt.Sprint(repair.KeyState{}, a)
		}
	}
	got := map[string]string{}
	for _, d := range l.Keys {
		got[string(d.Key)] = fmt.Sprint(orZero(d.Before), orZero(d.After))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("keys whose state differs:\n got %v\nwant %v", got, want)
	}
	rev := rec.Point(point).Revision
	if r := l.Revisions; len(r.Ranges) != 1 || r.Ranges[0] != (repair.RevRange{From: rev + 1, To: rec.Revision}) || r.Records < rec.Revision-rev {
		t.Errorf("revisions lost %+v, want the records of %d to %d", r, rev+1, rec.Revision)
	}
	a := l.Auth
	if !a.EnabledBefore || a.EnabledAfter || !slices.Equal(a.UsersLost, []string{"alice", "root"}) || !slices.Equal(a.RolesLost, []string{"reader", "root"}) ||
		a.RevisionAfter != 1 || a.RevisionBefore <= 1 {
		t.Errorf("auth loss %+v", a)
	}
	var leases []string
	for _, d := range l.Leases {
		leases = append(leases, fmt.Sprintf("%s %v %v %q", d.ID, d.Before, d.After, d.KeysLost))
	}
	var wantLeases []string
	if point == etcdtest.PointAfterTxns { // the lease kept alive is granted later
		wantLeases = []string{fmt.Sprintf("%016x &{600 2} <nil> [\"/lease/kept-1\" \"/lease/kept-2\"]", etcdtest.LeaseKeptAlive)}
		checkRecordedLeases(t, rec, etcdtest.LeaseKeptAlive)
	}
	if !slices.Equal(leases, wantLeases) {
		t.Errorf("leases lost %q, want %q", leases, wantLeases)
	}
	if l.Entries != dropped || dropped == 0 || len(l.Members) != 0 || len(l.Alarms.Lost)+len(l.Alarms.Added) != 0 ||
		l.ClusterVersion.Before != l.ClusterVersion.After || l.StorageVersion.Before != l.StorageVersion.After {
		t.Errorf("loss %s", describeLoss(l))
	}
}

// checkRecordedLeases checks that the recording's lease list is id alone.
func checkRecordedLeases(t *testing.T, rec *etcdtest.Recording, id int64) {
	t.Helper()
	var list struct {
		Leases []struct {
			ID int64 `json:"id"`
		} `json:"leases"`
	}
	if err := json.Unmarshal(rec.LeaseList, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Leases) != 1 || list.Leases[0].ID != id {
		t.Errorf("the recorded lease list %s, want %#x alone", rec.LeaseList, id)
	}
}

func orZero(s *repair.KeyState) repair.KeyState {
	if s == nil {
		return repair.KeyState{}
	}
	return *s
}

func describeLoss(l *repair.Loss) string {
	var b strings.Builder
	l.Describe(&b, repair.DescribeOptions{})
	return b.String()
}

// measureStart starts real etcd of release v on a copy of the output at
// out, as a user would, and checks that it serves the revision and the
// keys predicted; then, once stopped, that the entries it appended to the
// WAL past the log are those predicted (leaving out the Authenticate
// entries of the clients), and that endpoint status reported the index
// predicted plus those.
func measureStart(t *testing.T, v, out string, s *repair.Served, auth bool) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	if err := etcdtest.CopyTree(out, dir); err != nil {
		t.Fatal(err)
	}
	opts := etcdtest.MemberOptions{DataDir: dir}
	if auth {
		opts.Auth = "root:" + etcdtest.RootPassword
	}
	m := etcdtest.StartMember(t, etcdtest.Binaries(t, v), opts)
	var status []struct {
		Status struct {
			Header struct {
				Revision int64 `json:"revision"`
			} `json:"header"`
			RaftIndex uint64 `json:"raftIndex"`
		} `json:"Status"`
	}
	if err := json.Unmarshal(m.Ctl(t, "endpoint", "status", "-w", "json"), &status); err != nil || len(status) != 1 {
		t.Fatalf("endpoint status: %v", err)
	}
	var count struct {
		Count int64 `json:"count"`
	}
	if err := json.Unmarshal(m.Ctl(t, "get", "", "--prefix", "--keys-only", "-w", "json"), &count); err != nil {
		t.Fatal(err)
	}
	m.Stop(t)
	st := status[0].Status
	if st.Header.Revision != s.Revision || count.Count != s.Keys {
		t.Errorf("etcd %s serves revision %d and %d keys; predicted %d and %d", v, st.Header.Revision, count.Count, s.Revision, s.Keys)
	}
	appended, auths := appendedEntries(t, dir, s.Commit)
	want := predicted(t, s, v)
	if want == nil {
		return
	}
	t.Logf("etcd %s: predicted raft index %d after start (%s); it appended %s, and endpoint status reported %d (%d Authenticate entries before it)",
		v, want.RaftIndex, strings.Join(want.Appends, ", "), strings.Join(appended, ", "), st.RaftIndex, authsBefore(auths, st.RaftIndex))
	if len(appended) != len(want.Appends) || s.Commit+uint64(len(appended)) != want.RaftIndex {
		t.Errorf("etcd %s appended %q past %d, predicted %q", v, appended, s.Commit, want.Appends)
	}
	if st.RaftIndex != want.RaftIndex+authsBefore(auths, st.RaftIndex) {
		t.Errorf("etcd %s reported raft index %d; predicted %d, plus %d Authenticate entries", v, st.RaftIndex, want.RaftIndex, authsBefore(auths, st.RaftIndex))
	}
}

func predicted(t *testing.T, s *repair.Served, v string) *repair.StartIndex {
	t.Helper()
	for i := range s.AfterStart {
		if s.AfterStart[i].Etcd == v {
			return &s.AfterStart[i]
		}
	}
	t.Errorf("no raft index predicted for etcd %s: %+v", v, s.AfterStart)
	return nil
}

// authsBefore counts the Authenticate entries at or below index.
func authsBefore(auths []uint64, index uint64) uint64 {
	n := uint64(0)
	for _, a := range auths {
		if a <= index {
			n++
		}
	}
	return n
}

// appendedEntries reads the WAL etcd left in dir and names the entries
// past index it appended, but for the Authenticate entries of the
// clients, whose indexes it returns apart.
func appendedEntries(t *testing.T, dir string, index uint64) (kinds []string, auths []uint64) {
	t.Helper()
	files, err := walfmt.OpenPath(filepath.Join(dir, "member", "wal"))
	if err != nil {
		t.Fatal(err)
	}
	defer files.Close()
	r := walfmt.NewReader(files.Segments, walfmt.Options{})
	for {
		f, err := r.Next()
		if errors.Is(err, io.EOF) {
			return kinds, auths
		}
		if err != nil {
			t.Fatal(err)
		}
		e := f.Entry
		if e == nil || e.Index <= index {
			continue
		}
		kind := e.Type.String()
		if e.Type == walfmt.EntryNormal {
			req, err := walfmt.DecodeRequest(e.Data)
			if err != nil {
				t.Fatal(err)
			}
			kind = req.Kind
			if req.V2 != nil {
				kind = "v2 " + req.V2.Method + " " + req.V2.Path
			}
		}
		if kind == "authenticate" {
			auths = append(auths, e.Index)
			continue
		}
		kinds = append(kinds, strconv.FormatUint(e.Index, 10)+" "+kind)
	}
}

// TestLossOfTheSampleWALRepair: on the committed sample with two bits
// flipped in an entry before auth was enabled (repair wal flips a single
// one back) and a leaf of the db's key bucket zeroed (so that the WAL
// cannot start from the db), the plan of repair wal says that auth goes
// from enabled to disabled and that users root and alice are lost; real
// etcd started on the repaired member serves the revision the plan
// predicts.
func TestLossOfTheSampleWALRepair(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real etcd")
	}
	src := fixture.CopyDir(t, etcdtest.SampleDir(t))
	segs := fixture.Segments(t, filepath.Join(src, "member", "wal"))
	var entries []fixture.Frame
	for _, f := range fixture.Frames(t, segs[6]) {
		if f.Type == 2 { // walpb.EntryType
			entries = append(entries, f)
		}
	}
	bad := entries[len(entries)/2]
	fixture.FlipBit(t, segs[6], bad.Offset+8+bad.Length-1, 0)
	fixture.FlipBit(t, segs[6], bad.Offset+8+bad.Length-1, 1)
	fixture.Zero(t, filepath.Join(src, "member", "snap", "db"), 49*4096, 4096)
	defer etcdtest.RequireUnchanged(t, src)()
	out := filepath.Join(t.TempDir(), "out")
	var plans []*repair.WALResult
	for _, dry := range []bool{true, false} {
		res, err := repair.WALPath(src, out, nil, repair.WALOptions{DryRun: dry})
		if err != nil {
			t.Fatal(err)
		}
		plans = append(plans, res)
	}
	l := plans[0].Loss
	if l == nil || l.Serves == nil {
		t.Fatalf("no loss in the plan: %+v", plans[0])
	}
	a := l.Auth
	if !a.EnabledBefore || a.EnabledAfter || !slices.Equal(a.UsersLost, []string{"alice", "root"}) {
		t.Errorf("auth loss %+v", a)
	}
	var b strings.Builder
	plans[0].Describe(&b, repair.DescribeOptions{})
	if !strings.Contains(b.String(), "\n  auth: enabled → disabled; users lost: alice, root;") {
		t.Errorf("the plan does not say auth is lost:\n%s", b.String())
	}
	if l.Entries != len(plans[0].Lost) || l.Serves.Revision != plans[0].Revision || !reflect.DeepEqual(plans[1].Loss.Serves, l.Serves) {
		t.Errorf("loss %s; the run's %s", describeLoss(l), describeLoss(plans[1].Loss))
	}
	measureStart(t, etcdtest.SampleVersion, out, l.Serves, false)
}

// TestLossServesTheWholeLogOfALoneVoter: on the committed sample with two
// bits flipped in its last record, the hard state that commits the last
// entry (repair wal flips a single one back), repair wal keeps that entry
// but not the commit; etcd, the cluster's only voter, commits the whole
// log when it starts, so the plan predicts that commit, and the revision
// of the db kept, which already holds the entry, as real etcd then serves
// them.
func TestLossServesTheWholeLogOfALoneVoter(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real etcd")
	}
	src := fixture.CopyDir(t, etcdtest.SampleDir(t))
	segs := fixture.Segments(t, filepath.Join(src, "member", "wal"))
	frames := fixture.Frames(t, segs[6])
	state := frames[len(frames)-1]
	if state.Type != 3 || frames[len(frames)-2].Type != 2 { // walpb.StateType after an EntryType
		t.Fatalf("the sample's WAL does not end with an entry and its hard state: %+v", frames[len(frames)-2:])
	}
	fixture.FlipBit(t, segs[6], state.Offset+8+state.Length-1, 0)
	fixture.FlipBit(t, segs[6], state.Offset+8+state.Length-1, 1)
	defer etcdtest.RequireUnchanged(t, src)()
	out := filepath.Join(t.TempDir(), "out")
	res, err := repair.WALPath(src, out, nil, repair.WALOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Loss.Serves
	if res.Commit != res.LastIndex-1 || s.Commit != res.LastIndex || s.Applied != 0 || s.Revision != res.Revision {
		t.Fatalf("kept %d, commit %d, revision %d; etcd serves %+v", res.LastIndex, res.Commit, res.Revision, s)
	}
	measureStart(t, etcdtest.SampleVersion, out, s, res.Loss.Auth.EnabledAfter)
}

// TestServesTheSample: what real etcd serves from the committed sample
// once restarted on it, as Serves predicts it, and what it reports.
func TestServesTheSample(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real etcd")
	}
	src := etcdtest.SampleDir(t)
	defer etcdtest.RequireUnchanged(t, src)()
	rec := etcdtest.SampleRecording(t)
	s, err := repair.Serves(src, repair.ServesOptions{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if s.Revision != rec.Revision || s.Commit != rec.RaftIndex || s.Applied != 0 || s.Voters != 1 || s.LeasesWithKeys != 1 {
		t.Errorf("the sample serves %+v; the recording says revision %d at raft index %d", s, rec.Revision, rec.RaftIndex)
	}
	measureStart(t, etcdtest.SampleVersion, src, s, true)
}
