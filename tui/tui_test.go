package tui_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	xgolden "github.com/charmbracelet/x/exp/golden"
	"go.etcd.io/bbolt"

	"github.com/etcdscope/etcdscope/finding"
	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/fixture"
	"github.com/etcdscope/etcdscope/mvccview"
	"github.com/etcdscope/etcdscope/replay"
	"github.com/etcdscope/etcdscope/tui"
	"github.com/etcdscope/etcdscope/tui/panes"
	"github.com/etcdscope/etcdscope/walfmt"
)

// fakeWAL is a WAL of two segments; the second has a damaged record.
type fakeWAL struct{ reads []int }

func (f *fakeWAL) Segments() []panes.Segment {
	return []panes.Segment{{Name: "0000000000000000-0000000000000000.wal", Size: 64 << 20}, {Name: "0000000000000001-0000000000000015.wal", Size: 64 << 20}}
}

func (f *fakeWAL) Rows(seg int) ([]panes.Row, error) {
	f.reads = append(f.reads, seg)
	var rows []panes.Row
	off := int64(0)
	add := func(r panes.Row) {
		r.Offset, off = off, off+r.Size
		rows = append(rows, r)
	}
	add(panes.Row{Kind: "crc", Size: 16, CRCOK: true})
	add(panes.Row{Kind: "metadata", Size: 24, CRCOK: true, Checked: true, Summary: "member 3f81 cluster 9"})
	first := uint64(1 + 20*seg)
	for i := uint64(0); i < 20; i++ {
		r := panes.Row{Kind: "entry", Size: 48, CRCOK: true, Checked: true, Index: first + i, Term: 2, Summary: fmt.Sprintf("put key=\"/k/%d\" value=5 bytes", first+i)}
		if seg == 1 && i == 12 {
			r.CRCOK = false
			r.Problems = []string{"wal-crc-mismatch: CRC 0x1234 stored, 0x5678 computed"}
		}
		add(r)
	}
	add(panes.Row{Kind: "zero", Size: 64<<20 - off})
	return rows, nil
}

func (f *fakeWAL) Detail(seg int, r panes.Row) (panes.Detail, error) {
	d := panes.Detail{Lines: []string{fmt.Sprintf("%s at segment %d offset %#x, %d bytes", r.Kind, seg, r.Offset, r.Size)}}
	d.Lines = append(d.Lines, r.Problems...)
	d.Hex = fmt.Sprintf("%08x  00 11 22 33 44 55 66 77  |record bytes|", r.Offset)
	return d, nil
}

func press(k string) tea.KeyPressMsg {
	switch k {
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	}
	return tea.KeyPressMsg{Code: rune(k[0]), Text: k}
}

// drive sends msg and then every message its commands produce, batches
// included, until none is left.
func drive(t testing.TB, m tea.Model, msg tea.Msg) tea.Model {
	t.Helper()
	m, cmd := m.Update(msg)
	return settle(t, m, cmd)
}

// settle runs cmd and the commands its messages lead to.
func settle(t testing.TB, m tea.Model, cmd tea.Cmd) tea.Model {
	t.Helper()
	queue := []tea.Cmd{cmd}
	for n := 0; len(queue) > 0; n++ {
		if n > 1000 {
			t.Fatal("commands do not settle")
		}
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch next := c().(type) {
		case nil:
		case tea.BatchMsg:
			queue = append(queue, next...)
		default:
			m, cmd = m.Update(next)
			queue = append(queue, cmd)
		}
	}
	return m
}

func start(t testing.TB, src tui.Sources, w, h int) tea.Model {
	t.Helper()
	root, err := tui.New(src)
	if err != nil {
		t.Fatal(err)
	}
	var m tea.Model = root
	m = drive(t, m, tea.WindowSizeMsg{Width: w, Height: h})
	return settle(t, m, m.Init())
}

// golden compares a screen with testdata/<Test>/<name>.golden (x/exp/golden,
// through a subtest named name); -update rewrites the file.
func golden(t *testing.T, name, got string) {
	t.Helper()
	t.Run(name, func(t *testing.T) { xgolden.RequireEqual(t, got) })
}

