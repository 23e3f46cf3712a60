package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/etcdscope/etcdscope/inspect"
	"github.com/etcdscope/etcdscope/repair"
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
version against the cluster version the WAL set.

The verdict says what real etcd does when it starts on the member: starts,
self-repairs (it truncates a torn tail, zero-fills tail garbage, renames a bad
.snap, falls back to the other meta, and loses nothing acknowledged), refuses
(with the message etcd prints), damages (it writes over live data) or
serves-wrong-data. The version is the one that wrote the member (the db's
storage version, else the WAL's cluster version); --etcd-version asks about
another. Each finding says what etcd does about it; what etcd repairs by itself
without loss is a warning, so a member etcd starts on without loss exits 0.

Then inspect names the repair that loses least, tried in a dry run, with what
it would lose and the repair auto command line that runs it.`,
		Args: exactArgs(1, "one DATA_DIR (etcd --data-dir or member dir)"),
	}, o, func(cmd *cobra.Command, args []string) error {
		return runCheck(cmd, o.g, args[0], o.run, renderInspect)
	})
}

// inspectOptions are what inspect runs with: -w, and the check's options.
type inspectOptions struct {
	g     *globalOptions
	check inspect.Options
	auto  repair.AutoOptions
}

// AddFlags adds inspect's own flags.
func (o *inspectOptions) AddFlags(fs *pflag.FlagSet) {
	fs.Var(enumValue(&o.check.EtcdVersion, inspect.SupportedVersions), "etcd-version",
		"predict what this etcd minor version does on start ("+strings.Join(inspect.SupportedVersions, ", ")+"); default: the one that wrote the member")
	fs.StringArrayVar(&o.auto.Peers, "peer", nil, "another member's data dir the recommended repair may take entries from (repeatable)")
}

// inspectDoc is inspect's report with the repair it recommends.
type inspectDoc struct {
	*inspect.Report
	Recommendation *repair.Recommendation `json:"recommendation"`
}

// run checks the member at path and names the repair that loses least.
func (o *inspectOptions) run(path string) (*inspectDoc, error) {
	rep, err := inspect.Member(path, o.check)
	if err != nil {
		return nil, err
	}
	rec, err := repair.Recommend(path, rep, o.auto)
	if err != nil {
		rec = &repair.Recommendation{Repair: "none", Command: []string{}, RepairCommand: []string{}, Why: err.Error(), Candidates: []repair.Candidate{}, Loss: (*repair.Loss)(nil).Summarize()}
	}
	return &inspectDoc{rep, rec}, nil
}

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
// else the summary's lines (WHAT, SUMMARY), then the findings.
func renderInspect(out, errOut io.Writer, format outputFormat, doc *inspectDoc) error {
	rep := doc.Report
	if format == formatJSON {
		return writeReport(out, doc, &rep.Report)
	}
	fields := rep.Fields()
	if r := doc.Recommendation; r != nil && r.Repair != "none" {
		fields = append(fields, [2]string{"repair", fmt.Sprintf("%s: %s (%s)", r.Repair, strings.Join(r.Command, " "), r.Loss)})
	}
	if format == formatTable {
		if err := renderTable(out, []string{"WHAT", "SUMMARY"}, fieldRows(fields)); err != nil {
			return err
		}
	} else {
		for _, f := range fields {
			fmt.Fprintf(out, "%-9s %s\n", f[0]+":", f[1])
		}
	}
	if len(rep.Findings) > 0 {
		fmt.Fprintln(out)
	}
	return renderFindings(out, errOut, format, &rep.Report)
}

// fieldRows is labelled lines as table rows.
func fieldRows(fields [][2]string) [][]string {
	rows := make([][]string, len(fields))
	for i, f := range fields {
		rows[i] = []string{f[0], f[1]}
	}
	return rows
}
