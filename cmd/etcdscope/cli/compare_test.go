package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/fixture"
	"github.com/etcdscope/etcdscope/replay"
	"github.com/etcdscope/etcdscope/walfmt"
)

type compareJSON struct {
	Members []struct {
		Dir       string `json:"dir"`
		Hash      *int64 `json:"hash"`
		SelfCheck string `json:"self_check"`
	} `json:"members"`
	HashRevision int64 `json:"hash_revision"`
	Findings     []struct {
		Severity string `json:"severity"`
		Code     string `json:"code"`
		Member   string `json:"member"`
		Revision *int64 `json:"revision"`
		Message  string `json:"message"`
	} `json:"findings"`
	Summary struct {
		Errors int `json:"errors"`
	} `json:"summary"`
}

func runCompare(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), append([]string{"compare"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestCompareCommand runs compare on copies of the committed sample
// member: copies agree (exit 0, the self-check passes), a copy whose db
// has one value rewritten in place is named (exit 1), bad arguments exit
// 2 with a one-line reason, and nothing given is changed.
func TestCompareCommand(t *testing.T) {
	sample := etcdtest.SampleDir(t)
	a, b, c := fixture.CopyDir(t, sample), fixture.CopyDir(t, sample), fixture.CopyDir(t, sample)
	unchanged := etcdtest.RequireUnchanged(t, a, b, c)

	code, out, errOut := runCompare(t, a, b, c, "--self-check")
	if code != ExitOK {
		t.Fatalf("copies of one member: exit %d: %s%s", code, out, errOut)
	}
	for _, want := range []string{"HashKV compared at revision 337 (compaction 21)", "self-check " + a + ": ok", "recommended", "member-same-id"} {
		if !strings.Contains(out, want) {
			t.Errorf("compare printed no %q:\n%s", want, out)
		}
	}
	unchanged()

	db := filepath.Join(b, "member", "snap", "db")
	key, _ := fixture.RewriteValue(t, db, 300)
	code, out, errOut = runCompare(t, "-w", "json", a, b, c)
	if code != ExitFindings {
		t.Fatalf("a rewritten value: exit %d, want %d: %s", code, ExitFindings, errOut)
	}
	var res compareJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("compare -w json: %v: %.300s", err, out)
	}
	var named bool
	for _, f := range res.Findings {
		if f.Code == "member-hash-mismatch" {
			named = f.Member == b && f.Revision != nil && *f.Revision == 300 && strings.Contains(f.Message, string(key))
		}
	}
	if !named || res.Summary.Errors != 1 || len(res.Members) != 3 || res.HashRevision != 337 {
		t.Errorf("a value rewritten at revision 300 (key %q) in %s: %+v", key, b, res)
	}

	// A db behind its own WAL is replayed forward to the WAL's commit, as
	// etcd would on start, and then agrees.
	behind := fixture.CopyDir(t, sample)
	files, err := walfmt.OpenPath(filepath.Join(sample, "member", "wal"))
	if err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(t.TempDir(), "db")
	_, err = replay.Run(files.Segments, replay.Options{Out: old, ToIndex: 200})
	files.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(old, filepath.Join(behind, "member", "snap", "db")); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCompare(t, "-w", "json", a, behind)
	var fwd struct {
		Members []struct {
			Applied         uint64 `json:"applied_index"`
			AppliedByReplay uint64 `json:"applied_by_replay"`
			Revision        int64  `json:"revision"`
			DBRevision      int64  `json:"db_revision"`
			Hash            *int64 `json:"hash"`
		} `json:"members"`
	}
	if err := json.Unmarshal([]byte(out), &fwd); err != nil || code != ExitOK {
		t.Fatalf("a db behind its WAL: exit %d, %v: %s", code, err, errOut)
	}
	if m := fwd.Members[1]; m.Applied != 200 || m.AppliedByReplay != 367 || m.Revision != 337 || m.DBRevision >= 337 || *m.Hash != *fwd.Members[0].Hash {
		t.Errorf("a db at index 200 behind its WAL: %+v, want it replayed forward to 367 and revision 337 with the same hash", m)
	}

	for _, args := range [][]string{
		{a},
		{a, b, c, a, b, c, a, b},
		{a, filepath.Join(t.TempDir(), "missing")},
		{a, t.TempDir()},
	} {
		code, out, errOut := runCompare(t, args...)
		if code != ExitTrouble || strings.Count(errOut, "\n") != 1 || out != "" {
			t.Errorf("compare %v: exit %d, stdout %q, stderr %q; want exit 2 and one line", args, code, out, errOut)
		}
	}
}
