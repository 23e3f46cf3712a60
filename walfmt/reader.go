package walfmt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/etcdscope/etcdscope/internal/problem"
)

// On-disk format; do not change (etcd server/storage/wal/decoder.go, encoder.go).
const (
	frameHeaderBytes = 8   // the little-endian length word
	sectorBytes      = 512 // torn-write detection granularity (minSectorSize)
	lengthMask       = 1<<56 - 1
	reservedMask     = 0xF << 59
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// FrameKind says what a [Frame]'s bytes are.
type FrameKind uint8

const (
	// KindSegment marks the start of a segment. It covers no bytes and
	// carries the segment-level problems (sequence gaps, name mismatches).
	KindSegment FrameKind = iota
	// KindRecord is a length word, a walpb.Record and its padding.
	KindRecord
	// KindZero is zero-filled space after the end of the log: etcd's
	// preallocation. It is not a problem.
	KindZero
	// KindDamage is a run of bytes that does not form a record: a torn
	// tail, garbage after the end, a zeroed region or bytes skipped while
	// resynchronising. Its Problems say which.
	KindDamage
)

var frameKinds = enum{"kind", []string{"segment", "record", "zero", "damage"}}

func (k FrameKind) String() string { return name(frameKinds, k) }

// Frame is one run of bytes of a segment as the reader classified it. The
// frames of a segment tile it: each starts where the previous one ended.
//
// A Frame and the slices in it are owned by the [Reader] and valid until
// the next call to [Reader.Next]; copy what you keep.
type Frame struct {
	Kind         FrameKind
	Segment      *Segment
	SegmentIndex int   // position of Segment in the reader's list
	Offset       int64 // byte offset of the frame in its segment
	Size         int64 // bytes covered: 8+Length+Pad for a record

	// Records only.
	LengthWord uint64
	Length     int64  // L, the protobuf record's length
	Pad        int64  // P, padding bytes after it
	Raw        []byte // the L record bytes
	Record     Record
	// CRCOK is true when the record's stored CRC equals the running CRC
	// (for a CRC record: the running CRC of the previous segment).
	CRCOK bool
	// CRCUnchecked is true for the first record after the reader skipped
	// damaged bytes: the skipped data is missing from the chain, so its CRC
	// cannot be checked (the reader adopts it and checks the next ones).
	CRCUnchecked bool
	// CRC is the running CRC the reader computed after this record.
	CRC uint32
	// Suspect, for a record whose CRC mismatch one flipped bit explains,
	// is the offset in the segment of the byte holding that bit; 0 when
	// none does. SuspectBit is that bit (0 the lowest): flipping it back
	// gives the bytes etcd wrote. For a record that does not decode
	// (KindDamage) they name the one bit whose flip makes it decode with a
	// CRC that continues the chain.
	Suspect    int64
	SuspectBit uint8

	// Decoded payload, according to Record.Type (nil when it does not decode).
	Entry    *Entry
	State    *HardState
	Snapshot *Snapshot
	Metadata *Metadata

	// Superseded is true when a later entry with the same or a lower index
	// replaced this one (known only when the reader was given an
	// [Overwrites] table). Committed is true when the entry is part of the
	// effective log at or below the highest commit index of any HardState
	// (likewise).
	Superseded bool
	Committed  bool

	// Problems found in these bytes, each a *CorruptionError.
	Problems []error

	entry    Entry
	state    HardState
	snapshot Snapshot
	metadata Metadata
}

// CloneInto copies f into dst so that it stays valid after the next call to
// [Reader.Next]: the record bytes are appended to arena (which is returned,
// grown) and dst's payload pointers point into dst itself. dst must not be
// copied afterwards (keep it in place, e.g. in a slice that is not grown).
func (f *Frame) CloneInto(dst *Frame, arena []byte) []byte {
	probs := dst.Problems[:0]
	*dst = *f
	dst.Problems = append(probs, f.Problems...)
	if f.Raw != nil {
		start := len(arena)
		arena = append(arena, f.Raw...)
		raw := arena[start:len(arena):len(arena)]
		rebase := func(b []byte) []byte {
			if b == nil {
				return nil
			}
			off := cap(f.Raw) - cap(b) // b is a subslice of f.Raw
			if off < 0 || off+len(b) > len(f.Raw) {
				return append([]byte(nil), b...)
			}
			return raw[off : off+len(b) : off+len(b)]
		}
		dst.Raw = raw
		dst.Record.Data = rebase(f.Record.Data)
		dst.entry.Data = rebase(f.entry.Data)
	}
	dst.Entry, dst.State, dst.Snapshot, dst.Metadata = nil, nil, nil, nil
	if f.Entry != nil {
		dst.Entry = &dst.entry
	}
	if f.State != nil {
		dst.State = &dst.state
	}
	if f.Snapshot != nil {
		dst.Snapshot = &dst.snapshot
	}
	if f.Metadata != nil {
		dst.Metadata = &dst.metadata
	}
	return arena
}

// Trusted reports whether a record's payload can be believed: its CRC
// matched, or could not be checked right after a resync. Untrusted
// payloads are still decoded, for display, but never feed the log checks.
func (f *Frame) Trusted() bool {
	return f.Kind == KindRecord && (f.CRCOK || f.CRCUnchecked)
}

// Options configure a [Reader].
type Options struct {
	// Strict makes Next return the first problem as an error.
	Strict bool
	// Overwrites, from [ScanOverwrites], lets the reader mark superseded
	// and committed entries.
	Overwrites *Overwrites
	// BufferSize is the read-ahead window; 0 means 1 MiB.
	BufferSize int
	// EndAtZero ends the log, in the last segment, at the first zero
	// length word, as etcd's reader ends it, without reading the space
	// after it: a reader that only wants the log (compare) skips the
	// preallocated tail, and with it the checks for garbage after the end
	// and for records after a zeroed region. The tail is one KindZero
	// frame.
	EndAtZero bool

	// lazyEntryCRC skips the CRC of entries that do not rewind the log,
	// for a first pass that only needs rewinds and commits ([ScanOverwrites]).
	// Because the running CRC is reseeded with every record's stored CRC, an
	// entry that does rewind can still be checked on its own.
	lazyEntryCRC bool
}

// Reader reads the frames of a sequence of segments, in order, through
// io.ReaderAt: it never holds more than its window plus the largest record.
// It keeps going after damage and resynchronises where the bytes allow.
//
// A Reader is not safe for concurrent use.
type Reader struct {
	segs []Segment
	opts Options

	si      int   // current segment
	pos     int64 // next offset in the current segment
	started bool  // the current segment's KindSegment frame was returned
	inTail  bool  // the current segment's log ended; only zeros should follow

	buf     []byte // window: bytes [bufOff, bufOff+len(buf)) of segment si
	scratch []byte // for peek
	flip    []byte // for reseedAfter
	bufOff  int64
	bufSeg  int

	crc      uint32 // running CRC
	crcKnown bool   // crc is anchored (we began at the first segment or read a CRC record)
	altCRC   uint32 // after a chain break, the CRC we computed ourselves
	altValid bool
	resynced bool // bytes were skipped; the next data record's CRC cannot be checked
	damaged  bool // damage since the last trusted entry: an index gap is its consequence

	// Log-level state.
	haveEntry  bool
	lastIndex  uint64 // index of the last entry record
	maxCommit  uint64
	snapIndex  uint64 // highest snapshot record index seen since the last entry
	firstMeta  []byte
	haveMeta   bool
	prevSeq    uint64
	prevNameOK bool

	frame Frame
	err   error // sticky
}

// NewReader returns a reader over segs, which must be in log order.
func NewReader(segs []Segment, opts Options) *Reader {
	if opts.BufferSize <= 0 {
		opts.BufferSize = 1 << 20
	}
	r := &Reader{segs: segs, opts: opts, bufSeg: -1}
	r.crcKnown = len(segs) > 0 && segs[0].NameOK && segs[0].Seq == 0
	return r
}

// ReadMetadata returns the member and cluster ids of the WAL in segs:
// the metadata record a segment starts with, after its CRC record, looked
// for among the first segment's first records; nil when they hold none.
func ReadMetadata(segs []Segment) *Metadata {
	r := NewReader(segs, Options{})
	for range 8 {
		f, err := r.Next()
		if err != nil {
			return nil
		}
		if f.Metadata != nil {
			md := *f.Metadata
			return &md
		}
	}
	return nil
}

// Segments returns the reader's segments.
func (r *Reader) Segments() []Segment { return r.segs }

// Offset returns the segment index and byte offset of the frame the next
// call to Next returns.
func (r *Reader) Offset() (segment int, offset int64) { return r.si, r.pos }

// Next returns the next frame, io.EOF after the last one, or an error when
// reading cannot go on (an I/O error, or a problem in Strict mode). Damage
// is not an error: it is a frame with Problems.
func (r *Reader) Next() (*Frame, error) {
	if r.err != nil {
		return nil, r.err
	}
	f, err := r.next()
	if err != nil {
		r.err = err
		return nil, err
	}
	if r.opts.Strict && len(f.Problems) > 0 {
		r.err = f.Problems[0]
		return f, r.err
	}
	return f, nil
}

func (r *Reader) next() (*Frame, error) {
	for {
		if r.si >= len(r.segs) {
			return nil, io.EOF
		}
		seg := &r.segs[r.si]
		if !r.started {
			r.started = true
			return r.segmentFrame(seg), nil
		}
		if r.pos >= seg.Size {
			r.si++
			r.pos = 0
			r.started = false
			r.inTail = false
			continue
		}
		return r.frameAt(seg)
	}
}

func (r *Reader) reset(kind FrameKind, seg *Segment, off, size int64) *Frame {
	if kind == KindDamage {
		r.damaged = true
	}
	f := &r.frame
	probs := f.Problems[:0]
	*f = Frame{}
	f.Problems = probs
	f.Kind = kind
	f.Segment = seg
	f.SegmentIndex = r.si
	f.Offset = off
	f.Size = size
	return f
}

func (r *Reader) problem(f *Frame, off int64, sentinel error, format string, args ...any) {
	e := &CorruptionError{Segment: f.Segment.Name, Offset: off, Err: sentinel, Detail: fmt.Sprintf(format, args...)}
	if f.Entry != nil {
		e.Index = f.Entry.Index
	}
	f.Problems = append(f.Problems, e)
}

func (r *Reader) segmentFrame(seg *Segment) *Frame {
	f := r.reset(KindSegment, seg, 0, 0)
	if r.si > 0 && seg.NameOK && r.prevNameOK {
		prev := &r.segs[r.si-1]
		switch {
		case seg.Seq != r.prevSeq+1:
			r.problem(f, 0, ErrSequenceGap, "sequence %d follows %d in %s", seg.Seq, r.prevSeq, prev.Name)
		case seg.Index < prev.Index:
			r.problem(f, 0, ErrSequenceGap, "index %d goes back from %d in %s", seg.Index, prev.Index, prev.Name)
		case r.haveEntry && seg.Index != r.lastIndex+1:
			r.problem(f, 0, ErrSegmentIndexMismatch, "name says index %d, the last entry before it is %d", seg.Index, r.lastIndex)
		}
	}
	r.prevSeq, r.prevNameOK = seg.Seq, seg.NameOK
	if r.si > 0 && !seg.NameOK {
		r.prevNameOK = false
	}
	return f
}

// view returns bytes [off, off+n) of the current segment, reading through
// the window. n must not exceed what is left of the segment.
func (r *Reader) view(seg *Segment, off, n int64) ([]byte, error) {
	if r.bufSeg == r.si && off >= r.bufOff && off+n <= r.bufOff+int64(len(r.buf)) {
		s := off - r.bufOff
		return r.buf[s : s+n : s+n], nil
	}
	want := max(n, int64(r.opts.BufferSize))
	if rest := seg.Size - off; want > rest {
		want = rest
	}
	if want < n {
		return nil, fmt.Errorf("walfmt: %s: internal: view %d bytes at %#x beyond size %d", problem.Path(seg.Name), n, off, seg.Size)
	}
	if int64(cap(r.buf)) < want {
		r.buf = make([]byte, want, max(want, int64(r.opts.BufferSize)))
	}
	r.buf = r.buf[:want]
	m, err := seg.R.ReadAt(r.buf, off)
	if int64(m) < want {
		r.bufSeg = -1
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("reading %s at offset %#x: %w", segPath(seg), off, problem.UnwrapPath(err))
	}
	r.bufSeg, r.bufOff = r.si, off
	return r.buf[:n:n], nil
}

// peek returns bytes [off, off+n) from the window when it holds them, else
// reads them alone into a scratch buffer, leaving the window where it is.
func (r *Reader) peek(seg *Segment, off, n int64) ([]byte, error) {
	if r.bufSeg == r.si && off >= r.bufOff && off+n <= r.bufOff+int64(len(r.buf)) {
		s := off - r.bufOff
		return r.buf[s : s+n : s+n], nil
	}
	if cap(r.scratch) < int(n) {
		r.scratch = make([]byte, n)
	}
	b := r.scratch[:n]
	if m, err := seg.R.ReadAt(b, off); int64(m) < n {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("reading %s at offset %#x: %w", segPath(seg), off, problem.UnwrapPath(err))
	}
	return b, nil
}

// segPath names a segment in a message, escaped.
func segPath(s *Segment) string {
	if s.Path != "" {
		return problem.Path(s.Path)
	}
	return problem.Path(s.Name)
}

func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }

