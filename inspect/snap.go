package inspect

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/etcdscope/etcdscope/finding"
	"github.com/etcdscope/etcdscope/internal/datadir"
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
type SnapReport struct {
	Path  string // as given
	Files *snapfmt.Dir
	// Dir is the snap dir (or the file's dir) named as findings name files.
	Dir string
	// Choice is etcd's search for the .snap it loads: constrained to the
	// WAL's committed snapshot records when the member's WAL is at hand
	// (as etcd 3.5 and 3.6 do at boot), else the newest that reads.
	Choice snapfmt.Choice
	WAL    SnapWAL
	finding.Report

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
	if opts.IgnoreWAL || l.WALDir == "" || len(d.Snaps) == 0 {
		rep.Choice = snapfmt.Newest(d.Snaps)
		return rep, nil
	}
	ids, problems, err := walSnapshots(l.WALDir)
	if err != nil {
		rep.Choice, rep.WAL.Err = snapfmt.Newest(d.Snaps), err
		return rep, nil
	}
	rep.Choice = snapfmt.NewestAvailable(d.Snaps, ids)
	rep.WAL = SnapWAL{Used: true, Records: len(ids), Problems: problems}
	return rep, nil
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
