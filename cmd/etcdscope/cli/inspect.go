package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/etcdscope/etcdscope/inspect"
)

func newInspectCommand(g *globalOptions) *cobra.Command {
	o := &inspectOptions{g: g}
	return leaf(&cobra.Command{
		Use:   "inspect DATA_DIR",
		Short: "Check a whole member: WAL, snapshot files and db, and how they agree",
		Long: `inspect is the one command to run on a member that will not start or that
you do not trust. It reads the member's files read-only (it takes no lock, so it
also works while etcd runs), prints a short summary (member and cluster ids,
WAL extent, raft state, snapshot files, db size) and then every finding.

Checks: the WAL (every record), the .snap and .snap.db files, the bbolt db (every
page), the MVCC records, and the cross-checks etcd's boot depends on: the db's
consistent_index against the WAL (db-ahead-of-wal, db-behind-wal), the WAL's
snapshot records against the .snap and .snap.db files (wal-snapshot-missing,
snapdb-missing: etcd's "failed to find database snapshot file" panic, found
offline; db-missing), the db's members against the WAL's conf state, and the storage
version against the cluster version the WAL set.`,
		Args: exactArgs(1, "one DATA_DIR (etcd --data-dir or member dir)"),
	}, o, func(cmd *cobra.Command, args []string) error {
		return runCheck(cmd, o.g, args[0], func(p string) (*inspect.Report, error) { return inspect.Member(p, o.check) }, renderInspect)
	})
}

// inspectOptions are what inspect runs with: -w, and the check's options
// (none of them on the command line yet).
type inspectOptions struct {
	g     *globalOptions
	check inspect.Options
}

// AddFlags adds inspect's own flags: there are none besides -w.
func (o *inspectOptions) AddFlags(*pflag.FlagSet) {}

// runCheck is the body of every command that checks (inspect, wal verify,
// snap dump): it runs check, one library call, on path and renders what it
// found.
func runCheck[R any](cmd *cobra.Command, g *globalOptions, path string, check func(path string) (R, error), render func(out, errOut io.Writer, format outputFormat, r R) error) error {
	r, err := check(path)
	if err != nil {
		return err
	}
	return render(cmd.OutOrStdout(), cmd.ErrOrStderr(), g.output(), r)
}

// renderInspect writes inspect's report: with -w json the report as one
// document (CONTRACT.md's findings and summary, and the member's summary),
// else the summary rows, then the findings.
func renderInspect(out, errOut io.Writer, format outputFormat, rep *inspect.Report) error {
	if format == formatJSON {
		return writeReport(out, rep, &rep.Report)
	}
	hdr, rows := inspectRows(rep)
	if format == formatTable {
		if err := renderTable(out, hdr, rows); err != nil {
			return err
		}
	} else {
		for _, r := range rows {
			fmt.Fprintf(out, "%-9s %s\n", r[0]+":", r[1])
		}
	}
	if len(rep.Findings) > 0 {
		fmt.Fprintln(out)
	}
	return renderFindings(out, errOut, format, &rep.Report)
}

// inspectRows is the pure row builder for inspect's summary.
func inspectRows(rep *inspect.Report) (hdr []string, rows [][]string) {
	hdr = []string{"WHAT", "SUMMARY"}
	if rep.Member != "" {
		rows = append(rows, []string{"member", fmt.Sprintf("%s in cluster %s", rep.Member, rep.Cluster)})
	}
	if w := rep.WAL; w != nil {
		rows = append(rows, []string{"wal", fmt.Sprintf("%d segments, %s; entries %d..%d (last term %d), %d entries",
			w.Segments, humanBytes(w.Bytes), w.FirstIndex, w.LastIndex, w.LastTerm, w.Entries)})
		if h := w.HardState; h != nil {
			rows = append(rows, []string{"raft", fmt.Sprintf("term %d, vote %x, commit %d", h.Term, h.Vote, h.Commit)})
		}
		if n := len(w.Snapshots); n > 0 {
			s := w.Snapshots[n-1]
			rows = append(rows, []string{"wal snap", fmt.Sprintf("%d snapshot records, newest index %d term %d", n, s.Index, s.Term)})
		}
	}
	s := rep.Snap
	snapLine := fmt.Sprintf("%d .snap files", len(s.Snaps))
	if n := len(s.Snaps); n > 0 {
		snapLine += " (newest " + s.Snaps[n-1] + ")"
	}
	snapLine += fmt.Sprintf(", %d .snap.db files", len(s.SnapDBs))
	if len(s.Other) > 0 {
		snapLine += ", also: " + strings.Join(s.Other, " ")
	}
	rows = append(rows, []string{"snap", snapLine})
	if d := rep.DB; d != nil {
		rows = append(rows, []string{"db", fmt.Sprintf("%s, %s; %d pages of %d bytes below the high-water mark (%d in the tree, %d free), meta %d; %d buckets, %d records in the key bucket",
			d.File, humanBytes(d.Bytes), d.HWM, d.PageSize, d.Tree, d.Free, d.MetaUsed, d.Buckets, d.Keys)})
	} else if s.DB != "" {
		rows = append(rows, []string{"db", fmt.Sprintf("%s, %s", s.DB, humanBytes(s.DBBytes))})
	} else {
		rows = append(rows, []string{"db", "none (member/snap/db is missing)"})
	}
	if d := rep.DB; d != nil && d.ConsistentIndex > 0 {
		rows = append(rows, []string{"mvcc", fmt.Sprintf("revision %d, compacted at %d; consistent_index %d, term %d; storage version %s",
			d.Revision, d.CompactRevision, d.ConsistentIndex, d.Term, orDash(d.StorageVersion))})
	}
	rows = append(rows, []string{"checked", strings.Join(rep.Checked, ", ")})
	rows = append(rows, []string{"findings", rep.Summary.String()})
	return hdr, rows
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
