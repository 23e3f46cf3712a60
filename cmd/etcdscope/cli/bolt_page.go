package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/internal/hexfmt"
	"github.com/etcdscope/etcdscope/internal/textfmt"
)

// bolt page renders the layouts of boltfmt.DescribePages.

type boltPageOptions struct {
	hex    bool
	values bool
	ids    []boltfmt.PageID // parsed by validate
}

func (o *boltPageOptions) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.hex, "hex", false, "also print the page's bytes as annotated hex (header fields, element headers, keys, values)")
	fs.BoolVar(&o.values, "values", false, "print leaf values instead of their sizes (quoted, with escapes for what is not printable; in a table printable text as it is)")
}

const (
	boltPageShort = "Decode pages: header, elements, bucket entries, freelist ids, meta fields; --hex for annotated bytes"
	boltPageLong  = `Decodes each page given: its header, and by its type the branch elements
(key, child page), the leaf elements (flags, key, value size or value; bucket
entries with their root page and sequence, inline buckets with their elements),
the freelist's page ids, or a meta page's fields. An element whose bounds are
wrong is shown with its problem. Keys in etcd's key bucket are shown as
revisions main_sub (t marks a tombstone). --hex adds the page's bytes, overflow
pages included, with a column naming what starts where. The status and bucket
come from a walk of the whole tree.`
)

func boltPageArgs(cmd *cobra.Command, args []string) error {
	if len(args) < 2 {
		return usagef("%s takes a DB and one or more page ids (got %d arguments)", cmd.CommandPath(), len(args))
	}
	return nil
}

// validate parses the page ids.
func (o *boltPageOptions) validate(args []string) (err error) {
	o.ids, err = parsePageIDs(args[1:])
	return err
}

func parsePageIDs(args []string) ([]boltfmt.PageID, error) {
	var ids []boltfmt.PageID
	for _, a := range args {
		v, err := strconv.ParseUint(a, 0, 64)
		if err != nil {
			return nil, usagef("page id %q: want a non-negative integer", a)
		}
		ids = append(ids, boltfmt.PageID(v))
	}
	return ids, nil
}

func (o *boltPageOptions) run(e *boltEnv, _ []string) error {
	ids := o.ids
	for _, id := range ids {
		if id >= e.db.FilePages() {
			return fmt.Errorf("%s: page %d is beyond the end of the file (%d pages of %d bytes); see etcdscope bolt info", e.path, id, e.db.FilePages(), e.db.PageSize)
		}
	}
	rep, err := e.walk(boltfmt.WalkOptions{})
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(e.cmd.OutOrStdout(), 64<<10)
	first := true
	err = e.db.DescribePages(rep, ids, boltfmt.DescribeOptions{Annotate: o.hex, Key: boltKeyText}, func(l *boltfmt.PageLayout) error {
		if !first && e.format != formatJSON {
			w.WriteString("\n")
		}
		first = false
		doc, hb := newPageDoc(l, o)
		return renderPage(w, e.format, doc, hb, o)
	})
	if err != nil {
		return fmt.Errorf("reading %s: %w", e.path, err)
	}
	return w.Flush()
}

// pageDoc is a decoded page, as bolt page prints it.
type pageDoc struct {
	Kind           string          `json:"kind"`
	ID             uint64          `json:"id"`
	Offset         int64           `json:"offset"`
	HeaderID       uint64          `json:"header_id"`
	Type           string          `json:"type"`
	Flags          uint16          `json:"flags"`
	Count          uint16          `json:"count"`
	Overflow       uint32          `json:"overflow"`
	Size           int             `json:"size"` // bytes read: the page and its overflow pages
	Short          bool            `json:"short,omitempty"`
	Status         string          `json:"status"`
	Bucket         string          `json:"bucket,omitempty"`
	ContinuationOf *uint64         `json:"continuation_of,omitempty"`
	Note           string          `json:"note,omitempty"`
	Problem        string          `json:"problem,omitempty"`
	Meta           *metaPageDoc    `json:"meta,omitempty"`
	Elements       []elementDoc    `json:"elements,omitempty"`
	FreelistCount  *uint64         `json:"freelist_count,omitempty"`
	Freelist       []uint64        `json:"freelist,omitempty"`
	Data           []byte          `json:"data,omitempty"`
	Annotations    []annotationDoc `json:"annotations,omitempty"`
}

