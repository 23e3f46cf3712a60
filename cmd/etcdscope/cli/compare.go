package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/etcdscope/etcdscope/compare"
)

type compareOptions struct {
	selfCheck bool
}

func (o *compareOptions) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.selfCheck, "self-check", false, "also replay each member's WAL and compare the result with its own db")
}

func newCompareCommand(g *globalOptions) *cobra.Command {
	o := &compareOptions{}
	return leaf(&cobra.Command{
		Use:   "compare DATA_DIR DATA_DIR [DATA_DIR...]",
		Short: "Find divergence and corruption across the stopped members of one cluster",
		Long: `Compares 2 to 7 stopped members of one cluster (their data dirs or member
dirs), read-only:

- Raft logs, aligned by index: every index where entries both members hold as
  committed differ in term or data (member-log-divergence, naming the member
  the majority disagrees with, each side's request decoded); each member's
  log extent, commit and applied index.
- State: HashKV of every member at the highest (compaction, revision) all of
  them can compute; a db behind its own log is first replayed forward to the
  log's commit, as etcd would on start. A member whose hash differs from the
  majority's is named (member-hash-mismatch) with the first revision where its
  key bucket differs and the keys that differ there.
- Each member against its own log (--self-check): its WAL
  replayed from index 1, or from a .snap.db the WAL continues, to the db's
  consistent_index must give the same state as the db (member-db-log-mismatch:
  a db that drifted from its log, etcd 3.5's data-inconsistency failure).
  It replays every entry, so it takes what replay takes; without it compare
  reads each db and WAL once.
- A member behind the others is reported (member-behind, a warning) with how
  many entries and revisions it lacks.
- Recovery advice: for each member, what etcd --force-new-cluster on it, or
  etcdutl snapshot restore of its db, keeps and loses, and which to use.

Exit status 1 when a member diverges.`,
		Args: rangeArgs(2, 7, "2 to 7 member data dirs"),
	}, o, func(cmd *cobra.Command, args []string) error {
		res, err := compare.Run(args, compare.Options{SelfCheck: o.selfCheck})
		if err != nil {
			return err
		}
		return renderCompare(cmd.OutOrStdout(), cmd.ErrOrStderr(), g.output(), res)
	})
}

// renderCompare writes what compare found: with -w json the result as one
// document, else the members, the notes on them, the ways to recover, then
// the findings.
func renderCompare(out, errOut io.Writer, format outputFormat, res *compare.Result) error {
	if format == formatJSON {
		return writeReport(out, res, &res.Report)
	}
	hdr, rows := res.MemberTable()
	if err := renderTable(out, hdr, rows); err != nil {
		return err
	}
	for _, n := range res.Notes() {
		fmt.Fprintln(out, n)
	}
	fmt.Fprintln(out)
	hdr, rows = res.AdviceTable()
	if err := renderTable(out, hdr, rows); err != nil {
		return err
	}
	if len(res.Findings) > 0 {
		fmt.Fprintln(out)
	}
	return renderFindings(out, errOut, format, &res.Report)
}
