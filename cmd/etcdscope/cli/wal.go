package cli

import (
	"bytes"
	"cmp"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	fastb64 "github.com/segmentio/asm/base64"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/etcdscope/etcdscope/inspect"
	"github.com/etcdscope/etcdscope/internal/datadir"
	"github.com/etcdscope/etcdscope/internal/jsonw"
	"github.com/etcdscope/etcdscope/internal/ordered"
	"github.com/etcdscope/etcdscope/internal/textfmt"
	"github.com/etcdscope/etcdscope/walfmt"
)

func newWALCommand(g *globalOptions) *cobra.Command {
	c := &cobra.Command{
		Use:   "wal",
		Short: "Read, verify and count a member's write-ahead log",
	}
	c.AddCommand(newWALDumpCommand(g), newWALVerifyCommand(g), newWALStatsCommand(g))
	return c
}

// openWAL resolves arg and opens its WAL segments read-only.
func openWAL(arg string) (datadir.Layout, *walfmt.Files, error) {
	l, err := datadir.Resolve(arg)
	if err != nil {
		return l, nil, err
	}
	p, err := l.WAL()
	if err != nil {
		return l, nil, err
	}
	files, err := walfmt.OpenPath(p)
	if err != nil {
		return l, nil, err
	}
	return l, files, nil
}

// ---- wal verify ----

// walVerifyOptions are what wal verify runs with: -w; it has no flags of
// its own.
type walVerifyOptions struct {
	g *globalOptions
}

// AddFlags adds wal verify's own flags: there are none besides -w.
func (o *walVerifyOptions) AddFlags(*pflag.FlagSet) {}

func newWALVerifyCommand(g *globalOptions) *cobra.Command {
	o := &walVerifyOptions{g: g}
	return leaf(&cobra.Command{
		Use:   "verify PATH",
		Short: "Check every record, the CRC chain and the log's structure; print findings only",
		Long: `Reads every segment to its end and reports every problem with its segment,
byte offset and a stable code: CRC mismatches (the chain is resynchronised after
each, so only damaged records are reported), CRC chain breaks between segments,
torn tails, garbage or zeroed regions, non-zero padding, bad lengths, sequence
gaps, undecodable records, conflicting metadata, committed entries overwritten.`,
		Args: exactArgs(1, "one PATH (data dir, member dir, wal dir or .wal file)"),
	}, o, func(cmd *cobra.Command, args []string) error {
		return runCheck(cmd, o.g, args[0], inspect.CheckWAL, renderFindings)
	})
}

// ---- wal dump ----

type walDumpOptions struct {
	startIndex  uint64
	endIndex    uint64
	recordTypes []string
	entryTypes  []string
	requests    []string
	key         string
	raw         bool
	values      bool
}

// Names the filters take, in the order they are listed.
var (
	recordTypeNames = []string{"crc", "metadata", "snapshot", "state", "entry"}
	entryTypeNames  = []string{"normal", "confchange", "confchangev2"}
	requestNames    = append(walfmt.RequestKinds(), "confchange", "confchangev2")
)

func (o *walDumpOptions) AddFlags(fs *pflag.FlagSet) {
	fs.Uint64Var(&o.startIndex, "start-index", 0, "show entries from this raft index on (inclusive)")
	fs.Uint64Var(&o.endIndex, "end-index", 0, "show entries up to this raft index (inclusive); 0 means no limit")
	fs.Var(enumListValue(&o.recordTypes, recordTypeNames), "record-type", "show only these record types: "+strings.Join(recordTypeNames, ", "))
	fs.Var(enumListValue(&o.entryTypes, entryTypeNames), "entry-type", "show only entries of these types: "+strings.Join(entryTypeNames, ", "))
	fs.Var(enumListValue(&o.requests, requestNames), "request", "show only entries carrying these requests: put, txn, delete-range, compaction, lease-grant, lease-revoke, empty, v2, confchange, ... (see wal stats)")
	fs.StringVar(&o.key, "key", "", "show only entries whose request names a key with this prefix")
	fs.BoolVar(&o.raw, "raw", false, "print each record's bytes in hex instead of decoding its payload")
	fs.BoolVar(&o.values, "values", false, "print values instead of their sizes (quoted, with escapes for what is not printable)")
}

