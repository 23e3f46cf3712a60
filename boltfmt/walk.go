package boltfmt

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
)

// WalkOptions configure [DB.Walk].
type WalkOptions struct {
	// Leaf, when set, is called for every leaf element of every bucket in
	// key order (damaged elements included, with their Problem; nested
	// bucket entries are not passed), with its bucket (valid during the
	// call). Returning false skips the rest of that page.
	Leaf func(bucket *BucketInfo, page PageID, e *LeafElement) bool
	// Bucket restricts the walk to buckets whose path starts with it.
	Bucket []string
	// NoFreelist skips reading the freelist and the orphan scan.
	NoFreelist bool
}

// Walk checks every invariant bbolt's Tx.Check verifies and those it does
// not, reporting every problem rather than the first: meta pages, page
// headers, element bounds, key order within pages and across the tree,
// double references and cycles (a visited set plus the page path), bucket
// headers and inline buckets, the freelist, and pages neither reachable nor
// free. It never panics on damaged input; the error is for I/O only.
func (db *DB) Walk(opts WalkOptions) (*Report, error) {
	w := &walker{db: db, opts: opts, rep: &Report{}}
	return w.run()
}

type walker struct {
	db    *DB
	opts  WalkOptions
	rep   *Report
	hwm   PageID // walk limit: the high-water mark, bounded by the file
	path  []PageID
	bufs  [][]byte // page buffers by depth
	els   []LeafElement
	arena []byte // keys read past a leaf's first page
}

func (w *walker) problem(id PageID, off int64, bucket int, sentinel error, format string, args ...any) {
	pe := &PageError{Page: id, Offset: off, Err: sentinel, Detail: fmt.Sprintf(format, args...)}
	if size := w.db.Size(); off > size {
		// A page past the end of the file: place the finding where its bytes
		// are missing from.
		pe.Offset = size
		pe.Detail += fmt.Sprintf(" (the page would start at %#x, past the end of the file)", off)
	}
	if bucket >= 0 && bucket < len(w.rep.Buckets) {
		pe.Bucket = w.rep.Buckets[bucket].Name()
	}
	pe.Path = append([]PageID(nil), w.path...)
	w.rep.Problems = append(w.rep.Problems, pe)
}

func (w *walker) pageOff(id PageID) int64 { return int64(id) * int64(w.db.PageSize) }

func (w *walker) run() (*Report, error) {
	db, rep := w.db, w.rep
	for i := range db.Metas {
		m := &db.Metas[i]
		if !m.Valid() {
			w.problem(PageID(i), w.pageOff(PageID(i))+PageHeaderSize, -1, ErrMetaInvalid, "meta %d: %v", i, m.Problem)
		}
	}
	if db.PageSizeProblem != nil {
		w.problem(0, 0, -1, ErrMetaInvalid, "%v", db.PageSizeProblem)
	}
	meta := w.chooseMeta()
	if meta == nil {
		return rep, nil
	}
	rep.MetaUsed = meta.Slot
	rep.HWM = meta.HWM
	w.hwm = meta.HWM
	if fp := db.FilePages(); w.hwm > fp {
		w.problem(fp, int64(fp)*int64(db.PageSize), -1, ErrTruncated, "high-water mark %d but the file holds %d pages (%d bytes); pages %d to %d are missing",
			meta.HWM, fp, db.Size(), fp, meta.HWM-1)
		w.hwm = fp
	}
	rep.status = make([]PageStatus, w.hwm)
	rep.owner = make([]int32, w.hwm)
	for i := range rep.owner {
		rep.owner[i] = -1
	}
	for i := PageID(0); i < min(2, w.hwm); i++ {
		rep.status[i] = StatusMeta
	}
	var free []PageID
	rep.FreelistPersisted = meta.Freelist != NoFreelist
	if rep.FreelistPersisted && !w.opts.NoFreelist {
		free = w.readFreelist(meta)
	}
	rep.Buckets = append(rep.Buckets, BucketInfo{Root: meta.Root, Sequence: meta.Sequence})
	if err := w.walkBuckets(); err != nil {
		return rep, err
	}
	if !w.opts.NoFreelist && len(w.opts.Bucket) == 0 {
		w.applyFreelist(free, meta.Freelist)
		w.orphans()
	}
	for _, s := range rep.status {
		switch s {
		case StatusTree:
			rep.Tree++
		case StatusFree:
			rep.Free++
		}
	}
	return rep, nil
}

