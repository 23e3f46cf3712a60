package inspect

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/finding"
	"github.com/etcdscope/etcdscope/snapfmt"
	"github.com/etcdscope/etcdscope/walfmt"
)

// dbFacts is what the boot model needs of the db: the metas, the pages
// bbolt or etcd trips over at start, and the consistent index.
type dbFacts struct {
	openErr  string // bbolt's error when neither meta is valid
	metas    [2]boltfmt.Meta
	pages    []badPage
	ci       uint64
	readable bool // the MVCC view could be read (ci is known)
}

type pageKind int

const (
	pageTree       pageKind = iota // a tree page that is not what its parent says
	pageFreelist                   // the freelist page is not a freelist
	pageFreeBeyond                 // the freelist lists a page at or past the high-water mark
	pageInUseFree                  // the freelist lists a page the tree uses
)

type badPage struct {
	kind  pageKind
	id    uint64
	hwm   uint64
	self  uint64 // the id its header gives
	flags uint16
	typ   string // bbolt's name of its type
}

// newDBFacts collects the facts from an opened db and its walk.
func newDBFacts(db *boltfmt.DB, walk *boltfmt.Report) *dbFacts {
	d := &dbFacts{metas: db.Metas}
	if db.Active < 0 {
		d.openErr = bboltMetaError(db.Metas[0])
		return d
	}
	for _, p := range walk.Problems {
		var pe *boltfmt.PageError
		if !errors.As(p, &pe) {
			continue
		}
		bp := badPage{id: uint64(pe.Page)}
		switch {
		case errors.Is(p, boltfmt.ErrFreelistInvalid) && pe.Page == db.Meta().Freelist && strings.HasPrefix(pe.Detail, "lists page "):
			bp.kind, bp.hwm = pageFreeBeyond, uint64(walk.HWM)
			fmt.Sscanf(pe.Detail, "lists page %d", &bp.self)
			d.pages = append(d.pages, bp)
			continue
		case errors.Is(p, boltfmt.ErrFreelistInvalid) && pe.Page == db.Meta().Freelist:
			bp.kind = pageFreelist
		case errors.Is(p, boltfmt.ErrPageDoubleUse) && strings.Contains(pe.Detail, "reachable and free"):
			bp.kind = pageInUseFree
		case errors.Is(p, boltfmt.ErrPageInvalid):
			bp.kind = pageTree
		default:
			continue
		}
		if h, err := db.ReadHeader(pe.Page); err == nil {
			bp.self, bp.flags, bp.typ = h.HeaderID, uint16(h.Type), bboltType(uint16(h.Type))
		}
		d.pages = append(d.pages, bp)
	}
	return d
}

// bboltMetaError is the error bbolt's Open returns for meta 0 when
// neither meta validates (bbolt's meta.validate).
func bboltMetaError(m boltfmt.Meta) string {
	switch {
	case m.Magic != boltfmt.Magic:
		return "invalid database"
	case m.Version != 2:
		return "version mismatch"
	case m.Checksum != m.Computed:
		return "checksum error"
	}
	return "invalid database"
}

// bboltType is bbolt's name of a page type (page.typ).
func bboltType(flags uint16) string {
	switch boltfmt.PageType(flags) {
	case boltfmt.BranchPage:
		return "branch"
	case boltfmt.LeafPage:
		return "leaf"
	case boltfmt.MetaPage:
		return "meta"
	case boltfmt.FreelistPage:
		return "freelist"
	}
	return fmt.Sprintf("unknown<%02x>", flags)
}

// memberFacts is what the boot model reads: the layout's names, the WAL's
// segments (open), the snap dir and the db.
type memberFacts struct {
	rel    func(string) string
	segs   []walfmt.Segment
	sd     *snapfmt.Dir
	dbName string
	db     *dbFacts // nil when the member has no db
}

