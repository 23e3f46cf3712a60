package repair

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/internal/datadir"
	"github.com/etcdscope/etcdscope/internal/pbwire"
	"github.com/etcdscope/etcdscope/internal/textfmt"
	"github.com/etcdscope/etcdscope/mvccview"
	"github.com/etcdscope/etcdscope/replay"
	"github.com/etcdscope/etcdscope/snapfmt"
	"github.com/etcdscope/etcdscope/walfmt"
)

// Loss is what a repaired output loses against a reference, the state the
// evidence holds: between the reference and the state real etcd serves
// from the output once it has started on it ([Served]), compared at the
// reference's raft index (the entries etcd applies on start past it are
// not counted as changes). Its lists are never nil.
type Loss struct {
	// Reference says what the loss is measured against.
	Reference string `json:"reference"`
	// Entries counts the raft entries the repair leaves out (its plan
	// lists them).
	Entries int `json:"entries"`
	// Revisions are the key-bucket records above the reference's
	// compaction that the output does not serve as the reference holds
	// them: missing, different, or compacted away.
	Revisions RevisionLoss `json:"revisions"`
	// Keys are the live keys whose state differs.
	Keys []KeyDiff `json:"keys"`
	// Leases are the leases lost, added, or whose TTL or keys differ.
	Leases  []LeaseDiff  `json:"leases"`
	Auth    AuthLoss     `json:"auth"`
	Members []MemberDiff `json:"members"`
	Alarms  AlarmLoss    `json:"alarms"`
	// ClusterVersion is the cluster bucket's; StorageVersion the meta
	// bucket's, as etcd 3.6 and later write it on start (from the cluster
	// version) when a db has none: a replayed db has none.
	ClusterVersion VersionChange `json:"cluster_version"`
	StorageVersion VersionChange `json:"storage_version"`
	// Serves is what etcd serves from the output once started on it;
	// nil when it could not be predicted (Problem says why).
	Serves *Served `json:"serves"`
	// Problem says why the loss, or what etcd serves, could not be
	// measured; empty when it was.
	Problem string `json:"problem,omitempty"`
}

// RevisionLoss counts the records of the key bucket lost, and the main
// revisions they fall in.
type RevisionLoss struct {
	Records int64      `json:"records"`
	Ranges  []RevRange `json:"ranges"`
}

// LeaseDiff is a lease whose state differs: Before nil when the
// reference has no such lease, After nil when it is lost. KeysLost are
// the keys attached to it in the reference and not in the output,
// KeysAdded the other way round.
type LeaseDiff struct {
	ID        pbwire.HexID `json:"id"`
	Before    *LeaseState  `json:"before"`
	After     *LeaseState  `json:"after"`
	KeysLost  [][]byte     `json:"keys_lost"`
	KeysAdded [][]byte     `json:"keys_added"`
}

// LeaseState is a lease's TTL and how many keys are attached to it.
type LeaseState struct {
	TTL  int64 `json:"ttl"`
	Keys int   `json:"keys"`
}

// AuthLoss compares the auth stores: whether auth is on, the auth
// revision, and the users and roles, by name.
type AuthLoss struct {
	EnabledBefore  bool     `json:"enabled_before"`
	EnabledAfter   bool     `json:"enabled_after"`
	RevisionBefore uint64   `json:"revision_before"`
	RevisionAfter  uint64   `json:"revision_after"`
	UsersLost      []string `json:"users_lost"`
	UsersAdded     []string `json:"users_added"`
	// PasswordChanged are users whose password hash (or no-password
	// option) differs; RolesChanged users granted other roles.
	PasswordChanged []string `json:"users_password_changed"`
	RolesChanged    []string `json:"users_roles_changed"`
	RolesLost       []string `json:"roles_lost"`
	RolesAdded      []string `json:"roles_added"`
	// PermissionsChanged are roles whose permissions differ.
	PermissionsChanged []string `json:"roles_permissions_changed"`
}

func (a *AuthLoss) none() bool {
	return a.EnabledBefore == a.EnabledAfter && a.RevisionBefore == a.RevisionAfter &&
		len(a.UsersLost)+len(a.UsersAdded)+len(a.PasswordChanged)+len(a.RolesChanged)+
			len(a.RolesLost)+len(a.RolesAdded)+len(a.PermissionsChanged) == 0
}

// MemberDiff is a member of the members bucket lost (After nil), added
// (Before nil) or whose raft attributes changed.
type MemberDiff struct {
	ID     pbwire.HexID `json:"id"`
	Before *MemberState `json:"before"`
	After  *MemberState `json:"after"`
}

// MemberState is a member's raft attributes.
type MemberState struct {
	PeerURLs  []string `json:"peer_urls"`
	IsLearner bool     `json:"is_learner"`
}

// AlarmLoss are the alarms of the alarm bucket lost and added.
type AlarmLoss struct {
	Lost  []string `json:"lost"`
	Added []string `json:"added"`
}

