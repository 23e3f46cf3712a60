package walfmt_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/etcdscope/etcdscope/walfmt"
)

// segBuilder writes frames the way etcd's encoder does, recording where
// each one starts, so that tests can damage them at computed offsets.
type segBuilder struct {
	b    []byte
	crc  uint32
	offs []int64
}

func (s *segBuilder) add(t walfmt.RecordType, data []byte) int64 {
	if t != walfmt.CRCType {
		s.crc = crcUpdate(s.crc, data)
	}
	off := int64(len(s.b))
	rec := walfmt.AppendRecord(nil, walfmt.Record{Type: t, CRC: s.crc, Data: data})
	pad := (8 - len(rec)%8) % 8
	w := uint64(len(rec))
	if pad > 0 {
		w |= (0x80 | uint64(pad)) << 56
	}
	s.b = binary.LittleEndian.AppendUint64(s.b, w)
	s.b = append(s.b, rec...)
	s.b = append(s.b, make([]byte, pad)...)
	s.offs = append(s.offs, off)
	return off
}

func (s *segBuilder) entry(term, index uint64, n int) int64 {
	return s.add(walfmt.EntryType, walfmt.AppendEntry(nil, walfmt.Entry{Term: term, Index: index, Data: bytes.Repeat([]byte{byte(index)}, n)}))
}

func (s *segBuilder) state(term, commit uint64) int64 {
	return s.add(walfmt.StateType, walfmt.AppendHardState(nil, walfmt.HardState{Term: term, Vote: 1, Commit: commit}))
}

func newSeg(crc uint32, nodeID uint64) *segBuilder {
	s := &segBuilder{crc: crc}
	s.add(walfmt.CRCType, nil)
	s.add(walfmt.MetadataType, walfmt.AppendMetadata(nil, walfmt.Metadata{NodeID: nodeID, ClusterID: 9}))
	return s
}

type problemAt struct {
	code string
	seg  int
	off  int64
}

func problems(t *testing.T, segs ...[]byte) []problemAt {
	t.Helper()
	var ss []walfmt.Segment
	for i, b := range segs {
		// In these tests segment i > 0 starts at entry i+1.
		index := uint64(0)
		if i > 0 {
			index = uint64(i + 1)
		}
		ss = append(ss, walfmt.Segment{Name: walfmt.SegmentName(uint64(i), index), Seq: uint64(i), Index: index, NameOK: true, Size: int64(len(b)), R: memSeg(b)})
	}
	r := walfmt.NewReader(ss, walfmt.Options{})
	var out []problemAt
	for {
		f, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range f.Problems {
			var ce *walfmt.CorruptionError
			errors.As(p, &ce)
			out = append(out, problemAt{walfmt.Code(p), f.SegmentIndex, ce.Offset})
		}
	}
}

