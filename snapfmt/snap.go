package snapfmt

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"path/filepath"
	"strings"

	"github.com/etcdscope/etcdscope/internal/pbwire"
	"github.com/etcdscope/etcdscope/internal/problem"
)

// Options configure the decoders. The zero value decodes everything and
// collects problems.
type Options struct {
	// Name is the file's base name, used in problems and, for .snap and
	// .snap.db files, checked against the content. OpenFile, OpenDBFile,
	// ReadDir and Open set it.
	Name string
	// Strict turns the first problem into the returned error.
	Strict bool
	// SkipStore skips the v2 store summary of .snap files.
	SkipStore bool
	// NoTrailer skips the SHA-256 trailer check of database files, for the
	// live member/snap/db, which never has one.
	NoTrailer bool
}

// File is one decoded .snap file: the snappb.Snapshot envelope, the
// raftpb.Snapshot inside it, and a summary of the v2 store inside that.
// The layers are kept apart: a CRC mismatch does not stop the decoding of
// the data, and a v2 store that does not decode does not hide the
// metadata. Problems lists what is wrong, each a [*CorruptionError].
type File struct {
	Name string // base name
	Size int64

	// NameTerm and NameIndex are parsed from a %016x-%016x.snap name
	// (term-index); NameOK says whether the name has that form.
	NameTerm, NameIndex uint64
	NameOK              bool

	// Envelope is the snappb.Snapshot: the stored CRC and the data field,
	// with offsets in the file. Valid when EnvelopeOK.
	Envelope    Envelope
	EnvelopeOK  bool
	ComputedCRC uint32 // CRC-32C (seed 0) of Envelope.Data

	// Snapshot is the raftpb.Snapshot in the data field, with offsets in
	// the file; nil when the envelope or the snapshot did not decode.
	Snapshot *Snapshot

	// Store summarises the v2 store (Snapshot.Data); nil when not decoded.
	Store *Store

	Problems []error
}

// CRCOK reports whether the envelope decoded and its CRC matches its data.
func (f *File) CRCOK() bool {
	return f.EnvelopeOK && f.Envelope.CRC == f.ComputedCRC && f.Envelope.CRC != 0
}

// Loadable reports whether etcd's snap.Read would return this snapshot
// without an error: the envelope and the snapshot decode, the data is not
// empty, the CRC is not zero and matches. A name that does not match the
// metadata, or a v2 store that does not decode, does not stop snap.Read
// (the latter makes etcd 3.5 and 3.6 panic a moment later).
func (f *File) Loadable() bool {
	if f.Snapshot == nil || !f.CRCOK() {
		return false
	}
	for _, p := range f.Problems {
		if errors.Is(p, ErrEmpty) || errors.Is(p, ErrUndecodable) || errors.Is(p, ErrCRCMismatch) {
			return false
		}
	}
	return true
}

// ID returns the term and index of the snapshot: from its metadata when it
// decoded, else from its name.
func (f *File) ID() SnapshotID {
	if f.Snapshot != nil {
		return SnapshotID{Term: f.Snapshot.Metadata.Term, Index: f.Snapshot.Metadata.Index}
	}
	return SnapshotID{Term: f.NameTerm, Index: f.NameIndex}
}

// SnapshotID names a raft snapshot by term and index, as a WAL snapshot
// record and a .snap file name do.
type SnapshotID struct {
	Term  uint64
	Index uint64
}

// SnapName returns etcd's name for a .snap file
// (server/etcdserver/api/snap/snapshotter.go save).
func SnapName(term, index uint64) string {
	return fmt.Sprintf("%016x-%016x.snap", term, index)
}

// ParseSnapName parses etcd's %016x-%016x.snap name (term-index).
func ParseSnapName(name string) (term, index uint64, ok bool) {
	ok = problem.ParseHexName(name, ".snap", &term, &index)
	return term, index, ok
}

// DBName returns etcd's name for a database snapshot received from the
// leader (server/etcdserver/api/snap/db.go dbFilePath).
func DBName(index uint64) string {
	return fmt.Sprintf("%016x.snap.db", index)
}

// ParseDBName parses etcd's %016x.snap.db name (raft index).
func ParseDBName(name string) (index uint64, ok bool) {
	ok = problem.ParseHexName(name, ".snap.db", &index)
	return index, ok
}

