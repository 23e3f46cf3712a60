package replay

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdscope/etcdscope/internal/outpath"
	"github.com/etcdscope/etcdscope/mvccview"
	"github.com/etcdscope/etcdscope/walfmt"
)

// Options configure [Run].
type Options struct {
	// Out is the path of the db to write; it must not exist.
	Out string
	// ToIndex stops after the entry with this raft index (0: everything
	// committed).
	ToIndex uint64
	// Base is a db the state starts from: an etcdctl snapshot save backup,
	// a *.snap.db, or the member's own db (then not an independent
	// rebuild). Its consistent_index says which entries it holds; the
	// WAL must hold every entry after it. Empty: an empty state, and the
	// WAL must start at index 1.
	Base string
	// BaseIsMemberDB marks Base as the member's own db, for the summary.
	BaseIsMemberDB bool
	// AutoBase, when Base is empty and the WAL no longer starts at index 1,
	// is the member's snap directory: the base is then the one
	// [ChooseBase] picks in it, and Result.Base names it.
	AutoBase string
	// CommitLog takes every entry of the log as committed, past the
	// last hard state's commit: what a member that is its cluster's only
	// voter does when it restarts, as the entry of its new leadership
	// commits the whole log before it.
	CommitLog bool
	// IncludeDamaged also takes the entries of damaged records (their CRC
	// does not match) that still decode and continue the log, as the
	// evidence describes them: a normal entry's request as far as it
	// decodes ([walfmt.DecodeRequestPrefix]), its values possibly wrong,
	// unchecked by auth when its header is lost with the damage (who made
	// it is not known: its peers most likely applied it). The log stops before a damaged entry that does not decode so, and
	// before a gap that follows a damaged record no entry was read from
	// (the entry it held is not known). [Result.Damaged] and
	// [Result.Stopped] say which.
	IncludeDamaged bool
	// Progress, when set, is called every 10,000 entries with the index
	// applied and the index the replay goes to.
	Progress func(applied, target uint64)
}

// Result says what a replay did and from what.
type Result struct {
	Base         string        `json:"base"` // where the state started
	BaseIndex    uint64        `json:"base_index"`
	BaseRevision int64         `json:"base_revision"` // revisions above it are rebuilt from the WAL
	NodeID       uint64        `json:"node_id"`
	ClusterID    uint64        `json:"cluster_id"`
	FirstIndex   uint64        `json:"first_index"`
	Commit       uint64        `json:"commit"`
	AppliedIndex uint64        `json:"applied_index"`
	AppliedTerm  uint64        `json:"applied_term"`
	Revision     int64         `json:"revision"`
	CompactRev   int64         `json:"compact_revision"`
	Stats        Stats         `json:"stats"`
	Duration     time.Duration `json:"duration_ns"`
	// Damaged are the entries of damaged records taken
	// ([Options.IncludeDamaged]); Stopped, when set, is where the log
	// stopped: the damaged record no entry could be taken from, Index
	// the entry it would have held (Term 0 when not known).
	Damaged []Position `json:"damaged,omitempty"`
	Stopped *Position  `json:"stopped,omitempty"`

	members    map[uint64]*walfmt.Member // from conf change contexts
	provenance []provRev                 // in revision order
	log        *walLog
}

// provRev says which raft index produced a main revision; the rest of
// its Provenance is in the log's entry refs.
type provRev struct {
	rev   int64
	index uint64
}

// Position is where an entry is in the WAL.
type Position struct {
	Index   uint64 `json:"index"`
	Term    uint64 `json:"term"`
	Segment string `json:"segment"`
	Offset  int64  `json:"offset"`
}

// Provenance says which entry produced a main revision.
type Provenance struct {
	Revision int64 `json:"revision"`
	Position
}

// Provenance returns, for every main revision the replay wrote, the entry
// that produced it, in revision order.
func (r *Result) Provenance() []Provenance {
	out := make([]Provenance, 0, len(r.provenance))
	r.eachProvenance(func(p Provenance) error { out = append(out, p); return nil })
	return out
}