func (o *walDumpOptions) validate() error {
	if o.endIndex != 0 && o.endIndex < o.startIndex {
		return usagef("--end-index %d is below --start-index %d", o.endIndex, o.startIndex)
	}
	return nil
}

// filtersEntries reports whether an entry-level filter is set, which hides
// records that are not entries unless --record-type asks for them.
func (o *walDumpOptions) filtersEntries() bool {
	return o.startIndex > 0 || o.endIndex > 0 || len(o.entryTypes) > 0 || len(o.requests) > 0 || o.key != ""
}

// show decides whether a frame is printed; d is its decoded entry.
func (o *walDumpOptions) show(f *walfmt.Frame, d *decoded) bool {
	filtering := o.filtersEntries() || len(o.recordTypes) > 0
	switch f.Kind {
	case walfmt.KindSegment, walfmt.KindZero, walfmt.KindDamage:
		return !filtering
	}
	if len(o.recordTypes) > 0 && !slices.Contains(o.recordTypes, f.Record.Type.String()) {
		return false
	}
	if f.Entry == nil {
		return !o.filtersEntries() || len(o.recordTypes) > 0
	}
	e := f.Entry
	switch {
	case e.Index < o.startIndex || (o.endIndex > 0 && e.Index > o.endIndex),
		len(o.entryTypes) > 0 && !slices.Contains(o.entryTypes, e.Type.String()),
		len(o.requests) > 0 && !slices.Contains(o.requests, d.kind):
		return false
	}
	return o.key == "" || slices.ContainsFunc(d.requestKeys(), func(k []byte) bool { return bytes.HasPrefix(k, []byte(o.key)) })
}

// decoded is an entry's payload decoded for display.
type decoded struct {
	kind string // request kind, "confchange", "confchangev2"
	keys [][]byte
	req  *walfmt.Request
	cc   *walfmt.ConfChange
	cc2  *walfmt.ConfChangeV2
	err  error
}

// requestKeys returns the keys the request names (computed on demand).
func (d *decoded) requestKeys() [][]byte {
	if d.keys == nil && d.req != nil {
		d.keys = d.req.Keys()
	}
	return d.keys
}

func decodeEntry(e *walfmt.Entry) decoded {
	var d decoded
	switch e.Type {
	case walfmt.EntryNormal:
		d.req, d.err = walfmt.DecodeRequest(e.Data)
		if d.req != nil {
			d.kind = d.req.Kind
		}
	case walfmt.EntryConfChange:
		d.kind = "confchange"
		d.cc, d.err = walfmt.DecodeConfChange(e.Data)
	case walfmt.EntryConfChangeV2:
		d.kind = "confchangev2"
		d.cc2, d.err = walfmt.DecodeConfChangeV2(e.Data)
	}
	return d
}

const walPathArg = "one PATH (data dir, member dir, wal dir or .wal file)"

func newWALDumpCommand(g *globalOptions) *cobra.Command {
	o := &walDumpOptions{}
	return leaf(&cobra.Command{
		Use:   "dump PATH",
		Short: "Print every record with its segment, byte offset, length, padding, type and CRC status",
		Long: `Prints every record of the WAL in log order: segment:offset, length,
padding, record type and CRC status, and for entries the term, index, entry type
and the decoded request. Entries replaced by a later entry with the same index
are marked superseded; entries at or below the last commit index are committed.
Zero-filled preallocated space and damaged byte ranges are listed too, so every
byte of every segment is accounted for. With -w json, one JSON object per line.

The log is read twice (once to find overwritten entries) and never held in
memory.`,
		Args: exactArgs(1, walPathArg),
	}, o, func(cmd *cobra.Command, args []string) error {
		return walDump(cmd.OutOrStdout(), g.output(), args[0], o)
	})
}

func walDump(out io.Writer, format outputFormat, arg string, o *walDumpOptions) error {
	if err := o.validate(); err != nil {
		return err
	}
	_, files, err := openWAL(arg)
	if err != nil {
		return err
	}
	defer files.Close()
	ow, err := walfmt.ScanOverwrites(files.Segments)
	if err != nil {
		return err
	}
	r := walfmt.NewReader(files.Segments, walfmt.Options{Overwrites: ow})
	if format == formatTable {
		return dumpTable(out, r, o)
	}
	w := ordered.NewWriter(out, ordered.Options[walfmt.Frame]{
		Copy:   func(dst, src *walfmt.Frame, arena []byte) []byte { return src.CloneInto(dst, arena) },
		Encode: func(b []byte, f *walfmt.Frame) []byte { return encodeFrame(b, f, format, o) },
	})
	for {
		f, err := r.Next()
		if err == nil {
			err = w.Write(f)
		}
		if err != nil {
			if cerr := w.Close(); err == io.EOF || errors.Is(err, ordered.ErrStopped) {
				return cerr
			}
			return err
		}
	}
}

