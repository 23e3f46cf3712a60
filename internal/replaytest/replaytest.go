// Package replaytest is what the tests of replay, replay/serve and
// mvccview share: a member's WAL replayed into a new db, a db opened as an
// MVCC store, a member with auth set up, and the checks of a replay
// against what the live server answered. Only tests import it.
package replaytest

import (
	"path/filepath"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/mvccview"
	"github.com/etcdscope/etcdscope/replay"
	"github.com/etcdscope/etcdscope/walfmt"
)

// WAL opens the WAL of the data dir dir; tb.Cleanup closes it.
func WAL(tb testing.TB, dir string) *walfmt.Files {
	tb.Helper()
	files, err := walfmt.OpenPath(filepath.Join(dir, "member", "wal"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { files.Close() })
	return files
}

// Run replays segs with opts into a new db in a temporary dir (opts.Out
// is set here) and returns the db's path and the result.
func Run(tb testing.TB, segs []walfmt.Segment, opts replay.Options) (string, *replay.Result) {
	tb.Helper()
	opts.Out = filepath.Join(tb.TempDir(), "db")
	res, err := replay.Run(segs, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return opts.Out, res
}

// Replay replays the WAL of the data dir dir as [Run] does.
func Replay(tb testing.TB, dir string, opts replay.Options) (string, *replay.Result) {
	tb.Helper()
	return Run(tb, WAL(tb, dir).Segments, opts)
}

// OpenDB opens the db at path with boltfmt; tb.Cleanup closes it.
func OpenDB(tb testing.TB, path string) *boltfmt.DB {
	tb.Helper()
	db, err := boltfmt.Open(path, boltfmt.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// Store is the MVCC view of db.
func Store(tb testing.TB, db *boltfmt.DB) *mvccview.Store {
	tb.Helper()
	st, err := mvccview.Open(&mvccview.BoltSource{DB: db})
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

// OpenStore is the MVCC view of the db at path.
func OpenStore(tb testing.TB, path string) *mvccview.Store {
	tb.Helper()
	return Store(tb, OpenDB(tb, path))
}

// HashKV is st's HashKV at rev.
func HashKV(tb testing.TB, st *mvccview.Store, rev int64) *mvccview.HashKV {
	tb.Helper()
	h, err := st.HashKV(rev)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// CheckLive fails tb unless the replay that wrote the db at out, with
// result res, ended at the live server's revision rev and has its HashKV
// hash there.
func CheckLive(tb testing.TB, res *replay.Result, out string, rev int64, hash uint32) {
	tb.Helper()
	if h := HashKV(tb, OpenStore(tb, out), rev); res.Revision != rev || h.Hash != hash {
		tb.Errorf("replayed revision %d hash %d, live %d %d", res.Revision, h.Hash, rev, hash)
	}
}

// AuthMember starts a member of etcd version v with auth enabled: users
// root (password rootpw) and alice (alicepw), alice with the role rw,
// which holds each of perms (etcdctl role grant-permission's arguments
// after the role, as {"readwrite", "/a/", "--prefix"}). It returns the
// member, whose Ctl runs as root, and clients for root and alice.
func AuthMember(tb testing.TB, v string, perms ...[]string) (m *etcdtest.Member, root, alice *clientv3.Client) {
	tb.Helper()
	m = etcdtest.StartMember(tb, etcdtest.Binaries(tb, v), etcdtest.MemberOptions{SnapshotCount: 10000})
	m.Ctl(tb, "user", "add", "root:rootpw")
	m.Ctl(tb, "user", "add", "alice:alicepw")
	m.Ctl(tb, "role", "add", "rw")
	for _, p := range perms {
		m.Ctl(tb, append([]string{"role", "grant-permission", "rw"}, p...)...)
	}
	m.Ctl(tb, "user", "grant-role", "alice", "rw")
	m.Ctl(tb, "auth", "enable")
	m.Auth = "alice:alicepw"
	alice = m.Client(tb)
	m.Auth = "root:rootpw"
	root = m.Client(tb)
	return m, root, alice
}
