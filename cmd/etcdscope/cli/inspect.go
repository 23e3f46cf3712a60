package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/finding"
	"github.com/etcdscope/etcdscope/internal/datadir"
	"github.com/etcdscope/etcdscope/mvccview"
	"github.com/etcdscope/etcdscope/snapfmt"
	"github.com/etcdscope/etcdscope/walfmt"
)

// inspectReport is what inspect prints: a summary of the member, then the
// findings. The JSON document is CONTRACT.md's findings shape plus fields.
type inspectReport struct {
	Path     string          `json:"path"`
	Member   string          `json:"member_id,omitempty"`
	Cluster  string          `json:"cluster_id,omitempty"`
	WAL      *walfmt.Summary `json:"wal,omitempty"`
	Snap     snapInventory   `json:"snap"`
	DB       *dbSummary      `json:"db,omitempty"`
	Checked  []string        `json:"checked"`
	Findings []finding.Finding
	Summary  finding.Summary
	report   *finding.Report
}

// dbSummary is what bolt check found in member/snap/db.
type dbSummary struct {
	File     string `json:"file"`
	Bytes    int64  `json:"bytes"`
	PageSize int    `json:"page_size"`
	HWM      uint64 `json:"hwm"`
	MetaUsed int    `json:"meta_used"`
	Why      string `json:"why"`
	Tree     int    `json:"tree_pages"`
	Free     int    `json:"free_pages"`
	Buckets  int    `json:"buckets"`
	Keys     int    `json:"key_bucket_records"`

	Revision        int64  `json:"revision"`
	CompactRevision int64  `json:"compact_revision"`
	ConsistentIndex uint64 `json:"consistent_index"`
	Term            uint64 `json:"term"`
	StorageVersion  string `json:"storage_version,omitempty"`
}

// snapInventory lists the files of member/snap.
type snapInventory struct {
	Dir     string   `json:"dir,omitempty"`
	Snaps   []string `json:"snaps"`
	SnapDBs []string `json:"snap_dbs"`
	DB      string   `json:"db,omitempty"`
	DBBytes int64    `json:"db_bytes"`
	Other   []string `json:"other"`
}

func newInspectCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
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
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := g.format()
			if err != nil {
				return err
			}
			rep, err := runInspect(args[0])
			if err != nil {
				return err
			}
			return renderInspect(cmd.OutOrStdout(), cmd.ErrOrStderr(), format, rep)
		},
	}
}

func runInspect(arg string) (*inspectReport, error) {
	l, err := datadir.Resolve(arg)
	if err != nil {
		return nil, err
	}
	if l.MemberDir == "" {
		return nil, &datadir.Error{Path: arg, Err: fmt.Errorf("not an etcd data dir or member dir"), Hint: "give the directory passed to etcd as --data-dir (it holds member/wal and member/snap)"}
	}
	rep := &inspectReport{Path: arg, report: &finding.Report{Findings: []finding.Finding{}}, Checked: []string{}}
	facts := &walFacts{}
	if l.WALDir != "" {
		files, err := walfmt.OpenPath(l.WALDir)
		if err != nil {
			return nil, err
		}
		sum, err := walfmt.Summarize(walfmt.NewReader(files.Segments, walfmt.Options{}), facts.visit)
		if err != nil {
			files.Close()
			return nil, err
		}
		rep.WAL = sum
		rep.report.Merge(walReport(l, files, sum.Problems))
		files.Close()
		rep.Checked = append(rep.Checked, "wal")
		if sum.Metadata != nil {
			rep.Member = fmt.Sprintf("%x", sum.Metadata.NodeID)
			rep.Cluster = fmt.Sprintf("%x", sum.Metadata.ClusterID)
		}
	} else {
		rep.report.Add(finding.Finding{Severity: finding.Error, Code: "wal-missing", File: l.Rel(filepath.Join(l.MemberDir, "wal")),
			Message: "the member has no wal directory; etcd cannot start without its WAL"})
	}
	inv, err := inventorySnap(l)
	if err != nil {
		return nil, err
	}
	rep.Snap = inv
	var sd *snapfmt.Dir
	if l.SnapDir != "" {
		if sd, err = snapfmt.ReadDir(l.SnapDir, snapfmt.Options{}); err != nil {
			return nil, err
		}
		rel := func(name string) string { return l.Rel(filepath.Join(sd.Path, name)) }
		for _, p := range sd.Problems() {
			rep.report.Add(snapFinding(rel, p))
		}
		rep.Checked = append(rep.Checked, "snap")
	}
	var st *mvccview.Store
	switch {
	case l.DB != "":
		if st, err = inspectDB(l, rep); err != nil {
			return nil, err
		}
	case l.SnapDir != "" || l.WALDir != "":
		rep.report.Add(finding.Finding{Severity: finding.Error, Code: "db-missing", File: l.Rel(filepath.Join(l.MemberDir, "snap", "db")),
			Message: "the member has no db: etcd 3.6 and later refuse to start; 3.5 starts from the newest .snap.db or empty, with only what the WAL holds after it (repair rebuild replays the WAL into a new member)"})
	}
	crossCheck(l, rep.report, rep.WAL, facts, sd, st)
	if st != nil && rep.WAL != nil {
		rep.Checked = append(rep.Checked, "cross-checks")
	}
	rep.Findings, rep.Summary = rep.report.Findings, rep.report.Summary
	return rep, nil
}