// readAll reads size bytes at offset 0 of r, allocating no more than the
// bytes r really holds (a size larger than the file does not allocate it).
func readAll(r io.ReaderAt, size int64) ([]byte, error) {
	if size < 0 {
		return nil, fmt.Errorf("negative size %d", size)
	}
	b, err := io.ReadAll(io.NewSectionReader(r, 0, size))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) != size {
		return nil, fmt.Errorf("read %d bytes of %d: %w", len(b), size, io.ErrUnexpectedEOF)
	}
	return b, nil
}

// NewFile decodes a .snap file of size bytes read through r. It returns an
// error only when r fails (or, with [Options.Strict], for the first
// problem); damage is reported in [File.Problems]. The whole file is read
// into memory, as etcd does.
func NewFile(r io.ReaderAt, size int64, opts Options) (*File, error) {
	b, err := readAll(r, size)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", problem.Path(opts.Name), problem.UnwrapPath(err))
	}
	f := decodeFile(b, opts)
	if opts.Strict && len(f.Problems) > 0 {
		return f, f.Problems[0]
	}
	return f, nil
}

// OpenFile reads and decodes the .snap file at path. It opens the file
// read-only, takes no lock, and closes it before returning.
func OpenFile(path string, opts Options) (*File, error) {
	return openWith(path, opts, NewFile)
}

// openWith opens the regular file at path read-only and without a lock
// (never a FIFO or device, which could block or have side effects),
// decodes it with decode, named after path unless opts names it, and
// closes it.
func openWith[T any](path string, opts Options, decode func(io.ReaderAt, int64, Options) (T, error)) (T, error) {
	fh, size, err := problem.OpenFile(path)
	if err != nil {
		var zero T
		return zero, err
	}
	defer fh.Close()
	if opts.Name == "" {
		opts.Name = filepath.Base(path)
	}
	return decode(fh, size, opts)
}

// decodeFile decodes the bytes of a .snap file. It never panics: every
// length is checked against the bytes that exist before it is used.
func decodeFile(b []byte, opts Options) *File {
	f := &File{Name: opts.Name, Size: int64(len(b))}
	f.NameTerm, f.NameIndex, f.NameOK = ParseSnapName(opts.Name)
	defer func() {
		// Backstop: a bug in a decoder must not take the whole dump down.
		// Fuzzing keeps this path cold.
		if r := recover(); r != nil {
			f.Snapshot, f.Store = nil, nil
			f.problem(0, ErrUndecodable, "internal error while decoding: %v", r)
		}
	}()
	if len(b) == 0 {
		f.problem(0, ErrEmpty, "the file is empty")
		return f
	}
	env, err := decodeEnvelope(b)
	if err != nil {
		f.fieldProblem(0, err, "snappb.Snapshot")
		return f
	}
	f.Envelope, f.EnvelopeOK = env, true
	f.ComputedCRC = crc32.Update(0, castagnoli, env.Data)
	switch {
	case env.DataOffset < 0 || len(env.Data) == 0:
		f.problem(max(env.DataTag, 0), ErrEmpty, "no data")
		return f
	case env.CRCOffset < 0 || env.CRC == 0:
		f.problem(max(env.CRCOffset, 0), ErrEmpty, "crc field missing or zero")
	case env.CRC != f.ComputedCRC:
		f.crcProblem()
	}
	snap, err := decodeSnapshot(env.Data)
	if err != nil {
		f.fieldProblem(env.DataOffset, err, "raftpb.Snapshot")
		return f
	}
	if snap.DataOffset >= 0 {
		snap.DataOffset += env.DataOffset
	}
	if snap.MetadataOffset >= 0 {
		snap.MetadataOffset += env.DataOffset
	}
	f.Snapshot = &snap
	// When the CRC is wrong, what the layers inside say is a consequence
	// of the damage: it goes into the CRC problem's detail, not into
	// problems of its own.
	var crcErr *CorruptionError
	for _, p := range f.Problems {
		if ce, ok := p.(*CorruptionError); ok && ce.Err == ErrCRCMismatch {
			crcErr = ce
		}
	}
	var consequences []string
	m := snap.Metadata
	switch {
	case f.NameOK && (f.NameTerm != m.Term || f.NameIndex != m.Index):
		if crcErr != nil {
			consequences = append(consequences, fmt.Sprintf("the metadata now says term %d index %d", m.Term, m.Index))
			break
		}
		f.problem(max(snap.MetadataOffset, 0), ErrNameMismatch, "the name says term %d index %d, the metadata term %d index %d",
			f.NameTerm, f.NameIndex, m.Term, m.Index)
	case !f.NameOK && strings.HasSuffix(opts.Name, ".snap"):
		f.problem(-1, ErrBadName, "etcd names .snap files %s (term-index); it still tries to load this one, in string order",
			SnapName(m.Term, m.Index))
	}
	if !opts.SkipStore {
		f.Store = SummarizeStore(snap.Data)
		for _, p := range f.Store.Problems {
			ce, ok := p.(*CorruptionError)
			if !ok {
				continue
			}
			off := int64(-1)
			if ce.Offset >= 0 && snap.DataOffset >= 0 {
				off = snap.DataOffset + ce.Offset
			}
			if crcErr != nil {
				if len(consequences) < 3 {
					what := "looks odd"
					if ce.Err == ErrStoreUndecodable {
						what = "fails to decode"
					}
					consequences = append(consequences, fmt.Sprintf("the v2 store %s at %#x: %s", what, off, ce.Detail))
				}
				continue
			}
			f.add(&CorruptionError{File: f.Name, Offset: off, Index: m.Index, Err: ce.Err, Detail: ce.Detail})
		}
	}
	if crcErr != nil && len(consequences) > 0 {
		crcErr.Detail += "; as a result " + strings.Join(consequences, "; ")
	}
	return f
}

