package snapfmt

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"strings"

	"github.com/etcdscope/etcdscope/internal/problem"
)

// bbolt's meta page, as far as telling a bbolt file is concerned
// (go.etcd.io/bbolt internal/common/page.go, meta.go). On-disk format; do
// not change.
const (
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	boltPageHeader   = 16 // id 8, flags 2, count 2, overflow 4
	boltMetaChecksum = 56 // the checksum covers the meta's first 56 bytes
	boltMetaBytes    = 64
)

// TrailerBytes is the size of the SHA-256 trailer `etcdctl snapshot save`
// appends (etcd server/etcdserver/api/v3rpc/maintenance.go Snapshot sends
// the digest after the db; etcdutl/snapshot/v3_snapshot.go hasChecksum).
const TrailerBytes = sha256.Size

// HasTrailer is etcd's rule for whether a database snapshot of size bytes
// ends in a SHA-256 trailer: size % 512 == 32. A bbolt file is a whole
// number of pages, so its size is a multiple of 512; `etcdctl snapshot
// save` appends 32 bytes to it. (client/v3/snapshot and etcdutl/snapshot
// hasChecksum, the same in etcd 3.5, 3.6 and 3.7.)
func HasTrailer(size int64) bool { return size%512 == TrailerBytes }

// Trailer is the state of a database snapshot's SHA-256 trailer.
type Trailer int

const (
	TrailerAbsent    Trailer = iota // size % 512 != 32: no trailer (a leader-sent .snap.db, a copy of db)
	TrailerOK                       // the last 32 bytes are the SHA-256 of the bytes before them
	TrailerMismatch                 // the last 32 bytes are not that SHA-256
	TrailerUnchecked                // not looked at (Options.NoTrailer)
)

func (t Trailer) String() string {
	switch t {
	case TrailerAbsent:
		return "absent"
	case TrailerOK:
		return "ok"
	case TrailerMismatch:
		return "mismatch"
	case TrailerUnchecked:
		return "unchecked"
	}
	return fmt.Sprintf("trailer(%d)", int(t))
}

// DBFile describes a bbolt database snapshot: a %016x.snap.db file that a
// follower received from its leader, a file made by `etcdctl snapshot
// save`, or the live member/snap/db. It says whether the file starts like
// a bbolt file and whether its SHA-256 trailer, when it has one, is right;
// checking the bbolt pages themselves is boltfmt's job.
type DBFile struct {
	Name string // base name
	Size int64

	// Index is parsed from a %016x.snap.db name: the raft index of the
	// snapshot the leader sent. NameOK says whether the name has that form.
	Index  uint64
	NameOK bool

	// Bolt is set when a meta page (page 0, else page 1) carries bbolt's
	// magic. Magic is the word at offset 16 as read (little-endian);
	// PageSize and Version come from the meta page that was recognised.
	Bolt     bool
	Magic    uint32
	PageSize uint32
	Version  uint32
	// MetaChecksumOK is set when that meta page's FNV-64a checksum is right.
	MetaChecksumOK bool

	Trailer    Trailer
	StoredSHA  []byte // the trailer, when there is one
	DataSHA    []byte // the SHA-256 of the bytes before the trailer
	DataLength int64  // bytes before the trailer: the bbolt file itself

	Problems []error
}

// NewDBFile examines a database file of size bytes read through r. The
// SHA-256 is computed by streaming, in 1 MiB reads, so memory does not
// grow with the file. It returns an error only when r fails (or, with
// [Options.Strict], for the first problem).
func NewDBFile(r io.ReaderAt, size int64, opts Options) (*DBFile, error) {
	d := &DBFile{Name: opts.Name, Size: size, DataLength: size}
	if strings.HasSuffix(opts.Name, ".snap.db") {
		d.Index, d.NameOK = ParseDBName(opts.Name)
		if !d.NameOK {
			d.problem(-1, ErrBadName, "etcd names database snapshots %%016x.snap.db (raft index) and never finds this one")
		}
	}
	if err := d.checkBolt(r); err != nil {
		return nil, fmt.Errorf("reading %s: %w", problem.Path(opts.Name), problem.UnwrapPath(err))
	}
	switch {
	case opts.NoTrailer:
		d.Trailer = TrailerUnchecked
	case HasTrailer(size):
		if err := d.checkTrailer(r); err != nil {
			return nil, fmt.Errorf("reading %s: %w", problem.Path(opts.Name), problem.UnwrapPath(err))
		}
	}
	if opts.Strict && len(d.Problems) > 0 {
		return d, d.Problems[0]
	}
	return d, nil
}

