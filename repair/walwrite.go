package repair

import (
	"bufio"
	"os"
	"path/filepath"

	"github.com/etcdscope/etcdscope/walfmt"
)

// segWriter writes a WAL's segments, one at a time, as etcd's encoder
// does: each starts with a CRC record carrying the CRC chain so far, and
// is closed at the size it is opened with (the rest zeros, as etcd
// preallocates it) or, when it holds more, where its records end.
type segWriter struct {
	dir string
	// segBytes is where cut starts a new segment, etcd's
	// SegmentSizeBytes as the input's segments show it.
	segBytes int64
	// meta is the metadata record's data and state the last hard state
	// written: a cut writes both after its CRC record, as etcd does.
	meta  []byte
	state walfmt.HardState

	f    *os.File
	buf  *bufio.Writer
	w    *walfmt.Writer
	n    int64  // bytes written to the current segment
	size int64  // its size when closed, at least
	seq  uint64 // its sequence number
	crc  uint32 // the CRC chain at the end of the last segment closed
}

// Write counts what the walfmt.Writer writes.
func (s *segWriter) Write(b []byte) (int, error) {
	n, err := s.buf.Write(b)
	s.n += int64(n)
	return n, err
}

// open closes the current segment and starts the segment name, whose
// sequence number is seq, to be at least size bytes.
func (s *segWriter) open(name string, seq uint64, size int64) error {
	if err := s.close(); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(s.dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	s.f, s.buf, s.n, s.size, s.seq = f, bufio.NewWriterSize(f, 1<<20), 0, size, seq
	s.w, err = walfmt.NewWriter(s, s.crc)
	return err
}

// write appends a record to the current segment.
func (s *segWriter) write(t walfmt.RecordType, data []byte) error {
	return s.w.Write(t, data)
}

// writeState appends a hard state record.
func (s *segWriter) writeState(st walfmt.HardState) error {
	s.state = st
	return s.write(walfmt.StateType, walfmt.AppendHardState(nil, st))
}

// writeEntry appends an entry record and, once the segment holds
// segBytes, cuts: the segment ends there and the next one, named by the
// next sequence number and the index after index, starts with the CRC,
// metadata and hard state records (etcd's wal.cut).
func (s *segWriter) writeEntry(index uint64, data []byte) error {
	if err := s.write(walfmt.EntryType, data); err != nil {
		return err
	}
	if s.n < s.segBytes {
		return nil
	}
	s.size = 0 // a segment etcd cuts ends where its records do
	if err := s.open(walfmt.SegmentName(s.seq+1, index+1), s.seq+1, s.segBytes); err != nil {
		return err
	}
	if err := s.write(walfmt.MetadataType, s.meta); err != nil {
		return err
	}
	return s.writeState(s.state)
}

// close ends the current segment, zero-filled to its size.
func (s *segWriter) close() error {
	if s.f == nil {
		return nil
	}
	f := s.f
	s.f, s.crc = nil, s.w.CRC()
	err := s.buf.Flush()
	if err == nil {
		err = f.Truncate(max(s.size, s.n))
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// abort closes the current segment, if any, after a failure.
func (s *segWriter) abort() {
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
}

// segmentBytes is etcd's SegmentSizeBytes as segs show it: etcd cuts a
// segment once it holds that many bytes, so every segment but the last
// holds at least as many, and the last is preallocated to it.
func segmentBytes(segs []walfmt.Segment) int64 {
	if len(segs) == 0 {
		return 64 * 1000 * 1000 // etcd's default
	}
	if len(segs) == 1 {
		return max(segs[0].Size, 4096)
	}
	n := segs[0].Size
	for _, s := range segs[1 : len(segs)-1] {
		n = min(n, s.Size)
	}
	return max(n, 4096)
}

// chain is the CRC chain after the last record written.
func (s *segWriter) chain() uint32 {
	if s.w == nil {
		return s.crc
	}
	return s.w.CRC()
}