// dumpTable writes the frames as table rows, as they are read.
func dumpTable(out io.Writer, r *walfmt.Reader, o *walDumpOptions) error {
	t := newTable(out, "SEGMENT:OFFSET", "TYPE", "LEN", "PAD", "CRC", "TERM", "INDEX", "FLAGS", "PAYLOAD")
	for {
		f, err := r.Next()
		if err == io.EOF {
			return t.Close()
		}
		if err != nil {
			return err
		}
		if d := o.decode(f); o.show(f, &d) {
			if err := t.Row(frameRow(f, &d, o)...); err != nil {
				return err
			}
		}
	}
}

// decode decodes an entry's payload when the output or a filter needs it.
func (o *walDumpOptions) decode(f *walfmt.Frame) decoded {
	if f.Entry != nil && (!o.raw || len(o.requests) > 0 || o.key != "") {
		return decodeEntry(f.Entry)
	}
	return decoded{}
}

// encodeFrame appends a frame's output, if it passes the filters.
func encodeFrame(b []byte, f *walfmt.Frame, format outputFormat, o *walDumpOptions) []byte {
	d := o.decode(f)
	if !o.show(f, &d) {
		return b
	}
	if format == formatJSON {
		return append(appendFrameJSON(b, f, &d, o), '\n')
	}
	return appendFrameText(b, f, &d, o)
}

func frameRow(f *walfmt.Frame, d *decoded, o *walDumpOptions) []string {
	where := fmt.Sprintf("%s:%#x", f.Segment.Name, f.Offset)
	switch f.Kind {
	case walfmt.KindSegment:
		return []string{where, "segment", "", "", "", "", "", "", segmentText(f)}
	case walfmt.KindZero:
		return []string{where, "zero", strconv.FormatInt(f.Size, 10), "", "", "", "", "", "zero-filled (preallocated)"}
	case walfmt.KindDamage:
		return []string{where, "DAMAGE", strconv.FormatInt(f.Size, 10), "", "", "", "", problemCodes(f), problemsText(f)}
	}
	term, index := "", ""
	if f.Entry != nil {
		term, index = strconv.FormatUint(f.Entry.Term, 10), strconv.FormatUint(f.Entry.Index, 10)
	}
	return []string{where, f.Record.Type.String(), strconv.FormatInt(f.Length, 10), strconv.FormatInt(f.Pad, 10),
		crcText(f), term, index, flagsText(f), payloadText(f, d, o)}
}

func segmentText(f *walfmt.Frame) string {
	s := f.Segment
	t := fmt.Sprintf("seq=%d index=%d size=%d", s.Seq, s.Index, s.Size)
	if !s.NameOK {
		t = fmt.Sprintf("size=%d (name is not etcd's seq-index.wal form)", s.Size)
	}
	return t
}

func crcText(f *walfmt.Frame) string {
	if f.CRCOK {
		return "ok"
	}
	return "MISMATCH"
}

func flagsText(f *walfmt.Frame) string {
	var fl []string
	if f.Superseded {
		fl = append(fl, "SUPERSEDED")
	}
	if f.Entry != nil && !f.Committed {
		fl = append(fl, "uncommitted")
	}
	if c := problemCodes(f); c != "" {
		fl = append(fl, c)
	}
	return strings.Join(fl, ",")
}

func problemCodes(f *walfmt.Frame) string {
	var c []string
	for _, p := range f.Problems {
		c = append(c, walfmt.Code(p))
	}
	return strings.Join(c, ",")
}

func problemsText(f *walfmt.Frame) string {
	var c []string
	for _, p := range f.Problems {
		c = append(c, p.Error())
	}
	return strings.Join(c, "; ")
}

