package boltfmt

import (
	"errors"
	"io"
)

// This file holds the sequential scans of the file, which read it in
// large chunks instead of a page at a time: [DB.PageSpans] tells what
// every page id is, [DB.ScanPages] visits every page with a header,
// reachable or not.

// scanChunks reads the page ids from from to end (to, or the end of the
// file when to is 0 or past it) in chunks of about chunkBytes (0 means 4
// MiB), and calls fn with each chunk's first id and its bytes, whole
// pages. fn returns the id to read on from: the one after the chunk, or a
// later one when it has read past the chunk itself.
func (db *DB) scanChunks(from, to PageID, chunkBytes int, fn func(first, end PageID, b []byte) (PageID, error)) error {
	ps := int64(db.PageSize)
	chunk := int64(chunkBytes)
	if chunk <= 0 {
		chunk = 4 << 20
	}
	chunk = max(chunk/ps, 1) * ps
	end := db.FilePages()
	if to != 0 && to < end {
		end = to
	}
	if from >= end {
		return nil
	}
	buf := make([]byte, min(chunk, int64(end-from)*ps))
	for first := from; first < end; {
		n := min(PageID(chunk/ps), end-first)
		b := buf[:int64(n)*ps]
		if _, err := db.r.ReadAt(b, int64(first)*ps); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		next, err := fn(first, end, b)
		if err != nil {
			return err
		}
		first = next
	}
	return nil
}

// PageKind says what the first bytes of a page id are.
type PageKind uint8

const (
	// KindHeader is a page header: the page's own id, or another id with
	// a known type (a stale or misplaced page).
	KindHeader PageKind = iota
	// KindOverflow is an overflow page of an earlier page: it has no
	// header of its own.
	KindOverflow
	// KindZeroed is zeros where the header of a page other than 0 would
	// be.
	KindZeroed
	// KindNoHeader is neither the page's own id nor a known type: data,
	// not a header (a freed page's stale overflow bytes, or damage).
	KindNoHeader
)

func (k PageKind) String() string {
	switch k {
	case KindHeader:
		return "header"
	case KindOverflow:
		return "overflow"
	case KindZeroed:
		return "zeroed"
	}
	return "no-header"
}

// kindOf tells what the header fields read at page id are, not knowing
// whether the id lies in an earlier page's overflow run.
func kindOf(id PageID, headerID uint64, typ PageType, count uint16, overflow uint32) PageKind {
	switch {
	case headerID == uint64(id):
		return KindHeader
	case headerID == 0 && typ == 0 && count == 0 && overflow == 0:
		return KindZeroed
	case !knownType(typ):
		return KindNoHeader
	}
	return KindHeader
}

func knownType(t PageType) bool {
	switch t {
	case BranchPage, LeafPage, MetaPage, FreelistPage:
		return true
	}
	return false
}

// PageSpan is one page id as a linear scan of the file sees it: a page
// with its own header, or a continuation page of an overflowing page.
type PageSpan struct {
	ID       PageID
	HeaderID uint64
	Type     PageType
	Count    uint16
	// Items is Count, or for a freelist page using the 0xFFFF escape, the
	// count stored after the header.
	Items    uint64
	Overflow uint32
	// Continuation is set for the overflow pages of the page at Start.
	// They have no header of their own; the header fields above are then
	// Start's.
	Continuation bool
	Start        PageID
}

// Claims reports whether the header claims the page's own id and a known
// type: what every page bbolt wrote has, and what a zeroed or overwritten
// page lacks.
func (s *PageSpan) Claims() bool {
	return !s.Continuation && s.HeaderID == uint64(s.ID) && knownType(s.Type)
}

// Kind tells what the page id's first bytes are.
func (s *PageSpan) Kind() PageKind {
	if s.Continuation {
		return KindOverflow
	}
	return kindOf(s.ID, s.HeaderID, s.Type, s.Count, s.Overflow)
}

// SpanOptions configure [DB.PageSpans].
type SpanOptions struct {
	// From and To bound the ids scanned; To 0 means the end of the file.
	// A scan that starts after 0 may start inside an overflow run it
	// cannot see; such pages are reported as they are.
	From, To PageID
	// Live, when set, reports whether a page is in use (a meta page, the
	// freelist, or reachable from the root: [Report.Live]). It decides
	// what a page inside another page's overflow run is: a run of a live
	// page covers only pages that are live too (a live page with a
	// damaged, huge overflow does not swallow the pages after it), and a
	// run of a page that is not live (a freed page's stale header) covers
	// only pages that are not live and whose header does not claim their
	// own id (such a header was written after the run's page was freed).
	// Without Live every run covers every page whose header does not
	// claim its id.
	Live func(PageID) bool
	// ChunkBytes is the read size; 0 means 4 MiB.
	ChunkBytes int
}

