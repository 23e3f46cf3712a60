// Package snapfmt reads etcd's member/snap directory as it is on disk,
// damaged or not, without etcd's server code: the raft snapshot files
// (.snap) down to the v2 store inside them, the database snapshots
// (.snap.db, and `etcdctl snapshot save` files) as far as telling a bbolt
// file and checking its SHA-256 trailer, and every other file left there.
// It also says which .snap etcd would load. It is the decoder behind
// `etcdscope snap dump`.
//
// # Format
//
// A .snap file is named %016x-%016x.snap (term-index) and holds one bare
// snappb.Snapshot, with no length prefix or padding (etcd
// server/etcdserver/api/snap/snapshotter.go, snappb/snap.proto):
//
//	+------+-----------+------+----------+--------------------------------+
//	| 0x08 | crc       | 0x12 | len      | data: raftpb.Snapshot (len)    |
//	|      | (varint)  |      | (varint) |                                |
//	+------+-----------+------+----------+--------------------------------+
//	crc:  CRC-32C (Castagnoli), seed 0, not chained, over the data bytes
//	data: raftpb.Snapshot{ data=1: v2 store JSON,
//	                       metadata=2: {conf_state=1, index=2, term=3} }
//
// The v2 store JSON ([Store]) keeps the membership under /0: members and
// their peer and client URLs, removed members, the cluster version.
//
// A database snapshot is a bbolt file (meta page magic 0xED0CDAED,
// little-endian, at byte 16). One received from the leader is named
// %016x.snap.db by raft index (snap/db.go); one made by `etcdctl snapshot
// save` carries a SHA-256 of all the bytes before it as a 32-byte trailer,
// present exactly when size % 512 == 32 ([HasTrailer]):
//
//	+--------------------------------------+----------------------+
//	| bbolt file (a whole number of pages) | sha256 (32 bytes)    |
//	+--------------------------------------+----------------------+
//
// Other files in the directory are leftovers ([Leftover]): *.broken (a
// .snap etcd failed to read and renamed), tmp* (an incomplete download,
// deleted at boot), db.tmp* (a defragmentation temp file) and anything
// else.
//
// # Usage
//
// [ReadDir] decodes a whole snap directory, [Open] a directory or one
// file; [OpenFile] and [OpenDBFile] read one file by path, and [NewFile]
// and [NewDBFile] are the primitives over any io.ReaderAt. Damage is data,
// not an error: each file carries its Problems.
//
//	d, err := snapfmt.ReadDir("member/snap", snapfmt.Options{})
//	if err != nil {
//		return err // I/O: the directory or a file cannot be read
//	}
//	for _, f := range d.Snaps {
//		for _, p := range f.Problems {
//			// a *CorruptionError with file and offset;
//			// snapfmt.Code(p) is its stable finding code
//		}
//		if f.Snapshot != nil {
//			// f.Snapshot.Metadata.Term, .Index, .ConfState; f.Store.Members
//		}
//	}
//	choice := snapfmt.NewestAvailable(d.Snaps, walSnapshotRecords)
//	// choice.Loaded is what etcd 3.5/3.6 would load, choice.Renamed()
//	// what it would rename to .broken on the way
//
// # Guarantees
//
//   - Corruption is data: a damaged file is returned with its Problems,
//     each placed at the most precise offset known (for a CRC mismatch,
//     the one damaged byte that explains it when there is one, found in
//     linear time by [LocateByteError]). The layers are decoded
//     separately, so a bad CRC still shows the metadata and a bad v2
//     store still shows the CRC and metadata.
//   - It never panics on input and never allocates more than the bytes
//     that exist: every length is checked against what is left first. A
//     .snap is read whole, as etcd does; a database file is streamed
//     through SHA-256 in 1 MiB reads.
//   - It never writes, renames or locks: files are opened O_RDONLY, so
//     unlike etcd's loader it never renames a bad .snap to .broken, and a
//     live etcd is neither blocked nor blocking. FIFOs and devices are
//     never opened.
//   - Values are not safe for concurrent mutation; the functions keep no
//     state between calls.
package snapfmt
