package boltfmt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// This file holds the lookup of one key: a descent of the tree as
// bbolt's cursor does it instead of reading a whole bucket, and a
// fallback that reads the whole bucket when damage may hide the key.

// Found is what [DB.Get] found.
type Found struct {
	// Bucket is the bucket's path, a/b.
	Bucket string
	// Page is the leaf page holding the element (for a key of an inline
	// bucket, the page holding the bucket's entry).
	Page PageID
	// Element is the key's leaf element; its Key and Value are copies.
	Element LeafElement
	// Problems are what the descent met on its way: damaged pages and
	// elements it had to pass over. When there are any, a key reported as
	// missing may still be in the file; a [DB.Walk] reads every leaf.
	Problems []error
}

// Lookup errors.
var (
	// ErrBucketNotFound is returned by [DB.Get], [DB.Lookup] and
	// [DB.Range] when a bucket of the path does not exist, or the key
	// naming it is not a bucket.
	ErrBucketNotFound = errors.New("boltfmt: bucket not found")

	// ErrKeyNotFound is returned by [DB.Get] and [DB.Lookup] when the
	// bucket holds no such key.
	ErrKeyNotFound = errors.New("boltfmt: key not found")

	// ErrIsBucket is returned by [DB.Get] and [DB.Lookup] when the key
	// names a nested bucket, which has no value.
	ErrIsBucket = errors.New("boltfmt: key is a nested bucket")
)

// maxDepth bounds a descent: a bbolt tree of 2^64 keys is far shallower.
const maxDepth = 64

// Get finds key in the bucket at path (nil or empty for the root bucket)
// by descending from the root as bbolt's cursor does: at each branch the
// last child whose key is at most the key sought. It reads one page per
// level and never panics on damaged pages; what it had to pass over is
// in Found.Problems. The error is ErrBucketNotFound, ErrKeyNotFound or
// ErrIsBucket (wrapped, with the Found still filled in), or an I/O error.
func (db *DB) Get(path []string, key []byte) (*Found, error) {
	name := strings.Join(path, "/")
	g := &getter{db: db, found: &Found{Bucket: name}, bucket: name}
	b, err := g.resolve(path)
	if err != nil {
		return g.found, err
	}
	e, page, err := g.find(b.root, b.inline, b.at, key)
	if err != nil {
		return g.found, err
	}
	if e == nil {
		return g.found, fmt.Errorf("bucket %q: %w", g.bucket, ErrKeyNotFound)
	}
	g.found.Page, g.found.Element = page, *e
	if e.IsBucket() {
		return g.found, fmt.Errorf("bucket %q: %w", g.bucket, ErrIsBucket)
	}
	return g.found, nil
}

// MarshalJSON writes what bolt get -w json prints: the bucket, the key
// and its value (base64), and the page holding it.
func (f Found) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Bucket string `json:"bucket"`
		Key    []byte `json:"key"`
		Value  []byte `json:"value"`
		Page   PageID `json:"page"`
	}{f.Bucket, f.Element.Key, f.Element.Value, f.Page})
}

// LookupOptions configure [DB.Lookup].
type LookupOptions struct {
	// Scan reads the whole bucket instead of descending the tree first,
	// for a tree whose branch keys may mislead.
	Scan bool
}

// Lookup finds key in the bucket at path as [DB.Get] does; when the
// descent met damage and found neither the key nor the bucket, or always
// with opts.Scan, it reads the whole bucket with [DB.Walk] instead, which
// finds a key that a damaged branch hides. Found.Problems are those of
// the read that answered. The errors are Get's, but that a scan passes
// over bucket entries: for a nested bucket's name, it returns
// ErrKeyNotFound.
func (db *DB) Lookup(path []string, key []byte, opts LookupOptions) (*Found, error) {
	if !opts.Scan {
		found, err := db.Get(path, key)
		missing := errors.Is(err, ErrKeyNotFound) || errors.Is(err, ErrBucketNotFound)
		if !missing || len(found.Problems) == 0 {
			return found, err
		}
	}
	return db.scan(path, key)
}

