package repair

import (
	"os"
	"path/filepath"

	"github.com/etcdscope/etcdscope/inspect"
	"github.com/etcdscope/etcdscope/replay"
	"github.com/etcdscope/etcdscope/snapfmt"
	"github.com/etcdscope/etcdscope/walfmt"
)

// DBStart is where the WAL repair wal writes starts when the db holds
// entries the log it keeps lacks: the db's snapshot at its consistent
// index, a snapshot record and a .snap, as etcdutl snapshot restore lays
// out a member (but keeping the member's ids, term and vote). Nothing the
// db holds is then lost.
type DBStart struct {
	Index uint64 `json:"index"`
	Term  uint64 `json:"term"`
	// Snap is the .snap file of that snapshot; Written is false when it
	// is the member's own, kept.
	Snap    string `json:"snap_file"`
	Written bool   `json:"snap_written"`
}

// dbSnapshot is the snapshot of the db at inDB when the WAL is to restart
// from it: the db is sound (bolt check finds no error), its consistent
// index ci is past the last entry kept, and the WAL gave the member's ids;
// nil otherwise.
func dbSnapshot(inDB string, rw *rewrite, ci uint64, ciErr error) *replay.Snapshot {
	if ciErr != nil || ci <= rw.res.LastIndex || rw.meta == nil || inspect.VerifyDB(inDB) != nil {
		return nil
	}
	s, err := replay.DBSnapshot(inDB)
	if err != nil || s.Index != ci {
		return nil
	}
	return s
}

// restart drops what the rewrite wrote and starts the WAL again from the
// db's snapshot s, as etcd's wal.Create and a follower installing a
// snapshot write one: a first segment holding the CRC, metadata and empty
// snapshot records, then s's snapshot record with its conf state. The
// entries after s and the hard state follow ([rewrite.finish]).
func (rw *rewrite) restart(s *replay.Snapshot) error {
	rw.out.abort()
	dir := rw.out.dir
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	st := walfmt.HardState{Term: rw.last.Term, Vote: rw.last.Vote, Commit: s.Index}
	if s.Term > st.Term {
		st.Term, st.Vote = s.Term, 0
	}
	w := &segWriter{dir: dir, segBytes: rw.out.segBytes, meta: rw.meta, state: st}
	rw.out, rw.state, rw.snapIndex = w, walfmt.HardState{}, s.Index
	// What the rewrite cleared and flipped back is no longer written.
	rw.res.Cleared, rw.res.Garbage, rw.res.Flipped = 0, 0, []Flip{}
	cs := s.ConfState
	for _, r := range []struct {
		t    walfmt.RecordType
		data []byte
	}{
		{walfmt.MetadataType, rw.meta},
		{walfmt.SnapshotType, walfmt.AppendSnapshot(nil, walfmt.Snapshot{})},
		{walfmt.SnapshotType, walfmt.AppendSnapshot(nil, walfmt.Snapshot{Index: s.Index, Term: s.Term, ConfState: &cs})},
	} {
		if w.f == nil {
			if err := w.open(walfmt.SegmentName(0, 0), 0, w.segBytes); err != nil {
				return err
			}
		}
		if err := w.write(r.t, r.data); err != nil {
			w.abort()
			return err
		}
	}
	return nil
}

// snapsFrom puts into out the .snap of the db's snapshot s: the member's
// own (in in) when it has a loadable one of that term and index, else one
// written from s. The other .snap and .snap.db files are left out: the
// WAL no longer names their snapshots.
func snapsFrom(in, out string, s *replay.Snapshot, res *WALResult) (*DBStart, error) {
	start := &DBStart{Index: s.Index, Term: s.Term, Snap: snapfmt.SnapName(s.Term, s.Index)}
	ents, err := os.ReadDir(in)
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	kept := false
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || name == "db" {
			continue
		}
		if name == start.Snap && loadableSnap(filepath.Join(in, name)) {
			if err := copyFile(filepath.Join(out, name), filepath.Join(in, name), -1); err != nil {
				return nil, err
			}
			kept = true
			continue
		}
		res.DroppedSnaps = append(res.DroppedSnaps, name)
	}
	if !kept {
		if _, err := replay.WriteSnap(out, s); err != nil {
			return nil, err
		}
		start.Written = true
	}
	return start, nil
}

// loadableSnap reports whether the .snap at path reads as etcd reads it.
func loadableSnap(path string) bool {
	f, err := snapfmt.OpenFile(path, snapfmt.Options{})
	return err == nil && f.Loadable()
}
