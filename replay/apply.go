package replay

import (
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"strings"

	"github.com/etcdscope/etcdscope/mvccview"
	"github.com/etcdscope/etcdscope/walfmt"
)

// store is the state a replay builds: the live keys with their current
// KeyValue, the key index, the leases, and the db it writes to.
type store struct {
	w          *writer
	idx        *mvccview.Index
	live       map[string]*mvccview.KeyValue
	rev        int64 // current main revision; the first write gets 2
	compactRev int64
	leases     map[int64]*lease
	members    map[uint64]*walfmt.Member
	auth       *authState
	alarms     *alarmState
	clusterVer string // the cluster version last set: 3.5 and 3.6 differ at apply
	stats      Stats
	damaged    map[uint64]bool // damaged entries taken (Options.IncludeDamaged)
	headerLost bool            // the request applied is damaged, its header lost: auth does not check it
}

type lease struct {
	ttl  int64
	keys map[string]bool
}

// Stats counts what a replay applied.
type Stats struct {
	Entries      int64            `json:"entries"`
	Requests     map[string]int64 `json:"requests"`
	Failed       map[string]int64 `json:"failed"`      // requests etcd would refuse at apply time
	Unsupported  map[string]int64 `json:"unsupported"` // kinds this replay does not apply yet
	Compactions  int64            `json:"compactions"`
	Deleted      int64            `json:"compacted_records"`
	ConfChanges  int64            `json:"conf_changes"`
	EmptyEntries int64            `json:"empty_entries"`
}

func newStore(w *writer) *store {
	return &store{w: w, idx: mvccview.NewIndex(), live: map[string]*mvccview.KeyValue{}, rev: 1, compactRev: -1,
		leases: map[int64]*lease{}, members: map[uint64]*walfmt.Member{}, auth: newAuthState(), alarms: newAlarmState(),
		stats: Stats{Requests: map[string]int64{}, Failed: map[string]int64{}, Unsupported: map[string]int64{}}}
}

// wtxn is one write transaction: every change gets main revision rev+1
// and the next sub revision; it takes a revision only if it changed
// something.
type wtxn struct {
	s       *store
	main    int64
	sub     int64
	changed bool
}

func (s *store) begin() *wtxn { return &wtxn{s: s, main: s.rev + 1} }

func (t *wtxn) end() {
	if t.changed {
		t.s.rev = t.main
	}
}

func (t *wtxn) next() mvccview.Revision {
	r := mvccview.Revision{Main: t.main, Sub: t.sub}
	t.sub++
	t.changed = true
	return r
}

func (t *wtxn) put(p *walfmt.PutRequest) error {
	s := t.s
	key := string(p.Key)
	prev := s.live[key]
	val, leaseID := p.Value, p.Lease
	if p.IgnoreValue || p.IgnoreLease {
		if prev == nil {
			return errKeyNotFound
		}
		if p.IgnoreValue {
			val = prev.Value
		}
		if p.IgnoreLease {
			leaseID = prev.Lease
		}
	}
	rev := t.next()
	// The entry's data is read from the WAL for the time it is applied:
	// what stays in memory is copied out of it, key and value in one piece.
	kb := make([]byte, len(p.Key)+len(val))
	copy(kb, p.Key)
	copy(kb[len(p.Key):], val)
	kv := &mvccview.KeyValue{Key: kb[:len(p.Key):len(p.Key)], Value: kb[len(p.Key):], ModRevision: rev.Main, Version: 1, CreateRevision: rev.Main, Lease: leaseID}
	if prev != nil {
		kv.CreateRevision, kv.Version = prev.CreateRevision, prev.Version+1
		if prev.Lease != 0 && prev.Lease != leaseID {
			s.detach(prev.Lease, key)
		}
	}
	if leaseID != 0 {
		if l := s.leases[leaseID]; l != nil {
			l.keys[key] = true
		}
	}
	s.live[key] = kv
	s.idx.Put(key, rev)
	return s.w.putRevision(rev, false, *kv)
}

func (s *store) detach(id int64, key string) {
	if l := s.leases[id]; l != nil {
		delete(l.keys, key)
	}
}