// eachProvenance calls f with each revision's Provenance in turn, built
// from the entry refs: the list is never held whole.
func (r *Result) eachProvenance(f func(Provenance) error) error {
	for _, p := range r.provenance {
		i := p.index - r.log.first
		if p.index < r.log.first || i >= uint64(len(r.log.refs)) {
			continue
		}
		ref := r.log.refs[i]
		pos := Position{Index: p.index, Term: ref.term, Segment: r.log.segs[ref.seg].Name, Offset: ref.off}
		if err := f(Provenance{Revision: p.rev, Position: pos}); err != nil {
			return err
		}
	}
	return nil
}

// RunDataDir replays into a complete new data dir at dir that real etcd
// starts on as a single-member cluster (see [WriteDataDir]). Everything is
// built in a temporary sibling of dir and renamed into place at the end, so
// a replay killed midway leaves nothing at dir.
func RunDataDir(segs []walfmt.Segment, dir string, opts Options) (*Result, error) {
	if _, err := os.Lstat(dir); err == nil {
		return nil, fmt.Errorf("replay: %s exists; give a new path", dir)
	}
	inputs := []string{opts.Base}
	for _, s := range segs {
		if s.Path != "" {
			inputs = append(inputs, outpath.SegmentInput(s.Path))
		}
	}
	if err := outpath.Check(dir, inputs...); err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(filepath.Clean(dir)), outpath.StagePrefix(dir, "tmp"))
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	opts.Out = filepath.Join(tmp, "replayed.db")
	res, err := Run(segs, opts)
	if err != nil {
		return nil, err
	}
	m := Member{ID: res.NodeID, ClusterID: res.ClusterID, Name: "etcdscope-replay"}
	if src := res.members[res.NodeID]; src != nil {
		m.Name, m.PeerURLs = src.Name, src.PeerURLs
	}
	if len(m.PeerURLs) == 0 {
		m.PeerURLs = []string{"http://localhost:2380"}
	}
	data := filepath.Join(tmp, "data")
	if err := WriteDataDir(data, opts.Out, m); err != nil {
		return nil, err
	}
	if err := writeProvenance(filepath.Join(data, ProvenanceFile), res.eachProvenance); err != nil {
		return nil, err
	}
	if err := outpath.Publish(data, dir); err != nil {
		return nil, err
	}
	return res, nil
}

// ErrNeedsBase is returned (wrapped, with AutoBase) when the WAL no longer
// starts at index 1, so an empty state cannot be the base, and neither
// Options.Base nor Options.AutoBase gives one.
var ErrNeedsBase = errors.New("replay: the WAL does not start at index 1; a base db is needed (an etcdctl snapshot save backup, or a .snap.db)")

// Run replays a member's WAL through a real raft node into a fresh
// etcd-schema db at opts.Out, from an empty state or from opts.Base. It
// reads the WAL and the base read-only and writes only opts.Out, which it
// removes again when it fails.
func Run(segs []walfmt.Segment, opts Options) (res *Result, err error) {
	start := time.Now()
	if _, err := os.Stat(opts.Out); err == nil {
		return nil, fmt.Errorf("replay: %s exists; give a new path", opts.Out)
	}
	wl, err := readLog(segs, opts.IncludeDamaged)
	if err != nil {
		return nil, err
	}
	if err := opts.resolveBase(wl); err != nil {
		return nil, err
	}
	w, trailer, err := openOut(opts)
	if err != nil {
		return nil, err
	}
	defer func() {
		if !w.closed {
			w.abort()
			os.Remove(opts.Out)
		}
	}()
	s := newStore(w)
	s.damaged = wl.damagedSet()
	res = &Result{Base: "empty (the WAL starts at index 1)", NodeID: wl.nodeID, ClusterID: wl.clusterID, FirstIndex: 1, log: wl}
	base, err := s.startFrom(opts, trailer, res)
	if err != nil {
		return nil, err
	}
	if err := wl.continueFrom(base); err != nil {
		return nil, err
	}
	if opts.CommitLog {
		wl.commitAll()
	}
	res.Commit = wl.hs.GetCommit()
	if len(wl.refs) > 0 {
		res.FirstIndex = wl.first
	}
	rn, err := restartNode(wl, base)
	if err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("replay: raft: %v", r)
		}
	}()
	if err := s.applyCommitted(rn, opts, res); err != nil {
		return nil, err
	}
	if err := w.close(); err != nil {
		os.Remove(opts.Out)
		return nil, err
	}
	res.Revision, res.CompactRev, res.Stats, res.members = s.rev, s.compactRev, s.stats, s.members
	res.Damaged, res.Stopped = wl.damaged, wl.stopped
	res.Duration = time.Since(start)
	return res, nil
}