// splitLengthWord returns the record length L and padding P of a length
// word, and whether the word is well formed: reserved bits clear, the pad
// flag set exactly when P > 0, and 8+L+P a multiple of 8.
func splitLengthWord(w uint64) (l, p int64, ok bool) {
	l = int64(w & lengthMask)
	if w>>63 == 1 {
		p = int64((w >> 56) & 7)
	}
	ok = w&reservedMask == 0 && (w>>63 == 1) == (p != 0) && (l+p)%8 == 0
	return l, p, ok
}

// shortEndAt handles the end of a segment too short for a length word.
func (r *Reader) shortEndAt(seg *Segment, pos int64) (*Frame, error) {
	rem := seg.Size - pos
	b, err := r.view(seg, pos, rem)
	if err != nil {
		return nil, err
	}
	r.pos = seg.Size
	if allZero(b) {
		return r.reset(KindZero, seg, pos, rem), nil
	}
	f := r.reset(KindDamage, seg, pos, rem)
	if r.inTail {
		r.problem(f, pos, ErrGarbageAfterEnd, "%d non-zero bytes at the end of the file", rem)
	} else if r.isLastSegment() {
		r.problem(f, pos, ErrTornTail, "the file ends %d bytes into a length word", rem)
	} else {
		r.problem(f, pos, ErrBadLength, "the file ends %d bytes into a length word", rem)
	}
	return f, nil
}

