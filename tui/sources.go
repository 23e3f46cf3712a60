package tui

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/finding"
	"github.com/etcdscope/etcdscope/inspect"
	"github.com/etcdscope/etcdscope/internal/hexfmt"
	"github.com/etcdscope/etcdscope/internal/pbwire"
	"github.com/etcdscope/etcdscope/internal/textfmt"
	"github.com/etcdscope/etcdscope/mvccview"
	"github.com/etcdscope/etcdscope/snapfmt"
	"github.com/etcdscope/etcdscope/tui/panes"
	"github.com/etcdscope/etcdscope/walfmt"
)

// Sources are what the browser reads. Each is nil when the path holds
// none of it.
type Sources struct {
	WAL  panes.WALSource
	Bolt panes.BoltSource
	Snap []panes.Item // from SnapItems
	// LoadSnap, when set instead, reads the snap files after the first
	// screen (a db's digest reads it whole).
	LoadSnap func() ([]panes.Item, error)
	MVCC     panes.MVCCSource
	// LoadMVCC, when set instead, opens the MVCC view after the first
	// screen (it rebuilds the key index from the whole key bucket).
	LoadMVCC func() (panes.MVCCSource, error)
	// Findings, from FindingItems: enter on one shows it in its tab.
	Findings []panes.Item
	// LoadFindings, when set instead, reads the findings after the first
	// screen (inspect's whole report takes a pass over the member).
	LoadFindings func() ([]panes.Item, error)
}

// walFiles is the WAL source over walfmt: one segment is read when it is
// shown, its rows kept (about 100 bytes per record, and etcd cuts a
// segment at 64 MB), the bytes of a record read again when it is selected.
type walFiles struct {
	files *walfmt.Files
}

// OpenWAL opens a WAL (a data dir's, a wal dir or one segment) read-only.
func OpenWAL(path string) (panes.WALSource, io.Closer, error) {
	files, err := walfmt.OpenPath(path)
	if err != nil {
		return nil, nil, err
	}
	return &walFiles{files: files}, files, nil
}

func (w *walFiles) Segments() []panes.Segment {
	out := make([]panes.Segment, len(w.files.Segments))
	for i, s := range w.files.Segments {
		out[i] = panes.Segment{Name: s.Name, Size: s.Size, Index: s.Index}
	}
	return out
}

func (w *walFiles) Rows(seg int) ([]panes.Row, error) {
	if seg < 0 || seg >= len(w.files.Segments) {
		return nil, fmt.Errorf("no segment %d", seg)
	}
	r := walfmt.NewReader(w.files.Segments[seg:seg+1], walfmt.Options{})
	var rows []panes.Row
	for {
		f, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		if f.Kind == walfmt.KindSegment && len(f.Problems) == 0 {
			continue
		}
		rows = append(rows, row(f))
	}
}

func row(f *walfmt.Frame) panes.Row {
	r := panes.Row{Offset: f.Offset, Size: f.Size, CRCOK: f.CRCOK, Suspect: f.Suspect}
	switch f.Kind {
	case walfmt.KindRecord:
		r.Kind = f.Record.Type.String()
	default:
		r.Kind = f.Kind.String()
	}
	// The summary is wal dump's description of a state or snapshot record
	// and of an entry's request (the index and term of an entry have
	// columns of their own); a metadata record's ids are named in words.
	switch e := f.Entry; {
	case e != nil:
		r.Index, r.Term = e.Index, e.Term
		r.Summary = e.Type.String()
		if e.Type == walfmt.EntryNormal && len(e.Data) > 0 {
			if p := walfmt.DecodePayload(e); p.Err == nil {
				r.Summary = p.Describe(walfmt.DescribeOptions{})
			}
		}
	case f.Metadata != nil:
		r.Summary = fmt.Sprintf("member %x cluster %x", f.Metadata.NodeID, f.Metadata.ClusterID)
	case f.State != nil, f.Snapshot != nil:
		r.Summary = walfmt.DescribeFrame(f, nil, walfmt.FrameOptions{})
	}
	for _, p := range f.Problems {
		r.Problems = append(r.Problems, walfmt.Code(p)+": "+p.Error())
	}
	if f.Kind == walfmt.KindRecord && f.Record.Type != walfmt.CRCType {
		r.Checked = true
	}
	return r
}

