package mvccview

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"iter"
	"sort"
	"strconv"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/internal/jsonw"
	"github.com/etcdscope/etcdscope/walfmt"
)

// Source is the little of a bbolt file mvccview needs: the records of a
// top-level bucket, in key order. Implementations tolerate damage (they
// yield what they can reach) and take no lock.
type Source interface {
	ForEach(bucket string, fn func(k, v []byte) error) error
}

// Getter is a Source that can also read records by key, all in one
// consistent read: fn gets each key's value in turn (nil when absent),
// valid for the time of the call. Range then reads only the records it
// returns instead of the whole key bucket.
type Getter interface {
	Get(bucket string, keys [][]byte, fn func(i int, v []byte) error) error
}

// Seeker is a Source that can start a bucket's records at a key. Events
// then starts at its revision instead of reading the bucket from the first.
type Seeker interface {
	ForEachFrom(bucket string, start []byte, fn func(k, v []byte) error) error
}

// BoltSource reads buckets through boltfmt's walk: a damaged db yields
// what is reachable, and the walk's problems are kept in Problems.
type BoltSource struct {
	DB       *boltfmt.DB
	Problems []error
}

var errStop = errors.New("stop")

// ForEach calls fn for every record of the named top-level bucket.
func (s *BoltSource) ForEach(bucket string, fn func(k, v []byte) error) error {
	var ferr error
	rep, err := s.DB.Walk(boltfmt.WalkOptions{Bucket: []string{bucket}, NoFreelist: true,
		Leaf: func(b *boltfmt.BucketInfo, _ boltfmt.PageID, e *boltfmt.LeafElement) bool {
			if len(b.Path) != 1 || b.Path[0] != bucket || e.Problem != nil || ferr != nil {
				return ferr == nil
			}
			ferr = fn(e.Key, e.Value)
			return ferr == nil
		}})
	if err != nil {
		return err
	}
	if rep != nil {
		s.Problems = append(s.Problems, rep.Problems...)
	}
	if errors.Is(ferr, errStop) {
		return nil
	}
	return ferr
}

// Sentinels for requests etcd would refuse.
var (
	// ErrCompacted is etcd's "mvcc: required revision has been compacted".
	ErrCompacted = errors.New("mvcc: required revision has been compacted")
	// ErrFutureRev is etcd's "mvcc: required revision is a future revision".
	ErrFutureRev = errors.New("mvcc: required revision is a future revision")
)

// BadRecord is a key-bucket record that does not decode.
type BadRecord struct {
	Key []byte
	Err error
}

// Store is etcd's MVCC view of a db: the key index rebuilt from the key
// bucket as etcd rebuilds it on start, and the meta bucket's marks. It
// holds the index (revisions per key), never the values: ranges and
// hashes read the key bucket again.
type Store struct {
	src Source
	idx *index

	// CurrentRev is the store's revision: the highest main revision in the
	// key bucket, never below the compaction marks.
	CurrentRev int64
	// CompactRev is the compaction revision etcd would use after a
	// restart (finishedCompactRev, or scheduledCompactRev when a
	// compaction was interrupted and would be resumed); -1 when none.
	CompactRev   int64
	ScheduledRev int64 // scheduledCompactRev, -1 when absent
	FinishedRev  int64 // finishedCompactRev, -1 when absent
	Records      int64 // key-bucket records read
	BadRecords   []BadRecord
	Meta         Meta
	leaseByKey   map[string]int64
	// The ids of the response headers, set by Identify.
	memberID, clusterID uint64

	// The CRC of the records above CompactRev, taken while Open read them:
	// HashKV at the current revision then reads only the records at or
	// below CompactRev again (none when never compacted).
	suffixCRC   uint32
	suffixLen   int64
	prefixCount int64 // records at or below CompactRev
}

// Meta is the decoded meta bucket.
type Meta struct {
	ConsistentIndex uint64 `json:"consistent_index"`
	Term            uint64 `json:"term"`
	ConfState       string `json:"conf_state,omitempty"` // JSON as stored
	StorageVersion  string `json:"storage_version,omitempty"`
	Scheduled       *int64 `json:"scheduled_compact_revision,omitempty"`
	Finished        *int64 `json:"finished_compact_revision,omitempty"`
}

