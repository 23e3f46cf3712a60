package replay

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"sort"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/etcdscope/etcdscope/mvccview"
	"github.com/etcdscope/etcdscope/walfmt"
)

// authState mirrors etcd's auth store (server/auth/store.go): users, roles,
// whether auth is enabled, and the auth revision, which etcd sets to 1 when
// its auth store first starts and raises on every change but enabling.
type authState struct {
	enabled  bool
	revision uint64
	users    map[string]*authUser
	roles    map[string][]authPerm

	perms    map[string]*userPerms // merged permissions, valid at permsRev
	permsRev uint64
}

type authUser struct {
	password   []byte
	roles      []string
	noPassword bool
}

type authPerm struct {
	typ           uint64
	key, rangeEnd []byte
}

var (
	errAuth     = errors.New("auth request refused")
	errNotFound = errors.New("not found")
)

func newAuthState() *authState {
	return &authState{revision: 1, users: map[string]*authUser{}, roles: map[string][]authPerm{}}
}

const rootUser, rootRole = "root", "root"

// applyAuth applies an auth request; data is the entry's raw bytes, for the
// hashed password the decoded request does not carry.
func (s *store) applyAuth(r *walfmt.Request, data []byte) error {
	a, req := s.auth, r.Auth
	bump := func() error {
		a.revision++
		return s.w.put(mvccview.AuthBucket, []byte(mvccview.AuthRevision), u64(a.revision))
	}
	switch r.Kind {
	case "auth-enable":
		u := a.users[rootUser]
		if u == nil || !contains(u.roles, rootRole) {
			return errAuth
		}
		a.enabled = true
		return s.w.put(mvccview.AuthBucket, []byte(mvccview.AuthEnabled), []byte{1})
	case "auth-disable":
		a.enabled = false
		if err := s.w.put(mvccview.AuthBucket, []byte(mvccview.AuthEnabled), []byte{0}); err != nil {
			return err
		}
		return bump()
	case "auth-user-add":
		if req.Name == "" || a.users[req.Name] != nil {
			return errAuth
		}
		u := &authUser{noPassword: req.NoPassword, roles: []string{}}
		if !u.noPassword {
			u.password = hashedPassword(data)
		}
		a.users[req.Name] = u
		if err := s.putUser(req.Name, u); err != nil {
			return err
		}
		return bump()
	case "auth-user-delete":
		if a.users[req.Name] == nil || (a.enabled && req.Name == rootUser) {
			return errAuth
		}
		delete(a.users, req.Name)
		if err := s.w.del(mvccview.AuthUsersBucket, []byte(req.Name)); err != nil {
			return err
		}
		return bump()
	case "auth-user-change-password":
		u := a.users[req.Name]
		if u == nil {
			return errNotFound
		}
		u.password = hashedPassword(data)
		if err := s.putUser(req.Name, u); err != nil {
			return err
		}
		return bump()
	case "auth-user-grant-role":
		u := a.users[req.Name]
		if u == nil {
			return errNotFound
		}
		if _, ok := a.roles[req.Role]; !ok && req.Role != rootRole {
			return errNotFound
		}
		if contains(u.roles, req.Role) {
			return nil // etcd ignores a duplicate grant
		}
		u.roles = append(u.roles, req.Role)
		sort.Strings(u.roles)
		if err := s.putUser(req.Name, u); err != nil {
			return err
		}
		return bump()
	case "auth-user-revoke-role":
		u := a.users[req.Name]
		if u == nil || !contains(u.roles, req.Role) || (a.enabled && req.Name == rootUser && req.Role == rootRole) {
			return errAuth
		}
		out := u.roles[:0]
		for _, r := range u.roles {
			if r != req.Role {
				out = append(out, r)
			}
		}
		u.roles = out
		if err := s.putUser(req.Name, u); err != nil {
			return err
		}
		return bump()
	case "auth-role-add":
		if req.Role == "" {
			return errAuth
		}
		if _, ok := a.roles[req.Role]; ok {
			return errAuth
		}
		a.roles[req.Role] = []authPerm{}
		if err := s.putRole(req.Role); err != nil {
			return err
		}
		return bump()
	case "auth-role-delete":
		if _, ok := a.roles[req.Role]; !ok || (a.enabled && req.Role == rootRole) {
			return errAuth
		}
		delete(a.roles, req.Role)
		if err := s.w.del(mvccview.AuthRolesBucket, []byte(req.Role)); err != nil {
			return err
		}
		for name, u := range a.users {
			if contains(u.roles, req.Role) {
				out := []string{}
				for _, r := range u.roles {
					if r != req.Role {
						out = append(out, r)
					}
				}
				u.roles = out
				if err := s.putUser(name, u); err != nil {
					return err
				}
			}
		}
		return bump()
	case "auth-role-grant-permission":
		perms, ok := a.roles[req.Role]
		if !ok || req.Perm == nil {
			return errNotFound
		}
		p := authPerm{typ: uint64(req.Perm.Type), key: bytes.Clone(req.Perm.Key), rangeEnd: bytes.Clone(req.Perm.RangeEnd)}
		i := sort.Search(len(perms), func(i int) bool { return bytes.Compare(perms[i].key, p.key) >= 0 })
		if i < len(perms) && bytes.Equal(perms[i].key, p.key) && bytes.Equal(perms[i].rangeEnd, p.rangeEnd) {
			perms[i].typ = p.typ
		} else {
			perms = append(perms, p)
			sort.SliceStable(perms, func(i, j int) bool { return bytes.Compare(perms[i].key, perms[j].key) < 0 })
		}
		a.roles[req.Role] = perms
		if err := s.putRole(req.Role); err != nil {
			return err
		}
		return bump()
	case "auth-role-revoke-permission":
		perms, ok := a.roles[req.Role]
		if !ok {
			return errNotFound
		}
		var out []authPerm
		found := false
		for _, p := range perms {
			if bytes.Equal(p.key, req.Key) && bytes.Equal(p.rangeEnd, req.RangeEnd) {
				found = true
				continue
			}
			out = append(out, p)
		}
		if !found {
			return errNotFound
		}
		a.roles[req.Role] = out
		if err := s.putRole(req.Role); err != nil {
			return err
		}
		return bump()
	}
	return nil
}

