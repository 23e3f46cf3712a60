package cli

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/finding"
	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/fixture"
)

// browseKV is one key of one bucket as go.etcd.io/bbolt reads it.
type browseKV struct {
	key, value []byte
}

// browseTruth is what go.etcd.io/bbolt reads from a db: every bucket
// (nested ones as a/b) with its keys in order and its nested buckets.
type browseTruth struct {
	buckets []string
	keys    map[string][]browseKV
	nested  map[string]int
}

// browseOracle reads every bucket and key with go.etcd.io/bbolt,
// read-only, on a copy (bbolt takes a shared lock; the original is never
// touched).
func browseOracle(t *testing.T, path string) *browseTruth {
	t.Helper()
	db := fixture.OpenBoltCopy(t, path)
	tr := &browseTruth{keys: map[string][]browseKV{}, nested: map[string]int{}}
	var walk func(name string, b *bolt.Bucket)
	walk = func(name string, b *bolt.Bucket) {
		tr.buckets = append(tr.buckets, name)
		tr.keys[name] = []browseKV{}
		b.ForEach(func(k, v []byte) error {
			if v == nil {
				tr.nested[name]++
				walk(name+"/"+string(k), b.Bucket(k))
				return nil
			}
			tr.keys[name] = append(tr.keys[name], browseKV{bytes.Clone(k), bytes.Clone(v)})
			return nil
		})
	}
	err := db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			walk(string(name), b)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

type keyLine struct {
	Kind      string `json:"kind"`
	Bucket    string `json:"bucket"`
	Page      uint64 `json:"page"`
	Index     int    `json:"index"`
	Key       []byte `json:"key"`
	KeyText   string `json:"key_text"`
	ValueSize int    `json:"value_size"`
	Value     []byte `json:"value"`
	Problem   string `json:"problem"`
}

// ndjson decodes one JSON object per line.
func ndjson[T any](t *testing.T, out string) []T {
	t.Helper()
	var lines []T
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("line %.200q: %v", sc.Text(), err)
		}
		lines = append(lines, v)
	}
	return lines
}

func keysJSON(t *testing.T, path, bucket string) []keyLine {
	t.Helper()
	out, errOut, code := run(t, "bolt", "keys", "-w", "json", "--values", path, bucket)
	if code != ExitOK {
		t.Fatalf("bolt keys %s: exit %d: %s", bucket, code, errOut)
	}
	return ndjson[keyLine](t, out)
}

type pagesLine struct {
	Kind           string  `json:"kind"`
	ID             uint64  `json:"id"`
	Offset         int64   `json:"offset"`
	Type           string  `json:"type"`
	ContinuationOf *uint64 `json:"continuation_of"`
	Items          *uint64 `json:"items"`
	Overflow       *uint32 `json:"overflow"`
	Status         string  `json:"status"`
	Bucket         string  `json:"bucket"`
}

// bucketLine is a bucket of bolt buckets -w json.
type bucketLine struct {
	Name    string  `json:"name"`
	Root    *uint64 `json:"root"`
	Inline  bool    `json:"inline"`
	Keys    int     `json:"keys"`
	Buckets int     `json:"buckets"`
	Pages   int     `json:"pages"`
}

// pageDoc is what the tests read of a page of bolt page -w json.
type pageDoc struct {
	ID      uint64 `json:"id"`
	Type    string `json:"type"`
	Size    int    `json:"size"`
	Status  string `json:"status"`
	Bucket  string `json:"bucket"`
	Problem string `json:"problem"`
	Meta    *struct {
		Valid bool `json:"valid"`
	} `json:"meta"`
	Elements []struct {
		Index   int    `json:"index"`
		Key     []byte `json:"key"`
		Value   []byte `json:"value"`
		Problem string `json:"problem"`
	} `json:"elements"`
	Freelist    []uint64          `json:"freelist"`
	Data        []byte            `json:"data"`
	Annotations []json.RawMessage `json:"annotations"`
}

type checkDoc struct {
	finding.Report
	HWM  uint64 `json:"hwm"`
	Tree int    `json:"tree_pages"`
	Free int    `json:"free_pages"`
}

// revText is the main_sub[t] form of an etcd key-bucket key, computed here
// independently of the command's formatter.
func revText(k []byte) string {
	s := fmt.Sprintf("%d_%d", binary.BigEndian.Uint64(k), binary.BigEndian.Uint64(k[9:]))
	if len(k) == 18 {
		s += "t"
	}
	return s
}

// getArgs returns how bolt get is given a key: the revision form in the
// key bucket, text when printable, else a quoted Go string.
func getArgs(bucket string, k []byte) []string {
	if bucket == "key" && (len(k) == 17 || len(k) == 18) {
		return []string{bucket, revText(k)}
	}
	for _, c := range k {
		if c < 0x21 || c > 0x7e {
			return []string{bucket, strconv.Quote(string(k))}
		}
	}
	return []string{bucket, string(k)}
}

// hexBytes is b as etcdctl --hex prints it, computed here independently of
// the command's formatter.
func hexBytes(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		fmt.Fprintf(&s, `\x%02x`, c)
	}
	return s.String()
}

