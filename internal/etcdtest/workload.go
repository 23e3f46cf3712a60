package etcdtest

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// WorkloadVersion identifies the workload RunWorkload performs. Bump it
// whenever the workload or the Recording changes; it is part of the
// Generate cache key and of every Recording.
const WorkloadVersion = 1

// Passwords of the users the workload creates.
const (
	RootPassword  = "etcdscope-root"
	AlicePassword = "etcdscope-alice"
)

// Lease IDs the workload grants.
const (
	LeaseRevoked   int64 = 0x7e570001
	LeaseKeptAlive int64 = 0x7e570002
	LeaseExpired   int64 = 0x7e570003
)

// Names of the recorded points, oldest first.
const (
	PointCompacted   = "compacted"
	PointAfterFill1  = "after-fill-1"
	PointAfterTxns   = "after-txns"
	PointAfterLeases = "after-leases"
	PointFinal       = "final"
)

// Recording is what the live server answered at the end of RunWorkload.
// Raw fields hold etcdctl's -w json output as printed.
type Recording struct {
	WorkloadVersion int    `json:"workload_version"`
	Version         string `json:"version"`        // minor version, as in Versions
	ServerVersion   string `json:"server_version"` // from endpoint status, e.g. "3.6.16"
	SnapshotCount   uint64 `json:"snapshot_count"`
	WALSegmentBytes int64  `json:"wal_segment_bytes"` // 0: etcd's default

	// CompactRevision is the revision the workload compacted at.
	CompactRevision int64 `json:"compact_revision"`
	// Revision is the final revision of the key space.
	Revision int64 `json:"revision"`
	// RaftIndex is the raft index reported by the last etcdctl call,
	// endpoint status.
	RaftIndex uint64 `json:"raft_index"`
	// Revisions maps each workload step (see the package doc) to the
	// revision after it.
	Revisions map[string]int64 `json:"revisions"`

	// Points are the recorded revisions, oldest first; the last is
	// PointFinal.
	Points []Point `json:"points"`

	EndpointStatus json.RawMessage `json:"endpoint_status"` // endpoint status -w json
	MemberList     json.RawMessage `json:"member_list"`     // member list -w json
	LeaseList      json.RawMessage `json:"lease_list"`      // lease list -w json
}

// Point is the key space and its hash at one revision, as etcdctl printed
// them.
//
// At the compaction revision itself (PointCompacted) the live server
// answers hashkv from the hash its compaction computed and kept in memory:
// the hash of every revision up to and including it, with compact_revision
// -1. A restarted server, or an offline tool, computes the hash over the
// same revision with compact_revision set to it instead, which differs. At
// the later points the hashes cover (compaction revision, R] either way.
type Point struct {
	Name     string          `json:"name"`
	Revision int64           `json:"revision"`
	Get      json.RawMessage `json:"get"`     // get "" --prefix --rev R -w json
	HashKV   json.RawMessage `json:"hash_kv"` // endpoint hashkv --rev R -w json
}

// Point returns the point of the given name, or nil.
func (r *Recording) Point(name string) *Point {
	for i := range r.Points {
		if r.Points[i].Name == name {
			return &r.Points[i]
		}
	}
	return nil
}

// LoadRecording reads a recording.json.
func LoadRecording(path string) (*Recording, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Recording
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

// RecordingPath is where RunWorkload writes the recording of a data dir.
func RecordingPath(dataDir string) string {
	return filepath.Join(filepath.Dir(filepath.Clean(dataDir)), "recording.json")
}

// Value returns the workload's value for key in generation gen: n bytes
// of a splitmix64 stream seeded by key and gen, with the first byte forced
// to 0xff so that no non-empty value is valid UTF-8.
func Value(key string, gen, n int) []byte {
	h := fnv.New64a()
	h.Write([]byte(key))
	s := h.Sum64() ^ uint64(gen)*0x9e3779b97f4a7c15
	b := make([]byte, n+7)
	for i := 0; i < n; i += 8 {
		s += 0x9e3779b97f4a7c15
		z := s
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		z ^= z >> 31
		binary.LittleEndian.PutUint64(b[i:], z)
	}
	b = b[:n]
	if n > 0 {
		b[0] = 0xff
	}
	return b
}

// dataKeys are the keys of the values step and their value sizes.
var dataKeys = []struct {
	key  string
	size int
}{
	{"/data/v0000", 0},
	{"/data/v0001", 1},
	{"/data/v0100", 100},
	{"/data/v1024", 1 << 10},
	{"/data/v16k", 16 << 10},
	{"/data/v64k", 64 << 10},
}

// BinaryKey is the workload's key that is not valid UTF-8.
const BinaryKey = "/bin/\xff\xfe\x00\x01"

type workload struct {
	tb  testing.TB
	m   *Member
	cli *clientv3.Client
	rec *Recording
	rev int64
}

func (w *workload) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), opTimeout)
}