// between returns the live keys in [key, end), sorted; end nil means key
// alone, end empty every key from key on.
func (s *store) between(key, end []byte) []string {
	if end == nil {
		if _, ok := s.live[string(key)]; ok {
			return []string{string(key)}
		}
		return nil
	}
	var out []string
	for k := range s.live {
		if k >= string(key) && (len(end) == 0 || k < string(end)) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// rangeEnd turns a request's range_end into between's convention: absent
// means one key, "\x00" every key from key on.
func rangeEnd(end []byte) []byte {
	switch {
	case len(end) == 0:
		return nil
	case len(end) == 1 && end[0] == 0:
		return []byte{}
	}
	return end
}

func (t *wtxn) deleteRange(key, end []byte) error {
	s := t.s
	for _, k := range s.between(key, rangeEnd(end)) {
		prev := s.live[k]
		rev := t.next()
		if prev.Lease != 0 {
			s.detach(prev.Lease, k)
		}
		delete(s.live, k)
		s.idx.Tombstone(k, rev)
		if err := s.w.putRevision(rev, true, mvccview.KeyValue{Key: []byte(k)}); err != nil {
			return err
		}
	}
	return nil
}

// compare evaluates one txn compare against the live keys, as etcd's
// applyCompare.
func (s *store) compare(c *walfmt.Compare) bool {
	return mvccview.CompareRange(c, func(yield func(*mvccview.KeyValue) bool) {
		for _, k := range s.between(c.Key, rangeEnd(c.RangeEnd)) {
			if !yield(s.live[k]) {
				return
			}
		}
	})
}

// checkOps refuses a branch etcd would refuse before applying anything: a
// put naming a lease that does not exist, or ignoring the value or lease of
// a key that does not exist (etcd txn.go checkRequestPut).
func (s *store) checkOps(ops []walfmt.RequestOp) error {
	for i := range ops {
		op := &ops[i]
		switch {
		case op.Put != nil:
			p := op.Put
			if p.Lease != 0 && !p.IgnoreLease && s.leases[p.Lease] == nil {
				return errLeaseNotFound
			}
			if (p.IgnoreValue || p.IgnoreLease) && s.live[string(p.Key)] == nil {
				return errKeyNotFound
			}
		case op.Txn != nil:
			branch := op.Txn.Failure
			if s.allCompares(op.Txn.Compare) {
				branch = op.Txn.Success
			}
			if err := s.checkOps(branch); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *store) allCompares(cs []walfmt.Compare) bool {
	for i := range cs {
		if !s.compare(&cs[i]) {
			return false
		}
	}
	return true
}

// txnOps applies a branch's ops in order inside one write transaction.
func (t *wtxn) txnOps(ops []walfmt.RequestOp) error {
	for i := range ops {
		op := &ops[i]
		var err error
		switch {
		case op.Put != nil:
			err = t.put(op.Put)
		case op.DeleteRange != nil:
			err = t.deleteRange(op.DeleteRange.Key, op.DeleteRange.RangeEnd)
		case op.Txn != nil:
			branch := op.Txn.Failure
			if t.s.allCompares(op.Txn.Compare) {
				branch = op.Txn.Success
			}
			err = t.txnOps(branch)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// applyRequest applies one decoded normal entry; data is its raw bytes.
func (s *store) applyRequest(r *walfmt.Request, data []byte) error {
	s.stats.Requests[r.Kind]++
	err := s.refusal(r)
	switch {
	case err != nil:
		// Refused by etcd's auth or alarm appliers: nothing changes.
	case r.Put != nil:
		if r.Put.Lease != 0 && !r.Put.IgnoreLease && s.leases[r.Put.Lease] == nil {
			err = errLeaseNotFound
			break
		}
		t := s.begin()
		err = t.put(r.Put)
		t.end()
	case r.DeleteRange != nil:
		t := s.begin()
		err = t.deleteRange(r.DeleteRange.Key, r.DeleteRange.RangeEnd)
		t.end()
	case r.Txn != nil:
		branch := r.Txn.Failure
		if s.allCompares(r.Txn.Compare) {
			branch = r.Txn.Success
		}
		if err = s.checkOps(branch); err != nil {
			break
		}
		t := s.begin()
		err = t.txnOps(branch)
		t.end()
	case r.LeaseGrant != nil:
		if s.leases[r.LeaseGrant.ID] != nil {
			err = errors.New("lease already exists")
			break
		}
		s.leases[r.LeaseGrant.ID] = &lease{ttl: r.LeaseGrant.TTL, keys: map[string]bool{}}
		err = s.w.put(mvccview.LeaseBucket, mvccview.LeaseKey(r.LeaseGrant.ID), appendLease(r.LeaseGrant.ID, r.LeaseGrant.TTL))
	case r.LeaseRevoke != nil:
		err = s.revoke(r.LeaseRevoke.ID)
	case r.Compaction != nil:
		err = s.compact(r.Compaction.Revision)
	case authAppliers[r.Kind] != nil:
		err = s.applyAuth(r, data)
	case r.ClusterVersionSet != nil:
		s.clusterVer = r.ClusterVersionSet.Ver
		err = s.w.put(mvccview.ClusterBucket, []byte(mvccview.ClusterVersion), []byte(r.ClusterVersionSet.Ver))
	case r.ClusterMemberAttrSet != nil:
		a := r.ClusterMemberAttrSet
		err = s.setMemberAttrs(a.MemberID, a.Name, a.ClientURLs)
	case r.DowngradeInfoSet != nil:
		v, _ := json.Marshal(struct {
			Ver     string `json:"target-version"`
			Enabled bool   `json:"enabled"`
		}{r.DowngradeInfoSet.Ver, r.DowngradeInfoSet.Enabled})
		err = s.w.put(mvccview.ClusterBucket, []byte(mvccview.ClusterDowngrade), v)
	case r.Alarm != nil:
		err = s.applyAlarm(r.Alarm)
	case r.V2 != nil:
		err = s.applyV2(r.V2)
	case r.Kind == "empty" || r.Range != nil || r.LeaseCheckpoint != nil || r.Kind == "authenticate" ||
		r.Kind == "auth-status" || r.Kind == "auth-user-get" || r.Kind == "auth-role-get" ||
		r.Kind == "auth-user-list" || r.Kind == "auth-role-list" || r.Kind == "downgrade-version-test":
		// Nothing to write (reads, checkpoints of remaining TTLs, tokens).
	default:
		s.stats.Unsupported[r.Kind]++
	}
	if err != nil {
		s.stats.Failed[r.Kind]++
	}
	return nil
}

// refusal is the error etcd's auth and alarm appliers, in front of the
// others, give r, or nil when they pass it on.
func (s *store) refusal(r *walfmt.Request) error {
	var err error
	switch {
	case s.alarms.noAuth:
		// etcd 3.5 with an alarm raised while running: no auth applier.
	case s.headerLost:
		// A damaged entry's request whose header is lost
		// (Options.IncludeDamaged): who made it is not known.
	case needsAdmin(r.Kind):
		err = s.auth.admin(callerOf(r))
	default:
		err = s.checkWrite(r)
	}
	if err != nil {
		return err
	}
	return s.alarms.refuse(r)
}

// applyAlarm activates or deactivates an alarm: the alarm bucket's key is
// an etcdserverpb.AlarmMember{memberID=1, alarm=2}, its value empty.
func (s *store) applyAlarm(a *walfmt.AlarmRequest) error {
	if !s.alarms.apply(a, before36(s.clusterVer)) {
		return nil
	}
	var k []byte
	if a.MemberID != 0 {
		k = append(k, 0x08)
		k = appendUvarint(k, a.MemberID)
	}
	if a.Alarm != 0 {
		k = append(k, 0x10)
		k = appendUvarint(k, uint64(a.Alarm))
	}
	switch a.Action {
	case 1: // ACTIVATE
		return s.w.put(mvccview.AlarmBucket, k, []byte{})
	case 2: // DEACTIVATE
		return s.w.del(mvccview.AlarmBucket, k)
	}
	return nil // GET
}

// applyV2 applies the two legacy v2 requests etcd 3.6 still accepts (and
// 3.5 proposes at every start): member attributes and the cluster version.
func (s *store) applyV2(r *walfmt.V2Request) error {
	if r.Method != "PUT" {
		return nil
	}
	switch {
	case r.Path == "/0/version":
		s.clusterVer = r.Val
		return s.w.put(mvccview.ClusterBucket, []byte(mvccview.ClusterVersion), []byte(r.Val))
	case strings.HasPrefix(r.Path, "/0/members/") && strings.HasSuffix(r.Path, "/attributes"):
		id, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(r.Path, "/0/members/"), "/attributes"), 16, 64)
		if err != nil {
			return errNotFound
		}
		var attrs struct {
			Name       string   `json:"name"`
			ClientURLs []string `json:"clientURLs"`
		}
		if err := json.Unmarshal([]byte(r.Val), &attrs); err != nil {
			return errNotFound
		}
		return s.setMemberAttrs(id, attrs.Name, attrs.ClientURLs)
	}
	return nil
}

// revoke deletes a lease and, in one write transaction, its keys in key
// order (etcd lessor.Revoke).
func (s *store) revoke(id int64) error {
	l := s.leases[id]
	if l == nil {
		return errLeaseNotFound
	}
	keys := make([]string, 0, len(l.keys))
	for k := range l.keys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	t := s.begin()
	for _, k := range keys {
		if err := t.deleteRange([]byte(k), nil); err != nil {
			return err
		}
	}
	t.end()
	delete(s.leases, id)
	return s.w.del(mvccview.LeaseBucket, mvccview.LeaseKey(id))
}

// compact schedules and performs a compaction, as etcd does (the physical
// part asynchronously, which a replay does at once).
func (s *store) compact(rev int64) error {
	if rev <= s.compactRev {
		return mvccview.ErrCompacted
	}
	if rev > s.rev {
		return mvccview.ErrFutureRev
	}
	s.compactRev = rev
	if err := s.w.compactMark(mvccview.MetaScheduledCompactRev, rev); err != nil {
		return err
	}
	deleted := s.idx.Compact(rev)
	for _, d := range deleted {
		if err := s.w.del(mvccview.KeyBucket, mvccview.AppendRevisionKey(s.w.alloc(18), d.Rev, d.Tombstone)); err != nil {
			return err
		}
	}
	n := len(deleted)
	s.stats.Compactions++
	s.stats.Deleted += int64(n)
	return s.w.compactMark(mvccview.MetaFinishedCompactRev, rev)
}

// appendLease encodes a leasepb.Lease{ID=1, TTL=2}.
func appendLease(id, ttl int64) []byte {
	var b []byte
	if id != 0 {
		b = append(b, 0x08)
		b = appendUvarint(b, uint64(id))
	}
	if ttl != 0 {
		b = append(b, 0x10)
		b = appendUvarint(b, uint64(ttl))
	}
	return b
}

func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}