// frameAt classifies the bytes at r.pos.
func (r *Reader) frameAt(seg *Segment) (*Frame, error) {
	pos := r.pos
	if seg.Size-pos < frameHeaderBytes {
		return r.shortEndAt(seg, pos)
	}
	hdr, err := r.view(seg, pos, frameHeaderBytes)
	if err != nil {
		return nil, err
	}
	w := le64(hdr)
	if w == 0 || r.inTail {
		return r.zeroAt(seg, pos)
	}
	l, p, wellFormed := splitLengthWord(w)
	end := pos + frameHeaderBytes + l + p
	if l < 2 || end > seg.Size || end < pos || (!wellFormed && (l+p)%8 != 0) {
		return r.badLengthAt(seg, pos, w, l, p)
	}
	if r.opts.lazyEntryCRC && l > lazySkipBytes && wellFormed {
		if f, ok, err := r.skimEntry(seg, pos, end, w, l, p); ok || err != nil {
			return f, err
		}
	}
	body, err := r.view(seg, pos+frameHeaderBytes, l+p)
	if err != nil {
		return nil, err
	}
	rec, decErr := DecodeRecord(body[:l])
	if decErr != nil {
		return r.badRecordAt(seg, pos, end, w, l, p, decErr)
	}
	// Look ahead before handing out slices of the window: it may move it.
	torn := false
	crcWant := r.crc
	if rec.Type != CRCType && r.opts.lazyEntryCRC && r.skipEntryCRC(rec) {
		crcWant = rec.CRC // trusted unchecked: see Options.lazyEntryCRC
	} else if rec.Type != CRCType {
		crcWant = crc32.Update(r.crc, castagnoli, rec.Data)
		if crcWant != rec.CRC && !(r.altValid && crc32.Update(r.altCRC, castagnoli, rec.Data) == rec.CRC) {
			torn = r.isLastSegment() && isTorn(pos+frameHeaderBytes, body) && r.scanValid(seg, end) < 0
		}
		if body, err = r.view(seg, pos+frameHeaderBytes, l+p); err != nil {
			return nil, err
		}
		rec, _ = DecodeRecord(body[:l])
	}
	if torn {
		f := r.reset(KindDamage, seg, pos, end-pos)
		r.problem(f, pos, ErrTornTail, "record of %d bytes has a zeroed sector and its crc does not match; nothing valid follows", l)
		r.pos = end
		r.inTail = true
		return f, nil
	}

	f := r.reset(KindRecord, seg, pos, end-pos)
	f.LengthWord, f.Length, f.Pad = w, l, p
	f.Raw = body[:l]
	f.Record = rec
	r.pos = end

	if !wellFormed {
		r.problem(f, pos, ErrNonzeroPadding, "length word %#016x has reserved or padding bits that disagree with its length", w)
	}
	if pad := body[l:]; !allZero(pad) {
		r.problem(f, pos+frameHeaderBytes+l, ErrNonzeroPadding, "padding % x of the record at %#x is not zero", pad, pos)
	}

	if rec.Type == CRCType {
		r.checkCRCRecord(f)
	} else {
		r.checkCRC(f, crcWant)
		r.decodePayload(f)
	}
	return f, nil
}