func (w *workload) check(what string, err error) {
	w.tb.Helper()
	if err != nil {
		w.tb.Fatalf("etcdtest: workload: %s: %v", what, err)
	}
}

func (w *workload) put(key string, val []byte, opts ...clientv3.OpOption) int64 {
	w.tb.Helper()
	ctx, cancel := w.ctx()
	defer cancel()
	resp, err := w.cli.Put(ctx, key, string(val), opts...)
	w.check("put "+strconv.Quote(key), err)
	w.rev = resp.Header.Revision
	return w.rev
}

func (w *workload) del(key string, opts ...clientv3.OpOption) {
	w.tb.Helper()
	ctx, cancel := w.ctx()
	defer cancel()
	resp, err := w.cli.Delete(ctx, key, opts...)
	w.check("delete "+strconv.Quote(key), err)
	w.rev = resp.Header.Revision
}

func (w *workload) txn(what string, want bool, cmps []clientv3.Cmp, then, els []clientv3.Op) {
	w.tb.Helper()
	ctx, cancel := w.ctx()
	defer cancel()
	resp, err := w.cli.Txn(ctx).If(cmps...).Then(then...).Else(els...).Commit()
	w.check(what, err)
	if resp.Succeeded != want {
		w.tb.Fatalf("etcdtest: workload: %s: succeeded = %v, want %v", what, resp.Succeeded, want)
	}
	w.rev = resp.Header.Revision
}

func (w *workload) mark(step string) {
	w.rec.Revisions[step] = w.rev
}

func (w *workload) fill(n int) {
	w.tb.Helper()
	for i := range n {
		key := fmt.Sprintf("/fill/%02d", i%10)
		w.put(key, Value(key, int(w.rev), 16+i%48))
	}
}