// resolveBase refuses an empty base for a log that does not start at
// index 1, or chooses one from [Options.AutoBase].
func (o *Options) resolveBase(wl *walLog) error {
	if o.Base != "" || (len(wl.refs) > 0 && wl.first == 1) {
		return nil
	}
	if o.AutoBase == "" {
		return ErrNeedsBase
	}
	base, memberDB, err := ChooseBase(o.AutoBase)
	if err != nil {
		return fmt.Errorf("replay: choosing a base: %w", err)
	}
	if base == "" {
		return fmt.Errorf("%w, and %s holds no usable .snap.db and no db", ErrNeedsBase, o.AutoBase)
	}
	o.Base, o.BaseIsMemberDB = base, memberDB
	return nil
}

// openOut creates opts.Out, a copy of the base when there is one, and
// opens it for writing. It reports whether the copy dropped a verified
// SHA-256 trailer.
func openOut(opts Options) (w *writer, trailer bool, err error) {
	if opts.Base != "" {
		if trailer, err = copyBase(opts.Base, opts.Out); err != nil {
			return nil, false, fmt.Errorf("replay: base %s: %w", opts.Base, err)
		}
	}
	if w, err = openWriter(opts.Out); err != nil {
		os.Remove(opts.Out)
		return nil, false, err
	}
	return w, trailer, nil
}

// startFrom sets the store at its base, the empty state etcd starts in or
// the base db's, and says so in res.
func (s *store) startFrom(opts Options, trailer bool, res *Result) (baseState, error) {
	if opts.Base == "" {
		// etcd's auth store writes revision 1 when it first starts.
		return baseState{}, s.w.put(mvccview.AuthBucket, []byte(mvccview.AuthRevision), u64(1))
	}
	base, err := s.loadBase(&mvccview.BBoltSource{DB: s.w.db})
	if err != nil {
		return base, err
	}
	kind := "a backup or snapshot db, independent of the member's own"
	if opts.BaseIsMemberDB {
		kind = "the member's own db: NOT an independent rebuild, its errors carry over"
	}
	if trailer {
		kind += ", SHA-256 trailer verified"
	}
	res.Base = fmt.Sprintf("%s (%s) at raft index %d, revision %d", opts.Base, kind, base.index, s.rev)
	res.BaseIndex, res.BaseRevision = base.index, s.rev
	res.AppliedIndex, res.AppliedTerm = base.index, base.term
	return base, nil
}

// applyCommitted applies the entries raft hands out as committed, up to
// opts.ToIndex (0: the commit index), writing the applied index with each
// batch as etcd's backend hooks do, and records each revision's entry.
func (s *store) applyCommitted(rn *raft.RawNode, opts Options, res *Result) error {
	target := res.Commit
	if opts.ToIndex != 0 && opts.ToIndex < target {
		target = opts.ToIndex
	}
	for res.AppliedIndex < target && rn.HasReady() {
		rd := rn.Ready()
		for _, e := range rd.CommittedEntries {
			if e.GetIndex() > target {
				break
			}
			before := s.rev
			if err := s.applyEntry(rn, e); err != nil {
				return fmt.Errorf("replay: entry %d: %w", e.GetIndex(), err)
			}
			if s.rev != before {
				res.provenance = append(res.provenance, provRev{rev: s.rev, index: e.GetIndex()})
			}
			res.AppliedIndex, res.AppliedTerm = e.GetIndex(), e.GetTerm()
			if opts.Progress != nil && res.AppliedIndex%10000 == 0 {
				opts.Progress(res.AppliedIndex, target)
			}
			if err := s.commitBatch(res.AppliedIndex, res.AppliedTerm); err != nil {
				return err
			}
		}
		rn.Advance(rd)
	}
	if opts.Progress != nil {
		opts.Progress(target, target)
	}
	return s.w.setIndex(res.AppliedIndex, res.AppliedTerm)
}

