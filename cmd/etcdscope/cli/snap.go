package cli

import (
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/etcdscope/etcdscope/inspect"
	"github.com/etcdscope/etcdscope/internal/textfmt"
)

func newSnapCommand(g *globalOptions) *cobra.Command {
	c := &cobra.Command{
		Use:   "snap",
		Short: "Read a member's snapshot files (.snap, .snap.db)",
	}
	c.AddCommand(newSnapDumpCommand(g))
	return c
}

// ---- snap dump ----

// snapDumpOptions are what snap dump runs with: -w and the check's options.
type snapDumpOptions struct {
	g     *globalOptions
	check inspect.SnapOptions
}

func (o *snapDumpOptions) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.check.IgnoreWAL, "ignore-wal", false, "do not read the WAL's snapshot records; say which .snap the unconstrained search (Snapshotter.Load) picks")
}

func newSnapDumpCommand(g *globalOptions) *cobra.Command {
	o := &snapDumpOptions{g: g}
	return leaf(&cobra.Command{
		Use:   "dump PATH",
		Short: "List .snap files (term, index, conf state, CRC, v2 store) and .snap.db files",
		Long: `Decodes every file of member/snap, read-only: each .snap file's term, index,
conf state, CRC status and a summary of the v2 store inside it (members, removed
members, cluster version, node count); which .snap etcd would load at boot; each
database snapshot (.snap.db from the leader, or an etcdctl snapshot save file
given as PATH) with its size, whether it starts like a bbolt file and the state
of its SHA-256 trailer; and any leftover files (.broken, tmp*, db.tmp*, unknown).
Then the findings.

PATH is a data dir, a member dir, a snap dir or a single file. Given a data or
member dir, the choice of snapshot follows etcd 3.5/3.6 (LoadNewestAvailable):
the newest .snap that reads cleanly and matches a committed WAL snapshot record.
Unlike etcd, nothing is renamed: the files etcd would rename to .broken are
listed instead.`,
		Args: exactArgs(1, "one PATH (data dir, member dir, snap dir, .snap or .snap.db file)"),
	}, o, func(cmd *cobra.Command, args []string) error {
		return runCheck(cmd, o.g, args[0], func(p string) (*inspect.SnapReport, error) { return inspect.CheckSnap(p, o.check) }, renderSnapDump)
	})
}

// renderSnapDump writes snap dump's report: with -w json the report as one
// document, else the files (a line or a row each), which .snap etcd would
// load, then the findings.
func renderSnapDump(out, errOut io.Writer, format outputFormat, rep *inspect.SnapReport) error {
	if format == formatJSON {
		return writeReport(out, rep, &rep.Report)
	}
	if format == formatTable {
		hdr, rows := snapRows(rep)
		if len(rows) > 0 {
			if err := renderTable(out, hdr, rows); err != nil {
				return err
			}
		}
	} else {
		writeSnapText(out, rep)
	}
	fmt.Fprintln(out, rep.Note())
	if len(rep.Findings) > 0 {
		fmt.Fprintln(out)
	}
	return renderFindings(out, errOut, format, &rep.Report)
}

func writeSnapText(out io.Writer, rep *inspect.SnapReport) {
	for _, s := range rep.Snaps {
		id := s.ID()
		fmt.Fprintf(out, "%s  term %d index %d  %s  %s  %s  etcd: %s\n", s.Path, id.Term, id.Index, textfmt.Size(s.Size), s.DescribeCRC(), s.DescribeConfState(), s.Outcome)
		fmt.Fprintf(out, "    store: %s\n", s.DescribeStore())
	}
	for _, d := range rep.SnapDBs {
		idx := ""
		if d.NameOK {
			idx = fmt.Sprintf("  index %d", d.Index)
		}
		fmt.Fprintf(out, "%s%s  %s  %s  %s\n", d.Path, idx, textfmt.Size(d.Size), d.DescribeBolt(), d.Trailer.Describe())
	}
	if d := rep.DB; d != nil {
		fmt.Fprintf(out, "%s  %s  %s  (the live backend)\n", d.Path, textfmt.Size(d.Size), d.DescribeBolt())
	}
	for _, l := range rep.Leftovers {
		fmt.Fprintf(out, "%s  leftover (%s): %s\n", l.Path, l.Kind, l.Note())
	}
}

// snapRows is the pure row builder for snap dump's table.
func snapRows(rep *inspect.SnapReport) (hdr []string, rows [][]string) {
	hdr = []string{"FILE", "KIND", "TERM", "INDEX", "SIZE", "CHECK", "DETAIL"}
	for _, s := range rep.Snaps {
		id := s.ID()
		rows = append(rows, []string{s.Path, "snap", strconv.FormatUint(id.Term, 10), strconv.FormatUint(id.Index, 10),
			strconv.FormatInt(s.Size, 10), s.DescribeCRC(), s.DescribeConfState() + "; " + s.DescribeStore() + "; etcd: " + s.Outcome.String()})
	}
	for _, d := range rep.SnapDBs {
		idx := ""
		if d.NameOK {
			idx = strconv.FormatUint(d.Index, 10)
		}
		rows = append(rows, []string{d.Path, "snap.db", "", idx, strconv.FormatInt(d.Size, 10), d.Trailer.Describe(), d.DescribeBolt()})
	}
	if d := rep.DB; d != nil {
		rows = append(rows, []string{d.Path, "db", "", "", strconv.FormatInt(d.Size, 10), "", d.DescribeBolt() + " (the live backend)"})
	}
	for _, l := range rep.Leftovers {
		rows = append(rows, []string{l.Path, "leftover:" + l.Kind.String(), "", "", strconv.FormatInt(l.Size, 10), "", l.Note()})
	}
	return hdr, rows
}
