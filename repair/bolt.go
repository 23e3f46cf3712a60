package repair

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"sort"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/inspect"
	"github.com/etcdscope/etcdscope/replay"
	"github.com/etcdscope/etcdscope/walfmt"
)

// BoltOptions configure [Bolt].
type BoltOptions struct {
	// WAL, when given (the member's), is replayed from the output's
	// consistent index on, as etcd does when it starts, to say what the
	// member will hold then; it is only read.
	WAL    []walfmt.Segment
	DryRun bool
	// Verify, when set, replaces the check of the output before it is
	// renamed into place ([inspect.VerifyDB]); for tests.
	Verify Verify
}

// BoltResult is the plan, and what was done.
type BoltResult struct {
	Out    string `json:"out"`
	DryRun bool   `json:"dry_run"`
	// Metas says what each meta page holds and whether the tree it
	// roots is sound (every page of it checked: ids, types, bounds, key
	// order, no page reached twice).
	Metas [2]MetaState `json:"metas"`
	// Meta is the slot whose tree the output uses, TxID its transaction.
	Meta int    `json:"meta"`
	TxID uint64 `json:"txid"`
	// Reverted is set when a newer transaction's tree was not sound and
	// the output goes back to an older one: that transaction is lost.
	Reverted *Reverted `json:"reverted"`
	// Freelist is "kept", or "rebuilt": the output's metas carry bbolt's
	// no-freelist mark, so bbolt (and etcd) rebuild the free set from what
	// is reachable when they open it, which also frees the pages nothing
	// reaches (Unreachable).
	Freelist    string   `json:"freelist"`
	Unreachable int      `json:"unreachable_pages"`
	Fixed       []string `json:"fixed"` // what was wrong and is no more
	// Revision and Keys are the output's; ChangedKeys the keys whose
	// state differs from what a damage-tolerant read of the input finds
	// (when a transaction is reverted, its own changes cannot be read:
	// etcd applies the WAL's entries past the older consistent index
	// again when it starts).
	Revision    int64     `json:"revision"`
	Keys        int64     `json:"keys"`
	ChangedKeys []KeyDiff `json:"changed_keys"`
	// OnStart, when the WAL was given, is what etcd will hold once it has
	// applied again, on start, the entries past the output's consistent
	// index: nil when there are none.
	OnStart *OnStart `json:"on_start"`
	// Loss is what the output, with the WAL applied on start when it was
	// given, loses against what can be read of the input; and what etcd
	// serves from it.
	Loss *Loss `json:"loss"`
	Checked
}

// OnStart is the state a member reaches when etcd starts on it.
type OnStart struct {
	ConsistentIndex uint64 `json:"consistent_index"` // the db's, before
	AppliedIndex    uint64 `json:"applied_index"`    // after the WAL's entries past it
	Revision        int64  `json:"revision"`
	Keys            int64  `json:"keys"`
}

// MetaState is one meta page and its tree.
type MetaState struct {
	Valid     bool   `json:"valid"`
	Problem   string `json:"problem,omitempty"`
	TxID      uint64 `json:"txid"`
	Root      uint64 `json:"root"`
	TreeSound bool   `json:"tree_sound"`
	// TreeProblem is the first problem of its tree, when not sound.
	TreeProblem string `json:"tree_problem,omitempty"`
}

// Reverted says which transaction a repair went back past.
type Reverted struct {
	TxID uint64 `json:"txid"`
	Why  string `json:"why"`
}