func payloadText(f *walfmt.Frame, d *decoded, o *walDumpOptions) string {
	if o.raw {
		return "raw=" + hex.EncodeToString(f.Raw)
	}
	switch {
	case f.Entry != nil:
		e := f.Entry
		s := e.Type.String()
		switch {
		case d.err != nil:
			s += fmt.Sprintf(" undecodable (%v) data=%s", d.err, hex.EncodeToString(e.Data))
		case d.req != nil:
			s += " " + walfmt.DescribeRequest(d.req, walfmt.DescribeOptions{Values: o.values})
		case d.cc != nil:
			s += " " + walfmt.DescribeConfChange(d.cc)
		case d.cc2 != nil:
			s += " " + walfmt.DescribeConfChangeV2(d.cc2)
		}
		return s
	case f.State != nil:
		return fmt.Sprintf("term=%d vote=%s commit=%d", f.State.Term, hexID(f.State.Vote), f.State.Commit)
	case f.Snapshot != nil:
		s := fmt.Sprintf("term=%d index=%d", f.Snapshot.Term, f.Snapshot.Index)
		if cs := f.Snapshot.ConfState; cs != nil {
			s += " " + confStateText(cs)
		}
		return s
	case f.Metadata != nil:
		return fmt.Sprintf("node=%s cluster=%s", hexID(f.Metadata.NodeID), hexID(f.Metadata.ClusterID))
	case f.Record.Type == walfmt.CRCType:
		return fmt.Sprintf("crc=%#08x", f.Record.CRC)
	}
	return "undecodable payload data=" + hex.EncodeToString(f.Record.Data)
}

// hexID is a member, cluster or lease id as etcd's logs and etcdctl member
// list print it, in text and in JSON alike.
func hexID[T ~uint64 | ~int64](id T) string { return fmt.Sprintf("%016x", uint64(id)) }

func confStateText(cs *walfmt.ConfState) string {
	ids := func(v []uint64) string {
		s := make([]string, len(v))
		for i, id := range v {
			s[i] = hexID(id)
		}
		return "[" + strings.Join(s, " ") + "]"
	}
	t := "voters=" + ids(cs.Voters)
	for _, l := range []struct {
		name string
		ids  []uint64
	}{{"learners", cs.Learners}, {"voters_outgoing", cs.VotersOutgoing}, {"learners_next", cs.LearnersNext}} {
		if len(l.ids) > 0 {
			t += " " + l.name + "=" + ids(l.ids)
		}
	}
	if cs.AutoLeave {
		t += " auto_leave"
	}
	return t
}

func appendFrameText(b []byte, f *walfmt.Frame, d *decoded, o *walDumpOptions) []byte {
	switch f.Kind {
	case walfmt.KindSegment:
		b = fmt.Appendf(b, "== %s %s\n", f.Segment.Name, segmentText(f))
	case walfmt.KindZero:
		b = fmt.Appendf(b, "%s:%#x zero     size=%d zero-filled (preallocated)\n", f.Segment.Name, f.Offset, f.Size)
	case walfmt.KindDamage:
		b = fmt.Appendf(b, "%s:%#x DAMAGE   size=%d\n", f.Segment.Name, f.Offset, f.Size)
	default:
		b = fmt.Appendf(b, "%s:%#x %-8s len=%d pad=%d crc=%s", f.Segment.Name, f.Offset, f.Record.Type, f.Length, f.Pad, crcText(f))
		if f.Entry != nil {
			b = fmt.Appendf(b, " term=%d index=%d", f.Entry.Term, f.Entry.Index)
		}
		if fl := flagsText(f); fl != "" {
			b = append(b, " ["...)
			b = append(b, fl...)
			b = append(b, ']')
		}
		b = append(b, ' ')
		b = append(b, payloadText(f, d, o)...)
		b = append(b, '\n')
	}
	for _, p := range f.Problems {
		b = fmt.Appendf(b, "  ! %s: %v\n", walfmt.Code(p), p)
	}
	return b
}

