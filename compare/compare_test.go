package compare_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/storage/wal"
	"go.etcd.io/etcd/server/v3/storage/wal/walpb"
	"go.uber.org/zap"

	"github.com/etcdscope/etcdscope/compare"
	"github.com/etcdscope/etcdscope/finding"
	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/fixture"
	"github.com/etcdscope/etcdscope/walfmt"
)

// caughtUp waits until member m has applied what the leader has.
func caughtUp(t *testing.T, cli *clientv3.Client, leader, m *etcdtest.Member) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Minute); ; {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ls, err1 := cli.Status(ctx, leader.ClientURL)
		fs, err2 := cli.Status(ctx, m.ClientURL)
		cancel()
		if err1 == nil && err2 == nil && fs.RaftAppliedIndex >= ls.RaftAppliedIndex {
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(m.LogPath)
			if len(log) > 4000 {
				log = log[len(log)-4000:]
			}
			t.Fatalf("%s did not catch up with %s: %v %v; %v %v; its log ends:\n%s", m.Name, leader.Name, ls, err1, fs, err2, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cluster runs a real 3-member cluster through a history with a
// compaction, a member (m3) lagging so far that the leader sends it a
// snapshot, and m3 stopped early: 50 puts later than it, m1 and m2 stop.
// It returns the three data dirs and how many revisions m3 missed.
func cluster(t *testing.T, v string) ([]string, int64) {
	ms := etcdtest.StartCluster(t, etcdtest.Binaries(t, v), 3, etcdtest.MemberOptions{SnapshotCount: 100, WALSegmentBytes: 64 << 10})
	cli := ms[0].Client(t)
	etcdtest.PutMany(t, cli, "/pre", 300)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := cli.Get(ctx, "/pre", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Compact(ctx, r.Header.Revision-100, clientv3.WithCompactPhysical()); err != nil {
		t.Fatal(err)
	}
	lag := ms[2]
	lag.Stop(t)
	etcdtest.PutMany(t, cli, "/lag", 5600) // beyond the leader's 5,000 catch-up entries
	lag.StartBehind(t)
	etcdtest.PutMany(t, cli, "/after", 100)
	caughtUp(t, cli, ms[0], lag)
	etcdtest.PutMany(t, cli, "/caught-up", 50) // in every member's log after m3's gap
	caughtUp(t, cli, ms[0], lag)
	caughtUp(t, cli, ms[0], ms[1])
	lag.Stop(t)
	before, err := cli.Get(ctx, "/late", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if err := etcdtest.Put(cli, fmt.Sprintf("/late/%02d", i), "late"); err != nil {
			t.Fatal(err)
		}
	}
	after, err := cli.Get(ctx, "/late", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	caughtUp(t, cli, ms[0], ms[1])
	ms[1].Stop(t)
	ms[0].Stop(t)
	return []string{ms[0].DataDir, ms[1].DataDir, ms[2].DataDir}, after.Header.Revision - before.Header.Revision
}

func codes(rep *finding.Report, code string) []finding.Finding {
	var out []finding.Finding
	for _, f := range rep.Findings {
		if f.Code == code {
			out = append(out, f)
		}
	}
	return out
}

func errorsOf(rep *finding.Report) []string {
	var out []string
	for _, f := range rep.Findings {
		if f.Severity == finding.Error {
			out = append(out, f.Code+": "+f.Message)
		}
	}
	return out
}

// TestCompareRealClusters: on real 3-member clusters of etcd 3.5, 3.6 and
// 3.7, a healthy cluster (one member caught up through a leader snapshot,
// then stopped early) gives no error and names the member behind, by how
// much; a db with one value rewritten in place is named with that revision
// and key; a WAL with one entry altered and its CRCs recomputed (etcd's
// own reader accepts it) is named at that index. No input is changed.
func TestCompareRealClusters(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 3-member clusters")
	}
	for _, v := range etcdtest.Versions {
		t.Run(v, func(t *testing.T) {
			dirs, missed := cluster(t, v)
			unchanged := etcdtest.RequireUnchanged(t, dirs...)
			healthy(t, dirs, missed)
			unchanged()
			rewrittenValue(t, dirs)
			alteredEntry(t, dirs)
			unchanged()
		})
	}
}

func healthy(t *testing.T, dirs []string, missed int64) {
	res, err := compare.Run(dirs, compare.Options{SelfCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	if errs := errorsOf(&res.Report); len(errs) > 0 {
		t.Errorf("healthy cluster: %d errors:\n%s", len(errs), strings.Join(errs, "\n"))
	}
	m1, m3 := res.Members[0], res.Members[2]
	if len(m3.Gaps) == 0 {
		t.Errorf("m3's WAL has no gap: it should have one where it installed the leader's snapshot")
	}
	if got := m1.Revision - m3.Revision; got != missed || missed < 50 {
		t.Errorf("m3 is %d revisions behind m1, want %d (at least 50)", got, missed)
	}
	var top uint64 // a leader change may have left m2 ahead of m1
	for _, m := range res.Members {
		top = max(top, m.Commit, m.Applied)
	}
	var named bool
	for _, f := range codes(&res.Report, compare.CodeBehind) {
		if *f.Member == dirs[2] {
			named = true
			want := fmt.Sprintf("%d entries behind", top-max(m3.Commit, m3.Applied))
			if wantRevs := fmt.Sprintf("%d revisions behind", missed); !strings.Contains(f.Message, want) || !strings.Contains(f.Message, wantRevs) {
				t.Errorf("m3 behind: %q, want %q and %q", f.Message, want, wantRevs)
			}
		}
	}
	if !named {
		t.Errorf("m3, stopped early, is not reported behind: %+v", res.Findings)
	}
	if res.HashRevision != m3.Revision || m1.Hash == nil || m3.Hash == nil || *m1.Hash != *m3.Hash {
		t.Errorf("hashes at revision %d: m1 %v, m3 %v", res.HashRevision, m1.Hash, m3.Hash)
	}
	if !strings.HasPrefix(m1.SelfCheck, "ok") || !strings.HasPrefix(res.Members[1].SelfCheck, "ok") {
		t.Errorf("self-check: m1 %q, m2 %q", m1.SelfCheck, res.Members[1].SelfCheck)
	}
	t.Logf("m3: %s; hash %d at (%d, %d)", m3.SelfCheck, *m1.Hash, res.HashCompactRevision, res.HashRevision)
	var rec *compare.Advice
	for i, a := range res.Advice {
		if a.Recommended {
			rec = &res.Advice[i]
		}
	}
	if rec == nil || rec.Dir == dirs[2] || rec.LostEntries != 0 || rec.LostRevisions != 0 {
		t.Errorf("recommended recovery: %+v", rec)
	}
}

// rewrittenValue rewrites, in a copy of m2's db, the value of one revision
// that every member holds, in place.
func rewrittenValue(t *testing.T, dirs []string) {
	m2 := fixture.CopyDir(t, dirs[1])
	path := filepath.Join(m2, "member", "snap", "db")
	res0, err := compare.Run(dirs, compare.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rev := res0.HashRevision - 60 // one of the /after puts
	key, _ := fixture.RewriteValue(t, path, rev)

	res, err := compare.Run([]string{dirs[0], m2, dirs[2]}, compare.Options{SelfCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	ms := codes(&res.Report, compare.CodeHashMismatch)
	if len(ms) != 1 || *ms[0].Member != m2 || ms[0].Revision == nil || *ms[0].Revision != rev || !strings.Contains(ms[0].Message, fmt.Sprintf("%q", key)) {
		t.Errorf("a value rewritten at revision %d (key %q): want one member-hash-mismatch naming %s, that revision and key; got %+v", rev, key, m2, ms)
	} else {
		t.Logf("%s", ms[0].Message)
	}
	if sc := codes(&res.Report, compare.CodeDBLogMismatch); len(sc) != 1 || *sc[0].Member != m2 || sc[0].Revision == nil || *sc[0].Revision != rev {
		t.Errorf("self-check: want one member-db-log-mismatch for %s at revision %d, got %+v", m2, rev, sc)
	}
	if len(codes(&res.Report, compare.CodeLogDivergence)) != 0 {
		t.Errorf("the logs are intact, yet a divergence is reported")
	}
}

// alteredEntry alters one put's value in a copy of m2's WAL, at an index
// every member holds as committed, and recomputes every CRC after it.
func alteredEntry(t *testing.T, dirs []string) {
	res0, err := compare.Run(dirs, compare.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m2 := fixture.CopyDir(t, dirs[1])
	walDir := filepath.Join(m2, "member", "wal")
	// The last put at least 20 entries before m3's commit and after its
	// gap: every member holds it as committed (a leader change puts empty
	// entries in between, so look).
	m3 := res0.Members[2]
	var after uint64
	if n := len(m3.Gaps); n > 0 {
		after = m3.Gaps[n-1][1]
	}
	var target uint64
	files, err := walfmt.OpenPath(walDir)
	if err != nil {
		t.Fatal(err)
	}
	for r := walfmt.NewReader(files.Segments, walfmt.Options{}); ; {
		f, err := r.Next()
		if err != nil {
			break
		}
		if e := f.Entry; e != nil && e.Index > after && e.Index <= m3.Commit-20 && len(e.Data) > 0 {
			if req, err := walfmt.DecodeRequest(e.Data); err == nil && req.Put != nil {
				target = e.Index
			}
		}
	}
	files.Close()
	if target == 0 {
		t.Fatal("no put to alter")
	}
	var oldData, newData []byte
	n := fixture.RewriteWAL(t, walDir, func(e walfmt.Entry) []byte {
		if e.Index != target {
			return nil
		}
		r, err := walfmt.DecodeRequest(e.Data)
		if err != nil || r.Put == nil {
			t.Fatalf("entry %d is not a put: %v", target, err)
		}
		at := bytes.LastIndex(e.Data, r.Put.Value)
		oldData, newData = e.Data, bytes.Clone(e.Data)
		newData[at+len(r.Put.Value)-1] ^= 0x01
		return newData
	})
	if n != 1 {
		t.Fatalf("altered %d entries, want 1", n)
	}
	// etcd's own reader accepts the forgery, and walfmt finds no problem
	// (wal verify passes).
	w, err := wal.OpenForRead(zap.NewNop(), walDir, &walpb.Snapshot{})
	if err != nil {
		t.Fatal(err)
	}
	_, _, ents, err := w.ReadAll()
	w.Close()
	if err != nil {
		t.Fatalf("etcd's ReadAll refuses the altered WAL: %v", err)
	}
	for _, e := range ents {
		if e.GetIndex() == target && (!bytes.Equal(e.GetData(), newData) || bytes.Equal(e.GetData(), oldData)) {
			t.Fatalf("etcd reads entry %d as %q", target, e.GetData())
		}
	}
	files, err = walfmt.OpenPath(walDir)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := walfmt.Summarize(walfmt.NewReader(files.Segments, walfmt.Options{}), nil)
	files.Close()
	if err != nil || len(sum.Problems) > 0 {
		t.Fatalf("the altered WAL does not verify: %v %v", err, sum.Problems)
	}

	res, err := compare.Run([]string{dirs[0], m2, dirs[2]}, compare.Options{SelfCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	ds := codes(&res.Report, compare.CodeLogDivergence)
	if len(ds) != 1 || *ds[0].Member != m2 || ds[0].Index == nil || *ds[0].Index != target {
		t.Errorf("entry %d altered in %s: want one member-log-divergence there naming it, got %+v", target, m2, ds)
	} else {
		t.Logf("%s", ds[0].Message)
	}
}
