package walfmt_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/etcdscope/etcdscope/walfmt"
)

// seedSegments adds the first bytes of every committed sample segment.
func seedSegments(f *testing.F) {
	segs, _ := filepath.Glob("../testdata/sample/member/wal/*.wal")
	for _, p := range segs {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[:min(len(b), 8192)])
	}
	f.Add(buildSegment(nil))
	f.Add([]byte{})
	f.Add(make([]byte, 7))
	f.Add(bytes.Repeat([]byte{0xff}, 64))
}

// buildSegment makes a small valid segment: CRC, metadata, snapshot, a few
// entries and a hard state, then the given tail.
func buildSegment(tail []byte) []byte {
	var b []byte
	var crc uint32
	add := func(t walfmt.RecordType, data []byte) {
		if t != walfmt.CRCType {
			crc = crcUpdate(crc, data)
		}
		rec := walfmt.AppendRecord(nil, walfmt.Record{Type: t, CRC: crc, Data: data})
		pad := (8 - len(rec)%8) % 8
		w := uint64(len(rec))
		if pad > 0 {
			w |= (0x80 | uint64(pad)) << 56
		}
		b = binary.LittleEndian.AppendUint64(b, w)
		b = append(b, rec...)
		b = append(b, make([]byte, pad)...)
	}
	add(walfmt.CRCType, nil)
	add(walfmt.MetadataType, walfmt.AppendMetadata(nil, walfmt.Metadata{NodeID: 0x1234, ClusterID: 0x5678}))
	add(walfmt.SnapshotType, walfmt.AppendSnapshot(nil, walfmt.Snapshot{}))
	for i := uint64(1); i <= 5; i++ {
		add(walfmt.EntryType, walfmt.AppendEntry(nil, walfmt.Entry{Term: 2, Index: i, Data: bytes.Repeat([]byte{byte(i)}, int(i*7))}))
	}
	add(walfmt.StateType, walfmt.AppendHardState(nil, walfmt.HardState{Term: 2, Vote: 1, Commit: 5}))
	return append(b, tail...)
}

type memSeg []byte

