package cli

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	fastb64 "github.com/segmentio/asm/base64"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/etcdscope/etcdscope/inspect"
	"github.com/etcdscope/etcdscope/internal/datadir"
	"github.com/etcdscope/etcdscope/internal/ordered"
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

// openWAL opens the WAL of arg read-only ([inspect.OpenWAL]).
func openWAL(arg string) (datadir.Layout, *walfmt.Files, error) { return inspect.OpenWAL(arg) }

// ---- wal verify ----

func newWALVerifyCommand(g *globalOptions) *cobra.Command {
	return leaf(&cobra.Command{
		Use:   "verify PATH",
		Short: "Check every record, the CRC chain and the log's structure; print findings only",
		Long: `Reads every segment to its end and reports every problem with its segment,
byte offset and a stable code: CRC mismatches (the chain is resynchronised after
each, so only damaged records are reported), CRC chain breaks between segments,
torn tails, garbage or zeroed regions, non-zero padding, bad lengths, sequence
gaps, undecodable records, conflicting metadata, committed entries overwritten.`,
		Args: exactArgs(1, walPathArg),
	}, noFlags{}, func(cmd *cobra.Command, args []string) error {
		return runCheck(cmd, g, args[0], inspect.CheckWAL, renderFindings)
	})
}

// ---- wal dump ----

type walDumpOptions struct {
	filter walfmt.Filter
	frame  walfmt.FrameOptions
}

func (o *walDumpOptions) AddFlags(fs *pflag.FlagSet) {
	fl, recordTypeNames, entryTypeNames := &o.filter, walfmt.RecordTypeNames(), walfmt.EntryKindNames()
	fs.Uint64Var(&fl.StartIndex, "start-index", 0, "show entries from this raft index on (inclusive)")
	fs.Uint64Var(&fl.EndIndex, "end-index", 0, "show entries up to this raft index (inclusive); 0 means no limit")
	fs.Var(enumListValue(&fl.RecordTypes, recordTypeNames), "record-type", "show only these record types: "+strings.Join(recordTypeNames, ", "))
	fs.Var(enumListValue(&fl.EntryTypes, entryTypeNames), "entry-type", "show only entries of these types: "+strings.Join(entryTypeNames, ", "))
	fs.Var(enumListValue(&fl.Requests, walfmt.PayloadKinds()), "request", "show only entries carrying these requests: put, txn, delete-range, compaction, lease-grant, lease-revoke, empty, v2, confchange, ... (see wal stats)")
	fs.StringVar(&fl.KeyPrefix, "key", "", "show only entries whose request names a key with this prefix")
	fs.BoolVar(&o.frame.Raw, "raw", false, "print each record's bytes in hex instead of decoding its payload")
	fs.BoolVar(&o.frame.Values, "values", false, "print values instead of their sizes (quoted, with escapes for what is not printable)")
}

const walPathArg = "one PATH (data dir, member dir, wal dir or .wal file)"

func newWALDumpCommand(g *globalOptions) *cobra.Command {
	o := &walDumpOptions{frame: walfmt.FrameOptions{AppendBase64: appendBase64}}
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
	if fl := o.filter; fl.EndIndex != 0 && fl.EndIndex < fl.StartIndex {
		return usagef("--end-index %d is below --start-index %d", fl.EndIndex, fl.StartIndex)
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
	return ordered.WriteAll(out, r.Next, ordered.Options[walfmt.Frame]{
		Copy:   func(dst, src *walfmt.Frame, arena []byte) []byte { return src.CloneInto(dst, arena) },
		Encode: func(b []byte, f *walfmt.Frame) []byte { return encodeFrame(b, f, format, o) },
	})
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
		var p walfmt.Payload // decoded when the filter or the row looks at it
		if o.filter.Match(f, &p) {
			if err := t.Row(frameRow(f, &p, o)...); err != nil {
				return err
			}
		}
	}
}