// Detail reads the selected record's bytes again and decodes them.
func (w *walFiles) Detail(seg int, r panes.Row) (panes.Detail, error) {
	s := w.files.Segments[seg]
	n := min(r.Size, 64<<10) // the hex pane shows at most 64 KiB
	b := make([]byte, n)
	if _, err := s.R.ReadAt(b, r.Offset); err != nil && !errors.Is(err, io.EOF) {
		return panes.Detail{}, err
	}
	d := panes.Detail{Lines: []string{fmt.Sprintf("%s at %s:%#x, %d bytes", r.Kind, s.Name, r.Offset, r.Size)}}
	if r.Index > 0 {
		d.Lines = append(d.Lines, fmt.Sprintf("index %d term %d", r.Index, r.Term))
	}
	if r.Summary != "" {
		d.Lines = append(d.Lines, r.Summary)
	}
	d.Lines = append(d.Lines, r.Problems...)
	hb := hexfmt.New(b, hexfmt.Options{Base: r.Offset, Squeeze: true, Highlight: panes.Problem})
	if len(b) >= 8 {
		hb.Add(0, 8, "length word")
	}
	if at := int(r.Suspect - r.Offset); r.Suspect != 0 && at < len(b) {
		d.Lines = append(d.Lines, fmt.Sprintf("one flipped bit in the byte at %#x explains the CRC mismatch (marked below)", r.Suspect))
		hb.Add(at, 1, "one flipped bit in this byte explains the CRC mismatch")
		hb.Mark(at, 1)
	}
	d.Hex = hb.String()
	return d, nil
}

// boltFile is the bolt source over boltfmt: one checking walk when it
// opens (the verdict on every page below the high-water mark, a byte
// each), then page headers read for the pages on screen only.
type boltFile struct {
	path     string
	db       *boltfmt.DB
	rep      *boltfmt.Report
	problems []uint64
	byPage   map[uint64][]string
}

// OpenBolt opens a bbolt file read-only, without a lock, and walks it.
func OpenBolt(path string) (panes.BoltSource, io.Closer, error) {
	db, err := boltfmt.Open(path, boltfmt.Options{})
	if err != nil {
		return nil, nil, err
	}
	rep, err := db.Walk(boltfmt.WalkOptions{})
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	b := &boltFile{path: path, db: db, rep: rep, byPage: map[uint64][]string{}}
	for _, p := range rep.Problems {
		var pe *boltfmt.PageError
		if errors.As(p, &pe) {
			id := uint64(pe.Page)
			if len(b.byPage[id]) == 0 {
				b.problems = append(b.problems, id)
			}
			b.byPage[id] = append(b.byPage[id], boltfmt.Code(p)+": "+p.Error())
		}
	}
	slices.Sort(b.problems)
	return b, db, nil
}

func (b *boltFile) PageCount() uint64  { return uint64(b.rep.Pages()) }
func (b *boltFile) Problems() []uint64 { return b.problems }

func (b *boltFile) Pages(from, n uint64) ([]panes.BoltPage, error) {
	var out []panes.BoltPage
	for id := from; id < from+n && id < b.PageCount(); id++ {
		st := b.rep.Status(boltfmt.PageID(id))
		p := panes.BoltPage{ID: id, Status: st.String()}
		switch st {
		case boltfmt.StatusMeta:
			p.Glyph = 'M'
		case boltfmt.StatusFreelist:
			p.Glyph = 'F'
		case boltfmt.StatusFree:
			p.Glyph = '.'
		case boltfmt.StatusTree:
			p.Glyph = 'o'
			if h, err := b.db.ReadHeader(boltfmt.PageID(id)); err == nil && h.HeaderID == id {
				p.Glyph = 'L'
				if h.Type == boltfmt.BranchPage {
					p.Glyph = 'B'
				}
			}
		default:
			p.Glyph = '?'
		}
		if len(b.byPage[id]) > 0 {
			p.Glyph = '!'
		}
		out = append(out, p)
	}
	return out, nil
}

