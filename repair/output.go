// Package repair writes repaired copies of damaged etcd data: a new member
// rebuilt from its snapshot and WAL, a WAL cut before its damage, a db
// whose metas and freelist are made sound. It never writes its input.
// Every output is built under a temporary sibling of the path asked for,
// fsynced, verified, and only then renamed into place, so a repair killed
// midway leaves nothing at that path.
package repair

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/etcdscope/etcdscope/internal/datadir"
	"github.com/etcdscope/etcdscope/internal/outpath"
	"github.com/etcdscope/etcdscope/walfmt"
)

// Verify checks an output before it is renamed into place; an error keeps
// it from being published. Every repair checks its output as inspect
// does, whoever calls it: [inspect.VerifyMember] for a data dir,
// [inspect.VerifyDB] for a db. An Options.Verify replaces that check, for
// tests that need one that refuses.
type Verify func(path string) error

// or is v, or check when v is nil.
func (v Verify) or(check Verify) Verify {
	if v == nil {
		return check
	}
	return v
}

// stage is an output being built: written at Path, a temporary sibling of
// out, and renamed to out by Commit.
type stage struct {
	tmp, out string
}

// newStage refuses an out that exists or overlaps an input (the paths a
// repair reads: [outpath.Check]) and makes the temporary directory beside
// it.
func newStage(out string, inputs ...string) (*stage, error) {
	out = filepath.Clean(out)
	if _, err := os.Lstat(out); err == nil {
		return nil, fmt.Errorf("repair: %s exists; give a new path (repair never overwrites)", out)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := outpath.Check(out, inputs...); err != nil {
		return nil, &InputError{err.Error()}
	}
	tmp, err := os.MkdirTemp(filepath.Dir(out), outpath.StagePrefix(out, "repair"))
	if err != nil {
		return nil, err
	}
	return &stage{tmp: tmp, out: out}, nil
}

// Path is where the output is built.
func (s *stage) Path() string { return filepath.Join(s.tmp, filepath.Base(s.out)) }

// commit fsyncs every file and directory of the output, verifies it with
// verify and renames it into place, then fsyncs the parent directory.
func (s *stage) commit(verify Verify) error {
	defer s.abort()
	if err := syncTree(s.Path()); err != nil {
		return err
	}
	if err := verify(s.Path()); err != nil {
		return fmt.Errorf("repair: the output does not verify, so it was not written to %s: %w", s.out, err)
	}
	if err := outpath.Publish(s.Path(), s.out); err != nil {
		return err
	}
	return syncDir(filepath.Dir(s.out))
}

// abort removes what was built; after a commit, the empty temporary dir.
func (s *stage) abort() { os.RemoveAll(s.tmp) }

// syncTree fsyncs a file, or a directory and everything below it.
func syncTree(path string) error {
	return filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return syncDir(p)
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		return f.Sync()
	})
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// segmentDirs are the inputs WAL segments stand for, those of a replay.
func segmentDirs(segs []walfmt.Segment) []string {
	var dirs []string
	for _, s := range segs {
		if s.Path != "" {
			dirs = append(dirs, outpath.SegmentInput(s.Path))
		}
	}
	return dirs
}

// checkOut refuses an out that overlaps the path a repair was given, or
// the data dir of the member dir given.
func checkOut(out, path string) error {
	inputs := []string{path}
	if l, err := datadir.Resolve(path); err == nil && filepath.Base(l.MemberDir) == "member" {
		inputs = append(inputs, filepath.Dir(l.MemberDir))
	}
	if err := outpath.Check(out, inputs...); err != nil {
		return &InputError{err.Error()}
	}
	return nil
}

// Leftovers are the staging dirs a killed repair onto out left beside it.
func Leftovers(out string) []string { return outpath.Leftovers(out, "repair") }

// copyFile copies src to dst (a new file), n bytes of it (-1: all).
func copyFile(dst, src string, n int64) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	var r io.Reader = in
	if n >= 0 {
		r = io.LimitReader(in, n)
	}
	if _, err := io.Copy(out, r); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
