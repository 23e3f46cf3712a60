package boltfmt_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	xgolden "github.com/charmbracelet/x/exp/golden"

	"github.com/etcdscope/etcdscope/boltfmt"
)

// angleKeys is a KeyFormatter that gives the keys of bucket a a form of
// their own.
func angleKeys(bucket string, k []byte) (string, bool) {
	if bucket != "a" {
		return "", false
	}
	return "<" + string(k) + ">", true
}

func TestKeyFormatter(t *testing.T) {
	var none boltfmt.KeyFormatter
	own := boltfmt.KeyFormatter(angleKeys)
	for _, c := range []struct {
		f           boltfmt.KeyFormatter
		bucket, key string
		bare, quote string
	}{
		{none, "a", "k1", "k1", `"k1"`},
		{none, "a", "k\x00", `"k\x00"`, `"k\x00"`},
		{own, "a", "k1", "<k1>", "<k1>"},
		{own, "b", "k1", "k1", `"k1"`},
		{own, "", "", `""`, `""`},
	} {
		if got := c.f.Bare(c.bucket, []byte(c.key)); got != c.bare {
			t.Errorf("Bare(%q, %q) = %s, want %s", c.bucket, c.key, got, c.bare)
		}
		if got := c.f.Quote(c.bucket, []byte(c.key)); got != c.quote {
			t.Errorf("Quote(%q, %q) = %s, want %s", c.bucket, c.key, got, c.quote)
		}
	}
}

// damagedSmall is smallDB with a leaf element of bucket a running past its
// page, the inline bucket's page header saying it is a branch, and the
// page after the root zeroed.
func damagedSmall(t *testing.T) []byte {
	img := smallDB(t)
	db, rep := walkBytes(t, img)
	var elem, inline, zero int
	for id := range rep.Pages() {
		p, err := db.ReadPage(id, 0, nil)
		b, _ := rep.Owner(id)
		if err != nil || b == nil || p.HeaderID != uint64(id) || p.Type != boltfmt.LeafPage {
			continue
		}
		els, _ := boltfmt.LeafElements(p.Data, int(p.Count))
		for _, e := range els {
			if e.IsBucket() && binary.LittleEndian.Uint64(e.Value) == 0 && len(e.Value) > boltfmt.BucketHeaderLen && inline == 0 {
				inline = int(p.Offset) + e.Offset + int(e.Pos) + int(e.KSize) + boltfmt.BucketHeaderLen + 8
			}
		}
		if b.Name() == "a" && p.Count > 4 && elem == 0 {
			elem = int(p.Offset) + boltfmt.PageHeaderSize + 2*boltfmt.ElementSize + 8
		}
		if b.IsRoot() && zero == 0 {
			zero = int(p.Offset) + db.PageSize
		}
	}
	if elem == 0 || inline == 0 || zero == 0 {
		t.Fatalf("smallDB has no leaf of a, inline bucket or root leaf (%d, %d, %d)", elem, inline, zero)
	}
	img = slices.Clone(img)
	binary.LittleEndian.PutUint32(img[elem:], 1<<24)
	binary.LittleEndian.PutUint16(img[inline:], uint16(boltfmt.BranchPage))
	clear(img[zero : zero+db.PageSize])
	return img
}

// describeText is what bolt page prints, in text, table rows and JSON,
// with values, of the first page of each kind, type and status in img (the
// root bucket's apart) and of every page below the high-water mark with a
// problem.
func describeText(t *testing.T, img []byte) string {
	db, rep := walkBytes(t, img)
	var b strings.Builder
	seen := map[string]bool{}
	for _, l := range describeAll(t, db, rep, boltfmt.DescribeOptions{Key: angleKeys, Values: true}) {
		kind := fmt.Sprint(l.Kind, l.Status, l.Bucket != nil && l.Bucket.IsRoot())
		if l.Kind == boltfmt.KindHeader {
			kind += l.Type.String()
		}
		if seen[kind] && (l.Status == boltfmt.StatusBeyondHWM || !damaged(l.Problems, l.Elements)) {
			continue
		}
		seen[kind] = true
		l.Describe(&b)
		hdr, rows := l.ElementRows()
		if len(rows) > 0 {
			fmt.Fprintf(&b, "rows: %s\n", strings.Join(hdr, " | "))
			for _, r := range rows {
				fmt.Fprintf(&b, "      %s\n", strings.Join(r, " | "))
			}
		}
		j, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "json: %s\n\n", j)
	}
	return b.String()
}

// damaged reports whether a layout, or an element or inline bucket of
// it, has a problem.
func damaged(problems []error, els []boltfmt.ElementLayout) bool {
	if len(problems) > 0 {
		return true
	}
	for _, e := range els {
		if e.Problem != nil || e.Bucket != nil && damaged(e.Bucket.Problems, e.Bucket.Elements) {
			return true
		}
	}
	return false
}

// TestDescribe compares with golden files what bolt page prints of the
// pages of a small db (1 KiB pages: nested, inline and empty inline
// buckets, an overflowing value, a persisted freelist) and of a damaged
// copy; -update rewrites them.
func TestDescribe(t *testing.T) {
	t.Run("small", func(t *testing.T) { xgolden.RequireEqual(t, describeText(t, smallDB(t))) })
	t.Run("damaged", func(t *testing.T) { xgolden.RequireEqual(t, describeText(t, damagedSmall(t))) })
}

