package boltfmt

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/etcdscope/etcdscope/internal/hexfmt"
	"github.com/etcdscope/etcdscope/internal/textfmt"
)

// This file describes a [PageLayout] for people, in the manner of raft's
// DescribeEntry: the text, table rows, JSON and annotated hex that bolt
// page prints, and the hex the tui's page detail shows.

// A KeyFormatter shows a key of the bucket named (a/b; "" for the root
// bucket) in a form of its own, as etcd's key bucket shows its keys as
// revisions (mvccview.KeyText); ok false leaves the key to textfmt. Nil is
// a valid KeyFormatter: every key is shown by textfmt.
type KeyFormatter func(bucket string, key []byte) (text string, ok bool)

// Bare shows a key standing alone (a column, JSON's key_text, an
// annotation): in its own form, else as textfmt.Bare shows bytes.
func (f KeyFormatter) Bare(bucket string, key []byte) string {
	return f.Form(bucket, key, textfmt.Bare)
}

// Quote shows a key as a token inside a line or a message: in its own
// form, else quoted (textfmt.Quote).
func (f KeyFormatter) Quote(bucket string, key []byte) string {
	return f.Form(bucket, key, textfmt.Quote)
}

// Form shows a key in its own form, else in the form given.
func (f KeyFormatter) Form(bucket string, key []byte, form func([]byte) string) string {
	if f != nil {
		if s, ok := f(bucket, key); ok {
			return s
		}
	}
	return form(key)
}

// typeName is the page's type as bolt page names it: the header's, or
// for a page with no header of its own overflow, zeroed or no-header.
func (l *PageLayout) typeName() string {
	if l.Kind != KindHeader {
		return l.Kind.String()
	}
	return l.Type.String()
}

// note says, for an overflow page, whose run it is in.
func (l *PageLayout) note() string {
	if l.Kind != KindOverflow {
		return ""
	}
	start := l.Start.Start
	return fmt.Sprintf("overflow page %d of page %d (a %s page with overflow %d); it has no header of its own, see bolt page %d",
		l.ID-start, start, l.Start.Type, l.Start.Overflow, start)
}

// Describe writes the page as bolt page prints it: [PageLayout.DescribeHeader],
// then a line an element, an inline bucket's elements indented under its
// entry.
func (l *PageLayout) Describe(w io.Writer) {
	l.DescribeHeader(w)
	l.describeElements(w, l.Elements, "  ")
}

// DescribeHeader writes what bolt page shows above a page's elements: the
// header, the page's problems, a meta page's fields and a freelist's ids.
func (l *PageLayout) DescribeHeader(w io.Writer) {
	headed := l.Kind == KindHeader
	fmt.Fprintf(w, "page %d (offset %#x, %d bytes): %s", l.ID, l.Offset, len(l.Data), strings.ReplaceAll(l.typeName(), "-", " "))
	if headed {
		fmt.Fprintf(w, ", %d %s, overflow %d", l.Count, plural(int(l.Count), "item"), l.Overflow)
	}
	fmt.Fprintf(w, "; %s", l.Status)
	if b := ownerName(l.Bucket); b != "" {
		fmt.Fprintf(w, ", bucket %s", textfmt.BareString(b))
	}
	fmt.Fprintln(w)
	if headed {
		fmt.Fprintf(w, "  header: id %d, flags %#04x, count %d, overflow %d\n", l.HeaderID, uint16(l.Type), l.Count, l.Overflow)
	}
	if n := l.note(); n != "" {
		fmt.Fprintf(w, "  %s\n", n)
	}
	if p := joinErrors(l.Problems); p != "" {
		fmt.Fprintf(w, "  ! %s\n", p)
	}
	if m := l.Meta; m != nil {
		fmt.Fprintf(w, "  meta: magic %#08x version %d page size %d flags %#x root %d sequence %d freelist %s hwm %d txid %d checksum %016x",
			m.Magic, m.Version, m.PageSize, m.MetaFlag, m.Root, m.Sequence, freelistText(m.Freelist), m.HWM, m.TxID, m.Checksum)
		switch {
		case m.Problem != nil:
			fmt.Fprintf(w, "\n  ! meta invalid: %s\n", m.Problem)
		case l.MetaActive:
			fmt.Fprintf(w, " (valid, active)\n")
		default:
			fmt.Fprintf(w, " (valid)\n")
		}
	}
	if l.Freelist != nil {
		fmt.Fprintf(w, "  freelist: %d free page %s: %s\n", len(l.Freelist), plural(len(l.Freelist), "id"), idRanges(l.Freelist))
	}
}

