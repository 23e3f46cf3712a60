package inspect

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/etcdscope/etcdscope/finding"
	"github.com/etcdscope/etcdscope/internal/datadir"
	"github.com/etcdscope/etcdscope/internal/pbwire"
	"github.com/etcdscope/etcdscope/snapfmt"
)

// SnapOptions configure [CheckSnap].
type SnapOptions struct {
	// IgnoreWAL chooses the .snap as the unconstrained search does
	// (etcd's Snapshotter.Load), without the member's WAL.
	IgnoreWAL bool
}

// SnapReport is what [CheckSnap] finds: the files of a snap dir (or one
// snapshot file), the .snap etcd would load at boot, and the findings.
// Its JSON is CONTRACT.md's findings document plus the files, each named
// as the findings name files.
type SnapReport struct {
	Path string `json:"path"` // as given
	// Dir is the snap dir (or the file's dir) named as findings name files.
	Dir       string         `json:"dir"`
	Snaps     []SnapFile     `json:"snaps"`
	SnapDBs   []SnapDB       `json:"snap_dbs"`
	DB        *SnapDB        `json:"db"` // the live db, nil when absent
	Leftovers []SnapLeftover `json:"leftovers"`
	Newest    *SnapNewest    `json:"newest"` // nil when etcd would find no usable .snap
	finding.Report

	Files *snapfmt.Dir `json:"-"`
	// Choice is etcd's search for the .snap it loads: constrained to the
	// WAL's committed snapshot records when the member's WAL is at hand
	// (as etcd 3.5 and 3.6 do at boot), else the newest that reads.
	Choice snapfmt.Choice `json:"-"`
	WAL    SnapWAL        `json:"-"`

	rel func(string) string
}

// SnapWAL is what the member's WAL said about snapshots, for the choice.
type SnapWAL struct {
	Used     bool  // the choice was constrained by the WAL's records
	Records  int   // the WAL's committed snapshot records
	Problems int   // the WAL's problems, which may stop etcd first
	Err      error // the WAL could not be read; the choice is unconstrained
}

// File names a file of the snap dir as findings do: relative to the path
// given.
func (r *SnapReport) File(name string) string {
	return relOrSlash(r.rel)(filepath.Join(r.Files.Path, name))
}

// CheckSnap reads every file of the snap dir at path (a data dir, a
// member dir, a snap dir, or a single .snap or .snap.db file) and says
// which .snap etcd would load. Given a member, the choice follows etcd
// 3.5/3.6 (LoadNewestAvailable) unless opts.IgnoreWAL. Nothing is renamed:
// the files etcd would rename to .broken are in the Choice.
func CheckSnap(path string, opts SnapOptions) (*SnapReport, error) {
	l, d, err := openSnap(path)
	if err != nil {
		return nil, err
	}
	rep := &SnapReport{Path: path, Files: d, Dir: l.Rel(d.Path), Report: *Snap(d, l.Rel), rel: l.Rel}
	rep.Choice = snapfmt.Newest(d.Snaps)
	if !opts.IgnoreWAL && l.WALDir != "" && len(d.Snaps) > 0 {
		ids, problems, err := walSnapshots(l.WALDir)
		if err != nil {
			rep.WAL.Err = err
		} else {
			rep.Choice = snapfmt.NewestAvailable(d.Snaps, ids)
			rep.WAL = SnapWAL{Used: true, Records: len(ids), Problems: problems}
		}
	}
	rep.list()
	return rep, nil
}

// list names the files of the report as the findings do, and says what
// etcd's loader does with each .snap and which one it loads.
func (r *SnapReport) list() {
	d, c := r.Files, r.Choice
	r.Snaps, r.SnapDBs, r.Leftovers = []SnapFile{}, []SnapDB{}, []SnapLeftover{}
	outcome := map[*snapfmt.File]snapfmt.Outcome{}
	for _, s := range c.Steps {
		outcome[s.File] = s.Outcome
	}
	for _, f := range d.Snaps {
		r.Snaps = append(r.Snaps, SnapFile{f, r.File(f.Name), outcome[f]})
	}
	for _, f := range d.DBs {
		r.SnapDBs = append(r.SnapDBs, SnapDB{f, r.File(f.Name)})
	}
	if d.DB != nil {
		r.DB = &SnapDB{d.DB, r.File(d.DB.Name)}
	}
	for _, l := range d.Leftovers {
		r.Leftovers = append(r.Leftovers, SnapLeftover{l, r.File(l.Name)})
	}
	if f := c.Loaded; f != nil {
		id := f.ID()
		r.Newest = &SnapNewest{Name: f.Name, Path: r.File(f.Name), Term: id.Term, Index: id.Index, ConstrainedByWAL: c.Constrained, WouldRename: []string{}}
		for _, b := range c.Renamed() {
			r.Newest.WouldRename = append(r.Newest.WouldRename, r.File(b.Name))
		}
		if c.Constrained {
			r.Newest.WALSnapshots = r.WAL.Records
		}
	}
}