// predict runs etcd's start over the facts, for etcd minor version v.
func predict(v string, m memberFacts) *boot {
	b := &boot{v: v, rel: m.rel, verdict: Verdict{Outcome: Starts, EtcdVersion: v, Changes: []string{}}}
	b.bootDB(m.dbName, m.db)
	if !b.fatal && len(m.segs) > 0 {
		b.bootWAL(m)
	}
	if b.verdict.Message == "" {
		switch b.verdict.Outcome {
		case Starts:
			b.verdict.Message = fmt.Sprintf("etcd %s starts and serves what the files hold", v)
		case SelfRepairs:
			b.verdict.Message = fmt.Sprintf("etcd %s starts after changing the files itself; nothing acknowledged is lost", v)
		}
	}
	return b
}

// bootWAL follows etcd from ValidSnapshotEntries to handing raft its log.
func (b *boot) bootWAL(m memberFacts) {
	segs := m.segs
	valid := readAll(b.v, segs, walfmt.Snapshot{}, true)
	if valid.kind == endError {
		// wal.ValidSnapshotEntries fails the bootstrap.
		b.walRefuses(segs[valid.seg], valid.off, "discovery failed: "+valid.msg)
		return
	}
	var walSnaps []snapfmt.SnapshotID
	for _, s := range valid.snaps {
		if s.Index <= valid.commit {
			walSnaps = append(walSnaps, snapfmt.SnapshotID{Term: s.Term, Index: s.Index})
		}
	}
	snap := b.snapChoice(m.sd, walSnaps)
	ci, haveDB := uint64(0), m.db != nil
	if haveDB {
		ci = m.db.ci
	}
	if snap.Index > ci {
		if !b.snapDB(m, snap.Index) {
			return
		}
		ci = snap.Index
	}
	sel := selectSegments(segs, snap.Index)
	if sel == nil {
		b.refuse(fmt.Sprintf("failed to open WAL: wal: file not found which matches the snapshot index '%d'", snap.Index))
		return
	}
	st, ok := b.readWAL(sel, snap)
	if !ok {
		return
	}
	if st.commit > st.lastIndex {
		b.refuse(fmt.Sprintf("state.commit %d is out of range [%d, %d]", st.commit, snap.Index, st.lastIndex))
		return
	}
	if haveDB && m.db.readable && ci > st.lastIndex+1 {
		b.worsen(ServesWrongData, fmt.Sprintf("the db has applied entries up to %d but etcd's log ends at %d: etcd skips the entries it commits next, %d to %d, as applied (its own member publish first, so it serves no client until its log passes %d), and a member that copies this log never gets what the db holds past %d; the entries etcd commits next never reach the db",
			ci, st.lastIndex, st.lastIndex+2, ci, ci, st.lastIndex))
	} else if haveDB && m.db.readable && ci == st.lastIndex+1 {
		b.codeAct("db-ahead-of-wal", true, "the db holds entry %d, which the log no longer does; etcd's next entry there is its new leader's empty entry, which it skips: nothing is lost", ci)
	}
}

// snapDB: a snapshot ahead of the db needs its .snap.db, which etcd
// renames over the db.
func (b *boot) snapDB(m memberFacts, idx uint64) bool {
	if m.sd != nil {
		for _, d := range m.sd.DBs {
			if d.NameOK && d.Index == idx && d.Bolt {
				b.verdict.Changes = append(b.verdict.Changes, fmt.Sprintf("renames %s over the db", b.rel(filepath.Join(m.sd.Path, snapfmt.DBName(idx)))))
				return true
			}
		}
	}
	if m.db == nil {
		b.verdict.Changes = append(b.verdict.Changes, fmt.Sprintf("creates an empty %s and leaves it behind", m.dbName))
	}
	b.codeAct("db-missing", false, "etcd refuses to start: snapshot %d is ahead of the (new, empty) db and there is no %s", idx, snapfmt.DBName(idx))
	b.refuse("failed to recover v3 backend from snapshot: failed to find database snapshot file (snap: snapshot file doesn't exist)")
	return false
}

// selectSegments is etcd's selectWALFiles: the segments from the last one
// whose name's index is at or below the snapshot's.
func selectSegments(segs []walfmt.Segment, index uint64) []walfmt.Segment {
	for i := len(segs) - 1; i >= 0; i-- {
		if segs[i].Index <= index {
			return segs[i:]
		}
	}
	return nil
}

