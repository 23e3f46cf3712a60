package etcdtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// HashTree returns the hex sha256 of every regular file under path, keyed
// by its slash-separated path relative to path; if path is a regular file,
// the single key is ".".
func HashTree(tb testing.TB, path string) map[string]string {
	tb.Helper()
	entries, err := scanTree(path)
	if err != nil {
		tb.Fatalf("etcdtest: hashing %s: %v", path, err)
	}
	sums := make(map[string]string)
	for rel, e := range entries {
		if e.mode.IsRegular() {
			sums[rel] = e.sha256
		}
	}
	return sums
}

// RequireUnchanged records the state of paths (every file and directory
// under each: type, permission bits, size, modification time and, for
// regular files, the sha256 of the contents) and returns a function that
// fails tb if any of it differs, or an entry appeared or vanished. Use it as
//
//	defer etcdtest.RequireUnchanged(t, dataDir)()
func RequireUnchanged(tb testing.TB, paths ...string) func() {
	tb.Helper()
	before := make([]map[string]entry, len(paths))
	for i, p := range paths {
		e, err := scanTree(p)
		if err != nil {
			tb.Fatalf("etcdtest: RequireUnchanged: %v", err)
		}
		before[i] = e
	}
	return func() {
		tb.Helper()
		for i, p := range paths {
			after, err := scanTree(p)
			if err != nil {
				tb.Errorf("etcdtest: %s changed: %v", p, err)
				continue
			}
			for _, d := range diffTrees(before[i], after) {
				tb.Errorf("etcdtest: %s changed: %s", p, d)
			}
		}
	}
}

// CopyTree copies the file or directory src to dst, which must not exist,
// keeping file sizes, contents and permission bits. Runs of zero bytes are
// left as holes, so preallocated WAL segments and etcd's zero-padded db take
// little disk space; the copy reads back identically. Symbolic links are
// recreated as links.
func CopyTree(src, dst string) error {
	type dirMode struct {
		path string
		mode fs.FileMode
	}
	var dirs []dirMode
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if err := os.Mkdir(target, info.Mode().Perm()|0o700); err != nil {
				return err
			}
			// Set the exact bits after the walk has filled it.
			dirs = append(dirs, dirMode{target, info.Mode().Perm()})
			return nil
		case info.Mode()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case info.Mode().IsRegular():
			return copyFile(path, target, info)
		default:
			return fmt.Errorf("%s: cannot copy %v", path, info.Mode().Type())
		}
	})
	if err != nil {
		return err
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Chmod(dirs[i].path, dirs[i].mode); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string, info fs.FileInfo) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, info.Mode().Perm())
	if err != nil {
		return err
	}
	const block = 4096
	buf := make([]byte, 64<<10)
	zero := make([]byte, block)
	var off int64
	for {
		n, rerr := io.ReadFull(in, buf)
		for i := 0; i < n; i += block {
			b := buf[i:min(i+block, n)]
			if !bytes.Equal(b, zero[:len(b)]) {
				if _, err := out.WriteAt(b, off); err != nil {
					out.Close()
					return err
				}
			}
			off += int64(len(b))
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			out.Close()
			return rerr
		}
	}
	if err := out.Truncate(off); err != nil {
		out.Close()
		return err
	}
	if err := out.Chmod(info.Mode().Perm()); err != nil { // umask-proof
		out.Close()
		return err
	}
	return out.Close()
}

type entry struct {
	mode    fs.FileMode
	size    int64
	modTime time.Time
	sha256  string // regular files only
}

func (e entry) String() string {
	s := fmt.Sprintf("%v size %d mtime %s", e.mode, e.size, e.modTime.Format(time.RFC3339Nano))
	if e.sha256 != "" {
		s += " sha256 " + e.sha256[:16]
	}
	return s
}

// scanTree describes path and, if it is a directory, everything under it.
// Symbolic links are described, not followed.
func scanTree(path string) (map[string]entry, error) {
	out := make(map[string]entry)
	err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(path, p)
		if err != nil {
			return err
		}
		e := entry{mode: info.Mode(), modTime: info.ModTime()}
		if !info.IsDir() {
			e.size = info.Size()
		}
		if info.Mode().IsRegular() {
			if e.sha256, err = hashFile(p); err != nil {
				return err
			}
		}
		out[filepath.ToSlash(rel)] = e
		return nil
	})
	return out, err
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func diffTrees(before, after map[string]entry) []string {
	var diffs []string
	for rel, b := range before {
		a, ok := after[rel]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s: removed (was %v)", rel, b))
		case a.mode != b.mode || a.size != b.size || !a.modTime.Equal(b.modTime) || a.sha256 != b.sha256:
			diffs = append(diffs, fmt.Sprintf("%s: was %v, now %v", rel, b, a))
		}
	}
	for rel, a := range after {
		if _, ok := before[rel]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: added (%v)", rel, a))
		}
	}
	sort.Strings(diffs)
	return diffs
}
