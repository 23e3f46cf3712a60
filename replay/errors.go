package replay

import "errors"

// The errors etcd's appliers return for a request they refuse when they
// apply it: the entry stays in the WAL but changes nothing (it still
// advances the applied index), and Stats.Failed counts it. A compaction
// fails with mvccview.ErrCompacted or ErrFutureRev.

// The kv and lease appliers' (server/etcdserver/txn, server/lease).
var (
	errLeaseNotFound = errors.New("lease not found")
	errKeyNotFound   = errors.New("key not found")
)

// The auth store's (server/auth/store.go), for an auth request it refuses.
var (
	errAuth     = errors.New("auth request refused")
	errNotFound = errors.New("not found")
)

// The auth applier's (server/etcdserver/apply/auth.go), for a request its
// caller may not make.
var (
	errUserEmpty        = errors.New("auth: user name is empty")
	errAuthOldRevision  = errors.New("auth: revision in header is old")
	errPermissionDenied = errors.New("auth: permission denied")
)

// The alarm appliers' (server/etcdserver/apply), while an alarm is active.
var (
	errNoSpace = errors.New("etcdserver: mvcc: database space exceeded")
	errCorrupt = errors.New("etcdserver: corrupt cluster")
)
