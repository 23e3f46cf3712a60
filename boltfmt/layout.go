package boltfmt

import (
	"cmp"
	"fmt"
	"slices"
)

// This file lays pages out field by field for people, as pebble's
// sstable layout does for its blocks: what every byte range of a page is,
// with the header, the elements, bucket entries, inline buckets, freelist
// ids and meta fields decoded. `etcdscope bolt page` and the tui's page
// detail show it; describe.go writes it for people.

// DescribeOptions configure [DB.DescribePages].
type DescribeOptions struct {
	// Annotate has every field the layout decodes named in
	// [PageLayout.Annotations], for an annotated hex view; the layout's
	// JSON then carries the page's bytes and the annotations.
	Annotate bool
	// Key shows the keys, in the annotations and in the layout's text and
	// JSON (nil: as textfmt shows bytes).
	Key KeyFormatter
	// Values has the layout's text and JSON show leaf values, not only
	// their sizes.
	Values bool
	// MaxBytes bounds what is read of one page, whatever its overflow
	// says; 0 means 256 MiB.
	MaxBytes int
}

// continuationBytes is how far back DescribePages looks for the page
// whose overflow run holds a page with no header of its own.
const continuationBytes = 32 << 20

// Annotation names a byte range of a page.
type Annotation struct {
	Offset int    `json:"offset"` // in the page's Data
	Length int    `json:"length"`
	Text   string `json:"text"`
}

// PageLayout is one page laid out: its header, what a walk found it to
// be, and its contents decoded by type.
type PageLayout struct {
	// Page is the page as read: the header fields and Data, the page and
	// as many of its overflow pages as the file, the high-water mark and
	// MaxBytes allow (its first page alone when it has no header of its
	// own, and for pages 0 and 1). An overflow cut short is one of the
	// Problems.
	Page
	// Kind is what the page's first bytes are; pages 0 and 1 are always
	// read as meta pages, KindHeader.
	Kind PageKind
	// Start is, for an overflow page, the span of the page whose run
	// holds it (Start.Start is that page, Type and Overflow its own).
	Start PageSpan
	// Status and Bucket are what the walk found: the page's status and
	// the bucket whose tree holds it (nil for none).
	Status PageStatus
	Bucket *BucketInfo
	// Problems are what is wrong with the page as a page: its header, its
	// overflow, elements that do not fit. An element's own problem is in
	// the element.
	Problems []error
	// Meta is set for pages 0 and 1 (the DB's metas) and any other page
	// of type meta; MetaActive says it is the meta bbolt would use.
	Meta       *Meta
	MetaActive bool
	// Elements are a branch or leaf page's elements.
	Elements []ElementLayout
	// Freelist is a freelist page's ids, non-nil when they can be read.
	Freelist []PageID
	// Annotations name the byte ranges of Data, with opts.Annotate, in
	// offset order (the longer first at one offset).
	Annotations []Annotation

	opts DescribeOptions // how the layout describes itself
}

// ElementLayout is one element of a branch or leaf page, or of an inline
// bucket's page image.
type ElementLayout struct {
	Index  int
	Offset int // of the element's header, in the page's Data
	// Branch is set for a branch element: Child is set, Flags and VSize
	// are not.
	Branch bool
	Flags  uint32
	Pos    uint32
	KSize  uint32
	VSize  uint32
	Child  PageID
	// Key and Value alias the page's Data; both are nil when Problem is
	// set.
	Key, Value []byte
	// KeyBucket names the bucket the key belongs to (a/b; "" for the root
	// bucket or a page no tree holds).
	KeyBucket string
	Problem   error
	// Bucket is set for a leaf element that is a bucket entry.
	Bucket *BucketLayout
}

// BucketLayout is a bucket entry's value: the bucket's header and, for
// an inline bucket, its page image's elements.
type BucketLayout struct {
	Root     PageID // 0 for an inline bucket
	Sequence uint64
	Inline   bool
	Count    uint16 // the inline page image's element count
	Elements []ElementLayout
	Problems []error
}

// DescribePage lays out page id; see [DB.DescribePages].
func (db *DB) DescribePage(rep *Report, id PageID, opts DescribeOptions) (*PageLayout, error) {
	var out *PageLayout
	err := db.DescribePages(rep, []PageID{id}, opts, func(l *PageLayout) error {
		out = l
		return nil
	})
	return out, err
}

