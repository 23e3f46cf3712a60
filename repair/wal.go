package repair

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"maps"
	"os"
	"path/filepath"
	"slices"
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
	// Peers are other members' WALs, by name (their data dirs): entries
	// missing or damaged in the WAL repaired are taken from them where
	// log matching allows it, up to each peer's commit, and the plan says
	// which of them still hold the entries that are lost all the same.
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
	// Flipped are the bits flipped back: records whose damage one flipped
	// bit explained, written as etcd wrote them, so that the log is not
	// cut there.
	Flipped []Flip `json:"flipped"`
	// FromDB, when the db is sound and holds entries the log kept lacks
	// (its consistent_index is past the last entry kept), is where the
	// output's WAL starts: the db's snapshot at its consistent index, so
	// that nothing the db holds is lost; nil when the WAL keeps its own
	// start.
	FromDB *DBStart `json:"from_db,omitempty"`
	// AfterCut are the entries the output holds past the log kept (past
	// the cut, or past FromDB's index), run by run, and where each run
	// came from: the member's own WAL read past its damage ("wal"), or a
	// peer.
	AfterCut []LogRange `json:"after_cut"`
	// LastIndex and LastTerm are the output's last entry; Commit the
	// commit of its last hard state.
	LastIndex uint64 `json:"last_index"`
	LastTerm  uint64 `json:"last_term"`
	Commit    uint64 `json:"commit"`
	// Lost are the entries after the cut that the output does not hold,
	// the last written of each index: read but not joined to the log, or
	// damaged, or (Term 0) applied to a db the repair had to rebuild.
	Lost []Lost `json:"lost"`
	// PeersHave says, for each --peer, how many of the lost entries it
	// holds with the same term.
	PeersHave map[string]int `json:"peers_have,omitempty"`
	// DB says what became of the db: "kept" (it holds nothing past the
	// output's log, or the WAL starts from it: FromDB) or "rebuilt"
	// (replayed to LastIndex, because its consistent_index was past the
	// log and it could not be the WAL's start, or it was missing).
	DB              string `json:"db"`
	ConsistentIndex uint64 `json:"db_consistent_index"` // the input db's, 0 when none
	// DroppedSnaps are the .snap and .snap.db files the output does not
	// need, left out: of indexes past its log or, when its WAL starts
	// from the db, every one but the snapshot's.
	DroppedSnaps []string `json:"dropped_snap_files"`
	// Revision and Keys are the output's; LostKeys the keys whose state
	// differs from the input db's.
	Revision int64     `json:"revision"`
	Keys     int64     `json:"keys"`
	LostKeys []KeyDiff `json:"lost_keys"`
	// Loss is what the output loses, and what etcd serves from it:
	// against the input db, or, when the cut loses entries the db does
	// not hold, against the input db with the input's whole log applied,
	// past the damage (Loss.Reference says which); nil when the input db
	// cannot be read.
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
// loses nothing any evidence still holds. The WAL is cut before its first
// damage that cannot be read past (a torn tail, a CRC mismatch, a bad
// length, a missing segment, ...), with non-zero padding and garbage after
// the end of the log cleared; a record whose damage one flipped bit
// explains is not cut at: the bit is flipped back when the record then
// decodes and fits the log ([Flip]). The kept records are written again as
// etcd writes them, their CRC chain recomputed, at the same offsets.
//
// When the db is sound and holds entries past the log kept, the WAL starts
// instead from the db's snapshot at its consistent index ([DBStart]).
// After the log kept (or the snapshot) come the entries that continue it:
// the WAL's own trusted ones read past its damage and, where those stop,
// the peers' ([WALOptions.Peers]). The db is copied when it holds nothing
// past the output's log or the WAL starts from it, else rebuilt by
// replaying the output's log; the .snap files the output's WAL does not
// name are left out.
func WAL(memberDir string, segs []walfmt.Segment, out string, opts WALOptions) (*WALResult, error) {
	st, err := newStage(out, memberDir)
	if err != nil {
		return nil, err
	}
	defer st.abort()
	w := &walRepair{in: memberDir, out: filepath.Join(st.Path(), "member"), opts: opts,
		res: &WALResult{Out: out, DryRun: opts.DryRun, Flipped: []Flip{}, AfterCut: []LogRange{}, Lost: []Lost{}, DroppedSnaps: []string{}, LostKeys: []KeyDiff{}}}
	if err := w.run(segs); err != nil {
		return nil, err
	}
	w.res.Loss = w.walLoss(segs, st.Path(), st.tmp)
	if opts.DryRun {
		return w.res, nil
	}
	return w.res, st.commit(opts.Verify.or(inspect.VerifyMember))
}

// walRepair is one run of [WAL]: the input member dir, the output's.
type walRepair struct {
	in, out string
	opts    WALOptions
	res     *WALResult
}