// commitBatch hands a full batch to the writer with the index it brings
// the db to.
func (s *store) commitBatch(index, term uint64) error {
	if s.w.pending < batchOps {
		return nil
	}
	if err := s.w.setIndex(index, term); err != nil {
		return err
	}
	return s.w.maybeCommit()
}

// walLog is the effective log: where each entry no later entry replaced
// is in the WAL, the last hard state and the member id.
type walLog struct {
	nodeID    uint64
	clusterID uint64
	hs        *raftpb.HardState
	segs      []walfmt.Segment
	first     uint64     // the index of refs[0]
	refs      []entryRef // consecutive indexes from first

	// With Options.IncludeDamaged: the damaged entries taken, where the
	// log stopped, and the damaged record no entry was read from since
	// the last entry taken.
	damaged          []Position
	stopped, pending *Position
}

// readLog reads the effective log in one pass (walfmt.Summarize): the
// member id, the last hard state, and where each entry is that no later
// one replaced; with damaged, the entries of damaged records too
// ([Options.IncludeDamaged]).
func readLog(segs []walfmt.Segment, damaged bool) (*walLog, error) {
	ow, err := walfmt.ScanOverwrites(segs)
	if err != nil {
		return nil, err
	}
	l := &walLog{hs: &raftpb.HardState{}, segs: segs}
	sum, err := walfmt.Summarize(walfmt.NewReader(segs, walfmt.Options{Overwrites: ow}), func(f *walfmt.Frame) error {
		if damaged {
			return l.take(f)
		}
		if f.Entry == nil || f.Superseded || !f.Trusted() {
			return nil
		}
		return l.add(f)
	})
	if err != nil {
		return nil, err
	}
	if sum.Metadata == nil || sum.Metadata.NodeID == 0 {
		return nil, errors.New("replay: the WAL has no metadata record (member id)")
	}
	l.nodeID, l.clusterID = sum.Metadata.NodeID, sum.Metadata.ClusterID
	if h := sum.HardState; h != nil {
		l.hs = &raftpb.HardState{Term: &h.Term, Vote: &h.Vote, Commit: &h.Commit}
	}
	if n := uint64(len(l.refs)); l.stopped != nil && n > 0 && l.hs.GetCommit() > l.first+n-1 {
		c, t, v := l.first+n-1, l.hs.GetTerm(), l.hs.GetVote()
		l.hs = &raftpb.HardState{Term: &t, Vote: &v, Commit: &c}
	}
	return l, nil
}

// take adds a frame's entry, trusted or damaged, as [Options.IncludeDamaged]
// says, or stops the log.
func (l *walLog) take(f *walfmt.Frame) error {
	e := f.Entry
	switch {
	case l.stopped != nil, f.Superseded, e == nil && f.Trusted():
		return nil
	case e == nil:
		if l.pending == nil && (f.Kind == walfmt.KindRecord || f.Kind == walfmt.KindDamage) {
			l.pending = &Position{Segment: f.Segment.Name, Offset: f.Offset}
		}
		return nil
	}
	n := uint64(len(l.refs))
	next := l.first + n
	if n > 0 && e.Index > next && l.pending != nil {
		l.stopped = l.pending
		l.stopped.Index = next
		return nil
	}
	if !f.Trusted() {
		at := Position{Index: e.Index, Term: e.Term, Segment: f.Segment.Name, Offset: f.Offset}
		if n > 0 && e.Index != next || !entryDecodes(e) {
			l.stopped = &at
			return nil
		}
		l.damaged = append(l.damaged, at)
	}
	l.pending = nil
	return l.add(f)
}