// scan reads the whole bucket at path for key.
func (db *DB) scan(path []string, key []byte) (*Found, error) {
	name := strings.Join(path, "/")
	found := &Found{Bucket: name}
	hit := false
	rep, err := db.Walk(WalkOptions{Bucket: path, Leaf: func(b *BucketInfo, page PageID, e *LeafElement) bool {
		if !hit && e.Problem == nil && slices.Equal(b.Path, path) && bytes.Equal(e.Key, key) {
			hit = true
			found.Page, found.Element = page, *e
			found.Element.Key, found.Element.Value = bytes.Clone(e.Key), append([]byte{}, e.Value...)
		}
		return true
	}})
	if err != nil {
		return found, err
	}
	found.Problems = rep.Problems
	if _, ok := rep.Bucket(path); !ok {
		return found, fmt.Errorf("bucket %q: %w", name, ErrBucketNotFound)
	}
	if !hit {
		return found, fmt.Errorf("bucket %q: %w", name, ErrKeyNotFound)
	}
	return found, nil
}

// usableMeta returns the active meta or, when neither is valid, the most
// plausible one (bbolt's magic, fields in range, the page size the file
// uses) with the higher txid; nil when neither can be used.
func (db *DB) usableMeta() *Meta {
	if db.Active >= 0 {
		return &db.Metas[db.Active]
	}
	var best *Meta
	for i := range db.Metas {
		m := &db.Metas[i]
		if m.Magic != Magic || m.HWM < 4 || m.Root < 2 || m.Root >= m.HWM || int(m.PageSize) != db.PageSize {
			continue
		}
		if best == nil || m.TxID > best.TxID {
			best = m
		}
	}
	return best
}

type getter struct {
	db     *DB
	hwm    PageID
	found  *Found
	bucket string
	buf    []byte
}

func (g *getter) problem(id PageID, off int64, sentinel error, format string, args ...any) {
	g.found.Problems = append(g.found.Problems, &PageError{Page: id, Offset: off, Bucket: g.bucket, Err: sentinel, Detail: fmt.Sprintf(format, args...)})
}

// bucketRef is where a bucket's elements are: the tree at root, or, when
// root is 0, the inline page image whose entry is on page at.
type bucketRef struct {
	root   PageID
	inline []byte
	at     PageID
}

// resolve finds the bucket at path (nil or empty for the root bucket) one
// name at a time with find, and sets g.hwm. The error is ErrBucketNotFound
// (wrapped) or an I/O error.
func (g *getter) resolve(path []string) (bucketRef, error) {
	meta := g.db.usableMeta()
	if meta == nil {
		return bucketRef{}, fmt.Errorf("neither meta page can be used: %w", ErrBucketNotFound)
	}
	g.hwm = min(meta.HWM, g.db.FilePages())
	ref := bucketRef{root: meta.Root}
	for i, name := range path {
		e, page, err := g.find(ref.root, ref.inline, ref.at, []byte(name))
		if err != nil {
			return bucketRef{}, err
		}
		where := strings.Join(path[:i+1], "/")
		switch {
		case e == nil:
			return bucketRef{}, fmt.Errorf("bucket %q: %w", where, ErrBucketNotFound)
		case !e.IsBucket():
			return bucketRef{}, fmt.Errorf("bucket %q is a key, not a bucket: %w", where, ErrBucketNotFound)
		}
		b, err := DecodeBucket(e.Value)
		if err != nil {
			return bucketRef{}, fmt.Errorf("bucket %q: %v: %w", where, err, ErrBucketNotFound)
		}
		ref = bucketRef{root: b.Root, inline: b.Inline, at: page}
	}
	return ref, nil
}

