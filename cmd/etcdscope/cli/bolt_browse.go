package cli

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/internal/hexfmt"
	"github.com/etcdscope/etcdscope/mvccview"
)

// boltBrowseCommands returns bolt pages, page, buckets, keys and get.
func boltBrowseCommands(g *globalOptions) []*cobra.Command {
	return []*cobra.Command{
		newBoltPagesCommand(g),
		newBoltPageCommand(g),
		newBoltBucketsCommand(g),
		newBoltKeysCommand(g),
		newBoltGetCommand(g),
	}
}

// ---- shared ----

// etcdKeyBucket is etcd's MVCC bucket, whose keys are revisions.
const etcdKeyBucket = mvccview.KeyBucket

// boltKeyText formats a key of a bucket (named as a/b) for people: in
// etcd's key bucket a revision main_sub, with a trailing t for a
// tombstone; elsewhere printable text quoted, anything else in hex. It is
// the one key formatter of bolt keys, get and page.
func boltKeyText(bucket string, k []byte) string {
	if bucket == etcdKeyBucket {
		if main, sub, tomb, ok := revisionOf(k); ok {
			s := strconv.FormatInt(main, 10) + "_" + strconv.FormatInt(sub, 10)
			if tomb {
				s += "t"
			}
			return s
		}
	}
	return bytesText(k)
}

// bytesText shows bytes as quoted text when they are printable UTF-8, else
// as 0x-prefixed hex.
func bytesText(b []byte) string {
	if !utf8.Valid(b) {
		return "0x" + hex.EncodeToString(b)
	}
	for _, r := range string(b) {
		if !unicode.IsPrint(r) && r != '\n' && r != '\t' && r != '\r' {
			return "0x" + hex.EncodeToString(b)
		}
	}
	return strconv.Quote(string(b))
}

// revisionOf decodes an etcd key-bucket key (etcd-formats.md §4.4): an
// 8-byte big-endian main revision, '_', an 8-byte big-endian sub revision,
// and an optional 't' marking a tombstone.
func revisionOf(k []byte) (main, sub int64, tomb, ok bool) {
	if (len(k) != 17 && len(k) != 18) || k[8] != '_' || (len(k) == 18 && k[17] != 't') {
		return 0, 0, false, false
	}
	main = int64(binary.BigEndian.Uint64(k))
	sub = int64(binary.BigEndian.Uint64(k[9:]))
	if main < 0 || sub < 0 {
		return 0, 0, false, false
	}
	return main, sub, len(k) == 18, true
}

// parseRevision parses the main_sub[t] form of a key-bucket key.
func parseRevision(s string) ([]byte, bool) {
	tomb := strings.HasSuffix(s, "t")
	s = strings.TrimSuffix(s, "t")
	ms, ss, ok := strings.Cut(s, "_")
	if !ok {
		return nil, false
	}
	main, err1 := strconv.ParseInt(ms, 10, 64)
	sub, err2 := strconv.ParseInt(ss, 10, 64)
	if err1 != nil || err2 != nil || main < 0 || sub < 0 {
		return nil, false
	}
	k := binary.BigEndian.AppendUint64(nil, uint64(main))
	k = append(k, '_')
	k = binary.BigEndian.AppendUint64(k, uint64(sub))
	if tomb {
		k = append(k, 't')
	}
	return k, true
}

// bucketPath splits a bucket argument a/b into its names.
func bucketPath(s string) []string { return strings.Split(s, "/") }

// browseWarn prints the one-line warning every browsing command gives when
// its walk found problems; the problems themselves are bolt check's.
func browseWarn(w io.Writer, file string, problems []error) {
	if n := len(problems); n > 0 {
		fmt.Fprintf(w, "etcdscope: warning: %s: %d %s; run etcdscope bolt check\n", file, n, plural(n, "problem"))
	}
}

// pageState answers, from a walk, what each page id is.
type pageState struct {
	rep  *boltfmt.Report
	hwm  boltfmt.PageID // the high-water mark of the walk's meta
	file boltfmt.PageID // pages in the file
}

func (s *pageState) status(id boltfmt.PageID) string { return s.rep.Status(id).String() }

// owner returns the name of the bucket whose tree holds the page, "(root)"
// for the root bucket, "" for none.
func (s *pageState) owner(id boltfmt.PageID) string {
	b, ok := s.rep.Owner(id)
	switch {
	case !ok:
		return ""
	case b.IsRoot():
		return "(root)"
	}
	return b.Name()
}

// bucketOf returns the name of the bucket owning the page, "" for none or
// the root bucket: the bucket its keys belong to, for boltKeyText.
func (s *pageState) bucketOf(id boltfmt.PageID) string {
	if b, ok := s.rep.Owner(id); ok {
		return b.Name()
	}
	return ""
}

// walkState runs a full walk and warns when it found problems.
func walkState(cmd *cobra.Command, path string, db *boltfmt.DB) (*pageState, error) {
	rep, err := db.Walk(boltfmt.WalkOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	browseWarn(cmd.ErrOrStderr(), path, rep.Problems)
	return &pageState{rep: rep, hwm: rep.HWM, file: db.FilePages()}, nil
}

// ---- bolt pages ----

type boltPagesOptions struct {
	all bool
}

func (o *boltPagesOptions) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.all, "all", false, "also list the pages from the high-water mark to the end of the file (status beyond-hwm)")
}