// screen is the text on the screen, colours off.
func screen(m tea.Model) string { return ansi.Strip(m.(tui.Model).Render()) }

// TestWALPane drives the root model with keys over a fake WAL and checks
// the screen at 100x30 against golden files.
func TestWALPane(t *testing.T) {
	src := &fakeWAL{}
	m := start(t, tui.Sources{WAL: src}, 100, 30)
	golden(t, "first", screen(m))
	for _, k := range []string{"j", "j", "j"} {
		m = drive(t, m, press(k))
	}
	golden(t, "down3", screen(m))
	m = drive(t, m, press("n")) // no problem in segment 0: on to segment 1's
	golden(t, "next-problem", screen(m))
	if !strings.Contains(screen(m), "> 0x00000268 !! entry") {
		t.Errorf("n did not land on the damaged record")
	}
	m = drive(t, m, press("G"))
	m = drive(t, m, press("N"))
	if !strings.Contains(screen(m), "> 0x00000268 !! entry") {
		t.Errorf("N did not go back to the damaged record")
	}
	m = drive(t, m, press("tab"))
	m = drive(t, m, press("k"))
	golden(t, "segment0", screen(m))
	m = drive(t, m, press("?"))
	golden(t, "help", screen(m))
	if fmt.Sprint(src.reads) != "[0 1 0]" {
		t.Errorf("segments read %v: each only when shown", src.reads)
	}
	if _, cmd := m.Update(press("q")); cmd == nil {
		t.Error("q does not quit")
	}
}

// TestWALJumps: i asks for a raft index and selects its entry, in the
// segment whose name says it holds it; o asks for an offset in the
// segment shown; keys typed into the prompt are text (q does not quit);
// the mouse wheel moves the selection.
func TestWALJumps(t *testing.T) {
	src := &fakeWAL{}
	m := start(t, tui.Sources{WAL: src}, 100, 30)
	m = typeKeys(t, m, "i33")
	golden(t, "index-prompt", screen(m))
	m = drive(t, m, press("enter"))
	if s := screen(m); !strings.Contains(s, "Records of 0000000000000001-0000000000000015.wal") || !strings.Contains(s, "> 0x00000268 !! entry    33/2") {
		t.Errorf("i 33 enter:\n%s", s)
	}
	m = typeEnter(t, m, "o40")
	if s := screen(m); !strings.Contains(s, "> 0x00000028 ok entry    21/2") {
		t.Errorf("o 0x40: want the entry covering 0x40:\n%s", s)
	}
	m = drive(t, m, tea.MouseWheelMsg{Button: tea.MouseWheelDown})
	if s := screen(m); !strings.Contains(s, "> 0x00000058 ok entry    22/2") {
		t.Errorf("wheel down:\n%s", s)
	}
	m = typeKeys(t, m, "iq]")
	if s := screen(m); !strings.Contains(s, "raft index: q]") {
		t.Errorf("q and ] typed into the prompt:\n%s", s)
	}
	m = drive(t, m, press("enter"))
	if s := screen(m); !strings.Contains(s, `error: not a raft index: "q]"`) {
		t.Errorf("a bad index:\n%s", s)
	}
	m = typeEnter(t, m, "i99")
	if s := screen(m); !strings.Contains(s, "no entry with raft index 99") {
		t.Errorf("an index past the log:\n%s", s)
	}
	// / searches the records' decoded requests and problems from the one
	// selected on, across segments; enter on the prompt again goes on.
	m = typeEnter(t, m, "i1")
	for i, want := range []string{"3/2 put key=\"/k/3\"", "30/2 put key=\"/k/30\"", "31/2 put key=\"/k/31\""} {
		if i == 0 {
			m = typeKeys(t, m, "//k/3")
		} else {
			m = typeKeys(t, m, "/") // the prompt holds the last search
		}
		m = drive(t, m, press("enter"))
		if s := screen(m); !strings.Contains(s, "> ") || !strings.Contains(s[strings.Index(s, "> 0x"):], want) {
			t.Fatalf("search /k/3: want %s selected:\n%s", want, s)
		}
	}
	m = typeKeys(t, m, "/")
	m = drive(t, m, tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}) // clear it
	m = typeEnter(t, m, "crc-mismatch")
	if s := screen(m); !strings.Contains(s, "> 0x00000268 !! entry") {
		t.Errorf("search for a problem's code:\n%s", s)
	}
	m = typeEnter(t, m, "/")
	if s := screen(m); !strings.Contains(s, "no record after the one selected holds") {
		t.Errorf("a search past the last match:\n%s", s)
	}
}

