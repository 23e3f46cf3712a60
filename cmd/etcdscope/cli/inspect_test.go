package cli

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

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

// TestInspectJSONKeys: inspect -w json carries CONTRACT.md's findings and
// summary once each, in snake_case, beside the member's summary.
func TestInspectJSONKeys(t *testing.T) {
	out, errOut, code := run(t, "inspect", "-w", "json", etcdtest.SampleDir(t))
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range doc {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"checked", "cluster_id", "db", "findings", "member_id", "path", "recommendation", "snap", "summary", "verdict", "wal"}
	if !slices.Equal(keys, want) {
		t.Errorf("keys %v, want %v", keys, want)
	}
}