func (l *PageLayout) describeElements(w io.Writer, els []ElementLayout, indent string) {
	for i := range els {
		e := &els[i]
		fmt.Fprintf(w, "%s[%d] +%#x ", indent, e.Index, e.Offset)
		if e.Problem != nil {
			fmt.Fprintf(w, "! %s\n", e.Problem)
			continue
		}
		if !e.Branch && e.Flags != 0 {
			fmt.Fprintf(w, "flags %#x ", e.Flags)
		}
		fmt.Fprintf(w, "key %s %s\n", l.opts.Key.Quote(e.KeyBucket, e.Key), l.valueText(e, textfmt.Quote))
		if e.Bucket != nil && len(e.Bucket.Elements) > 0 {
			l.describeElements(w, e.Bucket.Elements, indent+"    ")
		}
	}
}

// ElementRows are the table of the elements bolt page prints, an inline
// bucket's under its entry (numbered 3.0, 3.1, ...).
func (l *PageLayout) ElementRows() (hdr []string, rows [][]string) {
	return []string{"ELEMENT", "OFFSET", "FLAGS", "KEY", "VALUE", "PROBLEM"}, l.elementRows(nil, l.Elements, "")
}

func (l *PageLayout) elementRows(rows [][]string, els []ElementLayout, prefix string) [][]string {
	for i := range els {
		e := &els[i]
		flags, key := "", ""
		if !e.Branch {
			flags = fmt.Sprintf("%#x", e.Flags)
		}
		if e.Problem == nil {
			key = l.opts.Key.Bare(e.KeyBucket, e.Key)
		}
		rows = append(rows, []string{prefix + strconv.Itoa(e.Index), fmt.Sprintf("%#x", e.Offset), flags, key, l.valueText(e, textfmt.Bare), errorText(e.Problem)})
		if e.Bucket != nil {
			rows = l.elementRows(rows, e.Bucket.Elements, prefix+strconv.Itoa(e.Index)+".")
		}
	}
	return rows
}

// valueText is what an element's key is followed by: its child, its
// bucket, or its value's size, or with Values the value in form.
func (l *PageLayout) valueText(e *ElementLayout, form func([]byte) string) string {
	switch {
	case e.Branch:
		return "child " + strconv.FormatUint(uint64(e.Child), 10)
	case e.Bucket != nil:
		b := e.Bucket
		s := "bucket, root " + strconv.FormatUint(uint64(b.Root), 10)
		if b.Inline {
			s = fmt.Sprintf("bucket, inline (%d %s)", b.Count, plural(int(b.Count), "element"))
		}
		s += ", sequence " + strconv.FormatUint(b.Sequence, 10)
		if p := joinErrors(b.Problems); p != "" {
			s += " ! " + p
		}
		return s
	case e.Problem != nil:
		return ""
	case l.opts.Values:
		return form(e.Value)
	}
	return fmt.Sprintf("%d %s", len(e.Value), plural(len(e.Value), "byte"))
}

// Hex is the page's bytes as annotated hex, each range the layout decodes
// named (with DescribeOptions.Annotate); with limit > 0 only the first
// limit bytes, and the annotations that start in them.
func (l *PageLayout) Hex(limit int) *hexfmt.Builder {
	data := l.Data
	if limit > 0 {
		data = data[:min(len(data), limit)]
	}
	hb := hexfmt.New(data, hexfmt.Options{Base: l.Offset, Squeeze: true})
	for _, a := range l.Annotations {
		if limit <= 0 || a.Offset < len(data) {
			hb.Add(a.Offset, a.Length, "%s", a.Text)
		}
	}
	return hb
}

