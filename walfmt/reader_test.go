package walfmt_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/etcdscope/etcdscope/walfmt"
)

func readAllFrames(t *testing.T, dir string, clone bool) ([]walfmt.Frame, []*walfmt.Frame) {
	t.Helper()
	files, err := walfmt.OpenPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { files.Close() })
	r := walfmt.NewReader(files.Segments, walfmt.Options{BufferSize: 4096})
	var clones []walfmt.Frame
	var fresh []*walfmt.Frame
	var arena []byte
	for {
		f, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if clone {
			clones = append(clones, walfmt.Frame{})
		} else {
			// A deep copy the slow way, for comparison.
			c := *f
			c.Raw = bytes.Clone(f.Raw)
			c.Record.Data = bytes.Clone(f.Record.Data)
			if f.Entry != nil {
				e := *f.Entry
				e.Data = bytes.Clone(e.Data)
				c.Entry = &e
			}
			if f.State != nil {
				h := *f.State
				c.State = &h
			}
			c.Problems = append([]error(nil), f.Problems...)
			fresh = append(fresh, &c)
		}
	}
	if !clone {
		return nil, fresh
	}
	// Second read, cloning into a slice sized up front (CloneInto's dst
	// must stay in place).
	clones = make([]walfmt.Frame, len(clones))
	r = walfmt.NewReader(files.Segments, walfmt.Options{BufferSize: 4096})
	for i := 0; ; i++ {
		f, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		arena = f.CloneInto(&clones[i], arena)
	}
	return clones, nil
}

func TestCloneIntoOutlivesNext(t *testing.T) {
	dir := "../testdata/sample/member/wal"
	clones, _ := readAllFrames(t, dir, true)
	_, fresh := readAllFrames(t, dir, false)
	if len(clones) != len(fresh) || len(clones) < 100 {
		t.Fatalf("%d clones, %d frames", len(clones), len(fresh))
	}
	for i := range clones {
		c, f := &clones[i], fresh[i]
		if c.Offset != f.Offset || c.Kind != f.Kind || !bytes.Equal(c.Raw, f.Raw) || !bytes.Equal(c.Record.Data, f.Record.Data) {
			t.Fatalf("frame %d: clone differs from a fresh read", i)
		}
		if (c.Entry == nil) != (f.Entry == nil) || (c.Entry != nil && (c.Entry.Index != f.Entry.Index || !bytes.Equal(c.Entry.Data, f.Entry.Data))) {
			t.Fatalf("frame %d: entry differs", i)
		}
		if (c.State == nil) != (f.State == nil) || (c.State != nil && *c.State != *f.State) {
			t.Fatalf("frame %d: state differs", i)
		}
	}
}

func TestBitflipHintFindsTheBit(t *testing.T) {
	data := []byte("a record's data, long enough to have many positions: 0123456789abcdef")
	const seed = 0x1234abcd
	want := crcUpdate(seed, data)
	for _, c := range []struct{ j, b int }{{0, 0}, {5, 3}, {len(data) - 1, 7}, {37, 6}} {
		bad := bytes.Clone(data)
		bad[c.j] ^= 1 << c.b
		got := walfmt.BitflipHintForTest(seed, bad, want)
		wantText := fmt.Sprintf("; flipping bit %d of data byte %d would match", c.b, c.j)
		if got != wantText {
			t.Errorf("flip bit %d of byte %d: hint %q, want %q", c.b, c.j, got, wantText)
		}
	}
	if got := walfmt.BitflipHintForTest(seed, []byte("two bits differ here"), crcUpdate(seed, []byte("two bits differ hexe"))); got != "" && !strings.Contains(got, "flipping") {
		t.Errorf("unexpected hint %q", got)
	}
}