func (r *Reader) isLastSegment() bool { return r.si == len(r.segs)-1 }

// lazySkipBytes is the record size above which lazy mode reads only the
// head of an entry that continues the log.
const lazySkipBytes = 16 << 10

// skimEntry reads only the first bytes of a large record and, when it is an
// entry that continues the log (index = last + 1) in lazy mode, returns a
// frame with the entry's term and index but no data, without reading the
// rest. Anything else (another record type, a rewind, bytes that do not
// parse) returns ok=false and the caller reads the whole frame.
func (r *Reader) skimEntry(seg *Segment, pos, end int64, w uint64, l, p int64) (*Frame, bool, error) {
	if !r.haveEntry || r.resynced || r.altValid {
		return nil, false, nil
	}
	head, err := r.peek(seg, pos+frameHeaderBytes, 64)
	if err != nil {
		return nil, false, err
	}
	var typ, crc uint64
	var n int
	if head[0] != 0x08 {
		return nil, false, nil
	}
	if typ, n = protowire.ConsumeVarint(head[1:]); n < 0 || RecordType(typ) != EntryType {
		return nil, false, nil
	}
	head = head[1+n:]
	if len(head) < 2 || head[0] != 0x10 {
		return nil, false, nil
	}
	if crc, n = protowire.ConsumeVarint(head[1:]); n < 0 {
		return nil, false, nil
	}
	head = head[1+n:]
	if len(head) < 2 || head[0] != 0x1a {
		return nil, false, nil
	}
	dataLen, n := protowire.ConsumeVarint(head[1:])
	if n < 0 || int64(dataLen) > l {
		return nil, false, nil
	}
	var e Entry
	head = head[1+n:]
	for _, want := range []byte{0x08, 0x10, 0x18} {
		if len(head) < 2 || head[0] != want {
			return nil, false, nil
		}
		v, n := protowire.ConsumeVarint(head[1:])
		if n < 0 {
			return nil, false, nil
		}
		switch want {
		case 0x08:
			e.Type = EntryKind(int32(v))
		case 0x10:
			e.Term = v
		case 0x18:
			e.Index = v
		}
		head = head[1+n:]
	}
	if e.Index != r.lastIndex+1 {
		return nil, false, nil
	}
	f := r.reset(KindRecord, seg, pos, end-pos)
	f.LengthWord, f.Length, f.Pad = w, l, p
	f.Record = Record{Type: EntryType, CRC: uint32(crc)}
	f.CRCOK = true // unchecked, as lazy mode allows for entries that continue the log
	f.CRC = uint32(crc)
	f.entry = e
	f.Entry = &f.entry
	r.crc = uint32(crc)
	r.crcKnown = true
	r.pos = end
	r.checkEntry(f)
	return f, true, nil
}