// chooseMeta returns the meta to walk from: the active one, or when both
// are invalid, the most plausible one (magic right, fields in range), so
// that the rest of the file is still checked.
func (w *walker) chooseMeta() *Meta {
	db := w.db
	best := db.usableMeta()
	switch {
	case best == nil:
		w.problem(0, 0, -1, ErrMetaInvalid, "neither meta page can be used; nothing else can be checked")
	case db.Active < 0:
		w.problem(PageID(best.Slot), w.pageOff(PageID(best.Slot))+PageHeaderSize, -1, ErrMetaInvalid,
			"both metas are invalid; checking the tree of meta %d (txid %d) anyway", best.Slot, best.TxID)
	}
	return best
}

func (w *walker) readFreelist(meta *Meta) []PageID {
	id := meta.Freelist
	if id >= w.db.FilePages() {
		// The page has no offset in the file (id * page size may not even
		// fit an int64): report the meta field that names it.
		slot := PageID(meta.Slot)
		w.problem(slot, w.pageOff(slot)+PageHeaderSize+32, -1, ErrFreelistInvalid,
			"meta %d names freelist page %d, beyond the end of the file (%d pages)", meta.Slot, id, w.db.FilePages())
		return nil
	}
	p, err := w.db.ReadPage(id, w.hwm, nil)
	if err != nil {
		w.problem(id, w.pageOff(id), -1, ErrFreelistInvalid, "%v", err)
		return nil
	}
	if p.HeaderID != uint64(id) || p.Type != FreelistPage {
		w.problem(id, p.Offset, -1, ErrFreelistInvalid, "freelist page header says id %d, type %s; free pages are derived by reachability instead", p.HeaderID, p.Type)
		w.rep.FreelistPersisted = false
		return nil
	}
	for i := id; i <= id+PageID(p.Overflow) && i < w.hwm; i++ {
		w.rep.status[i] = StatusFreelist
	}
	if id+PageID(p.Overflow) >= w.hwm {
		w.problem(id, p.Offset, -1, ErrFreelistInvalid, "overflow %d runs past the high-water mark %d", p.Overflow, w.hwm)
	}
	ids, err := FreelistIDs(p.Data, p.Count)
	if err != nil {
		w.problem(id, p.Offset, -1, ErrFreelistInvalid, "%v; free pages are derived by reachability instead", err)
		w.rep.FreelistPersisted = false
		return nil
	}
	return ids
}

// applyFreelist marks free pages, reporting ids that cannot be free.
func (w *walker) applyFreelist(free []PageID, flID PageID) {
	rep := w.rep
	if !rep.FreelistPersisted {
		for i := PageID(2); i < w.hwm; i++ {
			if rep.status[i] == StatusUnseen {
				rep.status[i] = StatusFree
			}
		}
		return
	}
	off := w.pageOff(flID)
	for _, id := range free {
		switch {
		case id < 2 || id >= w.hwm:
			w.problem(flID, off, -1, ErrFreelistInvalid, "lists page %d, outside [2, %d)", id, w.hwm)
		case rep.status[id] == StatusFree:
			w.problem(id, w.pageOff(id), -1, ErrPageDoubleUse, "freed twice in the freelist")
		case rep.status[id] == StatusTree:
			b := rep.owner[id]
			w.problem(id, w.pageOff(id), int(b), ErrPageDoubleUse, "reachable and free (listed by the freelist on page %d)", flID)
		case rep.status[id] == StatusFreelist:
			w.problem(id, w.pageOff(id), -1, ErrPageDoubleUse, "the freelist lists its own page")
		default:
			rep.status[id] = StatusFree
		}
	}
}