// typeKeys presses each character of s in turn.
func typeKeys(t *testing.T, m tea.Model, s string) tea.Model {
	t.Helper()
	for _, r := range s {
		m = drive(t, m, press(string(r)))
	}
	return m
}

// typeEnter types s, as typeKeys does, and then presses enter.
func typeEnter(t *testing.T, m tea.Model, s string) tea.Model {
	t.Helper()
	return drive(t, typeKeys(t, m, s), press("enter"))
}

// TestWALSample: on a copy of the sample member whose WAL has one record
// damaged, n lands on that record and shows its segment and offset.
func TestWALSample(t *testing.T) {
	dir := fixture.CopyDir(t, filepath.Join(etcdtest.SampleDir(t), "member", "wal"))
	segs := fixture.Segments(t, dir)
	fr := fixture.Frames(t, segs[2])
	bad := fr[len(fr)/2]
	fixture.FlipBit(t, segs[2], bad.Offset+8+bad.Length-1, 0)
	defer etcdtest.RequireUnchanged(t, dir)()
	src, closer, err := tui.OpenWAL(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	m := start(t, tui.Sources{WAL: src}, 120, 36)
	m = drive(t, m, press("n"))
	s := screen(m)
	golden(t, "after-n", s)
	want := fmt.Sprintf("> %#08x !! entry", bad.Offset)
	if !strings.Contains(s, want) || !strings.Contains(s, fmt.Sprintf("%s:%#x", filepath.Base(segs[2]), bad.Offset)) ||
		!strings.Contains(s, fmt.Sprintf("one flipped bit in the byte at %#x", bad.Offset+8+bad.Length-1)) {
		t.Errorf("after n, want the damaged record %q at %s:%#x selected and detailed:\n%s", want, filepath.Base(segs[2]), bad.Offset, s)
	}
}

// TestBoltPane: the bolt tab over a copy of the sample db with one leaf
// page of the key bucket zeroed: the page map marks it, n selects it and
// the detail names the problem.
func TestBoltPane(t *testing.T) {
	dir := fixture.CopyDir(t, filepath.Join(etcdtest.SampleDir(t), "member", "snap"))
	db := filepath.Join(dir, "db")
	src0, c0, err := tui.OpenBolt(db)
	if err != nil {
		t.Fatal(err)
	}
	pages, _ := src0.Pages(0, src0.PageCount())
	c0.Close()
	var leaf uint64
	for _, p := range pages {
		if p.Glyph == 'L' {
			leaf = p.ID // the last leaf
		}
	}
	fixture.Zero(t, db, int64(leaf)*4096, 4096)
	defer etcdtest.RequireUnchanged(t, dir)()
	src, closer, err := tui.OpenBolt(db)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	m := start(t, tui.Sources{Bolt: src}, 100, 30)
	golden(t, "first", screen(m))
	m = typeKeys(t, m, "ll") // page 2: a leaf of the key bucket
	s := screen(m)
	golden(t, "leaf", s)
	if !strings.Contains(s, "0: key 59_0, value 71 bytes") || !strings.Contains(s, "and 37 more") {
		t.Errorf("page 2 does not show its elements:\n%s", s)
	}
	m = typeKeys(t, m, "g")
	m = drive(t, m, press("n"))
	s = screen(m)
	golden(t, "next-problem", s)
	if !strings.Contains(s, fmt.Sprintf("Page %d", leaf)) || !strings.Contains(s, "[!]") || !strings.Contains(s, "bolt-page-invalid") {
		t.Errorf("n did not select the zeroed page %d:\n%s", leaf, s)
	}
	// The bucket browser passes over the zeroed leaf: the key bucket
	// still lists the records of its other leaves.
	m = typeEnter(t, m, "bjjjjj")
	if s := screen(m); !strings.Contains(s, "Bucket /key") || strings.Count(s, "_0 ") < 10 {
		t.Errorf("the key bucket of the damaged db:\n%s", s)
	}
	for range 400 {
		m = drive(t, m, press("j"))
	}
}

// TestSnapPane: the snap tab over a copy of the sample's snap dir with one
// .snap damaged: n selects it, and the detail says what is wrong.
func TestSnapPane(t *testing.T) {
	dir := fixture.CopyDir(t, filepath.Join(etcdtest.SampleDir(t), "member", "snap"))
	snaps, _ := filepath.Glob(filepath.Join(dir, "*.snap"))
	fixture.FlipBit(t, snaps[1], 100, 2)
	defer etcdtest.RequireUnchanged(t, dir)()
	items, err := tui.SnapItems(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := start(t, tui.Sources{Snap: items}, 100, 24)
	golden(t, "first", screen(m))
	m = drive(t, m, press("n"))
	s := screen(m)
	golden(t, "next-problem", s)
	if !strings.Contains(s, "> !! "+filepath.Base(snaps[1])) || !strings.Contains(s, "snap-crc-mismatch") {
		t.Errorf("n did not select the damaged %s:\n%s", filepath.Base(snaps[1]), s)
	}
}

// TestMVCCPane: the MVCC tab over the sample db: the keys live at the
// current revision, a key's history and value; moving the revision back
// to the one the recording says held fewer keys shows those.
func TestMVCCPane(t *testing.T) {
	db := filepath.Join(etcdtest.SampleDir(t), "member", "snap", "db")
	defer etcdtest.RequireUnchanged(t, db)()
	src, closer, err := tui.OpenMVCC(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	m := start(t, tui.Sources{MVCC: src}, 120, 30)
	golden(t, "current", screen(m))
	for _, k := range []string{"j", "j", "j"} {
		m = drive(t, m, press(k))
	}
	golden(t, "history", screen(m))
	for range 200 {
		m = drive(t, m, press("-"))
	}
	s := screen(m)
	golden(t, "older", s)
	if !strings.Contains(s, "Keys at revision 137 (kept 21..337)") {
		t.Errorf("200 steps back from 337: want revision 137:\n%s", s)
	}
	m = drive(t, m, press("c"))
	if !strings.Contains(screen(m), "Keys at revision 337") {
		t.Errorf("c did not return to the current revision")
	}
	// / finds a key by a part of its name; n finds no other.
	m = typeKeys(t, m, "/v1024")
	golden(t, "search-prompt", screen(m))
	m = drive(t, m, press("enter"))
	if s := screen(m); !strings.Contains(s, "> /data/v1024") || !strings.Contains(s, `"v1024" found`) {
		t.Errorf("/v1024:\n%s", s)
	}
	m = drive(t, m, press("n"))
	if s := screen(m); !strings.Contains(s, "> /data/v1024") || !strings.Contains(s, `"v1024": no more`) {
		t.Errorf("n after the only match:\n%s", s)
	}
}

// TestFindingsPane: on a copy of the sample with one WAL record damaged
// and one leaf page zeroed, the findings tab lists both as inspect reports
// them; enter on each
// shows the record in the WAL tab and the page in the bolt tab.
func TestFindingsPane(t *testing.T) {
	dir := fixture.CopyDir(t, etcdtest.SampleDir(t))
	_, bad, db := fixture.DamageRecordAndPage(t, dir) // page 49: a leaf of the key bucket (TestBoltPane)
	defer etcdtest.RequireUnchanged(t, dir)()

	wal, c1, err := tui.OpenWAL(filepath.Join(dir, "member", "wal"))
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	bolt, c2, err := tui.OpenBolt(db)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	items, err := tui.FindingItems(wal, bolt, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := start(t, tui.Sources{WAL: wal, Bolt: bolt, Findings: items}, 120, 30)
	m = drive(t, m, press("[")) // the last tab: findings
	golden(t, "findings", screen(m))
	m = drive(t, m, press("enter")) // the first finding: the WAL record
	if s := screen(m); !strings.HasPrefix(s, "[WAL]") || !strings.Contains(s, fmt.Sprintf("> %#08x !! entry", bad.Offset)) {
		t.Errorf("enter on the WAL finding:\n%s", s)
	}
	m = drive(t, m, press("["))
	m = drive(t, m, press("j"))
	m = drive(t, m, press("enter"))
	if s := screen(m); !strings.HasPrefix(s, " WAL  [Bolt]") || !strings.Contains(s, "Page 49") || !strings.Contains(s, "[!]") {
		t.Errorf("enter on the page finding:\n%s", s)
	}
}

// TestMVCCProvenance: over a data dir replay wrote from the sample's WAL,
// a key's history names the raft entry behind each revision, as the
// replay recorded it.
func TestMVCCProvenance(t *testing.T) {
	files, err := walfmt.OpenPath(filepath.Join(etcdtest.SampleDir(t), "member", "wal"))
	if err != nil {
		t.Fatal(err)
	}
	defer files.Close()
	out := filepath.Join(t.TempDir(), "replayed")
	res, err := replay.RunDataDir(files.Segments, out, replay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pl, err := replay.OpenProvenance(filepath.Join(out, replay.ProvenanceFile))
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	prov := func(rev int64) (string, bool) {
		p, ok := pl.Lookup(rev)
		return fmt.Sprintf("raft index %d term %d", p.Index, p.Term), ok
	}
	src, closer, err := tui.OpenMVCC(filepath.Join(out, "member", "snap", "db"), prov)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	_, cur := src.Revisions()
	kvs, _, err := src.Keys("", 4, cur)
	if err != nil || len(kvs) < 4 {
		t.Fatalf("keys: %v %v", kvs, err)
	}
	m := start(t, tui.Sources{MVCC: src}, 120, 40)
	for range 3 {
		m = drive(t, m, press("j"))
	}
	for _, p := range res.Provenance() {
		if p.Revision == kvs[3].ModRevision {
			want := fmt.Sprintf("from raft index %d term %d", p.Index, p.Term)
			if s := screen(m); !strings.Contains(s, want) {
				t.Errorf("history of %q: no %q:\n%s", kvs[3].Key, want, s)
			}
			return
		}
	}
	t.Fatalf("the replay recorded no entry for revision %d", kvs[3].ModRevision)
}

// TestReportFindings: a findings report (inspect's shape) becomes the
// findings tab, read after the first screen; a finding at a segment's
// offset jumps to that record, one on a page to that page, and a
// cross-check with neither is listed with its message.
func TestReportFindings(t *testing.T) {
	wal := &fakeWAL{}
	bolt := fakeBolt{}
	off, page, idx := int64(16+24+12*48), uint64(3), uint64(33)
	rep := &finding.Report{}
	rep.Add(finding.Finding{Severity: finding.Error, Code: "wal-crc-mismatch", File: "member/wal/" + wal.Segments()[1].Name, Offset: &off, Message: "CRC 0x1234 stored"})
	rep.Add(finding.Finding{Severity: finding.Error, Code: "bolt-page-invalid", File: "member/snap/db", Page: &page, Message: "bad header"})
	rep.Add(finding.Finding{Severity: finding.Warning, Code: "db-behind-wal", File: "member/snap/db", Index: &idx, Message: "the db is behind its WAL"})
	loads := 0
	src := tui.Sources{WAL: wal, Bolt: bolt, LoadFindings: func() ([]panes.Item, error) {
		loads++
		return tui.ReportItems(rep, wal), nil
	}}
	root, err := tui.New(src)
	if err != nil {
		t.Fatal(err)
	}
	var m tea.Model = root
	m = drive(t, m, tea.WindowSizeMsg{Width: 120, Height: 30})
	m = drive(t, m, press("["))
	if s := screen(m); loads != 0 || !strings.Contains(s, "Findings: reading…") {
		t.Fatalf("before Init's commands ran (%d loads):\n%s", loads, s)
	}
	m = settle(t, m, m.Init())
	s := screen(m)
	golden(t, "findings", s)
	if !strings.Contains(s, "db-behind-wal member/snap/db index 33") || !strings.Contains(s, "Findings: 3, 2 with problems") {
		t.Errorf("findings tab:\n%s", s)
	}
	m = drive(t, m, press("enter"))
	if s := screen(m); !strings.HasPrefix(s, "[WAL]") || !strings.Contains(s, fmt.Sprintf("> %#08x !! entry", off)) {
		t.Errorf("enter on the WAL finding:\n%s", s)
	}
	m = drive(t, m, press("["))
	m = drive(t, m, press("j"))
	m = drive(t, m, press("enter"))
	if s := screen(m); !strings.Contains(s, "[Bolt]") || !strings.Contains(s, "Page 3") {
		t.Errorf("enter on the page finding:\n%s", s)
	}
}

// fakeBolt is a db of 64 pages; page 3 has a problem.
type fakeBolt struct{}

func (fakeBolt) PageCount() uint64  { return 64 }
func (fakeBolt) Problems() []uint64 { return []uint64{3} }
func (fakeBolt) Pages(from, n uint64) ([]panes.BoltPage, error) {
	var out []panes.BoltPage
	for id := from; id < min(from+n, 64); id++ {
		g := byte('L')
		if id == 3 {
			g = '!'
		}
		out = append(out, panes.BoltPage{ID: id, Glyph: g})
	}
	return out, nil
}
func (fakeBolt) PageDetail(id uint64) (panes.Detail, error) {
	return panes.Detail{Lines: []string{fmt.Sprintf("page %d", id)}}, nil
}

// TestBucketBrowser: b turns the bolt tab to the bucket browser over the
// sample db. Moving down one element at a time through etcd's key bucket
// visits every record in bbolt's order, and moving up returns through
// them all, though the browser holds one screen of them at a time; enter
// opens a bucket and h goes back to it; v shows a value another way; /
// finds a key by its etcd key name; G goes to the last record.
func TestBucketBrowser(t *testing.T) {
	db := filepath.Join(etcdtest.SampleDir(t), "member", "snap", "db")
	defer etcdtest.RequireUnchanged(t, db)()
	var want []string
	bdb, err := bbolt.Open(db, 0o400, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	bdb.View(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte("key")).ForEach(func(k, _ []byte) error {
			rev, tomb, _ := mvccview.DecodeRevisionKey(k)
			s := rev.String()
			if tomb {
				s += "t"
			}
			want = append(want, s)
			return nil
		})
	})
	bdb.Close()

	src, closer, err := tui.OpenBolt(db)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	m := start(t, tui.Sources{Bolt: src}, 120, 30)
	m = drive(t, m, press("b"))
	golden(t, "root", screen(m))
	for range 5 { // alarm auth authRoles authUsers cluster key
		m = drive(t, m, press("j"))
	}
	m = drive(t, m, press("enter"))
	golden(t, "key", screen(m))

	var got []string
	for range len(want) + 3 { // past the end: it stays on the last
		got = append(got, selected(t, screen(m)))
		m = drive(t, m, press("j"))
	}
	if !slices.Equal(got[:len(want)], want) || got[len(got)-1] != want[len(want)-1] {
		t.Fatalf("j through the key bucket visited %d records, want bbolt's %d:\n%v\nwant\n%v", len(got), len(want), got, want)
	}
	for i := len(want) - 1; i >= 0; i-- {
		if s := selected(t, screen(m)); s != want[i] {
			t.Fatalf("k back through the key bucket: at %s, want %s", s, want[i])
		}
		m = drive(t, m, press("k"))
	}
	m = drive(t, m, press("v"))
	golden(t, "hex", screen(m))
	m = drive(t, m, press("G"))
	if s := selected(t, screen(m)); s != want[len(want)-1] {
		t.Errorf("G: at %s, want the last record %s", s, want[len(want)-1])
	}
	m = typeEnter(t, m, "vg//data/v1024")
	s := screen(m)
	golden(t, "search", s)
	if selected(t, s) != "12_0" || !strings.Contains(s, "key              /data/v1024") {
		t.Errorf("/ did not find /data/v1024 at revision 12:\n%s", s)
	}
	m = drive(t, m, press("n"))
	if s := screen(m); selected(t, s) != "12_0" || !strings.Contains(s, "no more matches") {
		t.Errorf("n after the only match:\n%s", s)
	}
	m = drive(t, m, press("h"))
	if s := selected(t, screen(m)); s != "[key]/" {
		t.Errorf("h: at %s, want back on the key bucket", s)
	}
	// etcd's lease records are protobufs: shown field by field.
	m = drive(t, m, press("j"))
	m = drive(t, m, press("enter"))
	if s := screen(m); !strings.Contains(s, "Bucket /lease") || !strings.Contains(s, "as protobuf fields") || !strings.Contains(s, "1: varint ") {
		t.Errorf("a lease record:\n%s", s)
	}
	m = drive(t, m, press("h"))
	m = drive(t, m, press("b"))
	if !strings.Contains(screen(m), "Pages 0..") {
		t.Error("b did not go back to the page map")
	}
}

// selected is the element the bucket browser has selected.
func selected(t *testing.T, screen string) string {
	t.Helper()
	for _, l := range strings.Split(screen, "\n") {
		if strings.HasPrefix(l, "> ") {
			return strings.Fields(l)[1]
		}
	}
	t.Fatalf("nothing selected:\n%s", screen)
	return ""
}

// TestREADMECaptures: the README's captures of the tabs are these golden
// files, as they are now (trailing spaces aside).
func TestREADMECaptures(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	trim := func(s string) string {
		lines := strings.Split(s, "\n")
		for i, l := range lines {
			lines[i] = strings.TrimRight(l, " ")
		}
		return strings.Join(lines, "\n")
	}
	doc := trim(string(readme))
	for _, g := range []string{"TestWALSample/after-n", "TestSnapPane/next-problem", "TestBoltPane/next-problem", "TestBucketBrowser/search", "TestMVCCPane/history"} {
		b, err := os.ReadFile(filepath.Join("testdata", g+".golden"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(doc, "```\n"+trim(string(b))+"\n```") {
			t.Errorf("the README does not show %s as it is now", g)
		}
	}
}

// TestDamagedMemberNeverPanics opens copies of the sample member damaged at
// random (seeded: bytes flipped, 4 KiB blocks zeroed, in the db or a WAL
// segment) as the tui command does. It then walks every tab with the keys
// that read the most: next problem, the bucket browser into every bucket,
// a search, the last key. Nothing panics.
func TestDamagedMemberNeverPanics(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for i := range 16 {
		dir := fixture.CopyDir(t, etcdtest.SampleDir(t))
		fixture.DamageMember(t, rng, dir)
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("damage #%d: panic: %v", i, p)
				}
			}()
			src, closer, err := tui.Open(dir, tui.OpenOptions{})
			if err != nil {
				return // refused, with an error: fine
			}
			defer closer.Close()
			m := start(t, src, 120, 30)
			for range 5 { // every tab
				m = typeKeys(t, m, "nnNjGg")
				m = drive(t, m, press("]"))
				_ = screen(m)
			}
			m = typeKeys(t, m, "[[[b") // the bolt tab's bucket browser
			for range 10 {
				m = drive(t, m, press("enter"))
				m = typeEnter(t, m, "Gvv/a")
				m = typeKeys(t, m, "hj")
				_ = screen(m)
			}
		}()
	}
}
