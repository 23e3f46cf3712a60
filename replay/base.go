package replay

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"io"
	"os"
	"strconv"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/etcdscope/etcdscope/mvccview"
	"github.com/etcdscope/etcdscope/walfmt"
)

// copyBase copies a base db to out, without the 32-byte SHA-256 trailer
// etcdctl snapshot save appends (when the file has one and it verifies).
// It returns whether a trailer was dropped.
func copyBase(base, out string) (bool, error) {
	in, err := os.Open(base) // read-only; the base is evidence too
	if err != nil {
		return false, err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return false, err
	}
	n := st.Size()
	trailer := false
	if n%512 == sha256.Size && n > sha256.Size {
		h := sha256.New()
		if _, err := io.Copy(h, io.NewSectionReader(in, 0, n-sha256.Size)); err != nil {
			return false, err
		}
		want := make([]byte, sha256.Size)
		if _, err := in.ReadAt(want, n-sha256.Size); err != nil {
			return false, err
		}
		if bytes.Equal(h.Sum(nil), want) {
			n, trailer = n-sha256.Size, true
		}
	}
	f, err := os.OpenFile(out, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return false, err
	}
	if _, err := io.Copy(f, io.NewSectionReader(in, 0, n)); err != nil {
		f.Close()
		return false, err
	}
	return trailer, f.Close()
}

// baseState is where a base db stands in raft.
type baseState struct {
	index, term uint64
	confState   walfmt.ConfState
}

// loadBase rebuilds the store's state from the db the writer has open, as
// etcd rebuilds its own on start (the key index, leases and their keys,
// auth, members, compaction).
func (s *store) loadBase(tx *bolt.Tx) (baseState, error) {
	var b baseState
	meta := tx.Bucket([]byte("meta"))
	if v := meta.Get([]byte("consistent_index")); len(v) == 8 {
		b.index = binary.BigEndian.Uint64(v)
	}
	if v := meta.Get([]byte("term")); len(v) == 8 {
		b.term = binary.BigEndian.Uint64(v)
	}
	if v := meta.Get([]byte("confState")); v != nil {
		var cs struct {
			Voters   []uint64 `json:"voters"`
			Learners []uint64 `json:"learners"`
		}
		if json.Unmarshal(v, &cs) == nil {
			b.confState = walfmt.ConfState{Voters: cs.Voters, Learners: cs.Learners}
		}
	}
	finished, scheduled := int64(-1), int64(-1)
	for name, dst := range map[string]*int64{"finishedCompactRev": &finished, "scheduledCompactRev": &scheduled} {
		if v := meta.Get([]byte(name)); v != nil {
			if r, _, err := mvccview.DecodeRevisionKey(v); err == nil {
				*dst = r.Main
			}
		}
	}
	s.compactRev = max(finished, scheduled)

	c := tx.Bucket([]byte("key")).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		rev, tomb, err := mvccview.DecodeRevisionKey(k)
		if err != nil {
			continue
		}
		kv, err := mvccview.DecodeKeyValue(v)
		if err != nil {
			continue
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
	}
	s.rev = max(s.rev, s.compactRev)

	lc := tx.Bucket([]byte("lease")).Cursor()
	for k, v := lc.First(); k != nil; k, v = lc.Next() {
		if len(k) != 8 {
			continue
		}
		l := &lease{keys: map[string]bool{}}
		fieldsOf(v, func(num protowire.Number, x uint64, _ []byte) {
			if num == 2 {
				l.ttl = int64(x)
			}
		})
		s.leases[int64(binary.BigEndian.Uint64(k))] = l
	}
	for key, kv := range s.live {
		if l := s.leases[kv.Lease]; l != nil && kv.Lease != 0 {
			l.keys[key] = true
		}
	}

	ab := tx.Bucket([]byte("auth"))
	s.auth.enabled = bytes.Equal(ab.Get([]byte("authEnabled")), []byte{1})
	if v := ab.Get([]byte("authRevision")); len(v) == 8 {
		s.auth.revision = binary.BigEndian.Uint64(v)
	}
	uc := tx.Bucket([]byte("authUsers")).Cursor()
	for k, v := uc.First(); k != nil; k, v = uc.Next() {
		u := &authUser{roles: []string{}}
		fieldsOf(v, func(num protowire.Number, _ uint64, bs []byte) {
			switch num {
			case 2:
				u.password = bytes.Clone(bs)
			case 3:
				u.roles = append(u.roles, string(bs))
			case 4:
				fieldsOf(bs, func(n protowire.Number, x uint64, _ []byte) {
					if n == 1 {
						u.noPassword = x != 0
					}
				})
			}
		})
		s.auth.users[string(k)] = u
	}
	rc := tx.Bucket([]byte("authRoles")).Cursor()
	for k, v := rc.First(); k != nil; k, v = rc.Next() {
		perms := []authPerm{}
		fieldsOf(v, func(num protowire.Number, _ uint64, bs []byte) {
			if num != 2 {
				return
			}
			var p authPerm
			fieldsOf(bs, func(n protowire.Number, x uint64, b []byte) {
				switch n {
				case 1:
					p.typ = x
				case 2:
					p.key = bytes.Clone(b)
				case 3:
					p.rangeEnd = bytes.Clone(b)
				}
			})
			perms = append(perms, p)
		})
		s.auth.roles[string(k)] = perms
	}

	if b := tx.Bucket([]byte("cluster")); b != nil {
		s.clusterVer = string(b.Get([]byte("clusterVersion")))
	}
	if b := tx.Bucket([]byte("alarm")); b != nil {
		c := b.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			var a alarmKey
			fieldsOf(k, func(num protowire.Number, x uint64, _ []byte) {
				switch num {
				case 1:
					a.member = x
				case 2:
					a.typ = walfmt.AlarmType(x)
				}
			})
			s.alarms.active[a] = true
		}
	}
	s.alarms.restore() // as etcd selects its appliers when it starts

	mc := tx.Bucket([]byte("members")).Cursor()
	for k, v := mc.First(); k != nil; k, v = mc.Next() {
		id, err := strconv.ParseUint(string(k), 16, 64)
		if err != nil {
			continue
		}
		var m struct {
			PeerURLs   []string `json:"peerURLs"`
			Name       string   `json:"name"`
			ClientURLs []string `json:"clientURLs"`
			IsLearner  bool     `json:"isLearner"`
		}
		if json.Unmarshal(v, &m) == nil {
			s.members[id] = &walfmt.Member{ID: id, Name: m.Name, PeerURLs: m.PeerURLs, ClientURLs: m.ClientURLs, IsLearner: m.IsLearner}
		}
	}
	return b, nil
}

// fieldsOf calls f for every varint and length-delimited field.
func fieldsOf(b []byte, f func(protowire.Number, uint64, []byte)) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return
		}
		b = b[n:]
		switch typ {
		case protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return
			}
			f(num, v, nil)
			b = b[n:]
		case protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return
			}
			f(num, 0, v)
			b = b[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return
			}
			b = b[n:]
		}
	}
}