// checkBrowse runs every browsing command on a clean db and compares what
// they show with what go.etcd.io/bbolt reads.
func checkBrowse(t *testing.T, path string) {
	t.Helper()
	defer etcdtest.RequireUnchanged(t, path)()
	truth := browseOracle(t, path)

	// bolt check: nothing at error severity.
	out, errOut, code := run(t, "bolt", "check", "-w", "json", path)
	var chk checkDoc
	if err := json.Unmarshal([]byte(out), &chk); err != nil || code != ExitOK || chk.Summary.Errors != 0 {
		t.Fatalf("bolt check: exit %d, %v, %s %s", code, err, out, errOut)
	}

	// bolt buckets.
	out, errOut, code = run(t, "bolt", "buckets", "-w", "json", path)
	if code != ExitOK || errOut != "" {
		t.Fatalf("bolt buckets: exit %d, stderr %q", code, errOut)
	}
	var bk struct {
		Buckets []bucketLine `json:"buckets"`
	}
	if err := json.Unmarshal([]byte(out), &bk); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range bk.Buckets {
		names = append(names, b.Name)
		if want := len(truth.keys[b.Name]); b.Keys != want {
			t.Errorf("bucket %s: %d keys, bbolt reads %d", b.Name, b.Keys, want)
		}
		if want := truth.nested[b.Name]; b.Buckets != want {
			t.Errorf("bucket %s: %d nested buckets, bbolt reads %d", b.Name, b.Buckets, want)
		}
		if b.Inline != (b.Root == nil) || (!b.Inline && b.Pages == 0) {
			t.Errorf("bucket %s: inline %v root %v pages %d", b.Name, b.Inline, b.Root, b.Pages)
		}
	}
	want := slices.Clone(truth.buckets)
	slices.Sort(want)
	slices.Sort(names)
	if !slices.Equal(names, want) {
		t.Errorf("bolt buckets %v, bbolt reads %v", names, want)
	}
	if s, _, _ := run(t, "bolt", "buckets", path); !strings.Contains(s, "key ") {
		t.Errorf("bolt buckets (simple) does not list the key bucket:\n%s", s)
	}

	// bolt keys, every bucket, values included.
	total := 0
	for _, b := range truth.buckets {
		lines := keysJSON(t, path, b)
		wk := truth.keys[b]
		if len(lines) != len(wk) {
			t.Errorf("bolt keys %s: %d keys, bbolt reads %d", b, len(lines), len(wk))
			continue
		}
		for i, l := range lines {
			if l.Kind != "key" || l.Bucket != b || !bytes.Equal(l.Key, wk[i].key) || !bytes.Equal(l.Value, wk[i].value) || l.ValueSize != len(wk[i].value) {
				t.Fatalf("bolt keys %s #%d: %s %q (%d bytes), bbolt reads %q (%d bytes)", b, i, l.Kind, l.Key, l.ValueSize, wk[i].key, len(wk[i].value))
			}
			if b == "key" && (len(l.Key) == 17 || len(l.Key) == 18) && l.KeyText != revText(l.Key) {
				t.Errorf("key bucket key %x shown as %q, want %q", l.Key, l.KeyText, revText(l.Key))
			}
		}
		total += len(lines)
		// --hex: every key and value as etcdctl --hex prints bytes.
		s, _, _ := run(t, "bolt", "keys", "--hex", "--values", path, b)
		var want strings.Builder
		for _, kv := range wk {
			fmt.Fprintf(&want, "%s %d %s %s\n", hexBytes(kv.key), len(kv.value), plural(len(kv.value), "byte"), hexBytes(kv.value))
		}
		if s != want.String() {
			t.Errorf("bolt keys --hex --values %s:\n%.300s\nwant\n%.300s", b, s, want.String())
		}
	}
	if total == 0 {
		t.Fatal("no keys at all")
	}
	// The simple output: one line per key.
	if s, _, _ := run(t, "bolt", "keys", path, "key"); strings.Count(s, "\n") != len(truth.keys["key"]) {
		t.Errorf("bolt keys key (simple): %d lines, want %d", strings.Count(s, "\n"), len(truth.keys["key"]))
	}

	// bolt get, a sample of keys of every bucket: first, middle, last,
	// every 40th part of a large bucket, and in the key bucket every
	// tombstone.
	gets := 0
	for _, b := range truth.buckets {
		wk := truth.keys[b]
		var sample []browseKV
		idx := []int{0, len(wk) / 2, len(wk) - 1}
		for i := 1; len(wk) > 40 && i < 40; i++ {
			idx = append(idx, i*len(wk)/40)
		}
		for _, i := range idx {
			if i >= 0 && i < len(wk) {
				sample = append(sample, wk[i])
			}
		}
		for _, kv := range wk {
			if b == "key" && len(kv.key) == 18 {
				sample = append(sample, kv)
			}
		}
		for _, kv := range sample {
			args := append([]string{"bolt", "get", path}, getArgs(b, kv.key)...)
			out, errOut, code := run(t, args...)
			if code != ExitOK || out != string(kv.value) {
				t.Fatalf("%v: exit %d (%s), %d bytes, bbolt reads %d", args, code, errOut, len(out), len(kv.value))
			}
			args = append([]string{"bolt", "get", "-w", "json", path}, getArgs(b, kv.key)...)
			out, _, code = run(t, args...)
			var g struct {
				Bucket     string
				Key, Value []byte
			}
			if err := json.Unmarshal([]byte(out), &g); err != nil || code != ExitOK || g.Bucket != b || !bytes.Equal(g.Key, kv.key) || !bytes.Equal(g.Value, kv.value) {
				t.Fatalf("%v: exit %d, %v: %.300s", args, code, err, out)
			}
			// --hex: the key given, and the value printed, as etcdctl --hex
			// prints bytes, or the key in plain hex.
			for _, k := range []string{hexBytes(kv.key), hex.EncodeToString(kv.key)} {
				args = []string{"bolt", "get", "--hex", path, b, k}
				if out, errOut, code := run(t, args...); code != ExitOK || out != hexBytes(kv.value)+"\n" {
					t.Fatalf("%v: exit %d (%s), %.200q, want the value in hex", args, code, errOut, out)
				}
			}
			gets++
		}
	}
	t.Logf("%d buckets, %d keys, %d gets agree with bbolt", len(truth.buckets), total, gets)

	// A key and a bucket that are not there: exit 2, one line.
	for _, args := range [][]string{{"key", "999999999_0"}, {"meta", "no-such-key"}, {"no-such-bucket", "k"}} {
		_, errOut, code := run(t, append([]string{"bolt", "get", path}, args...)...)
		if code != ExitTrouble || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "not found") || !strings.Contains(errOut, path) {
			t.Errorf("bolt get %v: exit %d, stderr %q", args, code, errOut)
		}
	}
	if _, errOut, code := run(t, "bolt", "keys", path, "no-such-bucket"); code != ExitTrouble || strings.Count(errOut, "\n") != 1 {
		t.Errorf("bolt keys of a missing bucket: exit %d, stderr %q", code, errOut)
	}

	// bolt pages: every id below the high-water mark, once, in order, with
	// the walk's status; the counts agree with bolt check.
	out, errOut, code = run(t, "bolt", "pages", "-w", "json", path)
	if code != ExitOK || errOut != "" {
		t.Fatalf("bolt pages: exit %d, %s", code, errOut)
	}
	pages := ndjson[pagesLine](t, out)
	if uint64(len(pages)) != chk.HWM {
		t.Fatalf("bolt pages: %d lines, high-water mark %d", len(pages), chk.HWM)
	}
	count := map[string]int{}
	for i, p := range pages {
		if p.ID != uint64(i) || p.Kind != "page" {
			t.Fatalf("bolt pages line %d: %+v", i, p)
		}
		count[p.Status]++
		switch p.Status {
		case "meta":
			if p.ID > 1 || p.Type != "meta" {
				t.Errorf("page %d: %+v", p.ID, p)
			}
		case "reachable":
			if p.Bucket == "" {
				t.Errorf("reachable page %d has no bucket", p.ID)
			}
			if p.ContinuationOf == nil && p.Type != "leaf" && p.Type != "branch" {
				t.Errorf("reachable page %d is a %s", p.ID, p.Type)
			}
			if c := p.ContinuationOf; c != nil && (*c >= p.ID || pages[*c].Status != "reachable" || pages[*c].Bucket != p.Bucket) {
				t.Errorf("page %d continues page %d: %+v", p.ID, *c, pages[*c])
			}
		case "free", "freelist":
		default:
			t.Errorf("page %d: status %q in a clean db", p.ID, p.Status)
		}
	}
	if count["reachable"] != chk.Tree || count["free"] != chk.Free {
		t.Errorf("bolt pages counts %v; bolt check says %d tree pages, %d free", count, chk.Tree, chk.Free)
	}
	t.Logf("pages below the high-water mark %d: %v", chk.HWM, count)
	out, _, code = run(t, "bolt", "pages", "-w", "json", "--all", path)
	all := ndjson[pagesLine](t, out)
	_, fp := boltSize(t, path)
	filePages := uint64(fp)
	if code != ExitOK || uint64(len(all)) != max(filePages, chk.HWM) {
		t.Fatalf("bolt pages --all: exit %d, %d lines, file holds %d pages", code, len(all), filePages)
	}
	for _, p := range all[chk.HWM:] {
		if p.Status != "beyond-hwm" {
			t.Fatalf("page %d past the high-water mark: %+v", p.ID, p)
		}
	}
	for _, f := range []string{"simple", "table"} {
		if out, errOut, code := run(t, "bolt", "pages", "-w", f, path); code != ExitOK || strings.Count(out, "\n") < int(chk.HWM) {
			t.Errorf("bolt pages -w %s: exit %d, %d lines: %s", f, code, strings.Count(out, "\n"), errOut)
		}
	}

	// bolt page on every reachable page: the elements of the leaves of the
	// key bucket are the keys bbolt reads.
	var ids []string
	for _, p := range pages {
		if p.Status == "reachable" || p.Status == "meta" {
			ids = append(ids, strconv.FormatUint(p.ID, 10))
		}
	}
	out, errOut, code = run(t, append([]string{"bolt", "page", "-w", "json", "--values", path}, ids...)...)
	if code != ExitOK {
		t.Fatalf("bolt page: exit %d: %s", code, errOut)
	}
	var leafKeys []browseKV
	for _, d := range ndjson[pageDoc](t, out) {
		if d.Problem != "" {
			t.Errorf("page %d: %s", d.ID, d.Problem)
		}
		if d.ID < 2 && (d.Meta == nil || !d.Meta.Valid) {
			t.Errorf("meta page %d: %+v", d.ID, d.Meta)
		}
		if d.Bucket != "key" || d.Type != "leaf" {
			continue
		}
		for _, e := range d.Elements {
			if e.Problem != "" {
				t.Errorf("page %d element %d: %s", d.ID, e.Index, e.Problem)
			}
			leafKeys = append(leafKeys, browseKV{e.Key, e.Value})
		}
	}
	slices.SortFunc(leafKeys, func(a, b browseKV) int { return bytes.Compare(a.key, b.key) })
	wk := truth.keys["key"]
	if len(leafKeys) != len(wk) {
		t.Fatalf("bolt page: %d elements in the key bucket's leaves, bbolt reads %d keys", len(leafKeys), len(wk))
	}
	for i := range wk {
		if !bytes.Equal(leafKeys[i].key, wk[i].key) || !bytes.Equal(leafKeys[i].value, wk[i].value) {
			t.Fatalf("bolt page: key bucket element %d is %x, bbolt reads %x", i, leafKeys[i].key, wk[i].key)
		}
	}
}