// orphans reports runs of pages neither reachable nor free.
func (w *walker) orphans() {
	rep := w.rep
	for i := PageID(2); i < w.hwm; {
		if rep.status[i] != StatusUnseen {
			i++
			continue
		}
		j := i
		for j < w.hwm && rep.status[j] == StatusUnseen {
			rep.status[j] = StatusUnreached
			j++
		}
		rep.Orphans += int(j - i)
		if j-i == 1 {
			w.problem(i, w.pageOff(i), -1, ErrPageUnreachable, "page %d is neither reachable nor free", i)
		} else {
			w.problem(i, w.pageOff(i), -1, ErrPageUnreachable, "pages %d to %d (%d pages) are neither reachable nor free", i, j-1, j-i)
		}
		i = j
	}
}

// walkBuckets walks the root bucket and, breadth first, every bucket found.
func (w *walker) walkBuckets() error {
	for b := 0; b < len(w.rep.Buckets); b++ {
		bk := w.rep.Buckets[b]
		if !w.wanted(bk.Path) {
			continue
		}
		if bk.Inline {
			continue // checked where its entry was found
		}
		if err := w.walkTree(b, bk.Root); err != nil {
			return err
		}
	}
	return nil
}

// wanted reports whether a bucket is on the way to, or inside, opts.Bucket.
func (w *walker) wanted(path []string) bool {
	want := w.opts.Bucket
	for i := 0; i < min(len(path), len(want)); i++ {
		if path[i] != want[i] {
			return false
		}
	}
	return true
}

// node is one branch page on the walk's stack.
type node struct {
	id     PageID
	off    int64
	els    []BranchElement
	next   int
	lo, hi []byte // keys of this subtree are in [lo, hi); nil means open
}

// bounds returns the key range of child i: from its key, or the node's
// low bound when the key is damaged, to the next sound key, or the node's
// high bound.
func (n *node) bounds(i int) (lo, hi []byte) {
	lo, hi = n.lo, n.hi
	if k := n.els[i].Key; k != nil {
		lo = k
	}
	for j := i + 1; j < len(n.els); j++ {
		if n.els[j].Key != nil {
			return lo, n.els[j].Key
		}
	}
	return lo, hi
}

// tree is the walk of one bucket's tree.
type tree struct {
	bucket   int
	stack    []*node
	lastKey  []byte // the last leaf key seen: keys must keep increasing across leaves
	haveLast bool
}

// walkTree walks one bucket's tree depth first with an explicit stack.
func (w *walker) walkTree(bucket int, root PageID) error {
	t := &tree{bucket: bucket}
	w.path = w.path[:0]
	parentOff := int64(-1)
	if bucket == 0 {
		parentOff = PageHeaderSize // the root's reference is in the meta
	}
	if err := w.visit(t, root, 0, parentOff, nil, nil); err != nil {
		return err
	}
	for len(t.stack) > 0 {
		n := t.stack[len(t.stack)-1]
		if n.next >= len(n.els) {
			t.stack = t.stack[:len(t.stack)-1]
			w.path = w.path[:len(w.path)-1]
			continue
		}
		i := n.next
		n.next++
		lo, hi := n.bounds(i)
		if err := w.visit(t, n.els[i].Child, n.id, n.off+int64(n.els[i].Offset), lo, hi); err != nil {
			return err
		}
	}
	return nil
}

