package cli

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/internal/jsonw"
	"github.com/etcdscope/etcdscope/internal/textfmt"
	"github.com/etcdscope/etcdscope/mvccview"
)

// ---- shared ----

// etcdKeyBucket is etcd's MVCC bucket, whose keys are revisions.
const etcdKeyBucket = mvccview.KeyBucket

// boltKeys shows keys of etcd's buckets for people: in the key bucket a
// revision main_sub, with a trailing t for a tombstone, else as textfmt
// shows bytes. It is the one key formatter of bolt keys, get and page.
var boltKeys boltfmt.KeyFormatter = mvccview.KeyText

// bucketPath splits a bucket argument a/b into its names.
func bucketPath(s string) []string { return strings.Split(s, "/") }

// bucketNotFound is the error of a bucket the db does not hold.
func bucketNotFound(file, bucket string) error {
	return fmt.Errorf("%s: bucket %s not found; list the buckets with etcdscope bolt buckets", file, strconv.Quote(bucket))
}

// lineRecord is one record of a streaming command's output: a line of
// text or of NDJSON, or a table row.
type lineRecord interface {
	row() []string
	appendText(b []byte) []byte
	appendJSON(b []byte) []byte
}

// lineOut streams records, one line each in simple and JSON output, and
// one row each of a table under hdr.
type lineOut struct {
	w      *bufio.Writer
	format outputFormat
	t      *table
	buf    []byte
}

func newLineOut(w io.Writer, format outputFormat, hdr ...string) *lineOut {
	o := &lineOut{w: bufio.NewWriterSize(w, 64<<10), format: format}
	if format == formatTable {
		o.t = newTable(w, hdr...)
	}
	return o
}

func (o *lineOut) add(r lineRecord) error {
	switch o.format {
	case formatTable:
		return o.t.Row(r.row()...)
	case formatJSON:
		o.buf = append(r.appendJSON(o.buf[:0]), '\n')
	default:
		o.buf = r.appendText(o.buf[:0])
	}
	_, err := o.w.Write(o.buf)
	return err
}

// close ends the table, and flushes.
func (o *lineOut) close() error {
	if o.t != nil {
		return o.t.Close()
	}
	return o.w.Flush()
}

// ---- bolt pages ----

// boltPagesOptions are the flags of bolt pages: --all lists the ids past
// the high-water mark too.
type boltPagesOptions struct{ all bool }

func (o *boltPagesOptions) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.all, "all", false, "also list the pages from the high-water mark to the end of the file (status beyond-hwm)")
}

const (
	boltPagesShort = "List every page id below the high-water mark: type, items, overflow, status and owning bucket"
	boltPagesLong  = `Lists every page id below the high-water mark, one line each: the type in
its header (overflow pages, which have no header, as "overflow of N"), the
element count, the overflow count, what the walk from the root found it to be
(meta, reachable, freelist, free, orphan; missing for ids past the end of a
truncated file) and the bucket whose tree holds it ("(root)" for the root
bucket). A header that does not carry the page's own id is shown with the id it
has. --all also lists the pages from the high-water mark to the end of the
file, which may hold zeros or the pages of a transaction that never committed.
With -w json, one JSON object per line.`
)

func (o *boltPagesOptions) run(e *boltEnv, _ []string) error {
	rep, err := e.walk(boltfmt.WalkOptions{})
	if err != nil {
		return err
	}
	file := e.db.FilePages()
	end := rep.HWM
	if o.all || rep.HWM == 0 { // 0: no meta could be used
		end = max(end, file)
	}
	hdr := []string{"ID", "TYPE", "ITEMS", "OVERFLOW", "STATUS", "BUCKET"}
	out := newLineOut(e.cmd.OutOrStdout(), e.format, hdr...)
	if e.format == formatSimple {
		fmt.Fprintf(out.w, pageRecordFormat, toAny(hdr)...)
	}
	pl := &pageRecord{pageSize: int64(e.db.PageSize)}
	err = e.db.PageSpans(boltfmt.SpanOptions{To: end, Live: rep.Live}, func(s *boltfmt.PageSpan) error {
		b, _ := rep.Owner(s.ID)
		pl.PageSpan, pl.status, pl.bucket = *s, rep.Status(s.ID).String(), ownerName(b)
		return out.add(pl)
	})
	if err != nil {
		return err
	}
	// Ids below the high-water mark that a truncated file does not hold.
	for id := file; id < rep.HWM; id++ {
		*pl = pageRecord{PageSpan: boltfmt.PageSpan{ID: id}, pageSize: pl.pageSize, missing: true, status: rep.Status(id).String()}
		if err := out.add(pl); err != nil {
			return err
		}
	}
	return out.close()
}