// SnapFile is a .snap file of a [SnapReport]: decoded, named as the
// findings name it, and what etcd's loader does with it.
type SnapFile struct {
	*snapfmt.File
	Path    string
	Outcome snapfmt.Outcome
}

// MarshalJSON writes the file's name, path and size, its term and index
// (from the metadata, else the name) and those of its name, its conf
// state by hex id, the CRC check, the data's place and size, whether
// etcd's snap.Read takes it and what the loader does with it ("etcd"),
// and the v2 store's summary.
func (s SnapFile) MarshalJSON() ([]byte, error) {
	type confState struct {
		Voters         []pbwire.HexID `json:"voters"`
		Learners       []pbwire.HexID `json:"learners"`
		VotersOutgoing []pbwire.HexID `json:"voters_outgoing"`
		LearnersNext   []pbwire.HexID `json:"learners_next"`
		AutoLeave      bool           `json:"auto_leave"`
	}
	f, id := s.File, s.ID()
	v := struct {
		Name        string          `json:"name"`
		Path        string          `json:"file"`
		Size        int64           `json:"size"`
		Term        uint64          `json:"term"`
		Index       uint64          `json:"index"`
		NameTerm    *uint64         `json:"name_term"`
		NameIndex   *uint64         `json:"name_index"`
		ConfState   *confState      `json:"conf_state"`
		CRC         uint32          `json:"crc"`
		ComputedCRC uint32          `json:"computed_crc"`
		CRCOK       bool            `json:"crc_ok"`
		DataOffset  int64           `json:"data_offset"`
		DataBytes   int             `json:"data_bytes"`
		StoreBytes  int             `json:"store_bytes"`
		Loadable    bool            `json:"loadable"`
		Outcome     snapfmt.Outcome `json:"etcd"`
		Store       *snapfmt.Store  `json:"store"`
	}{Name: f.Name, Path: s.Path, Size: f.Size, Term: id.Term, Index: id.Index,
		CRC: f.Envelope.CRC, ComputedCRC: f.ComputedCRC, CRCOK: f.CRCOK(), DataOffset: f.Envelope.DataOffset, DataBytes: len(f.Envelope.Data),
		Loadable: f.Loadable(), Outcome: s.Outcome, Store: f.Store}
	if f.NameOK {
		v.NameTerm, v.NameIndex = &f.NameTerm, &f.NameIndex
	}
	if sn := f.Snapshot; sn != nil {
		c := sn.Metadata.ConfState
		v.ConfState = &confState{pbwire.HexIDs(c.Voters), pbwire.HexIDs(c.Learners), pbwire.HexIDs(c.VotersOutgoing), pbwire.HexIDs(c.LearnersNext), c.AutoLeave}
		v.StoreBytes = len(sn.Data)
	}
	return json.Marshal(v)
}

// SnapDB is a database snapshot or the live db of a [SnapReport], named
// as the findings name it.
type SnapDB struct {
	*snapfmt.DBFile
	Path string
}

// MarshalJSON writes the file's name and path, the raft index its name
// carries (null for another name), its size, whether it starts like a
// bbolt file and its page size, and the trailer check with both digests
// when it was made.
func (s SnapDB) MarshalJSON() ([]byte, error) {
	d := s.DBFile
	v := struct {
		Name          string          `json:"name"`
		Path          string          `json:"file"`
		Index         *uint64         `json:"index"`
		Size          int64           `json:"size"`
		Bolt          bool            `json:"bolt"`
		PageSize      uint32          `json:"page_size"`
		Trailer       snapfmt.Trailer `json:"trailer"`
		SHA256        string          `json:"sha256,omitempty"`
		TrailerSHA256 string          `json:"trailer_sha256,omitempty"`
	}{Name: d.Name, Path: s.Path, Size: d.Size, Bolt: d.Bolt, PageSize: d.PageSize, Trailer: d.Trailer}
	if d.NameOK {
		v.Index = &d.Index
	}
	if d.DataSHA != nil {
		v.SHA256, v.TrailerSHA256 = hex.EncodeToString(d.DataSHA), hex.EncodeToString(d.StoredSHA)
	}
	return json.Marshal(v)
}

// SnapLeftover is a leftover file of a [SnapReport], named as the
// findings name it.
type SnapLeftover struct {
	*snapfmt.Leftover
	Path string
}

// MarshalJSON writes the file's name, path, kind and size, and what it is
// and what etcd does with it (note).
func (s SnapLeftover) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Name string               `json:"name"`
		Path string               `json:"file"`
		Kind snapfmt.LeftoverKind `json:"kind"`
		Size int64                `json:"size"`
		Note string               `json:"note"`
	}{s.Name, s.Path, s.Kind, s.Size, s.Note()})
}