func newBoltPagesCommand(g *globalOptions) *cobra.Command {
	o := &boltPagesOptions{}
	c := &cobra.Command{
		Use:   "pages DB",
		Short: "List every page id below the high-water mark: type, items, overflow, status and owning bucket",
		Long: `Lists every page id below the high-water mark, one line each: the type in
its header (overflow pages, which have no header, as "overflow of N"), the
element count, the overflow count, what the walk from the root found it to be
(meta, reachable, freelist, free, orphan; missing for ids past the end of a
truncated file) and the bucket whose tree holds it ("(root)" for the root
bucket). A header that does not carry the page's own id is shown with the id it
has. --all also lists the pages from the high-water mark to the end of the
file, which may hold zeros or the pages of a transaction that never committed.
With -w json, one JSON object per line.`,
		Args: exactArgs(1, "one DB (a bbolt file, or an etcd data dir)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := g.format()
			if err != nil {
				return err
			}
			_, db, path, err := openBolt(args[0])
			if err != nil {
				return err
			}
			defer db.Close()
			st, err := walkState(cmd, path, db)
			if err != nil {
				return err
			}
			return runBoltPages(cmd.OutOrStdout(), format, o, db, st)
		},
	}
	o.AddFlags(c.Flags())
	return c
}

// pageLine is one row of bolt pages.
type pageLine struct {
	id       boltfmt.PageID
	offset   int64
	typ      string
	headerID *uint64 // set when the header does not carry the page's id
	noHeader bool    // the first bytes are not a page header at all
	contOf   *boltfmt.PageID
	items    *uint64
	overflow *uint32
	status   string
	bucket   string
}

func runBoltPages(out io.Writer, format outputFormat, o *boltPagesOptions, db *boltfmt.DB, st *pageState) error {
	end := st.hwm
	if o.all || st.rep.HWM == 0 { // 0: no meta could be used
		end = max(end, st.file)
	}
	bw := bufio.NewWriterSize(out, 64<<10)
	var rows [][]string
	var buf []byte
	emit := func(pl *pageLine) error {
		switch format {
		case formatTable:
			rows = append(rows, pageLineRow(pl))
			return nil
		case formatJSON:
			buf = append(appendPageLineJSON(buf[:0], pl), '\n')
		default:
			buf = appendPageLineText(buf[:0], pl)
		}
		_, err := bw.Write(buf)
		return err
	}
	if format == formatSimple {
		fmt.Fprintf(bw, "%10s  %-22s %7s %8s  %-10s  %s\n", "ID", "TYPE", "ITEMS", "OVERFLOW", "STATUS", "BUCKET")
	}
	ps := int64(db.PageSize)
	err := db.PageSpans(boltfmt.SpanOptions{To: end, Live: st.rep.Live}, func(s *boltfmt.PageSpan) error {
		pl := pageLine{id: s.ID, offset: int64(s.ID) * ps, status: st.status(s.ID), bucket: st.owner(s.ID)}
		switch {
		case s.Continuation:
			start := s.Start
			pl.typ, pl.contOf = "overflow of "+strconv.FormatUint(uint64(start), 10), &start
		case s.HeaderID != uint64(s.ID) && s.HeaderID == 0 && s.Type == 0 && s.Count == 0 && s.Overflow == 0:
			pl.typ, pl.noHeader = "zeroed", true
		case s.HeaderID != uint64(s.ID) && !knownPageType(s.Type):
			// Neither the id nor the type: data, not a header (a freed
			// page's stale overflow bytes, or damage).
			pl.typ, pl.noHeader = "no header", true
		default:
			pl.typ = s.Type.String()
			if s.HeaderID != uint64(s.ID) {
				h := s.HeaderID
				pl.headerID = &h
			}
			items, ovf := s.Items, s.Overflow
			pl.items, pl.overflow = &items, &ovf
		}
		return emit(&pl)
	})
	if err != nil {
		return err
	}
	// Ids below the high-water mark that a truncated file does not hold.
	for id := st.file; id < st.hwm; id++ {
		if err := emit(&pageLine{id: id, offset: int64(id) * ps, typ: "-", status: "missing"}); err != nil {
			return err
		}
	}
	if format == formatTable {
		if err := renderTable(bw, []string{"ID", "TYPE", "ITEMS", "OVERFLOW", "STATUS", "BUCKET"}, rows); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func knownPageType(t boltfmt.PageType) bool {
	switch t {
	case boltfmt.BranchPage, boltfmt.LeafPage, boltfmt.MetaPage, boltfmt.FreelistPage:
		return true
	}
	return false
}

func (pl *pageLine) typeText() string {
	if pl.headerID != nil {
		return fmt.Sprintf("%s (header id %d)", pl.typ, *pl.headerID)
	}
	return pl.typ
}

func optText[T uint32 | uint64](p *T) string {
	if p == nil {
		return ""
	}
	return strconv.FormatUint(uint64(*p), 10)
}

func pageLineRow(pl *pageLine) []string {
	return []string{strconv.FormatUint(uint64(pl.id), 10), pl.typeText(), optText(pl.items), optText(pl.overflow), pl.status, pl.bucket}
}

func appendPageLineText(b []byte, pl *pageLine) []byte {
	return fmt.Appendf(b, "%10d  %-22s %7s %8s  %-10s  %s\n", pl.id, pl.typeText(), optText(pl.items), optText(pl.overflow), pl.status, pl.bucket)
}

func appendPageLineJSON(b []byte, pl *pageLine) []byte {
	var j jsonObj
	j.begin(b)
	j.str("kind", "page")
	j.u64("id", uint64(pl.id))
	j.i64("offset", pl.offset)
	typ := pl.typ
	switch {
	case pl.contOf != nil:
		typ = "overflow"
		j.u64("continuation_of", uint64(*pl.contOf))
	case pl.noHeader:
		typ = strings.ReplaceAll(typ, " ", "-")
	}
	j.str("type", typ)
	if pl.headerID != nil {
		j.u64("header_id", *pl.headerID)
	}
	if pl.items != nil {
		j.u64("items", *pl.items)
	}
	if pl.overflow != nil {
		j.u64("overflow", uint64(*pl.overflow))
	}
	j.str("status", pl.status)
	if pl.bucket != "" {
		j.str("bucket", pl.bucket)
	}
	return j.end()
}

// ---- bolt page ----

type boltPageOptions struct {
	hex    bool
	values bool
}

func (o *boltPageOptions) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.hex, "hex", false, "also print the page's bytes as annotated hex (header fields, element headers, keys, values)")
	fs.BoolVar(&o.values, "values", false, "print leaf values (printable text quoted, else hex) instead of their sizes")
}

