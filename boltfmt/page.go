package boltfmt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"

	"github.com/etcdscope/etcdscope/internal/problem"
)

// On-disk format; do not change (go.etcd.io/bbolt internal/common/page.go,
// meta.go, bucket.go, types.go).
const (
	Magic           = 0xED0CDAED
	Version         = 2
	PageHeaderSize  = 16
	ElementSize     = 16
	BucketHeaderLen = 16
	metaBytes       = 64
	metaChecked     = 56 // the checksum covers the meta's first 56 bytes

	// NoFreelist is the freelist page id bbolt stores when the freelist is
	// not persisted (NoFreelistSync, what etcd uses on Linux).
	NoFreelist PageID = 1<<64 - 1

	// BucketLeafFlag marks a leaf element whose value is a bucket.
	BucketLeafFlag = 0x01
)

// PageID is a bbolt page id: the page's offset divided by the page size.
type PageID uint64

// PageType is a page header's flags: an exact value, not a bit mask.
type PageType uint16

const (
	BranchPage   PageType = 0x01
	LeafPage     PageType = 0x02
	MetaPage     PageType = 0x04
	FreelistPage PageType = 0x10
)

func (t PageType) String() string {
	switch t {
	case BranchPage:
		return "branch"
	case LeafPage:
		return "leaf"
	case MetaPage:
		return "meta"
	case FreelistPage:
		return "freelist"
	}
	return fmt.Sprintf("unknown<%02x>", uint16(t))
}

var le = binary.LittleEndian

// Meta is one of the two meta pages, decoded and validated.
type Meta struct {
	Slot     int // 0 or 1
	HeaderID uint64
	Flags    PageType // the page header's flags, MetaPage when sound
	Magic    uint32
	Version  uint32
	PageSize uint32
	MetaFlag uint32
	Root     PageID
	Sequence uint64
	Freelist PageID
	HWM      PageID // the high-water mark: every page id is below it
	TxID     uint64
	Checksum uint64
	Computed uint64 // FNV-1a 64 of the first 56 meta bytes
	// Problem is nil for a meta bbolt would accept (magic, version,
	// checksum) and whose fields are consistent.
	Problem error
}

// Valid reports whether bbolt would accept the meta.
func (m *Meta) Valid() bool { return m.Problem == nil }

// DecodeMeta decodes a meta page from its first 80 bytes.
func DecodeMeta(slot int, b []byte) Meta {
	m := Meta{Slot: slot}
	if len(b) < PageHeaderSize+metaBytes {
		m.Problem = fmt.Errorf("meta page is %d bytes", len(b))
		return m
	}
	m.HeaderID = le.Uint64(b[0:])
	m.Flags = PageType(le.Uint16(b[8:]))
	mb := b[PageHeaderSize:]
	m.Magic = le.Uint32(mb[0:])
	m.Version = le.Uint32(mb[4:])
	m.PageSize = le.Uint32(mb[8:])
	m.MetaFlag = le.Uint32(mb[12:])
	m.Root = PageID(le.Uint64(mb[16:]))
	m.Sequence = le.Uint64(mb[24:])
	m.Freelist = PageID(le.Uint64(mb[32:]))
	m.HWM = PageID(le.Uint64(mb[40:]))
	m.TxID = le.Uint64(mb[48:])
	m.Checksum = le.Uint64(mb[56:])
	h := fnv.New64a()
	h.Write(mb[:metaChecked])
	m.Computed = h.Sum64()
	switch {
	case m.Magic == swap32(Magic):
		m.Problem = ErrBigEndian
	case m.Magic != Magic:
		m.Problem = fmt.Errorf("magic %#08x, want %#08x", m.Magic, uint32(Magic))
	case m.Version != Version:
		m.Problem = fmt.Errorf("version %d, want %d", m.Version, Version)
	case m.Checksum != m.Computed:
		m.Problem = fmt.Errorf("checksum %#016x, computed %#016x", m.Checksum, m.Computed)
	case m.PageSize < 512 || m.PageSize&(m.PageSize-1) != 0:
		m.Problem = fmt.Errorf("page size %d is not a power of two of at least 512", m.PageSize)
	case m.HWM < 4 && m.HWM != 0:
		m.Problem = fmt.Errorf("high-water mark %d is below 4", m.HWM)
	case m.Root < 2 || m.Root >= m.HWM:
		m.Problem = fmt.Errorf("root page %d outside [2, %d)", m.Root, m.HWM)
	case m.Freelist != NoFreelist && (m.Freelist < 2 || m.Freelist >= m.HWM):
		m.Problem = fmt.Errorf("freelist page %d outside [2, %d)", m.Freelist, m.HWM)
	}
	return m
}