// ownerName names the bucket whose tree holds a page: "(root)" for the
// root bucket, "" for none.
func ownerName(b *boltfmt.BucketInfo) string {
	switch {
	case b == nil:
		return ""
	case b.IsRoot():
		return "(root)"
	}
	return b.Name()
}

// pageRecord is one line of bolt pages: a page id as the scan saw it, or an
// id below the high-water mark that a truncated file does not hold.
type pageRecord struct {
	boltfmt.PageSpan
	pageSize int64
	missing  bool
	status   string
	bucket   string
}

const pageRecordFormat = "%10s  %-22s %7s %8s  %-10s  %s\n"

// headed reports whether the line shows a page header's fields.
func (pl *pageRecord) headed() bool { return !pl.missing && pl.Kind() == boltfmt.KindHeader }

func (pl *pageRecord) typeText() string {
	switch {
	case pl.missing:
		return "-"
	case pl.Continuation:
		return "overflow of " + strconv.FormatUint(uint64(pl.Start), 10)
	case !pl.headed():
		return strings.ReplaceAll(pl.Kind().String(), "-", " ")
	case pl.HeaderID != uint64(pl.ID):
		return fmt.Sprintf("%s (header id %d)", pl.Type, pl.HeaderID)
	}
	return pl.Type.String()
}

// bucketText is a bucket's name in a column: blank for none (a meta,
// freelist or free page), else as textfmt shows names.
func bucketText(name string) string {
	if name == "" {
		return ""
	}
	return textfmt.BareString(name)
}

func (pl *pageRecord) row() []string {
	items, overflow := "", ""
	if pl.headed() {
		items, overflow = strconv.FormatUint(pl.Items, 10), strconv.FormatUint(uint64(pl.Overflow), 10)
	}
	return []string{strconv.FormatUint(uint64(pl.ID), 10), pl.typeText(), items, overflow, pl.status, bucketText(pl.bucket)}
}

func (pl *pageRecord) appendText(b []byte) []byte {
	r := pl.row()
	return fmt.Appendf(b, pageRecordFormat, r[0], r[1], r[2], r[3], r[4], r[5])
}

func (pl *pageRecord) appendJSON(b []byte) []byte {
	j := jsonw.Begin(b)
	j.Str("kind", "page")
	j.U64("id", uint64(pl.ID))
	j.I64("offset", int64(pl.ID)*pl.pageSize)
	switch {
	case pl.missing:
		j.Str("type", "-")
	case pl.Continuation:
		j.U64("continuation_of", uint64(pl.Start))
		j.Str("type", "overflow")
	case !pl.headed():
		j.Str("type", pl.Kind().String())
	default:
		j.Str("type", pl.Type.String())
		if pl.HeaderID != uint64(pl.ID) {
			j.U64("header_id", pl.HeaderID)
		}
		j.U64("items", pl.Items)
		j.U64("overflow", uint64(pl.Overflow))
	}
	j.Str("status", pl.status)
	if pl.bucket != "" {
		j.Str("bucket", pl.bucket)
	}
	return j.End()
}

// ---- bolt buckets ----

type boltBucketsOptions struct{ noFlags }

const boltBucketsShort = "List every bucket (nested ones as a/b): root page or inline, keys, nested buckets, pages"

