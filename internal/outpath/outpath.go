// Package outpath is the one set of rules for the paths etcdscope writes
// (repair's and replay's --out): an output never overlaps an input, it is
// published with a rename that never replaces what another run put there,
// and the staging dirs a killed run left beside it are found again.
package outpath

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// OverlapError is returned by [Check] for an output that is an input, is
// inside one, or holds one.
type OverlapError struct {
	Out, Input string
	How        string // "is", "is inside", "holds"
}

func (e *OverlapError) Error() string {
	return fmt.Sprintf("--out %s %s the input %s: a repair writes only to a new path outside its input (and a dry run writes nothing)", e.Out, e.How, e.Input)
}

// Check refuses an out that, once symlinks are resolved, is one of the
// inputs, lies inside one, or is a directory above one. out need not
// exist: its deepest existing ancestor is resolved and the rest joined.
func Check(out string, inputs ...string) error {
	o, err := resolve(out)
	if err != nil {
		return err
	}
	for _, in := range inputs {
		if in == "" {
			continue
		}
		i, err := resolve(in)
		if err != nil {
			return err
		}
		switch {
		case o == i:
			return &OverlapError{Out: out, Input: in, How: "is"}
		case within(o, i):
			return &OverlapError{Out: out, Input: in, How: "is inside"}
		case within(i, o):
			return &OverlapError{Out: out, Input: in, How: "holds"}
		}
	}
	return nil
}

// SegmentInput is the input a WAL segment at path stands for: its
// member dir when it lies in a member's wal dir, else its directory.
func SegmentInput(path string) string {
	d := filepath.Dir(path)
	if filepath.Base(d) == "wal" {
		return filepath.Dir(d)
	}
	return d
}

// within reports whether path p lies below dir.
func within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// resolve makes p absolute with every symlink of its existing part
// resolved.
func resolve(p string) (string, error) {
	p, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	rest := []string{}
	for {
		r, err := filepath.EvalSymlinks(p)
		if err == nil {
			return filepath.Join(append([]string{r}, rest...)...), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(p)
		if parent == p {
			return filepath.Join(append([]string{p}, rest...)...), nil
		}
		rest = append([]string{filepath.Base(p)}, rest...)
		p = parent
	}
}

// StagePrefix is how a staging dir beside out begins: a hidden name that
// says what it stages.
func StagePrefix(out, what string) string {
	return "." + filepath.Base(filepath.Clean(out)) + "." + what + "-"
}

// Leftovers lists the staging dirs beside out that a run killed before it
// cleaned up left behind (names beginning with StagePrefix(out, what)).
func Leftovers(out, what string) []string {
	dir := filepath.Dir(filepath.Clean(out))
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var found []string
	prefix := StagePrefix(out, what)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) {
			found = append(found, filepath.Join(dir, e.Name()))
		}
	}
	return found
}

// ErrExists is wrapped by [Publish] when something is already at the new
// path: another run published there first.
var ErrExists = errors.New("already exists")

// Publish renames from to to without ever replacing what is at to: a
// second run onto the same --out fails instead of silently replacing the
// first one's output.
func Publish(from, to string) error {
	if err := renameNoReplace(from, to); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("publishing %s: it %w (another run wrote it); nothing was replaced", to, ErrExists)
		}
		return err
	}
	return nil
}