// visit follows the reference to page id from page from (at offset
// fromOff of the file; -1 for from's own offset), whose keys must lie in
// [lo, hi): it checks the page, a leaf's elements at once, and pushes a
// branch on the stack for its children.
func (w *walker) visit(t *tree, id PageID, from PageID, fromOff int64, lo, hi []byte) error {
	if !w.followable(t.bucket, id, from, fromOff) {
		return nil
	}
	p, err := w.readTreePage(t.bucket, id)
	if err != nil {
		return err
	}
	w.path = append(w.path, id)
	if !w.checkTreePage(t.bucket, &p) {
		w.path = w.path[:len(w.path)-1]
		return nil
	}
	if p.Type == LeafPage {
		w.leaf(t.bucket, &p, lo, hi, &t.lastKey, &t.haveLast)
		w.path = w.path[:len(w.path)-1]
		return nil
	}
	els, err := BranchElements(p.Data, int(p.Count))
	if err != nil {
		w.problem(id, p.Offset, t.bucket, ErrPageInvalid, "%v", err)
		w.path = w.path[:len(w.path)-1]
		return nil
	}
	w.checkBranch(t.bucket, &p, els, lo, hi)
	t.stack = append(t.stack, &node{id: id, off: p.Offset, els: els, lo: lo, hi: hi})
	return nil
}

// followable checks a reference to page id from page from: false, with a
// problem, when the id is out of range, an ancestor (a cycle), or already
// seen.
func (w *walker) followable(bucket int, id, from PageID, fromOff int64) bool {
	if fromOff < 0 {
		fromOff = w.pageOff(from)
	}
	switch {
	case id < 2 || id >= w.hwm:
		w.problem(from, fromOff, bucket, ErrPageInvalid, "references page %d, outside [2, %d)", id, w.hwm)
		return false
	case slices.Contains(w.path, id):
		w.problem(from, fromOff, bucket, ErrPageDoubleUse, "references page %d, its own ancestor: a cycle (path %v)", id, w.path)
		return false
	case w.rep.status[id] != StatusUnseen:
		w.problem(id, w.pageOff(id), bucket, ErrPageDoubleUse, "page %d is referenced again from page %d (it is already %s)", id, from, w.rep.status[id])
		return false
	}
	return true
}

// readTreePage reads page id of a bucket's tree into the buffer of its
// depth and marks it and its overflow pages as the bucket's. A branch is
// read whole; a leaf only its first page, unless the caller wants every
// value.
func (w *walker) readTreePage(bucket int, id PageID) (Page, error) {
	depth := len(w.path)
	for len(w.bufs) <= depth {
		w.bufs = append(w.bufs, nil)
	}
	p, err := w.db.readFirst(id, w.bufs[depth])
	if err != nil {
		return p, err
	}
	if p.Overflow > 0 && (p.Type != LeafPage || w.opts.Leaf != nil) {
		if p, err = w.db.readRest(p, w.hwm); err != nil {
			return p, err
		}
	}
	if p.Overflow > 0 {
		w.db.span(&p, w.hwm) // sets Short when the file ends inside the page
	}
	w.bufs[depth] = p.Data[:cap(p.Data)]
	last := id + PageID(p.Overflow)
	if last >= w.hwm || last < id {
		last = id
	}
	for i := id; i <= last; i++ {
		if w.rep.status[i] == StatusUnseen {
			w.rep.status[i] = StatusTree
			w.rep.owner[i] = int32(bucket)
		}
	}
	w.rep.Buckets[bucket].Pages += int(last-id) + 1
	return p, nil
}

// checkTreePage checks the header of a page a tree references: false,
// with a problem, when it is not a branch or leaf page of its own id.
func (w *walker) checkTreePage(bucket int, p *Page) bool {
	switch {
	case p.HeaderID != uint64(p.ID):
		w.problem(p.ID, p.Offset, bucket, ErrPageInvalid, "page header says id %d, type %s (a zeroed or misplaced page)", p.HeaderID, p.Type)
		return false
	case p.Type != BranchPage && p.Type != LeafPage:
		w.problem(p.ID, p.Offset, bucket, ErrPageInvalid, "type %s, want branch or leaf", p.Type)
		return false
	case p.ID+PageID(p.Overflow) >= w.hwm:
		w.problem(p.ID, p.Offset, bucket, ErrPageInvalid, "overflow %d runs past the high-water mark %d", p.Overflow, w.hwm)
	case p.Short:
		w.problem(p.ID, p.Offset, bucket, ErrPageInvalid, "overflow %d runs past the end of the file", p.Overflow)
	}
	return true
}