// RunWorkload drives the workload described in the package doc through m,
// which must be a fresh member, records the server's answers with etcdctl,
// writes the Recording to RecordingPath(m.DataDir) and returns it. It
// leaves auth enabled and sets m.Auth to root's credentials.
func RunWorkload(tb testing.TB, m *Member) *Recording {
	tb.Helper()
	rec := &Recording{
		WorkloadVersion: WorkloadVersion,
		Version:         m.Bins.Version,
		SnapshotCount:   m.Opts.SnapshotCount,
		WALSegmentBytes: m.Opts.WALSegmentBytes,
		Revisions:       map[string]int64{},
	}
	w := &workload{tb: tb, m: m, cli: m.Client(tb), rec: rec}

	// 1. values.
	for _, d := range dataKeys {
		w.put(d.key, Value(d.key, 0, d.size))
	}
	w.put(BinaryKey, Value(BinaryKey, 0, 16))
	w.mark("values")

	// 2. overwrites.
	for _, d := range dataKeys {
		w.put(d.key, Value(d.key, 1, d.size))
	}
	w.mark("overwrites")

	// 3. deletes.
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		w.put("/tmp/"+k, []byte(k))
	}
	w.del("/data/v0001")
	w.del("/tmp/", clientv3.WithPrefix())
	w.del("/no/such/key")
	w.mark("deletes")
	compactRev := w.rev

	// 4. fill-1.
	w.fill(100)
	w.mark("fill-1")

	// 5. compaction.
	{
		ctx, cancel := w.ctx()
		_, err := w.cli.Compact(ctx, compactRev, clientv3.WithCompactPhysical())
		cancel()
		w.check("compact", err)
		rec.CompactRevision = compactRev
		w.mark("compaction")
	}

	// 6. txns.
	revA := w.put("/txn/a", []byte("1"))
	w.put("/txn/c", []byte("c"))
	w.txn("success txn", true,
		[]clientv3.Cmp{
			clientv3.Compare(clientv3.Value("/txn/a"), "=", "1"),
			clientv3.Compare(clientv3.Version("/txn/a"), "=", 1),
			clientv3.Compare(clientv3.ModRevision("/txn/a"), "=", revA),
			clientv3.Compare(clientv3.CreateRevision("/txn/a"), "=", revA),
		},
		[]clientv3.Op{
			clientv3.OpPut("/txn/b", "b"),
			clientv3.OpDelete("/txn/c"),
			clientv3.OpGet("/txn/", clientv3.WithPrefix()),
		},
		[]clientv3.Op{clientv3.OpPut("/txn/wrong", "success txn took the else branch")},
	)
	w.txn("failure txn", false,
		[]clientv3.Cmp{clientv3.Compare(clientv3.Value("/txn/a"), "!=", "1")},
		[]clientv3.Op{clientv3.OpPut("/txn/wrong", "failure txn took the then branch")},
		[]clientv3.Op{
			clientv3.OpPut("/txn/else", "else"),
			clientv3.OpDelete("/txn/b"),
			clientv3.OpGet("/txn/", clientv3.WithPrefix()),
		},
	)
	w.txn("nested txn", true,
		[]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision("/txn/a"), ">", 0)},
		[]clientv3.Op{
			clientv3.OpPut("/txn/nested-outer", "outer"),
			clientv3.OpTxn(
				[]clientv3.Cmp{clientv3.Compare(clientv3.Version("/txn/a"), ">", 0)},
				[]clientv3.Op{clientv3.OpPut("/txn/nested-inner", "inner"), clientv3.OpGet("/txn/a")},
				[]clientv3.Op{clientv3.OpDelete("/txn/a")},
			),
		},
		nil,
	)
	w.mark("txns")

	// 7. leases.
	w.grant(LeaseRevoked, 600)
	w.put("/lease/revoked-1", []byte("r1"), clientv3.WithLease(clientv3.LeaseID(LeaseRevoked)))
	w.put("/lease/revoked-2", []byte("r2"), clientv3.WithLease(clientv3.LeaseID(LeaseRevoked)))
	w.revoke(LeaseRevoked)
	w.grant(LeaseKeptAlive, 600)
	w.put("/lease/kept-1", []byte("k1"), clientv3.WithLease(clientv3.LeaseID(LeaseKeptAlive)))
	w.put("/lease/kept-2", []byte("k2"), clientv3.WithLease(clientv3.LeaseID(LeaseKeptAlive)))
	{
		ctx, cancel := w.ctx()
		_, err := w.cli.KeepAliveOnce(ctx, clientv3.LeaseID(LeaseKeptAlive))
		cancel()
		w.check("lease keep-alive", err)
	}
	w.putExpiring()
	w.waitExpired(LeaseExpired)
	w.mark("leases")

	// 8. fill-2.
	w.fill(200)
	w.mark("fill-2")

	// 9. auth.
	w.enableAuth()
	w.cli = m.Client(tb) // as root
	w.put("/app/config", []byte(`{"replicas":3}`))
	w.put("/app/feature", []byte("on"))
	w.del("/app/feature")
	w.put("/fill/00", Value("/fill/00", int(w.rev), 32))
	w.mark("auth")
	rec.Revision = w.rev

	w.record([]Point{
		{Name: PointCompacted, Revision: compactRev},
		{Name: PointAfterFill1, Revision: rec.Revisions["fill-1"]},
		{Name: PointAfterTxns, Revision: rec.Revisions["txns"]},
		{Name: PointAfterLeases, Revision: rec.Revisions["leases"]},
		{Name: PointFinal, Revision: rec.Revision},
	})

	data, err := json.MarshalIndent(rec, "", "\t")
	w.check("encoding the recording", err)
	path := RecordingPath(m.DataDir)
	w.check("writing the recording", os.WriteFile(path, append(data, '\n'), 0o644))
	return rec
}

// grant grants a lease with a fixed ID.
func (w *workload) grant(id, ttl int64) {
	w.tb.Helper()
	ctx, cancel := w.ctx()
	defer cancel()
	resp, err := pb.NewLeaseClient(w.cli.ActiveConnection()).LeaseGrant(ctx, &pb.LeaseGrantRequest{ID: id, TTL: ttl})
	w.check(fmt.Sprintf("lease grant %#x", id), err)
	if resp.Error != "" {
		w.tb.Fatalf("etcdtest: workload: lease grant %#x: %s", id, resp.Error)
	}
}

// revoke revokes the lease id, a request that makes a revision.
func (w *workload) revoke(id int64) {
	w.tb.Helper()
	ctx, cancel := w.ctx()
	defer cancel()
	resp, err := w.cli.Revoke(ctx, clientv3.LeaseID(id))
	w.check("lease revoke", err)
	w.rev = resp.Header.Revision
}

// putExpiring grants LeaseExpired with TTL 2 and attaches /lease/expiring
// to it. On a slow machine the lease can expire before the put; etcd then
// rejects the put, no revision is used, and the grant and put are retried
// with the same ID, so the revisions stay as documented.
func (w *workload) putExpiring() {
	w.tb.Helper()
	for attempt := 1; ; attempt++ {
		w.grant(LeaseExpired, 2)
		ctx, cancel := w.ctx()
		resp, err := w.cli.Put(ctx, "/lease/expiring", "x", clientv3.WithLease(clientv3.LeaseID(LeaseExpired)))
		cancel()
		if err == nil {
			w.rev = resp.Header.Revision
			return
		}
		if !errors.Is(err, rpctypes.ErrLeaseNotFound) || attempt == 5 {
			w.check("put /lease/expiring", err)
		}
		w.waitRevoked(LeaseExpired)
	}
}