// entryDecodes reports whether a damaged entry can be applied: its
// request or conf change decodes (a request as far as
// [walfmt.DecodeRequestPrefix] takes it).
func entryDecodes(e *walfmt.Entry) bool {
	switch {
	case len(e.Data) == 0:
		return true
	case e.Type == walfmt.EntryNormal:
		r, _ := walfmt.DecodeRequestPrefix(e.Data)
		return r != nil
	case e.Type == walfmt.EntryConfChange:
		_, err := walfmt.DecodeConfChange(e.Data)
		return err == nil
	}
	return true
}

// damagedSet is the indexes of the damaged entries taken.
func (l *walLog) damagedSet() map[uint64]bool {
	m := map[uint64]bool{}
	for _, p := range l.damaged {
		m[p.Index] = true
	}
	return m
}

// add appends an entry's place. Entries replaced later were marked
// superseded, so what remains is in order, unless the log was reset (a
// leader snapshot was installed): then only a base at or after the reset
// can continue, and the log restarts there.
func (l *walLog) add(f *walfmt.Frame) error {
	e := f.Entry
	if f.Length > math.MaxUint32 || f.SegmentIndex > math.MaxUint32 {
		return fmt.Errorf("replay: %s at %d: a record of %d bytes", f.Segment.Name, f.Offset, f.Length)
	}
	if n := uint64(len(l.refs)); n == 0 || e.Index != l.first+n {
		l.refs, l.first = l.refs[:0], e.Index
	}
	l.refs = append(l.refs, entryRef{term: e.Term, off: f.Offset, seg: uint32(f.SegmentIndex), size: uint32(f.Length)})
	return nil
}

// continueFrom drops the entries the base already holds, checks that the
// log resumes right after it, and raises the hard state's commit to the
// base's index when the log's is lower.
func (l *walLog) continueFrom(base baseState) error {
	if n := len(l.refs); n > 0 && l.first <= base.index {
		skip := min(base.index+1-l.first, uint64(n))
		l.refs, l.first = l.refs[skip:], l.first+skip
	}
	if len(l.refs) > 0 && l.first != base.index+1 {
		return fmt.Errorf("replay: the base holds entries up to %d, but the WAL resumes at %d: entries %d to %d are gone (db-behind-wal)",
			base.index, l.first, base.index+1, l.first-1)
	}
	if c := max(l.hs.GetCommit(), base.index); c != l.hs.GetCommit() {
		t, v := max(l.hs.GetTerm(), base.term), l.hs.GetVote()
		l.hs = &raftpb.HardState{Term: &t, Vote: &v, Commit: &c}
	}
	return nil
}

// commitAll raises the hard state's commit to the log's last entry.
func (l *walLog) commitAll() {
	n := uint64(len(l.refs))
	if n == 0 || l.first+n-1 <= l.hs.GetCommit() {
		return
	}
	c, t, v := l.first+n-1, l.hs.GetTerm(), l.hs.GetVote()
	l.hs = &raftpb.HardState{Term: &t, Vote: &v, Commit: &c}
}

// restartNode restores raft storage as etcd does on restart (bootstrap.go:
// hard state, entries; no snapshot for an empty base) and restarts a
// RawNode on it. Nothing ticks it, so it never campaigns: it only hands
// out the entries its hard state says are committed.
func restartNode(l *walLog, base baseState) (*raft.RawNode, error) {
	st := &walStorage{segs: l.segs, refs: l.refs, hs: l.hs, cs: &raftpb.ConfState{}, snapIndex: base.index, snapTerm: base.term}
	if base.index > 0 {
		st.cs = &raftpb.ConfState{Voters: base.confState.Voters, Learners: base.confState.Learners}
	}
	if len(l.refs) > 0 && l.first != base.index+1 {
		return nil, fmt.Errorf("replay: the log starts at %d, not after the base at %d", l.first, base.index)
	}
	return raft.NewRawNode(&raft.Config{
		ID:              l.nodeID,
		ElectionTick:    10,
		HeartbeatTick:   1,
		Storage:         st,
		MaxSizePerMsg:   1 << 20,
		MaxInflightMsgs: 512,
		Applied:         base.index,
		Logger:          quietLogger{},
	})
}