func swap32(v uint32) uint32 { return v>>24 | v>>8&0xff00 | v<<8&0xff0000 | v<<24 }

// Options configure [New].
type Options struct {
	// PageSize is used when neither meta page gives one; 0 means 4096.
	PageSize int
}

// DB is a bbolt file read through io.ReaderAt, page by page, without
// bbolt's runtime. It never writes, locks or maps the file.
//
// A DB is not safe for concurrent use.
type DB struct {
	r        io.ReaderAt
	size     int64
	closer   io.Closer
	PageSize int
	Metas    [2]Meta
	// Active is the meta bbolt would use (-1 when neither is valid) and
	// Why says why.
	Active int
	Why    string
	// PageSizeProblem is set when the page size had to be guessed.
	PageSizeProblem error
}

// Size returns the file's size.
func (db *DB) Size() int64 { return db.size }

// Meta returns the active meta, or meta 0 when neither is valid.
func (db *DB) Meta() *Meta {
	if db.Active >= 0 {
		return &db.Metas[db.Active]
	}
	return &db.Metas[0]
}

// HWM returns the active meta's high-water mark, bounded by the file: the
// number of page ids a walk may visit.
func (db *DB) HWM() PageID { return db.Meta().HWM }

// FilePages returns how many whole pages the file holds.
func (db *DB) FilePages() PageID { return PageID(db.size / int64(db.PageSize)) }

// Open opens path read-only, without a lock (never a pipe or device).
// Its errors are [*InputError]s naming path.
func Open(path string, opts Options) (*DB, error) {
	f, size, err := problem.OpenFile(path)
	if err != nil {
		return nil, err
	}
	db, err := New(f, size, opts)
	if err != nil {
		f.Close()
		hint := ""
		if errors.Is(err, ErrNotBolt) {
			hint = "give a bbolt file, as etcd's member/snap/db"
		}
		return nil, &InputError{Path: path, Err: err, Hint: hint}
	}
	db.closer = f
	return db, nil
}

