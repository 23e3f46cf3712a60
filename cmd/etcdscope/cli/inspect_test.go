package cli

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/fixture"
)

func TestInspectSample(t *testing.T) {
	dir := etcdtest.SampleDir(t)
	defer etcdtest.RequireUnchanged(t, dir)()
	out, errOut, code := run(t, "inspect", dir)
	if code != ExitOK {
		t.Fatalf("inspect sample: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"member:", "wal:", "raft:", "snap:", "db:", "findings: 0 errors"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
}

func TestInspectDamagedWAL(t *testing.T) {
	dir := fixture.CopyDir(t, etcdtest.SampleDir(t))
	seg := middle(t, filepath.Join(dir, "member", "wal"))
	f := entryFrame(t, seg, 0)
	fixture.FlipBit(t, seg, fixture.DataOffset(t, seg, f)+5, 1)
	defer etcdtest.RequireUnchanged(t, dir)()
	out, errOut, code := run(t, "inspect", "-w", "json", dir)
	if code != ExitFindings {
		t.Fatalf("exit %d, want 1\n%s", code, errOut)
	}
	var doc struct {
		MemberID string `json:"member_id"`
		Findings []struct {
			Code   string `json:"code"`
			File   string `json:"file"`
			Offset *int64 `json:"offset"`
		} `json:"findings"`
		Summary struct{ Errors int } `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if doc.MemberID == "" || doc.Summary.Errors != 1 || len(doc.Findings) != 1 ||
		doc.Findings[0].Code != "wal-crc-mismatch" || doc.Findings[0].File != "member/wal/"+filepath.Base(seg) ||
		doc.Findings[0].Offset == nil || *doc.Findings[0].Offset != f.Offset {
		t.Errorf("want exactly one wal-crc-mismatch at %s:%#x, got %s", filepath.Base(seg), f.Offset, out)
	}
}

func TestInspectNotADataDir(t *testing.T) {
	_, errOut, code := run(t, "inspect", t.TempDir())
	if code != ExitTrouble || !strings.Contains(errOut, "--data-dir") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestInspectZeroedKeyPage(t *testing.T) {
	dir := fixture.CopyDir(t, etcdtest.SampleDir(t))
	path := filepath.Join(dir, "member", "snap", "db")
	id, db, _ := pageOf(t, path, "key", boltfmt.LeafPage, nil)
	fixture.Zero(t, path, int64(id)*int64(db.PageSize), int64(db.PageSize))
	defer etcdtest.RequireUnchanged(t, dir)()
	out, errOut, code := run(t, "inspect", "-w", "json", dir)
	if code != ExitFindings {
		t.Fatalf("exit %d, want 1\n%s", code, errOut)
	}
	var doc struct {
		Findings []struct {
			Code string  `json:"code"`
			File string  `json:"file"`
			Page *uint64 `json:"page"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	for _, f := range doc.Findings {
		if f.Code == "bolt-page-invalid" && f.File == "member/snap/db" && f.Page != nil && *f.Page == uint64(id) {
			return
		}
	}
	t.Errorf("no bolt-page-invalid at page %d: %s", id, out)
}

// setConsistentIndex rewrites the db's meta/consistent_index in place (bbolt
// pages carry no checksum, so the db stays structurally sound): the state a
// member is in when its db lags, e.g. after losing a .snap.db it was sent.
func setConsistentIndex(t *testing.T, db string, from, to uint64) {
	t.Helper()
	img, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	old := binary.BigEndian.AppendUint64([]byte("consistent_index"), from)
	n := bytes.Count(img, old)
	if n == 0 {
		t.Fatalf("no consistent_index %d in %s", from, db)
	}
	img = bytes.ReplaceAll(img, old, binary.BigEndian.AppendUint64([]byte("consistent_index"), to))
	if err := os.WriteFile(db, img, 0o600); err != nil {
		t.Fatal(err)
	}
}

func inspectCodes(t *testing.T, dir string) (map[string]bool, int, string) {
	t.Helper()
	defer etcdtest.RequireUnchanged(t, dir)()
	out, errOut, code := run(t, "inspect", "-w", "json", dir)
	if code == ExitTrouble {
		t.Fatalf("inspect exit 2: %s", errOut)
	}
	var doc struct {
		Findings []struct {
			Code, Severity string
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	codes := map[string]bool{}
	for _, f := range doc.Findings {
		codes[f.Code] = true
	}
	return codes, code, out
}

func TestInspectCleanRealMembers(t *testing.T) {
	for _, v := range etcdtest.Versions {
		t.Run(v, func(t *testing.T) {
			dir, _ := etcdtest.Generate(t, v, etcdtest.GenOptions{})
			codes, code, out := inspectCodes(t, dir)
			if code != ExitOK || len(codes) != 0 {
				t.Fatalf("exit %d, findings %v\n%s", code, codes, out)
			}
		})
	}
}

// TestInspectSnapDBMissing: the db is behind the newest snapshot etcd would
// load, and the .snap.db that should replace it is not there. inspect must
// say so, and real etcd must indeed refuse to start on such a dir.
func TestInspectSnapDBMissing(t *testing.T) {
	for _, v := range etcdtest.Versions {
		t.Run(v, func(t *testing.T) {
			clean, rec := etcdtest.Generate(t, v, etcdtest.GenOptions{})
			dir := fixture.CopyDir(t, clean)
			setConsistentIndex(t, filepath.Join(dir, "member", "snap", "db"), rec.RaftIndex, 50)
			codes, code, out := inspectCodes(t, dir)
			if code != ExitFindings || !codes["snapdb-missing"] {
				t.Fatalf("exit %d, findings %v\n%s", code, codes, out)
			}
			msg, ok := etcdtest.StartFails(t, etcdtest.Binaries(t, v), dir, 20*time.Second)
			t.Logf("etcd %s on the same dir: refused=%v: %s", v, ok, msg)
			if !ok || !strings.Contains(msg, "failed to find database snapshot file") {
				t.Errorf("etcd %s did not fail as inspect predicted", v)
			}
		})
	}
}

// TestInspectDBBehindWAL: the db lags and the WAL no longer holds the
// entries after it (older segments purged, snapshot files gone).
func TestInspectDBBehindWAL(t *testing.T) {
	clean, rec := etcdtest.Generate(t, "3.6", etcdtest.GenOptions{})
	dir := fixture.CopyDir(t, clean)
	setConsistentIndex(t, filepath.Join(dir, "member", "snap", "db"), rec.RaftIndex, 50)
	segs := fixture.Segments(t, filepath.Join(dir, "member", "wal"))
	for _, s := range segs[:len(segs)-2] {
		os.Remove(s)
	}
	snaps, _ := filepath.Glob(filepath.Join(dir, "member", "snap", "*.snap"))
	for _, s := range snaps {
		os.Remove(s)
	}
	codes, code, out := inspectCodes(t, dir)
	if code != ExitFindings || !codes["db-behind-wal"] {
		t.Fatalf("exit %d, findings %v\n%s", code, codes, out)
	}
	msg, refused := etcdtest.StartFails(t, etcdtest.Binaries(t, "3.6"), dir, 20*time.Second)
	t.Logf("etcd 3.6 on the same dir: refused=%v: %s", refused, msg)
	if !refused {
		t.Errorf("etcd started on a member whose db is behind its WAL")
	}
}

// TestInspectDBAheadOfWAL: the db has applied more than the WAL holds (the
// WAL lost its tail). etcd starts on such a member anyway, which is what
// makes it dangerous: the test pins that, as the finding's message says.
func TestInspectDBAheadOfWAL(t *testing.T) {
	clean, rec := etcdtest.Generate(t, "3.6", etcdtest.GenOptions{})
	dir := fixture.CopyDir(t, clean)
	setConsistentIndex(t, filepath.Join(dir, "member", "snap", "db"), rec.RaftIndex, rec.RaftIndex+1000)
	codes, code, out := inspectCodes(t, dir)
	if code != ExitFindings || !codes["db-ahead-of-wal"] {
		t.Fatalf("exit %d, findings %v\n%s", code, codes, out)
	}
	msg, refused := etcdtest.StartFails(t, etcdtest.Binaries(t, "3.6"), dir, 8*time.Second)
	t.Logf("etcd 3.6 on the same dir: refused=%v: %s", refused, msg)
	if refused {
		t.Errorf("etcd 3.6 refused to start (%s); the finding's message says it starts", msg)
	}
}