// Bolt writes at out a copy of the bbolt file at in whose two metas both
// carry the newest transaction whose whole tree is sound (a meta whose
// checksum or fields are wrong is rewritten when its tree checks out;
// an older transaction is used only when every newer one's tree fails the
// check, which also catches pages reused since), and whose freelist, when
// it is wrong or pages are unreachable, is replaced by bbolt's no-freelist
// mark so that the free set is rebuilt from reachability.
func Bolt(in, out string, opts BoltOptions) (*BoltResult, error) {
	db, err := boltfmt.Open(in, boltfmt.Options{})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	res := &BoltResult{Out: out, DryRun: opts.DryRun, ChangedKeys: []KeyDiff{}, Fixed: []string{}}
	var slots []int
	for i := range db.Metas {
		m := &db.Metas[i]
		ms := &res.Metas[i]
		ms.Valid, ms.TxID, ms.Root = m.Valid(), m.TxID, uint64(m.Root)
		if m.Problem != nil {
			ms.Problem = m.Problem.Error()
		}
		if !plausible(db, m) {
			continue
		}
		problem, err := treeProblem(db, i)
		if err != nil {
			return nil, err
		}
		ms.TreeSound = problem == nil
		if problem != nil {
			ms.TreeProblem = problem.Error()
		}
		slots = append(slots, i)
	}
	sort.SliceStable(slots, func(a, b int) bool { return db.Metas[slots[a]].TxID > db.Metas[slots[b]].TxID })
	use := -1
	for _, s := range slots {
		if res.Metas[s].TreeSound {
			use = s
			break
		}
	}
	if use < 0 {
		return nil, errors.New("repair: no meta page roots a sound tree; repair salvage reads what is left")
	}
	m := db.Metas[use]
	res.Meta, res.TxID = use, m.TxID
	for _, s := range slots {
		if t := db.Metas[s].TxID; t > m.TxID {
			res.Reverted = &Reverted{TxID: t, Why: fmt.Sprintf("the tree of meta %d (txid %d) is not sound: %s", s, t, res.Metas[s].TreeProblem)}
		}
	}
	for i := range db.Metas {
		switch mi := &db.Metas[i]; {
		case !plausible(db, mi):
			res.Fixed = append(res.Fixed, fmt.Sprintf("meta %d: %v; it cannot be read, so a newer transaction it may have held is lost", i, mi.Problem))
		case !mi.Valid():
			res.Fixed = append(res.Fixed, fmt.Sprintf("meta %d: %v", i, mi.Problem))
		}
	}
	// The freelist: kept when the walk from the meta used finds nothing
	// wrong with it and nothing unreachable.
	free, err := freeProblems(db, use)
	if err != nil {
		return nil, err
	}
	res.Freelist = "kept"
	if len(free) > 0 || res.Reverted != nil || use != db.Active {
		res.Freelist = "rebuilt"
		m.Freelist = boltfmt.NoFreelist
		for _, p := range free {
			if errors.Is(p, boltfmt.ErrPageUnreachable) {
				res.Unreachable++
			} else {
				res.Fixed = append(res.Fixed, p.Error())
			}
		}
		if res.Unreachable > 0 {
			res.Fixed = append(res.Fixed, fmt.Sprintf("%d pages neither reachable nor free, now free", res.Unreachable))
		}
	}

	st, err := newStage(out, in)
	if err != nil {
		return nil, err
	}
	defer st.abort()
	if err := copyFile(st.Path(), in, -1); err != nil {
		return nil, err
	}
	if err := writeMetas(st.Path(), db.PageSize, m); err != nil {
		return nil, err
	}
	after, changed, err := diffKeys(in, st.Path())
	if err != nil {
		return nil, err
	}
	res.Revision, res.Keys, res.ChangedKeys = after.rev, int64(len(after.kvs)), changed
	if len(opts.WAL) > 0 {
		if res.OnStart, err = onStart(st.Path(), opts.WAL); err != nil {
			return nil, err
		}
	}
	res.Loss = dbLoss(in, "what can be read of the input db", st.Path(), opts.WAL, st.tmp)
	if opts.DryRun {
		return res, nil
	}
	return res, st.commit(opts.Verify.or(inspect.VerifyDB))
}

