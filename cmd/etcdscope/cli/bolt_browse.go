package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/internal/textfmt"
	"github.com/etcdscope/etcdscope/mvccview"
)

// ---- shared ----

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

// lineRecord is one record of a streaming command's output: a table row
// and a line of NDJSON, and a line of text (a textRecord, or the row in
// the lineOut's columns).
type lineRecord interface {
	Row() []string
	AppendJSON(b []byte) []byte
}

type textRecord interface {
	AppendText(b []byte) []byte
}

// lineOut streams records, one line each in simple and JSON output, and
// one row each of a table under hdr. With columns, a format of fmt's for
// hdr's cells, the simple output is hdr and then every row in them.
type lineOut struct {
	w       *bufio.Writer
	format  outputFormat
	columns string
	t       *table
	buf     []byte
}

func newLineOut(w io.Writer, format outputFormat, columns string, hdr []string) *lineOut {
	o := &lineOut{w: bufio.NewWriterSize(w, 64<<10), format: format, columns: columns}
	switch {
	case format == formatTable:
		o.t = newTable(w, hdr...)
	case format == formatSimple && columns != "":
		fmt.Fprintf(o.w, columns, toAny(hdr)...)
	}
	return o
}

func (o *lineOut) add(r lineRecord) error {
	switch {
	case o.format == formatTable:
		return o.t.Row(r.Row()...)
	case o.format == formatJSON:
		o.buf = append(r.AppendJSON(o.buf[:0]), '\n')
	case o.columns != "":
		o.buf = fmt.Appendf(o.buf[:0], o.columns, toAny(r.Row())...)
	default:
		o.buf = r.(textRecord).AppendText(o.buf[:0])
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
	out := newLineOut(e.cmd.OutOrStdout(), e.format, "%10s  %-22s %7s %8s  %-10s  %s\n", boltfmt.PageColumns())
	err = e.db.ListPages(rep, boltfmt.ListOptions{All: o.all}, func(p *boltfmt.PageEntry) error { return out.add(p) })
	if err != nil {
		return err
	}
	return out.close()
}

// ---- bolt buckets ----

type boltBucketsOptions struct{ noFlags }

const boltBucketsShort = "List every bucket (nested ones as a/b): root page or inline, keys, nested buckets, pages"

func (o *boltBucketsOptions) run(e *boltEnv, _ []string) error {
	rep, err := e.walk(boltfmt.WalkOptions{})
	if err != nil {
		return err
	}
	buckets, out := rep.BucketsByPath(), e.cmd.OutOrStdout()
	if e.format == formatJSON {
		return writeJSON(out, struct {
			File    string               `json:"file"`
			Buckets []boltfmt.BucketInfo `json:"buckets"`
		}{e.l.Rel(e.path), buckets})
	}
	hdr, rows := boltfmt.BucketRows(buckets)
	if e.format == formatTable {
		return renderTable(out, hdr, rows)
	}
	bw := bufio.NewWriter(out)
	for _, r := range append([][]string{hdr}, rows...) {
		fmt.Fprintf(bw, "%-24s %10s %10s %10s %8s %8s\n", r[0], r[1], r[2], r[3], r[4], r[5])
	}
	return bw.Flush()
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
	k := &boltfmt.KeyEntry{Bucket: bucket, Key: boltKeys, Values: o.values, Hex: o.hex}
	out := newLineOut(e.cmd.OutOrStdout(), e.format, "", k.Columns())
	var werr error
	leaf := func(b *boltfmt.BucketInfo, page boltfmt.PageID, el *boltfmt.LeafElement) bool {
		if werr == nil && slices.Equal(b.Path, want) {
			k.Page, k.Element = page, el
			werr = out.add(k)
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

// parseKey reads KEY in a form bolt keys shows keys in: hex with --hex,
// else a revision in the key bucket, a quoted Go string, or text.
func (o *boltGetOptions) parseKey(bucket, arg string) ([]byte, error) {
	if o.hex {
		k, err := textfmt.ParseHex(arg)
		if err != nil {
			return nil, usagef("--hex key %q: %v", arg, err)
		}
		return k, nil
	}
	if k, ok := mvccview.ParseKeyText(bucket, arg); ok {
		return k, nil
	}
	return textfmt.ParseBare(arg), nil
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
	return o.render(e.cmd.OutOrStdout(), e.format, found)
}

func (o *boltGetOptions) render(out io.Writer, format outputFormat, f *boltfmt.Found) error {
	switch format {
	case formatJSON:
		return writeJSON(out, f)
	case formatTable:
		k := &boltfmt.KeyEntry{Bucket: f.Bucket, Page: f.Page, Element: &f.Element, Key: boltKeys, Hex: o.hex}
		return renderTable(out, []string{"BUCKET", "KEY", "PAGE", "SIZE", "VALUE"},
			[][]string{{textfmt.BareString(f.Bucket), k.KeyText(), strconv.FormatUint(uint64(f.Page), 10), strconv.Itoa(len(f.Element.Value)), k.ValueText()}})
	}
	if o.hex {
		_, err := fmt.Fprintln(out, textfmt.Hex(f.Element.Value))
		return err
	}
	_, err := out.Write(f.Element.Value)
	return err
}
