package etcdtest

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/etcdscope/etcdscope/internal/etcdrelease"
)

var regenSample = flag.Bool("regen-sample", false, "rewrite testdata/sample with etcd "+SampleVersion)

// wantRevisions are the revisions after each step, as documented in doc.go.
var wantRevisions = map[string]int64{
	"values":     8,
	"overwrites": 14,
	"deletes":    21,
	"fill-1":     121,
	"compaction": 121,
	"txns":       126,
	"leases":     133,
	"fill-2":     333,
	"auth":       337,
}

func TestGenerate(t *testing.T) {
	for _, v := range Versions {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			dataDir, rec := Generate(t, v, GenOptions{})
			checkDataDir(t, dataDir, 3, 3)
			checkRecording(t, rec, v)
			if _, err := os.Stat(filepath.Join(filepath.Dir(dataDir), "recording.json")); err != nil {
				t.Errorf("recording.json beside the data dir: %v", err)
			}

			// The data dir restarts, and the restarted member answers what
			// the recording says.
			m := StartMember(t, Binaries(t, v), MemberOptions{DataDir: dataDir, Auth: "root:" + RootPassword})
			final := rec.Point(PointFinal)
			r := strconv.FormatInt(final.Revision, 10)
			if got, want := kvs(t, m.Ctl(t, "get", "", "--prefix", "--rev", r, "-w", "json")), kvs(t, final.Get); got != want {
				t.Errorf("after restart, get --rev %s differs from the recording:\n got %.300s\nwant %.300s", r, got, want)
			}
			for _, p := range rec.Points {
				if p.Revision == rec.CompactRevision {
					// Served from the compaction's in-memory hash before
					// the restart, computed afresh after it; see Point.
					continue
				}
				r := strconv.FormatInt(p.Revision, 10)
				if got, want := hashKV(t, m.Ctl(t, "endpoint", "hashkv", "--rev", r, "-w", "json")), hashKV(t, p.HashKV); got != want {
					t.Errorf("after restart, hashkv at %s (%s) = %+v, recorded %+v", p.Name, r, got, want)
				}
			}
			m.Stop(t)
		})
	}
}

// checkDataDir checks the layout of a generated data dir.
func checkDataDir(t *testing.T, dataDir string, minWALs, minSnaps int) {
	t.Helper()
	wals, _ := filepath.Glob(filepath.Join(dataDir, "member", "wal", "*.wal"))
	snaps, _ := filepath.Glob(filepath.Join(dataDir, "member", "snap", "*.snap"))
	if len(wals) < minWALs {
		t.Errorf("%d WAL segments %v, want at least %d", len(wals), wals, minWALs)
	}
	if len(snaps) < minSnaps {
		t.Errorf("%d .snap files %v, want at least %d", len(snaps), snaps, minSnaps)
	}
	if st, err := os.Stat(filepath.Join(dataDir, "member", "snap", "db")); err != nil || st.Size() == 0 {
		t.Errorf("member/snap/db: %v", err)
	}
	t.Logf("%d WAL segments, %d .snap files", len(wals), len(snaps))
}

func checkRecording(t *testing.T, rec *Recording, version string) {
	t.Helper()
	if rec.WorkloadVersion != WorkloadVersion || rec.Version != version {
		t.Errorf("recording of workload %d on %s, want %d on %s", rec.WorkloadVersion, rec.Version, WorkloadVersion, version)
	}
	if !strings.HasPrefix(rec.ServerVersion, version+".") {
		t.Errorf("server version %q, want %s.x", rec.ServerVersion, version)
	}
	for step, want := range wantRevisions {
		if got := rec.Revisions[step]; got != want {
			t.Errorf("revision after %s = %d, want %d (update doc.go if the workload changed)", step, got, want)
		}
	}
	if rec.CompactRevision != wantRevisions["deletes"] || rec.Revision != wantRevisions["auth"] {
		t.Errorf("compact revision %d, revision %d", rec.CompactRevision, rec.Revision)
	}
	if rec.RaftIndex < uint64(rec.Revision) {
		t.Errorf("raft index %d below revision %d", rec.RaftIndex, rec.Revision)
	}
	var names []string
	above := 0
	for _, p := range rec.Points {
		names = append(names, p.Name)
		if p.Revision > rec.CompactRevision && p.Name != PointFinal {
			above++
		}
		var get struct {
			Header struct{ Revision int64 } `json:"header"`
			Kvs    []struct{ Key []byte }   `json:"kvs"`
			Count  int64                    `json:"count"`
		}
		if err := json.Unmarshal(p.Get, &get); err != nil {
			t.Errorf("point %s: get: %v", p.Name, err)
		}
		if get.Header.Revision != rec.Revision || get.Count == 0 || int64(len(get.Kvs)) != get.Count {
			t.Errorf("point %s: get header revision %d, count %d, %d kvs", p.Name, get.Header.Revision, get.Count, len(get.Kvs))
		}
		h := hashKV(t, p.HashKV)
		wantCompact := rec.CompactRevision
		if p.Revision == rec.CompactRevision {
			wantCompact = -1 // see Point
		}
		// etcd 3.5's HashKVResponse has no hash_revision.
		if h.Hash == 0 || (h.HashRevision != p.Revision && !(version == "3.5" && h.HashRevision == 0)) || h.CompactRevision != wantCompact {
			t.Errorf("point %s at %d: hashkv %+v, want compact revision %d", p.Name, p.Revision, h, wantCompact)
		}
	}
	if got := strings.Join(names, ","); got != "compacted,after-fill-1,after-txns,after-leases,final" {
		t.Errorf("points %s", got)
	}
	if above < 3 {
		t.Errorf("%d older points above the compaction revision, want 3", above)
	}
	for name, raw := range map[string]json.RawMessage{"member list": rec.MemberList, "lease list": rec.LeaseList, "endpoint status": rec.EndpointStatus} {
		if len(raw) == 0 {
			t.Errorf("%s not recorded", name)
		}
	}
	var leases struct {
		Leases []struct{ ID int64 } `json:"leases"`
	}
	if err := json.Unmarshal(rec.LeaseList, &leases); err != nil || len(leases.Leases) != 1 || leases.Leases[0].ID != LeaseKeptAlive {
		t.Errorf("lease list %s (%v), want only %#x", rec.LeaseList, err, LeaseKeptAlive)
	}
}