// boltSize returns a db's high-water mark and the number of pages its
// file holds.
func boltSize(t *testing.T, path string) (hwm, filePages boltfmt.PageID) {
	t.Helper()
	db, err := boltfmt.Open(path, boltfmt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return db.HWM(), db.FilePages()
}

// idArgs are the page ids from 0 to n-1, as arguments.
func idArgs(n boltfmt.PageID) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = strconv.Itoa(i)
	}
	return ids
}

func TestBoltBrowseMatchesBbolt(t *testing.T) {
	for _, v := range etcdtest.Versions {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			dir, _ := etcdtest.Generate(t, v, etcdtest.GenOptions{})
			defer etcdtest.RequireUnchanged(t, dir)()
			checkBrowse(t, filepath.Join(dir, "member", "snap", "db"))
			// A data dir works as the DB argument.
			if out, errOut, code := run(t, "bolt", "buckets", dir); code != ExitOK || !strings.Contains(out, "key") {
				t.Errorf("bolt buckets DATA_DIR: exit %d: %s", code, errOut)
			}
		})
	}
}

// TestBoltBrowseSnapshot checks the browsing commands on the output of
// etcdctl snapshot save (bbolt's Tx.WriteTo: both metas describe the same
// tree, and a SHA-256 trailer follows the last page).
func TestBoltBrowseSnapshot(t *testing.T) {
	for _, v := range etcdtest.Versions {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			dir, _ := etcdtest.Generate(t, v, etcdtest.GenOptions{})
			m := etcdtest.StartMember(t, etcdtest.Binaries(t, v), etcdtest.MemberOptions{DataDir: dir, Auth: "root:" + etcdtest.RootPassword})
			snap := filepath.Join(t.TempDir(), "snapshot.db")
			m.Ctl(t, "snapshot", "save", snap)
			m.Stop(t)
			checkBrowse(t, snap)
		})
	}
}

