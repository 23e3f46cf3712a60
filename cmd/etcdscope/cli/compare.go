package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"

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

func renderCompare(out, errOut io.Writer, format outputFormat, res *compare.Result) error {
	if format == formatJSON {
		if err := writeJSON(out, res); err != nil {
			return err
		}
		if res.HasErrors() {
			return errFindings
		}
		return nil
	}
	hdr, rows := compareMemberRows(res)
	if err := renderTable(out, hdr, rows); err != nil {
		return err
	}
	if res.HashRevision > 0 {
		fmt.Fprintf(out, "HashKV compared at revision %d (compaction %d)\n", res.HashRevision, res.HashCompactRevision)
	}
	if !res.SelfChecked {
		fmt.Fprintln(out, "self-check: not run (--self-check replays each member's WAL and compares it with the member's db)")
	} else {
		for _, m := range res.Members {
			fmt.Fprintf(out, "self-check %s: %s\n", m.Dir, m.SelfCheck)
		}
	}
	fmt.Fprintln(out)
	hdr, rows = compareAdviceRows(res)
	if err := renderTable(out, hdr, rows); err != nil {
		return err
	}
	if len(res.Findings) > 0 {
		fmt.Fprintln(out)
	}
	return renderFindings(out, errOut, format, &res.Report)
}

// compareMemberRows is the pure row builder for the members table.
func compareMemberRows(res *compare.Result) (hdr []string, rows [][]string) {
	hdr = []string{"MEMBER", "NAME", "ID", "WAL ENTRIES", "COMMIT", "APPLIED", "REVISION", "COMPACTED", "HASHKV"}
	for _, m := range res.Members {
		applied := strconv.FormatUint(m.Applied, 10)
		if m.AppliedByReplay > 0 {
			applied += fmt.Sprintf(" (replayed to %d)", m.AppliedByReplay)
		}
		hash := "-"
		if m.Hash != nil {
			hash = strconv.FormatInt(*m.Hash, 10)
		}
		rows = append(rows, []string{m.Dir, m.Name, m.ID, fmt.Sprintf("%d..%d", m.FirstIndex, m.LastIndex),
			strconv.FormatUint(m.Commit, 10), applied, strconv.FormatInt(m.Revision, 10), strconv.FormatInt(m.CompactRevision, 10), hash})
	}
	return hdr, rows
}

// compareAdviceRows is the pure row builder for the recovery advice.
func compareAdviceRows(res *compare.Result) (hdr []string, rows [][]string) {
	hdr = []string{"RECOVER FROM", "HOW", "KEEPS INDEX", "KEEPS REVISION", "LOSES ENTRIES", "LOSES REVISIONS", "ADVICE"}
	for _, a := range res.Advice {
		adv := ""
		if a.Recommended {
			adv = "recommended"
		} else if strings.HasPrefix(a.Note, "not advised:") {
			adv = "not advised: diverged"
		}
		rows = append(rows, []string{a.Dir, a.Method, strconv.FormatUint(a.KeepsIndex, 10), strconv.FormatInt(a.KeepsRevision, 10),
			strconv.FormatUint(a.LostEntries, 10), strconv.FormatInt(a.LostRevisions, 10), adv})
	}
	return hdr, rows
}