// skipEntryCRC reports whether, in lazy mode, rec is an entry whose CRC
// need not be checked: it neither rewinds the log nor starts it.
func (r *Reader) skipEntryCRC(rec Record) bool {
	if rec.Type != EntryType || !r.haveEntry || r.resynced || r.altValid {
		return false
	}
	e, err := DecodeEntry(rec.Data)
	return err == nil && e.Index == r.lastIndex+1
}

// checkCRCRecord checks a segment's leading CRC record against the running
// CRC and, like etcd, adopts the stored value. The CRC we computed stays
// available for the next record, so that a damaged CRC record does not make
// the records after it look damaged too.
func (r *Reader) checkCRCRecord(f *Frame) {
	stored := f.Record.CRC
	f.CRC = stored
	f.CRCOK = true
	if r.crcKnown && stored != r.crc {
		f.CRCOK = false
		r.problem(f, f.Offset, ErrCRCChainBreak, "segment starts with crc %#08x, the previous segment ended with %#08x", stored, r.crc)
		r.altCRC, r.altValid = r.crc, true
	} else {
		r.altValid = false
	}
	r.crc = stored
	r.crcKnown = true
	r.resynced = false
}

// checkCRC checks a data record. After a mismatch the running CRC is
// reseeded with the record's stored CRC, so that only damaged records are
// reported (etcd's decoder would report every later record too).
func (r *Reader) checkCRC(f *Frame, want uint32) {
	stored := f.Record.CRC
	switch {
	case want == stored:
		f.CRCOK = true
	case r.resynced:
		f.CRCUnchecked = true
	case r.altValid && crc32.Update(r.altCRC, castagnoli, f.Record.Data) == stored:
		f.CRCOK = true // the chain break was in the CRC record, not in the data
	case !r.crcKnown:
		f.CRCOK = false
		r.problem(f, f.Offset, ErrCRCMismatch, "no crc record anchors this segment; stored %#08x, computed from 0 %#08x", stored, want)
	default:
		f.CRCOK = false
		hint := ""
		if j, b, ok := bitflip(r.crc, f.Record.Data, stored); ok {
			hint = fmt.Sprintf("; flipping bit %d of data byte %d would match", b, j)
			f.Suspect = f.Offset + 8 + int64(f.Record.DataOffset+j)
			f.SuspectBit = uint8(b)
		}
		r.problem(f, f.Offset, ErrCRCMismatch, "stored %#08x, running crc %#08x%s", stored, want, hint)
	}
	f.CRC = stored
	r.crc = stored
	r.crcKnown = true
	r.altValid = false
	r.resynced = false
}

// bitflip looks for a single flipped bit in data that explains a CRC
// mismatch (the idea of pebble internal/bitflip), in O(8*len(data)): CRC is
// linear, so flipping bit b of byte j changes the CRC by a difference that
// depends only on b and on how many bytes follow j. Starting from the last
// byte, each step back runs the eight differences through one zero byte.
func bitflip(seed uint32, data []byte, want uint32) (j, b int, ok bool) {
	if len(data) == 0 || len(data) > 16<<20 {
		return 0, 0, false
	}
	syndrome := crc32.Update(seed, castagnoli, data) ^ want
	var diff [8]uint32
	for b := range diff {
		diff[b] = castagnoli[1<<b]
	}
	for j := len(data) - 1; j >= 0; j-- {
		for b := range diff {
			if diff[b] == syndrome {
				return j, b, true
			}
			diff[b] = castagnoli[byte(diff[b])] ^ diff[b]>>8
		}
	}
	return 0, 0, false
}