// OpenDBFile examines the database file at path, read-only and without a
// lock (bbolt's own Open would flock it), and closes it before returning.
func OpenDBFile(path string, opts Options) (*DBFile, error) {
	return openWith(path, opts, NewDBFile)
}

func (d *DBFile) problem(off int64, sentinel error, format string, args ...any) {
	d.Problems = append(d.Problems, &CorruptionError{File: d.Name, Offset: off, Index: d.Index, Err: sentinel, Detail: fmt.Sprintf(format, args...)})
}

// readMeta reads the meta page at off; ok is false when the file is too
// short to hold one.
func readMeta(r io.ReaderAt, off, size int64) (m [boltMetaBytes]byte, ok bool, err error) {
	if off+boltPageHeader+boltMetaBytes > size {
		return m, false, nil
	}
	n, err := r.ReadAt(m[:], off+boltPageHeader)
	if n == len(m) {
		return m, true, nil
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return m, false, err
}

type boltMeta struct {
	magic, version, pageSize uint32
	checksumOK               bool
}

func parseMeta(m [boltMetaBytes]byte) boltMeta {
	h := fnv.New64a()
	h.Write(m[:boltMetaChecksum])
	return boltMeta{
		magic:      binary.LittleEndian.Uint32(m[0:]),
		version:    binary.LittleEndian.Uint32(m[4:]),
		pageSize:   binary.LittleEndian.Uint32(m[8:]),
		checksumOK: h.Sum64() == binary.LittleEndian.Uint64(m[boltMetaChecksum:]),
	}
}

func (d *DBFile) checkBolt(r io.ReaderAt) error {
	size := d.DataLength
	if HasTrailer(d.Size) {
		size -= TrailerBytes
	}
	m0, ok, err := readMeta(r, 0, size)
	if err != nil {
		return err
	}
	if !ok {
		d.problem(0, ErrNotBolt, "%d bytes are too few for a bbolt meta page", d.Size)
		return nil
	}
	meta := parseMeta(m0)
	d.Magic = meta.magic
	if meta.magic == boltMagic {
		d.Bolt, d.Version, d.PageSize, d.MetaChecksumOK = true, meta.version, meta.pageSize, meta.checksumOK
		return nil
	}
	// Page 0 is damaged or this is not bbolt: bbolt itself falls back to
	// meta page 1, one page further, so look there at common page sizes.
	for _, ps := range []int64{4096, 8192, 16384, 65536} {
		m1, ok, err := readMeta(r, ps, size)
		if err != nil {
			return err
		}
		if meta1 := parseMeta(m1); ok && meta1.magic == boltMagic && int64(meta1.pageSize) == ps {
			d.Bolt, d.Version, d.PageSize, d.MetaChecksumOK = true, meta1.version, meta1.pageSize, meta1.checksumOK
			return nil
		}
	}
	detail := fmt.Sprintf("meta page magic at 0x10 is %#08x, want %#08x (little-endian), and meta page 1 has none either", meta.magic, uint32(boltMagic))
	if meta.magic == swap32(boltMagic) {
		detail = fmt.Sprintf("meta page magic at 0x10 is byte-swapped (%#08x): a big-endian bbolt file, which etcd on little-endian machines cannot open", meta.magic)
	}
	d.problem(0, ErrNotBolt, "%s", detail)
	return nil
}

func swap32(v uint32) uint32 {
	return v>>24 | v>>8&0xff00 | v<<8&0xff0000 | v<<24
}

func (d *DBFile) checkTrailer(r io.ReaderAt) error {
	n := d.Size - TrailerBytes
	d.DataLength = n
	stored := make([]byte, TrailerBytes)
	if k, err := r.ReadAt(stored, n); k != TrailerBytes {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	h := sha256.New()
	buf := make([]byte, 1<<20)
	copied, err := io.CopyBuffer(h, io.NewSectionReader(r, 0, n), buf)
	if err != nil {
		return err
	}
	if copied != n {
		return fmt.Errorf("read %d bytes of %d: %w", copied, n, io.ErrUnexpectedEOF)
	}
	d.StoredSHA, d.DataSHA = stored, h.Sum(nil)
	if bytes.Equal(d.StoredSHA, d.DataSHA) {
		d.Trailer = TrailerOK
		return nil
	}
	d.Trailer = TrailerMismatch
	d.problem(0, ErrSHAMismatch, "the %d-byte trailer at %#x holds sha256 %x, but the %d bytes before it hash to %x; the damage may be anywhere in [0, %#x), and etcdutl snapshot restore refuses the file",
		TrailerBytes, n, d.StoredSHA, n, d.DataSHA, n)
	return nil
}