// SnapNewest is the .snap etcd would load.
type SnapNewest struct {
	Name  string `json:"name"`
	Path  string `json:"file"`
	Term  uint64 `json:"term"`
	Index uint64 `json:"index"`
	// ConstrainedByWAL says the choice was limited to the WAL's committed
	// snapshot records (etcd 3.5, 3.6); WALSnapshots is how many there are.
	ConstrainedByWAL bool `json:"constrained_by_wal"`
	WALSnapshots     int  `json:"wal_snapshots"`
	// WouldRename are the files etcd renames to .broken on the way.
	WouldRename []string `json:"would_rename"`
}

// openSnap resolves path and reads the snap files it names.
func openSnap(path string) (datadir.Layout, *snapfmt.Dir, error) {
	l, err := datadir.Resolve(path)
	if err != nil {
		return l, nil, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return l, nil, &datadir.Error{Path: path, Err: err}
	}
	var d *snapfmt.Dir
	switch {
	case l.WALFile != "":
		return l, nil, &datadir.Error{Path: path, Err: errors.New("a WAL segment, not a snapshot file"), Hint: "use etcdscope wal dump"}
	case !st.IsDir():
		d, err = snapfmt.Open(path, snapfmt.Options{})
	case l.SnapDir != "":
		d, err = snapfmt.ReadDir(l.SnapDir, snapfmt.Options{})
	case l.MemberDir == "" && filepath.Base(filepath.Clean(path)) == "snap":
		l.SnapDir = path // a snap dir holding only leftovers
		d, err = snapfmt.ReadDir(path, snapfmt.Options{})
	case l.MemberDir != "":
		return l, nil, &datadir.Error{Path: path, Err: errors.New("the member has no snap directory"), Hint: "etcd keeps .snap files and the db in member/snap"}
	default:
		return l, nil, &datadir.Error{Path: path, Err: errors.New("no snap directory or snapshot file found"), Hint: "give an etcd data dir, a member dir, its snap directory, a .snap or a .snap.db file"}
	}
	return l, d, err
}

// walSnapshots reads the WAL at walDir for its committed snapshot
// records; it also returns how many problems the WAL has.
func walSnapshots(walDir string) ([]snapfmt.SnapshotID, int, error) {
	_, sum, err := summarize(walDir, nil)
	if err != nil {
		return nil, 0, err
	}
	return committedSnapshots(sum), len(sum.Problems), nil
}

// Note says in one sentence which .snap etcd would load, why, and what it
// would rename on the way.
func (r *SnapReport) Note() string {
	if len(r.Files.Snaps) == 0 {
		return "no .snap files: etcd starts from the db and replays the WAL from its first entry"
	}
	var b strings.Builder
	c, w := r.Choice, r.WAL
	if f := c.Loaded; f != nil {
		id := f.ID()
		fmt.Fprintf(&b, "etcd would load %s (term %d, index %d)", r.File(f.Name), id.Term, id.Index)
	} else {
		b.WriteString("etcd would find no usable .snap (snap: no available snapshot)")
	}
	switch {
	case w.Used:
		fmt.Fprintf(&b, ", the newest that reads cleanly and matches one of the WAL's %d committed snapshot records (etcd 3.5, 3.6)", w.Records)
		if w.Problems > 0 {
			fmt.Fprintf(&b, "; the WAL has %d problems, which may stop etcd first (see wal verify)", w.Problems)
		}
	case w.Err != nil:
		fmt.Fprintf(&b, ", the newest that reads cleanly; the WAL could not be read to check it against its snapshot records (%v)", w.Err)
	default:
		b.WriteString(", the newest that reads cleanly (not checked against WAL snapshot records)")
	}
	if renamed := c.Renamed(); len(renamed) > 0 {
		names := make([]string, len(renamed))
		for i, f := range renamed {
			names[i] = r.File(f.Name)
		}
		fmt.Fprintf(&b, "; on the way it would rename %s to .broken", strings.Join(names, ", "))
	}
	b.WriteString("; etcd 3.7 reads no .snap at boot, it rebuilds the snapshot from the newest WAL snapshot record")
	return b.String()
}

// Snap turns the problems of the snap files in d into findings, each
// placed at its file (named by rel), byte offset and raft index.
func Snap(d *snapfmt.Dir, rel func(path string) string) *finding.Report {
	rel = relOrSlash(rel)
	r := &finding.Report{Findings: []finding.Finding{}}
	for _, p := range d.Problems() {
		f := problemFinding(snapfmt.SeverityOf(p), snapfmt.Code(p), p)
		var ce *snapfmt.CorruptionError
		if errors.As(p, &ce) {
			f.File = rel(filepath.Join(d.Path, ce.File))
			if ce.Offset >= 0 {
				f.Offset = finding.Ptr(ce.Offset)
			}
			if ce.Index != 0 {
				f.Index = finding.Ptr(ce.Index)
			}
			f.Message = ce.Message()
		}
		r.Add(f)
	}
	return r
}