// kvs returns the kvs of an etcdctl get -w json output, re-encoded.
func kvs(t *testing.T, out []byte) string {
	t.Helper()
	var v struct {
		Kvs json.RawMessage `json:"kvs"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("get output: %v", err)
	}
	var buf bytes.Buffer
	json.Compact(&buf, v.Kvs)
	return buf.String()
}

type hashResult struct {
	Hash            uint32 `json:"hash"`
	CompactRevision int64  `json:"compact_revision"`
	HashRevision    int64  `json:"hash_revision"`
}

// hashKV decodes an etcdctl endpoint hashkv -w json output.
func hashKV(t *testing.T, out []byte) hashResult {
	t.Helper()
	var v []struct {
		HashKV hashResult `json:"HashKV"`
	}
	if err := json.Unmarshal(out, &v); err != nil || len(v) != 1 {
		t.Fatalf("hashkv output %.200s: %v", out, err)
	}
	return v[0].HashKV
}

func TestValue(t *testing.T) {
	if got := Value("k", 0, 0); len(got) != 0 {
		t.Errorf("Value(k, 0, 0) = %x", got)
	}
	a, b := Value("/data/v64k", 0, 64<<10), Value("/data/v64k", 1, 64<<10)
	if len(a) != 64<<10 || a[0] != 0xff || bytes.Equal(a, b) || !bytes.Equal(a, Value("/data/v64k", 0, 64<<10)) {
		t.Errorf("Value is not deterministic, sized and varied")
	}
	// Pinned, so that a change to the generator is noticed.
	if got := fmt.Sprintf("%x", Value("/data/v0100", 1, 8)); got != "ffc7abeeea6e989f" {
		t.Errorf("Value(/data/v0100, 1, 8) = %s, want ffc7abeeea6e989f", got)
	}
}

func TestCopyTreeAndRequireUnchanged(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	if err := os.MkdirAll(filepath.Join(src, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 3*4096+100)
	copy(data[5000:], "middle")
	data[len(data)-1] = 1
	if err := os.WriteFile(filepath.Join(src, "sub", "f"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "zeros"), make([]byte, 10000), 0o644); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "dst")
	if err := CopyTree(src, dst); err != nil {
		t.Fatal(err)
	}
	hs, hd := HashTree(t, src), HashTree(t, dst)
	if len(hs) != 2 || fmt.Sprint(hs) != fmt.Sprint(hd) {
		t.Errorf("copy differs:\n%v\n%v", hs, hd)
	}
	for _, rel := range []string{"sub/f", "zeros", "sub"} {
		a, _ := os.Stat(filepath.Join(src, rel))
		b, _ := os.Stat(filepath.Join(dst, rel))
		if a.Mode() != b.Mode() || (!a.IsDir() && a.Size() != b.Size()) {
			t.Errorf("%s: %v %d, copy %v %d", rel, a.Mode(), a.Size(), b.Mode(), b.Size())
		}
	}

	// Unchanged passes; a changed byte, a new file and a mode change fail.
	RequireUnchanged(t, dst)()
	ft := &fakeTB{TB: t}
	check := RequireUnchanged(ft, dst, filepath.Join(dst, "zeros"))
	f, err := os.OpenFile(filepath.Join(dst, "zeros"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{0}, 10) // same byte: caught by the mtime
	f.Close()
	os.WriteFile(filepath.Join(dst, "new"), nil, 0o644)
	os.Chmod(filepath.Join(dst, "sub", "f"), 0o644)
	check()
	if len(ft.errs) < 4 {
		t.Errorf("RequireUnchanged reported %d changes, want at least 4:\n%s", len(ft.errs), strings.Join(ft.errs, "\n"))
	}
}

type fakeTB struct {
	testing.TB
	errs []string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}

// TestRegenerateSample rewrites testdata/sample and
// testdata/sample.recording.json from scratch with etcd SampleVersion.
// It runs only with -regen-sample.
func TestRegenerateSample(t *testing.T) {
	if !*regenSample {
		t.Skip("run with -regen-sample to rewrite testdata/sample")
	}
	bins := Binaries(t, SampleVersion)
	opts := GenOptions{}.withDefaults()
	tmp := filepath.Join(t.TempDir(), "sample")
	m := StartMember(t, bins, MemberOptions{
		Name:            "sample",
		DataDir:         tmp,
		SnapshotCount:   opts.SnapshotCount,
		WALSegmentBytes: opts.WALSegmentBytes,
	})
	rec := RunWorkload(t, m)
	m.Stop(t)
	checkDataDir(t, tmp, 3, 3)
	checkRecording(t, rec, SampleVersion)
	if t.Failed() {
		t.FailNow()
	}

	dir, recPath := SampleDir(t), SampleRecordingPath(t)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	os.Remove(recPath)
	if err := CopyTree(tmp, dir); err != nil {
		t.Fatal(err)
	}
	if err := CopyTree(RecordingPath(tmp), recPath); err != nil {
		t.Fatal(err)
	}
	// git keeps only the executable bit; make the checked-in modes what a
	// checkout gives.
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil {
			if d.IsDir() {
				os.Chmod(p, 0o755)
			} else {
				os.Chmod(p, 0o644)
			}
		}
		return nil
	})
	os.Chmod(recPath, 0o644)
	readme := fmt.Sprintf(sampleReadme, rec.ServerVersion, rec.SnapshotCount, rec.WALSegmentBytes,
		rec.WorkloadVersion, rec.CompactRevision, rec.Revision, rec.RaftIndex)
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte(readme), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s and %s", dir, recPath)
}

const sampleReadme = `# testdata/sample

A real etcd data dir, written by etcd %s (a single member named
"sample", --snapshot-count %d, WAL segments of %d bytes, --max-wals 0
--max-snapshots 0) running the etcdtest workload version %d: puts of 0 B to
64 KiB non-UTF-8 values, overwrites, single and prefix deletes, a compaction
at revision %d, success, failure and nested txns, leases (revoked, kept
alive, expired), a few hundred filler puts, and auth (users root and alice,
roles root and reader) with puts as root after auth was enabled. The exact
workload is described in internal/etcdtest/doc.go. The final revision is %d
and the last raft index reported by etcd is %d.

What the live server answered (etcdctl get, endpoint hashkv, member list,
lease list, endpoint status, all -w json) is in
../sample.recording.json. At the "compacted" point (the compaction
revision itself) the recorded hashkv is the hash the compaction kept in
memory, with compact_revision -1; a restarted etcd computes a different one
there (see etcdtest.Point). The other points are reproducible offline.

This README is the only file here that etcd did not write. File modes were
set to 0644 and 0755, as a git checkout gives them (etcd writes 0600 and
0700). member/snap/db is mostly zero padding (bbolt grows the file in
16 MiB steps); it compresses to almost nothing.

Regenerate everything (this dir and ../sample.recording.json) with

    go test ./internal/etcdtest -run TestRegenerateSample -regen-sample

Tests must not modify these files; copy them first (etcdtest.CopyTree).
`

// TestSample checks the committed sample against its recording, without
// running etcd.
func TestSample(t *testing.T) {
	dir := SampleDir(t)
	defer RequireUnchanged(t, dir, SampleRecordingPath(t))()
	checkDataDir(t, dir, 3, 3)
	rec := SampleRecording(t)
	checkRecording(t, rec, SampleVersion)
}

// TestWrappersPinTestedReleases checks that each wrapper module builds the
// release etcdrelease.Tested names (which etcdscope version prints).
func TestWrappersPinTestedReleases(t *testing.T) {
	for i, rel := range etcdrelease.Tested {
		mod := filepath.Join(RepoRoot(t), "testdata", "etcd", "v"+Versions[i], "go.mod")
		b, err := os.ReadFile(mod)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []string{"server", "etcdctl", "etcdutl"} {
			// Indirect: the module has no package, only these as tools.
			want := "go.etcd.io/etcd/" + m + "/v3 v" + rel
			if !strings.Contains(string(b), want+"\n") && !strings.Contains(string(b), want+" // indirect\n") {
				t.Errorf("%s does not require %s", mod, want)
			}
		}
	}
}
