// Package compare checks the stopped members of one etcd cluster against
// each other and each against its own log: raft logs aligned by index,
// HashKV at a (compaction, revision) every member can compute, the first
// revision and the keys where a member's state differs, which member is
// behind and by how much, and which member to recover from after a loss
// of quorum.
//
// # Usage
//
//	res, err := compare.Run([]string{"m1", "m2", "m3"}, compare.Options{SelfCheck: true})
//	// res.Members, res.Findings, res.Advice
//
// # Guarantees
//
// Inputs are opened read-only, never locked, never written: dbs are read
// page by page with boltfmt, as `mvcc hash` reads them. Replays (a db
// behind its own WAL, the self-check) write only into fresh files under
// Options.TempDir, removed before Run returns.
package compare

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/finding"
	"github.com/etcdscope/etcdscope/internal/datadir"
	"github.com/etcdscope/etcdscope/mvccview"
	"github.com/etcdscope/etcdscope/replay"
	"github.com/etcdscope/etcdscope/walfmt"
)

// Finding codes compare reports besides CONTRACT.md's member-log-divergence
// and member-hash-mismatch.
const (
	CodeLogDivergence = "member-log-divergence"
	CodeHashMismatch  = "member-hash-mismatch"
	CodeDBLogMismatch = "member-db-log-mismatch"  // a db differs from what its own WAL rebuilds
	CodeBehind        = "member-behind"           // a member's log or state is behind the others'
	CodeNotCompared   = "member-not-compared"     // a member could not be hashed with the others
	CodeClusterID     = "member-cluster-mismatch" // the members are not of one cluster
	CodeDamagedInput  = "member-damaged-input"    // a WAL or db with damage; see wal verify, bolt check
	CodeSameMember    = "member-same-id"          // two dirs hold copies of one member
)

// maxDivergences bounds the log divergences reported one by one.
const maxDivergences = 50

// Options configure [Run].
type Options struct {
	// SelfCheck replays each member's WAL, from index 1 or from a
	// .snap.db it continues, up to its db's consistent_index and compares
	// the result with the db: it finds a db that drifted from its log.
	SelfCheck bool
	// TempDir holds the replays' dbs ("" for the system's).
	TempDir string
}

// Member is what compare found of one member.
type Member struct {
	Dir        string `json:"dir"` // as given
	Name       string `json:"name,omitempty"`
	ID         string `json:"id"`         // hex, as etcd prints member ids
	ClusterID  string `json:"cluster_id"` // hex
	FirstIndex uint64 `json:"first_index"`
	LastIndex  uint64 `json:"last_index"`
	// Gaps are the index ranges missing inside the WAL: where the member
	// installed a snapshot the leader sent.
	Gaps   [][2]uint64 `json:"gaps,omitempty"`
	Commit uint64      `json:"commit"`
	Term   uint64      `json:"term"`
	// Applied is the db's consistent_index; Revision and CompactRevision
	// are the db's, after the replay forward when the db is behind its
	// own log (AppliedByReplay is then where that replay ended).
	Applied         uint64 `json:"applied_index"`
	AppliedByReplay uint64 `json:"applied_by_replay,omitempty"`
	Revision        int64  `json:"revision"`
	DBRevision      int64  `json:"db_revision"`
	CompactRevision int64  `json:"compact_revision"`
	Hash            *int64 `json:"hash"` // HashKV at the compared (compaction, revision); nil if not compared
	SelfCheck       string `json:"self_check"`

	arg   string
	lay   datadir.Layout
	log   *memberLog
	files *walfmt.Files
	db    *boltfmt.DB
	src   *mvccview.BoltSource
	st    *mvccview.Store // the db's, or the replayed-forward one's
	rdb   *boltfmt.DB     // the replayed-forward db, if any
	err   error
	bad   bool // an error finding names it: not a recovery source

	selfDiff   *difference // where the db differs from its own log
	forwardErr error       // why the db could not be replayed forward
}

func (m *Member) label() string {
	if m.Name != "" {
		return fmt.Sprintf("%s (%s, id %s)", m.Dir, m.Name, m.ID)
	}
	return fmt.Sprintf("%s (id %s)", m.Dir, m.ID)
}