func (r *Reader) decodePayload(f *Frame) {
	data := f.Record.Data
	trusted := f.Trusted()
	if !trusted {
		r.damaged = true
	}
	var err error
	switch f.Record.Type {
	case EntryType:
		if f.entry, err = DecodeEntry(data); err == nil {
			f.Entry = &f.entry
			if trusted {
				r.checkEntry(f)
			}
		}
	case StateType:
		if f.state, err = DecodeHardState(data); err == nil {
			f.State = &f.state
			if trusted {
				r.maxCommit = max(r.maxCommit, f.state.Commit)
			}
		}
	case SnapshotType:
		if f.snapshot, err = DecodeSnapshot(data); err == nil {
			f.Snapshot = &f.snapshot
			if trusted {
				r.snapIndex = max(r.snapIndex, f.snapshot.Index)
			}
		}
	case MetadataType:
		if f.metadata, err = DecodeMetadata(data); err == nil && trusted {
			f.Metadata = &f.metadata
			if !r.haveMeta {
				r.firstMeta = append([]byte(nil), data...)
				r.haveMeta = true
			} else if !bytes.Equal(r.firstMeta, data) {
				first, _ := DecodeMetadata(r.firstMeta)
				r.problem(f, f.Offset, ErrMetadataConflict, "node %x cluster %x, the first metadata record says node %x cluster %x",
					f.metadata.NodeID, f.metadata.ClusterID, first.NodeID, first.ClusterID)
			}
		} else if err == nil {
			f.Metadata = &f.metadata
		}
	}
	if err != nil && trusted {
		r.problem(f, f.Offset, ErrUndecodablePayload, "%s record: %v", f.Record.Type, err)
	}
}

// checkEntry applies the log rules to an entry in WAL order.
func (r *Reader) checkEntry(f *Frame) {
	e := f.Entry
	if r.haveEntry {
		switch {
		case e.Index <= r.lastIndex && e.Index <= r.maxCommit:
			r.problem(f, f.Offset, ErrCommittedOverwritten, "entry %d (term %d) replaces an entry the log had committed (commit %d)", e.Index, e.Term, r.maxCommit)
		case e.Index > r.lastIndex+1 && r.snapIndex+1 < e.Index && !r.damaged:
			r.problem(f, f.Offset, ErrIndexGap, "entry %d follows entry %d with no snapshot record in between", e.Index, r.lastIndex)
		}
	}
	r.damaged = false
	r.haveEntry = true
	r.lastIndex = e.Index
	r.snapIndex = 0
	if ow := r.opts.Overwrites; ow != nil {
		f.Superseded = ow.superseded(r.si, f.Offset, e.Index)
		f.Committed = !f.Superseded && e.Index <= ow.Commit
	}
}

// zeroAt handles a zero length word, or any bytes once the log has ended:
// preallocated zeros, a zeroed region with records after it, or garbage.
func (r *Reader) zeroAt(seg *Segment, pos int64) (*Frame, error) {
	if r.opts.EndAtZero && r.isLastSegment() {
		r.pos = seg.Size
		r.inTail = true
		return r.reset(KindZero, seg, pos, seg.Size-pos), nil
	}
	z, err := r.firstNonZero(seg, pos)
	if err != nil {
		return nil, err
	}
	if z < 0 {
		r.pos = seg.Size
		r.inTail = true
		return r.reset(KindZero, seg, pos, seg.Size-pos), nil
	}
	if z8 := z &^ 7; z8 > pos {
		// Hand out the zeros first; the non-zero bytes are the next frame.
		if !r.inTail {
			if q := r.scanValid(seg, z8); q >= 0 {
				f := r.reset(KindDamage, seg, pos, q-pos)
				r.problem(f, pos, ErrZeroedRegion, "%d bytes from %#x are zero or undecodable; valid records resume at %#x, which etcd would never read", q-pos, pos, q)
				r.pos = q
				r.resynced = true
				return f, nil
			}
		}
		r.pos = z8
		r.inTail = true
		return r.reset(KindZero, seg, pos, z8-pos), nil
	}
	// pos itself holds non-zero bytes after the end of the log.
	if !r.inTail {
		r.inTail = true
	}
	end, err := r.nextZeroSector(seg, pos)
	if err != nil {
		return nil, err
	}
	f := r.reset(KindDamage, seg, pos, end-pos)
	r.problem(f, z, ErrGarbageAfterEnd, "%d bytes after the end of the log are not zero", end-pos)
	r.pos = end
	return f, nil
}

// badLengthAt handles a length word whose frame cannot be read.
func (r *Reader) badLengthAt(seg *Segment, pos int64, w uint64, l, p int64) (*Frame, error) {
	if q := r.scanValid(seg, pos+frameHeaderBytes); q >= 0 {
		f := r.reset(KindDamage, seg, pos, q-pos)
		r.problem(f, pos, ErrBadLength, "length word %#016x (record %d bytes, pad %d) does not fit; skipped %d bytes to the next valid record at %#x", w, l, p, q-pos, q)
		r.pos = q
		r.resynced = true
		return f, nil
	}
	f := r.reset(KindDamage, seg, pos, seg.Size-pos)
	r.pos = seg.Size
	r.inTail = true
	_, _, ok := splitLengthWord(w)
	if r.isLastSegment() && ok && l >= 2 && pos+frameHeaderBytes+l+p > seg.Size {
		r.problem(f, pos, ErrTornTail, "record of %d bytes at %#x is cut off by the end of the file %d bytes in", l, pos, seg.Size-pos-frameHeaderBytes)
		return f, nil
	}
	r.problem(f, pos, ErrBadLength, "length word %#016x (record %d bytes, pad %d) cannot be right; nothing valid follows", w, l, p)
	return f, nil
}