type metaPageDoc struct {
	Magic    string `json:"magic"`
	Version  uint32 `json:"version"`
	PageSize uint32 `json:"page_size"`
	Flags    uint32 `json:"flags"`
	Root     uint64 `json:"root"`
	Sequence uint64 `json:"sequence"`
	Freelist string `json:"freelist"`
	HWM      uint64 `json:"hwm"`
	TxID     uint64 `json:"txid"`
	Checksum string `json:"checksum"`
	Computed string `json:"computed_checksum"`
	Valid    bool   `json:"valid"`
	Active   bool   `json:"active"`
	Problem  string `json:"problem,omitempty"`
}

type elementDoc struct {
	Index     int        `json:"index"`
	Offset    int        `json:"offset"` // of the element header, in the page
	Flags     *uint32    `json:"flags,omitempty"`
	Pos       uint32     `json:"pos"`
	KSize     uint32     `json:"ksize"`
	VSize     *uint32    `json:"vsize,omitempty"`
	Child     *uint64    `json:"child,omitempty"`
	Key       []byte     `json:"key,omitempty"`
	KeyText   string     `json:"key_text,omitempty"`
	ValueSize *int       `json:"value_size,omitempty"`
	Value     []byte     `json:"value,omitempty"`
	Bucket    *bucketDoc `json:"bucket,omitempty"`
	Problem   string     `json:"problem,omitempty"`
	bucket    string     // the bucket the key is in
	value     []byte     // for the output with --values
}

type bucketDoc struct {
	Root     uint64       `json:"root"` // 0: inline
	Sequence uint64       `json:"sequence"`
	Inline   bool         `json:"inline"`
	Count    *uint16      `json:"count,omitempty"` // of an inline bucket
	Elements []elementDoc `json:"elements,omitempty"`
	Problem  string       `json:"problem,omitempty"`
}

type annotationDoc struct {
	Offset int    `json:"offset"`
	Length int    `json:"length"`
	Text   string `json:"text"`
}

// newPageDoc is the document of a layout, and with --hex its annotated
// bytes.
func newPageDoc(l *boltfmt.PageLayout, o *boltPageOptions) (*pageDoc, *hexfmt.Builder) {
	doc := &pageDoc{Kind: "page", ID: uint64(l.ID), Offset: l.Offset, HeaderID: l.HeaderID, Type: l.Type.String(), Flags: uint16(l.Type),
		Count: l.Count, Overflow: l.Overflow, Size: len(l.Data), Short: l.Short, Status: l.Status.String(), Bucket: ownerName(l.Bucket),
		Problem: joinErrors(l.Problems), Elements: elementDocs(l.Elements, o)}
	switch l.Kind {
	case boltfmt.KindOverflow:
		start := uint64(l.Start.Start)
		doc.Type, doc.ContinuationOf = "overflow", &start
		doc.Note = fmt.Sprintf("overflow page %d of page %d (a %s page with overflow %d); it has no header of its own, see bolt page %d",
			doc.ID-start, start, l.Start.Type, l.Start.Overflow, start)
	case boltfmt.KindZeroed, boltfmt.KindNoHeader:
		doc.Type = l.Kind.String()
	}
	if m := l.Meta; m != nil {
		doc.Meta = &metaPageDoc{Magic: fmt.Sprintf("%#08x", m.Magic), Version: m.Version, PageSize: m.PageSize, Flags: m.MetaFlag,
			Root: uint64(m.Root), Sequence: m.Sequence, Freelist: freelistText(m.Freelist), HWM: uint64(m.HWM), TxID: m.TxID,
			Checksum: fmt.Sprintf("%016x", m.Checksum), Computed: fmt.Sprintf("%016x", m.Computed), Valid: m.Valid(), Active: l.MetaActive}
		if m.Problem != nil {
			doc.Meta.Problem = m.Problem.Error()
		}
	}
	if l.Freelist != nil {
		n := uint64(len(l.Freelist))
		doc.FreelistCount = &n
		for _, id := range l.Freelist {
			doc.Freelist = append(doc.Freelist, uint64(id))
		}
	}
	if !o.hex {
		return doc, nil
	}
	hb := hexfmt.New(l.Data, hexfmt.Options{Base: l.Offset, Squeeze: true})
	for _, a := range l.Annotations {
		hb.Add(a.Offset, a.Length, "%s", a.Text)
	}
	doc.Data = l.Data
	for _, s := range hb.Spans() {
		doc.Annotations = append(doc.Annotations, annotationDoc{Offset: s.Offset, Length: s.Length, Text: s.Text})
	}
	return doc, hb
}