// PageSpans reads the file sequentially in large chunks and calls fn for
// every page id from opts.From to opts.To, in order: the header of a page
// that has one, or, for the overflow pages of a page, that page's header
// marked as a continuation. The PageSpan is valid only during the call;
// an error from fn stops the scan with that error.
func (db *DB) PageSpans(opts SpanOptions, fn func(*PageSpan) error) error {
	sc := spanScan{live: opts.Live, fn: fn}
	if sc.live == nil {
		sc.live = func(PageID) bool { return false }
	}
	ps := db.PageSize
	return db.scanChunks(opts.From, opts.To, opts.ChunkBytes, func(first, end PageID, b []byte) (PageID, error) {
		n := PageID(len(b) / ps)
		for i := range n {
			if err := sc.page(first+i, end, b[int(i)*ps:]); err != nil {
				return 0, err
			}
		}
		return first + n, nil
	})
}

// spanScan is one [DB.PageSpans] scan: the overflow run it is in.
type spanScan struct {
	live    func(PageID) bool
	fn      func(*PageSpan) error
	run     PageSpan // the page whose overflow run is open
	runEnd  PageID
	runLive bool
}

// page reports page id, whose bytes start h, of a scan ending at end.
func (sc *spanScan) page(id, end PageID, h []byte) error {
	s := PageSpan{ID: id, HeaderID: le.Uint64(h), Type: PageType(le.Uint16(h[8:])), Count: le.Uint16(h[10:]), Overflow: le.Uint32(h[12:])}
	s.Items = uint64(s.Count)
	claims := s.Claims()
	if id < sc.runEnd && sc.live(id) == sc.runLive && (sc.runLive || !claims) {
		c := sc.run
		c.ID, c.Continuation, c.Start = id, true, sc.run.ID
		return sc.fn(&c)
	}
	sc.runEnd = 0
	if claims && s.Type == FreelistPage && s.Count == 0xFFFF {
		s.Items = le.Uint64(h[PageHeaderSize:])
	}
	if claims && s.Overflow > 0 {
		sc.run, sc.runLive = s, sc.live(id)
		sc.runEnd = end
		if last := uint64(id) + uint64(s.Overflow); last < uint64(end) {
			sc.runEnd = PageID(last + 1)
		}
	}
	return sc.fn(&s)
}

// ScanOptions configure [DB.ScanPages].
type ScanOptions struct {
	// From and To bound the page ids scanned; To 0 means the end of the
	// file (not the high-water mark: pages past it may hold the remains
	// of a crashed transaction).
	From, To PageID
	// ChunkBytes is the read size; 0 means 4 MiB.
	ChunkBytes int
}

// ScanPages reads the file sequentially in large chunks and calls fn for
// every page whose header claims its own id (a page's first page; the
// continuation pages of an overflowing page and pages whose header is
// damaged are passed over, since they have no header of their own). It
// does not follow the tree, so it finds pages the tree no longer reaches:
// freed pages keep their old contents until they are reused.
//
// The Page's Data holds the page and as many of its overflow pages as the
// chunk does (a page larger than a chunk is read whole, bounded by the
// file); it is valid only during the call. Returning an error from fn
// stops the scan with that error.
func (db *DB) ScanPages(opts ScanOptions, fn func(p *Page) error) error {
	ps := int64(db.PageSize)
	var big []byte
	return db.scanChunks(opts.From, opts.To, opts.ChunkBytes, func(first, end PageID, b []byte) (PageID, error) {
		n := PageID(int64(len(b)) / ps)
		next := first + n
		for i := PageID(0); i < n; {
			id := first + i
			h := b[int64(i)*ps:]
			p := Page{ID: id, Offset: int64(id) * ps, HeaderID: le.Uint64(h), Type: PageType(le.Uint16(h[8:])),
				Count: le.Uint16(h[10:]), Overflow: le.Uint32(h[12:])}
			if p.HeaderID != uint64(id) {
				i++
				continue
			}
			span := PageID(p.Overflow) + 1
			if span > end-id || span == 0 {
				span = end - id
				p.Short = PageID(p.Overflow)+1 > span
			}
			if i+span <= n {
				p.Data = b[int64(i)*ps : int64(i+span)*ps]
			} else {
				// The page runs past this chunk: read it whole.
				var err error
				if p, err = db.ReadPage(id, end, big); err != nil {
					return 0, err
				}
				big = p.Data[:cap(p.Data)]
				next = max(next, id+span)
			}
			if err := fn(&p); err != nil {
				return 0, err
			}
			i += span
		}
		return next, nil
	})
}