// checkBranch checks a branch page's elements and the order of their
// keys, which it clones: they alias the page buffer of this depth, which
// deeper pages do not reuse, but the bounds must outlive the buffer.
func (w *walker) checkBranch(bucket int, p *Page, els []BranchElement, lo, hi []byte) {
	if len(els) == 0 {
		w.problem(p.ID, p.Offset, bucket, ErrPageInvalid, "branch page with no elements")
	}
	for i := range els {
		e := &els[i]
		if e.Problem != nil {
			w.problem(p.ID, p.Offset+int64(e.Offset), bucket, ErrPageInvalid, "%v", e.Problem)
			continue
		}
		e.Key = bytes.Clone(e.Key)
		w.checkOrder(bucket, p.ID, p.Offset+int64(e.Offset), els, i, lo, hi)
	}
}

// checkOrder checks branch element i's key against its predecessor in the
// page and against the range the parent gives the page.
func (w *walker) checkOrder(bucket int, id PageID, off int64, els []BranchElement, i int, lo, hi []byte) {
	k := els[i].Key
	var prev []byte
	for j := i - 1; j >= 0; j-- {
		if els[j].Key != nil {
			prev = els[j].Key
			break
		}
	}
	switch {
	case prev != nil && bytes.Compare(k, prev) <= 0:
		w.problem(id, off, bucket, ErrKeyOrder, "branch key %d %s is not above the key before it %s", i, showKey(k), showKey(prev))
	case lo != nil && bytes.Compare(k, lo) < 0:
		w.problem(id, off, bucket, ErrKeyOrder, "branch key %d %s is below its parent's bound %s", i, showKey(k), showKey(lo))
	case hi != nil && bytes.Compare(k, hi) >= 0:
		w.problem(id, off, bucket, ErrKeyOrder, "branch key %d %s is not below the next parent key %s", i, showKey(k), showKey(hi))
	}
}

// leaf checks a leaf page. Without a Leaf callback it reads no overflow
// page: element bounds are checked against the page's full span, and the
// keys (and bucket values) that lie past the first page are read on their
// own, not the values between them.
func (w *walker) leaf(bucket int, p *Page, lo, hi []byte, lastKey *[]byte, haveLast *bool) {
	span := len(p.Data)
	if p.Overflow > 0 {
		span = max(span, int(w.db.span(p, w.hwm))*w.db.PageSize)
	}
	els, err := leafElements(w.els, p.Data, int(p.Count), span)
	if err != nil {
		w.problem(p.ID, p.Offset, bucket, ErrPageInvalid, "%v", err)
		return
	}
	w.els = els
	if span > len(p.Data) {
		if err := w.fillMissing(p, els); err != nil {
			w.problem(p.ID, p.Offset, bucket, ErrPageInvalid, "reading keys past the first page: %v", err)
			return
		}
	}
	w.leafElements(bucket, p.ID, p.Offset, els, lo, hi, lastKey, haveLast, false)
}

// fillMissing reads the keys, and the values of bucket entries, that
// leafElements left nil because they lie past the bytes read.
func (w *walker) fillMissing(p *Page, els []LeafElement) error {
	type want struct {
		e          *LeafElement
		key        bool
		start, end int
	}
	var wants []want
	for i := range els {
		e := &els[i]
		if e.Problem != nil {
			continue
		}
		start := e.Offset + int(e.Pos)
		kend := start + int(e.KSize)
		if e.Key == nil {
			wants = append(wants, want{e, true, start, kend})
		}
		if e.Value == nil && e.IsBucket() {
			wants = append(wants, want{e, false, kend, kend + int(e.VSize)})
		}
	}
	total := 0
	for _, x := range wants {
		total += x.end - x.start
	}
	if cap(w.arena) < total {
		w.arena = make([]byte, total)
	}
	w.arena = w.arena[:total]
	at := 0
	for _, x := range wants {
		b := w.arena[at : at+x.end-x.start : at+x.end-x.start]
		if _, err := w.db.r.ReadAt(b, p.Offset+int64(x.start)); err != nil {
			return err
		}
		if x.key {
			x.e.Key = b
		} else {
			x.e.Value = b
		}
		at += len(b)
	}
	return nil
}

