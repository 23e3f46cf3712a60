package replay

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/finding"
	"github.com/etcdscope/etcdscope/mvccview"
	"github.com/etcdscope/etcdscope/snapfmt"
	"github.com/etcdscope/etcdscope/walfmt"
)

// copyBase copies a base db to out, without the SHA-256 trailer etcdctl
// snapshot save appends when snapfmt finds one that verifies. It returns
// whether a trailer was dropped.
func copyBase(base, out string) (bool, error) {
	d, err := snapfmt.OpenDBFile(base, snapfmt.Options{}) // read-only; the base is evidence too
	if err != nil {
		return false, err
	}
	if err := checkBase(base); err != nil {
		return false, err
	}
	in, err := os.Open(base)
	if err != nil {
		return false, err
	}
	defer in.Close()
	trailer := d.Trailer == snapfmt.TrailerOK
	n := d.Size
	if trailer {
		n = d.DataLength
	}
	f, err := os.OpenFile(out, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return false, err
	}
	if _, err := io.Copy(f, io.NewSectionReader(in, 0, n)); err != nil {
		f.Close()
		os.Remove(out)
		return false, err
	}
	if err := f.Close(); err != nil {
		os.Remove(out)
		return false, err
	}
	return trailer, nil
}

// ErrDamagedBase is returned (wrapped, with the first problem) when the
// base db's pages do not pass the checking walk: bbolt, which the replay
// writes the base's copy with, would panic or corrupt it further.
var ErrDamagedBase = errors.New("replay: the base db is damaged")

