package etcdtest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/walfmt"
	bolt "go.etcd.io/bbolt"
)

// Damage is one kind of damage to a member's files, applied in place to a
// data dir written by Generate with its default options (a WAL from index
// 1 in 16 KiB segments, no segment or .snap file purged, the db at the
// WAL's last index). The damages are those of issue 14, whose tests check
// what inspect predicts etcd does on such a member against what Boot sees
// real etcd do.
type Damage struct {
	// Name is the damage's stable name, as in issue 14: "wal-bitflip-mid".
	Name string
	// Apply damages the data dir and says where. It fails tb when the data
	// dir does not have what the damage needs.
	Apply func(tb testing.TB, dataDir string) DamageInfo
}

// DamageInfo says where a Damage was applied.
type DamageInfo struct {
	// File is the damaged file, slash-separated and relative to the data
	// dir: "member/wal/0000000000000002-000000000000000b.wal".
	File string
	// Offset is the byte offset in File of the first damaged byte (for a
	// cut, the new size); 0 for a removed file.
	Offset int64
	// Page is the bbolt page id damaged, for damage to the db.
	Page uint64
	// Detail says what was done, in words: the record or page, its bytes
	// before and after.
	Detail string
}

// Damages returns the damages of issue 14, in its order. wal-torn-tail is
// given three times: both cut and zeroed (wal-torn-tail), only cut
// (wal-torn-tail-cut) and only zeroed (wal-torn-tail-zeroed).
func Damages() []Damage {
	return []Damage{
		{"wal-bitflip-mid", walBitflipMid},
		{"wal-torn-tail", func(tb testing.TB, d string) DamageInfo { return walTornTail(tb, d, true, true) }},
		{"wal-torn-tail-cut", func(tb testing.TB, d string) DamageInfo { return walTornTail(tb, d, true, false) }},
		{"wal-torn-tail-zeroed", func(tb testing.TB, d string) DamageInfo { return walTornTail(tb, d, false, true) }},
		{"wal-garbage-tail-gap", func(tb testing.TB, d string) DamageInfo { return walGarbageTail(tb, d, true) }},
		{"wal-garbage-tail-adjacent", func(tb testing.TB, d string) DamageInfo { return walGarbageTail(tb, d, false) }},
		{"wal-nonzero-padding", walNonzeroPadding},
		{"snap-bitflip-newest", snapBitflipNewest},
		{"db-zeroed-key-leaf", dbZeroedKeyLeaf},
		{"db-meta0-broken", func(tb testing.TB, d string) DamageInfo { return dbMetaBroken(tb, d, 0) }},
		{"db-meta1-broken", func(tb testing.TB, d string) DamageInfo { return dbMetaBroken(tb, d, 1) }},
		{"db-metas-broken", func(tb testing.TB, d string) DamageInfo { return dbMetaBroken(tb, d, 2) }},
		{"db-freelist-garbage", dbFreelistGarbage},
		{"db-freelist-inuse", dbFreelistInuse},
		{"db-deleted", dbDeleted},
	}
}

// DamageByName returns the damage of that name; it fails tb for an
// unknown one.
func DamageByName(tb testing.TB, name string) Damage {
	tb.Helper()
	for _, d := range Damages() {
		if d.Name == name {
			return d
		}
	}
	tb.Fatalf("etcdtest: no damage %q", name)
	return Damage{}
}

const (
	walRel  = "member/wal"
	snapRel = "member/snap"
	dbRel   = "member/snap/db"
)

// walRecord is where one WAL record lies, as walfmt reads it.
type walRecord struct {
	Segment    string // base name
	Last       bool   // in the last segment
	Offset     int64  // of the length word
	Length     int64  // L
	Pad        int64  // P
	Type       walfmt.RecordType
	DataOffset int64 // of the record's data, in the segment
	DataLen    int64
	// Entry is an entry record's entry, without its data; HasData says
	// whether it had any.
	Entry   *walfmt.Entry
	HasData bool
	SegSize int64 // of the segment
}

// End is the offset just past the record's frame.
func (r walRecord) End() int64 { return r.Offset + 8 + r.Length + r.Pad }

func (r walRecord) file() string { return walRel + "/" + r.Segment }

