package repair

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/finding"
	"github.com/etcdscope/etcdscope/inspect"
	"github.com/etcdscope/etcdscope/mvccview"
	"github.com/etcdscope/etcdscope/replay"
	"github.com/etcdscope/etcdscope/snapfmt"
	"github.com/etcdscope/etcdscope/walfmt"
)

// WALOptions configure [WAL].
type WALOptions struct {
	// Peers are other members' WALs: the plan says which of them still
	// hold the entries the cut loses.
	Peers map[string][]walfmt.Segment
	// Replay is where a rebuilt db starts (Base) when the WAL no longer
	// starts at index 1; its Out and ToIndex are set by WAL.
	Replay replay.Options
	DryRun bool
	// Verify, when set, replaces the check of the output before it is
	// renamed into place ([inspect.VerifyMember]); for tests.
	Verify Verify
}

// WALResult is the plan, and what was done.
type WALResult struct {
	Out    string `json:"out"`
	DryRun bool   `json:"dry_run"`
	// Cut is where the log was cut: the first damage a WAL cannot be
	// read past; nil when there was none.
	Cut *CutPoint `json:"cut"`
	// Cleared counts the records kept whose padding was not zero, and
	// Garbage the bytes after the end of the log that were not: both
	// written as zeros.
	Cleared int   `json:"cleared_padding"`
	Garbage int64 `json:"cleared_garbage_bytes"`
	// LastIndex and LastTerm are the last entry kept; Commit the commit
	// of the last hard state kept.
	LastIndex uint64 `json:"last_index"`
	LastTerm  uint64 `json:"last_term"`
	Commit    uint64 `json:"commit"`
	// Lost are the entries after the cut, the last written of each index.
	Lost []Lost `json:"lost"`
	// PeersHave says, for each --peer, how many of the lost entries it
	// holds with the same term.
	PeersHave map[string]int `json:"peers_have,omitempty"`
	// DB says what became of the db: "kept" (it holds nothing past the
	// cut) or "rebuilt" (replayed to LastIndex, because its
	// consistent_index was past the cut or it was missing).
	DB              string `json:"db"`
	ConsistentIndex uint64 `json:"db_consistent_index"` // the input db's, 0 when none
	// DroppedSnaps are .snap files of indexes past the cut, left out.
	DroppedSnaps []string `json:"dropped_snap_files"`
	// Revision and Keys are the output's; LostKeys the keys whose state
	// differs from the input db's.
	Revision int64     `json:"revision"`
	Keys     int64     `json:"keys"`
	LostKeys []KeyDiff `json:"lost_keys"`
	// Loss is what the output loses against the input db, and what etcd
	// serves from it; nil when the input db cannot be read.
	Loss *Loss `json:"loss"`
	Checked
}

// CutPoint is where a log is cut, and why.
type CutPoint struct {
	Segment string `json:"segment"`
	Offset  int64  `json:"offset"`
	Code    string `json:"code"`
	Problem string `json:"problem"`
}

// KeyDiff is a key whose state differs between two dbs: nil where it is
// not live.
type KeyDiff struct {
	Key    []byte    `json:"key"`
	Before *KeyState `json:"before"`
	After  *KeyState `json:"after"`
}

// KeyState is a live key's state; its mod revision names the record, and
// so the value.
type KeyState struct {
	CreateRevision int64 `json:"create_revision"`
	ModRevision    int64 `json:"mod_revision"`
	Version        int64 `json:"version"`
}