func TestClassification(t *testing.T) {
	prealloc := func(b []byte, n int) []byte { return append(b, make([]byte, n)...) }
	cases := []struct {
		name  string
		build func() ([][]byte, []int64)
		want  func(offs []int64) []problemAt
	}{{
		name: "clean with preallocated tail",
		build: func() ([][]byte, []int64) {
			s := newSeg(0, 1)
			s.entry(1, 1, 100)
			s.state(1, 1)
			return [][]byte{prealloc(s.b, 4096)}, s.offs
		},
		want: func([]int64) []problemAt { return nil },
	}, {
		name: "torn tail: the last record's second sector is zero",
		build: func() ([][]byte, []int64) {
			s := newSeg(0, 1)
			s.entry(1, 1, 50)
			off := s.entry(1, 2, 2000)
			b := prealloc(s.b, 8192)
			sector := (off + 8 + 511) / 512 * 512
			copy(b[sector:sector+512], make([]byte, 512))
			return [][]byte{b}, s.offs
		},
		want: func(o []int64) []problemAt { return []problemAt{{"wal-torn-tail", 0, o[3]}} },
	}, {
		name: "a zeroed region inside the log, valid records after it",
		build: func() ([][]byte, []int64) {
			s := newSeg(0, 1)
			s.entry(1, 1, 40)
			s.entry(1, 2, 40)
			s.entry(1, 3, 40)
			s.state(1, 3)
			b := bytes.Clone(s.b)
			copy(b[s.offs[3]:s.offs[4]], make([]byte, s.offs[4]-s.offs[3]))
			return [][]byte{b}, s.offs
		},
		// Entry 2 is gone; the gap after it is the zeroed region's doing, not reported twice.
		want: func(o []int64) []problemAt { return []problemAt{{"wal-zeroed-region", 0, o[3]}} },
	}, {
		name: "1 to 7 non-zero bytes at the end of the last segment",
		build: func() ([][]byte, []int64) {
			s := newSeg(0, 1)
			s.entry(1, 1, 40)
			return [][]byte{append(bytes.Clone(s.b), 1, 2, 3)}, append(s.offs, int64(len(s.b)))
		},
		want: func(o []int64) []problemAt { return []problemAt{{"wal-torn-tail", 0, o[len(o)-1]}} },
	}, {
		name: "a damaged crc record does not make the rest of its segment mismatch",
		build: func() ([][]byte, []int64) {
			a := newSeg(0, 1)
			a.entry(1, 1, 40)
			b := newSeg(a.crc, 1)
			b.entry(1, 2, 40)
			b.entry(1, 3, 40)
			seg := bytes.Clone(b.b)
			seg[8+3] ^= 1 // the crc varint of the leading crc record
			return [][]byte{a.b, seg}, b.offs
		},
		want: func([]int64) []problemAt { return []problemAt{{"wal-crc-chain-break", 1, 0}} },
	}, {
		name: "metadata conflict between segments",
		build: func() ([][]byte, []int64) {
			a := newSeg(0, 1)
			a.entry(1, 1, 40)
			b := newSeg(a.crc, 2)
			b.entry(1, 2, 40)
			return [][]byte{a.b, b.b}, b.offs
		},
		want: func([]int64) []problemAt { return []problemAt{{"wal-metadata-conflict", 1, 16}} },
	}, {
		name: "an entry replaces a committed one",
		build: func() ([][]byte, []int64) {
			s := newSeg(0, 1)
			s.entry(1, 1, 40)
			s.entry(1, 2, 40)
			s.state(1, 2)
			s.entry(2, 2, 40)
			return [][]byte{s.b}, s.offs
		},
		want: func(o []int64) []problemAt { return []problemAt{{"wal-committed-overwritten", 0, o[5]}} },
	}, {
		name: "an index gap with no snapshot record",
		build: func() ([][]byte, []int64) {
			s := newSeg(0, 1)
			s.entry(1, 1, 40)
			s.entry(1, 5, 40)
			return [][]byte{s.b}, s.offs
		},
		want: func(o []int64) []problemAt { return []problemAt{{"wal-index-gap", 0, o[3]}} },
	}, {
		name: "a gap after a snapshot record is a log reset",
		build: func() ([][]byte, []int64) {
			s := newSeg(0, 1)
			s.entry(1, 1, 40)
			s.add(walfmt.SnapshotType, walfmt.AppendSnapshot(nil, walfmt.Snapshot{Index: 50, Term: 2, ConfState: &walfmt.ConfState{Voters: []uint64{1}}}))
			s.entry(2, 51, 40)
			return [][]byte{s.b}, s.offs
		},
		want: func([]int64) []problemAt { return nil },
	}, {
		name: "undecodable entry with a good crc",
		build: func() ([][]byte, []int64) {
			s := newSeg(0, 1)
			s.add(walfmt.EntryType, []byte{0xff, 0xff, 0xff})
			return [][]byte{s.b}, s.offs
		},
		want: func(o []int64) []problemAt { return []problemAt{{"wal-undecodable-entry", 0, o[2]}} },
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			segs, offs := c.build()
			got := problems(t, segs...)
			want := c.want(offs)
			if len(got) != len(want) {
				t.Fatalf("problems %v, want %v", got, want)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("problem %d: %v, want %v", i, got[i], want[i])
				}
			}
		})
	}
}

// TestEndAtZero: with EndAtZero the last segment ends at its first zero
// length word, as etcd's reader ends it: records after a zeroed region and
// garbage after the end are not read, and the tail is one KindZero frame.
func TestEndAtZero(t *testing.T) {
	s := newSeg(0, 1)
	s.entry(1, 1, 40)
	s.entry(1, 2, 40)
	s.entry(1, 3, 40)
	b := bytes.Clone(s.b)
	copy(b[s.offs[3]:s.offs[4]], make([]byte, s.offs[4]-s.offs[3])) // entry 2 zeroed
	b = append(b, make([]byte, 4096)...)
	b = append(b, 0xee) // garbage far after the end
	for _, endAtZero := range []bool{false, true} {
		seg := walfmt.Segment{Name: walfmt.SegmentName(0, 0), NameOK: true, Size: int64(len(b)), R: memSeg(b)}
		r := walfmt.NewReader([]walfmt.Segment{seg}, walfmt.Options{EndAtZero: endAtZero})
		var entries []uint64
		var nproblems int
		var last *walfmt.Frame
		for {
			f, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			nproblems += len(f.Problems)
			if f.Entry != nil {
				entries = append(entries, f.Entry.Index)
			}
			c := *f
			last = &c
		}
		switch {
		case endAtZero && (len(entries) != 1 || nproblems != 0 || last.Kind != walfmt.KindZero || last.Offset+last.Size != int64(len(b))):
			t.Errorf("EndAtZero: entries %v, %d problems, last frame %v at %d+%d", entries, nproblems, last.Kind, last.Offset, last.Size)
		case !endAtZero && (len(entries) != 2 || nproblems < 2):
			t.Errorf("without EndAtZero: entries %v, %d problems; want entry 3 after the zeroed region and the garbage found", entries, nproblems)
		}
	}
}
