package mvccview

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/etcdscope/etcdscope/internal/pbwire"
)

// Lease is a leasepb.Lease from the lease bucket, with the keys attached
// to it (the newest live record of each key that names it).
type Lease struct {
	ID           int64    `json:"id"`
	TTL          int64    `json:"ttl"`
	RemainingTTL int64    `json:"remaining_ttl,omitempty"`
	Keys         []string `json:"keys"`
	Problem      string   `json:"problem,omitempty"`
}

// MarshalJSON writes the id as etcd prints lease ids: 16 hex digits.
func (l Lease) MarshalJSON() ([]byte, error) {
	type plain Lease
	return json.Marshal(struct {
		ID string `json:"id"`
		plain
	}{pbwire.HexID(l.ID).String(), plain(l)})
}

// leaseText is a key's lease: its id, or nothing for none.
func leaseText(id int64) string {
	if id == 0 {
		return ""
	}
	return pbwire.HexID(id).String()
}

// Leases are the lease bucket's leases (mvcc leases -w json lists them).
type Leases []Lease

// Leases decodes the lease bucket, each lease with its keys; none is an
// empty list.
func (s *Store) Leases() (Leases, error) {
	byLease := map[int64][]string{}
	for k, id := range s.leaseByKey {
		byLease[id] = append(byLease[id], k)
	}
	out := Leases{}
	err := s.src.ForEach(LeaseBucket, func(k, v []byte) error {
		l := DecodeLease(k, v)
		l.Keys = byLease[l.ID]
		sort.Strings(l.Keys)
		if l.Keys == nil {
			l.Keys = []string{}
		}
		out = append(out, l)
		return nil
	})
	return out, err
}

// DecodeLease decodes a record of the lease bucket (key: 8-byte big-endian
// id; value: leasepb.Lease{ID=1, TTL=2, RemainingTTL=3}), without its keys.
// The ID is the record's, as etcd's lessor reads it, else the key's;
// Problem says what does not decode.
func DecodeLease(k, v []byte) Lease {
	var l Lease
	if len(k) == 8 {
		l.ID = int64(binary.BigEndian.Uint64(k))
	} else {
		l.Problem = fmt.Sprintf("key of %d bytes, want 8", len(k))
	}
	if err := pbwire.Varints(v, "Lease", pbwire.Proto, &l.ID, &l.TTL, &l.RemainingTTL); err != nil {
		l.Problem = err.Error()
	}
	return l
}

// Member is a member record from the members bucket (JSON, as etcd writes
// it), or a removed member.
type Member struct {
	ID         string   `json:"id"` // hex, as the bucket's key has it
	Name       string   `json:"name,omitempty"`
	PeerURLs   []string `json:"peer_urls,omitempty"`
	ClientURLs []string `json:"client_urls,omitempty"`
	IsLearner  bool     `json:"is_learner,omitempty"`
	Removed    bool     `json:"removed,omitempty"`
	Problem    string   `json:"problem,omitempty"`
}

// MarshalJSON writes the id as [Member.HexID] does.
func (m Member) MarshalJSON() ([]byte, error) {
	type plain Member
	return json.Marshal(struct {
		ID string `json:"id"`
		plain
	}{m.HexID(), plain(m)})
}

// HexID is the member's id in 16 hex digits (the bucket's key has no
// leading zeros), or as the key is when that is not hex.
func (m Member) HexID() string {
	if x, err := strconv.ParseUint(m.ID, 16, 64); err == nil {
		return pbwire.HexID(x).String()
	}
	return m.ID
}

// Members are the members and removed members of the members buckets
// (mvcc members -w json lists them).
type Members []Member