// walRecords reads every record of the data dir's WAL, which must be
// undamaged.
func walRecords(tb testing.TB, dataDir string) []walRecord {
	tb.Helper()
	files, err := walfmt.OpenPath(filepath.Join(dataDir, walRel))
	if err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
	defer files.Close()
	last := len(files.Segments) - 1
	r := walfmt.NewReader(files.Segments, walfmt.Options{})
	var recs []walRecord
	for {
		f, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatalf("etcdtest: reading the WAL: %v", err)
		}
		if len(f.Problems) > 0 {
			tb.Fatalf("etcdtest: the WAL is damaged already: %v", f.Problems[0])
		}
		if f.Kind != walfmt.KindRecord {
			continue
		}
		rec := walRecord{
			Segment: f.Segment.Name, Last: f.SegmentIndex == last,
			Offset: f.Offset, Length: f.Length, Pad: f.Pad, Type: f.Record.Type,
			DataOffset: f.Offset + 8 + int64(f.Record.DataOffset), DataLen: int64(len(f.Record.Data)),
			SegSize: f.Segment.Size,
		}
		if e := f.Entry; e != nil {
			rec.Entry = &walfmt.Entry{Term: e.Term, Index: e.Index, Type: e.Type}
			rec.HasData = len(e.Data) > 0
		}
		recs = append(recs, rec)
	}
	return recs
}

// normalWithData reports whether r is a normal entry with a payload.
func (r walRecord) normalWithData() bool {
	return r.Entry != nil && r.Entry.Type == walfmt.EntryNormal && r.HasData
}

// midRecord picks the middle one of the records in segments other than
// the last for which ok holds.
func midRecord(tb testing.TB, recs []walRecord, what string, ok func(walRecord) bool) walRecord {
	tb.Helper()
	var c []walRecord
	for _, r := range recs {
		if !r.Last && ok(r) {
			c = append(c, r)
		}
	}
	if len(c) == 0 {
		tb.Fatalf("etcdtest: no %s outside the last WAL segment", what)
	}
	return c[len(c)/2]
}

// walBitflipMid flips the lowest bit of the middle byte of the data of a
// normal entry with a payload, in a segment that is not the last.
func walBitflipMid(tb testing.TB, dataDir string) DamageInfo {
	tb.Helper()
	r := midRecord(tb, walRecords(tb, dataDir), "normal entry with data", walRecord.normalWithData)
	off := r.DataOffset + r.DataLen/2
	old := flipLowBit(tb, filepath.Join(dataDir, r.file()), off)
	return DamageInfo{File: r.file(), Offset: off, Detail: fmt.Sprintf(
		"entry index %d (term %d, frame at %#x, %d data bytes at %#x): bit 0 of the byte at %#x flipped (%#02x to %#02x)",
		r.Entry.Index, r.Entry.Term, r.Offset, r.DataLen, r.DataOffset, off, old, old^1)}
}

// lastRecord returns the last record of the last segment.
func lastRecord(tb testing.TB, dataDir string) walRecord {
	tb.Helper()
	recs := walRecords(tb, dataDir)
	if len(recs) == 0 || !recs[len(recs)-1].Last {
		tb.Fatalf("etcdtest: the last WAL segment holds no record")
	}
	return recs[len(recs)-1]
}

// walTornTail tears the last record of the last segment as a crash in
// the middle of its write leaves it: its length word stays; with zero its
// body (record and padding) is zeroed up to the cut, or to its end; with
// cut the file ends in the middle of the body.
func walTornTail(tb testing.TB, dataDir string, cut, zero bool) DamageInfo {
	tb.Helper()
	r := lastRecord(tb, dataDir)
	path := filepath.Join(dataDir, r.file())
	body := r.Offset + 8
	end := r.End()
	if cut {
		end = body + r.Length/2
	}
	var did []string
	if zero {
		writeAt(tb, path, body, make([]byte, end-body))
		did = append(did, fmt.Sprintf("its body zeroed from %#x to %#x", body, end))
	}
	if cut {
		if err := os.Truncate(path, end); err != nil {
			tb.Fatalf("etcdtest: %v", err)
		}
		did = append(did, fmt.Sprintf("the file cut to %d bytes (was %d)", end, r.SegSize))
	}
	off := body
	if !zero {
		off = end
	}
	return DamageInfo{File: r.file(), Offset: off, Detail: fmt.Sprintf(
		"last record, %s (frame at %#x, %d+%d bytes after its length word): %s",
		describeRecord(r), r.Offset, r.Length, r.Pad, strings.Join(did, ", "))}
}

func describeRecord(r walRecord) string {
	if r.Entry != nil {
		return fmt.Sprintf("entry index %d", r.Entry.Index)
	}
	return r.Type.String() + " record"
}

