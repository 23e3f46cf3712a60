// Package datadir resolves what a user gave on the command line (an etcd
// --data-dir, a member dir, a wal or snap dir, or a single file) into the
// paths of an etcd member's files (CONTRACT.md "Inputs"). It only stats
// and lists; it opens no file.
package datadir

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/etcdscope/etcdscope/internal/problem"
)

// Layout is where a member's files are, as far as the argument tells.
// Empty fields were not found.
type Layout struct {
	Arg       string // the argument as given
	Base      string // directory that finding file names are relative to
	MemberDir string
	WALDir    string // a directory of *.wal segments
	WALFile   string // a single segment given as the argument
	SnapDir   string
	DB        string // member/snap/db, or a db file given as the argument
	SnapFile  string // a single .snap file given as the argument
}

// ErrNotFound is returned by [Resolve], wrapped in an [*Error], when the
// argument does not exist.
var ErrNotFound = errors.New("datadir: no such file or directory")

// Error is a resolution failure, naming the path and what to do: the
// input error type the format decoders return too.
type Error = problem.InputError

const hint = "give an etcd data dir (holding member/), a member dir (holding wal/ and snap/), a wal or snap dir, or a single file"

// Resolve inspects arg.
func Resolve(arg string) (Layout, error) {
	l := Layout{Arg: arg}
	st, err := os.Stat(arg)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = ErrNotFound
		}
		return l, &Error{Path: arg, Err: err, Hint: hint}
	}
	if !st.IsDir() {
		l.Base = filepath.Dir(arg)
		name := filepath.Base(arg)
		switch {
		case strings.HasSuffix(name, ".wal"):
			l.WALFile = arg
		case strings.HasSuffix(name, ".snap"):
			l.SnapFile = arg
		default:
			l.DB = arg
		}
		return l, nil
	}
	l.Base = arg
	member := arg
	if isDir(filepath.Join(arg, "member")) {
		member = filepath.Join(arg, "member")
	}
	if isDir(filepath.Join(member, "wal")) || isDir(filepath.Join(member, "snap")) {
		l.MemberDir = member
		if d := filepath.Join(member, "wal"); isDir(d) {
			l.WALDir = d
		}
		if d := filepath.Join(member, "snap"); isDir(d) {
			l.SnapDir = d
			if db := filepath.Join(d, "db"); isFile(db) {
				l.DB = db
			}
		}
		return l, nil
	}
	// A wal or snap directory itself.
	ents, err := os.ReadDir(arg)
	if err != nil {
		return l, &Error{Path: arg, Err: err, Hint: "check the directory's permissions"}
	}
	for _, e := range ents {
		switch n := e.Name(); {
		case strings.HasSuffix(n, ".wal"):
			l.WALDir = arg
		case strings.HasSuffix(n, ".snap"), strings.HasSuffix(n, ".snap.db"), n == "db":
			l.SnapDir = arg
			if n == "db" {
				l.DB = filepath.Join(arg, n)
			}
		}
	}
	return l, nil
}

// Rel names p relative to the layout's base, for findings.
func (l Layout) Rel(p string) string {
	if r, err := filepath.Rel(l.Base, p); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.ToSlash(r)
	}
	return filepath.ToSlash(p)
}

// WAL returns the WAL path to open (a directory or a single file), or an
// error saying there is none.
func (l Layout) WAL() (string, error) {
	switch {
	case l.WALFile != "":
		return l.WALFile, nil
	case l.WALDir != "":
		return l.WALDir, nil
	}
	return "", &Error{Path: l.Arg, Err: errors.New("no WAL found"), Hint: "give an etcd data dir, a member dir, its wal directory or a .wal file"}
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}
