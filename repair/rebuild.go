package repair

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	bolt "go.etcd.io/bbolt"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/inspect"
	"github.com/etcdscope/etcdscope/mvccview"
	"github.com/etcdscope/etcdscope/replay"
	"github.com/etcdscope/etcdscope/walfmt"
)

// RebuildOptions configure [Rebuild].
type RebuildOptions struct {
	// Replay says where the state starts (Base) and where it stops
	// (ToIndex); its Out is set by Rebuild.
	Replay replay.Options
	// BumpRevision raises the latest revision by this much and
	// MarkCompacted schedules a compaction at it, as etcdutl snapshot
	// restore's --bump-revision and --mark-compacted do: clients watching
	// from an old revision are told it was compacted instead of missing
	// the events between. Both or neither.
	BumpRevision  uint64
	MarkCompacted bool
	// Reference, when set, is the db the plan's loss is measured against
	// (RebuildPath sets the member's own, when it has one).
	Reference string
	// wholeLog: the loss is measured against the WAL, which holds the log
	// from index 1 (RebuildPath, when the db is missing or damaged).
	wholeLog bool
	// DryRun builds the member to say what it would hold, then removes it.
	DryRun bool
	// Verify, when set, replaces the check of the output before it is
	// renamed into place ([inspect.VerifyMember]); for tests.
	Verify Verify
}

// RebuildResult is the plan, and what was done.
type RebuildResult struct {
	Out    string         `json:"out"`
	DryRun bool           `json:"dry_run"`
	Replay *replay.Result `json:"replay"`
	// Revision, CompactRevision and Keys are the new member's: its latest
	// revision and its compaction (after a bump), and the keys live.
	Revision        int64 `json:"revision"`
	CompactRevision int64 `json:"compact_revision"`
	Keys            int64 `json:"keys"`
	// Dropped are the WAL's entries after the last one applied: not
	// committed, or after --to-index.
	Dropped []Lost `json:"dropped"`
	// Loss is what the new member loses against the reference, and what
	// etcd serves from it; nil without a reference that can be read.
	Loss *Loss `json:"loss"`
	Checked
}

// Lost is an entry of the log a repair leaves out.
type Lost struct {
	Index   uint64 `json:"index"`
	Term    uint64 `json:"term"`
	Segment string `json:"segment"`
	Offset  int64  `json:"offset"`
	Request string `json:"request"` // decoded, values elided
}

// Rebuild writes at out a new member data dir whose state is replayed from
// segs through the replay engine (see replay.RunDataDir): the way back
// from a lost or damaged db. Real etcd starts on it as a single-member
// cluster keeping the source's member and cluster ids.
func Rebuild(segs []walfmt.Segment, out string, opts RebuildOptions) (*RebuildResult, error) {
	if opts.MarkCompacted != (opts.BumpRevision > 0) {
		return nil, errors.New("repair: --bump-revision and --mark-compacted go together, as in etcdutl snapshot restore")
	}
	st, err := newStage(out, segmentDirs(segs)...)
	if err != nil {
		return nil, err
	}
	defer st.abort()
	res, err := replay.RunDataDir(segs, st.Path(), opts.Replay)
	if err != nil {
		return nil, err
	}
	db := filepath.Join(st.Path(), "member", "snap", "db")
	if opts.BumpRevision > 0 {
		if err := bumpRevision(db, int64(opts.BumpRevision)); err != nil {
			return nil, err
		}
	}
	r := &RebuildResult{Out: out, DryRun: opts.DryRun, Replay: res, Dropped: []Lost{}}
	if r.Revision, r.CompactRevision, r.Keys, err = liveKeys(db); err != nil {
		return nil, err
	}
	if r.Dropped, err = entriesAfter(segs, res.AppliedIndex); err != nil {
		return nil, err
	}
	switch {
	case opts.Reference != "":
		r.Loss = memberLoss(opts.Reference, "the member's db", st.Path(), st.tmp, len(r.Dropped))
	case opts.wholeLog:
		r.Loss = newLoss()
		r.Loss.Reference, r.Loss.Entries = "the WAL, which holds every entry from index 1 (the db is missing or damaged)", len(r.Dropped)
	}
	if opts.DryRun {
		return r, nil
	}
	return r, st.commit(opts.Verify.or(inspect.VerifyMember))
}

// bumpRevision raises the latest revision of the key bucket by n with an
// empty record at the new revision, and schedules a compaction there
// (etcdutl/snapshot/v3_snapshot.go modifyLatestRevision).
func bumpRevision(path string, n int64) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		kb, meta := tx.Bucket([]byte(mvccview.KeyBucket)), tx.Bucket([]byte(mvccview.MetaBucket))
		if kb == nil || meta == nil {
			return errors.New("repair: the rebuilt db has no key or meta bucket")
		}
		latest := mvccview.Revision{}
		if k, _ := kb.Cursor().Last(); k != nil {
			if rev, _, err := mvccview.DecodeRevisionKey(k); err == nil {
				latest = rev
			}
		}
		latest = mvccview.Revision{Main: latest.Main + n}
		if err := kb.Put(mvccview.AppendRevisionKey(nil, latest, false), []byte{}); err != nil {
			return err
		}
		return meta.Put([]byte(mvccview.MetaScheduledCompactRev), mvccview.AppendRevisionKey(nil, latest, false))
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return err
}

// liveKeys opens a db as etcd would and counts the keys live at its
// latest revision.
func liveKeys(path string) (rev, compact, keys int64, err error) {
	db, err := boltfmt.Open(path, boltfmt.Options{})
	if err != nil {
		return 0, 0, 0, err
	}
	defer db.Close()
	s, err := mvccview.Open(&mvccview.BoltSource{DB: db})
	if err != nil {
		return 0, 0, 0, err
	}
	// As etcdctl get "" --prefix counts them: from "\x00" on (the empty
	// record a revision bump leaves is not a key anyone can get).
	res, err := s.Range([]byte{0}, []byte{}, mvccview.RangeOptions{Rev: s.CurrentRev, CountOnly: true})
	if err != nil {
		return 0, 0, 0, err
	}
	return s.CurrentRev, s.CompactRev, res.Count, nil
}

// entriesAfter lists the entries of the log with an index above index, the
// last written of each index (a later write supersedes an earlier one).
func entriesAfter(segs []walfmt.Segment, index uint64) ([]Lost, error) {
	out := []Lost{}
	r := walfmt.NewReader(segs, walfmt.Options{})
	for {
		f, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		e := f.Entry
		if e == nil || e.Index <= index || !f.Trusted() {
			continue
		}
		for len(out) > 0 && out[len(out)-1].Index >= e.Index {
			out = out[:len(out)-1] // superseded
		}
		out = append(out, Lost{Index: e.Index, Term: e.Term, Segment: f.Segment.Name, Offset: f.Offset, Request: describeEntry(e)})
	}
}

// describeEntry says what an entry asked for, values elided.
func describeEntry(e *walfmt.Entry) string {
	switch {
	case e.Type != walfmt.EntryNormal:
		return e.Type.String()
	case len(e.Data) == 0:
		return "empty (a new leader's no-op)"
	}
	req, err := walfmt.DecodeRequest(e.Data)
	if err != nil {
		return fmt.Sprintf("undecodable request: %v", err)
	}
	return walfmt.DescribeRequest(req, walfmt.DescribeOptions{})
}
