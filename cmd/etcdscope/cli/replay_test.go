package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/etcdscope/etcdscope/internal/etcdtest"
)

func TestReplayCommand(t *testing.T) {
	src := etcdtest.SampleDir(t)
	defer etcdtest.RequireUnchanged(t, src)()
	out := filepath.Join(t.TempDir(), "rebuilt")
	stdout, errOut, code := run(t, "replay", src, "--out", out, "-w", "json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res struct {
		Out          string `json:"out"`
		AppliedIndex uint64 `json:"applied_index"`
		Revision     int64  `json:"revision"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.AppliedIndex == 0 || res.Revision < 300 {
		t.Fatalf("%v: %s", err, stdout)
	}
	// The rebuilt member is sound and hashes as the source does.
	if _, errOut, code := run(t, "inspect", out); code != ExitOK {
		t.Errorf("inspect on the replay: exit %d %s", code, errOut)
	}
	h1, _, _ := run(t, "mvcc", "hash", src)
	h2, _, _ := run(t, "mvcc", "hash", out)
	if h1 != h2 {
		t.Errorf("hash of the source %q, of the replay %q", h1, h2)
	}
	// It refuses to overwrite, and needs --out.
	if _, _, code := run(t, "replay", src, "--out", out); code != ExitTrouble {
		t.Errorf("replay onto an existing dir: exit %d", code)
	}
	if _, _, code := run(t, "replay", src); code != ExitTrouble {
		t.Errorf("replay without --out: exit %d", code)
	}
	// Nothing is left beside --out.
	ents, _ := os.ReadDir(filepath.Dir(out))
	if len(ents) != 1 {
		t.Errorf("left behind: %v", ents)
	}
}