// walGarbageTail writes 1 KiB (less when the segment is short of room)
// of random non-zero bytes into the last segment's preallocated space:
// right after the last record's frame, or, with gap, some KiB (half the
// free space, at most 2 KiB) after it, zeros between.
func walGarbageTail(tb testing.TB, dataDir string, gap bool) DamageInfo {
	tb.Helper()
	r := lastRecord(tb, dataDir)
	start := r.End()
	free := r.SegSize - start
	if gap {
		start += min(2048, free/2) &^ 7
	}
	n := min(1024, r.SegSize-start)
	if n < 64 {
		tb.Fatalf("etcdtest: %s has only %d bytes after its last record", r.Segment, free)
	}
	writeAt(tb, filepath.Join(dataDir, r.file()), start, garbage(n, 14))
	return DamageInfo{File: r.file(), Offset: start, Detail: fmt.Sprintf(
		"%d random non-zero bytes at %#x, %d bytes after the end of the last record (%s, frame ends at %#x; segment size %d)",
		n, start, start-r.End(), describeRecord(r), r.End(), r.SegSize)}
}

// walNonzeroPadding sets the last padding byte of the middle padded
// record outside the last segment to 0xff.
func walNonzeroPadding(tb testing.TB, dataDir string) DamageInfo {
	tb.Helper()
	r := midRecord(tb, walRecords(tb, dataDir), "padded record", func(r walRecord) bool { return r.Pad > 0 })
	off := r.End() - 1
	writeAt(tb, filepath.Join(dataDir, r.file()), off, []byte{0xff})
	return DamageInfo{File: r.file(), Offset: off, Detail: fmt.Sprintf(
		"%s (frame at %#x, length %d, padding %d): padding byte at %#x set to 0xff",
		describeRecord(r), r.Offset, r.Length, r.Pad, off)}
}

// snapBitflipNewest flips the lowest bit of the middle byte of the newest
// .snap file.
func snapBitflipNewest(tb testing.TB, dataDir string) DamageInfo {
	tb.Helper()
	snaps, err := filepath.Glob(filepath.Join(dataDir, snapRel, "*.snap"))
	if err != nil || len(snaps) == 0 {
		tb.Fatalf("etcdtest: no .snap file in %s (%v)", dataDir, err)
	}
	sort.Strings(snaps) // %016x-%016x names: by term, then index
	path := snaps[len(snaps)-1]
	size := fileSize(tb, path)
	off := size / 2
	old := flipLowBit(tb, path, off)
	return DamageInfo{File: snapRel + "/" + filepath.Base(path), Offset: off, Detail: fmt.Sprintf(
		"newest of %d .snap files (%d bytes): bit 0 of the byte at %#x flipped (%#02x to %#02x)",
		len(snaps), size, off, old, old^1)}
}

// keyLeaves returns the leaf pages of the key bucket in key order, and
// the db's page size.
func keyLeaves(tb testing.TB, path string) ([]boltfmt.Page, int) {
	tb.Helper()
	db, err := boltfmt.Open(path, boltfmt.Options{})
	if err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
	defer db.Close()
	var ids []boltfmt.PageID
	_, err = db.Walk(boltfmt.WalkOptions{
		Bucket: []string{"key"},
		Leaf: func(b *boltfmt.BucketInfo, page boltfmt.PageID, _ *boltfmt.LeafElement) bool {
			if slices.Equal(b.Path, []string{"key"}) && !slices.Contains(ids, page) {
				ids = append(ids, page)
			}
			return false
		},
	})
	if err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
	var pages []boltfmt.Page
	for _, id := range ids {
		p, err := db.ReadPage(id, db.HWM(), nil)
		if err != nil {
			tb.Fatalf("etcdtest: %v", err)
		}
		if p.Type == boltfmt.LeafPage {
			pages = append(pages, p)
		}
	}
	return pages, db.PageSize
}

// midKeyLeaf picks the middle leaf page of the key bucket, preferring one
// without overflow pages.
func midKeyLeaf(tb testing.TB, path string) (boltfmt.Page, int, int) {
	tb.Helper()
	pages, pageSize := keyLeaves(tb, path)
	var single []boltfmt.Page
	for _, p := range pages {
		if p.Overflow == 0 {
			single = append(single, p)
		}
	}
	if len(single) == 0 {
		single = pages
	}
	if len(single) == 0 {
		tb.Fatalf("etcdtest: %s: no leaf page in bucket key", path)
	}
	return single[len(single)/2], pageSize, len(pages)
}

