package outpath_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/etcdscope/etcdscope/internal/outpath"
)

func TestCheck(t *testing.T) {
	root := t.TempDir()
	in := filepath.Join(root, "data")
	if err := os.MkdirAll(filepath.Join(in, "member", "wal"), 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(root, "link")
	if err := os.Symlink(filepath.Join(in, "member"), link); err != nil {
		t.Fatal(err)
	}
	for out, how := range map[string]string{
		in: "is",
		filepath.Join(in, "member", "wal", "x.wal"): "is inside",
		filepath.Join(link, "snap", "y.snap"):       "is inside", // through a symlink
		root:                                        "holds",
		filepath.Join(root, "other"):                "",
		filepath.Join(root, "data2"):                "", // a sibling whose name starts the same
	} {
		err := outpath.Check(out, in)
		var oe *outpath.OverlapError
		switch {
		case how == "" && err != nil:
			t.Errorf("Check(%s): %v, want nil", out, err)
		case how != "" && (!errors.As(err, &oe) || oe.How != how):
			t.Errorf("Check(%s): %v, want %q", out, err, how)
		}
	}
}

// TestPublishNeverReplaces: a second output onto the same path fails and
// leaves the first one as it was (a file and a directory).
func TestPublishNeverReplaces(t *testing.T) {
	dir := t.TempDir()
	for _, isDir := range []bool{false, true} {
		first, second, to := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "out")
		for _, p := range []string{first, second} {
			if isDir {
				if err := os.Mkdir(p, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(p, "f"), []byte(p), 0o600); err != nil {
					t.Fatal(err)
				}
			} else if err := os.WriteFile(p, []byte(p), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if isDir {
			// An empty directory at the path: rename(2) would replace it.
			if err := os.Mkdir(to, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := outpath.Publish(first, to); !errors.Is(err, outpath.ErrExists) {
				t.Fatalf("publishing onto an empty directory: %v, want ErrExists", err)
			}
			os.Remove(to)
		}
		if err := outpath.Publish(first, to); err != nil {
			t.Fatal(err)
		}
		if err := outpath.Publish(second, to); !errors.Is(err, outpath.ErrExists) {
			t.Fatalf("second publish (dir %v): %v, want ErrExists", isDir, err)
		}
		got := filepath.Join(to)
		if isDir {
			got = filepath.Join(to, "f")
		}
		if b, _ := os.ReadFile(got); string(b) != first {
			t.Errorf("the first output was replaced: %q", b)
		}
		os.RemoveAll(to)
		os.RemoveAll(second)
	}
}

func TestLeftovers(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	left := filepath.Join(dir, outpath.StagePrefix(out, "repair")+"123")
	if err := os.Mkdir(left, 0o700); err != nil {
		t.Fatal(err)
	}
	if got := outpath.Leftovers(out, "repair"); len(got) != 1 || got[0] != left {
		t.Errorf("leftovers %v, want [%s]", got, left)
	}
}