// VersionChange is a version before and after; empty is none.
type VersionChange struct {
	Before string `json:"before"`
	After  string `json:"after"`
}

func newLoss() *Loss {
	return &Loss{
		Revisions: RevisionLoss{Ranges: []RevRange{}}, Keys: []KeyDiff{}, Leases: []LeaseDiff{}, Members: []MemberDiff{},
		Auth: AuthLoss{UsersLost: []string{}, UsersAdded: []string{}, PasswordChanged: []string{}, RolesChanged: []string{},
			RolesLost: []string{}, RolesAdded: []string{}, PermissionsChanged: []string{}},
		Alarms: AlarmLoss{Lost: []string{}, Added: []string{}},
	}
}

// None reports whether nothing is lost: no entry, record, key, lease,
// auth, member, alarm or version differs, and the loss was measured.
func (l *Loss) None() bool {
	return l.Problem == "" && l.Entries == 0 && l.Revisions.Records == 0 && len(l.Keys) == 0 && len(l.Leases) == 0 &&
		l.Auth.none() && len(l.Members) == 0 && len(l.Alarms.Lost)+len(l.Alarms.Added) == 0 &&
		l.ClusterVersion.Before == l.ClusterVersion.After && l.StorageVersion.Before == l.StorageVersion.After
}

// ComputeLoss compares reference, the state the evidence holds, with
// output, the state etcd serves from a repaired output ([Serves]). It
// streams what can be large: the key buckets are walked side by side in
// revision order, the live keys side by side in key order from the key
// indexes; the other buckets are small.
func ComputeLoss(reference, output *mvccview.Store) (*Loss, error) {
	l := newLoss()
	for _, diff := range []func(ref, out *mvccview.Store) error{l.diffRevisions, l.diffKeys, l.diffLeases, l.diffAuth, l.diffMembers, l.diffCluster} {
		if err := diff(reference, output); err != nil {
			return nil, err
		}
	}
	return l, nil
}

var errPulled = errors.New("repair: stopped")

// events is s's changes from main revision from on, in revision order.
// An error of the walk is left in *err.
func events(s *mvccview.Store, from int64, err *error) iter.Seq[mvccview.Event] {
	return func(yield func(mvccview.Event) bool) {
		e := s.Events(from, []byte{}, []byte{}, func(ev mvccview.Event) error {
			if !yield(ev) {
				return errPulled
			}
			return nil
		})
		if e != nil && !errors.Is(e, errPulled) {
			*err = e
		}
	}
}

// diffRevisions walks the key buckets of both in revision order from the
// reference's compaction on, and counts the reference's records the
// output does not hold the same. The output's records are read from its
// own compaction on: those below, the key index no longer serves.
func (l *Loss) diffRevisions(ref, out *mvccview.Store) error {
	from := max(ref.CompactRev+1, 1)
	var outErr error
	next, stop := iter.Pull(events(out, max(from, out.CompactRev), &outErr))
	defer stop()
	o, ok := next()
	err := ref.Events(from, []byte{}, []byte{}, func(e mvccview.Event) error {
		for ok && o.Rev.Less(e.Rev) {
			o, ok = next()
		}
		if !ok || o.Rev != e.Rev || !sameEvent(o, e) {
			l.lostRecord(e.Rev.Main)
		}
		return nil
	})
	stop()
	return cmp.Or(err, outErr)
}

func sameEvent(a, b mvccview.Event) bool {
	return a.Delete == b.Delete && bytes.Equal(a.KV.Key, b.KV.Key) && bytes.Equal(a.KV.Value, b.KV.Value) &&
		a.KV.CreateRevision == b.KV.CreateRevision && a.KV.ModRevision == b.KV.ModRevision &&
		a.KV.Version == b.KV.Version && a.KV.Lease == b.KV.Lease
}

func (l *Loss) lostRecord(main int64) {
	l.Revisions.Records++
	rs := l.Revisions.Ranges
	if n := len(rs); n > 0 && rs[n-1].To >= main-1 {
		rs[n-1].To = max(rs[n-1].To, main)
		return
	}
	l.Revisions.Ranges = append(rs, RevRange{From: main, To: main})
}

// liveKeysOf is a store's live keys in key order, without the empty key a
// revision bump leaves (no client can get it).
func liveKeysOf(s *mvccview.Store) iter.Seq[mvccview.LiveKey] {
	return func(yield func(mvccview.LiveKey) bool) {
		for k := range s.Live() {
			if k.Key != "" && !yield(k) {
				return
			}
		}
	}
}

func keyState(k mvccview.LiveKey) *KeyState {
	return &KeyState{CreateRevision: k.Created.Main, ModRevision: k.Mod.Main, Version: k.Version}
}