func (m memSeg) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(m)) {
		return 0, io.EOF
	}
	n := copy(p, m[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// checkFrames reads every frame of the segments and checks the reader's
// guarantees: no panic, frames tile each segment exactly, offsets within
// [0, size], allocation bounded by the input.
func checkFrames(t *testing.T, segs []walfmt.Segment) {
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	var total int64
	for _, s := range segs {
		total += s.Size
	}
	r := walfmt.NewReader(segs, walfmt.Options{BufferSize: 4096})
	next := make([]int64, len(segs))
	n := 0
	for {
		f, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		n++
		if n > int(total)+4*len(segs)+4 {
			t.Fatalf("more frames (%d) than bytes", n)
		}
		if f.Offset != next[f.SegmentIndex] {
			t.Fatalf("frame at %#x, want %#x (frames must tile the segment)", f.Offset, next[f.SegmentIndex])
		}
		if f.Offset < 0 || f.Size < 0 || f.Offset+f.Size > f.Segment.Size {
			t.Fatalf("frame [%#x,+%d) outside segment of %d bytes", f.Offset, f.Size, f.Segment.Size)
		}
		if f.Kind == walfmt.KindRecord && f.Size != 8+f.Length+f.Pad {
			t.Fatalf("record size %d != 8+%d+%d", f.Size, f.Length, f.Pad)
		}
		for _, p := range f.Problems {
			var ce *walfmt.CorruptionError
			if !errors.As(p, &ce) {
				t.Fatalf("problem %v is not a CorruptionError", p)
			}
			if ce.Offset < 0 || ce.Offset > f.Segment.Size {
				t.Fatalf("problem offset %#x outside [0,%d]", ce.Offset, f.Segment.Size)
			}
			if walfmt.Code(p) == "wal-internal" {
				t.Fatalf("problem without a code: %v", p)
			}
		}
		next[f.SegmentIndex] = f.Offset + f.Size
	}
	for i, s := range segs {
		if next[i] != s.Size {
			t.Fatalf("segment %d: frames end at %#x, size %d", i, next[i], s.Size)
		}
	}
	runtime.ReadMemStats(&ms1)
	if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc > uint64(16*total)+8<<20 {
		t.Fatalf("allocated %d bytes reading %d bytes", alloc, total)
	}
}

func FuzzReader(f *testing.F) {
	seedSegments(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		checkFrames(t, []walfmt.Segment{{Name: walfmt.SegmentName(0, 0), NameOK: true, Size: int64(len(b)), R: memSeg(b)}})
		if _, err := walfmt.ScanOverwrites([]walfmt.Segment{{Name: walfmt.SegmentName(0, 0), NameOK: true, Size: int64(len(b)), R: memSeg(b)}}); err != nil {
			t.Fatalf("ScanOverwrites: %v", err)
		}
		// The same bytes as the second of two segments.
		first := buildSegment(nil)
		checkFrames(t, []walfmt.Segment{
			{Name: walfmt.SegmentName(0, 0), NameOK: true, Size: int64(len(first)), R: memSeg(first)},
			{Name: walfmt.SegmentName(1, 6), NameOK: true, Seq: 1, Index: 6, Size: int64(len(b)), R: memSeg(b)},
		})
	})
}

func FuzzPayloads(f *testing.F) {
	f.Add(walfmt.AppendEntry(nil, walfmt.Entry{Term: 3, Index: 9, Type: walfmt.EntryConfChange, Data: []byte("x")}))
	f.Add(walfmt.AppendHardState(nil, walfmt.HardState{Term: 1, Vote: 2, Commit: 3}))
	f.Add(walfmt.AppendSnapshot(nil, walfmt.Snapshot{Index: 5, Term: 2, ConfState: &walfmt.ConfState{Voters: []uint64{1, 2}, AutoLeave: true}}))
	f.Add(walfmt.AppendMetadata(nil, walfmt.Metadata{NodeID: 1, ClusterID: 2}))
	f.Add(walfmt.AppendRecord(nil, walfmt.Record{Type: walfmt.EntryType, CRC: 7, Data: []byte{1, 2}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := walfmt.DecodeRecord(b); err == nil {
			back, err := walfmt.DecodeRecord(walfmt.AppendRecord(nil, r))
			if err != nil || back.Type != r.Type || back.CRC != r.CRC || !bytes.Equal(back.Data, r.Data) {
				t.Fatalf("record does not round-trip: %+v -> %+v, %v", r, back, err)
			}
		}
		if e, err := walfmt.DecodeEntry(b); err == nil {
			back, err := walfmt.DecodeEntry(walfmt.AppendEntry(nil, e))
			if err != nil || back.Index != e.Index || back.Term != e.Term || back.Type != e.Type || !bytes.Equal(back.Data, e.Data) {
				t.Fatalf("entry does not round-trip: %+v -> %+v, %v", e, back, err)
			}
		}
		if h, err := walfmt.DecodeHardState(b); err == nil {
			if back, _ := walfmt.DecodeHardState(walfmt.AppendHardState(nil, h)); back != h {
				t.Fatalf("hard state does not round-trip: %+v -> %+v", h, back)
			}
		}
		if s, err := walfmt.DecodeSnapshot(b); err == nil {
			if back, err := walfmt.DecodeSnapshot(walfmt.AppendSnapshot(nil, s)); err != nil || back.Index != s.Index || back.Term != s.Term || (back.ConfState == nil) != (s.ConfState == nil) {
				t.Fatalf("snapshot does not round-trip: %+v -> %+v, %v", s, back, err)
			}
		}
		_, _ = walfmt.DecodeMetadata(b)
		_, _ = walfmt.DecodeConfState(b)
	})
}

func crcUpdate(crc uint32, b []byte) uint32 {
	return crc32.Update(crc, crc32.MakeTable(crc32.Castagnoli), b)
}
