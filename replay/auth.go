package replay

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
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

// errUnchanged is an authApplier's answer for a request etcd accepts
// without changing anything.
var errUnchanged = errors.New("unchanged")

func newAuthState() *authState {
	return &authState{revision: 1, users: map[string]*authUser{}, roles: map[string][]authPerm{}}
}

const rootUser, rootRole = "root", "root"

// authApplier applies one kind of auth request as etcd's auth store does
// (server/auth/store.go), to the auth state and its buckets; data is the
// entry's raw bytes, for the password hash the decoded request does not
// carry. It returns errUnchanged when etcd accepts the request but changes
// nothing.
type authApplier func(s *store, req *walfmt.AuthRequest, data []byte) error

// authAppliers are the auth requests that change the auth store, by kind.
// Each but auth-enable raises the auth revision when it changes something.
var authAppliers = map[string]authApplier{
	"auth-enable":                 (*store).authEnable,
	"auth-disable":                (*store).authDisable,
	"auth-user-add":               (*store).userAdd,
	"auth-user-delete":            (*store).userDelete,
	"auth-user-change-password":   (*store).userChangePassword,
	"auth-user-grant-role":        (*store).userGrantRole,
	"auth-user-revoke-role":       (*store).userRevokeRole,
	"auth-role-add":               (*store).roleAdd,
	"auth-role-delete":            (*store).roleDelete,
	"auth-role-grant-permission":  (*store).roleGrantPermission,
	"auth-role-revoke-permission": (*store).roleRevokePermission,
}

// applyAuth applies an auth request of a kind authAppliers holds.
func (s *store) applyAuth(r *walfmt.Request, data []byte) error {
	err := authAppliers[r.Kind](s, r.Auth, data)
	switch {
	case err == errUnchanged:
		return nil
	case err != nil || r.Kind == "auth-enable":
		return err
	}
	s.auth.revision++
	return s.w.put(mvccview.AuthBucket, []byte(mvccview.AuthRevision), u64(s.auth.revision))
}

func (s *store) authEnable(*walfmt.AuthRequest, []byte) error {
	if !s.auth.hasRoot(rootUser) {
		return errAuth
	}
	s.auth.enabled = true
	return s.w.put(mvccview.AuthBucket, []byte(mvccview.AuthEnabled), []byte{1})
}

func (s *store) authDisable(*walfmt.AuthRequest, []byte) error {
	s.auth.enabled = false
	return s.w.put(mvccview.AuthBucket, []byte(mvccview.AuthEnabled), []byte{0})
}

func (s *store) userAdd(req *walfmt.AuthRequest, data []byte) error {
	if req.Name == "" || s.auth.users[req.Name] != nil {
		return errAuth
	}
	u := &authUser{noPassword: req.NoPassword, roles: []string{}}
	if !u.noPassword {
		u.password, _ = walfmt.HashedPassword(data)
	}
	s.auth.users[req.Name] = u
	return s.putUser(req.Name, u)
}

func (s *store) userDelete(req *walfmt.AuthRequest, _ []byte) error {
	if s.auth.users[req.Name] == nil || (s.auth.enabled && req.Name == rootUser) {
		return errAuth
	}
	delete(s.auth.users, req.Name)
	return s.w.del(mvccview.AuthUsersBucket, []byte(req.Name))
}

func (s *store) userChangePassword(req *walfmt.AuthRequest, data []byte) error {
	u := s.auth.users[req.Name]
	if u == nil {
		return errNotFound
	}
	u.password, _ = walfmt.HashedPassword(data)
	return s.putUser(req.Name, u)
}

func (s *store) userGrantRole(req *walfmt.AuthRequest, _ []byte) error {
	u := s.auth.users[req.Name]
	if u == nil {
		return errNotFound
	}
	if _, ok := s.auth.roles[req.Role]; !ok && req.Role != rootRole {
		return errNotFound
	}
	if slices.Contains(u.roles, req.Role) {
		return errUnchanged // etcd ignores a duplicate grant
	}
	u.roles = append(u.roles, req.Role)
	sort.Strings(u.roles)
	return s.putUser(req.Name, u)
}

func (s *store) userRevokeRole(req *walfmt.AuthRequest, _ []byte) error {
	u := s.auth.users[req.Name]
	if u == nil || !slices.Contains(u.roles, req.Role) || (s.auth.enabled && req.Name == rootUser && req.Role == rootRole) {
		return errAuth
	}
	u.roles = slices.DeleteFunc(u.roles, func(r string) bool { return r == req.Role })
	return s.putUser(req.Name, u)
}

func (s *store) roleAdd(req *walfmt.AuthRequest, _ []byte) error {
	if _, ok := s.auth.roles[req.Role]; ok || req.Role == "" {
		return errAuth
	}
	s.auth.roles[req.Role] = []authPerm{}
	return s.putRole(req.Role)
}

// roleDelete deletes a role and revokes it from every user holding it.
func (s *store) roleDelete(req *walfmt.AuthRequest, _ []byte) error {
	if _, ok := s.auth.roles[req.Role]; !ok || (s.auth.enabled && req.Role == rootRole) {
		return errAuth
	}
	delete(s.auth.roles, req.Role)
	if err := s.w.del(mvccview.AuthRolesBucket, []byte(req.Role)); err != nil {
		return err
	}
	for name, u := range s.auth.users {
		if slices.Contains(u.roles, req.Role) {
			u.roles = slices.DeleteFunc(u.roles, func(r string) bool { return r == req.Role })
			if err := s.putUser(name, u); err != nil {
				return err
			}
		}
	}
	return nil
}

// roleGrantPermission adds a permission to a role, or changes the type of
// the one with the same range, keeping the permissions in key order.
func (s *store) roleGrantPermission(req *walfmt.AuthRequest, _ []byte) error {
	perms, ok := s.auth.roles[req.Role]
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
	s.auth.roles[req.Role] = perms
	return s.putRole(req.Role)
}

func (s *store) roleRevokePermission(req *walfmt.AuthRequest, _ []byte) error {
	perms, ok := s.auth.roles[req.Role]
	if !ok {
		return errNotFound
	}
	out := slices.DeleteFunc(slices.Clone(perms), func(p authPerm) bool {
		return bytes.Equal(p.key, req.Key) && bytes.Equal(p.rangeEnd, req.RangeEnd)
	})
	if len(out) == len(perms) {
		return errNotFound
	}
	s.auth.roles[req.Role] = out
	return s.putRole(req.Role)
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