// WAL writes at out a copy of the member dir at memberDir whose WAL (segs)
// is cut before its first damage that cannot be read past (a torn tail,
// a CRC mismatch, a bad length, a missing segment, ...), with non-zero
// padding and garbage after the end of the log cleared. The kept records
// are written again as etcd writes them, their CRC chain recomputed, at
// the same offsets. The db is copied when it holds nothing past the cut,
// else rebuilt by replaying the kept log; .snap files past the cut are
// left out.
func WAL(memberDir string, segs []walfmt.Segment, out string, opts WALOptions) (*WALResult, error) {
	st, err := newStage(out)
	if err != nil {
		return nil, err
	}
	defer st.abort()
	res := &WALResult{Out: out, DryRun: opts.DryRun, Lost: []Lost{}, DroppedSnaps: []string{}, LostKeys: []KeyDiff{}}
	member := filepath.Join(st.Path(), "member")
	walDir, snapDir := filepath.Join(member, "wal"), filepath.Join(member, "snap")
	for _, d := range []string{walDir, snapDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	if err := rewriteWAL(segs, walDir, res); err != nil {
		return nil, err
	}
	if len(opts.Peers) > 0 && len(res.Lost) > 0 {
		res.PeersHave = map[string]int{}
		for name, p := range opts.Peers {
			if res.PeersHave[name], err = peerHas(p, res.Lost); err != nil {
				return nil, fmt.Errorf("repair: reading the WAL of %s: %w", name, err)
			}
		}
	}
	if err := copySnaps(filepath.Join(memberDir, "snap"), snapDir, res); err != nil {
		return nil, err
	}
	inDB := filepath.Join(memberDir, "snap", "db")
	outDB := filepath.Join(snapDir, "db")
	res.ConsistentIndex, err = consistentIndex(inDB)
	if err == nil {
		res.Lost = appliedLost(res.Lost, res.LastIndex, res.ConsistentIndex)
	}
	switch {
	case err == nil && res.ConsistentIndex <= res.LastIndex:
		res.DB = "kept"
		if err := copyFile(outDB, inDB, -1); err != nil {
			return nil, err
		}
	case err == nil || errors.Is(err, os.ErrNotExist):
		res.DB = "rebuilt"
		if err := rebuildDB(walDir, outDB, res.LastIndex, opts.Replay); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("repair: reading the consistent index of %s: %w (repair bolt or repair salvage it first)", inDB, err)
	}
	after, lost, err := diffKeys(inDB, outDB)
	if err != nil {
		return nil, err
	}
	res.Revision, res.Keys, res.LostKeys = after.rev, int64(len(after.kvs)), lost
	res.Loss = memberLoss(inDB, "the input db", st.Path(), st.tmp, len(res.Lost))
	if opts.DryRun {
		return res, nil
	}
	return res, st.commit(opts.Verify.or(inspect.VerifyMember))
}

// cuts reports whether a problem stops the log: every problem but
// non-zero padding (a good record's padding is cleared) and garbage after
// the end (cleared) and warnings.
func cuts(p error) bool {
	if walfmt.SeverityOf(p) != finding.Error {
		return false
	}
	return !errors.Is(p, walfmt.ErrNonzeroPadding) && !errors.Is(p, walfmt.ErrGarbageAfterEnd)
}

// rewriteWAL writes the records of segs before the cut into dir, one file
// per segment of the same name and size, and fills in res.
func rewriteWAL(segs []walfmt.Segment, dir string, res *WALResult) error {
	r := walfmt.NewReader(segs, walfmt.Options{})
	var (
		w     *walfmt.Writer
		f     *os.File
		cur   = -1
		prev  uint32
		state walfmt.HardState // the last kept
	)
	closeSeg := func() error {
		if f == nil {
			return nil
		}
		prev = w.CRC()
		// The rest of the segment is zeros, as etcd preallocates it.
		err := f.Truncate(segs[cur].Size)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		f = nil
		return err
	}
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	for {
		fr, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if res.Cut != nil {
			if e := fr.Entry; e != nil && e.Index > res.LastIndex {
				for len(res.Lost) > 0 && res.Lost[len(res.Lost)-1].Index >= e.Index {
					res.Lost = res.Lost[:len(res.Lost)-1]
				}
				res.Lost = append(res.Lost, Lost{Index: e.Index, Term: e.Term, Segment: fr.Segment.Name, Offset: fr.Offset, Request: describeEntry(e)})
			}
			continue
		}
		for _, p := range fr.Problems {
			if cuts(p) {
				res.Cut = &CutPoint{Segment: fr.Segment.Name, Offset: fr.Offset, Code: walfmt.Code(p), Problem: p.Error()}
				break
			}
		}
		if res.Cut != nil {
			switch e := fr.Entry; {
			case e != nil && e.Index > res.LastIndex:
				res.Lost = append(res.Lost, Lost{Index: e.Index, Term: e.Term, Segment: fr.Segment.Name, Offset: fr.Offset, Request: describeEntry(e) + " (its record is damaged)"})
			case e == nil && (fr.Kind == walfmt.KindRecord || fr.Kind == walfmt.KindDamage):
				res.Lost = append(res.Lost, Lost{Segment: fr.Segment.Name, Offset: fr.Offset, Request: "a record that does not decode (" + res.Cut.Code + "): which entry it held is not known"})
			}
			continue
		}
		switch fr.Kind {
		case walfmt.KindDamage, walfmt.KindZero:
			if fr.Kind == walfmt.KindDamage {
				res.Garbage += fr.Size
			}
			continue
		case walfmt.KindSegment:
			continue
		}
		if fr.SegmentIndex != cur {
			if err := closeSeg(); err != nil {
				return err
			}
			cur = fr.SegmentIndex
			if f, err = os.OpenFile(filepath.Join(dir, fr.Segment.Name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
				return err
			}
			if w, err = walfmt.NewWriter(f, prev); err != nil {
				return err
			}
		}
		for _, p := range fr.Problems {
			if errors.Is(p, walfmt.ErrNonzeroPadding) {
				res.Cleared++
				break
			}
		}
		switch fr.Record.Type {
		case walfmt.CRCType:
			continue // NewWriter wrote the segment's own
		case walfmt.EntryType:
			if e := fr.Entry; e != nil {
				res.LastIndex, res.LastTerm = e.Index, e.Term
			}
		case walfmt.StateType:
			if s := fr.State; s != nil {
				state = *s
				res.Commit = max(res.Commit, s.Commit)
			}
		}
		if err := w.Write(fr.Record.Type, fr.Record.Data); err != nil {
			return err
		}
	}
	if cur < 0 {
		return errors.New("repair: no record of the WAL can be kept")
	}
	if res.Commit > res.LastIndex {
		// raft refuses a commit past the log: the same term and vote,
		// committed to what is kept.
		state.Commit = res.LastIndex
		if err := w.Write(walfmt.StateType, walfmt.AppendHardState(nil, state)); err != nil {
			return err
		}
		res.Commit = res.LastIndex
	}
	return closeSeg()
}

// maxAppliedLost bounds how many entries appliedLost names one by one.
const maxAppliedLost = 100_000

// appliedLost adds to lost the entries a db applied past the last one
// kept (up to its consistent index) whose records were not read after the
// cut, so that the plan names every entry whose effects are gone.
func appliedLost(lost []Lost, last, ci uint64) []Lost {
	have := map[uint64]bool{}
	for _, l := range lost {
		have[l.Index] = true
	}
	for i := last + 1; i <= ci && i <= last+maxAppliedLost; i++ {
		if !have[i] {
			lost = append(lost, Lost{Index: i, Request: "applied to the db (its consistent_index is " + strconv.FormatUint(ci, 10) + "); its record is not readable past the cut"})
		}
	}
	sort.SliceStable(lost, func(i, j int) bool { return lost[i].Index < lost[j].Index })
	return lost
}

// peerHas counts the lost entries a peer's log holds with the same term.
func peerHas(segs []walfmt.Segment, lost []Lost) (int, error) {
	want := make(map[uint64]uint64, len(lost))
	for _, l := range lost {
		want[l.Index] = l.Term
	}
	have := map[uint64]bool{}
	r := walfmt.NewReader(segs, walfmt.Options{})
	for {
		f, err := r.Next()
		if errors.Is(err, io.EOF) {
			return len(have), nil
		}
		if err != nil {
			return 0, err
		}
		if e := f.Entry; e != nil && f.Trusted() {
			if t, ok := want[e.Index]; ok {
				have[e.Index] = t == e.Term
				if !have[e.Index] {
					delete(have, e.Index)
				}
			}
		}
	}
}

// copySnaps copies the .snap files up to the last index kept, and the
// .snap.db files, leaving out those past it.
func copySnaps(in, out string, res *WALResult) error {
	ents, err := os.ReadDir(in)
	if err != nil {
		return err
	}
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || name == "db" {
			continue
		}
		if idx, ok := snapIndex(name); ok && idx > res.LastIndex {
			res.DroppedSnaps = append(res.DroppedSnaps, name)
			continue
		}
		if err := copyFile(filepath.Join(out, name), filepath.Join(in, name), -1); err != nil {
			return err
		}
	}
	return nil
}

// snapIndex is the raft index a .snap or .snap.db file's name gives.
func snapIndex(name string) (uint64, bool) {
	if _, idx, ok := snapfmt.ParseSnapName(name); ok {
		return idx, true
	}
	return snapfmt.ParseDBName(name)
}

// consistentIndex reads a db's meta/consistent_index, page by page.
func consistentIndex(path string) (uint64, error) {
	db, err := boltfmt.Open(path, boltfmt.Options{})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	f, err := db.Get([]string{mvccview.MetaBucket}, []byte(mvccview.MetaConsistentIndex))
	if err != nil {
		return 0, err
	}
	if v := f.Element.Value; len(v) == 8 {
		return binary.BigEndian.Uint64(v), nil
	}
	return 0, fmt.Errorf("meta/consistent_index is %d bytes, want 8", len(f.Element.Value))
}

// rebuildDB replays the kept WAL (in walDir) to index into a db at out.
func rebuildDB(walDir, out string, index uint64, opts replay.Options) error {
	files, err := walfmt.OpenPath(walDir)
	if err != nil {
		return err
	}
	defer files.Close()
	opts.Out, opts.ToIndex = out, index
	_, err = replay.Run(files.Segments, opts)
	return err
}

// diffKeys compares the keys live in two dbs at their latest revisions and
// returns the second's live keys and the keys whose state differs. A first
// db that cannot be read (missing, damaged) gives no difference.
func diffKeys(before, after string) (*live, []KeyDiff, error) {
	a, err := liveState(after)
	if err != nil {
		return nil, nil, err
	}
	b, err := liveState(before)
	if err != nil {
		return a, []KeyDiff{}, nil
	}
	out := []KeyDiff{}
	i, j := 0, 0
	for i < len(b.kvs) || j < len(a.kvs) {
		switch {
		case j >= len(a.kvs) || i < len(b.kvs) && bytes.Compare(b.kvs[i].key, a.kvs[j].key) < 0:
			out = append(out, KeyDiff{Key: b.kvs[i].key, Before: &b.kvs[i].state})
			i++
		case i >= len(b.kvs) || bytes.Compare(a.kvs[j].key, b.kvs[i].key) < 0:
			out = append(out, KeyDiff{Key: a.kvs[j].key, After: &a.kvs[j].state})
			j++
		default:
			if b.kvs[i].state != a.kvs[j].state {
				out = append(out, KeyDiff{Key: a.kvs[j].key, Before: &b.kvs[i].state, After: &a.kvs[j].state})
			}
			i++
			j++
		}
	}
	return a, out, nil
}

type liveKV struct {
	key   []byte
	state KeyState
}

type live struct {
	rev int64
	kvs []liveKV
}

// liveState reads the keys live in a db at its latest revision, in key
// order, without their values (a few dozen bytes a key in memory).
func liveState(path string) (*live, error) {
	db, err := boltfmt.Open(path, boltfmt.Options{})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	s, err := mvccview.Open(&mvccview.BoltSource{DB: db})
	if err != nil {
		return nil, err
	}
	res, err := s.Range([]byte{0}, []byte{}, mvccview.RangeOptions{Rev: s.CurrentRev, KeysOnly: true})
	if err != nil {
		return nil, err
	}
	l := &live{rev: s.CurrentRev}
	for _, kv := range res.KVs {
		l.kvs = append(l.kvs, liveKV{key: kv.Key, state: KeyState{kv.CreateRevision, kv.ModRevision, kv.Version}})
	}
	return l, nil
}