// maxElementLines is how many of a page's elements its detail lists;
// bolt page lists them all.
const maxElementLines = 4

// PageDetail lays the page out as bolt page --hex does: its header, the
// walk's problems on it, its first elements, and the hex of its first
// 512 bytes with every field named.
func (b *boltFile) PageDetail(id uint64) (panes.Detail, error) {
	var d panes.Detail
	pid := boltfmt.PageID(id)
	line := fmt.Sprintf("page %d at offset %#x: %s", id, id*uint64(b.db.PageSize), b.rep.Status(pid))
	if o, ok := b.rep.Owner(pid); ok {
		line += ", bucket " + o.Name()
	}
	d.Lines = append(d.Lines, line)
	l, err := b.db.DescribePage(b.rep, pid, boltfmt.DescribeOptions{Annotate: true, Key: keyForm})
	if err != nil {
		d.Lines = append(d.Lines, "unreadable: "+err.Error())
		return d, nil
	}
	if l.Kind == boltfmt.KindOverflow {
		d.Lines = append(d.Lines, fmt.Sprintf("overflow page %d of page %d: no header of its own", id-uint64(l.Start.Start), l.Start.Start))
	} else {
		d.Lines = append(d.Lines, fmt.Sprintf("header: id %d, type %s, %d elements, %d overflow pages", l.HeaderID, l.Type, l.Count, l.Overflow))
	}
	d.Lines = append(d.Lines, b.byPage[id]...)
	for _, p := range l.Problems {
		d.Lines = append(d.Lines, "! "+p.Error())
	}
	d.Lines = append(d.Lines, elementLines(l)...)
	d.Hex = l.Hex(512).String() // the first 512 bytes
	return d, nil
}

// elementLines describes the first elements of a branch or leaf page.
func elementLines(l *boltfmt.PageLayout) []string {
	var lines []string
	for i := range l.Elements[:min(len(l.Elements), maxElementLines)] {
		e := &l.Elements[i]
		path := strings.Split(e.KeyBucket, "/")
		switch {
		case e.Problem != nil:
			lines = append(lines, fmt.Sprintf("  %d: %v", i, e.Problem))
		case e.Branch:
			lines = append(lines, fmt.Sprintf("  %d: key %s → page %d", i, keyText(path, e.Key), e.Child))
		case e.Bucket != nil:
			lines = append(lines, fmt.Sprintf("  %d: bucket %s", i, showText(e.Key)))
		default:
			lines = append(lines, fmt.Sprintf("  %d: key %s, value %d bytes", i, keyText(path, e.Key), len(e.Value)))
		}
	}
	if n := len(l.Elements); n > maxElementLines {
		lines = append(lines, fmt.Sprintf("  … and %d more (etcdscope bolt page %d lists them all)", n-maxElementLines, l.ID))
	}
	return lines
}