// The JSON of a layout, bolt page -w json's document. Optional fields are
// pointers, so that a zero is still written where the field applies.
type (
	pageJSON struct {
		Kind           string        `json:"kind"`
		ID             PageID        `json:"id"`
		Offset         int64         `json:"offset"`
		HeaderID       uint64        `json:"header_id"`
		Type           string        `json:"type"`
		Flags          uint16        `json:"flags"`
		Count          uint16        `json:"count"`
		Overflow       uint32        `json:"overflow"`
		Size           int           `json:"size"` // bytes read: the page and its overflow pages
		Short          bool          `json:"short,omitempty"`
		Status         string        `json:"status"`
		Bucket         string        `json:"bucket,omitempty"`
		ContinuationOf *PageID       `json:"continuation_of,omitempty"`
		Note           string        `json:"note,omitempty"`
		Problem        string        `json:"problem,omitempty"`
		Meta           *metaPageJSON `json:"meta,omitempty"`
		Elements       []elementJSON `json:"elements,omitempty"`
		FreelistCount  *int          `json:"freelist_count,omitempty"`
		Freelist       []PageID      `json:"freelist,omitempty"`
		Data           []byte        `json:"data,omitempty"`
		Annotations    []Annotation  `json:"annotations,omitempty"`
	}
	// metaPageJSON is a meta page's fields in their on-disk order, with
	// the verdict and whether bbolt would use it.
	metaPageJSON struct {
		Magic    string `json:"magic"`
		Version  uint32 `json:"version"`
		PageSize uint32 `json:"page_size"`
		Flags    uint32 `json:"flags"`
		Root     PageID `json:"root"`
		Sequence uint64 `json:"sequence"`
		Freelist string `json:"freelist"`
		HWM      PageID `json:"hwm"`
		TxID     uint64 `json:"txid"`
		Checksum string `json:"checksum"`
		Computed string `json:"computed_checksum"`
		Valid    bool   `json:"valid"`
		Active   bool   `json:"active"`
		Problem  string `json:"problem,omitempty"`
	}
	elementJSON struct {
		Index     int         `json:"index"`
		Offset    int         `json:"offset"` // of the element header, in the page
		Flags     *uint32     `json:"flags,omitempty"`
		Pos       uint32      `json:"pos"`
		KSize     uint32      `json:"ksize"`
		VSize     *uint32     `json:"vsize,omitempty"`
		Child     *PageID     `json:"child,omitempty"`
		Key       []byte      `json:"key,omitempty"`
		KeyText   string      `json:"key_text,omitempty"`
		ValueSize *int        `json:"value_size,omitempty"`
		Value     []byte      `json:"value,omitempty"`
		Bucket    *bucketJSON `json:"bucket,omitempty"`
		Problem   string      `json:"problem,omitempty"`
	}
	bucketJSON struct {
		Root     PageID        `json:"root"` // 0: inline
		Sequence uint64        `json:"sequence"`
		Inline   bool          `json:"inline"`
		Count    *uint16       `json:"count,omitempty"` // of an inline bucket
		Elements []elementJSON `json:"elements,omitempty"`
		Problem  string        `json:"problem,omitempty"`
	}
)

