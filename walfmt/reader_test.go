package walfmt_test

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/fixture"
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

func TestBitflipFindsTheBit(t *testing.T) {
	data := []byte("a record's data, long enough to have many positions: 0123456789abcdef")
	const seed = 0x1234abcd
	want := crcUpdate(seed, data)
	for _, c := range []struct{ j, b int }{{0, 0}, {5, 3}, {len(data) - 1, 7}, {37, 6}} {
		bad := bytes.Clone(data)
		bad[c.j] ^= 1 << c.b
		if j, b, ok := walfmt.BitflipForTest(seed, bad, want); !ok || j != c.j || b != c.b {
			t.Errorf("flip bit %d of byte %d: found bit %d of byte %d (%v)", c.b, c.j, b, j, ok)
		}
	}
	if j, b, ok := walfmt.BitflipForTest(seed, []byte("two bits differ here"), crcUpdate(seed, []byte("two bits differ hexe"))); ok {
		t.Logf("two flipped bits explained as bit %d of byte %d (a CRC collision; allowed)", b, j)
	}
}

// TestSuspectByte: one bit flipped in the data of a record of the sample's
// WAL is found: Frame.Suspect is that byte's offset in the segment and
// Frame.SuspectBit the bit.
func TestSuspectByte(t *testing.T) {
	dir := fixture.CopyDir(t, filepath.Join(etcdtest.SampleDir(t), "member", "wal"))
	segs := fixture.Segments(t, dir)
	fr := fixture.Frames(t, segs[2])
	bad := fr[len(fr)/2]
	at := bad.Offset + 8 + bad.Length - 1 // the record's last byte: its data's
	fixture.FlipBit(t, segs[2], at, 3)
	_, frames := readAllFrames(t, dir, false)
	n := 0
	for _, f := range frames {
		if f.Suspect != 0 {
			n++
			if f.Segment.Name != filepath.Base(segs[2]) || f.Offset != bad.Offset || f.Suspect != at || f.SuspectBit != 3 {
				t.Errorf("suspect bit %d of byte %s:%#x in the frame at %#x, want bit 3 of %s:%#x in the frame at %#x", f.SuspectBit, f.Segment.Name, f.Suspect, f.Offset, filepath.Base(segs[2]), at, bad.Offset)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d frames with a suspect byte, want 1", n)
	}
}

// TestBadRecordReseedsChain: a record of the sample's WAL that no longer
// decodes is the only problem. The record after it is checked against the
// CRC chain as after a CRC mismatch, not reported as a mismatch too: with
// the damaged record's stored CRC when one flipped bit explains the damage
// (the byte is then the frame's suspect), else, the chain being lost at
// that record, unchecked.
func TestBadRecordReseedsChain(t *testing.T) {
	for _, c := range []struct {
		name    string
		damage  []byte // xor into the record's first bytes
		checked bool   // whether the next record's CRC can be checked
	}{
		{"one flipped bit", []byte{0x04}, true},          // the type tag 0x08 becomes an end-group tag
		{"two damaged bytes", []byte{0x07, 0x40}, false}, // wire type 7, and the type varint changed
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := fixture.CopyDir(t, filepath.Join(etcdtest.SampleDir(t), "member", "wal"))
			segs := fixture.Segments(t, dir)
			fr := fixture.Frames(t, segs[2])
			bad := fr[len(fr)/2]
			at := bad.Offset + 8
			if b := fixture.ReadAt(t, segs[2], at, 1); b[0] != 0x08 {
				t.Fatalf("record at %#x starts with %#x, not the type tag", bad.Offset, b[0])
			}
			for i, x := range c.damage {
				b := fixture.ReadAt(t, segs[2], at+int64(i), 1)
				fixture.WriteAt(t, segs[2], at+int64(i), []byte{b[0] ^ x})
			}
			_, frames := readAllFrames(t, dir, false)
			var probs []error
			for i, f := range frames {
				probs = append(probs, f.Problems...)
				if f.Segment.Name != filepath.Base(segs[2]) || f.Offset != bad.Offset {
					continue
				}
				if f.Kind != walfmt.KindDamage {
					t.Fatalf("frame at %#x is a %v, want damage", f.Offset, f.Kind)
				}
				if want := int64(0); c.checked {
					want = at
					if f.Suspect != want || f.SuspectBit != 2 {
						t.Errorf("suspect bit %d of byte %#x, want bit 2 of %#x", f.SuspectBit, f.Suspect, want)
					}
				}
				next := frames[i+1]
				if next.Kind != walfmt.KindRecord || next.CRCOK != c.checked || next.CRCUnchecked == c.checked {
					t.Errorf("next record at %#x: kind %v, crc ok %v, unchecked %v; want its crc checked: %v",
						next.Offset, next.Kind, next.CRCOK, next.CRCUnchecked, c.checked)
				}
			}
			var ce *walfmt.CorruptionError
			if len(probs) != 1 || !errors.As(probs[0], &ce) || !errors.Is(ce, walfmt.ErrBadRecord) ||
				ce.Segment != filepath.Base(segs[2]) || ce.Offset != bad.Offset {
				t.Fatalf("problems %v, want one bad record at %s:%#x", probs, filepath.Base(segs[2]), bad.Offset)
			}
		})
	}
}