// badRecordAt handles a frame whose bytes are not a walpb.Record.
func (r *Reader) badRecordAt(seg *Segment, pos, end int64, w uint64, l, p int64, decErr error) (*Frame, error) {
	body, err := r.view(seg, pos+frameHeaderBytes, l+p)
	if err != nil {
		return nil, err
	}
	torn := r.isLastSegment() && isTorn(pos+frameHeaderBytes, body)
	if torn && r.scanValid(seg, end) < 0 {
		f := r.reset(KindDamage, seg, pos, end-pos)
		r.problem(f, pos, ErrTornTail, "record of %d bytes has a zeroed sector and does not decode (%v); nothing valid follows", l, decErr)
		r.pos = end
		r.inTail = true
		return f, nil
	}
	if r.validFrameAt(seg, end) {
		// The length was right: only this record is damaged.
		if body, err = r.view(seg, pos+frameHeaderBytes, l+p); err != nil {
			return nil, err
		}
		f := r.reset(KindDamage, seg, pos, end-pos)
		f.LengthWord, f.Length, f.Pad = w, l, p
		hint := r.reseedAfter(f, body[:l])
		r.problem(f, pos, ErrBadRecord, "%v%s", decErr, hint)
		r.pos = end
		return f, nil
	}
	if q := r.scanValid(seg, pos+frameHeaderBytes); q >= 0 {
		f := r.reset(KindDamage, seg, pos, q-pos)
		r.problem(f, pos, ErrBadRecord, "%v; skipped %d bytes to the next valid record at %#x", decErr, q-pos, q)
		r.pos = q
		r.resynced = true
		return f, nil
	}
	f := r.reset(KindDamage, seg, pos, end-pos)
	r.pos = end
	r.inTail = true
	r.problem(f, pos, ErrBadRecord, "%v; nothing valid follows", decErr)
	return f, nil
}

// reseedAfter picks the CRC chain up after a record that does not decode,
// as checkCRC does after a mismatch, so that the records after it are not
// reported too. The damaged record's stored CRC is the one of the single
// flipped bit, if any, that makes the record decode with a CRC that
// continues the chain (its byte is then the frame's Suspect); else the
// chain is lost at this record and the next data record's CRC is adopted
// unchecked, as after a resync. It returns a hint for the problem's detail.
func (r *Reader) reseedAfter(f *Frame, raw []byte) string {
	if r.crcKnown {
		r.flip = append(r.flip[:0], raw...)
		if j, b, crc, ok := recordBitflip(r.crc, r.flip); ok {
			f.Suspect, f.SuspectBit = f.Offset+frameHeaderBytes+int64(j), uint8(b)
			r.crc, r.altValid, r.resynced = crc, false, false
			return fmt.Sprintf("; flipping bit %d of record byte %d makes it decode, with a crc that continues the chain", b, j)
		}
	}
	r.resynced = true
	return ""
}

// flipBytes bounds the record bytes recordBitflip tries: a flipped bit
// that breaks a walpb.Record is in its tags, type, crc or data length,
// which etcd writes before the data, in at most 33 bytes.
const flipBytes = 40

// recordBitflip looks for the one flipped bit among the first bytes of buf
// that makes it a walpb.Record whose stored CRC continues the chain from
// seed (for a CRC record: equals seed), and returns it with that CRC. It
// flips bits of buf in place and puts them back.
func recordBitflip(seed uint32, buf []byte) (j, b int, crc uint32, ok bool) {
	if len(buf) > 16<<20 {
		return 0, 0, 0, false
	}
	for j = range min(len(buf), flipBytes) {
		for b = range 8 {
			buf[j] ^= 1 << b
			rec, err := DecodeRecord(buf)
			buf[j] ^= 1 << b
			if err != nil {
				continue
			}
			if rec.Type == CRCType && rec.CRC == seed || rec.Type != CRCType && crc32.Update(seed, castagnoli, rec.Data) == rec.CRC {
				return j, b, rec.CRC, true
			}
		}
	}
	return 0, 0, 0, false
}

// isTorn applies etcd's torn-write test (decoder.go isTornEntry): split the
// frame body at 512-byte file sector boundaries; if any piece is all zeros,
// the write was torn.
func isTorn(bodyOff int64, body []byte) bool {
	for len(body) > 0 {
		n := sectorBytes - int(bodyOff%sectorBytes)
		if n > len(body) {
			n = len(body)
		}
		if allZero(body[:n]) {
			return true
		}
		body = body[n:]
		bodyOff += int64(n)
	}
	return false
}

var zeroBlock [4096]byte

func allZero(b []byte) bool {
	for len(b) >= len(zeroBlock) {
		if !bytes.Equal(b[:len(zeroBlock)], zeroBlock[:]) {
			return false
		}
		b = b[len(zeroBlock):]
	}
	return bytes.Equal(b, zeroBlock[:len(b)])
}

