package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etcdscope/etcdscope/internal/textfmt"
)

// TestBadInputControlInPath gives each noun that reads a path one whose
// names hold a newline and a terminal escape sequence: the message is still
// one line on stderr, names the path escaped, and lets no control
// character through (CONTRACT.md: a one-line message that names the path).
func TestBadInputControlInPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a\nb\x1b[2J")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	notes := filepath.Join(dir, "notes\n.txt")
	if err := os.WriteFile(notes, []byte("hello, not etcd's at all\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	nope := filepath.Join(dir, "no\nsuch")
	walDir := filepath.Join(dir, "wal")
	if err := os.Mkdir(walDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"wal", "verify", nope},
		{"wal", "dump", walDir}, // no segments
		{"wal", "verify", filepath.Join(dir, "notes\n.wal")},
		{"snap", "dump", notes},
		{"snap", "dump", nope},
		{"bolt", "check", notes},
		{"bolt", "info", nope},
		{"inspect", nope},
	} {
		if len(args) == 3 && strings.HasSuffix(args[2], ".wal") {
			if err := os.WriteFile(args[2], []byte("hello, not a WAL\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		out, errOut, code := run(t, args...)
		line := strings.TrimSuffix(errOut, "\n")
		switch {
		case code != ExitTrouble || out != "":
			t.Errorf("%q: exit %d, stdout %q; want exit 2 and no output", args, code, out)
		case !strings.HasPrefix(errOut, "etcdscope: ") || strings.ContainsAny(line, "\n\r\x1b"):
			t.Errorf("%q: stderr %q, want one line with no control character", args, errOut)
		case !strings.Contains(line, textfmt.Escape(dir)):
			t.Errorf("%q: stderr %q does not name the path (escaped: %s)", args, errOut, textfmt.Escape(dir))
		}
	}
}