// readWAL is openWALFromSnapshot: ReadAll in write mode, Repair once on
// an unexpected EOF, and the zero-fill after the last record.
func (b *boot) readWAL(sel []walfmt.Segment, snap walfmt.Snapshot) (walStop, bool) {
	st := readAll(b.v, sel, snap, false)
	last := sel[len(sel)-1]
	lastName := b.rel(last.Path)
	if st.kind == endUnexpected {
		if st.seg != len(sel)-1 {
			b.walRefuses(sel[st.seg], st.off, "failed to read WAL, cannot be repaired: "+st.msg)
			return st, false
		}
		off, ok := repairLast(b.v, last)
		if !ok {
			b.walRefuses(last, st.off, "failed to repair WAL: "+st.msg)
			return st, false
		}
		b.act(lastName, off, -1, true, "etcd truncates %s at %#x, where a torn write begins (keeping a copy as %s.broken)", last.Name, off, last.Name)
		b.change("truncates %s at %#x, the torn write at its end (a copy is kept as %s.broken)", lastName, off, last.Name)
		cut := append([]walfmt.Segment(nil), sel...)
		cut[len(cut)-1].Size = off
		if st = readAll(b.v, cut, snap, false); st.kind != endEOF {
			b.walRefuses(cut[st.seg], st.off, "failed to read WAL, cannot be repaired: "+st.msg)
			return st, false
		}
		return st, true
	}
	if st.kind == endError {
		b.walRefuses(sel[st.seg], st.off, "failed to read WAL, cannot be repaired: "+st.msg)
		return st, false
	}
	if nonZeroAfter(last, st.off) {
		b.act(lastName, st.off, -1, true, "etcd zero-fills %s from %#x, the end of its log, erasing this", last.Name, st.off)
		b.change("zero-fills %s from %#x, the end of its log, to the end of the file", lastName, st.off)
	}
	return st, true
}

// walRefuses: etcd stops at the frame at off of seg.
func (b *boot) walRefuses(seg walfmt.Segment, off int64, msg string) {
	b.act(b.rel(seg.Path), off, -1, false, "etcd refuses to start here: %s", msg)
	b.refuse(msg)
}

// codeAct records what etcd does about every finding of a code.
func (b *boot) codeAct(code string, benign bool, format string, args ...any) {
	b.act("code:"+code, -1, -1, benign, format, args...)
}

// apply gives each finding of rep its etcd_action and, where etcd deals
// with it by itself without loss, warning severity; it recounts the
// summary.
func (b *boot) apply(rep *finding.Report) {
	fs := rep.Findings
	rep.Findings, rep.Summary = []finding.Finding{}, finding.Summary{}
	for _, f := range fs {
		if a, ok := b.actionFor(f); ok {
			f.EtcdAction = a.what
			if a.benign && f.Severity == finding.Error {
				f.Severity = finding.Warning
			}
		}
		rep.Add(f)
	}
}

// actionFor finds what etcd does about a finding: by its code, its page,
// or the last action at or before its offset in its file.
func (b *boot) actionFor(f finding.Finding) (placeAction, bool) {
	if as := b.actions["code:"+f.Code]; len(as) > 0 {
		return as[0], true
	}
	var best placeAction
	found := false
	for _, a := range b.actions[f.File] {
		switch {
		case a.page >= 0:
			if f.Page != nil && uint64(a.page) == *f.Page || f.Code == "bolt-meta-invalid" && f.Page == nil {
				return a, true
			}
		case a.from < 0:
			best, found = a, true
		case f.Offset != nil && a.from <= *f.Offset && (!found || a.from >= best.from):
			best, found = a, true
		}
	}
	if found {
		return best, true
	}
	switch f.Code {
	case "wal-nonzero-padding":
		return placeAction{what: "etcd's decoder skips padding without reading it", benign: true}, true
	case "bolt-page-unreachable":
		return placeAction{what: "bbolt never reads or reuses pages neither in the tree nor free: space leaks, nothing else", benign: true}, true
	}
	return placeAction{}, false
}