// firstNonZero returns the offset of the first non-zero byte at or after
// pos, or -1.
func (r *Reader) firstNonZero(seg *Segment, pos int64) (int64, error) {
	const chunk = 256 << 10
	for off := pos; off < seg.Size; off += chunk {
		n := min(int64(chunk), seg.Size-off)
		b, err := r.view(seg, off, n)
		if err != nil {
			return 0, err
		}
		if allZero(b) {
			continue
		}
		for i := 0; i < len(b); i += len(zeroBlock) {
			blk := b[i:min(i+len(zeroBlock), len(b))]
			if !allZero(blk) {
				for j, c := range blk {
					if c != 0 {
						return off + int64(i+j), nil
					}
				}
			}
		}
	}
	return -1, nil
}

// nextZeroSector returns the start of the first all-zero 512-byte sector
// after pos (sector-aligned), or the segment size.
func (r *Reader) nextZeroSector(seg *Segment, pos int64) (int64, error) {
	s := (pos/sectorBytes + 1) * sectorBytes
	for ; s < seg.Size; s += sectorBytes {
		n := min(int64(sectorBytes), seg.Size-s)
		b, err := r.view(seg, s, n)
		if err != nil {
			return 0, err
		}
		if allZero(b) {
			return s, nil
		}
	}
	return seg.Size, nil
}

// validFrameAt reports whether a plausible record starts at off: a
// well-formed length word, zero padding and a decodable walpb.Record. The
// end of the segment, or a zero length word, also counts (there is nothing
// there to doubt).
func (r *Reader) validFrameAt(seg *Segment, off int64) bool {
	if off >= seg.Size {
		return true
	}
	if seg.Size-off < frameHeaderBytes {
		return false
	}
	_, zero, ok := r.recordAt(seg, off)
	return zero || ok
}

// recordAt reads the frame at off, which has room for a length word: zero
// is true for a zero length word, ok when a plausible record starts there
// ([Reader.plausibleAt]).
func (r *Reader) recordAt(seg *Segment, off int64) (rec Record, zero, ok bool) {
	hdr, err := r.view(seg, off, frameHeaderBytes)
	if err != nil {
		return Record{}, false, false
	}
	if w := le64(hdr); w != 0 {
		rec, ok = r.plausibleAt(seg, off, w)
		return rec, false, ok
	}
	return Record{}, true, false
}

// plausibleAt decodes the frame at off with length word w and checks it.
func (r *Reader) plausibleAt(seg *Segment, off int64, w uint64) (Record, bool) {
	l, p, ok := splitLengthWord(w)
	if !ok || l < 2 || off+frameHeaderBytes+l+p > seg.Size {
		return Record{}, false
	}
	body, err := r.view(seg, off+frameHeaderBytes, l+p)
	if err != nil || !allZero(body[l:]) {
		return Record{}, false
	}
	rec, err := DecodeRecord(body[:l])
	if err != nil {
		return Record{}, false
	}
	return rec, true
}

// scanValid looks for the first offset at or after from (8-aligned) where a
// record starts that is confirmed by its successor: either it is a CRC
// record, or the next frame decodes and its CRC chains from this one's, or
// it is followed by the end of the segment or zeros and its payload decodes.
// It returns -1 when there is none.
func (r *Reader) scanValid(seg *Segment, from int64) int64 {
	from = (from + 7) &^ 7
	for off := from; off+frameHeaderBytes <= seg.Size; off += 8 {
		hdr, err := r.view(seg, off, frameHeaderBytes)
		if err != nil {
			return -1
		}
		w := le64(hdr)
		if w == 0 {
			// Skip zeros quickly.
			z, err := r.firstNonZero(seg, off)
			if err != nil || z < 0 {
				return -1
			}
			if n := z &^ 7; n > off {
				off = n - 8
			}
			continue
		}
		rec, ok := r.plausibleAt(seg, off, w)
		if !ok {
			continue
		}
		if r.confirmed(seg, off, w, rec) {
			return off
		}
	}
	return -1
}

func (r *Reader) confirmed(seg *Segment, off int64, w uint64, rec Record) bool {
	if rec.Type == CRCType {
		return true
	}
	storedCRC := rec.CRC
	payloadOK := payloadDecodes(rec)
	l, p, _ := splitLengthWord(w)
	next := off + frameHeaderBytes + l + p
	if next+frameHeaderBytes > seg.Size {
		return payloadOK
	}
	nrec, zero, ok := r.recordAt(seg, next)
	if zero {
		return payloadOK
	}
	if !ok {
		return false
	}
	if nrec.Type == CRCType {
		return payloadOK
	}
	return crc32.Update(storedCRC, castagnoli, nrec.Data) == nrec.CRC
}

func payloadDecodes(rec Record) bool {
	var err error
	switch rec.Type {
	case EntryType:
		_, err = DecodeEntry(rec.Data)
	case StateType:
		_, err = DecodeHardState(rec.Data)
	case SnapshotType:
		_, err = DecodeSnapshot(rec.Data)
	case MetadataType:
		_, err = DecodeMetadata(rec.Data)
	}
	return err == nil
}
