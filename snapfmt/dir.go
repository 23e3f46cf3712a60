package snapfmt

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/etcdscope/etcdscope/internal/problem"
)

// Dir is what a member's snap directory holds, each file decoded: the
// .snap files, the .snap.db files, the live db and everything else.
type Dir struct {
	Path      string
	Snaps     []*File     // *.snap, by name
	DBs       []*DBFile   // *.snap.db (and database snapshots given as a single file), by name
	DB        *DBFile     // the live db, nil when absent; its trailer is not checked
	Leftovers []*Leftover // by name
}

// Problems returns every problem of the directory's files: snapshots,
// database files, the db, then leftovers.
func (d *Dir) Problems() []error {
	var out []error
	for _, f := range d.Snaps {
		out = append(out, f.Problems...)
	}
	for _, f := range d.DBs {
		out = append(out, f.Problems...)
	}
	if d.DB != nil {
		out = append(out, d.DB.Problems...)
	}
	for _, l := range d.Leftovers {
		out = append(out, l.Problem)
	}
	return out
}

// LeftoverKind says what a leftover file in the snap directory is.
type LeftoverKind int

const (
	LeftoverBroken    LeftoverKind = iota // *.broken: renamed by etcd's snapshot loader after it failed to read it
	LeftoverTmp                           // tmp*: an incomplete .snap.db download from the leader
	LeftoverDefragTmp                     // db.tmp*: a defragmentation temp file
	LeftoverUnknown                       // any other name, or not a regular file
)

func (k LeftoverKind) String() string {
	switch k {
	case LeftoverBroken:
		return "broken"
	case LeftoverTmp:
		return "tmp"
	case LeftoverDefragTmp:
		return "defrag-tmp"
	case LeftoverUnknown:
		return "unknown"
	}
	return fmt.Sprintf("leftover(%d)", int(k))
}

// Leftover is a file in the snap directory that is neither a snapshot nor
// the db. What etcd does with it is in Problem's detail.
type Leftover struct {
	Name    string
	Kind    LeftoverKind
	Size    int64
	Regular bool // a regular file (else a directory, link or device, not opened)
	// Snap is a *.snap.broken file decoded as the .snap it was, nil for
	// other kinds: it says whether the file is still damaged.
	Snap    *File
	Problem error // a *CorruptionError wrapping ErrLeftover
}

// Note says what the file is and what etcd does with it.
func (l *Leftover) Note() string {
	if ce, ok := l.Problem.(*CorruptionError); ok {
		return ce.Detail
	}
	return l.Problem.Error()
}

// fileKind is how a name in the snap directory is classified, in etcd's
// order: tmp* files are deleted at boot before anything is read
// (bootstrap.go bootstrapSnapshot), db.tmp* when snapshots are listed
// (snapshotter.go cleanupSnapdir), then every *.snap is a snapshot
// (checkSuffix) and "db" is the backend.
type fileKind int

const (
	kindSnap fileKind = iota
	kindSnapDB
	kindDB
	kindLeftover
)

func classify(name string) (fileKind, LeftoverKind) {
	switch {
	case name == "db":
		return kindDB, 0
	case strings.HasPrefix(name, "db.tmp"):
		return kindLeftover, LeftoverDefragTmp
	case strings.HasPrefix(name, "tmp"):
		return kindLeftover, LeftoverTmp
	case strings.HasSuffix(name, ".snap"):
		return kindSnap, 0
	case strings.HasSuffix(name, ".snap.db"):
		return kindSnapDB, 0
	case strings.HasSuffix(name, ".broken"):
		return kindLeftover, LeftoverBroken
	}
	return kindLeftover, LeftoverUnknown
}

// ReadDir reads and decodes every file of a snap directory, read-only and
// without locks. Non-regular entries are listed as leftovers and never
// opened. It returns an error only when the directory or one of its files
// cannot be read.
func ReadDir(dir string, opts Options) (*Dir, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, &InputError{Path: dir, Err: err, Hint: "check the directory's permissions"}
	}
	d := &Dir{Path: dir}
	for _, e := range ents {
		if err := d.add(filepath.Join(dir, e.Name()), opts); err != nil {
			return nil, err
		}
	}
	// os.ReadDir sorts by name already; keep the promise explicit.
	slices.SortFunc(d.Snaps, func(a, b *File) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(d.DBs, func(a, b *DBFile) int { return strings.Compare(a.Name, b.Name) })
	return d, nil
}