// Status is what the store knows of itself, as mvcc meta prints it: the
// meta bucket, the revisions and counts of the key index, the cluster and
// alarm buckets.
type Status struct {
	Meta
	CurrentRevision  int64    `json:"current_revision"`
	CompactRevision  int64    `json:"compact_revision"`
	Keys             int      `json:"keys"`
	KeyBucketRecords int64    `json:"key_bucket_records"`
	BadKeyRecords    int      `json:"bad_key_records"`
	Cluster          *Cluster `json:"cluster"`
}

// Status reads the cluster and alarm buckets and reports them with the
// store's meta, revisions and counts.
func (s *Store) Status() (*Status, error) {
	c, err := s.Cluster()
	if err != nil {
		return nil, err
	}
	return &Status{Meta: s.Meta, CurrentRevision: s.CurrentRev, CompactRevision: s.CompactRev, Keys: s.Keys(),
		KeyBucketRecords: s.Records, BadKeyRecords: len(s.BadRecords), Cluster: c}, nil
}

// Open reads the meta bucket and rebuilds the key index from the key bucket.
func Open(src Source) (*Store, error) {
	meta, err := ReadMeta(src)
	if err != nil {
		return nil, err
	}
	s := &Store{src: src, idx: newIndex(), Meta: meta, CompactRev: -1, ScheduledRev: orNone(meta.Scheduled), FinishedRev: orNone(meta.Finished),
		CurrentRev: 1, leaseByKey: map[string]int64{}}
	compact := meta.CompactRev()
	tab := crc32.MakeTable(crc32.Castagnoli)
	err = src.ForEach(KeyBucket, func(k, v []byte) error {
		s.Records++
		rev, tomb, err := DecodeRevisionKey(k)
		if err != nil {
			s.BadRecords = append(s.BadRecords, BadRecord{bytes.Clone(k), err})
			return nil
		}
		if rev.Main > compact { // hashed whatever the key index says
			s.suffixCRC = crc32.Update(crc32.Update(s.suffixCRC, tab, k), tab, v)
			s.suffixLen += int64(len(k) + len(v))
		} else {
			s.prefixCount++
		}
		kv, err := DecodeKeyValue(v)
		if err != nil {
			s.BadRecords = append(s.BadRecords, BadRecord{bytes.Clone(k), err})
			return nil
		}
		s.idx.add(string(kv.Key), rev, tomb, &kv)
		if tomb {
			delete(s.leaseByKey, string(kv.Key))
		} else if kv.Lease != 0 {
			s.leaseByKey[string(kv.Key)] = kv.Lease
		} else {
			delete(s.leaseByKey, string(kv.Key))
		}
		s.CurrentRev = max(s.CurrentRev, rev.Main)
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.idx.sortKeys()
	s.CurrentRev = max(s.CurrentRev, s.ScheduledRev, s.FinishedRev)
	s.CompactRev = compact
	return s, nil
}

// ReadMeta decodes the meta bucket. A mark that does not decode is left
// out, as etcd leaves it when it starts.
func ReadMeta(src Source) (Meta, error) {
	var m Meta
	err := src.ForEach(MetaBucket, func(k, v []byte) error {
		switch string(k) {
		case MetaConsistentIndex:
			if len(v) == 8 {
				m.ConsistentIndex = binary.BigEndian.Uint64(v)
			}
		case MetaTerm:
			if len(v) == 8 {
				m.Term = binary.BigEndian.Uint64(v)
			}
		case MetaConfState:
			m.ConfState = string(v)
		case MetaStorageVersion:
			m.StorageVersion = string(v)
		case MetaScheduledCompactRev, MetaFinishedCompactRev:
			rev, _, err := DecodeRevisionKey(v)
			if err != nil {
				return nil
			}
			r := rev.Main
			if string(k) == MetaScheduledCompactRev {
				m.Scheduled = &r
			} else {
				m.Finished = &r
			}
		}
		return nil
	})
	return m, err
}

// CompactRev is the compaction revision etcd uses when it starts on the
// db: the finished compaction, or the scheduled one when it is later (a
// compaction was interrupted, and etcd resumes it); -1 when none.
func (m Meta) CompactRev() int64 {
	return max(orNone(m.Finished), orNone(m.Scheduled))
}

func orNone(rev *int64) int64 {
	if rev == nil {
		return -1
	}
	return *rev
}

// DecodeConfState decodes the voters and learners of the conf state
// (raftpb.ConfState as JSON, as etcd 3.5 and later write it,
// server/storage/schema/confstate.go); etcd never leaves a joint
// configuration there. It returns an error when there is none (a db etcd
// 3.4 wrote) or it does not decode.
func (m Meta) DecodeConfState() (walfmt.ConfState, error) {
	var cs struct {
		Voters   []uint64 `json:"voters"`
		Learners []uint64 `json:"learners"`
	}
	if m.ConfState == "" {
		return walfmt.ConfState{}, errors.New("mvccview: the meta bucket has no confState")
	}
	if err := json.Unmarshal([]byte(m.ConfState), &cs); err != nil {
		return walfmt.ConfState{}, fmt.Errorf("mvccview: confState: %w", err)
	}
	return walfmt.ConfState{Voters: cs.Voters, Learners: cs.Learners}, nil
}

// checkRev applies etcd's rules for a requested revision; 0 means current.
func (s *Store) checkRev(rev int64) (int64, error) {
	if rev <= 0 {
		return s.CurrentRev, nil
	}
	if rev > s.CurrentRev {
		return 0, fmt.Errorf("%w (requested %d, current %d)", ErrFutureRev, rev, s.CurrentRev)
	}
	if rev < s.CompactRev {
		return 0, fmt.Errorf("%w (requested %d, compacted at %d)", ErrCompacted, rev, s.CompactRev)
	}
	return rev, nil
}

// RangeOptions are a Range request's options.
type RangeOptions struct {
	Rev       int64 // 0 means the current revision
	Limit     int64 // 0 means no limit
	CountOnly bool
	KeysOnly  bool
}

// PrefixEnd returns the end of the range of keys with prefix p, as etcd's
// client computes it (clientv3.GetPrefixRangeEnd): p with its last byte
// below 0xff incremented and what follows it dropped, or, when every byte
// is 0xff, an empty end: every key from p on, for [Store.Range].
func PrefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return []byte{}
}

// KeyRange is the [key, end) of a range etcd's client asks for (etcdctl
// get KEY [RANGE_END] [--prefix | --from-key]): end as given (nil for key
// alone), or with prefix every key with key as prefix ([PrefixEnd]), or
// with fromKey every key from key on (end empty). An empty key with an
// end starts at the first key, "\x00", as etcdctl sends it.
func KeyRange(key, end []byte, prefix, fromKey bool) ([]byte, []byte) {
	switch {
	case prefix:
		end = PrefixEnd(key)
	case fromKey:
		end = []byte{}
	}
	if len(key) == 0 && end != nil {
		key = []byte{0}
	}
	return key, end
}

// ResponseHeader is etcd's etcdserverpb.ResponseHeader, its numbers as
// etcdctl -w json prints them.
type ResponseHeader struct {
	ClusterID uint64 `json:"cluster_id,omitempty"`
	MemberID  uint64 `json:"member_id,omitempty"`
	Revision  int64  `json:"revision,omitempty"`
	RaftTerm  uint64 `json:"raft_term,omitempty"`
}

// RangeResponse is a Range answer in etcd's terms. Its JSON is etcdctl
// get -w json's: the header, kvs with base64 keys and values, count, more.
type RangeResponse struct {
	Header ResponseHeader `json:"header"`
	KVs    []KeyValue     `json:"kvs,omitempty"`
	More   bool           `json:"more,omitempty"`
	Count  int64          `json:"count,omitempty"`
}

// Header is the response header a member serving the store answers with:
// the store's current revision, the meta bucket's raft term, and the
// member and cluster ids [Store.Identify] set (none until it is called).
func (s *Store) Header() ResponseHeader {
	return ResponseHeader{ClusterID: s.clusterID, MemberID: s.memberID, Revision: s.CurrentRev, RaftTerm: s.Meta.Term}
}

// Identify sets the member and cluster ids of the store's response
// headers: those of md, the metadata of the member's WAL, or, when md is
// nil, the id of the members bucket's only member (a db alone does not
// hold its cluster id). Call it before the store serves reads.
func (s *Store) Identify(md *walfmt.Metadata) {
	if md != nil {
		s.memberID, s.clusterID = md.NodeID, md.ClusterID
		return
	}
	if ms, err := s.Members(); err == nil && len(ms) == 1 && !ms[0].Removed {
		s.memberID, _ = strconv.ParseUint(ms[0].ID, 16, 64)
	}
}

// Range returns the keys in [key, end) live at opts.Rev with etcd's
// semantics: end nil means key alone, end empty (the wire's "\x00") every
// key from key on.
func (s *Store) Range(key, end []byte, opts RangeOptions) (*RangeResponse, error) {
	rev, err := s.checkRev(opts.Rev)
	if err != nil {
		return nil, err
	}
	res := &RangeResponse{Header: s.Header()}
	var want []Revision
	for _, k := range s.idx.between(key, end) {
		if mod, _, _, ok := s.idx.byKey[k].get(rev); ok {
			want = append(want, mod)
		}
	}
	res.Count = int64(len(want))
	if opts.Limit > 0 && int64(len(want)) > opts.Limit {
		want = want[:opts.Limit]
		res.More = true
	}
	if opts.CountOnly || len(want) == 0 {
		return res, nil
	}
	res.KVs = make([]KeyValue, len(want))
	if g, ok := s.src.(Getter); ok {
		keys := make([][]byte, len(want))
		for i, r := range want {
			keys[i] = AppendRevisionKey(nil, r, false)
		}
		err := g.Get(KeyBucket, keys, func(i int, v []byte) error {
			if v == nil {
				return fmt.Errorf("mvccview: the key bucket has no record %s", want[i])
			}
			kv, err := rangeKV(v, opts.KeysOnly)
			if err != nil {
				return fmt.Errorf("mvccview: record %s: %w", want[i], err)
			}
			res.KVs[i] = kv
			return nil
		})
		return res, err
	}
	pos := make(map[Revision]int, len(want))
	for i, r := range want {
		pos[r] = i
	}
	err = s.src.ForEach(KeyBucket, func(k, v []byte) error {
		r, tomb, err := DecodeRevisionKey(k)
		if err != nil || tomb {
			return nil
		}
		if i, ok := pos[r]; ok {
			res.KVs[i], _ = rangeKV(v, opts.KeysOnly) // a record that does not decode stays empty
		}
		return nil
	})
	return res, err
}

// rangeKV decodes a record Range answers with, copied out of the source.
func rangeKV(v []byte, keysOnly bool) (KeyValue, error) {
	kv, err := DecodeKeyValue(v)
	if err != nil {
		return KeyValue{}, err
	}
	if keysOnly {
		kv.Value = nil
	}
	kv.Key, kv.Value = bytes.Clone(kv.Key), bytes.Clone(kv.Value)
	return kv, nil
}

// History is the records of a key in the key bucket, tombstones
// included, in revision order. Its JSON is mvcc history's.
type History struct {
	Key     []byte          `json:"key"`
	Records []HistoryRecord `json:"records"`
}

// HistoryRecord is one record of a key's history.
type HistoryRecord struct {
	Rev       Revision
	Tombstone bool
	KV        KeyValue
	// Source says what wrote the revision when the caller knows it (in a
	// data dir replay wrote, the WAL entry: a replay.Position); nil
	// otherwise.
	Source fmt.Stringer
}

// MarshalJSON writes the record flat: the revision as "main_sub" and its
// two parts, whether it is a tombstone, the record's revisions and
// version, its lease in 16 hex digits and its value (left out when there
// is none), and the source when known.
func (h HistoryRecord) MarshalJSON() ([]byte, error) {
	j := jsonw.Begin(nil)
	j.Str("revision", h.Rev.String())
	j.I64("main", h.Rev.Main)
	j.I64("sub", h.Rev.Sub)
	j.Bool("tombstone", h.Tombstone)
	j.I64("create_revision", h.KV.CreateRevision)
	j.I64("mod_revision", h.KV.ModRevision)
	j.I64("version", h.KV.Version)
	j.OptID("lease", uint64(h.KV.Lease))
	j.OptBytes("value", h.KV.Value)
	if h.Source != nil {
		j.Value("source", h.Source)
	}
	return j.End(), nil
}

// History returns every record of a key in the key bucket.
func (s *Store) History(key []byte) (*History, error) {
	h := &History{Key: bytes.Clone(key), Records: []HistoryRecord{}}
	ki, ok := s.idx.byKey[string(key)]
	if !ok {
		return h, nil
	}
	revs := map[Revision]bool{}
	for _, g := range ki.generations {
		for _, r := range g.revs {
			revs[r] = true
		}
	}
	err := s.src.ForEach(KeyBucket, func(k, v []byte) error {
		r, tomb, err := DecodeRevisionKey(k)
		if err != nil || !revs[r] {
			return nil
		}
		kv, err := DecodeKeyValue(v)
		if err != nil || !bytes.Equal(kv.Key, key) {
			return nil
		}
		kv.Key, kv.Value = bytes.Clone(kv.Key), bytes.Clone(kv.Value)
		h.Records = append(h.Records, HistoryRecord{Rev: r, Tombstone: tomb, KV: kv})
		return nil
	})
	sort.Slice(h.Records, func(i, j int) bool { return h.Records[i].Rev.Less(h.Records[j].Rev) })
	return h, err
}

// HashKV is etcd's HashKV answer.
type HashKV struct {
	Hash            uint32 `json:"hash"`
	CompactRevision int64  `json:"compact_revision"`
	HashRevision    int64  `json:"hash_revision"`
}

// HashKV computes etcd's HashKV at rev (0 means current), bit-exact with
// server/storage/mvcc/hash.go: CRC-32C of "key" then of every key-bucket
// record (raw key, raw value) with main revision <= rev, skipping those at
// or below the compaction revision that the key index would not keep at
// rev, and a tombstone exactly at the compaction revision.
func (s *Store) HashKV(rev int64) (*HashKV, error) {
	rev, err := s.checkRev(rev)
	if err != nil {
		return nil, err
	}
	return s.HashKVAt(rev, s.CompactRev)
}

// HashKVAt is HashKV at rev as if the store had been compacted at
// compact, which must be at least the store's own compaction revision:
// what a member compacted at compact would answer. Members compared at
// the same (compact, rev) hash the same records whatever each one's own
// compaction progress.
func (s *Store) HashKVAt(rev, compact int64) (*HashKV, error) {
	if rev <= 0 || rev > s.CurrentRev {
		return nil, fmt.Errorf("%w (requested %d, current %d)", ErrFutureRev, rev, s.CurrentRev)
	}
	if compact < s.CompactRev || rev < compact {
		return nil, fmt.Errorf("%w (requested %d at compaction %d, compacted at %d)", ErrCompacted, rev, compact, s.CompactRev)
	}
	h := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	h.Write([]byte(KeyBucket))
	stop := rev
	if rev == s.CurrentRev && compact == s.CompactRev {
		// Open hashed the records above compact: hash those at or below
		// it that the key index keeps, and append.
		stop = compact
	}
	if stop < rev && s.prefixCount == 0 {
		return &HashKV{Hash: crc32Combine(crc32.Castagnoli, h.Sum32(), s.suffixCRC, s.suffixLen), CompactRevision: compact, HashRevision: rev}, nil
	}
	err := s.hashed(rev, compact, stop, func(k, v []byte) error {
		h.Write(k)
		h.Write(v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sum := h.Sum32()
	if stop < rev {
		sum = crc32Combine(crc32.Castagnoli, sum, s.suffixCRC, s.suffixLen)
	}
	return &HashKV{Hash: sum, CompactRevision: compact, HashRevision: rev}, nil
}

// HashedRecords calls fn with each key-bucket record HashKVAt(rev,
// compact) hashes, in the order it hashes them (the bucket's). Two
// members whose hashes differ differ first at the first record where
// these streams differ. The slices are valid only during the call.
func (s *Store) HashedRecords(rev, compact int64, fn func(k, v []byte) error) error {
	return s.hashed(rev, compact, rev, fn)
}

// hashed is HashedRecords up to main revision stop (at most rev).
func (s *Store) hashed(rev, compact, stop int64, fn func(k, v []byte) error) error {
	keep := s.idx.keepAt(rev)
	err := s.src.ForEach(KeyBucket, func(k, v []byte) error {
		r, tomb, err := DecodeRevisionKey(k)
		if err != nil {
			return nil
		}
		if r.Main > stop {
			return errStop
		}
		if r.Main <= compact && len(keep) > 0 {
			if _, ok := keep[r]; !ok {
				return nil
			}
		}
		if r.Main == compact && tomb {
			return nil
		}
		return fn(k, v)
	})
	if errors.Is(err, errStop) { // a Source may hand errStop back
		err = nil
	}
	return err
}

// Keys returns how many keys the index holds (deleted ones included).
func (s *Store) Keys() int { return len(s.idx.keys) }

// LiveKey is a key live at the store's current revision, as the key index
// holds it: the revision of the put that made the value live, the
// revision of its generation's first put, and its version.
type LiveKey struct {
	Key     string
	Mod     Revision
	Created Revision
	Version int64
}

// Live yields the keys live at the current revision in key order, from
// the key index alone: no record is read, and nothing is held beyond the
// index.
func (s *Store) Live() iter.Seq[LiveKey] {
	return func(yield func(LiveKey) bool) {
		for _, k := range s.idx.keys {
			if mod, created, ver, ok := s.idx.byKey[k].get(s.CurrentRev); ok && !yield(LiveKey{k, mod, created, ver}) {
				return
			}
		}
	}
}

// Event is one change to a key: a put, or a delete (a tombstone, whose
// KV holds only the key and, as etcd's watch sends it, the revision).
type Event struct {
	Rev    Revision
	Delete bool
	KV     KeyValue
}

// Events calls fn for every change to the keys in [key, end) (end as for
// Range) at main revision from or later, in revision order, as etcd's
// watch replays its history. from must not be below the compaction
// revision (etcd answers a watch from below it as compacted). KV aliases
// the source's bytes for the time of the call.
func (s *Store) Events(from int64, key, end []byte, fn func(Event) error) error {
	if from < s.CompactRev {
		return fmt.Errorf("%w (requested %d, compacted at %d)", ErrCompacted, from, s.CompactRev)
	}
	in := func(k []byte) bool {
		switch {
		case end == nil:
			return bytes.Equal(k, key)
		case len(end) == 0:
			return bytes.Compare(k, key) >= 0
		}
		return bytes.Compare(k, key) >= 0 && bytes.Compare(k, end) < 0
	}
	visit := func(k, v []byte) error {
		r, tomb, err := DecodeRevisionKey(k)
		if err != nil || r.Main < from {
			return nil
		}
		kv, err := DecodeKeyValue(v)
		if err != nil || !in(kv.Key) {
			return nil
		}
		if tomb {
			kv = KeyValue{Key: kv.Key, ModRevision: r.Main}
		}
		return fn(Event{Rev: r, Delete: tomb, KV: kv})
	}
	if sk, ok := s.src.(Seeker); ok {
		return sk.ForEachFrom(KeyBucket, AppendRevisionKey(nil, Revision{Main: from}, false), visit)
	}
	return s.src.ForEach(KeyBucket, visit)
}
