package repair

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"

	bolt "go.etcd.io/bbolt"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/inspect"
	"github.com/etcdscope/etcdscope/mvccview"
	"github.com/etcdscope/etcdscope/replay"
	"github.com/etcdscope/etcdscope/walfmt"
)

// SalvageOptions configure [Salvage].
type SalvageOptions struct {
	// WAL, when given (the member's), is replayed to name the keys whose
	// state the salvaged db does not have; it is only read.
	WAL []walfmt.Segment
	// Replay is where that replay starts when the WAL does not start at
	// index 1 (its Base); its Out is set by Salvage.
	Replay replay.Options
	DryRun bool
	// Verify, when set, replaces the check of the output before it is
	// renamed into place ([inspect.VerifyDB]); for tests.
	Verify Verify
}

// SalvageResult is the plan, and what was done.
type SalvageResult struct {
	Out    string `json:"out"`
	DryRun bool   `json:"dry_run"`
	// Placed counts the records written, per bucket; Recovered those of
	// etcd's key bucket found only on pages the tree no longer reaches
	// (freed, or cut off by damage), and the pages they came from.
	Placed         map[string]int `json:"placed"`
	Recovered      int            `json:"recovered"`
	RecoveredPages []uint64       `json:"recovered_pages"`
	// NotPlaced are the records read that could not go in.
	NotPlaced []NotPlaced `json:"not_placed"`
	// Missing are the revisions, above the compaction and up to the
	// newest, of which no record was found anywhere.
	Missing []RevRange `json:"missing_revisions"`
	// ConsistentIndex, Revision, CompactRevision and Keys are the output's.
	ConsistentIndex uint64 `json:"consistent_index"`
	Revision        int64  `json:"revision"`
	CompactRevision int64  `json:"compact_revision"`
	Keys            int64  `json:"keys"`
	// LostKeys, when the WAL was given, are the keys whose state in the
	// output differs from the state the WAL replays to at the same raft
	// index: exactly what the salvage loses. KnowsLostKeys says whether
	// it could tell.
	KnowsLostKeys bool      `json:"knows_lost_keys"`
	LostKeys      []KeyDiff `json:"lost_keys"`
	// Loss is what the output, with the WAL applied on start when it was
	// given, loses against the WAL replayed to its index when
	// KnowsLostKeys, else against what can be read of the input db; and
	// what etcd serves from it.
	Loss *Loss `json:"loss"`
	Checked
}

// NotPlaced is a record read but left out, and why.
type NotPlaced struct {
	Page   uint64 `json:"page"`
	Bucket string `json:"bucket,omitempty"`
	Key    []byte `json:"key"`
	Why    string `json:"why"`
}

// RevRange is the main revisions From to To, both included.
type RevRange struct {
	From int64 `json:"from"`
	To   int64 `json:"to"`
}

// maxNotPlaced bounds the records listed as not placed; the rest are
// counted in the last entry.
const maxNotPlaced = 10_000