func joinErrors(errs []error) string {
	s := make([]string, len(errs))
	for i, err := range errs {
		s[i] = err.Error()
	}
	return strings.Join(s, "; ")
}

func elementDocs(els []boltfmt.ElementLayout, o *boltPageOptions) []elementDoc {
	var docs []elementDoc
	for i := range els {
		e := &els[i]
		d := elementDoc{Index: e.Index, Offset: e.Offset, Pos: e.Pos, KSize: e.KSize, bucket: e.KeyBucket}
		if e.Branch {
			child := uint64(e.Child)
			d.Child = &child
		} else {
			flags, vsize := e.Flags, e.VSize
			d.Flags, d.VSize = &flags, &vsize
		}
		switch {
		case e.Problem != nil:
			d.Problem = e.Problem.Error()
		case e.Bucket != nil:
			d.Key, d.KeyText, d.Bucket = e.Key, boltKeyText(e.KeyBucket, e.Key), bucketDocOf(e.Bucket, o)
		default:
			d.Key, d.KeyText = e.Key, boltKeyText(e.KeyBucket, e.Key)
			if !e.Branch {
				n := len(e.Value)
				d.ValueSize, d.value = &n, e.Value
				if o.values {
					d.Value = e.Value
				}
			}
		}
		docs = append(docs, d)
	}
	return docs
}

func bucketDocOf(b *boltfmt.BucketLayout, o *boltPageOptions) *bucketDoc {
	d := &bucketDoc{Root: uint64(b.Root), Sequence: b.Sequence, Inline: b.Inline, Elements: elementDocs(b.Elements, o), Problem: joinErrors(b.Problems)}
	if b.Inline {
		d.Count = &b.Count
	}
	return d
}