// SnapItems reads a member's snap dir (the .snap files, the .snap.db
// files, the db's container, leftovers) into list items. The files are
// small but for the dbs, which are read in 1 MiB pieces for their SHA-256.
func SnapItems(snapDir string) ([]panes.Item, error) {
	d, err := snapfmt.Open(snapDir, snapfmt.Options{})
	if err != nil {
		return nil, err
	}
	var items []panes.Item
	for _, f := range d.Snaps {
		it := panes.Item{Title: f.Name, Problem: len(f.Problems) > 0}
		crc := "CRC ok"
		if !f.CRCOK() {
			crc = fmt.Sprintf("CRC stored %#08x, computed %#08x", f.Envelope.CRC, f.ComputedCRC)
		}
		it.Detail = append(it.Detail, fmt.Sprintf(".snap, %d bytes, %s, loadable by etcd: %v", f.Size, crc, f.Loadable()))
		if s := f.Snapshot; s != nil {
			md := s.Metadata
			it.Detail = append(it.Detail, fmt.Sprintf("term %d, index %d", md.Term, md.Index),
				fmt.Sprintf("voters %x, learners %x", md.ConfState.Voters, md.ConfState.Learners))
		}
		if st := f.Store; st != nil {
			it.Detail = append(it.Detail, fmt.Sprintf("v2 store: cluster version %q, %d nodes, %d keys", st.ClusterVersion, st.Nodes, st.Keys))
			for _, m := range st.Members {
				it.Detail = append(it.Detail, fmt.Sprintf("  member %x %s %v", m.ID, m.Name, m.PeerURLs))
			}
		}
		for _, p := range f.Problems {
			it.Detail = append(it.Detail, snapfmt.Code(p)+": "+p.Error())
		}
		items = append(items, it)
	}
	dbs := d.DBs
	if d.DB != nil {
		dbs = append(dbs, d.DB)
	}
	for _, f := range dbs {
		it := panes.Item{Title: f.Name, Problem: len(f.Problems) > 0}
		it.Detail = append(it.Detail, fmt.Sprintf("%d bytes; bbolt: %v (page size %d, version %d, meta checksum ok: %v)", f.Size, f.Bolt, f.PageSize, f.Version, f.MetaChecksumOK))
		if f.NameOK {
			it.Detail = append(it.Detail, fmt.Sprintf("a leader's snapshot at raft index %d", f.Index))
		}
		it.Detail = append(it.Detail, fmt.Sprintf("trailer: %v", f.Trailer))
		for _, p := range f.Problems {
			it.Detail = append(it.Detail, snapfmt.Code(p)+": "+p.Error())
		}
		items = append(items, it)
	}
	for _, l := range d.Leftovers {
		items = append(items, panes.Item{Title: l.Name, Problem: true, Detail: []string{fmt.Sprintf("leftover (%v), %d bytes", l.Kind, l.Size), snapfmt.Code(l.Problem) + ": " + l.Problem.Error()}})
	}
	return items, nil
}

// mvccStore is the MVCC source over mvccview, on a db read page by page
// (no lock, damage tolerated): the key index is rebuilt once, as etcd
// rebuilds it when it starts; values are read for the keys on screen.
type mvccStore struct {
	st   *mvccview.Store
	prov Provenance
}

// Provenance names the raft entry that produced a main revision, when it
// is known (a data dir replay wrote records it for every revision).
type Provenance func(rev int64) (entry string, ok bool)

// OpenMVCC opens an etcd db read-only and rebuilds its key index; prov,
// when not nil, places each revision of a key's history in the raft log.
func OpenMVCC(path string, prov Provenance) (panes.MVCCSource, io.Closer, error) {
	db, err := boltfmt.Open(path, boltfmt.Options{})
	if err != nil {
		return nil, nil, err
	}
	st, err := mvccview.Open(keyGetter{&mvccview.BoltSource{DB: db}})
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return &mvccStore{st: st, prov: prov}, db, nil
}

// keyGetter reads the records of a screen of keys one descent each, so a
// page of keys costs a few page reads, not a pass over the key bucket.
// A record it cannot reach reads as absent.
type keyGetter struct{ *mvccview.BoltSource }

func (g keyGetter) Get(bucket string, keys [][]byte, fn func(i int, v []byte) error) error {
	for i, k := range keys {
		var v []byte
		if f, err := g.DB.Get([]string{bucket}, k); err == nil {
			v = f.Element.Value
		}
		if err := fn(i, v); err != nil {
			return err
		}
	}
	return nil
}

func (s *mvccStore) Revisions() (int64, int64) { return s.st.CompactRev, s.st.CurrentRev }

// Search reads the keys live at rev from start on, a batch at a time,
// until a name or a value holds needle.
func (s *mvccStore) Search(start string, rev int64, needle string) (string, bool, error) {
	from := []byte(start)
	for {
		res, err := s.st.Range(from, []byte{}, mvccview.RangeOptions{Rev: rev, Limit: 64})
		if err != nil || len(res.KVs) == 0 {
			return "", false, err
		}
		for _, kv := range res.KVs {
			if bytes.Contains(kv.Key, []byte(needle)) || bytes.Contains(kv.Value, []byte(needle)) {
				return string(kv.Key), true, nil
			}
		}
		from = append(bytes.Clone(res.KVs[len(res.KVs)-1].Key), 0)
	}
}