// dbZeroedKeyLeaf zeroes a whole leaf page of the key bucket, its
// overflow pages included.
func dbZeroedKeyLeaf(tb testing.TB, dataDir string) DamageInfo {
	tb.Helper()
	path := filepath.Join(dataDir, dbRel)
	p, pageSize, n := midKeyLeaf(tb, path)
	size := int64(pageSize) * int64(1+p.Overflow)
	first, last := leafKeyRange(p)
	writeAt(tb, path, p.Offset, make([]byte, size))
	return DamageInfo{File: dbRel, Offset: p.Offset, Page: uint64(p.ID), Detail: fmt.Sprintf(
		"leaf page %d of bucket key (%d of %d leaves in key order, %d elements, revisions %s to %s, overflow %d): %d bytes at %#x zeroed",
		p.ID, n/2+1, n, p.Count, first, last, p.Overflow, size, p.Offset)}
}

// leafKeyRange returns the first and last revision keys of a key-bucket
// leaf, as main_sub.
func leafKeyRange(p boltfmt.Page) (first, last string) {
	els, err := boltfmt.LeafElements(p.Data, int(p.Count))
	if err != nil || len(els) == 0 {
		return "?", "?"
	}
	rev := func(k []byte) string {
		if len(k) < 17 {
			return fmt.Sprintf("%x", k)
		}
		return fmt.Sprintf("%d_%d", binary.BigEndian.Uint64(k), binary.BigEndian.Uint64(k[9:]))
	}
	return rev(els[0].Key), rev(els[len(els)-1].Key)
}

// dbMetaBroken flips every bit of the low byte of the txid in meta page
// slot (2: both), so that its checksum fails and nothing else does: magic,
// version and page size stay.
func dbMetaBroken(tb testing.TB, dataDir string, slot int) DamageInfo {
	tb.Helper()
	path := filepath.Join(dataDir, dbRel)
	db, err := boltfmt.Open(path, boltfmt.Options{})
	if err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
	metas, active, pageSize := db.Metas, db.Active, int64(db.PageSize)
	db.Close()
	slots := []int{slot}
	if slot == 2 {
		slots = []int{0, 1}
	}
	const txidAt = 16 + 48 // page header, then the meta's txid field
	var did []string
	for _, s := range slots {
		off := int64(s)*pageSize + txidAt
		b := readAt(tb, path, off, 1)[0]
		writeAt(tb, path, off, []byte{b ^ 0xff})
		role := "the older"
		if s == active {
			role = "the newer, in use"
		}
		did = append(did, fmt.Sprintf("meta %d (txid %d, %s): byte at %#x %#02x to %#02x", s, metas[s].TxID, role, off, b, b^0xff))
	}
	return DamageInfo{File: dbRel, Offset: int64(slots[0])*pageSize + txidAt, Page: uint64(slots[0]),
		Detail: strings.Join(did, "; ") + ": checksum fails"}
}

// persistFreelist has bbolt write a freelist page into the db, as etcd on
// Linux never does (NoFreelistSync): opened read-write with bbolt's
// defaults and closed, bbolt commits one transaction that writes it. It
// returns the new active meta's slot, txid and freelist page.
func persistFreelist(tb testing.TB, path string) string {
	tb.Helper()
	before := activeMeta(tb, path)
	db, err := bolt.Open(path, 0o600, &bolt.Options{})
	if err != nil {
		tb.Fatalf("etcdtest: persisting the freelist: %v", err)
	}
	if err := db.Close(); err != nil {
		tb.Fatalf("etcdtest: persisting the freelist: %v", err)
	}
	after := activeMeta(tb, path)
	return fmt.Sprintf("the db had no freelist page (meta %d txid %d: freelist %#x); bbolt %s persisted one in txid %d (meta %d: freelist page %d, hwm %d)",
		before.Slot, before.TxID, uint64(before.Freelist), boltVersion(tb), after.TxID, after.Slot, after.Freelist, after.HWM)
}

// boltVersion is the version of go.etcd.io/bbolt the module requires, as
// its go.mod says.
func boltVersion(tb testing.TB) string {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(RepoRoot(tb), "go.mod"))
	if err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
	for l := range strings.Lines(string(data)) {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "go.etcd.io/bbolt" {
			return f[1]
		}
	}
	return "(version unknown)"
}

func activeMeta(tb testing.TB, path string) boltfmt.Meta {
	tb.Helper()
	db, err := boltfmt.Open(path, boltfmt.Options{})
	if err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
	defer db.Close()
	if db.Active < 0 {
		tb.Fatalf("etcdtest: %s: no valid meta", path)
	}
	return db.Metas[db.Active]
}