// onStart replays the WAL's committed entries past db's consistent index
// onto a copy of it, as etcd applies them when it starts; nil when there
// are none to apply.
func onStart(db string, wal []walfmt.Segment) (*OnStart, error) {
	ci, err := consistentIndex(db)
	if err != nil {
		return nil, err
	}
	after, err := entriesAfter(wal, ci)
	if err != nil || len(after) == 0 {
		return nil, err
	}
	out := filepath.Join(filepath.Dir(db), "on-start.db")
	defer os.Remove(out)
	res, err := replay.Run(wal, replay.Options{Out: out, Base: db, BaseIsMemberDB: true})
	if err != nil {
		return nil, fmt.Errorf("repair: replaying the WAL past the consistent index %d, as etcd would on start: %w", ci, err)
	}
	if res.AppliedIndex <= ci {
		return nil, nil // nothing committed past it
	}
	o := &OnStart{ConsistentIndex: ci, AppliedIndex: res.AppliedIndex}
	if o.Revision, _, o.Keys, err = liveKeys(out); err != nil {
		return nil, err
	}
	return o, nil
}

// plausible reports whether a meta's fields could root a tree of this
// file, its checksum aside.
func plausible(db *boltfmt.DB, m *boltfmt.Meta) bool {
	return m.Magic == boltfmt.Magic && m.Version == boltfmt.Version && int(m.PageSize) == db.PageSize &&
		m.HWM >= 4 && m.HWM <= db.FilePages() && m.Root >= 2 && m.Root < m.HWM
}

// withMeta is the file as read through meta slot.
func withMeta(db *boltfmt.DB, slot int) *boltfmt.DB {
	v := *db
	v.Active = slot
	return &v
}

// treeProblem walks the tree meta slot roots, every bucket and page, and
// returns its first problem, nil when it is sound.
func treeProblem(db *boltfmt.DB, slot int) (error, error) {
	rep, err := withMeta(db, slot).Walk(boltfmt.WalkOptions{NoFreelist: true})
	if err != nil {
		return nil, err
	}
	for _, p := range rep.Problems {
		if !errors.Is(p, boltfmt.ErrMetaInvalid) {
			return p, nil
		}
	}
	return nil, nil
}

// freeProblems walks from meta slot with its freelist and returns what is
// wrong with the free set: the freelist's own problems, pages both free
// and reachable, and pages neither.
func freeProblems(db *boltfmt.DB, slot int) ([]error, error) {
	rep, err := withMeta(db, slot).Walk(boltfmt.WalkOptions{})
	if err != nil {
		return nil, err
	}
	var out []error
	for _, p := range rep.Problems {
		if errors.Is(p, boltfmt.ErrFreelistInvalid) || errors.Is(p, boltfmt.ErrPageUnreachable) || errors.Is(p, boltfmt.ErrPageDoubleUse) {
			out = append(out, p)
		}
	}
	return out, nil
}

// writeMetas writes m into both meta pages of the file at path, each with
// its own page id and checksum.
func writeMetas(path string, pageSize int, m boltfmt.Meta) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	for slot := range 2 {
		if _, err := f.WriteAt(encodeMeta(m, slot), int64(slot*pageSize)); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// encodeMeta lays out a meta page's header and body as bbolt writes them
// (page.go, meta.go: id, flags, count, overflow; magic, version, page size,
// flags, root bucket, freelist, pgid, txid, FNV-1a 64 checksum).
func encodeMeta(m boltfmt.Meta, slot int) []byte {
	le := binary.LittleEndian
	b := make([]byte, boltfmt.PageHeaderSize, boltfmt.PageHeaderSize+64)
	le.PutUint64(b[0:], uint64(slot))
	le.PutUint16(b[8:], uint16(boltfmt.MetaPage))
	body := le.AppendUint32(nil, boltfmt.Magic)
	body = le.AppendUint32(body, boltfmt.Version)
	body = le.AppendUint32(body, m.PageSize)
	body = le.AppendUint32(body, m.MetaFlag)
	body = le.AppendUint64(body, uint64(m.Root))
	body = le.AppendUint64(body, m.Sequence)
	body = le.AppendUint64(body, uint64(m.Freelist))
	body = le.AppendUint64(body, uint64(m.HWM))
	body = le.AppendUint64(body, m.TxID)
	h := fnv.New64a()
	h.Write(body)
	body = le.AppendUint64(body, h.Sum64())
	return append(b, body...)
}