func (s *mvccStore) Keys(start string, n int, rev int64) ([]panes.KV, int64, error) {
	all, err := s.st.Range([]byte{}, []byte{}, mvccview.RangeOptions{Rev: rev, CountOnly: true})
	if err != nil {
		return nil, 0, err
	}
	res, err := s.st.Range([]byte(start), []byte{}, mvccview.RangeOptions{Rev: rev, Limit: int64(n)})
	if err != nil {
		return nil, 0, err
	}
	out := make([]panes.KV, len(res.KVs))
	for i, kv := range res.KVs {
		out[i] = panes.KV{Key: string(kv.Key), CreateRevision: kv.CreateRevision, ModRevision: kv.ModRevision, Version: kv.Version, Lease: kv.Lease, ValueSize: len(kv.Value)}
	}
	return out, all.Count, nil
}

func (s *mvccStore) History(key string, rev int64) ([]string, error) {
	hist, err := s.st.History([]byte(key))
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, h := range hist.Records {
		what := fmt.Sprintf("put, version %d, %d bytes", h.KV.Version, len(h.KV.Value))
		if h.KV.Lease != 0 {
			what += fmt.Sprintf(", lease %x", h.KV.Lease)
		}
		if h.Tombstone {
			what = "delete"
		}
		mark := ""
		if h.Rev.Main > rev {
			mark = "  (after)"
		}
		lines = append(lines, fmt.Sprintf("revision %s: %s%s", h.Rev, what, mark))
		if s.prov != nil {
			if e, ok := s.prov(h.Rev.Main); ok {
				lines = append(lines, "  from "+e)
			}
		}
	}
	res, err := s.st.Range([]byte(key), nil, mvccview.RangeOptions{Rev: rev})
	if err == nil && len(res.KVs) == 1 {
		v := res.KVs[0].Value
		lines = append(lines, "", fmt.Sprintf("value at revision %d (%d bytes):", rev, len(v)))
		lines = append(lines, preview(v)...)
	}
	return lines, nil
}

// preview shows a value as text when it is printable, else as hex, at
// most 256 bytes.
func preview(v []byte) []string {
	cut := v[:min(len(v), 256)]
	if lines, ok := textLines(cut); ok {
		return lines
	}
	return cutLines(hexfmt.New(cut, hexfmt.Options{}).String())
}

// FindingItems lists what inspect reports for the files the sources read
// on their own, without its cross-checks (Open gives a member inspect's
// whole report): the WAL's problems (reading them takes one pass over
// it), those of the db's walk and those of the snap files in snaps (nil
// for none), mapped to findings by inspect.WAL, inspect.Bolt and
// inspect.Snap and listed by [ReportItems]. Files are named by their base
// name, as inspect names them given the file or its directory.
func FindingItems(wal panes.WALSource, db panes.BoltSource, snaps *snapfmt.Dir) ([]panes.Item, error) {
	rep := &finding.Report{Findings: []finding.Finding{}}
	if w, ok := wal.(*walFiles); ok {
		sum, err := walfmt.Summarize(walfmt.NewReader(w.files.Segments, walfmt.Options{}), nil)
		if err != nil {
			return nil, err
		}
		rep.Merge(inspect.WAL(w.files.Segments, sum.Problems, filepath.Base))
	}
	if b, ok := db.(*boltFile); ok {
		rep.Merge(inspect.Bolt(b.path, b.rep.Problems, filepath.Base))
	}
	if snaps != nil {
		rep.Merge(inspect.Snap(snaps, filepath.Base))
	}
	return ReportItems(rep, wal), nil
}