func (o *boltBucketsOptions) run(e *boltEnv, _ []string) error {
	rep, err := e.walk(boltfmt.WalkOptions{})
	if err != nil {
		return err
	}
	lines := bucketLines(rep)
	out := e.cmd.OutOrStdout()
	if e.format == formatJSON {
		return writeJSON(out, struct {
			File    string       `json:"file"`
			Buckets []bucketLine `json:"buckets"`
		}{e.l.Rel(e.path), lines})
	}
	hdr, rows := bucketRows(lines)
	if e.format == formatTable {
		return renderTable(out, hdr, rows)
	}
	bw := bufio.NewWriter(out)
	for _, r := range append([][]string{hdr}, rows...) {
		fmt.Fprintf(bw, "%-24s %10s %10s %10s %8s %8s\n", r[0], r[1], r[2], r[3], r[4], r[5])
	}
	return bw.Flush()
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

// bucketLines are the buckets of a walk but the root, in path order.
func bucketLines(rep *boltfmt.Report) []bucketLine {
	out := []bucketLine{}
	for _, b := range rep.Buckets[min(1, len(rep.Buckets)):] {
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

func bucketRows(lines []bucketLine) (hdr []string, rows [][]string) {
	hdr = []string{"BUCKET", "ROOT", "SEQUENCE", "KEYS", "BUCKETS", "PAGES"}
	for _, b := range lines {
		root := "inline"
		if b.Root != nil {
			root = strconv.FormatUint(*b.Root, 10)
		}
		rows = append(rows, []string{textfmt.BareString(b.Name), root, strconv.FormatUint(b.Sequence, 10), strconv.Itoa(b.Keys), strconv.Itoa(b.Buckets), strconv.Itoa(b.Pages)})
	}
	return hdr, rows
}

// ---- bolt keys ----

type boltKeysOptions struct{ bytesOptions }

func (o *boltKeysOptions) AddFlags(fs *pflag.FlagSet) {
	o.addFlags(fs, "print values too (quoted, with escapes for what is not printable; in a table printable text as it is; base64 in JSON)")
}

const (
	boltKeysShort = "List every key of a bucket (a/b for a nested one) in order, with value sizes; --values for values"
	boltKeysLong  = `Lists the keys of one bucket in key order with the size of each value
(--values prints the values too), read page by page from the bucket's root.
Nested buckets' keys are not listed (see bolt buckets). Elements whose bounds
are wrong are listed with their problem. Keys in etcd's key bucket are shown as
revisions main_sub (t marks a tombstone). With -w json, one JSON object per
line, key and value in base64.`
)

func (o *boltKeysOptions) run(e *boltEnv, args []string) error {
	bucket := args[1]
	want := bucketPath(bucket)
	hdr := []string{"PAGE", "KEY", "SIZE", "PROBLEM"}
	if o.values {
		hdr = []string{"PAGE", "KEY", "SIZE", "VALUE", "PROBLEM"}
	}
	out := newLineOut(e.cmd.OutOrStdout(), e.format, hdr...)
	kl := &keyRecord{bucket: bucket, values: o.values, hex: o.hex}
	var werr error
	leaf := func(b *boltfmt.BucketInfo, page boltfmt.PageID, el *boltfmt.LeafElement) bool {
		if werr == nil && slices.Equal(b.Path, want) {
			kl.page, kl.e = page, el
			werr = out.add(kl)
		}
		return true
	}
	rep, err := e.walk(boltfmt.WalkOptions{Bucket: want, Leaf: leaf})
	switch {
	case err != nil:
		return err
	case werr != nil:
		return werr
	}
	if _, ok := rep.Bucket(want); !ok {
		return bucketNotFound(e.path, bucket)
	}
	return out.close()
}

// keyRecord is one line of bolt keys: a leaf element of the bucket.
type keyRecord struct {
	bucket string
	page   boltfmt.PageID
	e      *boltfmt.LeafElement
	values bool
	hex    bool // keys and values as etcdctl --hex prints them
}

// text is b in a column (form textfmt.Bare) or in a line (textfmt.Quote),
// or in hex with --hex.
func (k *keyRecord) text(b []byte, form func([]byte) string) string {
	if k.hex {
		return textfmt.Hex(b)
	}
	return form(b)
}

// keyText is the key: with --hex in hex, else as boltKeys shows it.
func (k *keyRecord) keyText(form func([]byte) string) string {
	if k.hex {
		return textfmt.Hex(k.e.Key)
	}
	return boltKeys.Form(k.bucket, k.e.Key, form)
}

func (k *keyRecord) row() []string {
	r := []string{strconv.FormatUint(uint64(k.page), 10), "", ""}
	if k.e.Problem == nil {
		r = []string{r[0], k.keyText(textfmt.Bare), strconv.Itoa(len(k.e.Value))}
	}
	if k.values {
		v := ""
		if k.e.Problem == nil {
			v = k.text(k.e.Value, textfmt.Bare)
		}
		r = append(r, v)
	}
	if k.e.Problem != nil {
		return append(r, k.e.Problem.Error())
	}
	return append(r, "")
}

func (k *keyRecord) appendText(b []byte) []byte {
	e := k.e
	if e.Problem != nil {
		return fmt.Appendf(b, "! page %d element %d: %v\n", k.page, e.Index, e.Problem)
	}
	b = append(b, k.keyText(textfmt.Quote)...)
	b = fmt.Appendf(b, " %d %s", len(e.Value), plural(len(e.Value), "byte"))
	if k.values {
		b = append(b, ' ')
		b = append(b, k.text(e.Value, textfmt.Quote)...)
	}
	return append(b, '\n')
}

func (k *keyRecord) appendJSON(b []byte) []byte {
	e := k.e
	j := jsonw.Begin(b)
	if e.Problem != nil {
		j.Str("kind", "damaged")
	} else {
		j.Str("kind", "key")
	}
	j.Str("bucket", k.bucket)
	j.U64("page", uint64(k.page))
	j.I64("index", int64(e.Index))
	if e.Problem != nil {
		j.Str("problem", e.Problem.Error())
		return j.End()
	}
	j.Bytes("key", e.Key)
	j.Str("key_text", boltKeys.Bare(k.bucket, e.Key))
	j.I64("value_size", int64(len(e.Value)))
	if k.values {
		j.Bytes("value", e.Value)
	}
	return j.End()
}

// ---- bolt get ----

type boltGetOptions struct {
	hex  bool
	scan bool
	key  []byte // parsed by validate
}

func (o *boltGetOptions) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.hex, "hex", false, "KEY is given, and the value printed, in hex: as etcdctl --hex prints bytes (\\x2f\\x61), or plain (2f61)")
	fs.BoolVar(&o.scan, "scan", false, "find the key by reading the whole bucket instead of descending the tree (for a tree whose branch keys may mislead)")
}

const (
	boltGetShort = "Print the value of one key (raw bytes, as bbolt get does; -w json for base64)"
	boltGetLong  = `Prints the value of KEY in BUCKET (a/b for a nested bucket) as raw bytes, as
bbolt get does; -w json prints {"bucket","key","value"} with base64 key and
value. KEY is text, or a quoted Go string ("/bin/\xff") as bolt keys prints a key
that is not printable; in etcd's key bucket it may also be a revision main_sub
(main_subt for a tombstone), as bolt keys shows them. With --hex, KEY is given
and the value printed in hex, as etcdctl --hex prints bytes. The key
is found by descending the tree from the root; when that meets damaged pages and
does not find the key, or with --scan, the whole bucket is read. Exit status 2
when the bucket or the key is not there.`
)

// validate parses KEY.
func (o *boltGetOptions) validate(args []string) (err error) {
	o.key, err = o.parseKey(args[1], args[2])
	return err
}

func (o *boltGetOptions) parseKey(bucket, arg string) ([]byte, error) {
	if o.hex {
		plain := strings.ReplaceAll(strings.TrimPrefix(strings.TrimPrefix(arg, "0x"), "0X"), `\x`, "")
		k, err := hex.DecodeString(plain)
		if err != nil {
			return nil, usagef("--hex key %q: %v", arg, err)
		}
		return k, nil
	}
	if bucket == etcdKeyBucket {
		if k, err := mvccview.ParseRevisionKey(arg); err == nil {
			return k, nil
		}
	}
	if k, err := strconv.Unquote(arg); err == nil && strings.HasPrefix(arg, `"`) {
		return []byte(k), nil
	}
	return []byte(arg), nil
}

func (o *boltGetOptions) run(e *boltEnv, args []string) error {
	bucket, key := args[1], o.key
	found, err := e.db.Lookup(bucketPath(bucket), key, boltfmt.LookupOptions{Scan: o.scan})
	browseWarn(e.cmd.ErrOrStderr(), e.path, found.Problems)
	in := strconv.Quote(bucket)
	switch {
	case errors.Is(err, boltfmt.ErrKeyNotFound):
		return fmt.Errorf("%s: key %s not found in bucket %s; list the keys with etcdscope bolt keys", e.path, boltKeys.Quote(bucket, key), in)
	case errors.Is(err, boltfmt.ErrBucketNotFound):
		return bucketNotFound(e.path, bucket)
	case errors.Is(err, boltfmt.ErrIsBucket):
		return fmt.Errorf("%s: key %s in bucket %s is a nested bucket, which has no value; see etcdscope bolt buckets", e.path, textfmt.Quote(key), in)
	case err != nil:
		return fmt.Errorf("reading %s: %w", e.path, err)
	}
	return renderGet(e.cmd.OutOrStdout(), e.format, bucket, found, o.hex)
}

func renderGet(out io.Writer, format outputFormat, bucket string, f *boltfmt.Found, hex bool) error {
	el := &f.Element
	switch format {
	case formatJSON:
		return writeJSON(out, struct {
			Bucket string `json:"bucket"`
			Key    []byte `json:"key"`
			Value  []byte `json:"value"`
			Page   uint64 `json:"page"`
		}{bucket, el.Key, el.Value, uint64(f.Page)})
	case formatTable:
		k := &keyRecord{bucket: bucket, e: el, hex: hex}
		return renderTable(out, []string{"BUCKET", "KEY", "PAGE", "SIZE", "VALUE"},
			[][]string{{textfmt.BareString(bucket), k.keyText(textfmt.Bare), strconv.FormatUint(uint64(f.Page), 10), strconv.Itoa(len(el.Value)), k.text(el.Value, textfmt.Bare)}})
	}
	if hex {
		_, err := fmt.Fprintln(out, textfmt.Hex(el.Value))
		return err
	}
	_, err := out.Write(el.Value)
	return err
}