// TestBoltPageHexEverySamplePage decodes every page of the committed
// sample's db, in every format, with --hex.
func TestBoltPageHexEverySamplePage(t *testing.T) {
	path := sampleDB(t)
	defer etcdtest.RequireUnchanged(t, path)()
	_, fp := boltSize(t, path)
	n := int(fp)
	ids := idArgs(fp)
	for _, f := range []string{"simple", "table", "json"} {
		out, errOut, code := run(t, append([]string{"bolt", "page", "--hex", "--values", "-w", f, path}, ids...)...)
		if code != ExitOK || errOut != "" {
			t.Fatalf("-w %s: exit %d: %s", f, code, errOut)
		}
		if f == "json" {
			docs := ndjson[pageDoc](t, out)
			if len(docs) != n {
				t.Fatalf("%d documents for %d pages", len(docs), n)
			}
			for i, d := range docs {
				if d.ID != uint64(i) || len(d.Data) != d.Size || len(d.Annotations) == 0 {
					t.Fatalf("page %d: id %d, %d data bytes, size %d, %d annotations", i, d.ID, len(d.Data), d.Size, len(d.Annotations))
				}
			}
			continue
		}
		for i := 0; i < n; i++ {
			if !strings.Contains(out, fmt.Sprintf("page %d (offset %#x,", i, i*4096)) {
				t.Fatalf("-w %s: no page %d", f, i)
			}
		}
	}
	out, _, _ := run(t, "bolt", "page", "--hex", path, "0", "2")
	for _, s := range []string{"# magic 0xed0cdaed", "# checksum ", "(ok)", "# leaf element 0: flags 0x0, pos ", "# key 0: ", "# value 0: "} {
		if !strings.Contains(out, s) {
			t.Errorf("bolt page --hex 0 2: no %q in\n%.3000s", s, out)
		}
	}
	if _, errOut, code := run(t, "bolt", "page", path, strconv.Itoa(n)); code != ExitTrouble || !strings.Contains(errOut, "beyond the end of the file") {
		t.Errorf("page past the file: exit %d, %s", code, errOut)
	}
	if _, _, code := run(t, "bolt", "page", path, "x"); code != ExitTrouble {
		t.Errorf("page id x: exit %d", code)
	}
}

