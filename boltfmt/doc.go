// Package boltfmt reads bbolt files (etcd's member/snap/db, *.snap.db files,
// `etcdctl snapshot save` output) page by page, with explicit little-endian
// decoding and without bbolt's runtime: it never maps, locks or writes the
// file, and a damaged file never makes it panic. It is the decoder behind
// `etcdscope bolt ...`.
//
// # Format
//
// The file is an array of pages of the page size the meta pages give
// (go.etcd.io/bbolt internal/common):
//
//	page header (16 bytes, little-endian):
//	+---------+---------+---------+------------+
//	| id u64  | flags u16 | count u16 | overflow u32 |
//	+---------+---------+---------+------------+
//	flags: 0x01 branch, 0x02 leaf, 0x04 meta, 0x10 freelist (exact values)
//	overflow: further contiguous pages of this page; they have no header
//
//	meta (pages 0 and 1, after the header, 64 bytes):
//	magic 0xED0CDAED u32 | version 2 u32 | page size u32 | flags u32 |
//	root bucket {root pgid u64, sequence u64} | freelist pgid u64 |
//	high-water mark u64 | txid u64 | FNV-1a 64 of the 56 bytes before it
//
//	branch element (16 bytes): pos u32 | ksize u32 | child pgid u64
//	leaf element (16 bytes):   flags u32 | pos u32 | ksize u32 | vsize u32
//	pos counts from the element's own first byte; a leaf's value follows
//	its key. Leaf flag 0x01 marks a bucket: its value is {root pgid u64,
//	sequence u64}, and when root is 0 an inline leaf page image follows.
//
//	freelist: count page ids (u64 each); count 0xFFFF means the first u64
//	is the count. A freelist pgid of 0xFFFF...FF means none is persisted
//	(etcd on Linux): free pages are those the tree does not reach.
//
// # Usage
//
// [Open] (or [New] over any io.ReaderAt) reads both metas and chooses the
// one bbolt would use ([DB.Active], [DB.Why]). [DB.ReadPage] reads one page
// with its overflow; [LeafElements], [BranchElements], [FreelistIDs] and
// [DecodeBucket] decode it with every bound checked. [DB.Walk] checks the
// whole file, reporting every problem as a [*PageError] with the page id
// and file offset ([Code] gives the stable finding code), and can hand
// every leaf element to a callback, in key order per bucket:
//
//	db, err := boltfmt.Open("member/snap/db", boltfmt.Options{})
//	...
//	defer db.Close()
//	rep, err := db.Walk(boltfmt.WalkOptions{})
//	for _, p := range rep.Problems {
//		// p is a *PageError: page, offset, bucket, path; boltfmt.Code(p)
//	}
//
// The [Report] says what every page id is ([Report.Status], [Report.Live])
// and which bucket's tree holds it ([Report.Owner]).
//
// [DB.Get] finds one key and [DB.Range] a window of a bucket's elements
// from a seek key, either way, descending as bbolt's cursor does: a page
// per level, never the whole bucket. [DB.Lookup] falls back to reading the
// whole bucket when damage on the way may hide the key.
//
// [DB.PageSpans] and [DB.ScanPages] read the file sequentially in large
// chunks: the first tells what every page id is (a header, an overflow
// page of an earlier page, zeros), the second visits every page with a
// header, reachable or not, for salvage. [DB.DescribePages] lays pages out
// field by field, with an annotation for every byte range it decodes, for
// people (bolt page, the tui's page detail).
//
// What the bolt commands print is written here too, so that every caller
// shows a page, a bucket or a key alike: a [PageLayout] describes itself
// in text ([PageLayout.Describe]), table rows, JSON and annotated hex
// ([PageLayout.Hex]); [DB.ListPages], [Report.BucketsByPath] with
// [BucketRows], [KeyEntry] and [DB.Info] give what bolt pages, buckets,
// keys and info list, as rows and JSON. Keys are shown through a
// [KeyFormatter], which gives the keys of etcd's buckets their own forms
// (mvccview.KeyText).
//
// # Guarantees
//
//   - Never panics on input; every length and page id is bounded by the
//     file's real size before anything is read or allocated, and a walk
//     keeps a visited set and the page path, so cycles end it.
//   - Reports every problem, not the first: a damaged page is reported and
//     skipped, and the walk goes on; with one meta damaged it uses the
//     other and says so; with both, the more plausible one.
//   - Opens the file O_RDONLY and takes no lock: it neither blocks nor is
//     blocked by a running etcd (which may make a live file look briefly
//     inconsistent).
//   - Memory is a few pages per tree level plus one status byte and one
//     owner word per page: constant in the size of the values.
//   - A DB is not safe for concurrent use.
package boltfmt