// Open reads a snap directory (as [ReadDir] does) or a single file: a
// .snap, a .snap.db, a db, or a file of another name that starts like a
// bbolt file (as `etcdctl snapshot save` output does) or like a .snap.
func Open(path string, opts Options) (*Dir, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, &InputError{Path: path, Err: err, Hint: "give a snap directory, a .snap or a .snap.db file"}
	}
	if st.IsDir() {
		return ReadDir(path, opts)
	}
	d := &Dir{Path: filepath.Dir(path)}
	name := filepath.Base(path)
	switch k, lk := classify(name); {
	case k == kindDB: // given by itself, a db is examined like any database snapshot
		o := opts
		o.Name = name
		f, err := OpenDBFile(path, o)
		if err != nil {
			return nil, err
		}
		d.DBs = append(d.DBs, f)
		return d, nil
	case k != kindLeftover || lk != LeftoverUnknown:
		if err := d.add(path, opts); err != nil {
			return nil, err
		}
		return d, nil
	}
	fh, size, err := problem.OpenFile(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	o := opts
	o.Name = name
	switch sniff(fh, size) {
	case kindSnapDB:
		f, err := NewDBFile(fh, size, o)
		if err != nil {
			return nil, err
		}
		d.DBs = append(d.DBs, f)
	case kindSnap:
		f, err := NewFile(fh, size, o)
		if err != nil {
			return nil, err
		}
		d.Snaps = append(d.Snaps, f)
	default:
		return nil, &InputError{Path: path, Err: ErrUnknownFile, Hint: "it starts neither like a bbolt file nor like a .snap file"}
	}
	return d, nil
}

// sniff tells a bbolt file or a .snap file by its first bytes.
func sniff(r io.ReaderAt, size int64) fileKind {
	for _, off := range []int64{0, 4096} {
		if m, ok, _ := readMeta(r, off, size); ok && parseMeta(m).magic == boltMagic {
			return kindSnapDB
		}
	}
	var b [16]byte
	n, _ := r.ReadAt(b[:], 0)
	if n < 4 || b[0] != 0x08 { // crc field: tag 1, varint
		return kindLeftover
	}
	i := 1
	for i < n && b[i]&0x80 != 0 {
		i++
	}
	if i+1 < n && b[i+1] == 0x12 { // data field: tag 2, bytes
		return kindSnap
	}
	return kindLeftover
}

func (d *Dir) add(path string, opts Options) error {
	name := filepath.Base(path)
	o := opts
	o.Name = name
	st, err := os.Stat(path) // follows a link to a regular file
	kind, lk := classify(name)
	if err != nil || !st.Mode().IsRegular() {
		l := &Leftover{Name: name, Kind: lk}
		what := "a dangling link"
		switch {
		case err != nil && !errors.Is(err, os.ErrNotExist):
			what = fmt.Sprintf("cannot be examined (%v)", problem.UnwrapPath(err))
		case err == nil:
			what = "not a regular file (" + st.Mode().Type().String() + ")"
			if st.IsDir() {
				what = "a directory"
			}
		}
		if kind != kindLeftover {
			l.Kind = LeftoverUnknown
		}
		l.Problem = &CorruptionError{File: name, Offset: -1, Err: ErrLeftover, Detail: what + "; not read"}
		d.Leftovers = append(d.Leftovers, l)
		return nil
	}
	switch kind {
	case kindSnap:
		f, err := OpenFile(path, o)
		if err != nil {
			return err
		}
		d.Snaps = append(d.Snaps, f)
	case kindSnapDB:
		f, err := OpenDBFile(path, o)
		if err != nil {
			return err
		}
		d.DBs = append(d.DBs, f)
	case kindDB:
		o.NoTrailer = true
		f, err := OpenDBFile(path, o)
		if err != nil {
			return err
		}
		d.DB = f
	default:
		l, err := openLeftover(path, lk, st.Size(), opts)
		if err != nil {
			return err
		}
		d.Leftovers = append(d.Leftovers, l)
	}
	return nil
}

func openLeftover(path string, kind LeftoverKind, size int64, opts Options) (*Leftover, error) {
	name := filepath.Base(path)
	l := &Leftover{Name: name, Kind: kind, Size: size, Regular: true}
	var what string
	switch kind {
	case LeftoverBroken:
		what = "renamed to .broken by etcd's snapshot loader after it failed to read it; etcd never deletes it"
		if orig := strings.TrimSuffix(name, ".broken"); strings.HasSuffix(orig, ".snap") {
			o := opts
			o.Name, o.Strict = orig, false
			f, err := OpenFile(path, o)
			if err != nil {
				return nil, err
			}
			l.Snap = f
			switch {
			case f.Loadable():
				id := f.ID()
				what += fmt.Sprintf("; it reads cleanly now (term %d, index %d): the failure may have been transient, or the file was repaired", id.Term, id.Index)
			case len(f.Problems) > 0:
				what += "; it is still damaged: " + message(f.Problems[0])
			}
		}
	case LeftoverTmp:
		what = "an incomplete database snapshot download from the leader (snap/db.go SaveDBFrom); etcd deletes tmp* files at boot"
	case LeftoverDefragTmp:
		what = "a defragmentation temp file left by a crash during defrag; etcd deletes db.tmp* files when it next lists snapshots"
	default:
		what = "not a file etcd writes here; etcd ignores it (it logs \"found unexpected non-snap file\")"
	}
	l.Problem = &CorruptionError{File: name, Offset: -1, Err: ErrLeftover, Detail: fmt.Sprintf("%s (size %d)", what, size)}
	return l, nil
}

// message is a problem's text without the package and file name.
func message(err error) string {
	var ce *CorruptionError
	if errors.As(err, &ce) {
		return ce.Message()
	}
	return err.Error()
}