func (w *walRepair) run(segs []walfmt.Segment) error {
	res := w.res
	walDir, snapDir := filepath.Join(w.out, "wal"), filepath.Join(w.out, "snap")
	for _, d := range []string{walDir, snapDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	flips, err := findFlips(segs)
	if err != nil {
		return err
	}
	rw, err := rewriteWAL(segs, walDir, flips, res)
	if err != nil {
		return err
	}
	inDB, outDB := filepath.Join(w.in, "snap", "db"), filepath.Join(snapDir, "db")
	ci, ciErr := consistentIndex(inDB)
	if ciErr == nil {
		res.ConsistentIndex = ci
	}
	base := joint{res.LastIndex, res.LastTerm, -1}
	snap := dbSnapshot(inDB, rw, ci, ciErr)
	if snap != nil {
		if err := rw.restart(snap); err != nil {
			return err
		}
		base = joint{snap.Index, snap.Term, -1}
	} else if rw.cur < 0 {
		return errors.New("repair: no record of the WAL can be kept")
	}
	if err := w.extend(rw, base, segs, flips); err != nil {
		return err
	}
	if snap != nil {
		if res.FromDB, err = snapsFrom(filepath.Join(w.in, "snap"), snapDir, snap, res); err != nil {
			return err
		}
	} else if err := copySnaps(filepath.Join(w.in, "snap"), snapDir, res); err != nil {
		return err
	}
	if err := w.db(walDir, inDB, outDB, ciErr, snap != nil); err != nil {
		return err
	}
	after, lost, err := diffKeys(inDB, outDB)
	if err != nil {
		return err
	}
	res.Revision, res.Keys, res.LostKeys = after.rev, int64(len(after.kvs)), lost
	return nil
}

// extend writes after base the entries that continue the log (the WAL's
// own past the cut, then the peers'), and the hard state, and says what
// is lost all the same.
func (w *walRepair) extend(rw *rewrite, base joint, segs []walfmt.Segment, flips map[frameAt]*fixed) error {
	res := w.res
	srcs := []*logSource{{name: fromWAL, segs: segs, flips: flips, log: rw.tail, commit: max(res.Commit, rw.tailCommit)}}
	for _, name := range slices.Sorted(maps.Keys(w.opts.Peers)) {
		p, err := readPeer(name, len(srcs), w.opts.Peers[name], base.index)
		if err != nil {
			return err
		}
		srcs = append(srcs, p)
	}
	refs := assemble(base, srcs)
	rw.out.meta = rw.meta
	if err := rw.finish(base, refs, srcs); err != nil {
		return err
	}
	res.AfterCut = logRanges(refs, srcs)
	// What the output holds, it does not lose: an entry at or below its
	// last, and the record the cut came at when the entry after the last
	// one kept then is now held.
	kept := res.Lost[:0]
	for _, l := range res.Lost {
		if l.Index > res.LastIndex || l.Index == 0 && rw.cutIndex >= res.LastIndex {
			kept = append(kept, l)
		}
	}
	res.Lost = kept
	if len(srcs) > 1 && len(res.Lost) > 0 {
		res.PeersHave = map[string]int{}
		for _, p := range srcs[1:] {
			res.PeersHave[p.name] = p.holds(res.Lost)
		}
	}
	return nil
}

// db copies the input's db when it holds nothing past the output's log or
// the WAL starts from it, else rebuilds it from the output's WAL, adding
// to what is lost the entries it had applied past that log.
func (w *walRepair) db(walDir, inDB, outDB string, ciErr error, fromDB bool) error {
	res := w.res
	if ciErr == nil && !fromDB && res.ConsistentIndex > res.LastIndex {
		res.Lost = appliedLost(res.Lost, res.LastIndex, res.ConsistentIndex)
	}
	switch {
	case fromDB || ciErr == nil && res.ConsistentIndex <= res.LastIndex:
		res.DB = "kept"
		return copyFile(outDB, inDB, -1)
	case ciErr == nil || errors.Is(ciErr, os.ErrNotExist):
		res.DB = "rebuilt"
		return rebuildDB(walDir, outDB, res.LastIndex, w.opts.Replay)
	default:
		return fmt.Errorf("repair: reading the consistent index of %s: %w (repair bolt or repair salvage it first)", inDB, ciErr)
	}
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// cuts reports whether a problem stops the log: every problem but
// non-zero padding (a good record's padding is cleared) and garbage after
// the end (cleared) and warnings.
func cuts(p error) bool {
	if walfmt.SeverityOf(p) != finding.Error {
		return false
	}
	return !errors.Is(p, walfmt.ErrNonzeroPadding) && !errors.Is(p, walfmt.ErrGarbageAfterEnd)
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

// holds counts the lost entries the peer's log holds with the same term.
func (s *logSource) holds(lost []Lost) int {
	n := 0
	for _, l := range lost {
		if r, ok := s.log.at(l.Index); ok && l.Index > 0 && r.term == l.Term {
			n++
		}
	}
	return n
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

// consistentIndex reads a db's meta/consistent_index, page by page; a
// meta bucket without one is a db that never saved it: 0.
func consistentIndex(path string) (uint64, error) {
	db, err := boltfmt.Open(path, boltfmt.Options{})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	f, err := db.Get([]string{mvccview.MetaBucket}, []byte(mvccview.MetaConsistentIndex))
	if errors.Is(err, boltfmt.ErrKeyNotFound) {
		return 0, nil // never saved: etcd reads it as 0
	}
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