// waitRevoked waits until etcd no longer knows the lease.
func (w *workload) waitRevoked(id int64) {
	w.tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := w.ctx()
		resp, err := w.cli.Leases(ctx)
		cancel()
		w.check("lease list", err)
		if !slices.ContainsFunc(resp.Leases, func(l clientv3.LeaseStatus) bool { return int64(l.ID) == id }) {
			return
		}
		if time.Now().After(deadline) {
			w.tb.Fatalf("etcdtest: workload: lease %#x not revoked after 30 s", id)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitExpired polls TimeToLive until etcd has revoked the lease and reads
// the revision that revocation made.
func (w *workload) waitExpired(id int64) {
	w.tb.Helper()
	// TimeToLive reports TTL -1 both for a revoked lease and for one more
	// than a second past its expiry that etcd has not revoked yet, so wait
	// for the revocation to delete the key, too.
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := w.ctx()
		ttl, err := w.cli.TimeToLive(ctx, clientv3.LeaseID(id))
		cancel()
		w.check("lease time-to-live", err)
		ctx, cancel = w.ctx()
		get, err := w.cli.Get(ctx, "/lease/expiring")
		cancel()
		w.check("get /lease/expiring", err)
		if ttl.TTL == -1 && len(get.Kvs) == 0 {
			w.rev = get.Header.Revision
			return
		}
		if time.Now().After(deadline) {
			w.tb.Fatalf("etcdtest: workload: lease %#x not expired after 30 s (ttl %d, %d keys)", id, ttl.TTL, len(get.Kvs))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (w *workload) enableAuth() {
	w.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*opTimeout)
	defer cancel()
	steps := []struct {
		what string
		do   func() error
	}{
		{"user add root", func() error { _, err := w.cli.UserAdd(ctx, "root", RootPassword); return err }},
		{"role add root", func() error { _, err := w.cli.RoleAdd(ctx, "root"); return err }},
		{"user grant-role root root", func() error { _, err := w.cli.UserGrantRole(ctx, "root", "root"); return err }},
		{"role add reader", func() error { _, err := w.cli.RoleAdd(ctx, "reader"); return err }},
		{"role grant-permission reader read /app/", func() error {
			_, err := w.cli.RoleGrantPermission(ctx, "reader", "/app/", clientv3.GetPrefixRangeEnd("/app/"),
				clientv3.PermissionType(clientv3.PermRead))
			return err
		}},
		{"user add alice", func() error { _, err := w.cli.UserAdd(ctx, "alice", AlicePassword); return err }},
		{"user grant-role alice reader", func() error { _, err := w.cli.UserGrantRole(ctx, "alice", "reader"); return err }},
		{"auth enable", func() error { _, err := w.cli.AuthEnable(ctx); return err }},
	}
	for _, s := range steps {
		w.check(s.what, s.do())
	}
	w.m.Auth = "root:" + RootPassword
}

// record asks etcdctl for the points and the cluster's state.
func (w *workload) record(points []Point) {
	w.tb.Helper()
	m, rec := w.m, w.rec
	raw := func(args ...string) json.RawMessage {
		w.tb.Helper()
		out := m.Ctl(w.tb, args...)
		if !json.Valid(out) {
			w.tb.Fatalf("etcdtest: etcdctl %v printed invalid JSON: %.200q", args, out)
		}
		return json.RawMessage(out)
	}
	for _, p := range points {
		r := strconv.FormatInt(p.Revision, 10)
		p.Get = raw("get", "", "--prefix", "--rev", r, "-w", "json")
		p.HashKV = raw("endpoint", "hashkv", "--rev", r, "-w", "json")
		rec.Points = append(rec.Points, p)
	}
	rec.MemberList = raw("member", "list", "-w", "json")
	rec.LeaseList = raw("lease", "list", "-w", "json")
	rec.EndpointStatus = raw("endpoint", "status", "-w", "json")

	var status []struct {
		Status struct {
			Version   string `json:"version"`
			RaftIndex uint64 `json:"raftIndex"`
		} `json:"Status"`
	}
	if err := json.Unmarshal(rec.EndpointStatus, &status); err != nil || len(status) != 1 {
		w.tb.Fatalf("etcdtest: decoding endpoint status %s: %v", rec.EndpointStatus, err)
	}
	rec.ServerVersion = status[0].Status.Version
	rec.RaftIndex = status[0].Status.RaftIndex
}