func contains(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

// putUser writes an authpb.User{name=1, password=2, roles=3, options=4}.
func (s *store) putUser(name string, u *authUser) error {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendBytes(b, []byte(name))
	if len(u.password) > 0 {
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendBytes(b, u.password)
	}
	for _, r := range u.roles {
		b = protowire.AppendTag(b, 3, protowire.BytesType)
		b = protowire.AppendBytes(b, []byte(r))
	}
	var opts []byte
	if u.noPassword {
		opts = protowire.AppendTag(opts, 1, protowire.VarintType)
		opts = protowire.AppendVarint(opts, 1)
	}
	b = protowire.AppendTag(b, 4, protowire.BytesType)
	b = protowire.AppendBytes(b, opts)
	return s.w.put(mvccview.AuthUsersBucket, []byte(name), b)
}

// putRole writes an authpb.Role{name=1, keyPermission=2{permType=1, key=2, range_end=3}}.
func (s *store) putRole(name string) error {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendBytes(b, []byte(name))
	for _, p := range s.auth.roles[name] {
		var m []byte
		if p.typ != 0 {
			m = protowire.AppendTag(m, 1, protowire.VarintType)
			m = protowire.AppendVarint(m, p.typ)
		}
		m = protowire.AppendTag(m, 2, protowire.BytesType)
		m = protowire.AppendBytes(m, p.key)
		if len(p.rangeEnd) > 0 {
			m = protowire.AppendTag(m, 3, protowire.BytesType)
			m = protowire.AppendBytes(m, p.rangeEnd)
		}
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendBytes(b, m)
	}
	return s.w.put(mvccview.AuthRolesBucket, []byte(name), b)
}

// hashedPassword returns the bcrypt hash an auth-user-add (1100) or
// auth-user-change-password (1103) request carries (its hashedPassword
// field, base64 as etcd 3.5+ proposers write it). The request decoder
// never exposes secrets, so it is read here, only to store it as etcd does.
func hashedPassword(data []byte) []byte {
	var out []byte
	walkFields(data, func(num protowire.Number, v []byte) {
		if num != 1100 && num != 1103 {
			return
		}
		hashedField := protowire.Number(4)
		if num == 1103 {
			hashedField = 3
		}
		walkFields(v, func(n protowire.Number, b []byte) {
			if n == hashedField {
				if dec, err := base64.StdEncoding.DecodeString(string(b)); err == nil {
					out = dec
				}
			}
		})
	})
	return out
}

// walkFields calls f for every length-delimited field of a message.
func walkFields(b []byte, f func(protowire.Number, []byte)) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return
		}
		b = b[n:]
		if typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return
			}
			f(num, v)
			b = b[n:]
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return
		}
		b = b[n:]
	}
}

// setMemberAttrs updates a member's name and client URLs (ClusterMemberAttrSet,
// or 3.5's v2 PUT /0/members/<id>/attributes).
func (s *store) setMemberAttrs(id uint64, name string, clientURLs []string) error {
	m := s.members[id]
	if m == nil {
		return errNotFound
	}
	m.Name, m.ClientURLs = name, clientURLs
	return s.putMember(id)
}

// putMember writes etcd's member JSON: id, peerURLs, name, clientURLs,
// isLearner, omitting empty ones as membership.Member does.
func (s *store) putMember(id uint64) error {
	m := s.members[id]
	v, err := json.Marshal(struct {
		ID         uint64   `json:"id"`
		PeerURLs   []string `json:"peerURLs"`
		Name       string   `json:"name,omitempty"`
		ClientURLs []string `json:"clientURLs,omitempty"`
		IsLearner  bool     `json:"isLearner,omitempty"`
	}{id, m.PeerURLs, m.Name, m.ClientURLs, m.IsLearner})
	if err != nil {
		return err
	}
	return s.w.put(mvccview.MembersBucket, mvccview.MemberKey(id), v)
}