// Advice is one way to recover the cluster from one member, and what it
// would lose against the most any given member holds.
type Advice struct {
	Dir           string `json:"dir"`
	Method        string `json:"method"` // "force-new-cluster" or "snapshot-restore"
	KeepsIndex    uint64 `json:"keeps_index"`
	KeepsRevision int64  `json:"keeps_revision"`
	LostEntries   uint64 `json:"lost_entries"`   // committed entries after KeepsIndex that another member holds
	LostRevisions int64  `json:"lost_revisions"` // revisions after KeepsRevision that another member holds
	Recommended   bool   `json:"recommended"`
	Note          string `json:"note,omitempty"`
}

// Result is everything compare found.
type Result struct {
	Members             []*Member `json:"members"`
	HashRevision        int64     `json:"hash_revision"`
	HashCompactRevision int64     `json:"hash_compact_revision"`
	Advice              []Advice  `json:"advice"`
	SelfChecked         bool      `json:"self_checked"`
	finding.Report
}

// Run compares the members whose data dirs (or member dirs) are given.
func Run(dirs []string, opts Options) (*Result, error) {
	if len(dirs) < 2 {
		return nil, errors.New("compare needs at least two members")
	}
	tmp, err := os.MkdirTemp(opts.TempDir, "etcdscope-compare-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	res := &Result{Report: finding.Report{Findings: []finding.Finding{}}}
	ms := make([]*Member, len(dirs))
	for i, d := range dirs {
		ms[i] = &Member{Dir: d, arg: d}
	}
	defer func() {
		for _, m := range ms {
			m.close()
		}
	}()
	each(ms, func(i int, m *Member) { m.err = m.open(filepath.Join(tmp, fmt.Sprintf("forward-%d", i))) })
	for _, m := range ms {
		if _, named := errors.AsType[*datadir.Error](m.err); named {
			return nil, m.err // it names the member's path already
		}
		if m.err != nil {
			return nil, fmt.Errorf("%s: %w", m.arg, m.err)
		}
	}
	res.Members = ms
	for _, m := range ms {
		m.damage(&res.Report)
		if m.forwardErr != nil {
			mem := m.Dir
			res.Add(finding.Finding{Severity: finding.Warning, Code: CodeNotCompared, Member: &mem,
				Message: fmt.Sprintf("%s: its db (index %d) is behind its WAL's commit (%d) and could not be replayed forward (%v): compared as it is", m.label(), m.Applied, m.Commit, m.forwardErr)})
		}
	}
	if !sameCluster(ms, &res.Report) {
		return res, nil
	}
	compareLogs(ms, &res.Report)
	res.compareState()
	res.SelfChecked = opts.SelfCheck
	if opts.SelfCheck {
		each(ms, func(i int, m *Member) { m.err = m.selfCheck(filepath.Join(tmp, fmt.Sprintf("self-%d", i))) })
		for _, m := range ms {
			if m.err != nil {
				return nil, fmt.Errorf("%s: self-check: %w", m.arg, m.err)
			}
		}
		for _, m := range ms {
			m.reportSelfCheck(&res.Report)
		}
	} else {
		for _, m := range ms {
			m.SelfCheck = "not run"
		}
	}
	behind(ms, &res.Report)
	res.Advice = advise(ms)
	return res, nil
}

// each runs f on every member at once: what each holds (its key index
// and its log's entry list) stays until Run returns anyway, and the Go
// scheduler spreads the scans over the CPUs there are.
func each(ms []*Member, f func(int, *Member)) {
	var wg sync.WaitGroup
	for i, m := range ms {
		wg.Go(func() { f(i, m) })
	}
	wg.Wait()
}

func (m *Member) open(forward string) error {
	l, err := datadir.Resolve(m.arg)
	if err != nil {
		return err
	}
	m.lay = l
	walDir, err := l.WAL()
	if err != nil {
		return err
	}
	if m.files, err = walfmt.OpenPath(walDir); err != nil {
		return err
	}
	if m.log, err = readLog(m.files.Segments); err != nil {
		return fmt.Errorf("reading the WAL: %w", err)
	}
	if l.DB == "" {
		return &datadir.Error{Path: m.arg, Err: errors.New("no member/snap/db"), Hint: "compare needs each member's db; for a lost db, rebuild one with etcdscope replay"}
	}
	if m.db, err = boltfmt.Open(l.DB, boltfmt.Options{}); err != nil {
		return err // names l.DB
	}
	m.src = &mvccview.BoltSource{DB: m.db}
	st, err := mvccview.Open(m.src)
	if err != nil {
		return fmt.Errorf("%s: %w", l.DB, err)
	}
	m.st = st
	lg := m.log
	m.ID, m.ClusterID = fmt.Sprintf("%016x", lg.nodeID), fmt.Sprintf("%016x", lg.clusterID)
	m.FirstIndex, m.LastIndex, m.Commit, m.Term = lg.firstIndex(), lg.lastIndex(), lg.commit, lg.term
	for i := 1; i < len(lg.runs); i++ {
		m.Gaps = append(m.Gaps, [2]uint64{lg.runs[i-1].last() + 1, lg.runs[i].first - 1})
	}
	m.Applied, m.Revision, m.DBRevision, m.CompactRevision = st.Meta.ConsistentIndex, st.CurrentRev, st.CurrentRev, st.CompactRev
	if members, err := st.Members(); err == nil {
		for _, x := range members {
			if id, err := strconv.ParseUint(x.ID, 16, 64); err == nil && id == lg.nodeID && !x.Removed {
				m.Name = x.Name
			}
		}
	}
	// A db behind its own log: etcd would apply the rest when it starts,
	// so compare the state it would reach.
	if m.Commit > m.Applied && m.LastIndex > m.Applied && m.FirstIndex <= m.Applied+1 {
		res, err := replay.Run(m.files.Segments, replay.Options{Out: forward, Base: l.DB, BaseIsMemberDB: true})
		if err != nil {
			// Compare the db as it is, and say so (Run reports it).
			m.forwardErr = err
			return nil
		}
		if m.rdb, err = boltfmt.Open(forward, boltfmt.Options{}); err != nil {
			return err
		}
		if m.st, err = mvccview.Open(&mvccview.BoltSource{DB: m.rdb}); err != nil {
			return err
		}
		m.AppliedByReplay, m.Revision, m.CompactRevision = res.AppliedIndex, m.st.CurrentRev, m.st.CompactRev
	}
	return nil
}

func (m *Member) close() {
	if m.files != nil {
		m.files.Close()
	}
	if m.db != nil {
		m.db.Close()
	}
	if m.rdb != nil {
		m.rdb.Close()
	}
}

// damage reports a WAL or db with damage: what compare reads of it is
// only what could be read.
func (m *Member) damage(rep *finding.Report) {
	if n := m.log.problems; n > 0 {
		mem := m.Dir
		rep.Add(finding.Finding{Severity: finding.Warning, Code: CodeDamagedInput, Member: &mem,
			Message: fmt.Sprintf("%s: %d WAL records are damaged; compared what could be read (see etcdscope wal verify %s)", m.label(), n, m.arg)})
	}
	if src := m.src; len(src.Problems) > 0 {
		mem := m.Dir
		rep.Add(finding.Finding{Severity: finding.Warning, Code: CodeDamagedInput, Member: &mem, File: m.lay.Rel(m.lay.DB),
			Message: fmt.Sprintf("%s: the db is damaged (%d problems); compared what is reachable (see etcdscope bolt check %s)", m.label(), len(src.Problems), m.arg)})
	}
}

func sameCluster(ms []*Member, rep *finding.Report) bool {
	ok := true
	for _, m := range ms[1:] {
		if m.ClusterID != ms[0].ClusterID {
			mem := m.Dir
			rep.Add(finding.Finding{Severity: finding.Error, Code: CodeClusterID, Member: &mem,
				Message: fmt.Sprintf("%s belongs to cluster %s, %s to cluster %s: not members of one cluster, nothing compared", m.label(), m.ClusterID, ms[0].label(), ms[0].ClusterID)})
			ok = false
		}
	}
	seen := map[string]string{}
	for _, m := range ms {
		if other, dup := seen[m.ID]; dup {
			mem := m.Dir
			rep.Add(finding.Finding{Severity: finding.Warning, Code: CodeSameMember, Member: &mem,
				Message: fmt.Sprintf("%s and %s are copies of one member (id %s): compared as if they were two; the majority means little", other, m.Dir, m.ID)})
		}
		seen[m.ID] = m.Dir
	}
	return ok
}

// compareLogs aligns the logs by index and reports every index where
// entries that both sides hold as committed differ.
func compareLogs(ms []*Member, rep *finding.Report) {
	lo, hi := ^uint64(0), uint64(0)
	for _, m := range ms {
		if m.LastIndex == 0 {
			continue
		}
		lo, hi = min(lo, m.FirstIndex), max(hi, min(m.LastIndex, m.Commit))
	}
	reported, more := 0, 0
	type held struct {
		m *Member
		e entry
	}
	var at []held
	for i := lo; i <= hi && lo <= hi; i++ {
		at = at[:0]
		for _, m := range ms {
			if i > m.Commit {
				continue
			}
			if e, ok := m.log.at(i); ok {
				at = append(at, held{m, e})
			}
		}
		if len(at) < 2 {
			continue
		}
		same := true
		for _, h := range at[1:] {
			if h.e.term != at[0].e.term || h.e.sum != at[0].e.sum || h.e.typ != at[0].e.typ {
				same = false
				break
			}
		}
		if same {
			continue
		}
		// Group by content; the largest group holding a majority of
		// those that have the entry is taken as right.
		groups := map[[2]uint64][]held{}
		var keys [][2]uint64
		for _, h := range at {
			k := [2]uint64{h.e.term, h.e.sum ^ uint64(h.e.typ)}
			if groups[k] == nil {
				keys = append(keys, k)
			}
			groups[k] = append(groups[k], h)
		}
		sort.SliceStable(keys, func(a, b int) bool { return len(groups[keys[a]]) > len(groups[keys[b]]) })
		majority := len(groups[keys[0]])*2 > len(at)
		var odd []held
		for gi, k := range keys {
			if gi == 0 && majority {
				continue
			}
			odd = append(odd, groups[k]...)
		}
		if reported >= maxDivergences {
			more++
			continue
		}
		reported++
		var ref []string
		if majority {
			for _, h := range groups[keys[0]] {
				ref = append(ref, h.m.Dir)
			}
		}
		for _, h := range odd {
			seg, what := h.m.log.describe(h.e)
			var others []string
			for _, o := range at {
				if o.m != h.m && (o.e.term != h.e.term || o.e.sum != h.e.sum || o.e.typ != h.e.typ) {
					_, w := o.m.log.describe(o.e)
					others = append(others, fmt.Sprintf("%s has term %d: %s", o.m.Dir, o.e.term, w))
				}
			}
			kind := "committed entries differ in term"
			if slices.ContainsFunc(at, func(o held) bool { return o.m != h.m && o.e.term == h.e.term }) {
				kind = "log matching violated: same index and term, different data (altered after it was written, or a raft safety bug)"
			}
			whom := "no majority agrees"
			if majority {
				whom = "the majority (" + strings.Join(ref, ", ") + ") agrees on the other entry"
			}
			idx, off, mem := i, h.e.off, h.m.Dir
			rep.Add(finding.Finding{Severity: finding.Error, Code: CodeLogDivergence, Member: &mem, Index: &idx, Offset: &off,
				File:    h.m.lay.Rel(filepath.Join(walDirOf(h.m), seg)),
				Message: fmt.Sprintf("index %d: %s holds term %d: %s; %s; %s", i, h.m.label(), h.e.term, what, strings.Join(others, "; "), kind+"; "+whom)})
			h.m.bad = h.m.bad || majority
		}
	}
	if more > 0 {
		rep.Add(finding.Finding{Severity: finding.Error, Code: CodeLogDivergence,
			Message: fmt.Sprintf("and %d more indexes where committed entries differ (the first %d are listed)", more, maxDivergences)})
	}
}

func walDirOf(m *Member) string {
	if m.lay.WALDir != "" {
		return m.lay.WALDir
	}
	return filepath.Dir(m.lay.WALFile)
}

// compareState hashes every member at the highest (compaction, revision)
// all of them can compute and names the members whose hash differs from
// the majority's, with the first revision and the keys where they differ.
func (res *Result) compareState() {
	rep := &res.Report
	c := int64(-1)
	for _, m := range res.Members {
		c = max(c, m.CompactRevision)
	}
	var hashed []*Member
	r := int64(-1)
	for _, m := range res.Members {
		if m.Revision < c {
			mem := m.Dir
			rev := m.Revision
			rep.Add(finding.Finding{Severity: finding.Warning, Code: CodeNotCompared, Member: &mem, Revision: &rev,
				Message: fmt.Sprintf("%s is at revision %d, below the compaction at %d of another member: its state cannot be hashed with theirs", m.label(), m.Revision, c)})
			continue
		}
		hashed = append(hashed, m)
		if r < 0 || m.Revision < r {
			r = m.Revision
		}
	}
	res.HashRevision, res.HashCompactRevision = r, c
	if len(hashed) < 2 {
		return
	}
	hashes := make([]uint32, len(hashed))
	errs := make([]error, len(hashed))
	each(hashed, func(i int, m *Member) {
		h, err := m.st.HashKVAt(r, c)
		if err != nil {
			errs[i] = err
			return
		}
		hashes[i] = h.Hash
		v := int64(h.Hash)
		m.Hash = &v
	})
	for i, err := range errs {
		if err != nil {
			mem := hashed[i].Dir
			rep.Add(finding.Finding{Severity: finding.Warning, Code: CodeNotCompared, Member: &mem,
				Message: fmt.Sprintf("%s: HashKV at revision %d (compaction %d): %v", hashed[i].label(), r, c, err)})
		}
	}
	groups := map[uint32][]*Member{}
	var order []uint32
	for i, m := range hashed {
		if errs[i] != nil {
			continue
		}
		if groups[hashes[i]] == nil {
			order = append(order, hashes[i])
		}
		groups[hashes[i]] = append(groups[hashes[i]], m)
	}
	if len(order) < 2 {
		return
	}
	sort.SliceStable(order, func(a, b int) bool { return len(groups[order[a]]) > len(groups[order[b]]) })
	total := 0
	for _, g := range groups {
		total += len(g)
	}
	ref := groups[order[0]]
	majority := len(ref)*2 > total
	for gi, h := range order {
		if gi == 0 && majority {
			continue
		}
		for _, m := range groups[h] {
			if !majority && m == ref[0] {
				continue
			}
			d, err := firstDifference(ref[0].st, m.st, r, c)
			mem := m.Dir
			f := finding.Finding{Severity: finding.Error, Code: CodeHashMismatch, Member: &mem}
			where := "the difference could not be placed"
			switch {
			case err != nil:
				where += ": " + err.Error()
			case d != nil:
				rev := d.Revision
				f.Revision = &rev
				where = d.describe(m.Dir, ref[0].Dir)
			}
			whom := "the majority"
			if !majority {
				whom = "no majority: compared with " + ref[0].Dir + ";"
			}
			var names []string
			for _, x := range ref {
				names = append(names, x.Dir)
			}
			f.Message = fmt.Sprintf("%s: HashKV %d at revision %d (compaction %d); %s (%s) has %d; %s",
				m.label(), h, r, c, whom, strings.Join(names, ", "), order[0], where)
			if majority {
				m.bad = true
			}
			rep.Add(f)
		}
	}
}

// selfCheck replays the member's own WAL to its db's consistent_index,
// from an independent base, and compares the state with the db's.
func (m *Member) selfCheck(out string) error {
	opts := replay.Options{Out: out, ToIndex: m.Applied}
	if !m.log.startsAtOne() {
		base := newestSnapDB(m.lay)
		if base == "" {
			why := fmt.Sprintf("the WAL starts at index %d", m.FirstIndex)
			if len(m.Gaps) > 0 {
				why = fmt.Sprintf("the WAL has a gap at %d..%d (a snapshot from the leader)", m.Gaps[len(m.Gaps)-1][0], m.Gaps[len(m.Gaps)-1][1])
			}
			m.SelfCheck = "skipped: " + why + " and no .snap.db is left to replay from"
			return nil
		}
		opts.Base = base
	}
	res, err := replay.Run(m.files.Segments, opts)
	if err != nil {
		if errors.Is(err, replay.ErrNeedsBase) {
			m.SelfCheck = "skipped: " + err.Error()
			return nil
		}
		m.SelfCheck = "skipped: the replay failed: " + err.Error()
		return nil
	}
	if res.AppliedIndex != m.Applied {
		m.SelfCheck = fmt.Sprintf("skipped: the replay reached index %d, not the db's %d", res.AppliedIndex, m.Applied)
		return nil
	}
	db, err := boltfmt.Open(out, boltfmt.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := mvccview.Open(&mvccview.BoltSource{DB: db})
	if err != nil {
		return err
	}
	own := m.st
	if m.rdb != nil { // m.st is the state replayed forward: check the db itself
		if own, err = mvccview.Open(&mvccview.BoltSource{DB: m.db}); err != nil {
			return err
		}
	}
	if st.CurrentRev != own.CurrentRev {
		m.SelfCheck = fmt.Sprintf("mismatch: at index %d the db is at revision %d, its WAL rebuilds revision %d", m.Applied, own.CurrentRev, st.CurrentRev)
		m.selfDiff = &difference{Revision: min(st.CurrentRev, own.CurrentRev) + 1}
		return nil
	}
	c := max(st.CompactRev, own.CompactRev)
	a, err1 := own.HashKVAt(own.CurrentRev, c)
	b, err2 := st.HashKVAt(own.CurrentRev, c)
	if err := errors.Join(err1, err2); err != nil {
		m.SelfCheck = "skipped: " + err.Error()
		return nil
	}
	if a.Hash == b.Hash {
		m.SelfCheck = fmt.Sprintf("ok: the db equals its WAL replayed to index %d (HashKV %d at revision %d, base %s)", m.Applied, a.Hash, own.CurrentRev, res.Base)
		return nil
	}
	d, err := firstDifference(st, own, own.CurrentRev, c)
	if err != nil {
		return err
	}
	m.selfDiff = d
	m.SelfCheck = fmt.Sprintf("mismatch: HashKV %d at revision %d, its WAL replayed to index %d gives %d", a.Hash, own.CurrentRev, m.Applied, b.Hash)
	return nil
}

func (m *Member) reportSelfCheck(rep *finding.Report) {
	if m.selfDiff == nil {
		return
	}
	mem := m.Dir
	f := finding.Finding{Severity: finding.Error, Code: CodeDBLogMismatch, Member: &mem, File: m.lay.Rel(m.lay.DB),
		Message: fmt.Sprintf("%s: the db differs from its own WAL: %s", m.label(), m.SelfCheck)}
	if m.selfDiff.Revision > 0 {
		rev := m.selfDiff.Revision
		f.Revision = &rev
		f.Message += "; " + m.selfDiff.describe("the db", "the WAL's replay")
	}
	m.bad = true
	rep.Add(f)
}

func newestSnapDB(l datadir.Layout) string {
	if l.SnapDir == "" {
		return ""
	}
	dbs, _ := filepath.Glob(filepath.Join(l.SnapDir, "*.snap.db"))
	if len(dbs) == 0 {
		return ""
	}
	sort.Strings(dbs)
	return dbs[len(dbs)-1]
}

// behind reports members whose log or state is behind the others'.
func behind(ms []*Member, rep *finding.Report) {
	var topCommit uint64
	var topRev int64
	var lead, leadRev *Member
	for _, m := range ms {
		if c := max(m.Commit, m.Applied); c > topCommit {
			topCommit, lead = c, m
		}
		if m.Revision > topRev {
			topRev, leadRev = m.Revision, m
		}
	}
	for _, m := range ms {
		c := max(m.Commit, m.Applied)
		if c >= topCommit && m.Revision >= topRev {
			continue
		}
		idx, rev, mem := c, m.Revision, m.Dir
		rep.Add(finding.Finding{Severity: finding.Warning, Code: CodeBehind, Member: &mem, Index: &idx, Revision: &rev,
			Message: fmt.Sprintf("%s is behind: committed through index %d, %d entries behind %s (%d); state at revision %d, %d revisions behind %s (%d)",
				m.label(), c, topCommit-c, lead.Dir, topCommit, m.Revision, topRev-m.Revision, leadRev.Dir, topRev)})
	}
}

// notAdvised starts the note of an [Advice] from a member that diverged.
const notAdvised = "not advised: compare found this member diverged; "

// advise says, for each member, what recovering the cluster from it
// would keep and lose.
func advise(ms []*Member) []Advice {
	var topCommit uint64
	var topRev int64
	for _, m := range ms {
		topCommit = max(topCommit, m.Commit, m.Applied)
		topRev = max(topRev, m.Revision)
	}
	var out []Advice
	best := -1
	for _, m := range ms {
		keep := max(m.Commit, m.Applied)
		fnc := Advice{Dir: m.Dir, Method: "force-new-cluster", KeepsIndex: keep, KeepsRevision: m.Revision,
			LostEntries: topCommit - keep, LostRevisions: topRev - m.Revision,
			Note: "etcd --force-new-cluster on this member's data dir: keeps its log up to its commit and its member id"}
		snap := Advice{Dir: m.Dir, Method: "snapshot-restore", KeepsIndex: m.Applied, KeepsRevision: m.DBRevision,
			LostEntries: topCommit - m.Applied, LostRevisions: topRev - m.DBRevision,
			Note: "etcdutl snapshot restore of this member's db: keeps what the db holds, not the log after it"}
		if m.bad {
			fnc.Note, snap.Note = notAdvised+fnc.Note, notAdvised+snap.Note
		} else if best < 0 || fnc.KeepsIndex > out[best].KeepsIndex || (fnc.KeepsIndex == out[best].KeepsIndex && fnc.KeepsRevision > out[best].KeepsRevision) {
			best = len(out)
		}
		out = append(out, fnc, snap)
	}
	if best >= 0 {
		out[best].Recommended = true
	}
	return out
}