// TestDescribeHex checks the annotated hex and what the JSON carries of
// it: the bytes and annotations in offset order with Annotate only, and
// with a limit only the annotations that start in the bytes shown.
func TestDescribeHex(t *testing.T) {
	db, rep := walkBytes(t, smallDB(t))
	for _, annotate := range []bool{false, true} {
		l, err := db.DescribePage(rep, 0, boltfmt.DescribeOptions{Annotate: annotate})
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Data        []byte               `json:"data"`
			Annotations []boltfmt.Annotation `json:"annotations"`
		}
		j, _ := json.Marshal(l)
		if err := json.Unmarshal(j, &doc); err != nil {
			t.Fatal(err)
		}
		if annotate != bytes.Equal(doc.Data, l.Data) || annotate != (len(doc.Annotations) > 0) || !slices.Equal(doc.Annotations, l.Annotations) {
			t.Errorf("Annotate %v: JSON with %d bytes, %d annotations", annotate, len(doc.Data), len(doc.Annotations))
		}
		if !slices.IsSortedFunc(l.Annotations, func(a, b boltfmt.Annotation) int { return a.Offset - b.Offset }) {
			t.Errorf("annotations out of order: %+v", l.Annotations)
		}
		if !annotate {
			continue
		}
		all, head := l.Hex(0).String(), l.Hex(32).String()
		for _, s := range []string{"# page id 0", "# magic 0xed0cdaed", "# checksum "} {
			if !strings.Contains(all, s) {
				t.Errorf("Hex(0) has no %q:\n%s", s, all)
			}
		}
		if strings.Count(all, "\n") <= strings.Count(head, "\n") || !strings.Contains(head, "# magic 0xed0cdaed") || strings.Contains(head, "# checksum ") {
			t.Errorf("Hex(32):\n%s", head)
		}
	}
}

// listingText is what bolt info, pages, buckets, keys and get print of
// img, each as the rows and the JSON the listing types give.
func listingText(t *testing.T, img []byte) string {
	db, rep := walkBytes(t, img)
	var b strings.Builder
	line := func(cells []string) { fmt.Fprintf(&b, "%s\n", strings.Join(cells, " | ")) }
	record := func(row []string, text, j []byte) {
		line(row)
		b.Write(text)
		b.Write(append(j, '\n'))
	}
	marshal := func(v any) {
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s\n", j)
	}

	b.WriteString("== info\n")
	info := db.Info()
	info.Describe(&b, "small.db")
	hdr, rows := info.Rows()
	for _, r := range append([][]string{hdr}, rows...) {
		line(r)
	}
	marshal(info)

	b.WriteString("== pages --all\n")
	line(boltfmt.PageColumns())
	err := db.ListPages(rep, boltfmt.ListOptions{All: true}, func(p *boltfmt.PageEntry) error {
		record(p.Row(), nil, p.AppendJSON(nil))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	b.WriteString("== buckets\n")
	buckets := rep.BucketsByPath()
	hdr, rows = boltfmt.BucketRows(buckets)
	for _, r := range append([][]string{hdr}, rows...) {
		line(r)
	}
	marshal(buckets)

	// The keys of a (the big value's only as its size), and of the small
	// buckets with their values too, in text and in hex.
	for _, k := range []boltfmt.KeyEntry{{Bucket: "a", Key: angleKeys}, {Bucket: "a/nested", Values: true},
		{Bucket: "a/nested", Values: true, Hex: true}, {Bucket: "inline", Key: angleKeys, Values: true}} {
		fmt.Fprintf(&b, "== keys %s (values %v, hex %v)\n", k.Bucket, k.Values, k.Hex)
		line(k.Columns())
		_, err := db.Walk(boltfmt.WalkOptions{Bucket: strings.Split(k.Bucket, "/"), Leaf: func(bi *boltfmt.BucketInfo, page boltfmt.PageID, e *boltfmt.LeafElement) bool {
			if bi.Name() == k.Bucket && !e.IsBucket() {
				k.Page, k.Element = page, e
				record(k.Row(), k.AppendText(nil), k.AppendJSON(nil))
			}
			return true
		}})
		if err != nil {
			t.Fatal(err)
		}
	}

	b.WriteString("== get inline one\n")
	f, err := db.Lookup([]string{"inline"}, []byte("one"), boltfmt.LookupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	marshal(f)
	return b.String()
}

// TestListing compares with golden files what the listings give of a
// small db and of a damaged copy; -update rewrites them.
func TestListing(t *testing.T) {
	t.Run("small", func(t *testing.T) { xgolden.RequireEqual(t, listingText(t, smallDB(t))) })
	t.Run("damaged", func(t *testing.T) { xgolden.RequireEqual(t, listingText(t, damagedSmall(t))) })
}

// TestListPagesTruncated lists a file cut short of its high-water mark:
// every id below it, in order, those past the end as missing, without a
// header.
func TestListPagesTruncated(t *testing.T) {
	img := sampleImage(t)
	full, _ := walkBytes(t, img)
	keep := int(full.HWM()) * 3 / 4
	db, rep := walkBytes(t, img[:keep*full.PageSize])
	var ids []boltfmt.PageID
	err := db.ListPages(rep, boltfmt.ListOptions{}, func(p *boltfmt.PageEntry) error {
		ids = append(ids, p.ID)
		missing := p.ID >= boltfmt.PageID(keep)
		if missing != (p.Status == boltfmt.StatusMissing) || p.Offset != int64(p.ID)*int64(db.PageSize) ||
			missing && (p.Row()[1] != "-" || !strings.Contains(string(p.AppendJSON(nil)), `"type":"-","status":"missing"`)) {
			t.Errorf("page %d of %d kept: %+v, row %q", p.ID, keep, p, p.Row())
		}
		return nil
	})
	if err != nil || len(ids) != int(rep.HWM) || !slices.IsSorted(ids) {
		t.Errorf("%d ids listed for high-water mark %d, %v", len(ids), rep.HWM, err)
	}
}
