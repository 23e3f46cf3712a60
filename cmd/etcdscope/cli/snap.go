package cli

import (
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/etcdscope/etcdscope/finding"
	"github.com/etcdscope/etcdscope/inspect"
	"github.com/etcdscope/etcdscope/snapfmt"
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

// snapDumpReport is what snap dump prints. The JSON document is
// CONTRACT.md's findings shape plus the inventory.
type snapDumpReport struct {
	Path      string            `json:"path"`
	Dir       string            `json:"dir"`
	Snaps     []snapJSON        `json:"snaps"`
	SnapDBs   []snapDBJSON      `json:"snap_dbs"`
	DB        *snapDBJSON       `json:"db"`
	Leftovers []leftoverJSON    `json:"leftovers"`
	Newest    *newestJSON       `json:"newest"`
	Findings  []finding.Finding `json:"findings"`
	Summary   finding.Summary   `json:"summary"`

	choiceNote string
	report     *finding.Report
}

type snapJSON struct {
	Name        string         `json:"name"`
	File        string         `json:"file"`
	Size        int64          `json:"size"`
	Term        uint64         `json:"term"`
	Index       uint64         `json:"index"`
	NameTerm    *uint64        `json:"name_term"`
	NameIndex   *uint64        `json:"name_index"`
	ConfState   *confStateJSON `json:"conf_state"`
	CRC         uint32         `json:"crc"`
	ComputedCRC uint32         `json:"computed_crc"`
	CRCOK       bool           `json:"crc_ok"`
	DataOffset  int64          `json:"data_offset"`
	DataBytes   int            `json:"data_bytes"`
	StoreBytes  int            `json:"store_bytes"`
	Loadable    bool           `json:"loadable"`
	Etcd        string         `json:"etcd"` // what etcd's loader does with it: loaded, broken, unmatched, not-reached
	Store       *storeJSON     `json:"store"`
}

type confStateJSON struct {
	Voters         []string `json:"voters"`
	Learners       []string `json:"learners"`
	VotersOutgoing []string `json:"voters_outgoing"`
	LearnersNext   []string `json:"learners_next"`
	AutoLeave      bool     `json:"auto_leave"`
}

type storeJSON struct {
	Members        []memberJSON `json:"members"`
	Removed        []string     `json:"removed_members"`
	ClusterVersion string       `json:"cluster_version"`
	Nodes          int          `json:"nodes"`
	Keys           int          `json:"keys"`
	V2Content      bool         `json:"v2_content"`
	CurrentIndex   uint64       `json:"current_index"`
}

type memberJSON struct {
	ID         string   `json:"id"` // hex, as in the store and in etcd's logs
	Name       string   `json:"name"`
	PeerURLs   []string `json:"peer_urls"`
	ClientURLs []string `json:"client_urls"`
	IsLearner  bool     `json:"is_learner"`
}

type snapDBJSON struct {
	Name          string  `json:"name"`
	File          string  `json:"file"`
	Index         *uint64 `json:"index"` // from a %016x.snap.db name
	Size          int64   `json:"size"`
	Bolt          bool    `json:"bolt"`
	PageSize      uint32  `json:"page_size"`
	Trailer       string  `json:"trailer"` // absent, ok, mismatch, unchecked
	SHA256        string  `json:"sha256,omitempty"`
	TrailerSHA256 string  `json:"trailer_sha256,omitempty"`
}

type leftoverJSON struct {
	Name string `json:"name"`
	File string `json:"file"`
	Kind string `json:"kind"` // broken, tmp, defrag-tmp, unknown
	Size int64  `json:"size"`
	Note string `json:"note"`
}

type newestJSON struct {
	Name  string `json:"name"`
	File  string `json:"file"`
	Term  uint64 `json:"term"`
	Index uint64 `json:"index"`
	// ConstrainedByWAL says the choice was limited to the WAL's committed
	// snapshot records (etcd 3.5, 3.6); WALSnapshots is how many there are.
	ConstrainedByWAL bool     `json:"constrained_by_wal"`
	WALSnapshots     int      `json:"wal_snapshots"`
	WouldRename      []string `json:"would_rename"`
}

// snapDumpDoc lays out what CheckSnap found as snap dump's document.
func snapDumpDoc(sr *inspect.SnapReport) *snapDumpReport {
	d, choice := sr.Files, sr.Choice
	rep := &snapDumpReport{
		Path: sr.Path, Dir: sr.Dir,
		Snaps: []snapJSON{}, SnapDBs: []snapDBJSON{}, Leftovers: []leftoverJSON{},
		Findings: sr.Findings, Summary: sr.Summary,
		choiceNote: sr.Note(), report: &sr.Report,
	}
	outcome := map[*snapfmt.File]snapfmt.Outcome{}
	for _, s := range choice.Steps {
		outcome[s.File] = s.Outcome
	}
	for _, f := range d.Snaps {
		rep.Snaps = append(rep.Snaps, snapView(f, sr.File(f.Name), outcome[f]))
	}
	for _, f := range d.DBs {
		rep.SnapDBs = append(rep.SnapDBs, snapDBView(f, sr.File(f.Name)))
	}
	if d.DB != nil {
		v := snapDBView(d.DB, sr.File(d.DB.Name))
		rep.DB = &v
	}
	for _, lo := range d.Leftovers {
		rep.Leftovers = append(rep.Leftovers, leftoverJSON{Name: lo.Name, File: sr.File(lo.Name), Kind: lo.Kind.String(), Size: lo.Size, Note: lo.Note()})
	}
	if f := choice.Loaded; f != nil {
		id := f.ID()
		rep.Newest = &newestJSON{Name: f.Name, File: sr.File(f.Name), Term: id.Term, Index: id.Index,
			ConstrainedByWAL: choice.Constrained, WouldRename: []string{}}
		for _, r := range choice.Renamed() {
			rep.Newest.WouldRename = append(rep.Newest.WouldRename, sr.File(r.Name))
		}
		if choice.Constrained {
			rep.Newest.WALSnapshots = sr.WAL.Records
		}
	}
	return rep
}

func snapHexIDs(ids []uint64) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = hexID(id)
	}
	return out
}