func appendFrameJSON(b []byte, f *walfmt.Frame, d *decoded, o *walDumpOptions) []byte {
	j := jsonw.Begin(b)
	j.Str("kind", f.Kind.String())
	j.Str("segment", f.Segment.Name)
	j.I64("offset", f.Offset)
	switch f.Kind {
	case walfmt.KindSegment:
		j.U64("seq", f.Segment.Seq)
		j.U64("first_index", f.Segment.Index)
		j.I64("size", f.Segment.Size)
	case walfmt.KindZero, walfmt.KindDamage:
		j.I64("size", f.Size)
	case walfmt.KindRecord:
		appendRecordJSON(&j, f, d, o)
	}
	if len(f.Problems) > 0 {
		j.Key("problems")
		j.B = append(j.B, '[')
		for i, p := range f.Problems {
			if i > 0 {
				j.B = append(j.B, ',')
			}
			pj := jsonw.Begin(j.B)
			pj.Str("code", walfmt.Code(p))
			pj.Str("severity", string(walfmt.SeverityOf(p)))
			if ce, ok := p.(*walfmt.CorruptionError); ok {
				pj.I64("offset", ce.Offset)
			}
			pj.Str("message", p.Error())
			j.B = pj.End()
		}
		j.B = append(j.B, ']')
	}
	return j.End()
}

func appendRecordJSON(j *jsonw.Object, f *walfmt.Frame, d *decoded, o *walDumpOptions) {
	j.I64("length", f.Length)
	j.I64("pad", f.Pad)
	j.Str("type", f.Record.Type.String())
	j.U64("crc", uint64(f.Record.CRC))
	j.Bool("crc_ok", f.CRCOK)
	if o.raw {
		appendBytes(j, "raw", f.Raw)
	}
	switch {
	case f.Entry != nil:
		e := f.Entry
		j.U64("term", e.Term)
		j.U64("index", e.Index)
		j.Str("entry_type", e.Type.String())
		appendBytes(j, "data", e.Data)
		j.Bool("superseded", f.Superseded)
		j.Bool("committed", f.Committed)
		switch {
		case d.err != nil:
			j.Str("request_error", d.err.Error())
		case d.req != nil:
			j.Key("request")
			j.B = d.req.AppendJSON(j.B, walfmt.JSONOptions{ValueSizes: !o.values})
		case d.cc != nil:
			j.Value("request", d.cc)
		case d.cc2 != nil:
			j.Value("request", d.cc2)
		}
	case f.State != nil:
		j.U64("term", f.State.Term)
		j.ID("vote", f.State.Vote)
		j.U64("commit", f.State.Commit)
	case f.Snapshot != nil:
		j.U64("term", f.Snapshot.Term)
		j.U64("index", f.Snapshot.Index)
		if f.Snapshot.ConfState != nil {
			j.Value("conf_state", f.Snapshot.ConfState)
		}
	case f.Metadata != nil:
		j.ID("node_id", f.Metadata.NodeID)
		j.ID("cluster_id", f.Metadata.ClusterID)
	}
}

// appendBytes writes a record's bytes in base64, with an AVX2 encoder
// where the CPU has one: the entries' data is most of wal dump's output.
func appendBytes(j *jsonw.Object, k string, v []byte) {
	j.Key(k)
	j.B = append(appendBase64(append(j.B, '"'), v), '"')
}

// appendBase64 appends the standard base64 encoding of v (segmentio/asm:
// the same bytes as encoding/base64, which a test checks).
func appendBase64(b, v []byte) []byte {
	n := fastb64.StdEncoding.EncodedLen(len(v))
	b = slices.Grow(b, n)
	fastb64.StdEncoding.Encode(b[len(b):len(b)+n], v)
	return b[:len(b)+n]
}

// ---- wal stats ----

type walStatsOptions struct {
	prefixDepth int
}

func (o *walStatsOptions) AddFlags(fs *pflag.FlagSet) {
	fs.IntVar(&o.prefixDepth, "prefix-depth", 2, "group keys by their first N '/'-separated parts")
}

func newWALStatsCommand(g *globalOptions) *cobra.Command {
	o := &walStatsOptions{}
	return leaf(&cobra.Command{
		Use:   "stats PATH",
		Short: "Count records and bytes per record type, entry type, request type and key prefix",
		Args:  exactArgs(1, walPathArg),
	}, o, func(cmd *cobra.Command, args []string) error {
		return walStatsFunc(cmd.OutOrStdout(), g.output(), args[0], o)
	})
}

func walStatsFunc(out io.Writer, format outputFormat, arg string, o *walStatsOptions) error {
	if o.prefixDepth < 1 {
		return usagef("--prefix-depth %d: want 1 or more", o.prefixDepth)
	}
	_, files, err := openWAL(arg)
	if err != nil {
		return err
	}
	defer files.Close()
	st, err := collectWALStats(files.Segments, o.prefixDepth)
	if err != nil {
		return err
	}
	return renderWALStats(out, format, st)
}