// Salvage writes at out a new etcd db built from every record it can read
// in the bbolt file at in: the records of every bucket the tree still
// reaches, read past damaged pages, and the key-bucket records left on
// pages it no longer reaches (freed pages keep their contents until
// reused), placed when their revision is above the compaction and not
// above the newest the tree holds (a record past it is from a transaction
// that never committed). The db's own consistent index is kept.
func Salvage(in, out string, opts SalvageOptions) (*SalvageResult, error) {
	src, err := boltfmt.Open(in, boltfmt.Options{})
	if err != nil {
		return nil, err
	}
	defer src.Close()
	st, err := newStage(out, in)
	if err != nil {
		return nil, err
	}
	defer st.abort()
	res := &SalvageResult{Out: out, DryRun: opts.DryRun, Placed: map[string]int{}, RecoveredPages: []uint64{}, NotPlaced: []NotPlaced{}, Missing: []RevRange{}, LostKeys: []KeyDiff{}}
	dst, err := bolt.Open(st.Path(), 0o600, &bolt.Options{NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return nil, err
	}
	w := &batch{db: dst}
	err = salvageInto(src, w, res)
	if err == nil {
		err = w.commit()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	if res.ConsistentIndex, err = consistentIndex(st.Path()); err != nil {
		return nil, fmt.Errorf("repair: the salvaged db has no consistent index: %w", err)
	}
	if res.Revision, res.CompactRevision, res.Keys, err = liveKeys(st.Path()); err != nil {
		return nil, err
	}
	if len(opts.WAL) > 0 {
		if err := lostAgainstWAL(st.Path(), res, opts); err != nil {
			return nil, err
		}
	}
	res.Loss = salvageLoss(in, st.Path(), opts.WAL, st.tmp, res.KnowsLostKeys)
	if opts.DryRun {
		return res, nil
	}
	return res, st.commit(opts.Verify.or(inspect.VerifyDB))
}

// salvageInto copies what the tree reaches, then what the other leaf
// pages hold of the key bucket.
func salvageInto(src *boltfmt.DB, w *batch, res *SalvageResult) error {
	for _, b := range mvccview.Buckets() {
		if err := w.bucket(b); err != nil {
			return err
		}
	}
	var (
		newest, compact int64 = 0, -1
		seen                  = revSet{} // main revisions with a record
		werr            error
	)
	rep, err := src.Walk(boltfmt.WalkOptions{NoFreelist: true, Leaf: func(b *boltfmt.BucketInfo, page boltfmt.PageID, e *boltfmt.LeafElement) bool {
		if werr != nil {
			return false
		}
		if e.Problem != nil || len(b.Path) != 1 {
			res.notPlaced(uint64(page), b.Name(), e.Key, "not a record of a top-level bucket, or damaged")
			return true
		}
		name := b.Path[0]
		if name == mvccview.KeyBucket {
			rev, _, err := mvccview.DecodeRevisionKey(e.Key)
			if err != nil {
				res.notPlaced(uint64(page), name, e.Key, "not a revision: "+err.Error())
				return true
			}
			seen.add(rev.Main)
			newest = max(newest, rev.Main)
		}
		if name == mvccview.MetaBucket && (string(e.Key) == mvccview.MetaFinishedCompactRev || string(e.Key) == mvccview.MetaScheduledCompactRev) {
			if rev, _, err := mvccview.DecodeRevisionKey(e.Value); err == nil {
				compact = max(compact, rev.Main)
			}
		}
		if werr = w.put(name, e.Key, e.Value); werr == nil {
			res.Placed[name]++
		}
		return true
	}})
	if werr != nil {
		return werr
	}
	if err != nil {
		return err
	}
	reached := func(id boltfmt.PageID) bool { return rep.Status(id) == boltfmt.StatusTree }
	// The leaves the tree does not reach: records of the key bucket are
	// known by their shape, a revision key and a KeyValue that says so.
	var els []boltfmt.LeafElement
	err = src.ScanPages(boltfmt.ScanOptions{}, func(p *boltfmt.Page) error {
		if p.Type != boltfmt.LeafPage || reached(p.ID) {
			return nil
		}
		var err error
		if els, err = boltfmt.LeafElements(p.Data, int(p.Count)); err != nil {
			return nil
		}
		found := false
		for i := range els {
			e := &els[i]
			if e.Problem != nil || e.IsBucket() {
				continue
			}
			rev, tomb, err := mvccview.DecodeRevisionKey(e.Key)
			if err != nil {
				continue
			}
			kv, err := mvccview.DecodeKeyValue(e.Value)
			if err != nil || len(kv.Key) == 0 || (!tomb && kv.ModRevision != rev.Main) {
				continue
			}
			switch has, err := w.has(mvccview.KeyBucket, e.Key); {
			case err != nil:
				return err
			case has:
				continue
			case rev.Main <= compact:
				res.notPlaced(uint64(p.ID), mvccview.KeyBucket, e.Key, fmt.Sprintf("revision %d is compacted (the db's compaction is at %d)", rev.Main, compact))
				continue
			case rev.Main > newest:
				res.notPlaced(uint64(p.ID), mvccview.KeyBucket, e.Key, fmt.Sprintf("revision %d is past the newest the tree holds (%d): a transaction that never committed", rev.Main, newest))
				continue
			}
			if err := w.put(mvccview.KeyBucket, e.Key, e.Value); err != nil {
				return err
			}
			seen.add(rev.Main)
			res.Placed[mvccview.KeyBucket]++
			res.Recovered++
			found = true
		}
		if found {
			res.RecoveredPages = append(res.RecoveredPages, uint64(p.ID))
		}
		return nil
	})
	if err != nil {
		return err
	}
	res.Missing = seen.missing(res.Missing, max(compact+1, 1), newest)
	return nil
}

func (r *SalvageResult) notPlaced(page uint64, bucket string, key []byte, why string) {
	switch n := len(r.NotPlaced); {
	case n < maxNotPlaced:
		r.NotPlaced = append(r.NotPlaced, NotPlaced{Page: page, Bucket: bucket, Key: bytes.Clone(key), Why: why})
	case n == maxNotPlaced:
		r.NotPlaced = append(r.NotPlaced, NotPlaced{Why: "and more, not listed"})
	}
}

// replayedDB is where lostAgainstWAL replays the WAL, beside the output
// being built.
const replayedDB = "replayed.db"

// lostAgainstWAL replays the WAL to the salvaged db's consistent index
// and lists the keys whose state differs.
func lostAgainstWAL(salvaged string, res *SalvageResult, opts SalvageOptions) error {
	truth := filepath.Join(filepath.Dir(salvaged), replayedDB)
	ro := opts.Replay
	ro.Out, ro.ToIndex = truth, res.ConsistentIndex
	if _, err := replay.Run(opts.WAL, ro); err != nil {
		if errors.Is(err, replay.ErrNeedsBase) {
			return nil // the keys cannot be named: KnowsLostKeys stays false
		}
		return fmt.Errorf("repair: replaying the WAL to name the keys lost: %w", err)
	}
	t, lost, err := diffKeys(salvaged, truth)
	if err != nil {
		return err
	}
	truthRev := t.rev
	// diffKeys gives the truth's state as After: turn it round.
	for i := range lost {
		lost[i].Before, lost[i].After = lost[i].After, lost[i].Before
	}
	if truthRev > res.Revision {
		// The newest revisions, past what the tree still holds.
		res.Missing = append(res.Missing, RevRange{From: res.Revision + 1, To: truthRev})
	}
	res.KnowsLostKeys, res.LostKeys = true, lost
	return nil
}

// batch writes records into a new bbolt file in transactions of at most
// batchRecords records and batchBytes bytes of keys and values (bbolt
// holds a transaction's records and dirty pages in memory until it
// commits), so that memory stays bounded whatever the values' size.
type batch struct {
	db    *bolt.DB
	tx    *bolt.Tx
	n     int
	bytes int
}

const (
	batchRecords = 50_000
	batchBytes   = 32 << 20
)

func (b *batch) begin() error {
	if b.tx != nil {
		return nil
	}
	var err error
	b.tx, err = b.db.Begin(true)
	return err
}

func (b *batch) bucket(name string) error {
	if err := b.begin(); err != nil {
		return err
	}
	_, err := b.tx.CreateBucketIfNotExists([]byte(name))
	return err
}

// put stores copies of k and v (bbolt keeps them until the commit).
func (b *batch) put(bucket string, k, v []byte) error {
	if err := b.bucket(bucket); err != nil {
		return err
	}
	if err := b.tx.Bucket([]byte(bucket)).Put(bytes.Clone(k), bytes.Clone(v)); err != nil {
		return err
	}
	b.bytes += len(k) + len(v)
	if b.n++; b.n%batchRecords == 0 || b.bytes >= batchBytes {
		return b.commit()
	}
	return nil
}

func (b *batch) has(bucket string, k []byte) (bool, error) {
	if err := b.begin(); err != nil {
		return false, err
	}
	bk := b.tx.Bucket([]byte(bucket))
	return bk != nil && bk.Get(k) != nil, nil
}

func (b *batch) commit() error {
	if b.tx == nil {
		return nil
	}
	err := b.tx.Commit()
	b.tx, b.bytes = nil, 0
	return err
}