// encodeFrame appends a frame's output, if it passes the filter.
func encodeFrame(b []byte, f *walfmt.Frame, format outputFormat, o *walDumpOptions) []byte {
	var p walfmt.Payload // decoded when the filter or the output looks at it
	switch {
	case !o.filter.Match(f, &p):
		return b
	case format == formatJSON:
		return append(f.AppendJSON(b, &p, o.frame), '\n')
	}
	return walfmt.AppendFrameText(b, f, &p, o.frame)
}

func frameRow(f *walfmt.Frame, p *walfmt.Payload, o *walDumpOptions) []string {
	where := fmt.Sprintf("%s:%#x", f.Segment.Name, f.Offset)
	payload, size := walfmt.DescribeFrame(f, p, o.frame), strconv.FormatInt(f.Size, 10)
	switch f.Kind {
	case walfmt.KindSegment:
		return []string{where, "segment", "", "", "", "", "", "", payload}
	case walfmt.KindZero:
		return []string{where, "zero", size, "", "", "", "", "", payload}
	case walfmt.KindDamage:
		return []string{where, "DAMAGE", size, "", "", "", "", walfmt.DescribeFlags(f), payload}
	}
	term, index := "", ""
	if f.Entry != nil {
		term, index = strconv.FormatUint(f.Entry.Term, 10), strconv.FormatUint(f.Entry.Index, 10)
	}
	return []string{where, f.Record.Type.String(), strconv.FormatInt(f.Length, 10), strconv.FormatInt(f.Pad, 10),
		walfmt.DescribeCRC(f), term, index, walfmt.DescribeFlags(f), payload}
}

// hexID is a member, cluster or lease id as etcd's logs and etcdctl member
// list print it, in text and in JSON alike.
func hexID[T ~uint64 | ~int64](id T) string { return fmt.Sprintf("%016x", uint64(id)) }

// appendBase64 appends the standard base64 encoding of v (segmentio/asm,
// AVX2 where the CPU has it: the same bytes as encoding/base64, which a
// test checks).
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
	st, err := walfmt.CollectStats(walfmt.NewReader(files.Segments, walfmt.Options{}), o.prefixDepth)
	if err != nil {
		return err
	}
	return renderWALStats(out, format, st)
}

// walStatsRows is the pure row builder for wal stats' counts.
func walStatsRows(st *walfmt.Stats) (hdr []string, rows [][]string) {
	hdr = []string{"GROUP", "NAME", "COUNT", "BYTES"}
	for _, g := range []struct {
		title  string
		counts map[string]walfmt.TypeCount
	}{{"record", st.Records}, {"entry", st.EntryTypes}, {"request", st.Requests}, {"prefix", st.Prefixes}} {
		for _, c := range walfmt.ByBytes(g.counts) {
			rows = append(rows, []string{g.title, c.Name, strconv.FormatInt(c.Count, 10), strconv.FormatInt(c.Bytes, 10)})
		}
	}
	return hdr, rows
}

func renderWALStats(out io.Writer, format outputFormat, st *walfmt.Stats) error {
	if format == formatJSON {
		return writeJSON(out, st)
	}
	fmt.Fprintf(out, "segments: %d (%d bytes, %d zero-filled, %d damaged)\n", st.Segments, st.Bytes, st.ZeroBytes, st.DamagedBytes)
	fmt.Fprintf(out, "entries: %d, index %d..%d, term %d..%d, %d rewound\n", st.Entries, st.FirstIndex, st.LastIndex, st.FirstTerm, st.LastTerm, st.Rewinds)
	if h := st.HardState; h != nil {
		fmt.Fprintf(out, "hard state: %s\n", walfmt.DescribeHardState(*h))
	}
	if m := st.Metadata; m != nil {
		fmt.Fprintf(out, "member: %s cluster: %s\n", hexID(m.NodeID), hexID(m.ClusterID))
	}
	fmt.Fprintf(out, "snapshot records: %d, problems: %d (run wal verify)\n\n", len(st.Snapshots), st.Problems)
	return render(out, format, st, func() ([]string, [][]string) { return walStatsRows(st) }, func(_, r []string) string {
		return fmt.Sprintf("%-8s %-40s %10s %14s", r[0], r[1], r[2], r[3])
	})
}