func (w *walker) leafElements(bucket int, id PageID, pageOff int64, els []LeafElement, lo, hi []byte, lastKey *[]byte, haveLast *bool, inline bool) {
	skip := false
	for i := range els {
		e := &els[i]
		off := pageOff + int64(e.Offset)
		if e.Problem != nil {
			w.problem(id, off, bucket, ErrPageInvalid, "%v", e.Problem)
		} else {
			switch {
			case *haveLast && bytes.Compare(e.Key, *lastKey) <= 0:
				w.problem(id, off, bucket, ErrKeyOrder, "leaf key %d %s is not above the key before it %s", i, showKey(e.Key), showKey(*lastKey))
			case lo != nil && bytes.Compare(e.Key, lo) < 0:
				w.problem(id, off, bucket, ErrKeyOrder, "leaf key %d %s is below its parent's bound %s", i, showKey(e.Key), showKey(lo))
			case hi != nil && bytes.Compare(e.Key, hi) >= 0:
				w.problem(id, off, bucket, ErrKeyOrder, "leaf key %d %s is not below the next parent key %s", i, showKey(e.Key), showKey(hi))
			}
			*lastKey = append((*lastKey)[:0], e.Key...)
			*haveLast = true
		}
		if e.Problem == nil && e.IsBucket() {
			if inline {
				w.problem(id, off, bucket, ErrBucketInvalid, "an inline bucket holds a nested bucket %s", showKey(e.Key))
			} else {
				w.bucketEntry(bucket, id, off, e)
			}
			continue
		}
		if e.Problem == nil {
			w.rep.Buckets[bucket].Keys++
		}
		if w.opts.Leaf != nil && !skip {
			if !w.opts.Leaf(&w.rep.Buckets[bucket], id, e) {
				skip = true
			}
		}
	}
}

// bucketEntry records a nested bucket and checks an inline one in place.
func (w *walker) bucketEntry(parent int, id PageID, off int64, e *LeafElement) {
	b, err := DecodeBucket(e.Value)
	if err != nil {
		w.problem(id, off, parent, ErrBucketInvalid, "bucket %s: %v", showKey(e.Key), err)
		return
	}
	w.rep.Buckets[parent].Buckets++
	path := append(append([]string(nil), w.rep.Buckets[parent].Path...), string(e.Key))
	w.rep.Buckets = append(w.rep.Buckets, BucketInfo{Path: path, Root: b.Root, Sequence: b.Sequence, Inline: b.Root == 0, Page: id})
	idx := len(w.rep.Buckets) - 1
	if b.Root != 0 || !w.wanted(path) {
		return
	}
	img := b.Inline
	typ, count, overflow := InlineHeader(img)
	if typ != LeafPage || overflow != 0 {
		w.problem(id, off, idx, ErrBucketInvalid, "inline bucket %s: page header type %s overflow %d, want leaf and 0", showKey(e.Key), typ, overflow)
		return
	}
	els, err := LeafElements(img, int(count))
	if err != nil {
		w.problem(id, off, idx, ErrBucketInvalid, "inline bucket %s: %v", showKey(e.Key), err)
		return
	}
	var last []byte
	have := false
	// Offsets inside the inline image are reported against the element
	// that holds it.
	w.leafElements(idx, id, off, els, nil, nil, &last, &have, true)
}

// showKey prints a key as text when it is printable, else as hex.
func showKey(k []byte) string {
	for _, c := range k {
		if c < 0x20 || c > 0x7e {
			return fmt.Sprintf("0x%x", k)
		}
	}
	return fmt.Sprintf("%q", k)
}

// SortProblems orders problems by page id.
func SortProblems(ps []error) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, _ := ps[i].(*PageError)
		b, _ := ps[j].(*PageError)
		if a == nil || b == nil {
			return false
		}
		return a.Page < b.Page
	})
}