// New reads both meta pages and chooses the active one as bbolt does: the
// valid one with the larger txid, meta 0 on a tie. When meta 0 is damaged
// the page size comes from meta 1, found by probing 1 KiB to 16 MiB (as
// bbolt's getPageSizeFromSecondMeta), checking that the probe offset equals
// the page size it finds.
func New(r io.ReaderAt, size int64, opts Options) (*DB, error) {
	db := &DB{r: r, size: size, Active: -1}
	if size < PageHeaderSize+metaBytes {
		return nil, ErrNotBolt
	}
	var hdr [PageHeaderSize + metaBytes]byte
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return nil, err
	}
	m0 := DecodeMeta(0, hdr[:])
	ps := 0
	sane := func(m Meta) bool { return m.Magic == Magic && m.PageSize >= 512 && m.PageSize&(m.PageSize-1) == 0 }
	if sane(m0) {
		ps = int(m0.PageSize)
	}
	var m1 Meta
	if ps != 0 && int64(ps)+int64(len(hdr)) <= size {
		if _, err := r.ReadAt(hdr[:], int64(ps)); err != nil {
			return nil, err
		}
		m1 = DecodeMeta(1, hdr[:])
	}
	// Meta 0's page size is trusted when its checksum holds, or when meta 1
	// sits at that offset and agrees; a damaged one past the end of the
	// file is not, and the probe finds meta 1.
	if ps != 0 && m0.Checksum != m0.Computed && !(sane(m1) && m1.PageSize == m0.PageSize) {
		ps = 0
	}
	if ps == 0 {
		// Probe for meta 1.
		found := false
		for off := int64(1024); off <= 16<<20 && off+int64(len(hdr)) <= size; off <<= 1 {
			if _, err := r.ReadAt(hdr[:], off); err != nil {
				return nil, err
			}
			c := DecodeMeta(1, hdr[:])
			if c.Magic == Magic && c.Checksum == c.Computed && int64(c.PageSize) == off {
				m1, ps, found = c, int(off), true
				break
			}
		}
		if !found {
			if m0.Magic != Magic && m0.Magic != swap32(Magic) {
				if m1.Magic != Magic {
					return nil, ErrNotBolt
				}
			}
			ps = opts.PageSize
			if ps == 0 {
				ps = 4096
			}
			if m0.Magic == swap32(Magic) {
				return nil, ErrBigEndian
			}
			db.PageSizeProblem = fmt.Errorf("neither meta page gives a page size; assuming %d", ps)
			if int64(ps)+int64(len(hdr)) <= size {
				if _, err := r.ReadAt(hdr[:], int64(ps)); err != nil {
					return nil, err
				}
				m1 = DecodeMeta(1, hdr[:])
			}
		}
	}
	if m0.Problem == nil && int(m0.PageSize) != ps {
		m0.Problem = fmt.Errorf("page size %d, meta 1 is at offset %d", m0.PageSize, ps)
	}
	if m0.Problem == nil && m0.HeaderID != 0 {
		m0.Problem = fmt.Errorf("page header says id %d", m0.HeaderID)
	}
	if m1.Problem == nil && m1.HeaderID != 1 {
		m1.Problem = fmt.Errorf("page header says id %d", m1.HeaderID)
	}
	db.PageSize = ps
	db.Metas = [2]Meta{m0, m1}
	switch {
	case m0.Valid() && m1.Valid():
		if m1.TxID > m0.TxID {
			db.Active, db.Why = 1, fmt.Sprintf("both metas are valid; meta 1 has the higher txid (%d > %d)", m1.TxID, m0.TxID)
		} else {
			db.Active, db.Why = 0, fmt.Sprintf("both metas are valid; meta 0 has the higher or equal txid (%d >= %d)", m0.TxID, m1.TxID)
		}
	case m0.Valid():
		db.Active, db.Why = 0, fmt.Sprintf("meta 1 is invalid (%v); using meta 0", m1.Problem)
	case m1.Valid():
		db.Active, db.Why = 1, fmt.Sprintf("meta 0 is invalid (%v); using meta 1", m0.Problem)
	default:
		db.Why = "both meta pages are invalid; bbolt refuses to open this file"
	}
	return db, nil
}

// Close closes the file Open opened.
func (db *DB) Close() error {
	if db.closer != nil {
		return db.closer.Close()
	}
	return nil
}

// Page is a page read from the file: its header and its bytes, overflow
// pages included (as far as the file holds them).
type Page struct {
	ID       PageID
	Offset   int64
	HeaderID uint64
	Type     PageType
	Count    uint16
	Overflow uint32
	// Data is the page's bytes, header included: (1+Overflow) pages, cut
	// at the end of the file. It is owned by the caller.
	Data []byte
	// Short is true when the file ends before the page's last overflow page.
	Short bool
}

// ReadHeader reads a page's 16-byte header.
func (db *DB) ReadHeader(id PageID) (Page, error) {
	p := Page{ID: id, Offset: -1} // no offset: id * page size may overflow
	if id >= db.FilePages() {
		return p, fmt.Errorf("page %d is beyond the end of the file (%d pages)", id, db.FilePages())
	}
	p.Offset = int64(id) * int64(db.PageSize)
	var h [PageHeaderSize]byte
	if _, err := db.r.ReadAt(h[:], p.Offset); err != nil {
		return p, err
	}
	p.HeaderID = le.Uint64(h[0:])
	p.Type = PageType(le.Uint16(h[8:]))
	p.Count = le.Uint16(h[10:])
	p.Overflow = le.Uint32(h[12:])
	return p, nil
}

// ReadPage reads a page and its overflow pages, bounded by the file and,
// when limit > 0, by page id limit (the high-water mark, say): overflow
// pages at or past it are not read, the first page always is. A
// corrupted overflow count must not make the reader allocate gigabytes.
func (db *DB) ReadPage(id PageID, limit PageID, buf []byte) (Page, error) {
	p, err := db.readFirst(id, buf)
	if err != nil || p.Overflow == 0 {
		return p, err
	}
	return db.readRest(p, limit)
}

