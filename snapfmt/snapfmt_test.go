package snapfmt_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etcdscope/etcdscope/finding"
	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/fixture"
	"github.com/etcdscope/etcdscope/snapfmt"
)

const sampleSnap = "0000000000000002-0000000000000065.snap"

func sampleSnapDir(t *testing.T) string {
	return filepath.Join(etcdtest.SampleDir(t), "member", "snap")
}

// copySnap copies one sample .snap into a temp dir under name.
func copySnap(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sampleSnapDir(t), sampleSnap))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func problemAt(f *snapfmt.File, sentinel error) *snapfmt.CorruptionError {
	for _, p := range f.Problems {
		var ce *snapfmt.CorruptionError
		if errors.Is(p, sentinel) && errors.As(p, &ce) {
			return ce
		}
	}
	return nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func TestLocateByteError(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 7, 100, 7114, 1 << 20} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		want := crc32.Checksum(data, castagnoli)
		for range 5 {
			j := rng.IntN(n)
			x := byte(rng.IntN(255) + 1)
			data[j] ^= x
			got := crc32.Checksum(data, castagnoli)
			off, fix, ok := snapfmt.LocateByteError(data, want, got)
			if !ok || off != j || fix != x {
				t.Errorf("n=%d: damaged byte %d (xor %#x): located %d %#x %v", n, j, x, off, fix, ok)
			}
			data[j] ^= x
		}
	}
	// Two damaged bytes far apart: no single byte explains it.
	data := bytes.Repeat([]byte("etcd"), 1000)
	want := crc32.Checksum(data, castagnoli)
	data[10] ^= 1
	data[3000] ^= 0x40
	if off, _, ok := snapfmt.LocateByteError(data, want, crc32.Checksum(data, castagnoli)); ok {
		t.Errorf("two damaged bytes located at %d", off)
	}
}

func TestCleanSample(t *testing.T) {
	dir := sampleSnapDir(t)
	defer etcdtest.RequireUnchanged(t, dir)()
	f, err := snapfmt.OpenFile(filepath.Join(dir, sampleSnap), snapfmt.Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	m := f.Snapshot.Metadata
	if !f.Loadable() || !f.NameOK || m.Term != 2 || m.Index != 0x65 || m.Term != f.NameTerm || m.Index != f.NameIndex {
		t.Errorf("%+v", f)
	}
	if f.Store.ClusterVersion != "3.6.0" || len(f.Store.Members) != 1 || f.Store.Members[0].Name != "sample" {
		t.Errorf("store %+v", f.Store)
	}
	// The encoders round-trip what etcd wrote.
	raw, _ := os.ReadFile(filepath.Join(dir, sampleSnap))
	again := snapfmt.AppendEnvelope(nil, f.Envelope.CRC, snapfmt.AppendSnapshot(nil, *f.Snapshot))
	if !bytes.Equal(raw, again) {
		t.Errorf("re-encoding differs from etcd's bytes")
	}
}

// TestDamage corrupts copies of a real .snap at computed offsets.
func TestDamage(t *testing.T) {
	cases := []struct {
		name     string
		damage   func(t *testing.T, p string) int64 // returns the offset the problem must carry
		sentinel error
		loadable bool
	}{
		{"bit-in-store", func(t *testing.T, p string) int64 {
			_, j, l := snapLayout(t, p)
			off := j + l/2
			fixture.FlipBit(t, p, off, 5)
			return off
		}, snapfmt.ErrCRCMismatch, false},
		{"byte-in-metadata", func(t *testing.T, p string) int64 {
			st, _ := os.Stat(p)
			off := st.Size() - 1 // the term varint
			fixture.WriteAt(t, p, off, []byte{0x03})
			return off
		}, snapfmt.ErrCRCMismatch, false},
		{"crc-field", func(t *testing.T, p string) int64 {
			fixture.FlipBit(t, p, 2, 1)
			return 2
		}, snapfmt.ErrCRCMismatch, false},
		{"two-bytes", func(t *testing.T, p string) int64 {
			dataOff, j, l := snapLayout(t, p)
			fixture.FlipBit(t, p, j+10, 0)
			fixture.FlipBit(t, p, j+l-10, 0)
			return dataOff
		}, snapfmt.ErrCRCMismatch, false},
		{"truncated", func(t *testing.T, p string) int64 {
			b, _ := os.ReadFile(p)
			_, n := uvarintLen(b[1:])
			fixture.Truncate(t, p, 1000)
			return int64(1 + n) // the data field's tag, after the crc field
		}, snapfmt.ErrUndecodable, false},
		{"empty", func(t *testing.T, p string) int64 {
			fixture.Truncate(t, p, 0)
			return 0
		}, snapfmt.ErrEmpty, false},
		{"zero-crc", func(t *testing.T, p string) int64 {
			b, _ := os.ReadFile(p)
			_, n := uvarintLen(b[1:])
			os.WriteFile(p, append([]byte{0x08, 0x00}, b[1+n:]...), 0o644)
			return 0
		}, snapfmt.ErrEmpty, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := copySnap(t, sampleSnap)
			off := c.damage(t, p)
			defer etcdtest.RequireUnchanged(t, p)()
			f, err := snapfmt.OpenFile(p, snapfmt.Options{})
			if err != nil {
				t.Fatal(err)
			}
			ce := problemAt(f, c.sentinel)
			if ce == nil {
				t.Fatalf("no %v; problems %v", c.sentinel, f.Problems)
			}
			if ce.Offset != off || ce.File != sampleSnap {
				t.Errorf("%v at %s:%#x, want %#x", c.sentinel, ce.File, ce.Offset, off)
			}
			if f.Loadable() != c.loadable {
				t.Errorf("Loadable %v", f.Loadable())
			}
			if _, err := snapfmt.OpenFile(p, snapfmt.Options{Strict: true}); !errors.Is(err, c.sentinel) && !errors.Is(err, snapfmt.ErrStoreUndecodable) {
				t.Errorf("Strict: %v", err)
			}
			t.Log(ce)
		})
	}
}