// diffKeys merges the live keys of both, in key order.
func (l *Loss) diffKeys(ref, out *mvccview.Store) error {
	next, stop := iter.Pull(liveKeysOf(out))
	defer stop()
	o, ok := next()
	for r := range liveKeysOf(ref) {
		for ok && o.Key < r.Key {
			l.Keys = append(l.Keys, KeyDiff{Key: []byte(o.Key), After: keyState(o)})
			o, ok = next()
		}
		switch {
		case !ok || o.Key > r.Key:
			l.Keys = append(l.Keys, KeyDiff{Key: []byte(r.Key), Before: keyState(r)})
			continue
		case *keyState(o) != *keyState(r):
			l.Keys = append(l.Keys, KeyDiff{Key: []byte(r.Key), Before: keyState(r), After: keyState(o)})
		}
		o, ok = next()
	}
	for ; ok; o, ok = next() {
		l.Keys = append(l.Keys, KeyDiff{Key: []byte(o.Key), After: keyState(o)})
	}
	return nil
}

// diffLeases compares the lease buckets, each lease with its keys.
func (l *Loss) diffLeases(ref, out *mvccview.Store) error {
	before, err := ref.Leases()
	if err != nil {
		return err
	}
	after, err := out.Leases()
	if err != nil {
		return err
	}
	b, a := leaseMap(before), leaseMap(after)
	for _, id := range slices.Sorted(maps.Keys(joinKeys(b, a))) {
		lb, la := b[id], a[id]
		d := LeaseDiff{ID: pbwire.HexID(id), KeysLost: [][]byte{}, KeysAdded: [][]byte{}}
		if lb != nil {
			d.Before = &LeaseState{TTL: lb.TTL, Keys: len(lb.Keys)}
		}
		if la != nil {
			d.After = &LeaseState{TTL: la.TTL, Keys: len(la.Keys)}
		}
		d.KeysLost, d.KeysAdded = keysOf(lb, la), keysOf(la, lb)
		if d.Before == nil || d.After == nil || d.Before.TTL != d.After.TTL || len(d.KeysLost)+len(d.KeysAdded) > 0 {
			l.Leases = append(l.Leases, d)
		}
	}
	return nil
}

func leaseMap(ls mvccview.Leases) map[int64]*mvccview.Lease {
	m := map[int64]*mvccview.Lease{}
	for i := range ls {
		m[ls[i].ID] = &ls[i]
	}
	return m
}