// maxPageBytes bounds what bolt page reads of one page, whatever its
// overflow field says.
const maxPageBytes = 256 << 20

func newBoltPageCommand(g *globalOptions) *cobra.Command {
	o := &boltPageOptions{}
	c := &cobra.Command{
		Use:   "page DB ID...",
		Short: "Decode pages: header, elements, bucket entries, freelist ids, meta fields; --hex for annotated bytes",
		Long: `Decodes each page given: its header, and by its type the branch elements
(key, child page), the leaf elements (flags, key, value size or value; bucket
entries with their root page and sequence, inline buckets with their elements),
the freelist's page ids, or a meta page's fields. An element whose bounds are
wrong is shown with its problem. Keys in etcd's key bucket are shown as
revisions main_sub (t marks a tombstone). --hex adds the page's bytes, overflow
pages included, with a column naming what starts where. The status and bucket
come from a walk of the whole tree.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return usagef("%s takes a DB and one or more page ids (got %d arguments)", cmd.CommandPath(), len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := g.format()
			if err != nil {
				return err
			}
			var ids []boltfmt.PageID
			for _, a := range args[1:] {
				v, err := strconv.ParseUint(a, 0, 64)
				if err != nil {
					return usagef("page id %q: want a non-negative integer", a)
				}
				ids = append(ids, boltfmt.PageID(v))
			}
			_, db, path, err := openBolt(args[0])
			if err != nil {
				return err
			}
			defer db.Close()
			for _, id := range ids {
				if id >= db.FilePages() {
					return fmt.Errorf("%s: page %d is beyond the end of the file (%d pages of %d bytes); see etcdscope bolt info", path, id, db.FilePages(), db.PageSize)
				}
			}
			st, err := walkState(cmd, path, db)
			if err != nil {
				return err
			}
			conts, err := continuations(db, st, ids)
			if err != nil {
				return fmt.Errorf("reading %s: %w", path, err)
			}
			bw := bufio.NewWriterSize(cmd.OutOrStdout(), 64<<10)
			for i, id := range ids {
				doc, hb, err := describePage(db, st, id, o, conts)
				if err != nil {
					return fmt.Errorf("reading %s: page %d: %w", path, id, err)
				}
				if i > 0 && format != formatJSON {
					bw.WriteString("\n")
				}
				if err := renderPage(bw, format, doc, hb, o); err != nil {
					return err
				}
			}
			return bw.Flush()
		},
	}
	o.AddFlags(c.Flags())
	return c
}

// continuationBytes is how far back bolt page looks for the page whose
// overflow a headerless page continues.
const continuationBytes = 32 << 20

// continuations finds, for the ids whose header does not carry their own
// id, the overflowing page they continue, if any: one linear scan per
// cluster of nearby ids, as bolt pages does it.
func continuations(db *boltfmt.DB, st *pageState, ids []boltfmt.PageID) (map[boltfmt.PageID]boltfmt.PageSpan, error) {
	var want []boltfmt.PageID
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
	back := boltfmt.PageID(max(1, continuationBytes/db.PageSize))
	out := map[boltfmt.PageID]boltfmt.PageSpan{}
	for i := 0; i < len(want); {
		j := i
		for j+1 < len(want) && want[j+1]-want[j] <= back {
			j++
		}
		from, to := want[i]-min(want[i], back), want[j]+1
		next := i
		err := db.PageSpans(boltfmt.SpanOptions{From: from, To: to, Live: st.rep.Live}, func(s *boltfmt.PageSpan) error {
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

	keyBucket string // the bucket whose keys the elements are, for formatting
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
	value     []byte     // for the simple output with --values
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

// describePage reads and decodes one page; the hex builder is nil without
// --hex.
func describePage(db *boltfmt.DB, st *pageState, id boltfmt.PageID, o *boltPageOptions, conts map[boltfmt.PageID]boltfmt.PageSpan) (*pageDoc, *hexfmt.Builder, error) {
	h, err := db.ReadHeader(id)
	if err != nil {
		return nil, nil, err
	}
	claims := h.HeaderID == uint64(id)
	zeroed := h.HeaderID == 0 && h.Type == 0 && h.Count == 0 && h.Overflow == 0 && id != 0
	noHeader := !claims && (zeroed || !knownPageType(h.Type))
	hwm := min(st.hwm, st.file)
	limit := st.file
	if id < hwm {
		limit = hwm
	}
	limit = min(limit, id+boltfmt.PageID(max(1, maxPageBytes/db.PageSize)))
	last, isCont := conts[id]
	if noHeader || isCont || id < 2 {
		limit = id + 1 // its overflow field means nothing
	}
	p, err := db.ReadPage(id, limit, nil)
	if err != nil {
		return nil, nil, err
	}
	doc := &pageDoc{Kind: "page", ID: uint64(id), Offset: p.Offset, HeaderID: p.HeaderID, Type: p.Type.String(), Flags: uint16(p.Type),
		Count: p.Count, Overflow: p.Overflow, Size: len(p.Data), Short: p.Short && !noHeader, Status: st.status(id), Bucket: st.owner(id),
		keyBucket: st.bucketOf(id)}
	var hb *hexfmt.Builder
	if o.hex {
		hb = hexfmt.New(p.Data, hexfmt.Options{Base: p.Offset, Squeeze: true})
	}
	ann := func(off, n int, format string, args ...any) {
		if hb != nil {
			hb.Add(off, n, format, args...)
		}
	}
	if isCont {
		start := uint64(last.Start)
		doc.ContinuationOf = &start
		doc.Type = "overflow"
		doc.Short = false
		doc.Note = fmt.Sprintf("overflow page %d of page %d (a %s page with overflow %d); it has no header of its own, see bolt page %d",
			uint64(id)-start, start, last.Type, last.Overflow, start)
		ann(0, len(p.Data), "overflow page %d of page %d", uint64(id)-start, start)
		finishHex(doc, hb, p.Data)
		return doc, hb, nil
	}
	if noHeader && id >= 2 {
		doc.Type = "no-header"
		what := "are not a page header"
		if zeroed {
			doc.Type, what = "zeroed", "are zeros"
		}
		doc.Problem = fmt.Sprintf("the page's first 16 bytes %s (id %d, flags %#04x, count %d, overflow %d): a stale, zeroed or overwritten page",
			what, p.HeaderID, uint16(p.Type), p.Count, p.Overflow)
		ann(0, boltfmt.PageHeaderSize, "not a page header")
		finishHex(doc, hb, p.Data)
		return doc, hb, nil
	}
	if claims {
		ann(0, 8, "page id %d", p.HeaderID)
	} else {
		ann(0, 8, "page id %d (this is page %d)", p.HeaderID, id)
	}
	ann(8, 2, "flags %#04x (%s)", uint16(p.Type), p.Type)
	ann(10, 2, "count %d", p.Count)
	ann(12, 4, "overflow %d", p.Overflow)
	switch {
	case id < 2:
		doc.Meta = describeMeta(db, int(id), &db.Metas[id], ann)
	case !claims:
		doc.Problem = fmt.Sprintf("the header says page id %d: a stale or misplaced page", p.HeaderID)
	}
	if have := len(p.Data) / db.PageSize; uint64(have) < uint64(p.Overflow)+1 {
		var where string
		switch last := uint64(id) + uint64(p.Overflow); {
		case last >= uint64(st.file):
			where = fmt.Sprintf("the end of the file (%d pages)", st.file)
		case id < st.hwm && last >= uint64(st.hwm):
			where = fmt.Sprintf("the high-water mark %d", st.hwm)
		default:
			where = fmt.Sprintf("%d bytes, as far as bolt page reads", maxPageBytes)
		}
		doc.Problem = joinProblem(doc.Problem, fmt.Sprintf("overflow %d runs past %s; %d of its %d pages read", p.Overflow, where, have, uint64(p.Overflow)+1))
	}
	switch p.Type {
	case boltfmt.MetaPage:
		if id >= 2 {
			m := boltfmt.DecodeMeta(int(id%2), p.Data)
			doc.Meta = describeMeta(db, -1, &m, ann)
		}
	case boltfmt.BranchPage:
		els, err := boltfmt.BranchElements(p.Data, int(p.Count))
		if err != nil {
			doc.Problem = joinProblem(doc.Problem, err.Error())
		}
		for i := range els {
			doc.Elements = append(doc.Elements, branchElementDoc(&els[i], doc.keyBucket, ann))
		}
	case boltfmt.LeafPage:
		doc.Elements, doc.Problem = leafElementDocs(p.Data, int(p.Count), 0, doc.keyBucket, o, ann, "", doc.Problem)
	case boltfmt.FreelistPage:
		describeFreelist(doc, &p, ann)
	}
	finishHex(doc, hb, p.Data)
	return doc, hb, nil
}

func joinProblem(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// finishHex fills the JSON fields of --hex.
func finishHex(doc *pageDoc, hb *hexfmt.Builder, data []byte) {
	if hb == nil {
		return
	}
	doc.Data = data
	for _, s := range hb.Spans() {
		doc.Annotations = append(doc.Annotations, annotationDoc{Offset: s.Offset, Length: s.Length, Text: s.Text})
	}
}

type annotator func(off, n int, format string, args ...any)

func describeMeta(db *boltfmt.DB, slot int, m *boltfmt.Meta, ann annotator) *metaPageDoc {
	d := &metaPageDoc{Magic: fmt.Sprintf("%#08x", m.Magic), Version: m.Version, PageSize: m.PageSize, Flags: m.MetaFlag,
		Root: uint64(m.Root), Sequence: m.Sequence, Freelist: freelistText(m.Freelist), HWM: uint64(m.HWM), TxID: m.TxID,
		Checksum: fmt.Sprintf("%016x", m.Checksum), Computed: fmt.Sprintf("%016x", m.Computed), Valid: m.Valid(), Active: slot >= 0 && slot == db.Active}
	if m.Problem != nil {
		d.Problem = m.Problem.Error()
	}
	const h = boltfmt.PageHeaderSize
	ann(h+0, 4, "magic %s", d.Magic)
	ann(h+4, 4, "version %d", m.Version)
	ann(h+8, 4, "page size %d", m.PageSize)
	ann(h+12, 4, "meta flags %#x", m.MetaFlag)
	ann(h+16, 8, "root bucket's root page %d", m.Root)
	ann(h+24, 8, "root bucket's sequence %d", m.Sequence)
	ann(h+32, 8, "freelist %s", d.Freelist)
	ann(h+40, 8, "high-water mark %d", m.HWM)
	ann(h+48, 8, "txid %d", m.TxID)
	sum := "ok"
	if m.Checksum != m.Computed {
		sum = "MISMATCH, computed " + d.Computed
	}
	ann(h+56, 8, "checksum %s (%s)", d.Checksum, sum)
	return d
}

func branchElementDoc(e *boltfmt.BranchElement, bucket string, ann annotator) elementDoc {
	child := uint64(e.Child)
	d := elementDoc{Index: e.Index, Offset: e.Offset, Pos: e.Pos, KSize: e.KSize, Child: &child}
	head := fmt.Sprintf("branch element %d: pos %d, ksize %d, child %d", e.Index, e.Pos, e.KSize, e.Child)
	if e.Problem != nil {
		d.Problem = e.Problem.Error()
		ann(e.Offset, boltfmt.ElementSize, "%s: %s", head, d.Problem)
		return d
	}
	ann(e.Offset, boltfmt.ElementSize, "%s", head)
	d.Key, d.KeyText = e.Key, boltKeyText(bucket, e.Key)
	ann(e.Offset+int(e.Pos), len(e.Key), "key %d: %s", e.Index, d.KeyText)
	return d
}

// leafElementDocs decodes the leaf elements of a page image at base in the
// page (0, or an inline bucket's image inside a value), annotating them.
func leafElementDocs(img []byte, count, base int, bucket string, o *boltPageOptions, ann annotator, label, problem string) ([]elementDoc, string) {
	els, err := boltfmt.LeafElements(img, count)
	if err != nil {
		return nil, joinProblem(problem, err.Error())
	}
	var docs []elementDoc
	for i := range els {
		docs = append(docs, leafElementDoc(&els[i], base, bucket, o, ann, label))
	}
	return docs, problem
}

func leafElementDoc(e *boltfmt.LeafElement, base int, bucket string, o *boltPageOptions, ann annotator, label string) elementDoc {
	flags, vsize := e.Flags, e.VSize
	d := elementDoc{Index: e.Index, Offset: base + e.Offset, Flags: &flags, Pos: e.Pos, KSize: e.KSize, VSize: &vsize}
	head := fmt.Sprintf("%sleaf element %d: flags %#x, pos %d, ksize %d, vsize %d", label, e.Index, e.Flags, e.Pos, e.KSize, e.VSize)
	if e.Problem != nil {
		d.Problem = e.Problem.Error()
		ann(d.Offset, boltfmt.ElementSize, "%s: %s", head, d.Problem)
		return d
	}
	ann(d.Offset, boltfmt.ElementSize, "%s", head)
	keyOff := d.Offset + int(e.Pos)
	valOff := keyOff + len(e.Key)
	if !e.IsBucket() {
		d.Key, d.KeyText = e.Key, boltKeyText(bucket, e.Key)
		n := len(e.Value)
		d.ValueSize = &n
		d.value = e.Value
		if o.values {
			d.Value = e.Value
		}
		ann(keyOff, len(e.Key), "%skey %d: %s", label, e.Index, d.KeyText)
		ann(valOff, len(e.Value), "%svalue %d: %d %s", label, e.Index, len(e.Value), plural(len(e.Value), "byte"))
		return d
	}
	// A bucket entry: the key is the bucket's name.
	name := string(e.Key)
	if bucket != "" {
		name = bucket + "/" + name
	}
	d.Key, d.KeyText = e.Key, bytesText(e.Key)
	ann(keyOff, len(e.Key), "%skey %d: bucket %s", label, e.Index, d.KeyText)
	bd := &bucketDoc{}
	d.Bucket = bd
	b, err := boltfmt.DecodeBucket(e.Value)
	if err != nil {
		bd.Problem = err.Error()
		ann(valOff, len(e.Value), "%svalue %d: bad bucket header: %v", label, e.Index, err)
		return d
	}
	bd.Root, bd.Sequence, bd.Inline = uint64(b.Root), b.Sequence, b.Root == 0
	if !bd.Inline {
		ann(valOff, 8, "%sbucket %s: root page %d", label, d.KeyText, b.Root)
		ann(valOff+8, 8, "%sbucket %s: sequence %d", label, d.KeyText, b.Sequence)
		return d
	}
	ann(valOff, 8, "%sbucket %s: root 0 (inline)", label, d.KeyText)
	ann(valOff+8, 8, "%sbucket %s: sequence %d", label, d.KeyText, b.Sequence)
	typ, count, overflow := boltfmt.InlineHeader(b.Inline)
	img := valOff + boltfmt.BucketHeaderLen
	inner := fmt.Sprintf("%sinline %s: ", label, d.KeyText)
	ann(img, 8, "%spage id %d", inner, binary.LittleEndian.Uint64(b.Inline))
	ann(img+8, 2, "%sflags %#04x (%s)", inner, uint16(typ), typ)
	ann(img+10, 2, "%scount %d", inner, count)
	ann(img+12, 4, "%soverflow %d", inner, overflow)
	bd.Count = &count
	if typ != boltfmt.LeafPage || overflow != 0 {
		bd.Problem = fmt.Sprintf("inline page header type %s overflow %d, want leaf and 0", typ, overflow)
	}
	bd.Elements, bd.Problem = leafElementDocs(b.Inline, int(count), img, name, o, ann, inner, bd.Problem)
	return d
}

func describeFreelist(doc *pageDoc, p *boltfmt.Page, ann annotator) {
	ids, err := boltfmt.FreelistIDs(p.Data, p.Count)
	if err != nil {
		doc.Problem = joinProblem(doc.Problem, err.Error())
		return
	}
	start := boltfmt.PageHeaderSize
	if p.Count == 0xFFFF {
		ann(start, 8, "freelist count %d (the header's count is the 0xFFFF escape)", len(ids))
		start += 8
	}
	n := uint64(len(ids))
	doc.FreelistCount = &n
	doc.Freelist = make([]uint64, len(ids))
	for i, id := range ids {
		doc.Freelist[i] = uint64(id)
	}
	if len(ids) <= 64 {
		for i, id := range ids {
			ann(start+8*i, 8, "free page %d", id)
		}
	} else {
		ann(start, 8*len(ids), "%d free page ids", len(ids))
	}
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
		b, err := jsonLine(doc)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	fmt.Fprintf(w, "page %d (offset %#x, %d bytes): %s", doc.ID, doc.Offset, doc.Size, strings.ReplaceAll(doc.Type, "-", " "))
	headed := doc.ContinuationOf == nil && doc.Type != "no-header" && doc.Type != "zeroed"
	if headed {
		fmt.Fprintf(w, ", %d %s, overflow %d", doc.Count, plural(int(doc.Count), "item"), doc.Overflow)
	}
	fmt.Fprintf(w, "; %s", doc.Status)
	if doc.Bucket != "" {
		fmt.Fprintf(w, ", bucket %s", doc.Bucket)
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

// elementValueText is what the VALUE column shows.
func elementValueText(e *elementDoc, o *boltPageOptions) string {
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
		return bytesText(e.value)
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
		*rows = append(*rows, []string{prefix + strconv.Itoa(e.Index), fmt.Sprintf("%#x", e.Offset), flags, e.KeyText, elementValueText(e, o), e.Problem})
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
		fmt.Fprintf(w, "key %s %s\n", e.KeyText, elementValueText(e, o))
		if e.Bucket != nil && len(e.Bucket.Elements) > 0 {
			writeElements(w, e.Bucket.Elements, indent+"    ", o)
		}
	}
}

// ---- bolt buckets ----

func newBoltBucketsCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "buckets DB",
		Short: "List every bucket (nested ones as a/b): root page or inline, keys, nested buckets, pages",
		Args:  exactArgs(1, "one DB (a bbolt file, or an etcd data dir)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := g.format()
			if err != nil {
				return err
			}
			l, db, path, err := openBolt(args[0])
			if err != nil {
				return err
			}
			defer db.Close()
			st, err := walkState(cmd, path, db)
			if err != nil {
				return err
			}
			return renderBuckets(cmd.OutOrStdout(), format, l.Rel(path), st.rep)
		},
	}
}

type bucketLine struct {
	Name     string   `json:"name"`
	Path     []string `json:"path"`
	Root     *uint64  `json:"root"` // null for an inline bucket
	Inline   bool     `json:"inline"`
	Sequence uint64   `json:"sequence"`
	Keys     int      `json:"keys"`
	Buckets  int      `json:"buckets"`
	Pages    int      `json:"pages"`
	Page     uint64   `json:"page"` // the page holding the bucket's entry
}

func bucketLines(rep *boltfmt.Report) []bucketLine {
	var out []bucketLine
	for i := 1; i < len(rep.Buckets); i++ {
		b := &rep.Buckets[i]
		bl := bucketLine{Name: b.Name(), Path: b.Path, Inline: b.Inline, Sequence: b.Sequence, Keys: b.Keys, Buckets: b.Buckets, Pages: b.Pages, Page: uint64(b.Page)}
		if !b.Inline {
			r := uint64(b.Root)
			bl.Root = &r
		}
		out = append(out, bl)
	}
	sort.SliceStable(out, func(i, j int) bool { return slices.Compare(out[i].Path, out[j].Path) < 0 })
	return out
}

func renderBuckets(out io.Writer, format outputFormat, file string, rep *boltfmt.Report) error {
	lines := bucketLines(rep)
	if format == formatJSON {
		if lines == nil {
			lines = []bucketLine{}
		}
		return writeJSON(out, struct {
			File    string       `json:"file"`
			Buckets []bucketLine `json:"buckets"`
		}{file, lines})
	}
	hdr := []string{"BUCKET", "ROOT", "SEQUENCE", "KEYS", "BUCKETS", "PAGES"}
	var rows [][]string
	for _, b := range lines {
		root := "inline"
		if b.Root != nil {
			root = strconv.FormatUint(*b.Root, 10)
		}
		rows = append(rows, []string{bytesName(b.Name), root, strconv.FormatUint(b.Sequence, 10), strconv.Itoa(b.Keys), strconv.Itoa(b.Buckets), strconv.Itoa(b.Pages)})
	}
	if format == formatTable {
		return renderTable(out, hdr, rows)
	}
	bw := bufio.NewWriter(out)
	fmt.Fprintf(bw, "%-24s %10s %10s %10s %8s %8s\n", hdr[0], hdr[1], hdr[2], hdr[3], hdr[4], hdr[5])
	for _, r := range rows {
		fmt.Fprintf(bw, "%-24s %10s %10s %10s %8s %8s\n", r[0], r[1], r[2], r[3], r[4], r[5])
	}
	return bw.Flush()
}

// bytesName shows a bucket name as it is when printable, else quoted or
// in hex.
func bytesName(s string) string {
	t := bytesText([]byte(s))
	if strings.HasPrefix(t, `"`) && s != "" && !strings.ContainsAny(s, " \t\n\r\"\\") {
		return s
	}
	return t
}

