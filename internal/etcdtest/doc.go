// Package etcdtest runs real etcd for etcdscope's tests: it builds etcd,
// etcdctl and etcdutl of each supported minor version from the Go module
// proxy, starts single-member clusters on 127.0.0.1, drives a fixed workload
// through them and records what the live server answered, so that tests of
// the offline decoders can compare their reading of the data dir with the
// truth.
//
// It is imported only by _test.go files. There are no mocks: every data dir
// it hands out was written by the etcd release named by [Versions].
//
// # Usage
//
//	bins := etcdtest.Binaries(t, "3.6")            // built once, cached
//	dataDir, rec := etcdtest.Generate(t, "3.6", etcdtest.GenOptions{})
//	defer etcdtest.RequireUnchanged(t, dataDir)()  // evidence is read-only
//	// ... read dataDir offline and compare with rec.Points ...
//
// or, to drive etcd by hand:
//
//	m := etcdtest.StartMember(t, bins, etcdtest.MemberOptions{})
//	m.Ctl(t, "put", "k", "v")
//	cli := m.Client(t)
//	m.Stop(t) // also done by t.Cleanup
//
// # Binaries and caches
//
// The wrapper modules in testdata/etcd/v3.5, v3.6 and v3.7 pin etcd 3.5.35,
// 3.6.16 and 3.7.3 in their go.mod and go.sum, which list etcdctl, etcdutl
// and etcd's server as tools. [Binaries] copies them into a build dir, writes
// etcd/main.go there from etcdmain.go.tmpl (one source for every version:
// real etcd, whose WAL segment size ETCDSCOPE_WAL_SEGMENT_BYTES can shrink),
// and runs
//
//	GOFLAGS=-mod=mod GOWORK=off go build -o DIR/ ./etcd go.etcd.io/etcd/etcdctl/v3 go.etcd.io/etcd/etcdutl/v3
//
// in it. It keeps the result under CACHE/bin/, keyed by a hash of the
// wrapper's go.mod and go.sum and of the main.go written (plus GOOS,
// GOARCH and the Go version). CACHE is $ETCDSCOPE_CACHE, or
// os.UserCacheDir()/etcdscope. [Generate] keeps each generated data dir and
// its recording under CACHE/gen/, keyed by the etcd version,
// [WorkloadVersion], the [GenOptions], the binaries' key and a hash of this
// package's non-test sources; each caller gets a fresh copy. Both caches are
// filled under a file lock and published by rename, so concurrently running
// test binaries build and generate each thing once.
//
// # Members
//
// [StartMember] starts one etcd on 127.0.0.1 with a free client and peer
// port, --snapshot-count 100 unless told otherwise, and --max-wals 0
// --max-snapshots 0 so that etcd purges no WAL segment or .snap file: the
// whole history stays on disk for the offline tools to read. When
// [MemberOptions.WALSegmentBytes] is set, the wrapper's etcd reads it from
// ETCDSCOPE_WAL_SEGMENT_BYTES and cuts WAL segments at that size. Inherited
// ETCD_* and ETCDCTL_* variables are dropped so that they cannot change the
// flags. The member's log goes to a file whose tail is printed when the test
// fails.
//
// # Workload
//
// [RunWorkload] does the following, in this order, through
// go.etcd.io/etcd/client/v3 (values are deterministic pseudo-random bytes
// from a splitmix64 stream seeded by the key and a generation number; every
// non-empty value starts with 0xff, so none is valid UTF-8). The revisions
// are the same on every supported version; they are given for a fresh
// member, whose first write is revision 2.
//
//  1. values: put /data/v0000, /data/v0001, /data/v0100, /data/v1024,
//     /data/v16k and /data/v64k with values of 0 B, 1 B, 100 B, 1 KiB,
//     16 KiB and 64 KiB, and the binary key "/bin/\xff\xfe\x00\x01" with a
//     16 B value (revisions 2 to 8).
//  2. overwrites: put each /data key again with a new value of the same
//     size (revisions 9 to 14).
//  3. deletes: put /tmp/a to /tmp/e (15 to 19); delete /data/v0001 (20);
//     delete the prefix /tmp/ (21, five keys); delete /no/such/key, which
//     changes no revision. Revision 21 is the compaction target.
//  4. fill-1: 100 puts cycling over /fill/00 to /fill/09 (22 to 121).
//  5. compaction: compact at revision 21, physically (the revision stays
//     121). Point "compacted" is revision 21, point "after-fill-1" is 121.
//  6. txns: put /txn/a = "1" and /txn/c = "c" (122, 123); a txn whose
//     compares on /txn/a (value = "1", version = 1, mod revision = 122,
//     create revision = 122) all hold, taking the success branch: put
//     /txn/b, delete /txn/c, range /txn/ (124); a txn comparing value("1")
//     != "1" that takes the failure branch: put /txn/else, delete /txn/b,
//     range /txn/ (125); a txn whose success branch holds a nested txn
//     (put /txn/nested-outer; nested: compare version(/txn/a) > 0, then put
//     /txn/nested-inner and range /txn/a, else delete /txn/a) (126). Point
//     "after-txns" is 126.
//  7. leases (fixed IDs, granted with a raw LeaseGrant): 0x7e570001, TTL 600,
//     attached to /lease/revoked-1 and -2, then revoked (127, 128, 129);
//     0x7e570002, TTL 600, attached to /lease/kept-1 and -2 and renewed once
//     with KeepAliveOnce (130, 131); 0x7e570003, TTL 2, attached to
//     /lease/expiring and left to expire: the workload polls TimeToLive
//     until etcd has revoked it (132, 133). Point "after-leases" is 133.
//  8. fill-2: 200 puts cycling over /fill/00 to /fill/09 (134 to 333).
//  9. auth: add user root (password [RootPassword]) and role root, grant
//     it; add role reader with READ on the prefix /app/ and user alice
//     (password [AlicePassword]) with role reader; enable auth; then as
//     root put /app/config and /app/feature (334, 335), delete /app/feature
//     (336) and put /fill/00 (337). These requests carry auth headers in the
//     WAL. Point "final" is 337.
//
// With --snapshot-count 100 the roughly 370 raft entries leave three or
// more snapshot records in the WAL and as many .snap files. With Generate's
// 16 KiB WAL segments the WAL spans five (3.5) or seven (3.6, 3.7)
// segments; each 16 KiB and 64 KiB value fills a segment (and overruns it)
// on its own. A run takes about 5 s on an idle machine, half of it waiting
// for the TTL 2 lease.
//
// At the end the workload records, with the real etcdctl of the same
// version (-w json, --user root:PASSWORD): `get "" --prefix --rev R` and
// `endpoint hashkv --rev R` for each point, `member list`, `lease list`
// and, last, `endpoint status`, whose raft index is [Recording.RaftIndex].
// Every etcdctl call authenticates, which etcd proposes through raft, so
// the raft index keeps moving until that last call. The [Recording] is
// written as recording.json next to the data dir (in its parent dir).
//
// # Damage and boot
//
// [Damages] are the kinds of damage of issue 14 (a flipped bit in a WAL
// entry, a torn or garbage WAL tail, non-zero padding, a flipped bit in the
// newest .snap file, a zeroed key-bucket leaf, broken meta pages, a
// garbage or wrong freelist, a deleted db), each applied in place to a
// data dir from Generate's defaults at an offset found with walfmt and
// boltfmt, and saying where in a [DamageInfo]. [Boot] starts real etcd on
// such a data dir and records in a [BootResult] what it did: healthy or
// exited and with what message, which files it created, removed, cut, grew
// or zero-filled, and, when healthy, what it served and whether 200 more
// puts, bbolt check and a restart went well. [BootResult.Extra] leaves out
// what a start on the undamaged member does too. TestBootOnDamage logs
// both for every version and damage when ETCDSCOPE_BOOT_PROBE=1:
//
//	ETCDSCOPE_BOOT_PROBE=1 go test ./internal/etcdtest -run TestBootOnDamage -v
//
// The freelist damages first have bbolt persist a freelist page: etcd on
// Linux opens its db with NoFreelistSync, so its metas name none (the
// freelist page id 0xffff_ffff_ffff_ffff) and bbolt rebuilds the free set
// by walking the tree on every open. etcd reads a persisted one, though.
//
// # Large WALs
//
// [LargeWAL] returns a data dir whose WAL holds at least a given number of
// bytes written by real etcd with its default 64,000,000-byte segments,
// for benchmarks of WAL readers: 32 concurrent clients put values of mixed
// sizes (with 1% deletes and 1% txns) until the WAL is large enough. It is
// cached under CACHE/large/ and, unlike Generate's data dirs, handed out
// without copying: callers must not modify it. 256 MiB takes about 10 s.
package etcdtest