// ReportItems lists a findings report (inspect's: the decoders' problems
// and its cross-checks) as list items. A finding placed at an offset of a
// WAL segment wal holds jumps to that record; one placed on a page, to
// that page.
func ReportItems(rep *finding.Report, wal panes.WALSource) []panes.Item {
	segs := map[string]int{}
	if wal != nil {
		for i, s := range wal.Segments() {
			segs[s.Name] = i
		}
	}
	items := []panes.Item{}
	for _, f := range rep.Findings {
		var loc string
		if f.Offset != nil {
			loc += fmt.Sprintf(":%#x", *f.Offset)
		}
		if f.Page != nil {
			loc += fmt.Sprintf(" page %d", *f.Page)
		}
		if f.Index != nil {
			loc += fmt.Sprintf(" index %d", *f.Index)
		}
		if f.Revision != nil {
			loc += fmt.Sprintf(" revision %d", *f.Revision)
		}
		short := f.File
		if strings.HasSuffix(short, ".wal") {
			short = filepath.Base(short) // the list is narrow; a segment's name is enough
		}
		it := panes.Item{Problem: f.Severity == finding.Error, Title: strings.TrimSpace(f.Code + " " + short + loc)}
		it.Detail = []string{string(f.Severity) + ": " + f.Message}
		if at := strings.TrimSpace(f.File + loc); at != "" {
			it.Detail = append(it.Detail, "at "+at)
		}
		if f.EtcdAction != "" {
			it.Detail = append(it.Detail, "etcd: "+f.EtcdAction)
		}
		seg, isSeg := segs[filepath.Base(f.File)]
		switch {
		case f.Offset != nil && isSeg && strings.HasSuffix(f.File, ".wal"):
			it.Jump = panes.JumpWAL{Seg: seg, Offset: *f.Offset}
			it.Detail = append(it.Detail, "", "enter: show the record in the WAL tab")
		case f.Page != nil:
			it.Jump = panes.JumpPage{ID: *f.Page}
			it.Detail = append(it.Detail, "", "enter: show the page in the bolt tab")
		}
		items = append(items, it)
	}
	return items
}

// The bucket browser's source: windows of a bucket read through
// boltfmt.Range, one page per level to the first key, then the leaves in
// order. The problems a read passes over are the walk's, shown in the
// page map and the findings.

// Entries implements panes.BucketSource.
func (b *boltFile) Entries(path []string, from []byte, reverse bool, n int) ([]panes.Entry, error) {
	var out []panes.Entry
	_, err := b.db.Range(boltfmt.RangeOptions{Bucket: path, From: from, Reverse: reverse}, func(page boltfmt.PageID, e *boltfmt.LeafElement) bool {
		if e.Problem != nil {
			return true
		}
		en := panes.Entry{Key: bytes.Clone(e.Key), Text: keyText(path, e.Key), Bucket: e.IsBucket(), Size: len(e.Value), Page: uint64(page)}
		if isKeyBucket(path) {
			if kv, err := mvccview.DecodeKeyValue(e.Value); err == nil {
				en.Note = showText(kv.Key[:min(len(kv.Key), 64)])
			}
		}
		out = append(out, en)
		return len(out) < n
	})
	return out, err
}

// Search implements panes.BucketSource: it reads the bucket from from on
// until a key or a value holds needle.
func (b *boltFile) Search(path []string, from, needle []byte) ([]byte, bool, error) {
	var found []byte
	_, err := b.db.Range(boltfmt.RangeOptions{Bucket: path, From: from}, func(_ boltfmt.PageID, e *boltfmt.LeafElement) bool {
		if e.Problem == nil && (bytes.Contains(e.Key, needle) || !e.IsBucket() && bytes.Contains(e.Value, needle)) {
			found = bytes.Clone(e.Key)
			return false
		}
		return true
	})
	return found, found != nil, err
}

// isKeyBucket says whether path is etcd's MVCC bucket, whose keys are
// revisions and values mvccpb.KeyValue.
func isKeyBucket(path []string) bool { return len(path) == 1 && path[0] == mvccview.KeyBucket }

// maxValueLines bounds a value's text views; the hex view shows at most
// maxValueHex bytes (2048 lines).
const (
	maxValueLines = 4096
	maxValueHex   = 32 << 10
)