// MarshalJSON writes the layout as bolt page -w json does: the header, the
// walk's verdict, and by the page's type its meta fields, elements (with
// their values when DescribeOptions.Values) or freelist ids; with
// DescribeOptions.Annotate also the page's bytes and the annotations.
func (l *PageLayout) MarshalJSON() ([]byte, error) {
	doc := pageJSON{Kind: "page", ID: l.ID, Offset: l.Offset, HeaderID: l.HeaderID, Type: l.typeName(), Flags: uint16(l.Type),
		Count: l.Count, Overflow: l.Overflow, Size: len(l.Data), Short: l.Short, Status: l.Status.String(), Bucket: ownerName(l.Bucket),
		Note: l.note(), Problem: joinErrors(l.Problems), Elements: l.elementsJSON(l.Elements)}
	if l.Kind == KindOverflow {
		doc.ContinuationOf = &l.Start.Start
	}
	if m := l.Meta; m != nil {
		doc.Meta = &metaPageJSON{Magic: fmt.Sprintf("%#08x", m.Magic), Version: m.Version, PageSize: m.PageSize, Flags: m.MetaFlag,
			Root: m.Root, Sequence: m.Sequence, Freelist: freelistText(m.Freelist), HWM: m.HWM, TxID: m.TxID,
			Checksum: fmt.Sprintf("%016x", m.Checksum), Computed: fmt.Sprintf("%016x", m.Computed), Valid: m.Valid(), Active: l.MetaActive,
			Problem: errorText(m.Problem)}
	}
	if l.Freelist != nil {
		n := len(l.Freelist)
		doc.FreelistCount, doc.Freelist = &n, l.Freelist
	}
	if l.opts.Annotate {
		doc.Data, doc.Annotations = l.Data, l.Annotations
	}
	return json.Marshal(doc)
}

func (l *PageLayout) elementsJSON(els []ElementLayout) []elementJSON {
	var out []elementJSON
	for i := range els {
		e := &els[i]
		d := elementJSON{Index: e.Index, Offset: e.Offset, Pos: e.Pos, KSize: e.KSize}
		if e.Branch {
			d.Child = &e.Child
		} else {
			d.Flags, d.VSize = &e.Flags, &e.VSize
		}
		switch {
		case e.Problem != nil:
			d.Problem = e.Problem.Error()
		case e.Bucket != nil:
			b := e.Bucket
			d.Key, d.KeyText = e.Key, l.opts.Key.Bare(e.KeyBucket, e.Key)
			d.Bucket = &bucketJSON{Root: b.Root, Sequence: b.Sequence, Inline: b.Inline, Elements: l.elementsJSON(b.Elements), Problem: joinErrors(b.Problems)}
			if b.Inline {
				d.Bucket.Count = &b.Count
			}
		default:
			d.Key, d.KeyText = e.Key, l.opts.Key.Bare(e.KeyBucket, e.Key)
			if !e.Branch {
				n := len(e.Value)
				d.ValueSize = &n
				if l.opts.Values {
					d.Value = e.Value
				}
			}
		}
		out = append(out, d)
	}
	return out
}

// ownerName names the bucket whose tree holds a page: "(root)" for the
// root bucket, "" for none.
func ownerName(b *BucketInfo) string {
	switch {
	case b == nil:
		return ""
	case b.IsRoot():
		return "(root)"
	}
	return b.Name()
}

// freelistText is a meta's freelist page id, or "not persisted".
func freelistText(id PageID) string {
	if id == NoFreelist {
		return "not persisted"
	}
	return strconv.FormatUint(uint64(id), 10)
}

// idRanges shows sorted ids as runs: 3-7, 9, 12-13.
func idRanges(ids []PageID) string {
	var b strings.Builder
	for i := 0; i < len(ids); {
		j := i
		for j+1 < len(ids) && ids[j+1] == ids[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		if j > i {
			fmt.Fprintf(&b, "%d-%d", ids[i], ids[j])
		} else {
			fmt.Fprintf(&b, "%d", ids[i])
		}
		i = j + 1
	}
	return b.String()
}

// joinErrors is the errors' texts joined with "; ".
func joinErrors(errs []error) string {
	s := make([]string, len(errs))
	for i, err := range errs {
		s[i] = err.Error()
	}
	return strings.Join(s, "; ")
}

// errorText is err's text, "" for nil.
func errorText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func plural(n int, w string) string {
	if n == 1 {
		return w
	}
	return w + "s"
}