func snapView(f *snapfmt.File, file string, outcome snapfmt.Outcome) snapJSON {
	id := f.ID()
	v := snapJSON{
		Name: f.Name, File: file, Size: f.Size, Term: id.Term, Index: id.Index,
		CRC: f.Envelope.CRC, ComputedCRC: f.ComputedCRC, CRCOK: f.CRCOK(),
		DataOffset: f.Envelope.DataOffset, DataBytes: len(f.Envelope.Data),
		Loadable: f.Loadable(), Etcd: outcome.String(),
	}
	if f.NameOK {
		v.NameTerm, v.NameIndex = finding.Ptr(f.NameTerm), finding.Ptr(f.NameIndex)
	}
	if s := f.Snapshot; s != nil {
		cs := s.Metadata.ConfState
		v.ConfState = &confStateJSON{Voters: snapHexIDs(cs.Voters), Learners: snapHexIDs(cs.Learners),
			VotersOutgoing: snapHexIDs(cs.VotersOutgoing), LearnersNext: snapHexIDs(cs.LearnersNext), AutoLeave: cs.AutoLeave}
		v.StoreBytes = len(s.Data)
	}
	if st := f.Store; st != nil {
		sv := &storeJSON{Members: []memberJSON{}, Removed: snapHexIDs(st.Removed), ClusterVersion: st.ClusterVersion,
			Nodes: st.Nodes, Keys: st.Keys, V2Content: st.V2Content, CurrentIndex: st.CurrentIndex}
		for _, m := range st.Members {
			sv.Members = append(sv.Members, memberJSON{ID: hexID(m.ID), Name: m.Name,
				PeerURLs: snapOrEmpty(m.PeerURLs), ClientURLs: snapOrEmpty(m.ClientURLs), IsLearner: m.IsLearner})
		}
		v.Store = sv
	}
	return v
}

func snapOrEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func snapDBView(f *snapfmt.DBFile, file string) snapDBJSON {
	v := snapDBJSON{Name: f.Name, File: file, Size: f.Size, Bolt: f.Bolt, PageSize: f.PageSize, Trailer: f.Trailer.String()}
	if f.NameOK {
		v.Index = finding.Ptr(f.Index)
	}
	if f.DataSHA != nil {
		v.SHA256, v.TrailerSHA256 = hex.EncodeToString(f.DataSHA), hex.EncodeToString(f.StoredSHA)
	}
	return v
}

