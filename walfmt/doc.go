// Package walfmt reads etcd's write-ahead log as it is on disk, damaged or
// not, without etcd's server code: every frame with its segment and byte
// offset, the walpb.Record inside it, the raft payload inside that, and the
// etcd request inside a normal entry. It is the decoder behind
// `etcdscope wal dump|verify|stats`.
//
// # Format
//
// A WAL is a directory of segments named %016x-%016x.wal (sequence, first
// raft index), each preallocated with zeros (64,000,000 bytes by default)
// and written as a sequence of 8-byte aligned frames
// (etcd server/storage/wal/encoder.go, decoder.go):
//
//	+----------------------+-----------------------------+-----------+
//	| length word (8, LE)  | walpb.Record (L bytes)      | pad (P)   |
//	+----------------------+-----------------------------+-----------+
//	length word: bits 0-55 L, bits 56-58 P, bit 63 set iff P > 0,
//	             bits 59-62 zero; 8+L+P is a multiple of 8.
//	walpb.Record: type=1 (1 metadata, 2 entry, 3 state, 4 crc, 5 snapshot),
//	             crc=2, data=3.
//
// Each record's crc is the running CRC-32C (Castagnoli) of the data of
// every non-crc record before it, across segments; each segment begins with
// a crc record carrying the previous segment's running CRC, then the
// metadata (member and cluster id), then the last hard state. Data is a
// raftpb.Entry, raftpb.HardState, walpb.Snapshot or etcdserverpb.Metadata;
// an entry's data is an etcd request ([DecodeRequest]) or a conf change
// ([DecodeConfChange]). An entry whose index is not above the previous
// entry's replaces every entry from that index on (raft log truncation).
// After the last record comes zero-filled preallocated space.
//
// # Usage
//
// [OpenPath] opens a directory of segments or one segment file read-only;
// [NewReader] reads any [Segment] list through io.ReaderAt. [Reader.Next]
// returns one [Frame] at a time, io.EOF at the end:
//
//	files, err := walfmt.OpenPath("member/wal")
//	...
//	defer files.Close()
//	r := walfmt.NewReader(files.Segments, walfmt.Options{})
//	for {
//		f, err := r.Next()
//		if err == io.EOF {
//			break
//		}
//		if err != nil {
//			return err // I/O: reading cannot go on
//		}
//		for _, p := range f.Problems {
//			// damage: a *CorruptionError with segment and offset;
//			// walfmt.Code(p) is its stable finding code
//		}
//		if f.Entry != nil && f.Trusted() {
//			// f.Entry.Index, f.Entry.Term, f.Entry.Data
//		}
//	}
//
// The frames of a segment tile it exactly: [KindSegment] (covers no bytes),
// then [KindRecord], [KindZero] (preallocation) and [KindDamage] frames, so
// every byte is accounted for. To know which entries later entries replaced,
// run [ScanOverwrites] first and pass its result in [Options.Overwrites]:
// that costs a second read, never memory proportional to the log.
// [Summarize] reads a whole log into a [Summary] of counts, bounds, the last
// hard state, every snapshot record and every problem; [CollectStats] also
// counts the entries by request kind and key prefix.
//
// [DecodePayload] decodes an entry's data by its type into a [Payload].
// Frames are shown, as wal dump shows them, by [DescribeFrame] and the
// Describe functions it is built from (raft's util.go shape), by
// [AppendFrameText] as a line of text and by [Frame.AppendJSON] as a JSON
// object; a [Filter] selects them. A *Payload passed along caches the
// decoded entry, so that filtering and then writing decodes it once.
//
// # Guarantees
//
//   - Corruption is data: a damaged frame is returned with its Problems and
//     the reader keeps going. After a CRC mismatch it reseeds the running CRC
//     with the stored one, so only damaged records are reported; after bytes
//     that do not frame it scans ahead for a record confirmed by its
//     successor's CRC. Next returns an error only for I/O (or the first
//     problem, with [Options.Strict]).
//   - It never panics on input and never allocates more than the bytes that
//     exist: every length is checked against what is left of the segment
//     first. It holds one window (1 MiB) plus the largest record.
//   - It never writes: files are opened O_RDONLY, without a lock, so a live
//     etcd is neither blocked nor blocking.
//   - A Reader is not safe for concurrent use, and a Frame is valid only
//     until the next call to Next.
package walfmt