// readFirst reads a page's header and first page in one read.
func (db *DB) readFirst(id PageID, buf []byte) (Page, error) {
	p := Page{ID: id, Offset: -1} // no offset: id * page size may overflow
	if id >= db.FilePages() {
		return p, fmt.Errorf("page %d is beyond the end of the file (%d pages)", id, db.FilePages())
	}
	p.Offset = int64(id) * int64(db.PageSize)
	if cap(buf) < db.PageSize {
		buf = make([]byte, db.PageSize)
	}
	p.Data = buf[:db.PageSize]
	if _, err := db.r.ReadAt(p.Data, p.Offset); err != nil && !errors.Is(err, io.EOF) {
		return p, err
	}
	p.HeaderID = le.Uint64(p.Data[0:])
	p.Type = PageType(le.Uint16(p.Data[8:]))
	p.Count = le.Uint16(p.Data[10:])
	p.Overflow = le.Uint32(p.Data[12:])
	return p, nil
}

// span returns how many pages of p the file (and limit) hold.
func (db *DB) span(p *Page, limit PageID) PageID {
	n := PageID(p.Overflow) + 1
	switch {
	case limit == 0:
	case p.ID >= limit:
		n = 1
	case p.ID+n > limit || p.ID+n < p.ID: // past the limit, or wrapping
		n = limit - p.ID
	}
	if rest := db.FilePages() - p.ID; n > rest {
		n, p.Short = rest, true
	}
	return n
}

// readRest extends a page read by readFirst to its overflow pages.
func (db *DB) readRest(p Page, limit PageID) (Page, error) {
	want := int(db.span(&p, limit)) * db.PageSize
	if want <= len(p.Data) {
		return p, nil
	}
	buf := p.Data[:cap(p.Data)]
	if cap(buf) < want {
		nb := make([]byte, want)
		copy(nb, p.Data)
		buf = nb
	}
	first := len(p.Data)
	p.Data = buf[:want]
	if _, err := db.r.ReadAt(p.Data[first:], p.Offset+int64(first)); err != nil && !errors.Is(err, io.EOF) {
		return p, err
	}
	return p, nil
}

// LeafElement is a decoded leaf element. Key and Value alias the page's
// Data; Problem is set when the element points outside the page (Key and
// Value are then nil).
type LeafElement struct {
	Index  int
	Offset int // of the element header, within the page
	Flags  uint32
	Pos    uint32
	KSize  uint32
	VSize  uint32
	Key    []byte
	Value  []byte
	// Problem says what is wrong with the element's bounds.
	Problem error
}

// IsBucket reports whether the element is a nested bucket.
func (e *LeafElement) IsBucket() bool { return e.Flags&BucketLeafFlag != 0 }

func slicesGrow(dst []LeafElement, n int) []LeafElement {
	if cap(dst) < n {
		return make([]LeafElement, n)
	}
	dst = dst[:n]
	clear(dst)
	return dst
}

// BranchElement is a decoded branch element.
type BranchElement struct {
	Index   int
	Offset  int
	Pos     uint32
	KSize   uint32
	Child   PageID
	Key     []byte
	Problem error
}

// elementsFit reports whether count element headers fit in data.
func elementsFit(data []byte, count int) bool {
	return PageHeaderSize+count*ElementSize <= len(data)
}

// elementHeader reads the header of element i as four little-endian u32
// words (a leaf's flags, pos, ksize and vsize; a branch's pos, ksize and
// the two halves of its child's id) and returns where it is.
func elementHeader(data []byte, i int) (off int, w [4]uint32) {
	off = PageHeaderSize + i*ElementSize
	for j := range w {
		w[j] = le.Uint32(data[off+4*j:])
	}
	return off, w
}

// LeafElements decodes the elements of a leaf page image (a page's Data, or
// an inline bucket's page image), checking every bound against data.
func LeafElements(data []byte, count int) ([]LeafElement, error) {
	return leafElements(nil, data, count, len(data))
}

// leafElements decodes into dst, checking bounds against span, the page's
// full length, of which data may hold only the start: elements whose key
// or value lie past data get a nil Key or Value (and no Problem).
func leafElements(dst []LeafElement, data []byte, count, span int) ([]LeafElement, error) {
	if !elementsFit(data, count) {
		return nil, fmt.Errorf("%d leaf elements do not fit in %d bytes", count, span)
	}
	els := slicesGrow(dst, count)
	for i := range els {
		e := &els[i]
		var w [4]uint32
		e.Offset, w = elementHeader(data, i)
		e.Index, e.Flags, e.Pos, e.KSize, e.VSize = i, w[0], w[1], w[2], w[3]
		start, kend, vend, err := elementBounds(LeafPage, i, e.Offset, e.Pos, e.KSize, e.VSize, count, span)
		if e.Problem = err; err != nil {
			continue
		}
		if kend <= uint64(len(data)) {
			e.Key = data[start:kend:kend]
		}
		if vend <= uint64(len(data)) {
			e.Value = data[kend:vend:vend]
		}
	}
	return els, nil
}