// Value implements panes.BucketSource: a value in every way that fits it,
// etcd's KeyValue decoded in its key bucket, JSON, text, and hex.
func (b *boltFile) Value(path []string, key []byte) (panes.Value, error) {
	f, err := b.db.Get(path, key)
	if err != nil {
		return panes.Value{}, err
	}
	v := f.Element.Value
	out := panes.Value{Size: len(v)}
	if isKeyBucket(path) {
		if kv, err := mvccview.DecodeKeyValue(v); err == nil {
			lines := []string{
				fmt.Sprintf("key              %s", showText(kv.Key)),
				fmt.Sprintf("create_revision  %d", kv.CreateRevision),
				fmt.Sprintf("mod_revision     %d", kv.ModRevision),
				fmt.Sprintf("version          %d", kv.Version),
				fmt.Sprintf("lease            %x", kv.Lease),
				fmt.Sprintf("value            %d bytes:", len(kv.Value)),
			}
			out.Views = append(out.Views, panes.ValueView{Name: "KeyValue", Lines: append(lines, preview(kv.Value)...)})
		}
	}
	if !isKeyBucket(path) {
		if lines, ok := protoFields(v); ok {
			// etcd's lease, auth and alarm records are protobufs.
			out.Views = append(out.Views, panes.ValueView{Name: "protobuf fields", Lines: lines})
		}
	}
	if len(v) > 0 && json.Valid(v) {
		var ind bytes.Buffer
		if json.Indent(&ind, v, "", "  ") == nil {
			out.Views = append(out.Views, panes.ValueView{Name: "JSON", Lines: cutLines(ind.String())})
		}
	}
	if lines, ok := textLines(v); ok {
		out.Views = append(out.Views, panes.ValueView{Name: "text", Lines: lines})
	}
	hb := hexfmt.New(v[:min(len(v), maxValueHex)], hexfmt.Options{Squeeze: true})
	hv := panes.ValueView{Name: "hex", Lines: cutLines(hb.String())}
	if len(v) > maxValueHex {
		hv.Lines = append(hv.Lines, fmt.Sprintf("… and %d bytes more", len(v)-maxValueHex))
	}
	out.Views = append(out.Views, hv)
	return out, nil
}

// protoFields reads v as one protobuf message, field by field (numbers and
// wire types; a bytes field as text when printable, else hex); ok only
// when every byte parses.
func protoFields(v []byte) (lines []string, ok bool) {
	if len(v) == 0 {
		return nil, false
	}
	it := pbwire.Fields(v, "", pbwire.Proto)
	for it.Next() {
		f := it.Field()
		if f.Type == protowire.StartGroupType || len(lines) >= maxValueLines {
			return nil, false // groups are not in etcd's messages
		}
		switch f.Type {
		case protowire.VarintType:
			lines = append(lines, fmt.Sprintf("%d: varint %d", f.Num, f.V))
		case protowire.BytesType:
			lines = append(lines, fmt.Sprintf("%d: %d bytes %s", f.Num, len(f.B), showText(f.B[:min(len(f.B), 256)])))
		default: // fixed32, fixed64
			lines = append(lines, fmt.Sprintf("%d: fixed %#x", f.Num, f.B))
		}
	}
	return lines, it.Err() == nil
}

// keyText shows a key of the bucket at path: a revision main_sub (t for a
// tombstone) in etcd's key bucket, a lease id (16 hex digits, as etcdctl
// lease list prints it) in its lease bucket, else as showText does.
func keyText(path []string, k []byte) string {
	return boltfmt.KeyFormatter(keyForm).Bare(strings.Join(path, "/"), k)
}

// keyForm is keyText's formatter: the forms of their own of the keys of
// the key and lease buckets.
func keyForm(bucket string, k []byte) (string, bool) {
	if bucket == mvccview.LeaseBucket && len(k) == 8 {
		return fmt.Sprintf("%016x", binary.BigEndian.Uint64(k)), true
	}
	return mvccview.KeyText(bucket, k)
}

// showText is b as text: as it is when printable, else quoted and escaped
// (textfmt's policy, the CLI's).
func showText(b []byte) string { return textfmt.Bare(b) }

// textLines are the lines of b when it is UTF-8 text, each with its
// control characters escaped; ok false when b is not UTF-8.
func textLines(b []byte) (lines []string, ok bool) {
	if !utf8.Valid(b) {
		return nil, false
	}
	lines = cutLines(string(b))
	for i, l := range lines {
		lines[i] = textfmt.Escape(l)
	}
	return lines, true
}

func cutLines(s string) []string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[:min(len(lines), maxValueLines)]
}