func (f *File) index() uint64 {
	if f.Snapshot != nil {
		return f.Snapshot.Metadata.Index
	}
	return f.NameIndex
}

func (f *File) add(err error) { f.Problems = append(f.Problems, err) }

func (f *File) problem(off int64, sentinel error, format string, args ...any) {
	f.add(&CorruptionError{File: f.Name, Offset: off, Index: f.index(), Err: sentinel, Detail: fmt.Sprintf(format, args...)})
}

// fieldProblem reports a protobuf error of a layer that starts at base.
func (f *File) fieldProblem(base int64, err error, layer string) {
	off, detail := base, err.Error()
	var pe *pbwire.Error
	if errors.As(err, &pe) {
		off = base + int64(pe.Offset)
	}
	if off >= f.Size {
		off = max(f.Size-1, 0)
	}
	f.problem(off, ErrUndecodable, "%s: %s", layer, detail)
}

// crcProblem reports a CRC mismatch at the most precise offset it can
// find: the one damaged byte that explains it, or the crc field when the
// difference fits one of its bytes, else the start of the data field.
func (f *File) crcProblem() {
	env := f.Envelope
	what := fmt.Sprintf("stored %#08x, computed %#08x over %d data bytes at %#x", env.CRC, f.ComputedCRC, len(env.Data), env.DataOffset)
	if j, x, ok := LocateByteError(env.Data, env.CRC, f.ComputedCRC); ok {
		kind := fmt.Sprintf("one damaged byte (xor %#02x)", x)
		if x&(x-1) == 0 {
			kind = fmt.Sprintf("one flipped bit (bit %d)", bitIndex(x))
		}
		f.problem(env.DataOffset+int64(j), ErrCRCMismatch, "%s; offset is that of the damaged byte: %s at data byte %d explains the mismatch; the data field starts at %#x",
			what, kind, j, env.DataOffset)
		return
	}
	if k, ok := crcFieldDamage(env.CRC, f.ComputedCRC); ok {
		f.problem(env.CRCOffset+1+int64(k), ErrCRCMismatch, "%s; offset is that of the crc field's byte %d, where the stored and computed crc differ; the data looks intact",
			what, k)
		return
	}
	f.problem(env.DataOffset, ErrCRCMismatch, "%s; offset is the start of the data field (no single damaged byte explains the mismatch)", what)
}

func bitIndex(x byte) int {
	for i := 0; i < 8; i++ {
		if x == 1<<i {
			return i
		}
	}
	return -1
}