// Members decodes the members and members_removed buckets; none is an
// empty list.
func (s *Store) Members() (Members, error) {
	out := Members{}
	err := s.src.ForEach(MembersBucket, func(k, v []byte) error {
		m, _ := DecodeMember(k, v)
		out = append(out, m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.src.ForEach(MembersRemovedBucket, func(k, v []byte) error {
		out = append(out, Member{ID: string(k), Removed: true})
		return nil
	})
	return out, err
}

// DecodeMember decodes a record of the members bucket: etcd's
// membership.Member JSON under the member id in hex ([MemberKey]). The
// error, also in Problem, says the JSON does not decode; a record whose id
// differs from its key decodes, with a Problem.
func DecodeMember(k, v []byte) (Member, error) {
	var raw struct {
		ID         json.Number `json:"id"`
		Name       string      `json:"name"`
		PeerURLs   []string    `json:"peerURLs"`
		ClientURLs []string    `json:"clientURLs"`
		IsLearner  bool        `json:"isLearner"`
	}
	m := Member{ID: string(k)}
	if err := json.Unmarshal(v, &raw); err != nil {
		m.Problem = err.Error()
		return m, err
	}
	m.Name, m.PeerURLs, m.ClientURLs, m.IsLearner = raw.Name, raw.PeerURLs, raw.ClientURLs, raw.IsLearner
	if id, err := strconv.ParseUint(string(raw.ID), 10, 64); err == nil && strconv.FormatUint(id, 16) != string(k) {
		m.Problem = fmt.Sprintf("record id %x differs from its key %s", id, k)
	}
	return m, nil
}

// Auth is the auth buckets decoded (passwords are never shown, only
// whether a user has one).
type Auth struct {
	Enabled  bool       `json:"enabled"`
	Revision uint64     `json:"revision"`
	Users    []AuthUser `json:"users"`
	Roles    []AuthRole `json:"roles"`
}

type AuthUser struct {
	Name        string   `json:"name"`
	Roles       []string `json:"roles"`
	HasPassword bool     `json:"has_password"`
	NoPassword  bool     `json:"no_password,omitempty"`
	Problem     string   `json:"problem,omitempty"`
	// Password is the bcrypt hash as stored, for a replay that rebuilds
	// the auth store; it is never shown.
	Password []byte `json:"-"`
}

type AuthRole struct {
	Name        string           `json:"name"`
	Permissions []AuthPermission `json:"permissions"`
	Problem     string           `json:"problem,omitempty"`
}

type AuthPermission struct {
	Type     string `json:"type"` // READ, WRITE, READWRITE
	Key      []byte `json:"key"`
	RangeEnd []byte `json:"range_end,omitempty"`
	// PermType is authpb.Permission_Type as stored (0 READ, 1 WRITE,
	// 2 READWRITE), which Type names.
	PermType uint64 `json:"-"`
}

// Auth decodes the auth, authUsers (authpb.User{name=1, password=2,
// roles=3, options=4{no_password=1}}) and authRoles (authpb.Role{name=1,
// keyPermission=2{permType=1, key=2, range_end=3}}) buckets.
func (s *Store) Auth() (*Auth, error) { return ReadAuth(s.src) }

// ReadAuth is [Store.Auth] for a Source read without its key index.
func ReadAuth(src Source) (*Auth, error) {
	a := &Auth{Users: []AuthUser{}, Roles: []AuthRole{}}
	err := src.ForEach(AuthBucket, func(k, v []byte) error {
		switch string(k) {
		case AuthEnabled:
			a.Enabled = len(v) == 1 && v[0] == 1
		case AuthRevision:
			if len(v) == 8 {
				a.Revision = binary.BigEndian.Uint64(v)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = src.ForEach(AuthUsersBucket, func(k, v []byte) error {
		u := AuthUser{Name: string(k), Roles: []string{}}
		if err := decodeUser(v, &u); err != nil {
			u.Problem = err.Error()
		}
		a.Users = append(a.Users, u)
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = src.ForEach(AuthRolesBucket, func(k, v []byte) error {
		r := AuthRole{Name: string(k), Permissions: []AuthPermission{}}
		if err := decodeRole(v, &r); err != nil {
			r.Problem = err.Error()
		}
		a.Roles = append(a.Roles, r)
		return nil
	})
	return a, err
}

// decodeUser decodes an authpb.User.
func decodeUser(v []byte, u *AuthUser) error {
	return pbwire.Walk(v, "User", pbwire.Proto, func(f pbwire.Field) error {
		switch f.Num {
		case 2:
			if f.Type == protowire.BytesType {
				u.HasPassword, u.Password = len(f.B) > 0, bytes.Clone(f.B)
			}
		case 3:
			return f.AppendText(&u.Roles)
		case 4:
			it, ok, err := f.Message("UserAddOptions")
			if !ok {
				return err
			}
			return it.Each(func(f pbwire.Field) error {
				if f.Num == 1 {
					return f.Bool(&u.NoPassword)
				}
				return nil
			})
		}
		return nil
	})
}

// decodeRole decodes an authpb.Role.
func decodeRole(v []byte, r *AuthRole) error {
	return pbwire.Walk(v, "Role", pbwire.Proto, func(f pbwire.Field) error {
		if f.Num != 2 {
			return nil
		}
		it, ok, err := f.Message("Permission")
		if !ok {
			return err
		}
		var p AuthPermission
		err = it.Each(func(f pbwire.Field) error {
			switch f.Num {
			case 1:
				return f.Uint64(&p.PermType)
			case 2:
				return f.Bytes(&p.Key)
			case 3:
				return f.Bytes(&p.RangeEnd)
			}
			return nil
		})
		p.Type = permissionTypes[min(p.PermType, 2)]
		if p.PermType > 2 {
			p.Type = fmt.Sprintf("type(%d)", p.PermType)
		}
		p.Key, p.RangeEnd = append([]byte(nil), p.Key...), append([]byte(nil), p.RangeEnd...) // copies; nil when empty
		r.Permissions = append(r.Permissions, p)
		return err
	})
}

// permissionTypes names authpb.Permission_Type.
var permissionTypes = [...]string{"READ", "WRITE", "READWRITE"}

// Cluster is the cluster and alarm buckets.
type Cluster struct {
	ClusterVersion string   `json:"cluster_version,omitempty"`
	Downgrade      string   `json:"downgrade,omitempty"` // JSON as stored
	Alarms         []string `json:"alarms"`
}

// Cluster decodes the cluster bucket and the alarm bucket (keys are
// etcdserverpb.AlarmMember{memberID=1, alarm=2}).
func (s *Store) Cluster() (*Cluster, error) { return ReadCluster(s.src) }

// ReadCluster is [Store.Cluster] for a Source read without its key index.
func ReadCluster(src Source) (*Cluster, error) {
	c := &Cluster{Alarms: []string{}}
	err := src.ForEach(ClusterBucket, func(k, v []byte) error {
		switch string(k) {
		case ClusterVersion:
			c.ClusterVersion = string(v)
		case ClusterDowngrade:
			c.Downgrade = string(v)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = src.ForEach(AlarmBucket, func(k, v []byte) error {
		member, alarm, err := decodeAlarmMember(k)
		if err != nil {
			c.Alarms = append(c.Alarms, fmt.Sprintf("undecodable alarm key %x: %v", k, err))
			return nil
		}
		name := [...]string{"NONE", "NOSPACE", "CORRUPT"}[min(alarm, 2)]
		c.Alarms = append(c.Alarms, fmt.Sprintf("%s on member %x", name, member))
		return nil
	})
	return c, err
}

// Alarms calls fn for every alarm the alarm bucket records (keys are
// etcdserverpb.AlarmMember{memberID=1, alarm=2}); a key that does not
// decode is left out.
func (s *Store) Alarms(fn func(member uint64, alarm int32)) error { return ReadAlarms(s.src, fn) }

// ReadAlarms is [Store.Alarms] for a Source read without its key index.
func ReadAlarms(src Source, fn func(member uint64, alarm int32)) error {
	return src.ForEach(AlarmBucket, func(k, _ []byte) error {
		if member, alarm, err := decodeAlarmMember(k); err == nil {
			fn(member, int32(alarm))
		}
		return nil
	})
}

// decodeAlarmMember decodes an etcdserverpb.AlarmMember, the key of an
// alarm record.
func decodeAlarmMember(k []byte) (member, alarm uint64, err error) {
	err = pbwire.Varints(k, "AlarmMember", pbwire.Proto, &member, &alarm)
	return member, alarm, err
}