// elementBounds checks where the key (and, for a leaf, the value) of
// element i, whose header is at off, lie in a page image of span bytes
// holding count elements: after the element array and inside the page. It
// returns where the key starts and ends and where the value ends.
func elementBounds(typ PageType, i, off int, pos, ksize, vsize uint32, count, span int) (start, kend, vend uint64, err error) {
	start = uint64(off) + uint64(pos)
	kend = start + uint64(ksize)
	vend = kend + uint64(vsize)
	switch {
	case ksize == 0:
		err = fmt.Errorf("%s element %d has an empty key", typ, i)
	case vend > uint64(span):
		fields := fmt.Sprintf("pos %d, ksize %d", pos, ksize)
		if typ == LeafPage {
			fields += fmt.Sprintf(", vsize %d", vsize)
		}
		err = fmt.Errorf("%s element %d (%s) ends at %d, past the page's %d bytes", typ, i, fields, vend, span)
	case start < uint64(PageHeaderSize+count*ElementSize):
		err = fmt.Errorf("%s element %d's key at %d overlaps the element array", typ, i, start)
	}
	return start, kend, vend, err
}

// BranchElements decodes the elements of a branch page.
func BranchElements(data []byte, count int) ([]BranchElement, error) {
	if !elementsFit(data, count) {
		return nil, fmt.Errorf("%d branch elements do not fit in %d bytes", count, len(data))
	}
	els := make([]BranchElement, count)
	for i := range els {
		e := &els[i]
		var w [4]uint32
		e.Offset, w = elementHeader(data, i)
		e.Index, e.Pos, e.KSize, e.Child = i, w[0], w[1], PageID(w[2])|PageID(w[3])<<32
		start, end, _, err := elementBounds(BranchPage, i, e.Offset, e.Pos, e.KSize, 0, count, len(data))
		if e.Problem = err; err == nil {
			e.Key = data[start:end:end]
		}
	}
	return els, nil
}

// FreelistIDs decodes a freelist page's ids (with the 0xFFFF count escape).
func FreelistIDs(data []byte, count uint16) ([]PageID, error) {
	n := uint64(count)
	body := data[min(len(data), PageHeaderSize):]
	if count == 0xFFFF {
		if len(body) < 8 {
			return nil, fmt.Errorf("freelist count escape but no count")
		}
		n = le.Uint64(body)
		body = body[8:]
	}
	if n > uint64(len(body)/8) {
		return nil, fmt.Errorf("freelist of %d ids does not fit in %d bytes", n, len(body))
	}
	ids := make([]PageID, n)
	for i := range ids {
		ids[i] = PageID(le.Uint64(body[8*i:]))
	}
	return ids, nil
}

// Bucket is a decoded bucket header: a root page, or an inline page image.
type Bucket struct {
	Root     PageID
	Sequence uint64
	Inline   []byte // the inline page image when Root is 0
}

// DecodeBucket decodes a bucket entry's value.
func DecodeBucket(v []byte) (Bucket, error) {
	if len(v) < BucketHeaderLen {
		return Bucket{}, fmt.Errorf("bucket value of %d bytes is shorter than a bucket header", len(v))
	}
	b := Bucket{Root: PageID(le.Uint64(v)), Sequence: le.Uint64(v[8:])}
	switch {
	case b.Root == 0 && len(v) < BucketHeaderLen+PageHeaderSize:
		return b, fmt.Errorf("inline bucket value of %d bytes has no page header", len(v))
	case b.Root == 0:
		b.Inline = v[BucketHeaderLen:]
	case len(v) != BucketHeaderLen:
		return b, fmt.Errorf("bucket value of %d bytes for root page %d, want %d", len(v), b.Root, BucketHeaderLen)
	}
	return b, nil
}

// InlineHeader decodes an inline bucket's page header.
func InlineHeader(img []byte) (PageType, uint16, uint32) {
	return PageType(le.Uint16(img[8:])), le.Uint16(img[10:]), le.Uint32(img[12:])
}