// freelistPage persists a freelist and reads its page.
func freelistPage(tb testing.TB, path string) (boltfmt.Page, []boltfmt.PageID, int, string) {
	tb.Helper()
	persisted := persistFreelist(tb, path)
	db, err := boltfmt.Open(path, boltfmt.Options{})
	if err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
	defer db.Close()
	p, err := db.ReadPage(db.Meta().Freelist, db.HWM(), nil)
	if err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
	if p.Type != boltfmt.FreelistPage {
		tb.Fatalf("etcdtest: page %d is a %v, not the freelist", p.ID, p.Type)
	}
	ids, err := boltfmt.FreelistIDs(p.Data, p.Count)
	if err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
	return p, ids, db.PageSize, persisted
}

// dbFreelistGarbage persists a freelist, then overwrites everything of
// its page after the 16-byte header (whose id, flags, count and overflow
// stay) with random bytes: the page ids it lists become garbage.
func dbFreelistGarbage(tb testing.TB, dataDir string) DamageInfo {
	tb.Helper()
	path := filepath.Join(dataDir, dbRel)
	p, ids, pageSize, persisted := freelistPage(tb, path)
	n := int64(pageSize)*int64(1+p.Overflow) - 16
	writeAt(tb, path, p.Offset+16, garbage(n, 15))
	return DamageInfo{File: dbRel, Offset: p.Offset + 16, Page: uint64(p.ID), Detail: fmt.Sprintf(
		"%s; then the %d bytes after its page header (id %d, flags freelist, count %d, overflow %d kept; it listed %d free ids) overwritten with random bytes",
		persisted, n, p.ID, p.Count, p.Overflow, len(ids))}
}

// dbFreelistInuse persists a freelist, then rewrites its page to list one
// page id only, a leaf of the key bucket that the tree still uses, keeping
// the page otherwise valid: bbolt hands out that page first, whatever
// order its freelist keeps (etcd's map freelist hands out equal spans in
// random order). The pages it listed before are leaked until the next
// open rebuilds the freelist.
func dbFreelistInuse(tb testing.TB, dataDir string) DamageInfo {
	tb.Helper()
	path := filepath.Join(dataDir, dbRel)
	p, ids, _, persisted := freelistPage(tb, path)
	leaf, _, _ := midKeyLeaf(tb, path)
	page := slices.Clone(p.Data)
	clear(page[16:])
	binary.LittleEndian.PutUint16(page[10:], 1)
	binary.LittleEndian.PutUint64(page[16:], uint64(leaf.ID))
	writeAt(tb, path, p.Offset, page)
	first, last := leafKeyRange(leaf)
	return DamageInfo{File: dbRel, Offset: p.Offset, Page: uint64(p.ID), Detail: fmt.Sprintf(
		"%s; then freelist page %d rewritten to list only page %d, a live leaf of bucket key (%d elements, revisions %s to %s), instead of the %d free ids it listed (%v)",
		persisted, p.ID, leaf.ID, leaf.Count, first, last, len(ids), ids)}
}

// dbDeleted removes member/snap/db.
func dbDeleted(tb testing.TB, dataDir string) DamageInfo {
	tb.Helper()
	path := filepath.Join(dataDir, dbRel)
	size := fileSize(tb, path)
	if err := os.Remove(path); err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
	return DamageInfo{File: dbRel, Detail: fmt.Sprintf("removed (%d bytes)", size)}
}

// garbage returns n random bytes, none of them zero, the same for a seed.
func garbage(n int64, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 0x65746364))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(1 + rng.IntN(255))
	}
	return b
}

func fileSize(tb testing.TB, path string) int64 {
	tb.Helper()
	st, err := os.Stat(path)
	if err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
	return st.Size()
}

func readAt(tb testing.TB, path string, off, n int64) []byte {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil && !errors.Is(err, io.EOF) {
		tb.Fatalf("etcdtest: %v", err)
	}
	return b
}

func writeAt(tb testing.TB, path string, off int64, b []byte) {
	tb.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
	if _, err := f.WriteAt(b, off); err != nil {
		f.Close()
		tb.Fatalf("etcdtest: %v", err)
	}
	if err := f.Close(); err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
}

// flipLowBit flips the lowest bit of the byte at off and returns the
// byte's old value.
func flipLowBit(tb testing.TB, path string, off int64) byte {
	tb.Helper()
	b := readAt(tb, path, off, 1)[0]
	writeAt(tb, path, off, []byte{b ^ 1})
	return b
}
