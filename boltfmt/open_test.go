package boltfmt_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/snapfmt"
)

// TestOpenInputErrors: Open's errors are one-line *InputErrors naming the
// path, and a file that is not bbolt's wraps the one ErrNotBolt, the same
// sentinel snapfmt reports.
func TestOpenInputErrors(t *testing.T) {
	dir := t.TempDir()
	notBolt := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notBolt, []byte(strings.Repeat("not a bbolt file\n", 300)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		is   error
	}{
		{notBolt, boltfmt.ErrNotBolt},
		{filepath.Join(dir, "missing"), fs.ErrNotExist},
		{dir, nil}, // a directory
	} {
		_, err := boltfmt.Open(tc.path, boltfmt.Options{})
		ie, ok := errors.AsType[*boltfmt.InputError](err)
		if !ok || ie.Path != tc.path || strings.Count(err.Error(), tc.path) != 1 || strings.Contains(err.Error(), "\n") {
			t.Errorf("Open(%s) = %v, want one line naming the path once", tc.path, err)
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("Open(%s) = %v, want it to wrap %v", tc.path, err, tc.is)
		}
	}
	if !errors.Is(boltfmt.ErrNotBolt, snapfmt.ErrNotBolt) {
		t.Error("boltfmt and snapfmt have two ErrNotBolt")
	}
}
