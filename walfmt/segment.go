package walfmt

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/etcdscope/etcdscope/internal/problem"
)

// Segment is one WAL file: its name, the sequence number and raft index the
// name carries, its size, and a reader over its bytes.
type Segment struct {
	Name   string // base name, e.g. 0000000000000001-0000000000000042.wal
	Path   string // path as opened, for messages; may be empty
	Seq    uint64 // sequence number from the name
	Index  uint64 // first raft index the segment is expected to hold
	NameOK bool   // the name has etcd's %016x-%016x.wal form
	Size   int64
	R      io.ReaderAt
}

// SegmentName returns etcd's name for a segment (server/storage/wal/util.go walName).
func SegmentName(seq, index uint64) string {
	return fmt.Sprintf("%016x-%016x.wal", seq, index)
}

// ParseSegmentName parses etcd's %016x-%016x.wal segment name.
func ParseSegmentName(name string) (seq, index uint64, ok bool) {
	ok = problem.ParseHexName(name, ".wal", &seq, &index)
	return seq, index, ok
}

// Dir lists the WAL segments of a directory in etcd's order (by name), and
// the other file names it skipped (etcd's 0.tmp/1.tmp, *.broken, ...).
type Dir struct {
	Path     string
	Segments []string // base names, sorted
	Skipped  []string // base names, sorted
}

// ListDir lists dir without opening any file.
func ListDir(dir string) (Dir, error) {
	d := Dir{Path: dir}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return d, err
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		if _, _, ok := ParseSegmentName(e.Name()); ok {
			d.Segments = append(d.Segments, e.Name())
		} else {
			d.Skipped = append(d.Skipped, e.Name())
		}
	}
	sort.Strings(d.Segments)
	sort.Strings(d.Skipped)
	return d, nil
}

// Files holds opened segment files. Close closes them all.
type Files struct {
	Segments []Segment
	Skipped  []string
	files    []*os.File
}

// Close closes every file.
func (f *Files) Close() error {
	var errs []error
	for _, fh := range f.files {
		errs = append(errs, fh.Close())
	}
	f.files = nil
	return errors.Join(errs...)
}

// OpenPath opens a WAL read-only, taking no lock: a directory of segments,
// or a single segment file. The files are never written.
func OpenPath(path string) (*Files, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, &InputError{Path: path, Err: err, Hint: "give an etcd data dir, a member dir, a wal dir or a .wal file"}
	}
	if !st.IsDir() {
		return openFiles(filepath.Dir(path), []string{filepath.Base(path)}, nil, true)
	}
	d, err := ListDir(path)
	if err != nil {
		return nil, &InputError{Path: path, Err: err, Hint: "check the directory's permissions"}
	}
	if len(d.Segments) == 0 {
		return nil, &InputError{Path: path, Err: ErrNoSegments, Hint: "give the member's wal directory (member/wal)"}
	}
	return openFiles(path, d.Segments, d.Skipped, false)
}

func openFiles(dir string, names, skipped []string, single bool) (*Files, error) {
	f := &Files{Skipped: skipped}
	for _, name := range names {
		p := filepath.Join(dir, name)
		fh, size, err := problem.OpenFile(p)
		if err != nil {
			f.Close()
			return nil, err
		}
		seq, index, ok := ParseSegmentName(name)
		if single && !ok && !looksLikeWAL(fh, size) {
			fh.Close()
			f.Close()
			return nil, &InputError{Path: p, Err: ErrNotWAL, Hint: "it neither has a WAL segment name nor starts with a WAL frame"}
		}
		f.files = append(f.files, fh)
		f.Segments = append(f.Segments, Segment{Name: name, Path: p, Seq: seq, Index: index, NameOK: ok, Size: size, R: fh})
	}
	return f, nil
}

// looksLikeWAL reports whether a file starts with a frame holding a CRC
// record, as every segment does.
func looksLikeWAL(r io.ReaderAt, size int64) bool {
	if size < 16 {
		return false
	}
	var b [32]byte
	n, _ := r.ReadAt(b[:], 0)
	if n < 16 {
		return false
	}
	w := le64(b[:8])
	l, p, ok := splitLengthWord(w)
	if !ok || l < 2 || 8+l+p > int64(n) {
		return false
	}
	rec, err := DecodeRecord(b[8 : 8+l])
	return err == nil && rec.Type == CRCType
}