// joinKeys is the set of the keys of both maps.
func joinKeys[K comparable, V any](a, b map[K]V) map[K]bool {
	out := map[K]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// keysOf are a's keys that b does not have (a's and b's are sorted).
func keysOf(a, b *mvccview.Lease) [][]byte {
	out := [][]byte{}
	if a == nil {
		return out
	}
	for _, k := range a.Keys {
		if b == nil {
			out = append(out, []byte(k))
		} else if _, found := slices.BinarySearch(b.Keys, k); !found {
			out = append(out, []byte(k))
		}
	}
	return out
}

// diffAuth compares the auth buckets.
func (l *Loss) diffAuth(ref, out *mvccview.Store) error {
	b, err := ref.Auth()
	if err != nil {
		return err
	}
	a, err := out.Auth()
	if err != nil {
		return err
	}
	x := &l.Auth
	x.EnabledBefore, x.EnabledAfter, x.RevisionBefore, x.RevisionAfter = b.Enabled, a.Enabled, b.Revision, a.Revision
	ub, ua := byName(b.Users, func(u mvccview.AuthUser) string { return u.Name }), byName(a.Users, func(u mvccview.AuthUser) string { return u.Name })
	for _, name := range slices.Sorted(maps.Keys(joinKeys(ub, ua))) {
		u, v, inB, inA := ub[name], ua[name], has(ub, name), has(ua, name)
		switch {
		case !inA:
			x.UsersLost = append(x.UsersLost, name)
		case !inB:
			x.UsersAdded = append(x.UsersAdded, name)
		default:
			if !bytes.Equal(u.Password, v.Password) || u.NoPassword != v.NoPassword {
				x.PasswordChanged = append(x.PasswordChanged, name)
			}
			if !slices.Equal(slices.Sorted(slices.Values(u.Roles)), slices.Sorted(slices.Values(v.Roles))) {
				x.RolesChanged = append(x.RolesChanged, name)
			}
		}
	}
	rb, ra := byName(b.Roles, func(r mvccview.AuthRole) string { return r.Name }), byName(a.Roles, func(r mvccview.AuthRole) string { return r.Name })
	for _, name := range slices.Sorted(maps.Keys(joinKeys(rb, ra))) {
		switch {
		case !has(ra, name):
			x.RolesLost = append(x.RolesLost, name)
		case !has(rb, name):
			x.RolesAdded = append(x.RolesAdded, name)
		case !slices.EqualFunc(rb[name].Permissions, ra[name].Permissions, samePermission):
			x.PermissionsChanged = append(x.PermissionsChanged, name)
		}
	}
	return nil
}

func byName[T any](xs []T, name func(T) string) map[string]T {
	m := make(map[string]T, len(xs))
	for _, x := range xs {
		m[name(x)] = x
	}
	return m
}

func has[V any](m map[string]V, k string) bool {
	_, ok := m[k]
	return ok
}

func samePermission(a, b mvccview.AuthPermission) bool {
	return a.PermType == b.PermType && bytes.Equal(a.Key, b.Key) && bytes.Equal(a.RangeEnd, b.RangeEnd)
}

// diffMembers compares the members buckets (removed members aside).
func (l *Loss) diffMembers(ref, out *mvccview.Store) error {
	b, err := members(ref)
	if err != nil {
		return err
	}
	a, err := members(out)
	if err != nil {
		return err
	}
	for _, id := range slices.Sorted(maps.Keys(joinKeys(b, a))) {
		mb, ma := b[id], a[id]
		if mb != nil && ma != nil && mb.IsLearner == ma.IsLearner && slices.Equal(mb.PeerURLs, ma.PeerURLs) {
			continue
		}
		l.Members = append(l.Members, MemberDiff{ID: pbwire.HexID(id), Before: mb, After: ma})
	}
	return nil
}

// members are the members bucket's members by id, their peer URLs
// sorted; a record whose key is not an id is left out.
func members(s *mvccview.Store) (map[uint64]*MemberState, error) {
	ms, err := s.Members()
	if err != nil {
		return nil, err
	}
	out := map[uint64]*MemberState{}
	for _, m := range ms {
		id, err := strconv.ParseUint(m.ID, 16, 64)
		if err != nil || m.Removed {
			continue
		}
		out[id] = &MemberState{PeerURLs: slices.Sorted(slices.Values(m.PeerURLs)), IsLearner: m.IsLearner}
		if out[id].PeerURLs == nil {
			out[id].PeerURLs = []string{}
		}
	}
	return out, nil
}

// diffCluster compares the alarms and the versions.
func (l *Loss) diffCluster(ref, out *mvccview.Store) error {
	b, err := ref.Cluster()
	if err != nil {
		return err
	}
	a, err := out.Cluster()
	if err != nil {
		return err
	}
	for _, x := range b.Alarms {
		if !slices.Contains(a.Alarms, x) {
			l.Alarms.Lost = append(l.Alarms.Lost, x)
		}
	}
	for _, x := range a.Alarms {
		if !slices.Contains(b.Alarms, x) {
			l.Alarms.Added = append(l.Alarms.Added, x)
		}
	}
	l.ClusterVersion = VersionChange{b.ClusterVersion, a.ClusterVersion}
	l.StorageVersion = VersionChange{servedStorageVersion(ref.Meta.StorageVersion, b.ClusterVersion), servedStorageVersion(out.Meta.StorageVersion, a.ClusterVersion)}
	return nil
}

// servedStorageVersion is the storage version of a db once etcd 3.6 or
// later has started on it: as it is, or, when it has none, the cluster
// version's major.minor, which etcd's storage version monitor writes
// (version.Monitor.UpdateStorageVersionIfNeeded). A db whose cluster
// version is below 3.6 gets none: etcd 3.5 does not write it.
func servedStorageVersion(sv, cv string) string {
	if sv != "" {
		return sv
	}
	if major, minor, ok := majorMinor(cv); ok && (major > 3 || major == 3 && minor >= 6) {
		return fmt.Sprintf("%d.%d.0", major, minor)
	}
	return ""
}

// majorMinor parses the start of a version "3.6.0".
func majorMinor(v string) (major, minor int, ok bool) {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	a, err1 := strconv.Atoi(parts[0])
	b, err2 := strconv.Atoi(parts[1])
	return a, b, err1 == nil && err2 == nil
}

// ---- what etcd serves ----

// Served is the state real etcd serves from a member's files once it has
// started on them: the db, and the entries of the WAL past the db's
// consistent index that etcd applies when it starts.
type Served struct {
	// ConsistentIndex is the db's: the entries it holds.
	ConsistentIndex uint64 `json:"consistent_index"`
	// LastIndex is the WAL's last entry, Commit the last one etcd
	// commits when it starts: LastIndex when the member is its cluster's
	// only voter (the first entry it writes as the new leader commits the
	// whole log), else the hard state's commit. Both are the consistent
	// index for a db alone.
	LastIndex uint64 `json:"last_index"`
	Commit    uint64 `json:"commit"`
	// Voters counts the members bucket's members that are not learners.
	Voters int `json:"voters"`
	// AppliedIndex is the index the state is at once the entries past the
	// consistent index up to Commit are applied; Applied counts them.
	AppliedIndex uint64 `json:"applied_index"`
	Applied      uint64 `json:"applied"`
	// Revision, CompactRevision and Keys are what etcd serves then.
	Revision        int64 `json:"revision"`
	CompactRevision int64 `json:"compact_revision"`
	Keys            int64 `json:"keys"`
	// LeasesWithKeys counts the leases keys are attached to: etcd revokes
	// each TTL seconds after it starts unless a client keeps it alive,
	// deleting its keys in one more revision.
	LeasesWithKeys int `json:"leases_with_keys"`
	// AfterStart is, for each etcd release that can start on the files,
	// the raft index it reports (endpoint status) once it has started,
	// before any client request: none for a db alone, or a member with
	// other voters.
	AfterStart []StartIndex `json:"after_start"`
}

// StartIndex is the raft index etcd of one minor release reports once it
// has started, and the entries it appended to get there. Every client
// that then authenticates (auth enabled) appends one more.
type StartIndex struct {
	Etcd      string   `json:"etcd"`
	RaftIndex uint64   `json:"raft_index"`
	Appends   []string `json:"appends"`
}

// ServesOptions configure [Serves] and [ServesDB].
type ServesOptions struct {
	// TempDir is where the entries etcd applies on start are replayed,
	// into a copy of the db that is removed again; default os.TempDir().
	TempDir string
}

// Serves is what real etcd serves from the member at dataDir (a data dir
// or member dir) once it has started on it: see [ServesDB].
func Serves(dataDir string, opts ServesOptions) (*Served, error) {
	l, files, err := openMember(dataDir)
	if err != nil {
		return nil, err
	}
	defer files.Close()
	return ServesDB(l.DB, files.Segments, l.SnapDir, opts)
}

// openMember resolves a member's paths and opens its WAL.
func openMember(dataDir string) (datadir.Layout, *walfmt.Files, error) {
	l, err := datadir.Resolve(dataDir)
	if err == nil && (l.DB == "" || l.WALDir == "") {
		err = &InputError{fmt.Sprintf("%s holds no member's db and WAL", dataDir)}
	}
	if err != nil {
		return l, nil, err
	}
	files, err := walfmt.OpenPath(l.WALDir)
	return l, files, err
}

// ServesDB is what real etcd serves from the db at db when it starts
// with the WAL wal (none: the db alone) and the .snap files of snapDir:
// the committed entries of the WAL past the db's consistent index are
// replayed onto a copy of the db, as etcd applies them on start, and the
// raft index etcd then reports is predicted. Only the copy is written.
func ServesDB(db string, wal []walfmt.Segment, snapDir string, opts ServesOptions) (*Served, error) {
	return serve(db, wal, snapDir, serveOptions{ServesOptions: opts}, nil)
}

type serveOptions struct {
	ServesOptions
	// toIndex, when set, stops the replay there: the state at that index,
	// for a loss measured at a reference's index; no start is predicted.
	toIndex uint64
}

// serve computes what etcd serves and, when fn is set, calls it with the
// store served before the replay's copy is removed.
func serve(db string, wal []walfmt.Segment, snapDir string, o serveOptions, fn func(*mvccview.Store) error) (*Served, error) {
	sv := &Served{}
	if err := sv.readDB(db); err != nil {
		return nil, err
	}
	sv.LastIndex, sv.Commit = sv.ConsistentIndex, sv.ConsistentIndex
	var facts *walFacts
	if len(wal) > 0 {
		var err error
		if facts, err = readWALFacts(wal); err != nil {
			return nil, err
		}
		sv.LastIndex, sv.Commit = facts.last, facts.commit
		if sv.Voters == 1 {
			sv.Commit = max(sv.Commit, sv.LastIndex)
		}
	}
	target := sv.Commit
	if o.toIndex > 0 {
		target = min(target, o.toIndex)
	}
	path := db
	if target > sv.ConsistentIndex {
		tmp, err := os.MkdirTemp(o.TempDir, ".etcdscope-serves-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		path = filepath.Join(tmp, "db")
		if _, err := replay.Run(wal, replay.Options{Out: path, Base: db, BaseIsMemberDB: true, CommitLog: sv.Voters == 1, ToIndex: target}); err != nil {
			return nil, fmt.Errorf("repair: replaying the entries etcd applies on start (%d to %d): %w", sv.ConsistentIndex+1, target, err)
		}
	}
	err := withStore(path, func(s *mvccview.Store) error {
		if err := sv.fill(s); err != nil {
			return err
		}
		if facts != nil && o.toIndex == 0 && sv.Voters == 1 {
			cv, err := s.Cluster()
			if err != nil {
				return err
			}
			sv.AfterStart = afterStart(sv.Commit, cv.ClusterVersion, facts.v2VersionKnown(snapDir, sv.Commit))
		}
		if fn != nil {
			return fn(s)
		}
		return nil
	})
	return sv, err
}

// fill sets what the store served holds.
func (sv *Served) fill(s *mvccview.Store) error {
	sv.AppliedIndex = max(s.Meta.ConsistentIndex, sv.ConsistentIndex)
	sv.Applied = sv.AppliedIndex - sv.ConsistentIndex
	sv.Revision, sv.CompactRevision = s.CurrentRev, s.CompactRev
	for range liveKeysOf(s) {
		sv.Keys++
	}
	ls, err := s.Leases()
	for _, l := range ls {
		if len(l.Keys) > 0 {
			sv.LeasesWithKeys++
		}
	}
	sv.AfterStart = []StartIndex{}
	return err
}

// readDB reads the db's consistent index and counts its voters, the
// members bucket's members that are not learners, without its key index.
func (sv *Served) readDB(path string) error {
	db, err := boltfmt.Open(path, boltfmt.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	src := &mvccview.BoltSource{DB: db}
	meta, err := mvccview.ReadMeta(src)
	if err != nil {
		return err
	}
	sv.ConsistentIndex = meta.ConsistentIndex
	return src.ForEach(mvccview.MembersBucket, func(k, v []byte) error {
		if m, err := mvccview.DecodeMember(k, v); err == nil && !m.IsLearner {
			sv.Voters++
		}
		return nil
	})
}

// withStore opens the db at path read-only, damage-tolerant (boltfmt),
// as etcd's MVCC store and calls fn with it.
func withStore(path string, fn func(*mvccview.Store) error) error {
	db, err := boltfmt.Open(path, boltfmt.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	s, err := mvccview.Open(&mvccview.BoltSource{DB: db})
	if err != nil {
		return err
	}
	return fn(s)
}

// walFacts is what predicting etcd's start needs of a WAL.
type walFacts struct {
	last, commit uint64               // the last entry, the last hard state's commit
	snaps        []snapfmt.SnapshotID // snapshot records at or below commit
	versionSets  []uint64             // entries that set the cluster version
}

// readWALFacts reads the WAL once: its last entry, its hard state, its
// snapshot records, and the entries that set the cluster version (a
// cluster-version-set request, or etcd 3.5's v2 PUT of /0/version).
func readWALFacts(segs []walfmt.Segment) (*walFacts, error) {
	f := &walFacts{}
	sum, err := walfmt.Summarize(walfmt.NewReader(segs, walfmt.Options{}), func(fr *walfmt.Frame) error {
		e := fr.Entry
		if e == nil || !fr.Trusted() {
			return nil
		}
		f.last = e.Index
		if e.Type == walfmt.EntryNormal && len(e.Data) > 0 {
			if r, err := walfmt.DecodeRequest(e.Data); err == nil && (r.ClusterVersionSet != nil || r.V2 != nil && r.V2.Method == "PUT" && r.V2.Path == "/0/version") {
				f.versionSets = append(f.versionSets, e.Index)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if sum.HardState != nil {
		f.commit = sum.HardState.Commit
	}
	for _, s := range sum.Snapshots {
		if s.Index <= f.commit {
			f.snaps = append(f.snaps, snapfmt.SnapshotID{Term: s.Term, Index: s.Index})
		}
	}
	return f, nil
}

// v2VersionKnown reports whether etcd 3.5 knows the cluster version when
// it starts: 3.5 recovers it from the v2 store, the .snap it loads
// (snapfmt.NewestAvailable) and the entries after it, not from the db.
func (f *walFacts) v2VersionKnown(snapDir string, commit uint64) bool {
	var from uint64
	if snapDir != "" {
		if d, err := snapfmt.ReadDir(snapDir, snapfmt.Options{}); err == nil {
			if s := snapfmt.NewestAvailable(d.Snaps, f.snaps).Loaded; s != nil {
				if s.Store != nil && s.Store.ClusterVersion != "" {
					return true
				}
				from = s.ID().Index
			}
		}
	}
	return slices.ContainsFunc(f.versionSets, func(i uint64) bool { return i > from && i <= commit })
}

// startReleases are the etcd minor releases whose start is predicted.
var startReleases = []int{5, 6, 7}

// afterStart predicts, for each 3.x release that starts on the files of
// a member that is its cluster's only voter, the raft index it reports
// once started: after the log (commit), the new leader's empty entry,
// the member's attributes it publishes (etcd 3.5 as a v2 PUT, 3.6 and
// later as a ClusterMemberAttrSet), and a cluster version set when it
// does not know one (3.5 from its v2 store, later releases from the
// db's cluster bucket) or its own is the next minor. A release older
// than the cluster version, or more than one minor newer, is left out:
// it refuses the files or does not move the version.
func afterStart(commit uint64, cv string, v2Known bool) []StartIndex {
	out := []StartIndex{}
	major, minor, known := majorMinor(cv)
	for _, r := range startReleases {
		if known && (major != 3 || r < minor || r > minor+1) {
			continue
		}
		appends := []string{"the new leader's empty entry", "the member's attributes (publish)"}
		k := known
		if r == 5 {
			k = v2Known
		}
		if !k || r == minor+1 {
			appends = append(appends, fmt.Sprintf("the cluster version 3.%d", r))
		}
		out = append(out, StartIndex{Etcd: fmt.Sprintf("3.%d", r), RaftIndex: commit + uint64(len(appends)), Appends: appends})
	}
	return out
}

// ---- the loss of a repair's output ----

// memberLoss measures the loss of the member data dir at dir against the
// db at ref, entries the entries the repair left out; nil when ref
// cannot be read (no reference at hand). tmp is where the replays go.
func memberLoss(ref, what, dir, tmp string, entries int) *Loss {
	l, files, err := openMember(dir)
	if err != nil {
		loss := newLoss()
		loss.Problem = "the loss could not be measured: " + err.Error()
		return loss
	}
	defer files.Close()
	return measure(reference{ref, what}, l.DB, files.Segments, l.SnapDir, tmp, entries)
}

// dbLoss measures the loss of the db at db, a repair's output that etcd
// starts with wal (the member's, or none), against the db at ref.
func dbLoss(ref, what, db string, wal []walfmt.Segment, tmp string) *Loss {
	snapDir := ""
	if len(wal) > 0 {
		snapDir = filepath.Dir(ref) // the member's snap dir, its db's
	}
	return measure(reference{ref, what}, db, wal, snapDir, tmp, 0)
}

// salvageLoss measures a salvage's loss against the WAL replayed to its
// index, which lostAgainstWAL left beside the output when it could
// (knows), else against the input db in.
func salvageLoss(in, salvaged string, wal []walfmt.Segment, tmp string, knows bool) *Loss {
	if knows {
		return measure(reference{filepath.Join(filepath.Dir(salvaged), replayedDB), "the WAL replayed"}, salvaged, wal, filepath.Dir(in), tmp, 0)
	}
	return dbLoss(in, "what can be read of the input db", salvaged, wal, tmp)
}

// reference is the db a loss is measured against, and what it is.
type reference struct{ path, what string }

// measure is the loss of an output (the db etcd starts from, the WAL and
// snap dir it starts with) against the db at ref, read as far as it can
// be (damage-tolerant), at ref's raft index, with what etcd serves from
// the output. It never fails: what goes wrong is its Problem. nil when
// ref cannot be read at all: there is no reference.
func measure(ref reference, db string, wal []walfmt.Segment, snapDir, tmp string, entries int) *Loss {
	var loss *Loss
	failed := false
	err := withStore(ref.path, func(r *mvccview.Store) error {
		err := lossAt(r, ref.what, db, wal, snapDir, tmp, &loss)
		failed = err != nil
		return err
	})
	switch {
	case err != nil && !failed:
		return nil // ref does not open
	case err != nil:
		loss = newLoss()
		loss.Problem = "the loss could not be measured: " + err.Error()
	}
	loss.Entries = entries
	return loss
}

// lossAt sets *loss to the loss of the output against r, compared at r's
// raft index, with what etcd serves from the output.
func lossAt(r *mvccview.Store, what, db string, wal []walfmt.Segment, snapDir, tmp string, loss **Loss) error {
	refCI := r.Meta.ConsistentIndex
	compute := func(s *mvccview.Store) (err error) {
		*loss, err = ComputeLoss(r, s)
		return err
	}
	o := serveOptions{ServesOptions: ServesOptions{TempDir: tmp}}
	served, err := serve(db, wal, snapDir, o, func(s *mvccview.Store) error {
		if refCI == 0 || s.Meta.ConsistentIndex <= refCI {
			return compute(s)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if *loss == nil { // etcd serves more than r holds: compare at r's index
		o.toIndex = refCI
		if _, err := serve(db, wal, snapDir, o, compute); err != nil {
			return err
		}
	}
	(*loss).Reference = fmt.Sprintf("%s at raft index %d, revision %d", what, refCI, r.CurrentRev)
	(*loss).Serves = served
	return nil
}

// ---- description ----

// Describe writes the loss, one line a kind of state that differs, and
// what etcd serves, for a person.
func (l *Loss) Describe(w io.Writer, o DescribeOptions) {
	l.describe(describer{w, o})
}

func (l *Loss) describe(d describer) {
	if l == nil {
		return
	}
	if l.Problem != "" {
		d.line("loss: %s", textfmt.Escape(l.Problem))
	}
	if l.None() {
		d.line("loss: nothing, against %s", l.Reference)
	} else if l.Problem == "" {
		d.line("loss, against %s:", l.Reference)
	}
	l.describeKinds(d)
	if s := l.Serves; s != nil {
		s.describe(d)
	}
}

func (l *Loss) describeKinds(d describer) {
	if l.Entries > 0 {
		d.line("  entries: %d left out", l.Entries)
	}
	if r := l.Revisions; r.Records > 0 {
		d.line("  revisions: %d %s lost or different, %s", r.Records, plural(int(r.Records), "record"), ranges(r.Ranges))
	}
	if len(l.Keys) > 0 {
		d.line("  keys: %d whose state differs: %s", len(l.Keys), d.names(len(l.Keys), func(i int) string { return textfmt.Bare(l.Keys[i].Key) }))
	}
	if len(l.Leases) > 0 {
		d.line("  leases: %s", d.names(len(l.Leases), func(i int) string { return l.Leases[i].describe() }))
	}
	if !l.Auth.none() {
		d.line("  auth: %s", l.Auth.describe())
	}
	if len(l.Members) > 0 {
		d.line("  members: %s", d.names(len(l.Members), func(i int) string { return l.Members[i].describe() }))
	}
	if a := l.Alarms; len(a.Lost)+len(a.Added) > 0 {
		d.line("  alarms: %s", joinParts([]string{listPart("lost", a.Lost), listPart("added", a.Added)}))
	}
	for _, v := range []struct {
		what string
		c    VersionChange
	}{{"cluster version", l.ClusterVersion}, {"storage version", l.StorageVersion}} {
		if v.c.Before != v.c.After {
			d.line("  %s: %s → %s", v.what, version(v.c.Before), version(v.c.After))
		}
	}
}

func (s *Served) describe(d describer) {
	word := "entries"
	if s.Applied == 1 {
		word = "entry"
	}
	d.line("etcd serves: revision %d, %d keys live, compacted at %d; raft index %d, %d %s applied on start past the db's consistent_index %d",
		s.Revision, s.Keys, s.CompactRevision, s.AppliedIndex, s.Applied, word, s.ConsistentIndex)
	var parts []string
	for _, a := range s.AfterStart {
		parts = append(parts, fmt.Sprintf("%d with etcd %s", a.RaftIndex, a.Etcd))
	}
	if len(parts) > 0 {
		d.line("  once started, before any client: raft index %s (each client that authenticates adds one)", strings.Join(parts, ", "))
	}
	if s.LeasesWithKeys > 0 {
		d.line("  %d %s with keys: each revoked when it expires unless kept alive, one revision more", s.LeasesWithKeys, plural(s.LeasesWithKeys, "lease"))
	}
}

// names joins item(i) for the first MaxItems items, saying how many more.
func (d describer) names(n int, item func(i int) string) string {
	var parts []string
	for i := range n {
		if i == d.o.MaxItems && d.o.MaxItems > 0 {
			parts = append(parts, fmt.Sprintf("… and %d more %s", n-i, d.o.More))
			break
		}
		parts = append(parts, item(i))
	}
	return strings.Join(parts, ", ")
}

func ranges(rs []RevRange) string {
	var parts []string
	for _, r := range rs {
		if r.From == r.To {
			parts = append(parts, fmt.Sprintf("revision %d", r.From))
		} else {
			parts = append(parts, fmt.Sprintf("revisions %d to %d", r.From, r.To))
		}
	}
	return strings.Join(parts, ", ")
}

func version(v string) string {
	if v == "" {
		return "none"
	}
	return textfmt.BareString(v)
}

func (ld LeaseDiff) describe() string {
	state := func(s *LeaseState) string {
		if s == nil {
			return "none"
		}
		return fmt.Sprintf("ttl %d, %d %s", s.TTL, s.Keys, plural(s.Keys, "key"))
	}
	switch {
	case ld.After == nil:
		return fmt.Sprintf("%s lost (%s)", ld.ID, state(ld.Before))
	case ld.Before == nil:
		return fmt.Sprintf("%s added (%s)", ld.ID, state(ld.After))
	}
	return fmt.Sprintf("%s %s → %s", ld.ID, state(ld.Before), state(ld.After))
}

func (a *AuthLoss) describe() string {
	onOff := func(on bool) string {
		if on {
			return "enabled"
		}
		return "disabled"
	}
	var parts []string
	if a.EnabledBefore != a.EnabledAfter {
		parts = append(parts, onOff(a.EnabledBefore)+" → "+onOff(a.EnabledAfter))
	}
	parts = append(parts, listPart("users lost", a.UsersLost), listPart("users added", a.UsersAdded),
		listPart("passwords changed", a.PasswordChanged), listPart("users' roles changed", a.RolesChanged),
		listPart("roles lost", a.RolesLost), listPart("roles added", a.RolesAdded),
		listPart("roles' permissions changed", a.PermissionsChanged))
	if a.RevisionBefore != a.RevisionAfter {
		parts = append(parts, fmt.Sprintf("auth revision %d → %d", a.RevisionBefore, a.RevisionAfter))
	}
	return joinParts(parts)
}

func (m MemberDiff) describe() string {
	state := func(s *MemberState) string {
		urls := make([]string, len(s.PeerURLs))
		for i, u := range s.PeerURLs {
			urls[i] = textfmt.BareString(u)
		}
		learner := ""
		if s.IsLearner {
			learner = " (learner)"
		}
		return "peer URLs " + strings.Join(urls, " ") + learner
	}
	switch {
	case m.After == nil:
		return fmt.Sprintf("%s lost (%s)", m.ID, state(m.Before))
	case m.Before == nil:
		return fmt.Sprintf("%s added (%s)", m.ID, state(m.After))
	}
	return fmt.Sprintf("%s %s → %s", m.ID, state(m.Before), state(m.After))
}

// listPart is "what: a, b", names shown through textfmt; "" for none.
func listPart(what string, names []string) string {
	if len(names) == 0 {
		return ""
	}
	shown := make([]string, len(names))
	for i, n := range names {
		shown[i] = textfmt.BareString(n)
	}
	return what + ": " + strings.Join(shown, ", ")
}

// joinParts joins the parts that are not empty.
func joinParts(parts []string) string {
	return strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), "; ")
}