// ---- bolt keys ----

type boltKeysOptions struct {
	values bool
}

func (o *boltKeysOptions) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.values, "values", false, "print values too (printable text quoted, else hex; base64 in JSON)")
}

func newBoltKeysCommand(g *globalOptions) *cobra.Command {
	o := &boltKeysOptions{}
	c := &cobra.Command{
		Use:   "keys DB BUCKET",
		Short: "List every key of a bucket (a/b for a nested one) in order, with value sizes; --values for values",
		Long: `Lists the keys of one bucket in key order with the size of each value
(--values prints the values too), read page by page from the bucket's root.
Nested buckets' keys are not listed (see bolt buckets). Elements whose bounds
are wrong are listed with their problem. Keys in etcd's key bucket are shown as
revisions main_sub (t marks a tombstone). With -w json, one JSON object per
line, key and value in base64.`,
		Args: exactArgs(2, "a DB and a BUCKET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := g.format()
			if err != nil {
				return err
			}
			_, db, path, err := openBolt(args[0])
			if err != nil {
				return err
			}
			defer db.Close()
			return runBoltKeys(cmd, format, o, path, db, args[1])
		},
	}
	o.AddFlags(c.Flags())
	return c
}

func runBoltKeys(cmd *cobra.Command, format outputFormat, o *boltKeysOptions, path string, db *boltfmt.DB, bucket string) error {
	want := bucketPath(bucket)
	bw := bufio.NewWriterSize(cmd.OutOrStdout(), 64<<10)
	var rows [][]string
	var buf []byte
	var werr error
	leaf := func(b *boltfmt.BucketInfo, page boltfmt.PageID, e *boltfmt.LeafElement) bool {
		if werr != nil || !slices.Equal(b.Path, want) {
			return true
		}
		switch format {
		case formatJSON:
			buf = append(appendKeyJSON(buf[:0], bucket, page, e, o.values), '\n')
		case formatTable:
			rows = append(rows, keyRow(bucket, page, e, o.values))
			return true
		default:
			buf = appendKeyText(buf[:0], bucket, page, e, o.values)
		}
		_, werr = bw.Write(buf)
		return true
	}
	rep, err := db.Walk(boltfmt.WalkOptions{Bucket: want, Leaf: leaf})
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	if werr != nil {
		return werr
	}
	browseWarn(cmd.ErrOrStderr(), path, rep.Problems)
	if !hasBucket(rep, want) {
		return bucketNotFound(path, bucket)
	}
	if format == formatTable {
		hdr := []string{"PAGE", "KEY", "SIZE", "PROBLEM"}
		if o.values {
			hdr = []string{"PAGE", "KEY", "SIZE", "VALUE", "PROBLEM"}
		}
		if err := renderTable(bw, hdr, rows); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func hasBucket(rep *boltfmt.Report, path []string) bool {
	for i := 1; i < len(rep.Buckets); i++ {
		if slices.Equal(rep.Buckets[i].Path, path) {
			return true
		}
	}
	return false
}

func bucketNotFound(file, bucket string) error {
	return fmt.Errorf("%s: bucket %s not found; list the buckets with etcdscope bolt buckets", file, bytesText([]byte(bucket)))
}

func keyRow(bucket string, page boltfmt.PageID, e *boltfmt.LeafElement, values bool) []string {
	if e.Problem != nil {
		r := []string{strconv.FormatUint(uint64(page), 10), "", "", e.Problem.Error()}
		if values {
			r = []string{r[0], "", "", "", r[3]}
		}
		return r
	}
	r := []string{strconv.FormatUint(uint64(page), 10), boltKeyText(bucket, e.Key), strconv.Itoa(len(e.Value))}
	if values {
		r = append(r, bytesText(e.Value))
	}
	return append(r, "")
}

func appendKeyText(b []byte, bucket string, page boltfmt.PageID, e *boltfmt.LeafElement, values bool) []byte {
	if e.Problem != nil {
		return fmt.Appendf(b, "! page %d element %d: %v\n", page, e.Index, e.Problem)
	}
	b = append(b, boltKeyText(bucket, e.Key)...)
	b = fmt.Appendf(b, " %d %s", len(e.Value), plural(len(e.Value), "byte"))
	if values {
		b = append(b, ' ')
		b = append(b, bytesText(e.Value)...)
	}
	return append(b, '\n')
}

func appendKeyJSON(b []byte, bucket string, page boltfmt.PageID, e *boltfmt.LeafElement, values bool) []byte {
	var j jsonObj
	j.begin(b)
	if e.Problem != nil {
		j.str("kind", "damaged")
	} else {
		j.str("kind", "key")
	}
	j.str("bucket", bucket)
	j.u64("page", uint64(page))
	j.i64("index", int64(e.Index))
	if e.Problem != nil {
		j.str("problem", e.Problem.Error())
		return j.end()
	}
	j.bytes64("key", e.Key)
	j.str("key_text", boltKeyText(bucket, e.Key))
	j.i64("value_size", int64(len(e.Value)))
	if values {
		j.bytes64("value", e.Value)
	}
	return j.end()
}

// ---- bolt get ----

type boltGetOptions struct {
	hex  bool
	scan bool
}

func (o *boltGetOptions) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.hex, "hex", false, "KEY is given in hex")
	fs.BoolVar(&o.scan, "scan", false, "find the key by reading the whole bucket instead of descending the tree (for a tree whose branch keys may mislead)")
}