// idRanges shows sorted ids as runs: 3-7, 9, 12-13.
func idRanges(ids []uint64) string {
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

func renderPage(w *bufio.Writer, format outputFormat, doc *pageDoc, hb *hexfmt.Builder, o *boltPageOptions) error {
	if format == formatJSON {
		b, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		_, err = w.Write(append(b, '\n'))
		return err
	}
	writePageHead(w, doc)
	if format == formatTable {
		if len(doc.Elements) > 0 {
			var rows [][]string
			elementRows(&rows, doc.Elements, "", o)
			if err := renderTable(w, []string{"ELEMENT", "OFFSET", "FLAGS", "KEY", "VALUE", "PROBLEM"}, rows); err != nil {
				return err
			}
		}
	} else {
		writeElements(w, doc.Elements, "  ", o)
	}
	if hb != nil {
		fmt.Fprintln(w)
		if _, err := hb.WriteTo(w); err != nil {
			return err
		}
	}
	return nil
}

// writePageHead writes what the simple and table outputs show above the
// elements: the header, the note and problem, the meta and the freelist.
func writePageHead(w *bufio.Writer, doc *pageDoc) {
	fmt.Fprintf(w, "page %d (offset %#x, %d bytes): %s", doc.ID, doc.Offset, doc.Size, strings.ReplaceAll(doc.Type, "-", " "))
	headed := doc.ContinuationOf == nil && doc.Type != "no-header" && doc.Type != "zeroed"
	if headed {
		fmt.Fprintf(w, ", %d %s, overflow %d", doc.Count, plural(int(doc.Count), "item"), doc.Overflow)
	}
	fmt.Fprintf(w, "; %s", doc.Status)
	if doc.Bucket != "" {
		fmt.Fprintf(w, ", bucket %s", textfmt.BareString(doc.Bucket))
	}
	fmt.Fprintln(w)
	if headed {
		fmt.Fprintf(w, "  header: id %d, flags %#04x, count %d, overflow %d\n", doc.HeaderID, doc.Flags, doc.Count, doc.Overflow)
	}
	if doc.Note != "" {
		fmt.Fprintf(w, "  %s\n", doc.Note)
	}
	if doc.Problem != "" {
		fmt.Fprintf(w, "  ! %s\n", doc.Problem)
	}
	if m := doc.Meta; m != nil {
		fmt.Fprintf(w, "  meta: magic %s version %d page size %d flags %#x root %d sequence %d freelist %s hwm %d txid %d checksum %s",
			m.Magic, m.Version, m.PageSize, m.Flags, m.Root, m.Sequence, m.Freelist, m.HWM, m.TxID, m.Checksum)
		switch {
		case m.Problem != "":
			fmt.Fprintf(w, "\n  ! meta invalid: %s\n", m.Problem)
		case m.Active:
			fmt.Fprintf(w, " (valid, active)\n")
		default:
			fmt.Fprintf(w, " (valid)\n")
		}
	}
	if doc.FreelistCount != nil {
		fmt.Fprintf(w, "  freelist: %d free page %s: %s\n", *doc.FreelistCount, plural(int(*doc.FreelistCount), "id"), idRanges(doc.Freelist))
	}
}

// elementValueText is what the VALUE column shows, and the simple output
// after the key; form shows a value with --values.
func elementValueText(e *elementDoc, o *boltPageOptions, form func([]byte) string) string {
	switch {
	case e.Child != nil:
		return "child " + strconv.FormatUint(*e.Child, 10)
	case e.Bucket != nil:
		b := e.Bucket
		s := "bucket, root " + strconv.FormatUint(b.Root, 10)
		if b.Inline {
			s = "bucket, inline"
			if b.Count != nil {
				s += fmt.Sprintf(" (%d %s)", *b.Count, plural(int(*b.Count), "element"))
			}
		}
		s += ", sequence " + strconv.FormatUint(b.Sequence, 10)
		if b.Problem != "" {
			s += " ! " + b.Problem
		}
		return s
	case e.ValueSize == nil:
		return ""
	case o.values:
		return form(e.value)
	}
	return fmt.Sprintf("%d %s", *e.ValueSize, plural(*e.ValueSize, "byte"))
}

func elementRows(rows *[][]string, els []elementDoc, prefix string, o *boltPageOptions) {
	for i := range els {
		e := &els[i]
		flags := ""
		if e.Flags != nil {
			flags = fmt.Sprintf("%#x", *e.Flags)
		}
		*rows = append(*rows, []string{prefix + strconv.Itoa(e.Index), fmt.Sprintf("%#x", e.Offset), flags, e.KeyText, elementValueText(e, o, textfmt.Bare), e.Problem})
		if e.Bucket != nil {
			elementRows(rows, e.Bucket.Elements, prefix+strconv.Itoa(e.Index)+".", o)
		}
	}
}

func writeElements(w *bufio.Writer, els []elementDoc, indent string, o *boltPageOptions) {
	for i := range els {
		e := &els[i]
		fmt.Fprintf(w, "%s[%d] +%#x ", indent, e.Index, e.Offset)
		if e.Problem != "" {
			fmt.Fprintf(w, "! %s\n", e.Problem)
			continue
		}
		if e.Flags != nil && *e.Flags != 0 {
			fmt.Fprintf(w, "flags %#x ", *e.Flags)
		}
		fmt.Fprintf(w, "key %s %s\n", keyForm(e.bucket, e.Key, textfmt.Quote), elementValueText(e, o, textfmt.Quote))
		if e.Bucket != nil && len(e.Bucket.Elements) > 0 {
			writeElements(w, e.Bucket.Elements, indent+"    ", o)
		}
	}
}