// applyEntry applies one committed entry as etcd's apply loop does.
func (s *store) applyEntry(rn *raft.RawNode, e *raftpb.Entry) error {
	s.stats.Entries++
	switch e.GetType() {
	case raftpb.EntryNormal:
		if len(e.GetData()) == 0 {
			s.stats.EmptyEntries++
			return nil
		}
		if s.damaged[e.GetIndex()] {
			return s.applyDamaged(e.GetData())
		}
		r, err := walfmt.DecodeRequest(e.GetData())
		if err != nil {
			s.stats.Failed["undecodable"]++
			return nil
		}
		return s.applyRequest(r, e.GetData())
	case raftpb.EntryConfChange:
		cc, err := walfmt.DecodeConfChange(e.GetData())
		if err != nil {
			s.stats.Failed["confchange"]++
			return nil
		}
		rn.ApplyConfChange(cc.Raft())
		s.stats.ConfChanges++
		return s.applyConfChange(cc)
	}
	s.stats.Unsupported[e.GetType().String()]++
	return nil
}

// applyDamaged applies a damaged entry taken (Options.IncludeDamaged):
// its request as far as it decodes ([walfmt.DecodeRequestPrefix]). A request
// whose header is lost with the damage no longer says who made it; it
// is applied as one auth does not refuse, as its peers most likely
// applied it.
func (s *store) applyDamaged(data []byte) error {
	r, _ := walfmt.DecodeRequestPrefix(data)
	if r == nil {
		s.stats.Failed["undecodable"]++
		return nil
	}
	s.headerLost = r.Header == nil
	defer func() { s.headerLost = false }()
	return s.applyRequest(r, data)
}

// applyConfChange records membership in the members buckets.
func (s *store) applyConfChange(cc *walfmt.ConfChange) error {
	id := mvccview.MemberKey(cc.NodeID)
	switch cc.Type {
	case walfmt.ConfChangeAddNode, walfmt.ConfChangeAddLearnerNode, walfmt.ConfChangeUpdateNode:
		if cc.Member == nil {
			return nil
		}
		m := *cc.Member
		if old := s.members[cc.NodeID]; old != nil && cc.Type == walfmt.ConfChangeUpdateNode {
			m.Name, m.ClientURLs = old.Name, old.ClientURLs // an update changes peer URLs only
		}
		if cc.Member.IsPromote {
			if old := s.members[cc.NodeID]; old != nil {
				m = *old
			}
			m.IsLearner = false
		}
		m.IsPromote = false
		s.members[cc.NodeID] = &m
		return s.putMember(cc.NodeID)
	case walfmt.ConfChangeRemoveNode:
		delete(s.members, cc.NodeID)
		if err := s.w.del(mvccview.MembersBucket, id); err != nil {
			return err
		}
		return s.w.put(mvccview.MembersRemovedBucket, id, []byte("removed"))
	}
	return nil
}

// quietLogger keeps raft from writing to stderr (a library never logs);
// raft's panics become errors in Run.
type quietLogger struct{}

func (quietLogger) Debug(...any)            {}
func (quietLogger) Debugf(string, ...any)   {}
func (quietLogger) Error(...any)            {}
func (quietLogger) Errorf(string, ...any)   {}
func (quietLogger) Info(...any)             {}
func (quietLogger) Infof(string, ...any)    {}
func (quietLogger) Warning(...any)          {}
func (quietLogger) Warningf(string, ...any) {}
func (quietLogger) Fatal(v ...any)          { panic(fmt.Sprint(v...)) }
func (quietLogger) Fatalf(f string, v ...any) {
	panic(fmt.Sprintf(f, v...))
}
func (quietLogger) Panic(v ...any) { panic(fmt.Sprint(v...)) }
func (quietLogger) Panicf(f string, v ...any) {
	panic(fmt.Sprintf(f, v...))
}
