package etcdtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etcdscope/etcdscope/internal/etcdrelease"
)

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
			if want := "go.etcd.io/etcd/" + m + "/v3 v" + rel + "\n"; !strings.Contains(string(b), want) {
				t.Errorf("%s does not require %s", mod, strings.TrimSpace(want))
			}
		}
	}
}
