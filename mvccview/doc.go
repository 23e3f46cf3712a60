// Package mvccview is etcd's MVCC view of an etcd db (member/snap/db, a
// .snap.db, an etcdctl snapshot save backup): the key index rebuilt from
// the key bucket as etcd rebuilds it when it starts, and ranges, key
// histories, watch events and HashKV answered with etcd's semantics,
// bit-exact; the decoders of etcd's other buckets (meta, lease, members,
// auth, cluster, alarm); etcd's txn compare; and etcd's schema, the names
// of its buckets and keys ([Buckets], [MetaConsistentIndex], ...).
//
// # Format
//
// The key bucket holds one record per change (server/storage/mvcc):
//
//	key:   main revision (8, big-endian) '_' sub revision (8, big-endian) ['t']
//	value: mvccpb.KeyValue{key=1, create_revision=2, mod_revision=3,
//	       version=4, value=5, lease=6}
//
// with 't' marking a deletion (a tombstone). The meta bucket holds the
// consistent index and term (8 bytes big-endian), the conf state (JSON),
// the storage version and the compaction marks (revision keys); lease
// records are leasepb.Lease under the 8-byte lease id, members etcd's
// member JSON under the id in hex, users and roles authpb messages under
// their names, alarms etcdserverpb.AlarmMember keys.
//
// # Usage
//
// mvccview reads a db through a [Source], the records of a bucket in key
// order: [BoltSource] over boltfmt, which reads a damaged file as far as it
// can, or [BBoltSource] over a bbolt db the caller opened, which also reads
// records by key ([Getter]) and from a key on ([Seeker]):
//
//	db, err := boltfmt.Open("member/snap/db", boltfmt.Options{})
//	...
//	defer db.Close()
//	st, err := mvccview.Open(&mvccview.BoltSource{DB: db})
//	...
//	res, err := st.Range([]byte("/registry/"), []byte("/registry0"), mvccview.RangeOptions{})
//	h, err := st.HashKV(0) // at the current revision, as etcdctl endpoint hashkv
//
// The answers carry their JSON (Range's is etcdctl get -w json's, with
// the header [Store.Identify] completes) and describe themselves for
// people: rows for a table and, for ranges and histories, the lines the
// mvcc commands print ([DescribeOptions]).
//
// The bucket decoders that need no key index also take a Source:
// [ReadMeta], [ReadAuth], [ReadCluster], [ReadAlarms], and per record
// [DecodeLease], [DecodeMember], [DecodeRevisionKey], [DecodeKeyValue].
//
// # Guarantees
//
//   - It only reads, through the Source, and takes no lock of its own:
//     with BoltSource neither does the file (boltfmt opens it read-only,
//     without flock); bbolt, behind BBoltSource, takes a shared one.
//   - A record that does not decode is reported, never a panic: in
//     [Store.BadRecords], or a record's Problem.
//   - The store holds the key index (revisions per key), never the values:
//     ranges and hashes read the key bucket again.
//   - A Store may serve concurrent reads when its Source can (BBoltSource
//     can; BoltSource is not safe for concurrent use).
package mvccview
