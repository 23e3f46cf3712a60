package repair

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
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
	// Flipped are the bits flipped back: records whose damage one flipped
	// bit explained, written as etcd wrote them, so that the log is not
	// cut there.
	Flipped []Flip `json:"flipped"`
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
// padding and garbage after the end of the log cleared. A record whose
// damage one flipped bit explains is not cut at: the bit is flipped back
// when the record then decodes and fits the log ([Flip]). The kept
// records are written again as etcd writes them, their CRC chain
// recomputed, at the same offsets. The db is copied when it holds nothing past the cut,
// else rebuilt by replaying the kept log; .snap files past the cut are
// left out.
func WAL(memberDir string, segs []walfmt.Segment, out string, opts WALOptions) (*WALResult, error) {
	st, err := newStage(out)
	if err != nil {
		return nil, err
	}
	defer st.abort()
	res := &WALResult{Out: out, DryRun: opts.DryRun, Flipped: []Flip{}, Lost: []Lost{}, DroppedSnaps: []string{}, LostKeys: []KeyDiff{}}
	member := filepath.Join(st.Path(), "member")
	walDir, snapDir := filepath.Join(member, "wal"), filepath.Join(member, "snap")
	for _, d := range []string{walDir, snapDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	flips, err := findFlips(segs)
	if err != nil {
		return nil, err
	}
	rw, err := rewriteWAL(segs, walDir, flips, res)
	if err != nil {
		return nil, err
	}
	if err := rw.finish(); err != nil {
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

// rewrite is the second pass over a WAL (after [findFlips]): it writes
// the records before the cut into dir, one file per segment of the same
// name and size, each record as etcd wrote it (a flipped bit flipped
// back), and notes what comes after the cut.
type rewrite struct {
	segs  []walfmt.Segment
	flips map[frameAt]*fixed
	res   *WALResult
	out   *segWriter
	cur   int              // the segment being written, -1 before the first
	state walfmt.HardState // the last kept
}

// rewriteWAL runs a rewrite of segs into dir and fills in res; the
// segment the log ends in is left open, in rw.out, for what the repair
// writes after it.
func rewriteWAL(segs []walfmt.Segment, dir string, flips map[frameAt]*fixed, res *WALResult) (*rewrite, error) {
	rw := &rewrite{segs: segs, flips: flips, res: res, cur: -1, out: &segWriter{dir: dir, segBytes: segmentBytes(segs)}}
	r := walfmt.NewReader(segs, walfmt.Options{})
	for {
		fr, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			rw.out.abort()
			return nil, err
		}
		if res.Cut != nil {
			rw.afterCut(fr)
			continue
		}
		if err := rw.keep(fr); err != nil {
			rw.out.abort()
			return nil, err
		}
	}
	if rw.cur < 0 {
		return nil, errors.New("repair: no record of the WAL can be kept")
	}
	return rw, nil
}

// fix is the flip found for fr when it continues the output's CRC chain.
func (rw *rewrite) fix(fr *walfmt.Frame) *fixed {
	fx := rw.flips[at(fr)]
	if fx == nil {
		return nil
	}
	chain := rw.out.chain()
	if fx.rec.Type == walfmt.CRCType && fx.rec.CRC == chain || fx.rec.Type != walfmt.CRCType && crc32.Update(chain, castagnoli, fx.rec.Data) == fx.rec.CRC {
		return fx
	}
	return nil
}

// keep writes a frame before the cut, or makes it the cut.
func (rw *rewrite) keep(fr *walfmt.Frame) error {
	res := rw.res
	fx := rw.fix(fr)
	for _, p := range fr.Problems {
		if cuts(p) && (fx == nil || !errors.Is(p, walfmt.ErrCRCMismatch) && !errors.Is(p, walfmt.ErrBadRecord)) {
			res.Cut = &CutPoint{Segment: fr.Segment.Name, Offset: fr.Offset, Code: walfmt.Code(p), Problem: p.Error()}
			rw.cutAt(fr)
			return nil
		}
	}
	switch {
	case fr.Kind == walfmt.KindDamage && fx == nil:
		res.Garbage += fr.Size
		return nil
	case fr.Kind == walfmt.KindZero, fr.Kind == walfmt.KindSegment:
		return nil
	}
	if fr.SegmentIndex != rw.cur {
		seg := &rw.segs[fr.SegmentIndex]
		if err := rw.out.open(seg.Name, seg.Seq, seg.Size); err != nil {
			return err
		}
		rw.cur = fr.SegmentIndex
	}
	for _, p := range fr.Problems {
		if errors.Is(p, walfmt.ErrNonzeroPadding) {
			res.Cleared++
			break
		}
	}
	typ, data, entry, state := fr.Record.Type, fr.Record.Data, fr.Entry, fr.State
	if fx != nil {
		typ, data, entry, state = fx.rec.Type, fx.rec.Data, fx.entry, fx.state
		res.Flipped = append(res.Flipped, fx.Flip)
	}
	switch typ {
	case walfmt.CRCType:
		return nil // open wrote the segment's own
	case walfmt.EntryType:
		if entry != nil {
			res.LastIndex, res.LastTerm = entry.Index, entry.Term
		}
	case walfmt.StateType:
		if state != nil {
			rw.state = *state
			res.Commit = max(res.Commit, state.Commit)
		}
	}
	return rw.out.write(typ, data)
}

// cutAt notes what the cut loses of the record it cuts at.
func (rw *rewrite) cutAt(fr *walfmt.Frame) {
	res := rw.res
	switch e := fr.Entry; {
	case e != nil && e.Index > res.LastIndex:
		res.Lost = append(res.Lost, Lost{Index: e.Index, Term: e.Term, Segment: fr.Segment.Name, Offset: fr.Offset, Request: describeEntry(e) + " (its record is damaged)"})
	case e == nil && (fr.Kind == walfmt.KindRecord || fr.Kind == walfmt.KindDamage):
		res.Lost = append(res.Lost, Lost{Segment: fr.Segment.Name, Offset: fr.Offset, Request: "a record that does not decode (" + res.Cut.Code + "): which entry it held is not known"})
	}
}

// afterCut notes an entry after the cut as lost, the last written of each
// index.
func (rw *rewrite) afterCut(fr *walfmt.Frame) {
	res := rw.res
	e := fr.Entry
	if fx := rw.flips[at(fr)]; fx != nil {
		e = fx.entry
	}
	if e == nil || e.Index <= res.LastIndex {
		return
	}
	for len(res.Lost) > 0 && res.Lost[len(res.Lost)-1].Index >= e.Index {
		res.Lost = res.Lost[:len(res.Lost)-1]
	}
	res.Lost = append(res.Lost, Lost{Index: e.Index, Term: e.Term, Segment: fr.Segment.Name, Offset: fr.Offset, Request: describeEntry(e)})
}

// finish ends the WAL: raft refuses a commit past the log, so when the
// last hard state kept has one, a hard state with the same term and vote
// committed to what is kept follows it.
func (rw *rewrite) finish() error {
	res := rw.res
	if res.Commit > res.LastIndex {
		st := rw.state
		st.Commit = res.LastIndex
		if err := rw.out.writeState(st); err != nil {
			rw.out.abort()
			return err
		}
		res.Commit = res.LastIndex
	}
	return rw.out.close()
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