// find returns the leaf element whose key is key in the tree at root, or
// in the inline page image when root is 0 (whose entry is on page at), and
// the page holding it.
func (g *getter) find(root PageID, inline []byte, at PageID, key []byte) (*LeafElement, PageID, error) {
	if root == 0 {
		els := g.inlineElements(at, inline)
		if els == nil {
			return nil, 0, nil
		}
		return g.match(at, int64(at)*int64(g.db.PageSize), els, key), at, nil
	}
	id := root
	var path []PageID
	for {
		p, ok, err := g.load(id, path, g.buf)
		if err != nil || !ok {
			return nil, 0, err
		}
		g.buf = p.Data[:cap(p.Data)]
		path = append(path, id)
		off := p.Offset
		if p.Type == LeafPage {
			els, err := LeafElements(p.Data, int(p.Count))
			if err != nil {
				g.problem(id, off, ErrPageInvalid, "%v", err)
				return nil, 0, nil
			}
			return g.match(id, off, els, key), id, nil
		}
		els, err := BranchElements(p.Data, int(p.Count))
		if err != nil {
			g.problem(id, off, ErrPageInvalid, "%v", err)
			return nil, 0, nil
		}
		// bbolt takes the last child whose key is at most the key sought,
		// or the first child for a key below every branch key.
		next := -1
		for i := range els {
			e := &els[i]
			if e.Problem != nil {
				g.problem(id, off+int64(e.Offset), ErrPageInvalid, "%v", e.Problem)
				continue
			}
			if next < 0 || bytes.Compare(e.Key, key) <= 0 {
				next = i
			}
		}
		if next < 0 {
			g.problem(id, off, ErrPageInvalid, "branch page with no usable element")
			return nil, 0, nil
		}
		id = els[next].Child
	}
}

// inlineElements decodes an inline bucket's page image, whose entry is on
// page at; nil (and a problem) when its elements cannot be read.
func (g *getter) inlineElements(at PageID, inline []byte) []LeafElement {
	off := int64(at) * int64(g.db.PageSize)
	typ, count, _ := InlineHeader(inline)
	if typ != LeafPage {
		g.problem(at, off, ErrBucketInvalid, "inline bucket %q: page header type %s, want leaf", g.bucket, typ)
	}
	els, err := LeafElements(inline, int(count))
	if err != nil {
		g.problem(at, off, ErrBucketInvalid, "inline bucket %q: %v", g.bucket, err)
		return nil
	}
	return els
}

// load reads page id of a bucket's tree, below the pages of path, into buf
// (or a new buffer when buf is too small). ok is false, with a problem,
// when the page cannot be used: outside [2, hwm), its own ancestor, deeper
// than maxDepth, or not a branch or leaf page with its own id.
func (g *getter) load(id PageID, path []PageID, buf []byte) (p Page, ok bool, err error) {
	off := int64(id) * int64(g.db.PageSize)
	switch {
	case id < 2 || id >= g.hwm:
		// Placed at the page holding the reference (the meta's, for the
		// root): the page it names may lie past the end of the file.
		at := PageID(0)
		if len(path) > 0 {
			at = path[len(path)-1]
		}
		g.problem(at, int64(at)*int64(g.db.PageSize), ErrPageInvalid, "reference to page %d, outside [2, %d) (path %v)", id, g.hwm, path)
		return p, false, nil
	case slices.Contains(path, id):
		g.problem(id, off, ErrPageDoubleUse, "page %d is its own ancestor: a cycle (path %v)", id, path)
		return p, false, nil
	case len(path) >= maxDepth:
		g.problem(id, off, ErrPageInvalid, "deeper than %d levels (path %v)", maxDepth, path)
		return p, false, nil
	}
	p, err = g.db.ReadPage(id, g.hwm, buf)
	if err != nil {
		return p, false, err
	}
	if p.HeaderID != uint64(id) || (p.Type != BranchPage && p.Type != LeafPage) {
		g.problem(id, off, ErrPageInvalid, "page header says id %d, type %s (path %v)", p.HeaderID, p.Type, append(path[:len(path):len(path)], id))
		return p, false, nil
	}
	return p, true, nil
}

// match returns a copy of the element whose key is key.
func (g *getter) match(id PageID, off int64, els []LeafElement, key []byte) *LeafElement {
	var hit *LeafElement
	for i := range els {
		e := &els[i]
		if e.Problem != nil {
			g.problem(id, off+int64(e.Offset), ErrPageInvalid, "%v", e.Problem)
			continue
		}
		if hit == nil && bytes.Equal(e.Key, key) {
			c := *e
			c.Key, c.Value = bytes.Clone(e.Key), bytes.Clone(e.Value)
			if c.Value == nil {
				c.Value = []byte{}
			}
			hit = &c
		}
	}
	return hit
}