func uvarintLen(b []byte) (uint64, int) {
	var v uint64
	for i, c := range b {
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}

func TestNameMismatch(t *testing.T) {
	p := copySnap(t, snapfmt.SnapName(2, 0x66))
	f, err := snapfmt.OpenFile(p, snapfmt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if ce := problemAt(f, snapfmt.ErrNameMismatch); ce == nil || snapfmt.Code(ce) != "snap-name-mismatch" {
		t.Errorf("problems %v", f.Problems)
	}
	if !f.Loadable() {
		t.Error("a misnamed snapshot still loads")
	}
	p = copySnap(t, "backup.snap")
	f, _ = snapfmt.OpenFile(p, snapfmt.Options{})
	if ce := problemAt(f, snapfmt.ErrBadName); ce == nil || snapfmt.SeverityOf(ce) != finding.Warning {
		t.Errorf("problems %v", f.Problems)
	}
}

// TestStoreProblemKeepsMetadata re-encodes a real snapshot with broken
// store JSON and a right CRC: the CRC and metadata are still reported.
func TestStoreProblemKeepsMetadata(t *testing.T) {
	f, err := snapfmt.OpenFile(filepath.Join(sampleSnapDir(t), sampleSnap), snapfmt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := *f.Snapshot
	s.Data = append(bytes.Clone(s.Data[:200]), "}}oops"...)
	data := snapfmt.AppendSnapshot(nil, s)
	b := snapfmt.AppendEnvelope(nil, crc32.Checksum(data, castagnoli), data)
	g, err := snapfmt.NewFile(bytes.NewReader(b), int64(len(b)), snapfmt.Options{Name: sampleSnap})
	if err != nil {
		t.Fatal(err)
	}
	ce := problemAt(g, snapfmt.ErrStoreUndecodable)
	if ce == nil || !g.CRCOK() || !g.Loadable() || g.Snapshot.Metadata.Index != 0x65 {
		t.Fatalf("problems %v, crc ok %v", g.Problems, g.CRCOK())
	}
	if ce.Offset < g.Snapshot.DataOffset || ce.Offset > g.Snapshot.DataOffset+int64(len(s.Data)) {
		t.Errorf("store problem at %#x, outside the store JSON at %#x", ce.Offset, g.Snapshot.DataOffset)
	}
}

func TestSummarizeStore(t *testing.T) {
	node := func(path, value string, children string) string {
		c := "null"
		if children != "" {
			c = "{" + children + "}"
		}
		return `{"Path":"` + path + `","CreatedIndex":1,"ModifiedIndex":1,"ExpireTime":"0001-01-01T00:00:00Z","Value":` + quote(value) + `,"Children":` + c + `}`
	}
	member := func(id, ra, a string) string {
		kids := `"raftAttributes":` + node("/0/members/"+id+"/raftAttributes", ra, "")
		if a != "" {
			kids += `,"attributes":` + node("/0/members/"+id+"/attributes", a, "")
		}
		return `"` + id + `":` + node("/0/members/"+id, "", kids)
	}
	root := func(zero, rest string) string {
		return `{"Root":` + node("/", "", `"0":`+node("/0", "", zero)+rest) + `,"CurrentIndex":9,"CurrentVersion":2}`
	}
	members := `"members":` + node("/0/members", "", member("a", `{"peerURLs":["http://p1"]}`, `{"name":"one","clientURLs":["http://c1"]}`)+","+
		member("1b", `{"peerURLs":["http://p2"],"isLearner":true}`, ""))
	full := root(members+`,"removed_members":`+node("/0/removed_members", "", `"ff":`+node("/0/removed_members/ff", "", ""))+
		`,"version":`+node("/0/version", "3.5.0", ""), `,"1":`+node("/1", "", `"k":`+node("/1/k", "v", "")))

	s := snapfmt.SummarizeStore([]byte(full))
	if len(s.Problems) != 0 {
		t.Errorf("problems %v", s.Problems)
	}
	if len(s.Members) != 2 || s.Members[0].ID != 0xa || s.Members[0].Name != "one" || s.Members[0].ClientURLs[0] != "http://c1" ||
		s.Members[1].ID != 0x1b || !s.Members[1].IsLearner || s.Members[1].PeerURLs[0] != "http://p2" {
		t.Errorf("members %+v", s.Members)
	}
	if len(s.Removed) != 1 || s.Removed[0] != 0xff || s.ClusterVersion != "3.5.0" || s.CurrentIndex != 9 || !s.V2Content {
		t.Errorf("summary %+v", s)
	}
	// nodes: 0, members, a, a/raftAttributes, a/attributes, 1b, 1b/raftAttributes,
	// removed_members, ff, version, 1, 1/k
	if s.Nodes != 12 || s.Keys != 6 {
		t.Errorf("%d nodes, %d keys", s.Nodes, s.Keys)
	}

	odd := map[string]error{
		"":                           snapfmt.ErrStoreUndecodable,
		"[]":                         snapfmt.ErrStoreUndecodable,
		`{"Root":null}`:              snapfmt.ErrStoreUndecodable,
		`{"Root":{"Value":5}}`:       snapfmt.ErrStoreUndecodable,
		`{"CurrentIndex":-1}`:        snapfmt.ErrStoreUndecodable,
		`{"Root":{}} x`:              snapfmt.ErrStoreUndecodable,
		`{"Root":{"Children":{"a":{`: snapfmt.ErrStoreUndecodable,
		`{}`:                         snapfmt.ErrStoreOdd,
		root(`"members":`+node("/0/members", "", member("zz", `{}`, "")), ""):                                                 snapfmt.ErrStoreOdd,
		root(`"members":`+node("/0/members", "", member("a", `not json`, "")), ""):                                            snapfmt.ErrStoreOdd,
		root(`"members":`+node("/0/members", "", `"b":`+node("/0/members/b", "", `"x":`+node("/0/members/b/x", "", ""))), ""): snapfmt.ErrStoreOdd,
		`{"Root":{"Path":"/wrong"}}`:    snapfmt.ErrStoreOdd,
		`{"Root":{"Children":{"a":5}}}`: snapfmt.ErrStoreUndecodable,
		`{"Root":` + strings.Repeat(`{"Children":{"a":`, 2000) + strings.Repeat("}}", 2000) + "}": snapfmt.ErrStoreOdd,
	}
	for in, want := range odd {
		s := snapfmt.SummarizeStore([]byte(in))
		found := false
		for _, p := range s.Problems {
			found = found || errors.Is(p, want)
		}
		if !found {
			t.Errorf("%.60q: want %v, got %v", in, want, s.Problems)
		}
	}
}

func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// boltCopy writes the sample's db, optionally with a SHA-256 trailer.
func boltCopy(t *testing.T, name string, trailer bool) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sampleSnapDir(t), "db"))
	if err != nil {
		t.Fatal(err)
	}
	if trailer {
		sum := sha256.Sum256(b)
		b = append(b, sum[:]...)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDBFile(t *testing.T) {
	p := boltCopy(t, snapfmt.DBName(0x12f), true)
	unchanged := etcdtest.RequireUnchanged(t, filepath.Dir(p))
	d, err := snapfmt.OpenDBFile(p, snapfmt.Options{})
	unchanged()
	if err != nil {
		t.Fatal(err)
	}
	if !d.Bolt || d.PageSize != 4096 || !d.MetaChecksumOK || d.Trailer != snapfmt.TrailerOK || !d.NameOK || d.Index != 0x12f || len(d.Problems) != 0 {
		t.Errorf("%+v", d)
	}

	// One flipped bit in the middle: the trailer no longer matches.
	fixture.FlipBit(t, p, d.Size/2, 0)
	d, _ = snapfmt.OpenDBFile(p, snapfmt.Options{})
	if d.Trailer != snapfmt.TrailerMismatch || len(d.Problems) != 1 || snapfmt.Code(d.Problems[0]) != "snapdb-sha-mismatch" {
		t.Errorf("%+v", d)
	}

	// No trailer: a plain bbolt file.
	q := boltCopy(t, "db", false)
	d, _ = snapfmt.OpenDBFile(q, snapfmt.Options{})
	if d.Trailer != snapfmt.TrailerAbsent || !d.Bolt || len(d.Problems) != 0 {
		t.Errorf("%+v", d)
	}

	// Meta page 0 wiped: page 1 still says bbolt.
	fixture.Zero(t, q, 0, 4096)
	d, _ = snapfmt.OpenDBFile(q, snapfmt.Options{})
	if !d.Bolt || len(d.Problems) != 0 {
		t.Errorf("page 1 fallback: %+v", d)
	}
	// Both meta pages wiped: not bbolt.
	fixture.Zero(t, q, 4096, 4096)
	d, _ = snapfmt.OpenDBFile(q, snapfmt.Options{})
	if d.Bolt || len(d.Problems) != 1 || !errors.Is(d.Problems[0], snapfmt.ErrNotBolt) {
		t.Errorf("%+v", d)
	}
	// A byte-swapped magic is named as such.
	fixture.WriteAt(t, q, 16, []byte{0xed, 0x0c, 0xda, 0xed}) // on disk, the magic is ed da 0c ed
	d, _ = snapfmt.OpenDBFile(q, snapfmt.Options{})
	if d.Bolt || len(d.Problems) != 1 || !strings.Contains(d.Problems[0].Error(), "byte-swapped") {
		t.Errorf("%+v", d)
	}

	for _, size := range []int64{0, 32, 512, 544, 4096*3 + 32} {
		if got, want := snapfmt.HasTrailer(size), size%512 == 32; got != want {
			t.Errorf("HasTrailer(%d) = %v", size, got)
		}
	}
}

func TestReadDirLeftovers(t *testing.T) {
	dir := filepath.Join(fixture.CopyDir(t, etcdtest.SampleDir(t)), "member", "snap")
	broken := filepath.Join(dir, sampleSnap+".broken")
	b, _ := os.ReadFile(filepath.Join(dir, sampleSnap))
	b[len(b)/2] ^= 1
	os.WriteFile(broken, b, 0o644)
	os.WriteFile(filepath.Join(dir, "tmp123"), []byte("partial"), 0o600)
	os.WriteFile(filepath.Join(dir, "db.tmp.42"), nil, 0o600)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644)
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	defer etcdtest.RequireUnchanged(t, dir)()

	d, err := snapfmt.ReadDir(dir, snapfmt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]snapfmt.LeftoverKind{}
	for _, l := range d.Leftovers {
		kinds[l.Name] = l.Kind
		if snapfmt.Code(l.Problem) != "snap-leftover" || snapfmt.SeverityOf(l.Problem) != finding.Warning {
			t.Errorf("%s: %v", l.Name, l.Problem)
		}
		if l.Kind == snapfmt.LeftoverBroken && (l.Snap == nil || l.Snap.Loadable() || !strings.Contains(l.Problem.Error(), "still damaged")) {
			t.Errorf("broken leftover not decoded: %v", l.Problem)
		}
	}
	want := map[string]snapfmt.LeftoverKind{
		sampleSnap + ".broken": snapfmt.LeftoverBroken,
		"tmp123":               snapfmt.LeftoverTmp,
		"db.tmp.42":            snapfmt.LeftoverDefragTmp,
		"notes.txt":            snapfmt.LeftoverUnknown,
		"sub":                  snapfmt.LeftoverUnknown,
	}
	if len(kinds) != len(want) {
		t.Errorf("leftovers %v", kinds)
	}
	for n, k := range want {
		if kinds[n] != k {
			t.Errorf("%s: %v, want %v", n, kinds[n], k)
		}
	}
	if len(d.Snaps) != 3 || d.DB == nil {
		t.Errorf("%d snaps, db %v", len(d.Snaps), d.DB)
	}
}

func TestOpenSingleFiles(t *testing.T) {
	save := boltCopy(t, "backup.db", true)
	d, err := snapfmt.Open(save, snapfmt.Options{})
	if err != nil || len(d.DBs) != 1 || d.DBs[0].Trailer != snapfmt.TrailerOK || len(d.Problems()) != 0 {
		t.Fatalf("%v %+v", err, d)
	}
	s := copySnap(t, "renamed-by-hand")
	d, err = snapfmt.Open(s, snapfmt.Options{})
	if err != nil || len(d.Snaps) != 1 || !d.Snaps[0].Loadable() {
		t.Fatalf("sniffed .snap: %v %+v", err, d)
	}
	txt := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(txt, []byte("hello"), 0o644)
	if _, err := snapfmt.Open(txt, snapfmt.Options{}); !errors.Is(err, snapfmt.ErrUnknownFile) {
		t.Errorf("text file: %v", err)
	}
	if _, err := snapfmt.Open(filepath.Join(t.TempDir(), "nope"), snapfmt.Options{}); err == nil {
		t.Error("missing file: no error")
	}
}

func TestNewest(t *testing.T) {
	d, err := snapfmt.ReadDir(sampleSnapDir(t), snapfmt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := snapfmt.Newest(d.Snaps)
	if c.Loaded == nil || c.Loaded.Name != "0000000000000002-000000000000012f.snap" || c.Constrained || len(c.Steps) != 3 {
		t.Errorf("%+v", c)
	}
	c = snapfmt.NewestAvailable(d.Snaps, []snapfmt.SnapshotID{{Term: 2, Index: 0xca}, {Term: 1, Index: 0x12f}})
	if c.Loaded == nil || c.Loaded.Name != "0000000000000002-00000000000000ca.snap" || c.Steps[0].Outcome != snapfmt.OutcomeUnmatched ||
		c.Steps[2].Outcome != snapfmt.OutcomeNotReached || len(c.Renamed()) != 0 {
		t.Errorf("%+v", c)
	}
	if c := snapfmt.NewestAvailable(d.Snaps, nil); c.Loaded != nil {
		t.Errorf("no WAL records: loaded %s", c.Loaded.Name)
	}
}