func newBoltGetCommand(g *globalOptions) *cobra.Command {
	o := &boltGetOptions{}
	c := &cobra.Command{
		Use:   "get DB BUCKET KEY",
		Short: "Print the value of one key (raw bytes, as bbolt get does; -w json for base64)",
		Long: `Prints the value of KEY in BUCKET (a/b for a nested bucket) as raw bytes, as
bbolt get does; -w json prints {"bucket","key","value"} with base64 key and
value. KEY is text, or hex with --hex; in etcd's key bucket it may also be a
revision main_sub (main_subt for a tombstone), as bolt keys shows them. The key
is found by descending the tree from the root; when that meets damaged pages and
does not find the key, or with --scan, the whole bucket is read. Exit status 2
when the bucket or the key is not there.`,
		Args: exactArgs(3, "a DB, a BUCKET and a KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := g.format()
			if err != nil {
				return err
			}
			bucket := args[1]
			key, err := o.parseKey(bucket, args[2])
			if err != nil {
				return err
			}
			_, db, path, err := openBolt(args[0])
			if err != nil {
				return err
			}
			defer db.Close()
			found, err := lookupKey(cmd, o, path, db, bucketPath(bucket), key)
			if err != nil {
				return err
			}
			return renderGet(cmd.OutOrStdout(), format, bucket, found)
		},
	}
	o.AddFlags(c.Flags())
	return c
}

