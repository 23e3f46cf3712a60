package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

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
