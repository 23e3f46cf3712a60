package boltfmt

import (
	"errors"
	"io"
)

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
	chunk := int64(opts.ChunkBytes)
	if chunk <= 0 {
		chunk = 4 << 20
	}
	chunk = max(chunk/ps, 1) * ps
	end := db.FilePages()
	if opts.To != 0 && opts.To < end {
		end = opts.To
	}
	buf := make([]byte, chunk)
	var big []byte
	for first := opts.From; first < end; {
		n := min(PageID(chunk/ps), end-first)
		b := buf[:int64(n)*ps]
		if _, err := db.r.ReadAt(b, int64(first)*ps); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
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
					return err
				}
				big = p.Data[:cap(p.Data)]
				next = max(next, id+span)
			}
			if err := fn(&p); err != nil {
				return err
			}
			i += span
		}
		first = next
	}
	return nil
}