// DescribePages lays out each page of ids, in order, and calls fn with
// it; an error from fn stops with that error. rep is a walk of the db: it
// gives each page's status and bucket, whose name the keys are shown in,
// and it tells the overflow pages of a live page from those of a stale
// one. A page whose header does not carry its own id is looked for in
// the overflow run of a page up to 32 MiB before it, one linear scan per
// cluster of such ids. Every id must be below [DB.FilePages].
func (db *DB) DescribePages(rep *Report, ids []PageID, opts DescribeOptions, fn func(*PageLayout) error) error {
	conts, err := db.continuations(rep, ids)
	if err != nil {
		return err
	}
	for _, id := range ids {
		d := &describer{db: db, rep: rep, opts: opts}
		span, isCont := conts[id]
		if err := d.describe(id, span, isCont); err != nil {
			return fmt.Errorf("page %d: %w", id, err)
		}
		slices.SortStableFunc(d.l.Annotations, func(a, b Annotation) int {
			return cmp.Or(cmp.Compare(a.Offset, b.Offset), cmp.Compare(b.Length, a.Length))
		})
		if err := fn(d.l); err != nil {
			return err
		}
	}
	return nil
}

// continuations finds, for the ids whose header does not carry their own
// id, the overflowing page they continue, if any: one linear scan per
// cluster of nearby ids.
func (db *DB) continuations(rep *Report, ids []PageID) (map[PageID]PageSpan, error) {
	var want []PageID
	for _, id := range ids {
		if id < 2 {
			continue
		}
		h, err := db.ReadHeader(id)
		if err != nil {
			return nil, err
		}
		if h.HeaderID != uint64(id) {
			want = append(want, id)
		}
	}
	slices.Sort(want)
	want = slices.Compact(want)
	back := PageID(max(1, continuationBytes/db.PageSize))
	out := map[PageID]PageSpan{}
	for i := 0; i < len(want); {
		j := i
		for j+1 < len(want) && want[j+1]-want[j] <= back {
			j++
		}
		from, to := want[i]-min(want[i], back), want[j]+1
		next := i
		err := db.PageSpans(SpanOptions{From: from, To: to, Live: rep.Live}, func(s *PageSpan) error {
			for next <= j && want[next] < s.ID {
				next++
			}
			if next <= j && want[next] == s.ID && s.Continuation {
				out[s.ID] = *s
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		i = j + 1
	}
	return out, nil
}

// describer lays out one page.
type describer struct {
	db   *DB
	rep  *Report
	opts DescribeOptions
	l    *PageLayout
}

func (d *describer) ann(off, n int, format string, args ...any) {
	if d.opts.Annotate {
		d.l.Annotations = append(d.l.Annotations, Annotation{Offset: off, Length: n, Text: fmt.Sprintf(format, args...)})
	}
}

func (d *describer) problem(format string, args ...any) {
	d.l.Problems = append(d.l.Problems, fmt.Errorf(format, args...))
}

func (d *describer) keyText(bucket string, k []byte) string { return d.opts.Key.Bare(bucket, k) }

// describe reads page id, which the scan found to be in the overflow run
// span when isCont, and lays it out.
func (d *describer) describe(id PageID, span PageSpan, isCont bool) error {
	h, err := d.db.ReadHeader(id)
	if err != nil {
		return err
	}
	kind := kindOf(id, h.HeaderID, h.Type, h.Count, h.Overflow)
	headed := kind == KindHeader || id < 2
	p, err := d.db.ReadPage(id, d.readLimit(id, headed && !isCont), nil)
	if err != nil {
		return err
	}
	d.l = &PageLayout{Page: p, Kind: kind, Status: d.rep.Status(id), opts: d.opts}
	d.l.Bucket, _ = d.rep.Owner(id)
	switch {
	case isCont:
		d.l.Kind, d.l.Start = KindOverflow, span
		d.ann(0, len(p.Data), "overflow page %d of page %d", id-span.Start, span.Start)
	case !headed:
		what := "are not a page header"
		if kind == KindZeroed {
			what = "are zeros"
		}
		d.problem("the page's first 16 bytes %s (id %d, flags %#04x, count %d, overflow %d): a stale, zeroed or overwritten page",
			what, p.HeaderID, uint16(p.Type), p.Count, p.Overflow)
		d.ann(0, PageHeaderSize, "not a page header")
	default:
		d.l.Kind = KindHeader
		d.header()
		d.contents()
	}
	return nil
}

// readLimit is the page id before which a page's overflow is read: the
// high-water mark for a page below it, else the end of the file, and at
// most MaxBytes; only the page itself for a page whose overflow field
// means nothing (no header of its own, or a meta page).
func (d *describer) readLimit(id PageID, headed bool) PageID {
	if !headed || id < 2 {
		return id + 1
	}
	file := d.db.FilePages()
	limit := file
	if id < min(d.rep.HWM, file) {
		limit = min(d.rep.HWM, file)
	}
	return min(limit, id+PageID(max(1, d.maxBytes()/d.db.PageSize)))
}

func (d *describer) maxBytes() int {
	if d.opts.MaxBytes > 0 {
		return d.opts.MaxBytes
	}
	return 256 << 20
}

// header lays out the page header, and pages 0 and 1 as metas.
func (d *describer) header() {
	p := &d.l.Page
	claims := p.HeaderID == uint64(p.ID)
	if claims {
		d.ann(0, 8, "page id %d", p.HeaderID)
	} else {
		d.ann(0, 8, "page id %d (this is page %d)", p.HeaderID, p.ID)
	}
	d.ann(8, 2, "flags %#04x (%s)", uint16(p.Type), p.Type)
	d.ann(10, 2, "count %d", p.Count)
	d.ann(12, 4, "overflow %d", p.Overflow)
	switch {
	case p.ID < 2:
		d.meta(d.db.Metas[p.ID], int(p.ID) == d.db.Active)
	case !claims:
		d.problem("the header says page id %d: a stale or misplaced page", p.HeaderID)
	}
	if have := len(p.Data) / d.db.PageSize; uint64(have) < uint64(p.Overflow)+1 {
		var where string
		file := d.db.FilePages()
		switch last := uint64(p.ID) + uint64(p.Overflow); {
		case last >= uint64(file):
			where = fmt.Sprintf("the end of the file (%d pages)", file)
		case p.ID < d.rep.HWM && last >= uint64(d.rep.HWM):
			where = fmt.Sprintf("the high-water mark %d", d.rep.HWM)
		default:
			where = fmt.Sprintf("%d bytes, as far as a page is read", d.maxBytes())
		}
		d.problem("overflow %d runs past %s; %d of its %d pages read", p.Overflow, where, have, uint64(p.Overflow)+1)
	}
}

// contents lays out what follows the header, by the page's type.
func (d *describer) contents() {
	p := &d.l.Page
	bucket := ""
	if d.l.Bucket != nil {
		bucket = d.l.Bucket.Name()
	}
	switch p.Type {
	case MetaPage:
		if p.ID >= 2 {
			d.meta(DecodeMeta(int(p.ID%2), p.Data), false)
		}
	case BranchPage:
		els, err := BranchElements(p.Data, int(p.Count))
		if err != nil {
			d.l.Problems = append(d.l.Problems, err)
		}
		for i := range els {
			d.l.Elements = append(d.l.Elements, d.branchElement(&els[i], bucket))
		}
	case LeafPage:
		els, err := d.leafElements(p.Data, int(p.Count), 0, bucket, "")
		if err != nil {
			d.l.Problems = append(d.l.Problems, err)
		}
		d.l.Elements = els
	case FreelistPage:
		d.freelist()
	}
}

// meta lays out a meta page's fields.
func (d *describer) meta(m Meta, active bool) {
	d.l.Meta, d.l.MetaActive = &m, active
	const h = PageHeaderSize
	d.ann(h+0, 4, "magic %#08x", m.Magic)
	d.ann(h+4, 4, "version %d", m.Version)
	d.ann(h+8, 4, "page size %d", m.PageSize)
	d.ann(h+12, 4, "meta flags %#x", m.MetaFlag)
	d.ann(h+16, 8, "root bucket's root page %d", m.Root)
	d.ann(h+24, 8, "root bucket's sequence %d", m.Sequence)
	d.ann(h+32, 8, "freelist %s", freelistText(m.Freelist))
	d.ann(h+40, 8, "high-water mark %d", m.HWM)
	d.ann(h+48, 8, "txid %d", m.TxID)
	sum := "ok"
	if m.Checksum != m.Computed {
		sum = fmt.Sprintf("MISMATCH, computed %016x", m.Computed)
	}
	d.ann(h+56, 8, "checksum %016x (%s)", m.Checksum, sum)
}

func (d *describer) branchElement(e *BranchElement, bucket string) ElementLayout {
	el := ElementLayout{Index: e.Index, Offset: e.Offset, Branch: true, Pos: e.Pos, KSize: e.KSize, Child: e.Child, KeyBucket: bucket, Problem: e.Problem}
	head := fmt.Sprintf("branch element %d: pos %d, ksize %d, child %d", e.Index, e.Pos, e.KSize, e.Child)
	if e.Problem != nil {
		d.ann(e.Offset, ElementSize, "%s: %v", head, e.Problem)
		return el
	}
	d.ann(e.Offset, ElementSize, "%s", head)
	el.Key = e.Key
	d.ann(e.Offset+int(e.Pos), len(e.Key), "key %d: %s", e.Index, d.keyText(bucket, e.Key))
	return el
}

// leafElements lays out the leaf elements of a page image at base in the
// page (0, or an inline bucket's image inside a value), the keys of
// bucket, each annotation after label.
func (d *describer) leafElements(img []byte, count, base int, bucket, label string) ([]ElementLayout, error) {
	els, err := LeafElements(img, count)
	if err != nil {
		return nil, err
	}
	var out []ElementLayout
	for i := range els {
		out = append(out, d.leafElement(&els[i], base, bucket, label))
	}
	return out, nil
}

func (d *describer) leafElement(e *LeafElement, base int, bucket, label string) ElementLayout {
	el := ElementLayout{Index: e.Index, Offset: base + e.Offset, Flags: e.Flags, Pos: e.Pos, KSize: e.KSize, VSize: e.VSize,
		Key: e.Key, Value: e.Value, KeyBucket: bucket, Problem: e.Problem}
	head := fmt.Sprintf("%sleaf element %d: flags %#x, pos %d, ksize %d, vsize %d", label, e.Index, e.Flags, e.Pos, e.KSize, e.VSize)
	if e.Problem != nil {
		d.ann(el.Offset, ElementSize, "%s: %v", head, e.Problem)
		return el
	}
	d.ann(el.Offset, ElementSize, "%s", head)
	keyOff := el.Offset + int(e.Pos)
	valOff := keyOff + len(e.Key)
	text := d.keyText(bucket, e.Key)
	if !e.IsBucket() {
		d.ann(keyOff, len(e.Key), "%skey %d: %s", label, e.Index, text)
		d.ann(valOff, len(e.Value), "%svalue %d: %d %s", label, e.Index, len(e.Value), plural(len(e.Value), "byte"))
		return el
	}
	d.ann(keyOff, len(e.Key), "%skey %d: bucket %s", label, e.Index, text)
	el.Bucket = &BucketLayout{}
	b, err := DecodeBucket(e.Value)
	if err != nil {
		el.Bucket.Problems = []error{err}
		d.ann(valOff, len(e.Value), "%svalue %d: bad bucket header: %v", label, e.Index, err)
		return el
	}
	el.Bucket.Root, el.Bucket.Sequence, el.Bucket.Inline = b.Root, b.Sequence, b.Root == 0
	if !el.Bucket.Inline {
		d.ann(valOff, 8, "%sbucket %s: root page %d", label, text, b.Root)
		d.ann(valOff+8, 8, "%sbucket %s: sequence %d", label, text, b.Sequence)
		return el
	}
	d.ann(valOff, 8, "%sbucket %s: root 0 (inline)", label, text)
	d.ann(valOff+8, 8, "%sbucket %s: sequence %d", label, text, b.Sequence)
	name := string(e.Key)
	if bucket != "" {
		name = bucket + "/" + name
	}
	d.inline(el.Bucket, b.Inline, valOff+BucketHeaderLen, name, label+"inline "+text+": ")
	return el
}

// inline lays out an inline bucket's page image, at off in the page.
func (d *describer) inline(bl *BucketLayout, img []byte, off int, name, label string) {
	typ, count, overflow := InlineHeader(img)
	d.ann(off, 8, "%spage id %d", label, le.Uint64(img))
	d.ann(off+8, 2, "%sflags %#04x (%s)", label, uint16(typ), typ)
	d.ann(off+10, 2, "%scount %d", label, count)
	d.ann(off+12, 4, "%soverflow %d", label, overflow)
	bl.Count = count
	if typ != LeafPage || overflow != 0 {
		bl.Problems = append(bl.Problems, fmt.Errorf("inline page header type %s overflow %d, want leaf and 0", typ, overflow))
	}
	els, err := d.leafElements(img, int(count), off, name, label)
	if err != nil {
		bl.Problems = append(bl.Problems, err)
	}
	bl.Elements = els
}

// freelist lays out a freelist page's ids.
func (d *describer) freelist() {
	p := &d.l.Page
	ids, err := FreelistIDs(p.Data, p.Count)
	if err != nil {
		d.l.Problems = append(d.l.Problems, err)
		return
	}
	d.l.Freelist = ids
	start := PageHeaderSize
	if p.Count == 0xFFFF {
		d.ann(start, 8, "freelist count %d (the header's count is the 0xFFFF escape)", len(ids))
		start += 8
	}
	if len(ids) > 64 {
		d.ann(start, 8*len(ids), "%d free page ids", len(ids))
		return
	}
	for i, id := range ids {
		d.ann(start+8*i, 8, "free page %d", id)
	}
}
