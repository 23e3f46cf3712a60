package boltfmt

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/etcdscope/etcdscope/internal/jsonw"
	"github.com/etcdscope/etcdscope/internal/textfmt"
)

// This file lists what a db holds for people, as the bolt commands print
// it: every page id with its verdict ([DB.ListPages]), the buckets, and
// the keys of a bucket, each as a table row and a JSON object (a line of
// text too where it is not a table's).

// PageEntry is one page id of [DB.ListPages]: what a scan of the file
// found there and what a walk found it to be. An id the file does not hold
// has status StatusMissing and no header fields.
type PageEntry struct {
	PageSpan
	Offset int64
	Status PageStatus
	Bucket *BucketInfo // the bucket whose tree holds the page; nil for none
}

// ListOptions configure [DB.ListPages].
type ListOptions struct {
	// All lists the ids from the high-water mark to the end of the file
	// too, which may hold zeros or the pages of a transaction that never
	// committed.
	All bool
}

// ListPages calls fn with every page id below the high-water mark, in
// order, and with opts.All on to the end of the file (every id of the
// file when no meta could be used); rep is a walk of the db. An error
// from fn stops the listing with that error.
func (db *DB) ListPages(rep *Report, opts ListOptions, fn func(*PageEntry) error) error {
	file := db.FilePages()
	end := rep.HWM
	if opts.All || rep.HWM == 0 { // 0: no meta could be used
		end = max(end, file)
	}
	e := &PageEntry{}
	err := db.PageSpans(SpanOptions{To: end, Live: rep.Live}, func(s *PageSpan) error {
		b, _ := rep.Owner(s.ID)
		*e = PageEntry{PageSpan: *s, Offset: int64(s.ID) * int64(db.PageSize), Status: rep.Status(s.ID), Bucket: b}
		return fn(e)
	})
	if err != nil {
		return err
	}
	// Ids below the high-water mark that a truncated file does not hold.
	for id := file; id < rep.HWM; id++ {
		*e = PageEntry{PageSpan: PageSpan{ID: id}, Offset: int64(id) * int64(db.PageSize), Status: rep.Status(id)}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// PageColumns are the columns of [PageEntry.Row].
func PageColumns() []string { return []string{"ID", "TYPE", "ITEMS", "OVERFLOW", "STATUS", "BUCKET"} }

// headed reports whether the entry shows a page header's fields.
func (e *PageEntry) headed() bool { return e.Status != StatusMissing && e.Kind() == KindHeader }

// typeText is the entry's type: the header's (with the id it has when it
// is not the page's own), "overflow of N", "zeroed", "no header" or "-".
func (e *PageEntry) typeText() string {
	switch {
	case e.Status == StatusMissing:
		return "-"
	case e.Continuation:
		return "overflow of " + strconv.FormatUint(uint64(e.Start), 10)
	case !e.headed():
		return strings.ReplaceAll(e.Kind().String(), "-", " ")
	case e.HeaderID != uint64(e.ID):
		return fmt.Sprintf("%s (header id %d)", e.Type, e.HeaderID)
	}
	return e.Type.String()
}

// Row is the entry as a row of [PageColumns]: the items and overflow only
// of a page header.
func (e *PageEntry) Row() []string {
	items, overflow := "", ""
	if e.headed() {
		items, overflow = strconv.FormatUint(e.Items, 10), strconv.FormatUint(uint64(e.Overflow), 10)
	}
	return []string{strconv.FormatUint(uint64(e.ID), 10), e.typeText(), items, overflow, e.Status.String(), bareName(ownerName(e.Bucket))}
}

// AppendJSON appends the entry as a JSON object of kind page.
func (e *PageEntry) AppendJSON(b []byte) []byte {
	j := jsonw.Begin(b)
	j.Str("kind", "page")
	j.U64("id", uint64(e.ID))
	j.I64("offset", e.Offset)
	switch {
	case e.Status == StatusMissing:
		j.Str("type", "-")
	case e.Continuation:
		j.U64("continuation_of", uint64(e.Start))
		j.Str("type", "overflow")
	case !e.headed():
		j.Str("type", e.Kind().String())
	default:
		j.Str("type", e.Type.String())
		if e.HeaderID != uint64(e.ID) {
			j.U64("header_id", e.HeaderID)
		}
		j.U64("items", e.Items)
		j.U64("overflow", uint64(e.Overflow))
	}
	j.Str("status", e.Status.String())
	j.OptStr("bucket", ownerName(e.Bucket))
	return j.End()
}

// bareName is a bucket's name in a column: as textfmt shows names, blank
// for none.
func bareName(name string) string {
	if name == "" {
		return ""
	}
	return textfmt.BareString(name)
}

// MarshalJSON writes the bucket as bolt buckets does: its name and path,
// its root page (null for an inline bucket), its counts and the page
// holding its entry.
func (b BucketInfo) MarshalJSON() ([]byte, error) {
	var root *PageID
	if !b.Inline {
		root = &b.Root
	}
	return json.Marshal(struct {
		Name     string   `json:"name"`
		Path     []string `json:"path"`
		Root     *PageID  `json:"root"`
		Inline   bool     `json:"inline"`
		Sequence uint64   `json:"sequence"`
		Keys     int      `json:"keys"`
		Buckets  int      `json:"buckets"`
		Pages    int      `json:"pages"`
		Page     PageID   `json:"page"`
	}{b.Name(), b.Path, root, b.Inline, b.Sequence, b.Keys, b.Buckets, b.Pages, b.Page})
}

// BucketsByPath returns every bucket the walk found but the root, ordered
// by path (never nil).
func (r *Report) BucketsByPath() []BucketInfo {
	out := slices.Clone(r.Buckets[min(1, len(r.Buckets)):])
	slices.SortStableFunc(out, func(a, b BucketInfo) int { return slices.Compare(a.Path, b.Path) })
	if out == nil {
		out = []BucketInfo{}
	}
	return out
}

// BucketRows are the table of buckets bolt buckets prints: a row a bucket.
func BucketRows(bs []BucketInfo) (hdr []string, rows [][]string) {
	hdr = []string{"BUCKET", "ROOT", "SEQUENCE", "KEYS", "BUCKETS", "PAGES"}
	for _, b := range bs {
		root := "inline"
		if !b.Inline {
			root = strconv.FormatUint(uint64(b.Root), 10)
		}
		rows = append(rows, []string{textfmt.BareString(b.Name()), root, strconv.FormatUint(b.Sequence, 10), strconv.Itoa(b.Keys), strconv.Itoa(b.Buckets), strconv.Itoa(b.Pages)})
	}
	return hdr, rows
}

// KeyEntry is a leaf element of a bucket where a read found it, as bolt
// keys lists it and bolt get shows it.
type KeyEntry struct {
	Bucket  string // the bucket's path, a/b
	Page    PageID // the leaf page holding the element
	Element *LeafElement
	// Key shows keys, Values has values shown too and not only their
	// sizes, and Hex shows keys and values in hex, as etcdctl --hex prints
	// bytes (the JSON stays base64).
	Key    KeyFormatter
	Values bool
	Hex    bool
}

// Columns are the columns of [KeyEntry.Row].
func (e *KeyEntry) Columns() []string {
	if e.Values {
		return []string{"PAGE", "KEY", "SIZE", "VALUE", "PROBLEM"}
	}
	return []string{"PAGE", "KEY", "SIZE", "PROBLEM"}
}

// bytesText is b in form, or in hex with Hex.
func (e *KeyEntry) bytesText(b []byte, form func([]byte) string) string {
	if e.Hex {
		return textfmt.Hex(b)
	}
	return form(b)
}

func (e *KeyEntry) keyText(form func([]byte) string) string {
	if e.Hex {
		return textfmt.Hex(e.Element.Key)
	}
	return e.Key.Form(e.Bucket, e.Element.Key, form)
}

// KeyText is the key as a column shows it.
func (e *KeyEntry) KeyText() string { return e.keyText(textfmt.Bare) }

// ValueText is the value as a column shows it.
func (e *KeyEntry) ValueText() string { return e.bytesText(e.Element.Value, textfmt.Bare) }

// Row is the entry as a row of [KeyEntry.Columns]: a damaged element only
// with its page and problem.
func (e *KeyEntry) Row() []string {
	el := e.Element
	r := []string{strconv.FormatUint(uint64(e.Page), 10), "", ""}
	if el.Problem == nil {
		r = []string{r[0], e.KeyText(), strconv.Itoa(len(el.Value))}
	}
	if e.Values {
		v := ""
		if el.Problem == nil {
			v = e.ValueText()
		}
		r = append(r, v)
	}
	return append(r, errorText(el.Problem))
}

// AppendText appends the entry as a line: the key (quoted when it is not
// printable) and the value's size, with Values the value; a damaged
// element as its page, index and problem.
func (e *KeyEntry) AppendText(b []byte) []byte {
	el := e.Element
	if el.Problem != nil {
		return fmt.Appendf(b, "! page %d element %d: %v\n", e.Page, el.Index, el.Problem)
	}
	b = append(b, e.keyText(textfmt.Quote)...)
	b = fmt.Appendf(b, " %d %s", len(el.Value), plural(len(el.Value), "byte"))
	if e.Values {
		b = append(b, ' ')
		b = append(b, e.bytesText(el.Value, textfmt.Quote)...)
	}
	return append(b, '\n')
}

// AppendJSON appends the entry as a JSON object of kind key, or damaged
// with its problem; key and value in base64, and key_text as a column
// shows the key but never in hex.
func (e *KeyEntry) AppendJSON(b []byte) []byte {
	el := e.Element
	j := jsonw.Begin(b)
	if el.Problem != nil {
		j.Str("kind", "damaged")
	} else {
		j.Str("kind", "key")
	}
	j.Str("bucket", e.Bucket)
	j.U64("page", uint64(e.Page))
	j.I64("index", int64(el.Index))
	if el.Problem != nil {
		j.Str("problem", el.Problem.Error())
		return j.End()
	}
	j.Bytes("key", el.Key)
	j.Str("key_text", e.Key.Bare(e.Bucket, el.Key))
	j.I64("value_size", int64(len(el.Value)))
	if e.Values {
		j.Bytes("value", el.Value)
	}
	return j.End()
}
