package boltfmt_test

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/etcdscope/etcdscope/boltfmt"
)

// describeAll lays out every page of a file, with annotations, and fails
// on an error or an annotation outside the bytes read.
func describeAll(t *testing.T, db *boltfmt.DB, rep *boltfmt.Report, opts boltfmt.DescribeOptions) []*boltfmt.PageLayout {
	t.Helper()
	var ids []boltfmt.PageID
	for id := range db.FilePages() {
		ids = append(ids, id)
	}
	var out []*boltfmt.PageLayout
	err := db.DescribePages(rep, ids, opts, func(l *boltfmt.PageLayout) error {
		if l.ID != ids[len(out)] {
			t.Fatalf("layout %d is of page %d", len(out), l.ID)
		}
		for _, a := range l.Annotations {
			if a.Offset < 0 || a.Length < 0 || a.Offset+a.Length > len(l.Data) || a.Text == "" {
				t.Errorf("page %d: annotation %+v outside its %d bytes", l.ID, a, len(l.Data))
			}
		}
		out = append(out, l)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// hasAnnotation reports whether the layout names a range at off whose text
// starts with prefix.
func hasAnnotation(l *boltfmt.PageLayout, off int, prefix string) bool {
	for _, a := range l.Annotations {
		if a.Offset == off && strings.HasPrefix(a.Text, prefix) {
			return true
		}
	}
	return false
}

// TestDescribeSample lays out every page of the sample's db and checks each
// kind of page it holds against the walk and the element decoders.
func TestDescribeSample(t *testing.T) {
	db, rep := walkBytes(t, sampleImage(t))
	var keyed []string
	opts := boltfmt.DescribeOptions{Annotate: true, Key: func(bucket string, k []byte) (string, bool) {
		keyed = append(keyed, bucket)
		return "<" + string(k) + ">", true
	}}
	kinds := map[boltfmt.PageKind]int{}
	for _, l := range describeAll(t, db, rep, opts) {
		kinds[l.Kind]++
		if l.Status != rep.Status(l.ID) {
			t.Errorf("page %d: status %s, the walk says %s", l.ID, l.Status, rep.Status(l.ID))
		}
		if b, _ := rep.Owner(l.ID); l.Bucket != b {
			t.Errorf("page %d: bucket %v, the walk says %v", l.ID, l.Bucket, b)
		}
		switch {
		case l.ID < 2:
			if l.Kind != boltfmt.KindHeader || l.Meta == nil || !l.Meta.Valid() || l.MetaActive != (int(l.ID) == db.Active) ||
				!hasAnnotation(l, boltfmt.PageHeaderSize, "magic 0xed0cdaed") || !hasAnnotation(l, boltfmt.PageHeaderSize+56, "checksum ") {
				t.Errorf("meta page %d: %+v", l.ID, l)
			}
		case l.Kind == boltfmt.KindOverflow:
			if l.Start.Start >= l.ID || l.Start.Overflow == 0 || len(l.Data) != db.PageSize || len(l.Problems) > 0 {
				t.Errorf("overflow page %d: of %d, %d bytes, %v", l.ID, l.Start.Start, len(l.Data), l.Problems)
			}
		case l.Kind == boltfmt.KindZeroed || l.Kind == boltfmt.KindNoHeader:
			if len(l.Problems) != 1 || l.Elements != nil || !hasAnnotation(l, 0, "not a page header") {
				t.Errorf("page %d without a header: %v, %d elements", l.ID, l.Problems, len(l.Elements))
			}
		case l.Type == boltfmt.LeafPage && l.Status == boltfmt.StatusTree:
			checkLeafLayout(t, l)
		}
		if !l.Short && l.Kind == boltfmt.KindHeader && len(l.Data) != (1+int(l.Overflow))*db.PageSize && l.ID >= 2 && l.ID < rep.HWM {
			t.Errorf("page %d with overflow %d: %d bytes read", l.ID, l.Overflow, len(l.Data))
		}
	}
	// The sample holds reachable leaves with overflow, and freed pages
	// whose first bytes are no header.
	if kinds[boltfmt.KindOverflow] == 0 || kinds[boltfmt.KindNoHeader]+kinds[boltfmt.KindZeroed] == 0 {
		t.Errorf("page kinds %v", kinds)
	}
	if !slices.Contains(keyed, "key") || !slices.Contains(keyed, "") {
		t.Errorf("the key formatter was called for buckets %q", slices.Compact(slices.Sorted(slices.Values(keyed))))
	}

	// Without Annotate, the same decoding and no annotations.
	for _, l := range describeAll(t, db, rep, boltfmt.DescribeOptions{}) {
		if l.Annotations != nil {
			t.Fatalf("page %d: annotations without Annotate", l.ID)
		}
	}
}

// checkLeafLayout compares a reachable leaf's layout with LeafElements,
// and its bucket entries with DecodeBucket.
func checkLeafLayout(t *testing.T, l *boltfmt.PageLayout) {
	t.Helper()
	els, err := boltfmt.LeafElements(l.Data, int(l.Count))
	if err != nil || len(els) != len(l.Elements) || len(l.Problems) > 0 {
		t.Fatalf("leaf %d: %d elements laid out, %d decoded (%v), problems %v", l.ID, len(l.Elements), len(els), err, l.Problems)
	}
	for i, e := range l.Elements {
		d := els[i]
		if e.Branch || e.Index != i || e.Offset != d.Offset || !bytes.Equal(e.Key, d.Key) || !bytes.Equal(e.Value, d.Value) || e.Problem != nil {
			t.Fatalf("leaf %d element %d: %+v, decoded %+v", l.ID, i, e, d)
		}
		if e.KeyBucket != l.Bucket.Name() || !hasAnnotation(l, e.Offset, "leaf element ") {
			t.Errorf("leaf %d element %d: bucket %q, the page's is %q", l.ID, i, e.KeyBucket, l.Bucket.Name())
		}
		if !d.IsBucket() {
			if e.Bucket != nil || !hasAnnotation(l, e.Offset+int(e.Pos), "key ") {
				t.Errorf("leaf %d element %d: %+v", l.ID, i, e)
			}
			continue
		}
		b, err := boltfmt.DecodeBucket(d.Value)
		if err != nil || e.Bucket == nil || e.Bucket.Root != b.Root || e.Bucket.Inline != (b.Root == 0) || len(e.Bucket.Problems) > 0 {
			t.Fatalf("leaf %d bucket entry %d: %+v, decoded %+v, %v", l.ID, i, e.Bucket, b, err)
		}
		if b.Root != 0 {
			continue
		}
		_, count, _ := boltfmt.InlineHeader(b.Inline)
		inner, _ := boltfmt.LeafElements(b.Inline, int(count))
		if e.Bucket.Count != count || len(e.Bucket.Elements) != len(inner) {
			t.Fatalf("leaf %d inline bucket %s: count %d, %d elements, decoded %d", l.ID, d.Key, e.Bucket.Count, len(e.Bucket.Elements), len(inner))
		}
		name := strings.TrimPrefix(l.Bucket.Name()+"/"+string(d.Key), "/")
		for j, ie := range e.Bucket.Elements {
			if !bytes.Equal(ie.Key, inner[j].Key) || ie.KeyBucket != name || !bytes.Equal(l.Data[ie.Offset:ie.Offset+boltfmt.ElementSize], b.Inline[inner[j].Offset:][:boltfmt.ElementSize]) {
				t.Errorf("leaf %d inline bucket %s element %d: %+v", l.ID, name, j, ie)
			}
		}
	}
}

// TestDescribeDamage lays out pages whose header or elements are wrong:
// every problem is said, and what can be decoded still is.
func TestDescribeDamage(t *testing.T) {
	img := sampleImage(t)
	db, rep := walkBytes(t, img)
	var leaf, over boltfmt.PageID // a leaf of the key bucket, with and without overflow
	for id := range rep.Pages() {
		h, err := db.ReadHeader(id)
		if b, _ := rep.Owner(id); err != nil || b == nil || b.Name() != "key" || h.HeaderID != uint64(id) || h.Type != boltfmt.LeafPage {
			continue
		}
		if h.Overflow == 0 && h.Count > 4 && leaf == 0 {
			leaf = id
		}
		if h.Overflow > 0 && over == 0 {
			over = id
		}
	}
	if leaf == 0 || over == 0 {
		t.Fatalf("no leaf (%d) or overflowing leaf (%d) in the key bucket", leaf, over)
	}
	bad := slices.Clone(img)
	off := int(leaf) * db.PageSize
	le := func(at int, v uint64, n int) {
		for i := range n {
			bad[at+i] = byte(v >> (8 * i))
		}
	}
	le(off, uint64(leaf)+1000, 8)                                    // the header names another page
	le(off+boltfmt.PageHeaderSize+2*boltfmt.ElementSize+8, 1<<24, 4) // element 2's ksize runs past the page
	// The overflowing leaf is cut short: the file ends inside it.
	cut := bad[:int(over+1)*db.PageSize]
	db, err := boltfmt.New(bytes.NewReader(cut), int64(len(cut)), boltfmt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, rep = walkBytes(t, cut)

	l, err := db.DescribePage(rep, leaf, boltfmt.DescribeOptions{Annotate: true})
	if err != nil {
		t.Fatal(err)
	}
	if l.Kind != boltfmt.KindHeader || len(l.Problems) != 1 || !strings.Contains(l.Problems[0].Error(), "a stale or misplaced page") ||
		!hasAnnotation(l, 0, "page id ") || len(l.Elements) != int(l.Count) {
		t.Fatalf("leaf %d with another id: %v, %d elements", leaf, l.Problems, len(l.Elements))
	}
	for i, e := range l.Elements {
		if (i == 2) != (e.Problem != nil) || (i == 2) != (e.Key == nil) {
			t.Errorf("element %d: key %q, problem %v", i, e.Key, e.Problem)
		}
	}
	if !hasAnnotation(l, boltfmt.PageHeaderSize+2*boltfmt.ElementSize, "leaf element 2: flags 0x0, pos ") {
		t.Errorf("element 2's header is not named: %+v", l.Annotations)
	}

	l, err = db.DescribePage(rep, over, boltfmt.DescribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Data) != db.PageSize || len(l.Problems) != 1 || !strings.Contains(l.Problems[0].Error(), "runs past the end of the file") {
		t.Errorf("leaf %d cut short: %d bytes, %v", over, len(l.Data), l.Problems)
	}
	if _, err := db.DescribePage(rep, db.FilePages(), boltfmt.DescribeOptions{}); err == nil {
		t.Error("a page past the end of the file: no error")
	}
}

// TestDescribeFreelist lays out the freelist bbolt persists, and stops
// when fn returns an error.
func TestDescribeFreelist(t *testing.T) {
	img, err := os.ReadFile(cursorDB(t))
	if err != nil {
		t.Fatal(err)
	}
	db, rep := walkBytes(t, img)
	fl := db.Meta().Freelist
	p, err := db.ReadPage(fl, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := boltfmt.FreelistIDs(p.Data, p.Count)
	if err != nil || len(want) == 0 {
		t.Fatalf("freelist page %d: %d ids, %v", fl, len(want), err)
	}
	l, err := db.DescribePage(rep, fl, boltfmt.DescribeOptions{Annotate: true})
	if err != nil || l.Status != boltfmt.StatusFreelist || !slices.Equal(l.Freelist, want) || len(l.Problems) > 0 {
		t.Fatalf("freelist page %d: %s, %v, %v", fl, l.Status, l.Freelist, err)
	}
	if len(want) <= 64 && !hasAnnotation(l, boltfmt.PageHeaderSize, "free page ") || len(want) > 64 && !hasAnnotation(l, boltfmt.PageHeaderSize, "") {
		t.Errorf("freelist ids not named: %+v", l.Annotations)
	}
	stop := errors.New("stop")
	calls := 0
	err = db.DescribePages(rep, []boltfmt.PageID{0, 1, fl}, boltfmt.DescribeOptions{}, func(*boltfmt.PageLayout) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("DescribePages after fn's error: %v, %d calls", err, calls)
	}
}