// checkBase runs boltfmt's checking walk over the base, read-only, and
// refuses it at the first problem at error severity.
func checkBase(path string) error {
	db, err := boltfmt.Open(path, boltfmt.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	walk, err := db.Walk(boltfmt.WalkOptions{})
	if err != nil {
		return err
	}
	for _, p := range walk.Problems {
		if boltfmt.SeverityOf(p) == finding.Error {
			return fmt.Errorf("%w: %v; run etcdscope bolt check on it (repair bolt or repair salvage make a usable copy)", ErrDamagedBase, p)
		}
	}
	return nil
}

// ChooseBase picks the base for a replay of a member whose WAL no longer
// starts at index 1, in its snap directory: the newest .snap.db (by the
// raft index in its name) that snapfmt finds usable, a bbolt file with no
// problem (its SHA-256 trailer, when it has one, matching), else the
// member's own db, which then is not an independent rebuild (memberDB),
// else none (""). It only reads.
func ChooseBase(snapDir string) (path string, memberDB bool, err error) {
	ents, err := os.ReadDir(snapDir)
	if err != nil {
		return "", false, err
	}
	var dbs []string // %016x.snap.db: name order is index order
	for _, e := range ents {
		if _, ok := snapfmt.ParseDBName(e.Name()); ok && e.Type().IsRegular() {
			dbs = append(dbs, filepath.Join(snapDir, e.Name()))
		}
	}
	for _, p := range slices.Backward(dbs) {
		if d, err := snapfmt.OpenDBFile(p, snapfmt.Options{}); err == nil && d.Bolt && len(d.Problems) == 0 {
			return p, false, nil
		}
	}
	db := filepath.Join(snapDir, "db")
	if st, err := os.Stat(db); err == nil && st.Mode().IsRegular() {
		return db, true, nil
	}
	return "", false, nil
}

// baseState is where a base db stands in raft.
type baseState struct {
	index, term uint64
	confState   walfmt.ConfState
}

// loadBase rebuilds the store's state from the base db, read through
// mvccview's decoders, as etcd rebuilds its own on start (the key index,
// leases and their keys, auth, members, alarms, compaction).
func (s *store) loadBase(src mvccview.Source) (baseState, error) {
	meta, err := mvccview.ReadMeta(src)
	if err != nil {
		return baseState{}, err
	}
	b := baseState{index: meta.ConsistentIndex, term: meta.Term}
	if cs, err := meta.DecodeConfState(); err == nil {
		b.confState = cs
	}
	s.compactRev = meta.CompactRev()
	for _, load := range []func(mvccview.Source) error{s.loadKeys, s.loadLeases, s.loadAuth, s.loadCluster, s.loadMembers} {
		if err := load(src); err != nil {
			return baseState{}, err
		}
	}
	return b, nil
}

// loadKeys rebuilds the key index and the live keys from the key bucket.
func (s *store) loadKeys(src mvccview.Source) error {
	err := src.ForEach(mvccview.KeyBucket, func(k, v []byte) error {
		rev, tomb, err := mvccview.DecodeRevisionKey(k)
		if err != nil {
			return nil
		}
		kv, err := mvccview.DecodeKeyValue(v)
		if err != nil {
			return nil
		}
		kv.Key, kv.Value = bytes.Clone(kv.Key), bytes.Clone(kv.Value)
		key := string(kv.Key)
		s.idx.Restore(key, rev, tomb, &kv)
		if tomb {
			delete(s.live, key)
		} else {
			kv := kv
			s.live[key] = &kv
		}
		s.rev = max(s.rev, rev.Main)
		return nil
	})
	s.rev = max(s.rev, s.compactRev)
	return err
}

// loadLeases reads the lease bucket and attaches the live keys to their
// leases.
func (s *store) loadLeases(src mvccview.Source) error {
	err := src.ForEach(mvccview.LeaseBucket, func(k, v []byte) error {
		l := mvccview.DecodeLease(k, v)
		s.leases[l.ID] = &lease{ttl: l.TTL, keys: map[string]bool{}}
		return nil
	})
	for key, kv := range s.live {
		if l := s.leases[kv.Lease]; l != nil && kv.Lease != 0 {
			l.keys[key] = true
		}
	}
	return err
}

// loadAuth reads the auth buckets.
func (s *store) loadAuth(src mvccview.Source) error {
	a, err := mvccview.ReadAuth(src)
	if err != nil {
		return err
	}
	// etcd's auth store starts at revision 1 when the db holds none (or 0).
	s.auth.enabled, s.auth.revision = a.Enabled, max(a.Revision, 1)
	for _, u := range a.Users {
		s.auth.users[u.Name] = &authUser{password: u.Password, roles: u.Roles, noPassword: u.NoPassword}
	}
	for _, r := range a.Roles {
		perms := make([]authPerm, 0, len(r.Permissions))
		for _, p := range r.Permissions {
			perms = append(perms, authPerm{typ: p.PermType, key: p.Key, rangeEnd: p.RangeEnd})
		}
		s.auth.roles[r.Name] = perms
	}
	return nil
}

// loadCluster reads the cluster version and the alarms, and selects the
// appliers as etcd does when it starts.
func (s *store) loadCluster(src mvccview.Source) error {
	c, err := mvccview.ReadCluster(src)
	if err != nil {
		return err
	}
	s.clusterVer = c.ClusterVersion
	err = mvccview.ReadAlarms(src, func(member uint64, alarm int32) {
		s.alarms.active[alarmKey{member, walfmt.AlarmType(alarm)}] = true
	})
	s.alarms.restore()
	return err
}

// loadMembers reads the members bucket; a record that does not decode is
// left out.
func (s *store) loadMembers(src mvccview.Source) error {
	return src.ForEach(mvccview.MembersBucket, func(k, v []byte) error {
		id, err := mvccview.ParseMemberKey(k)
		if err != nil {
			return nil
		}
		if m, err := mvccview.DecodeMember(k, v); err == nil {
			s.members[id] = &walfmt.Member{ID: id, Name: m.Name, PeerURLs: m.PeerURLs, ClientURLs: m.ClientURLs, IsLearner: m.IsLearner}
		}
		return nil
	})
}
