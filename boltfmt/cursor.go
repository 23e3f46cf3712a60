package boltfmt

import (
	"bytes"
	"slices"
	"strings"
)

// This file holds the seek-and-iterate half of the page browser: a window
// of a bucket's keys, read as bbolt's cursor reads them (one page per
// level down to the first key, then the leaves in order), so that a
// bucket of millions of keys is never read whole.

// RangeOptions select what [DB.Range] visits.
type RangeOptions struct {
	Bucket  []string // the bucket's path; nil or empty for the root bucket
	From    []byte   // forward: the first key >= From (nil: the first key); Reverse: keys < From (nil: from the last key)
	Reverse bool     // descending key order
}

// Range calls fn with each element (keys and sub-bucket entries) of the
// bucket in key order, or descending order with Reverse, starting at From,
// until fn returns false. It descends like bbolt's cursor: one page read
// per level, then walks the leaves in order; the element and its Key and
// Value are only valid during the call. page is the leaf page holding the
// element (for an inline bucket, the page holding the bucket's entry).
//
// It never panics on damage: pages it cannot use (out of range, cycles,
// reached twice, wrong type, bad elements, deeper than maxDepth) are passed
// over and returned as problems, each a [*PageError]; a branch element
// whose key is damaged is reported and its child still visited. Elements
// are filtered at the leaves, so a stale branch key loses none; a damaged
// tree may yield keys out of order. The error is ErrBucketNotFound
// (wrapped) when the path does not resolve, or an I/O error.
func (db *DB) Range(opts RangeOptions, fn func(page PageID, e *LeafElement) bool) (problems []error, err error) {
	g := &getter{db: db, found: &Found{}, bucket: strings.Join(opts.Bucket, "/")}
	b, err := g.resolve(opts.Bucket)
	if err != nil {
		return g.found.Problems, err
	}
	r := &ranger{g: g, opts: opts, fn: fn}
	if b.root == 0 {
		if els := g.inlineElements(b.at, b.inline); els != nil {
			r.leaf(b.at, int64(b.at)*int64(db.PageSize), els)
		}
		return g.found.Problems, nil
	}
	// The resolution's buffer is free again: the bucket's root reuses it.
	r.bufs = [][]byte{g.buf}
	r.seen = map[PageID]bool{}
	_, err = r.walk(b.root, nil, true)
	return g.found.Problems, err
}

// ranger is one [DB.Range] call.
type ranger struct {
	g    *getter
	opts RangeOptions
	fn   func(PageID, *LeafElement) bool
	// bufs holds one page buffer per level: a branch's elements point
	// into its level's buffer while its children are read.
	bufs [][]byte
	els  []LeafElement // the current leaf's elements
	seen map[PageID]bool
}

// walk visits the subtree at page id, below the pages of path, in the
// range's order. seek is set on the way down to the first element: a
// branch then starts at the child that may hold From instead of at its
// first (or last) child. It returns false when fn has stopped the range.
func (r *ranger) walk(id PageID, path []PageID, seek bool) (bool, error) {
	g := r.g
	if r.seen[id] && !slices.Contains(path, id) {
		g.problem(id, int64(id)*int64(g.db.PageSize), ErrPageDoubleUse, "page %d is referenced again (path %v)", id, path)
		return true, nil
	}
	depth := len(path)
	for len(r.bufs) <= depth {
		r.bufs = append(r.bufs, nil)
	}
	p, ok, err := g.load(id, path, r.bufs[depth])
	if p.Data != nil {
		r.bufs[depth] = p.Data[:cap(p.Data)]
	}
	if err != nil || !ok {
		return true, err
	}
	r.seen[id] = true
	if p.Type == LeafPage {
		els, err := leafElements(r.els, p.Data, int(p.Count), len(p.Data))
		if err != nil {
			g.problem(id, p.Offset, ErrPageInvalid, "%v", err)
			return true, nil
		}
		r.els = els
		return r.leaf(id, p.Offset, els), nil
	}
	els, err := BranchElements(p.Data, int(p.Count))
	if err != nil {
		g.problem(id, p.Offset, ErrPageInvalid, "%v", err)
		return true, nil
	}
	path = append(path, id)
	i, step := 0, 1
	if r.opts.Reverse {
		i, step = len(els)-1, -1
	}
	if seek && r.opts.From != nil {
		i = r.start(els)
	}
	for ; 0 <= i && i < len(els); i += step {
		e := &els[i]
		if e.Problem != nil {
			g.problem(id, p.Offset+int64(e.Offset), ErrPageInvalid, "%v", e.Problem)
		}
		more, err := r.walk(e.Child, path, seek)
		if err != nil || !more {
			return more, err
		}
		seek = false
	}
	return true, nil
}

// start returns the branch element to descend first for a range from
// From, as bbolt's cursor seeks. Forward, it is the last child whose key
// is at most From, or child 0. Reverse, it is the child before the first
// whose key is at least From (the last child whose key is below From when
// every key is sound), or child 0. Damaged keys are skipped here; the
// iteration reaches them and reports them.
func (r *ranger) start(els []BranchElement) int {
	from := r.opts.From
	if r.opts.Reverse {
		for i := range els {
			if els[i].Problem == nil && bytes.Compare(els[i].Key, from) >= 0 {
				return max(i-1, 0)
			}
		}
		return len(els) - 1
	}
	at := 0
	for i := range els {
		if els[i].Problem == nil && bytes.Compare(els[i].Key, from) <= 0 {
			at = i
		}
	}
	return at
}

// leaf calls fn with the elements of a leaf (at offset off of the file)
// that fall in the range, in the range's order. It returns false when fn
// has stopped the range.
func (r *ranger) leaf(id PageID, off int64, els []LeafElement) bool {
	from, reverse := r.opts.From, r.opts.Reverse
	i, step := 0, 1
	if reverse {
		i, step = len(els)-1, -1
	}
	for ; 0 <= i && i < len(els); i += step {
		e := &els[i]
		switch {
		case e.Problem != nil:
			r.g.problem(id, off+int64(e.Offset), ErrPageInvalid, "%v", e.Problem)
			continue
		case from == nil:
		case !reverse && bytes.Compare(e.Key, from) < 0, reverse && bytes.Compare(e.Key, from) >= 0:
			continue
		}
		if !r.fn(id, e) {
			return false
		}
	}
	return true
}