func (o *boltGetOptions) parseKey(bucket, arg string) ([]byte, error) {
	if o.hex {
		k, err := hex.DecodeString(strings.TrimPrefix(strings.TrimPrefix(arg, "0x"), "0X"))
		if err != nil {
			return nil, usagef("--hex key %q: %v", arg, err)
		}
		return k, nil
	}
	if bucket == etcdKeyBucket {
		if k, ok := parseRevision(arg); ok {
			return k, nil
		}
	}
	return []byte(arg), nil
}

// lookupKey finds a key by descent, falling back to reading the whole
// bucket when the descent met damage (or with --scan).
func lookupKey(cmd *cobra.Command, o *boltGetOptions, path string, db *boltfmt.DB, bucket []string, key []byte) (*boltfmt.Found, error) {
	name := strings.Join(bucket, "/")
	found, err := db.Lookup(bucket, key, boltfmt.LookupOptions{Scan: o.scan})
	browseWarn(cmd.ErrOrStderr(), path, found.Problems)
	switch {
	case errors.Is(err, boltfmt.ErrKeyNotFound):
		return nil, fmt.Errorf("%s: key %s not found in bucket %s; list the keys with etcdscope bolt keys", path, boltKeyText(name, key), bytesText([]byte(name)))
	case errors.Is(err, boltfmt.ErrBucketNotFound):
		return nil, bucketNotFound(path, name)
	case errors.Is(err, boltfmt.ErrIsBucket):
		return nil, fmt.Errorf("%s: key %s in bucket %s is a nested bucket, which has no value; see etcdscope bolt buckets", path, bytesText(key), bytesText([]byte(name)))
	case err != nil:
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return found, nil
}

func renderGet(out io.Writer, format outputFormat, bucket string, f *boltfmt.Found) error {
	e := &f.Element
	switch format {
	case formatJSON:
		return writeJSON(out, struct {
			Bucket string `json:"bucket"`
			Key    []byte `json:"key"`
			Value  []byte `json:"value"`
			Page   uint64 `json:"page"`
		}{bucket, e.Key, e.Value, uint64(f.Page)})
	case formatTable:
		return renderTable(out, []string{"BUCKET", "KEY", "PAGE", "SIZE", "VALUE"},
			[][]string{{bytesName(bucket), boltKeyText(bucket, e.Key), strconv.FormatUint(uint64(f.Page), 10), strconv.Itoa(len(e.Value)), bytesText(e.Value)}})
	}
	_, err := out.Write(e.Value)
	return err
}

// jsonLine encodes v as one line of NDJSON.
func jsonLine(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	return append(b, '\n'), err
}