// inspectDB runs bolt check on member/snap/db and reads its MVCC view.
func inspectDB(l datadir.Layout, rep *inspectReport) (*mvccview.Store, error) {
	db, err := boltfmt.Open(l.DB, boltfmt.Options{})
	if err != nil {
		rep.report.Add(finding.Finding{Severity: finding.Error, Code: "bolt-meta-invalid", File: l.Rel(l.DB), Offset: finding.Ptr(int64(0)),
			Message: fmt.Sprintf("the db cannot be read as a bbolt file: %v", err)})
		return nil, nil
	}
	defer db.Close()
	walk, err := db.Walk(boltfmt.WalkOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", l.DB, err)
	}
	rep.report.Merge(boltReport(l.Rel(l.DB), walk.Problems))
	d := &dbSummary{File: l.Rel(l.DB), Bytes: db.Size(), PageSize: db.PageSize, HWM: uint64(walk.HWM), MetaUsed: walk.MetaUsed,
		Why: db.Why, Tree: walk.Tree, Free: walk.Free, Buckets: len(walk.Buckets) - 1}
	for _, b := range walk.Buckets {
		if b.Name() == mvccview.KeyBucket {
			d.Keys = b.Keys
		}
	}
	rep.DB = d
	rep.Checked = append(rep.Checked, "db")
	st, err := mvccview.Open(&mvccview.BoltSource{DB: db})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", l.DB, err)
	}
	for _, br := range st.BadRecords {
		rep.report.Add(finding.Finding{Severity: finding.Error, Code: "mvcc-bad-record", File: l.Rel(l.DB),
			Message: fmt.Sprintf("key-bucket record %x: %v", br.Key, br.Err)})
	}
	d.Revision, d.CompactRevision, d.ConsistentIndex, d.Term = st.CurrentRev, st.CompactRev, st.Meta.ConsistentIndex, st.Meta.Term
	d.StorageVersion = st.Meta.StorageVersion
	rep.Checked = append(rep.Checked, "mvcc")
	return st, nil
}

func inventorySnap(l datadir.Layout) (snapInventory, error) {
	inv := snapInventory{Snaps: []string{}, SnapDBs: []string{}, Other: []string{}}
	if l.SnapDir == "" {
		return inv, nil
	}
	inv.Dir = l.Rel(l.SnapDir)
	ents, err := os.ReadDir(l.SnapDir)
	if err != nil {
		return inv, &datadir.Error{Path: l.SnapDir, Err: err, Hint: "check the directory's permissions"}
	}
	for _, e := range ents {
		n := e.Name()
		switch {
		case n == "db":
			inv.DB = l.Rel(filepath.Join(l.SnapDir, n))
			if st, err := os.Stat(filepath.Join(l.SnapDir, n)); err == nil {
				inv.DBBytes = st.Size()
			}
		case strings.HasSuffix(n, ".snap"):
			inv.Snaps = append(inv.Snaps, n)
		case strings.HasSuffix(n, ".snap.db"):
			inv.SnapDBs = append(inv.SnapDBs, n)
		default:
			inv.Other = append(inv.Other, n)
		}
	}
	sort.Strings(inv.Snaps)
	sort.Strings(inv.SnapDBs)
	return inv, nil
}

func renderInspect(out, errOut io.Writer, format outputFormat, rep *inspectReport) error {
	if format == formatJSON {
		doc := struct {
			*inspectReport
			Findings []finding.Finding `json:"findings"`
			Summary  finding.Summary   `json:"summary"`
		}{rep, rep.Findings, rep.Summary}
		if err := writeJSON(out, doc); err != nil {
			return err
		}
		if rep.report.HasErrors() {
			return errFindings
		}
		return nil
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
	return renderFindings(out, errOut, format, rep.report)
}

// inspectRows is the pure row builder for inspect's summary.
func inspectRows(rep *inspectReport) (hdr []string, rows [][]string) {
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
	rows = append(rows, []string{"findings", summaryLine(rep.Summary)})
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