func renderSnapDump(out, errOut io.Writer, format outputFormat, sr *inspect.SnapReport) error {
	rep := snapDumpDoc(sr)
	if format == formatJSON {
		return writeReport(out, rep, rep.report)
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
	fmt.Fprintln(out, rep.choiceNote)
	if len(rep.Findings) > 0 {
		fmt.Fprintln(out)
	}
	return renderFindings(out, errOut, format, rep.report)
}

func snapCRCText(s snapJSON) string {
	if s.CRCOK {
		return "crc ok"
	}
	return fmt.Sprintf("CRC! stored %#08x computed %#08x", s.CRC, s.ComputedCRC)
}

func snapTrailerText(d snapDBJSON) string {
	switch d.Trailer {
	case "ok":
		return "sha256 trailer ok"
	case "mismatch":
		return "SHA256! trailer mismatch"
	case "absent":
		return "no sha256 trailer"
	}
	return ""
}

func snapBoltText(d snapDBJSON) string {
	if d.Bolt {
		return fmt.Sprintf("bbolt (page size %d)", d.PageSize)
	}
	return "NOT BOLT"
}

func snapConfText(c *confStateJSON) string {
	if c == nil {
		return "conf state unknown"
	}
	s := "voters " + snapIDList(c.Voters)
	if len(c.Learners) > 0 {
		s += " learners " + snapIDList(c.Learners)
	}
	if len(c.VotersOutgoing) > 0 || len(c.LearnersNext) > 0 {
		s += fmt.Sprintf(" (joint: outgoing %s, learners next %s, auto leave %v)", snapIDList(c.VotersOutgoing), snapIDList(c.LearnersNext), c.AutoLeave)
	}
	return s
}

func snapIDList(ids []string) string {
	if len(ids) == 0 {
		return "[]"
	}
	return strings.Join(ids, ",")
}

func snapStoreText(s *storeJSON) string {
	if s == nil {
		return "v2 store not decoded"
	}
	v := s.ClusterVersion
	if v == "" {
		v = "unknown"
	}
	var ms []string
	for _, m := range s.Members {
		t := fmt.Sprintf("%s %q peers %s clients %s", m.ID, m.Name, strings.Join(m.PeerURLs, ","), strings.Join(m.ClientURLs, ","))
		if m.IsLearner {
			t += " learner"
		}
		ms = append(ms, t)
	}
	out := fmt.Sprintf("cluster version %s, %d %s (%d %s), %d %s", v, s.Nodes, plural(s.Nodes, "node"), s.Keys, plural(s.Keys, "key"), len(s.Members), plural(len(s.Members), "member"))
	if len(ms) > 0 {
		out += ": " + strings.Join(ms, "; ")
	}
	if len(s.Removed) > 0 {
		out += "; removed " + strings.Join(s.Removed, ",")
	}
	if s.V2Content {
		out += "; holds v2 data (etcd 3.6 refuses to start from it)"
	}
	return out
}

func writeSnapText(out io.Writer, rep *snapDumpReport) {
	for _, s := range rep.Snaps {
		fmt.Fprintf(out, "%s  term %d index %d  %s  %s  %s  etcd: %s\n", s.File, s.Term, s.Index, humanBytes(s.Size), snapCRCText(s), snapConfText(s.ConfState), s.Etcd)
		fmt.Fprintf(out, "    store: %s\n", snapStoreText(s.Store))
	}
	for _, d := range rep.SnapDBs {
		idx := ""
		if d.Index != nil {
			idx = fmt.Sprintf("  index %d", *d.Index)
		}
		fmt.Fprintf(out, "%s%s  %s  %s  %s\n", d.File, idx, humanBytes(d.Size), snapBoltText(d), snapTrailerText(d))
	}
	if d := rep.DB; d != nil {
		fmt.Fprintf(out, "%s  %s  %s  (the live backend)\n", d.File, humanBytes(d.Size), snapBoltText(*d))
	}
	for _, l := range rep.Leftovers {
		fmt.Fprintf(out, "%s  leftover (%s): %s\n", l.File, l.Kind, l.Note)
	}
}

// snapRows is the pure row builder for snap dump's table.
func snapRows(rep *snapDumpReport) (hdr []string, rows [][]string) {
	hdr = []string{"FILE", "KIND", "TERM", "INDEX", "SIZE", "CHECK", "DETAIL"}
	for _, s := range rep.Snaps {
		rows = append(rows, []string{s.File, "snap", strconv.FormatUint(s.Term, 10), strconv.FormatUint(s.Index, 10),
			strconv.FormatInt(s.Size, 10), snapCRCText(s), snapConfText(s.ConfState) + "; " + snapStoreText(s.Store) + "; etcd: " + s.Etcd})
	}
	for _, d := range rep.SnapDBs {
		rows = append(rows, []string{d.File, "snap.db", "", optU(d.Index), strconv.FormatInt(d.Size, 10), snapTrailerText(d), snapBoltText(d)})
	}
	if d := rep.DB; d != nil {
		rows = append(rows, []string{d.File, "db", "", "", strconv.FormatInt(d.Size, 10), "", snapBoltText(*d) + " (the live backend)"})
	}
	for _, l := range rep.Leftovers {
		rows = append(rows, []string{l.File, "leftover:" + l.Kind, "", "", strconv.FormatInt(l.Size, 10), "", l.Note})
	}
	return hdr, rows
}