type walStats struct {
	*walfmt.Summary
	Requests map[string]walfmt.TypeCount `json:"requests"`
	Prefixes map[string]walfmt.TypeCount `json:"key_prefixes"` // bytes: entry data bytes
	Problems int                         `json:"problems"`
}

func collectWALStats(segs []walfmt.Segment, depth int) (*walStats, error) {
	st := &walStats{Requests: map[string]walfmt.TypeCount{}, Prefixes: map[string]walfmt.TypeCount{}}
	count := func(m map[string]walfmt.TypeCount, k string, n int64) {
		tc := m[k]
		tc.Count++
		tc.Bytes += n
		m[k] = tc
	}
	sum, err := walfmt.Summarize(walfmt.NewReader(segs, walfmt.Options{}), func(f *walfmt.Frame) error {
		if f.Entry == nil {
			return nil
		}
		d := decodeEntry(f.Entry)
		kind := d.kind
		if d.err != nil {
			kind = "undecodable"
		}
		n := int64(len(f.Entry.Data))
		count(st.Requests, kind, n)
		seen := map[string]bool{}
		for _, k := range d.requestKeys() {
			if p := keyPrefix(k, depth); !seen[p] {
				seen[p] = true
				count(st.Prefixes, p, n)
			}
		}
		return nil
	})
	st.Summary = sum
	if sum != nil {
		st.Problems = len(sum.Problems)
	}
	return st, err
}

// keyPrefix returns the first depth '/'-separated parts of k, with their
// trailing slash: "/registry/pods/ns/x" at depth 2 is "/registry/pods/".
func keyPrefix(k []byte, depth int) string {
	n := 0
	for i, c := range k {
		if c == '/' && i > 0 {
			n++
			if n == depth {
				return textfmt.Bare(k[:i+1])
			}
		}
	}
	if i := bytes.LastIndexByte(k, '/'); i > 0 {
		return textfmt.Bare(k[:i+1])
	}
	return "(no prefix)"
}

func countRows(title string, m map[string]walfmt.TypeCount) [][]string {
	keys := slices.SortedFunc(maps.Keys(m), func(a, b string) int {
		return cmp.Or(cmp.Compare(m[b].Bytes, m[a].Bytes), cmp.Compare(a, b))
	})
	rows := make([][]string, 0, len(keys))
	for _, k := range keys {
		rows = append(rows, []string{title, k, strconv.FormatInt(m[k].Count, 10), strconv.FormatInt(m[k].Bytes, 10)})
	}
	return rows
}

func (st *walStats) rows() (hdr []string, rows [][]string) {
	hdr = []string{"GROUP", "NAME", "COUNT", "BYTES"}
	rows = append(rows, countRows("record", st.Records)...)
	rows = append(rows, countRows("entry", st.EntryTypes)...)
	rows = append(rows, countRows("request", st.Requests)...)
	rows = append(rows, countRows("prefix", st.Prefixes)...)
	return hdr, rows
}

func renderWALStats(out io.Writer, format outputFormat, st *walStats) error {
	if format == formatJSON {
		return writeJSON(out, st)
	}
	fmt.Fprintf(out, "segments: %d (%d bytes, %d zero-filled, %d damaged)\n", st.Segments, st.Bytes, st.ZeroBytes, st.DamagedBytes)
	fmt.Fprintf(out, "entries: %d, index %d..%d, term %d..%d, %d rewound\n", st.Entries, st.FirstIndex, st.LastIndex, st.FirstTerm, st.LastTerm, st.Rewinds)
	if h := st.HardState; h != nil {
		fmt.Fprintf(out, "hard state: term=%d vote=%s commit=%d\n", h.Term, hexID(h.Vote), h.Commit)
	}
	if m := st.Metadata; m != nil {
		fmt.Fprintf(out, "member: %s cluster: %s\n", hexID(m.NodeID), hexID(m.ClusterID))
	}
	fmt.Fprintf(out, "snapshot records: %d, problems: %d (run wal verify)\n\n", len(st.Snapshots), st.Problems)
	hdr, rows := st.rows()
	if format == formatTable {
		return renderTable(out, hdr, rows)
	}
	for _, r := range rows {
		fmt.Fprintf(out, "%-8s %-40s %10s %14s\n", r[0], r[1], r[2], r[3])
	}
	return nil
}