// TestBoltBrowseDamaged: a damaged element is shown with its problem, the
// rest is still shown, nothing panics, and a one-line warning says to run
// bolt check.
func TestBoltBrowseDamaged(t *testing.T) {
	path := sampleDB(t)
	truth := browseOracle(t, path)
	id, db, _ := pageOf(t, path, "key", boltfmt.LeafPage, func(db *boltfmt.DB, id boltfmt.PageID) bool {
		h, err := db.ReadHeader(id)
		return err == nil && h.Count > 8 && h.Overflow == 0
	})
	p, err := db.ReadPage(id, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	els, _ := boltfmt.LeafElements(p.Data, int(p.Count))
	victim, survivor := els[3].Key, els[5].Key
	// Element 3's ksize now runs far past the page.
	fixture.WriteAt(t, path, p.Offset+16+3*16+8, binary.LittleEndian.AppendUint32(nil, 0xFFFFFF))
	unchanged := etcdtest.RequireUnchanged(t, path)
	ids := strconv.FormatUint(uint64(id), 10)

	warned := func(errOut string) bool {
		return strings.Count(errOut, "\n") == 1 && strings.Contains(errOut, "run etcdscope bolt check")
	}
	out, errOut, code := run(t, "bolt", "page", path, ids)
	if code != ExitOK || !strings.Contains(out, "[3] +0x40 ! leaf element 3 (pos") || !strings.Contains(out, "[4] +0x50 key ") || !warned(errOut) {
		t.Errorf("bolt page %s: exit %d, stderr %q\n%s", ids, code, errOut, out)
	}
	out, _, code = run(t, "bolt", "page", "--hex", path, ids)
	if code != ExitOK || !strings.Contains(out, "# leaf element 3: flags 0x0, pos ") || !strings.Contains(out, "ksize 16777215, vsize") || !strings.Contains(out, "past the page") {
		t.Errorf("bolt page --hex %s: exit %d\n%s", ids, code, out)
	}
	lines := keysJSON(t, path, "key")
	damaged := 0
	for _, l := range lines {
		if l.Kind == "damaged" {
			damaged++
			if l.Page != uint64(id) || l.Index != 3 || !strings.Contains(l.Problem, "past the page") {
				t.Errorf("damaged line %+v", l)
			}
		}
	}
	if damaged != 1 || len(lines) != len(truth.keys["key"]) {
		t.Errorf("bolt keys: %d lines, %d damaged; bbolt read %d keys before the damage", len(lines), damaged, len(truth.keys["key"]))
	}
	if out, errOut, code := run(t, "bolt", "pages", path); code != ExitOK || !warned(errOut) || !strings.Contains(out, "reachable") {
		t.Errorf("bolt pages: exit %d, %q", code, errOut)
	}
	if _, errOut, code := run(t, "bolt", "buckets", path); code != ExitOK || !warned(errOut) {
		t.Errorf("bolt buckets: exit %d, %q", code, errOut)
	}
	// The damaged page is on the descent's path, so get falls back to
	// reading the bucket: the other keys are still found, the damaged one
	// is not.
	if _, errOut, code := run(t, append([]string{"bolt", "get", path}, getArgs("key", survivor)...)...); code != ExitOK || !warned(errOut) {
		t.Errorf("bolt get of an intact key on the damaged page: exit %d, %q", code, errOut)
	}
	if _, errOut, code := run(t, append([]string{"bolt", "get", path}, getArgs("key", victim)...)...); code != ExitTrouble || !strings.Contains(errOut, "not found") {
		t.Errorf("bolt get of the damaged key: exit %d, %q", code, errOut)
	}

	unchanged()

	// A zeroed leaf: its keys are gone, the page says so, nothing fails.
	fixture.Zero(t, path, p.Offset, int64(db.PageSize))
	defer etcdtest.RequireUnchanged(t, path)()
	out, errOut, code = run(t, "bolt", "page", path, ids)
	if code != ExitOK || !strings.Contains(out, "zeroed") || !warned(errOut) {
		t.Errorf("zeroed page: exit %d, %q\n%s", code, errOut, out)
	}
	if _, _, code := run(t, "bolt", "keys", path, "key"); code != ExitOK {
		t.Errorf("bolt keys with a zeroed leaf: exit %d", code)
	}
	if _, errOut, code := run(t, append([]string{"bolt", "get", path}, getArgs("key", survivor)...)...); code != ExitTrouble || !warned(errOut[:strings.IndexByte(errOut, '\n')+1]) {
		t.Errorf("bolt get of a key on the zeroed page: exit %d, %q", code, errOut)
	}
}

// TestBoltPageFreelist decodes a persisted freelist, and nested buckets.
// etcd has neither, so the sample is first compacted by bbolt into a file
// that persists its freelist, and buckets are added.
func TestBoltPageFreelist(t *testing.T) {
	// More writes, so that the freelist holds pages, and nested buckets,
	// one inline and one with pages of its own.
	dst := persistedCopy(t, func(ddb *bolt.DB) { addNested(t, ddb) })
	checkBrowse(t, dst)

	db, err := boltfmt.Open(dst, boltfmt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fl := db.Meta().Freelist
	p, err := db.ReadPage(fl, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := boltfmt.FreelistIDs(p.Data, p.Count)
	db.Close()
	if len(want) == 0 {
		t.Fatal("the freelist is empty")
	}
	out, errOut, code := run(t, "bolt", "page", "-w", "json", "--hex", dst, strconv.FormatUint(uint64(fl), 10))
	docs := ndjson[pageDoc](t, out)
	if code != ExitOK || len(docs) != 1 || docs[0].Type != "freelist" || len(docs[0].Freelist) != len(want) || docs[0].Status != "freelist" {
		t.Fatalf("bolt page freelist %d: exit %d %s: %.500s", fl, code, errOut, out)
	}
	for i, id := range want {
		if docs[0].Freelist[i] != uint64(id) {
			t.Fatalf("freelist id %d: %d, want %d", i, docs[0].Freelist[i], id)
		}
	}
	out, _, _ = run(t, "bolt", "page", "--hex", dst, strconv.FormatUint(uint64(fl), 10))
	if !strings.Contains(out, fmt.Sprintf("freelist: %d free page", len(want))) || !strings.Contains(out, fmt.Sprintf("# free page %d", want[0])) {
		t.Errorf("bolt page freelist:\n%s", out)
	}
}

// addNested writes to db three times, so that its freelist holds pages,
// an extra bucket with a binary key and nested buckets, one inline and
// one with pages of its own.
func addNested(t *testing.T, db *bolt.DB) {
	for i := range 3 {
		err := db.Update(func(tx *bolt.Tx) error {
			x, err := tx.CreateBucketIfNotExists([]byte("extra"))
			if err != nil {
				return err
			}
			if err := x.Put([]byte{0xff, byte(i)}, []byte("binary key")); err != nil {
				return err
			}
			small, err := x.CreateBucketIfNotExists([]byte("small"))
			if err != nil {
				return err
			}
			if err := small.Put([]byte(fmt.Sprint("k", i)), []byte("v")); err != nil {
				return err
			}
			big, err := x.CreateBucketIfNotExists([]byte("big"))
			if err != nil {
				return err
			}
			for j := range 200 {
				if err := big.Put([]byte(fmt.Sprintf("key %03d-%d", j, i)), bytes.Repeat([]byte{byte(j)}, 100)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestBoltKeyText(t *testing.T) {
	rev := func(main, sub uint64, tomb bool) []byte {
		k := binary.BigEndian.AppendUint64(nil, main)
		k = append(k, '_')
		k = binary.BigEndian.AppendUint64(k, sub)
		if tomb {
			k = append(k, 't')
		}
		return k
	}
	for _, c := range []struct {
		bucket string
		key    []byte
		want   string
	}{
		{"key", rev(337, 0, false), "337_0"},
		{"key", rev(21, 4, true), "21_4t"},
		{"key", append(rev(21, 4, false), 'x'), `"\x00\x00\x00\x00\x00\x00\x00\x15_\x00\x00\x00\x00\x00\x00\x00\x04x"`},
		{"key", []byte("/not/a/revision"), `/not/a/revision`},
		{"meta", rev(2, 0, false), `"\x00\x00\x00\x00\x00\x00\x00\x02_\x00\x00\x00\x00\x00\x00\x00\x00"`},
		{"meta", []byte("term"), `term`},
		{"lease", []byte{0, 0, 0, 0, 0x7e, 0x57, 0, 2}, `"\x00\x00\x00\x00~W\x00\x02"`},
		{"x", []byte{}, `""`},
		{"x", []byte("a\"b\n"), `"a\"b\n"`},
		{"x", []byte{0xff, 'a'}, `"\xffa"`},
	} {
		if got := boltKeys.Bare(c.bucket, c.key); got != c.want {
			t.Errorf("boltKeys.Bare(%s, %x) = %s, want %s", c.bucket, c.key, got, c.want)
		}
		if c.bucket == "key" && strings.Contains(c.want, "_") && !strings.HasPrefix(c.want, `"`) {
			o := &boltGetOptions{}
			if k, err := o.parseKey(c.bucket, c.want); err != nil || !bytes.Equal(k, c.key) {
				t.Errorf("bolt get's key %s = %x, %v", c.want, k, err)
			}
		}
	}
}

// TestBoltBrowseLargeDB runs the same comparison on the db of a larger real
// etcd member, whose key bucket is three levels deep, so that bolt get
// descends through branch pages.
func TestBoltBrowseLargeDB(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a large etcd data dir")
	}
	checkBrowse(t, largeDB(t))
}

// TestBoltBrowseTruncated: a copy cut short of its high-water mark lists
// the missing ids, and every command still does its job.
func TestBoltBrowseTruncated(t *testing.T) {
	path := sampleDB(t)
	h, _ := boltSize(t, path)
	hwm := uint64(h)
	keep := hwm * 3 / 4
	fixture.Truncate(t, path, int64(keep)*4096)
	defer etcdtest.RequireUnchanged(t, path)()
	out, errOut, code := run(t, "bolt", "pages", "-w", "json", path)
	pages := ndjson[pagesLine](t, out)
	if code != ExitOK || !strings.Contains(errOut, "run etcdscope bolt check") || uint64(len(pages)) != hwm {
		t.Fatalf("bolt pages: exit %d, %d lines for high-water mark %d: %s", code, len(pages), hwm, errOut)
	}
	for _, p := range pages[keep:] {
		if p.Status != "missing" {
			t.Errorf("page %d past the end of the file: %+v", p.ID, p)
		}
	}
	for _, args := range [][]string{{"buckets"}, {"keys", "key"}, {"keys", "meta"}, {"page", "0", "1", strconv.FormatUint(keep-1, 10)}} {
		if _, errOut, code := run(t, append([]string{"bolt", args[0], path}, args[1:]...)...); code != ExitOK {
			t.Errorf("bolt %v: exit %d: %s", args, code, errOut)
		}
	}
	if _, errOut, code := run(t, "bolt", "page", path, strconv.FormatUint(keep, 10)); code != ExitTrouble || !strings.Contains(errOut, "beyond the end of the file") {
		t.Errorf("bolt page past the end: exit %d: %s", code, errOut)
	}
}

// TestBoltBrowseRandomDamage scribbles over the tree pages of copies of the
// sample db (a fixed seed, so that a failure reproduces) and runs every
// browsing command: none may panic, and each either does its job or exits
// 2 with one line.
func TestBoltBrowseRandomDamage(t *testing.T) {
	src := sampleDB(t)
	h, _ := boltSize(t, src)
	hwm := int64(h)
	ids := idArgs(h)
	seed := uint64(0x9e3779b97f4a7c15)
	rnd := func(n int64) int64 { // splitmix64
		seed += 0x9e3779b97f4a7c15
		z := seed
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		return int64((z ^ (z >> 31)) % uint64(n))
	}
	codes := map[string]int{}
	for round := range 12 {
		path := filepath.Join(t.TempDir(), "db")
		if err := os.WriteFile(path, fixture.ReadAt(t, src, 0, hwm*4096), 0o600); err != nil {
			t.Fatal(err)
		}
		for range 20 + 20*round {
			// Mostly element headers and page headers, where a byte does the
			// most damage; never the metas.
			page := 2 + rnd(hwm-2)
			off := page*4096 + rnd(int64(16+16*(1+rnd(12))))
			fixture.WriteAt(t, path, off, []byte{byte(rnd(256))})
		}
		for _, args := range [][]string{
			{"pages", "--all", path},
			append([]string{"page", "--hex", "--values", path}, ids...),
			append([]string{"page", "-w", "json", "--hex", path}, ids...),
			{"buckets", path},
			{"keys", "--values", path, "key"},
			{"keys", "-w", "json", path, "meta"},
			{"get", path, "key", "337_0"},
			{"get", "--scan", path, "meta", "term"},
		} {
			_, errOut, code := run(t, append([]string{"bolt"}, args...)...)
			codes[args[0]+" "+strconv.Itoa(code)]++
			if code == ExitTrouble && strings.Count(errOut, "\n") > 2 {
				t.Errorf("round %d: bolt %v: exit 2 with %q", round, args[0], errOut)
			}
		}
	}
	t.Logf("exit codes: %v", codes)
}

// ---- bolt check, and the fixtures of every bolt test ----

// checkJSON runs bolt check -w json and returns the report, exit code and
// the stderr of a simple run (which says which meta was used).
func checkJSON(t *testing.T, path string) (*finding.Report, int, string) {
	t.Helper()
	defer etcdtest.RequireUnchanged(t, path)()
	rep, code := reportJSON(t, path, "bolt", "check")
	_, simpleErr, _ := run(t, "bolt", "check", path)
	return rep, code, simpleErr
}

func hasFinding(r *finding.Report, code string, page uint64) bool {
	for _, f := range r.Findings {
		if f.Code == code && f.Page != nil && *f.Page == page {
			return true
		}
	}
	return false
}

// pageOf finds a page by its bucket, type and a predicate, on a clean db.
func pageOf(t *testing.T, path, bucket string, typ boltfmt.PageType, ok func(db *boltfmt.DB, id boltfmt.PageID) bool) (boltfmt.PageID, *boltfmt.DB, *boltfmt.Report) {
	t.Helper()
	db, err := boltfmt.Open(path, boltfmt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rep, err := db.Walk(boltfmt.WalkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for id := range rep.Pages() {
		if b, owned := rep.Owner(id); rep.Status(id) != boltfmt.StatusTree || !owned || b.Name() != bucket {
			continue
		}
		h, err := db.ReadHeader(id)
		if err == nil && h.HeaderID == uint64(id) && h.Type == typ && (ok == nil || ok(db, id)) {
			return id, db, rep
		}
	}
	t.Fatalf("no %s page in bucket %q", typ, bucket)
	return 0, nil, nil
}

func sampleDB(t *testing.T) string {
	dir := fixture.CopyDir(t, etcdtest.SampleDir(t))
	return filepath.Join(dir, "member", "snap", "db")
}

// largeDB copies the db of a larger real etcd member, whose key bucket is
// three levels deep.
func largeDB(t *testing.T) string {
	src := filepath.Join(etcdtest.LargeWAL(t, "3.6", 32<<20), "member", "snap", "db")
	dst := filepath.Join(t.TempDir(), "db")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dst
}

// persistedCopy has bbolt compact the sample db into a new file that
// persists its freelist (etcd never does: NoFreelistSync), calls update
// with it open, and returns its path.
func persistedCopy(t *testing.T, update func(db *bolt.DB)) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "persisted.db")
	sdb, err := bolt.Open(sampleDB(t), 0o400, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	ddb, err := bolt.Open(dst, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ddb.Close()
	if err := bolt.Compact(ddb, sdb, 1<<20); err != nil {
		t.Fatal(err)
	}
	update(ddb)
	return dst
}

func branchChildAt(t *testing.T, db *boltfmt.DB, id boltfmt.PageID, i int) int64 {
	p, err := db.ReadPage(id, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	els, err := boltfmt.BranchElements(p.Data, int(p.Count))
	if err != nil || len(els) <= i {
		t.Fatalf("branch %d: %v (%d elements)", id, err, len(els))
	}
	return p.Offset + int64(els[i].Offset) + 8
}

func TestBoltCheckCleanSample(t *testing.T) {
	rep, code, _ := checkJSON(t, sampleDB(t))
	if code != ExitOK || rep.Summary.Errors != 0 {
		t.Fatalf("exit %d, %+v", code, rep.Findings)
	}
}

func TestBoltCheckZeroedKeyLeaf(t *testing.T) {
	path := sampleDB(t)
	id, db, _ := pageOf(t, path, "key", boltfmt.LeafPage, nil)
	off := int64(id) * int64(db.PageSize)
	fixture.Zero(t, path, off, int64(db.PageSize))
	rep, code, errOut := checkJSON(t, path)
	if code != ExitFindings || !hasFinding(rep, "bolt-page-invalid", uint64(id)) {
		t.Fatalf("zeroed key leaf %d: exit %d, findings %+v", id, code, rep.Findings)
	}
	if !strings.Contains(errOut, "10 buckets") {
		t.Errorf("the rest of the db was not checked: %s", errOut)
	}
}

func TestBoltCheckMeta0Checksum(t *testing.T) {
	path := sampleDB(t)
	fixture.FlipBit(t, path, 16+48, 0) // meta 0's txid, under the checksum
	rep, code, errOut := checkJSON(t, path)
	if code != ExitFindings || !hasFinding(rep, "bolt-meta-invalid", 0) {
		t.Fatalf("exit %d, findings %+v", code, rep.Findings)
	}
	if !strings.Contains(errOut, "using meta 1") || !strings.Contains(errOut, "10 buckets") {
		t.Errorf("want a fallback to meta 1 and the tree checked: %s", errOut)
	}
	if rep.Summary.Errors != 1 {
		t.Errorf("want only the meta finding, got %+v", rep.Findings)
	}
}

func TestBoltCheckBothMetas(t *testing.T) {
	path := sampleDB(t)
	fixture.FlipBit(t, path, 16+48, 0)
	fixture.FlipBit(t, path, 4096+16+48, 0)
	rep, code, errOut := checkJSON(t, path)
	if code != ExitFindings || !hasFinding(rep, "bolt-meta-invalid", 0) || !hasFinding(rep, "bolt-meta-invalid", 1) {
		t.Fatalf("exit %d, findings %+v", code, rep.Findings)
	}
	if !strings.Contains(errOut, "10 buckets") {
		t.Errorf("the tree was not checked: %s", errOut)
	}
}

// TestBoltCheckFreelist corrupts a persisted freelist. etcd never persists
// one (NoFreelistSync), so the etcd db is first compacted by bbolt itself
// into a file that does.
func TestBoltCheckFreelist(t *testing.T) {
	dst := persistedCopy(t, func(ddb *bolt.DB) {
		// One more write so that the freelist holds pages.
		if err := ddb.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("key")).Put([]byte("x"), []byte("y")) }); err != nil {
			t.Fatal(err)
		}
	})
	rep, code, _ := checkJSON(t, dst)
	if code != ExitOK {
		t.Fatalf("compacted copy: exit %d, %+v", code, rep.Findings)
	}
	db, err := boltfmt.Open(dst, boltfmt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fl := db.Meta().Freelist
	db.Close()
	if fl == boltfmt.NoFreelist {
		t.Fatal("bbolt did not persist a freelist")
	}
	// The freelist page now claims to be a leaf.
	off := int64(fl) * 4096
	fixture.WriteAt(t, dst, off+8, binary.LittleEndian.AppendUint16(nil, uint16(boltfmt.LeafPage)))
	rep, code, errOut := checkJSON(t, dst)
	if code != ExitFindings || !hasFinding(rep, "bolt-freelist-invalid", uint64(fl)) {
		t.Fatalf("exit %d, findings %+v", code, rep.Findings)
	}
	if !strings.Contains(errOut, "10 buckets") {
		t.Errorf("the tree was not checked: %s", errOut)
	}
}

func TestBoltCheckBranchPastHWM(t *testing.T) {
	path := largeDB(t)
	id, db, _ := pageOf(t, path, "key", boltfmt.BranchPage, nil)
	fixture.PutUint64(t, path, branchChildAt(t, db, id, 1), uint64(db.HWM())+100)
	rep, code, _ := checkJSON(t, path)
	if code != ExitFindings || !hasFinding(rep, "bolt-page-invalid", uint64(id)) {
		t.Fatalf("branch %d: exit %d, findings %+v", id, code, rep.Findings)
	}
}

func TestBoltCheckBranchCycle(t *testing.T) {
	path := largeDB(t)
	// A: a branch page of the key bucket whose first child B is a branch too.
	var childB boltfmt.PageID
	a, db, _ := pageOf(t, path, "key", boltfmt.BranchPage, func(db *boltfmt.DB, id boltfmt.PageID) bool {
		p, err := db.ReadPage(id, 0, nil)
		if err != nil {
			return false
		}
		els, err := boltfmt.BranchElements(p.Data, int(p.Count))
		if err != nil || len(els) == 0 {
			return false
		}
		h, err := db.ReadHeader(els[0].Child)
		if err == nil && h.Type == boltfmt.BranchPage {
			childB = els[0].Child
			return true
		}
		return false
	})
	// B's first child now points back at A: A -> B -> A.
	fixture.PutUint64(t, path, branchChildAt(t, db, childB, 0), uint64(a))
	rep, code, _ := checkJSON(t, path)
	if code != ExitFindings || !hasFinding(rep, "bolt-page-double-use", uint64(childB)) {
		t.Fatalf("cycle %d -> %d -> %d: exit %d, findings %+v", a, childB, a, code, rep.Findings)
	}
}
