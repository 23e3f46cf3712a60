package replay

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"go.etcd.io/raft/v3"

	"github.com/etcdscope/etcdscope/walfmt"
)

// TestWALStorage: the raft storage over the committed sample member's WAL
// hands out the entries walfmt reads, honours raft's bounds and size
// limit, and refuses a WAL that changed under it.
func TestWALStorage(t *testing.T) {
	files, err := walfmt.OpenPath(filepath.Join("..", "testdata", "sample", "member", "wal"))
	if err != nil {
		t.Fatal(err)
	}
	defer files.Close()
	l, err := readLog(files.Segments, false)
	if err != nil {
		t.Fatal(err)
	}
	if l.first != 1 || len(l.refs) < 100 {
		t.Fatalf("log from %d, %d entries", l.first, len(l.refs))
	}
	want := map[uint64]walfmt.Entry{}
	r := walfmt.NewReader(files.Segments, walfmt.Options{})
	for {
		f, err := r.Next()
		if err != nil {
			break
		}
		if f.Entry != nil {
			e := *f.Entry
			e.Data = bytes.Clone(e.Data)
			want[e.Index] = e // a later entry with the same index replaces it
		}
	}

	st := &walStorage{segs: l.segs, refs: l.refs, hs: l.hs}
	last, _ := st.LastIndex()
	if first, _ := st.FirstIndex(); first != 1 || last != uint64(len(l.refs)) {
		t.Fatalf("first %d last %d", first, last)
	}
	for lo := uint64(1); lo <= last; {
		ents, err := st.Entries(lo, last+1, 4096)
		if err != nil {
			t.Fatal(err)
		}
		if len(ents) == 0 {
			t.Fatalf("no entries from %d", lo)
		}
		for _, e := range ents {
			w := want[e.GetIndex()]
			if e.GetIndex() != lo || e.GetTerm() != w.Term || uint64(e.GetType()) != uint64(w.Type) || !bytes.Equal(e.GetData(), w.Data) {
				t.Fatalf("entry %d: got index %d term %d, want term %d", lo, e.GetIndex(), e.GetTerm(), w.Term)
			}
			if tm, err := st.Term(lo); err != nil || tm != w.Term {
				t.Fatalf("Term(%d) = %d, %v", lo, tm, err)
			}
			lo++
		}
	}
	if _, err := st.Term(last + 1); !errors.Is(err, raft.ErrUnavailable) {
		t.Errorf("Term past the end: %v", err)
	}
	if _, err := st.Entries(0, 2, 1<<20); !errors.Is(err, raft.ErrCompacted) {
		t.Errorf("Entries from 0: %v", err)
	}
	if _, err := st.Entries(1, last+2, 1<<20); err == nil {
		t.Error("Entries past the end: no error")
	}

	// The same refs over a WAL whose bytes changed since they were taken.
	seg := files.Segments[l.refs[0].seg]
	b, err := os.ReadFile(filepath.Join("..", "testdata", "sample", "member", "wal", seg.Name))
	if err != nil {
		t.Fatal(err)
	}
	for i := range b[l.refs[0].off:] {
		b[l.refs[0].off+int64(i)] = 0
	}
	changed := *st
	changed.segs = append([]walfmt.Segment(nil), l.segs...)
	changed.segs[l.refs[0].seg].R = bytes.NewReader(b)
	if _, err := changed.Entries(1, 2, 1<<20); err == nil {
		t.Error("entries read from a changed WAL")
	}
}
