package replay

import (
	"slices"

	"go.etcd.io/etcd/pkg/v3/adt"

	"github.com/etcdscope/etcdscope/walfmt"
)

// etcd proposes puts, deletes and writing txns without checking the
// caller's permissions; its auth applier (etcdserver/apply auth.go) checks
// them when the entry is applied, against the auth state of that moment and
// the user and auth revision in the request header. A refused write is in
// the WAL but changed nothing, so replay refuses it too.

// authPermission types, as authpb.Permission_Type numbers them.
const (
	permRead      = 0
	permWrite     = 1
	permReadWrite = 2
)

// caller is the user and auth revision a request carries; the zero value
// when it has no header.
type caller struct {
	user string
	rev  uint64
}

func callerOf(r *walfmt.Request) caller {
	if r.Header == nil {
		return caller{}
	}
	return caller{r.Header.Username, r.Header.AuthRevision}
}

func (a *authState) hasRoot(name string) bool {
	u := a.users[name]
	return u != nil && slices.Contains(u.roles, rootRole)
}

// admin is etcd's IsAdminPermitted: with auth enabled, only a user with the
// root role.
func (a *authState) admin(c caller) error {
	switch {
	case !a.enabled:
		return nil
	case c.user == "":
		return errUserEmpty
	case a.users[c.user] == nil || !a.hasRoot(c.user):
		return errPermissionDenied
	}
	return nil
}

// permitted is etcd's isOpPermitted: a request made under an older auth
// revision is refused whatever it asks; root may do anything; anyone else
// needs a permission of the type covering the key or, with end, the whole
// range [key, end).
func (a *authState) permitted(c caller, key, end []byte, write bool) error {
	switch {
	case !a.enabled:
		return nil
	case c.rev == 0:
		return errUserEmpty
	case c.rev < a.revision:
		return errAuthOldRevision
	case a.users[c.user] == nil:
		return errPermissionDenied
	case a.hasRoot(c.user):
		return nil
	}
	perms := a.rangePerms(c.user)
	tree := perms.read
	if write {
		tree = perms.write
	}
	if len(end) == 0 {
		if tree.Intersects(adt.NewBytesAffinePoint(key)) {
			return nil
		}
		return errPermissionDenied
	}
	if isOpenEnd(end) {
		end = nil
	}
	if tree.Contains(adt.NewBytesAffineInterval(key, end)) {
		return nil
	}
	return errPermissionDenied
}

func isOpenEnd(end []byte) bool { return len(end) == 1 && end[0] == 0 }

// userPerms are a user's read and write permissions merged over its roles,
// in etcd's own interval tree: its Contains answers inverted or partly
// covered ranges by the tree's shape, which only the same tree, filled in
// the same order (roles and permissions as stored), reproduces.
type userPerms struct {
	read, write adt.IntervalTree
}

// rangePerms returns the user's merged permissions, cached until the auth
// revision changes (every change of users, roles or permissions raises it).
func (a *authState) rangePerms(user string) *userPerms {
	if a.permsRev != a.revision {
		a.perms, a.permsRev = map[string]*userPerms{}, a.revision
	}
	if p := a.perms[user]; p != nil {
		return p
	}
	p := &userPerms{read: adt.NewIntervalTree(), write: adt.NewIntervalTree()}
	for _, role := range a.users[user].roles {
		for _, perm := range a.roles[role] {
			var ivl adt.Interval
			switch {
			case len(perm.rangeEnd) == 0:
				ivl = adt.NewBytesAffinePoint(perm.key)
			case isOpenEnd(perm.rangeEnd):
				ivl = adt.NewBytesAffineInterval(perm.key, nil)
			default:
				ivl = adt.NewBytesAffineInterval(perm.key, perm.rangeEnd)
			}
			if perm.typ == permRead || perm.typ == permReadWrite {
				p.read.Insert(ivl, struct{}{})
			}
			if perm.typ == permWrite || perm.typ == permReadWrite {
				p.write.Insert(ivl, struct{}{})
			}
		}
	}
	a.perms[user] = p
	return p
}

// checkWrite refuses a put, delete-range or txn the request's caller may
// not make, as etcd's auth applier does before applying it.
func (s *store) checkWrite(r *walfmt.Request) error {
	if !s.auth.enabled {
		return nil
	}
	c := callerOf(r)
	switch {
	case r.Put != nil:
		return s.checkPut(c, r.Put)
	case r.DeleteRange != nil:
		return s.checkDelete(c, r.DeleteRange)
	case r.Txn != nil:
		return s.checkTxn(c, r.Txn)
	case r.LeaseRevoke != nil:
		return s.checkLeaseKeys(c, r.LeaseRevoke.ID)
	}
	return nil
}

func (s *store) checkPut(c caller, p *walfmt.PutRequest) error {
	if err := s.auth.permitted(c, p.Key, nil, true); err != nil {
		return err
	}
	if err := s.checkLeaseKeys(c, p.Lease); err != nil {
		return err
	}
	if p.PrevKV {
		return s.auth.permitted(c, p.Key, nil, false)
	}
	return nil
}

func (s *store) checkDelete(c caller, d *walfmt.DeleteRangeRequest) error {
	if err := s.auth.permitted(c, d.Key, d.RangeEnd, true); err != nil {
		return err
	}
	if d.PrevKV {
		return s.auth.permitted(c, d.Key, d.RangeEnd, false)
	}
	return nil
}

// checkLeaseKeys: a caller may attach keys to, or revoke, a lease only if
// it may write every key already attached to it (or is an admin).
func (s *store) checkLeaseKeys(c caller, id int64) error {
	l := s.leases[id]
	if l == nil || s.auth.admin(c) == nil {
		return nil
	}
	for k := range l.keys {
		if err := s.auth.permitted(c, []byte(k), nil, true); err != nil {
			return err
		}
	}
	return nil
}

// checkTxn checks every compare and both branches, whichever would run.
func (s *store) checkTxn(c caller, t *walfmt.TxnRequest) error {
	for i := range t.Compare {
		if err := s.auth.permitted(c, t.Compare[i].Key, t.Compare[i].RangeEnd, false); err != nil {
			return err
		}
	}
	for _, ops := range [][]walfmt.RequestOp{t.Success, t.Failure} {
		for i := range ops {
			op := &ops[i]
			var err error
			switch {
			case op.Range != nil:
				err = s.auth.permitted(c, op.Range.Key, op.Range.RangeEnd, false)
			case op.Put != nil:
				err = s.checkPut(c, op.Put)
			case op.DeleteRange != nil:
				if op.DeleteRange.PrevKV {
					err = s.auth.permitted(c, op.DeleteRange.Key, op.DeleteRange.RangeEnd, false)
				}
				if err == nil {
					err = s.auth.permitted(c, op.DeleteRange.Key, op.DeleteRange.RangeEnd, true)
				}
			case op.Txn != nil:
				err = s.checkTxn(c, op.Txn)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// needsAdmin lists the requests etcd's auth applier lets only an admin
// make: every change to the auth store, and the status and lists.
func needsAdmin(kind string) bool {
	switch kind {
	case "auth-status", "auth-user-list", "auth-role-list":
		return true
	}
	return authAppliers[kind] != nil
}
