package inspect

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"

	"github.com/etcdscope/etcdscope/walfmt"
)

// This file reads a WAL the way etcd's own code does when it starts:
// its decoder (server/storage/wal/decoder.go: a zero length word ends a
// segment, the torn-write test only on the last one, the CRC chain),
// ReadAll's checks of each record, ValidSnapshotEntries over every
// segment, and Repair over the last. walfmt's reader goes on past damage
// to find everything; this one stops where etcd stops, so that inspect
// can say what etcd will do.

// endKind is how etcd's decoder stopped.
type endKind int

const (
	endEOF        endKind = iota // io.EOF: the end of the last segment, or a zero length word in it
	endUnexpected                // io.ErrUnexpectedEOF: a torn write etcd's Repair may truncate
	endError                     // any other error: etcd exits
)

// walStop is where and why etcd's reading of a WAL stopped.
type walStop struct {
	kind endKind
	seg  int   // the segment read last (an index into the segments read)
	off  int64 // the offset of the frame that stopped it, or for endEOF the end of the last good frame
	msg  string
	// lastIndex is the last entry read, state the last hard state.
	lastIndex uint64
	commit    uint64
	snaps     []walfmt.Snapshot // snapshot records, in log order
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// etcdDecoder follows etcd's decoder over segs.
type etcdDecoder struct {
	v    string // etcd's minor version: 3.5's errors carry no position
	segs []walfmt.Segment
	seg  int
	off  int64 // etcd's lastValidOff in segs[seg]
	crc  uint32
	buf  []byte // the last frame's body, reused
}

// next decodes the next record as etcd's decodeRecord does: ok with the
// record, or how decoding ended.
func (d *etcdDecoder) next() (rec walfmt.Record, ok bool, kind endKind, msg string) {
	for {
		if d.seg >= len(d.segs) {
			return rec, false, endEOF, ""
		}
		s := d.segs[d.seg]
		r := io.NewSectionReader(s.R, 0, s.Size) // a segment's Size may be cut short
		var word [8]byte
		n, _ := r.ReadAt(word[:], d.off)
		l := binary.LittleEndian.Uint64(word[:])
		if n == 0 || (n == 8 && l == 0) {
			if d.seg == len(d.segs)-1 {
				return rec, false, endEOF, ""
			}
			d.seg, d.off = d.seg+1, 0
			continue
		}
		if n < 8 {
			return rec, false, endUnexpected, "unexpected EOF"
		}
		recBytes, padBytes := int64(l&^(0xff<<56)), int64(0)
		if l>>63 == 1 {
			padBytes = int64((l >> 56) & 0x7)
		}
		if limit := s.Size - d.off - padBytes; recBytes > limit {
			return rec, false, endUnexpected, fmt.Sprintf("unexpected EOF: [wal] max entry size limit exceeded when reading %q, recBytes: %d", s.Name, recBytes)
		}
		if int64(cap(d.buf)) < recBytes+padBytes {
			d.buf = make([]byte, recBytes+padBytes) // bounded above by the segment's size
		}
		data := d.buf[:recBytes+padBytes]
		if m, _ := r.ReadAt(data, d.off+8); int64(m) < recBytes+padBytes {
			return rec, false, endUnexpected, "unexpected EOF"
		}
		rec, err := walfmt.DecodeRecord(data[:recBytes])
		if err != nil && !strings.HasPrefix(err.Error(), "unknown record type") {
			if d.torn(data) {
				return rec, false, endUnexpected, "unexpected EOF"
			}
			return rec, false, endError, "proto: " + err.Error()
		}
		if rec.Type != walfmt.CRCType {
			d.crc = crc32.Update(d.crc, castagnoli, rec.Data)
			if d.crc != rec.CRC {
				if d.torn(data) {
					return rec, false, endUnexpected, fmt.Sprintf("unexpected EOF: in file '%s' at position: %d", s.Name, d.off)
				}
				if d.v < "3.6" {
					return rec, false, endError, "walpb: crc mismatch"
				}
				return rec, false, endError, fmt.Sprintf("walpb: crc mismatch: expected: %x computed: %x: in file '%s' at position: %d", rec.CRC, d.crc, s.Name, d.off)
			}
		}
		d.off += 8 + recBytes + padBytes
		return rec, true, endEOF, ""
	}
}

// torn is etcd's isTornEntry: on the last segment only, a frame body with
// a 512-byte file sector that is all zeros.
func (d *etcdDecoder) torn(data []byte) bool {
	if d.seg != len(d.segs)-1 {
		return false
	}
	fileOff := d.off + 8
	for cur := 0; cur < len(data); {
		n := int(512 - fileOff%512)
		n = min(n, len(data)-cur)
		zero := true
		for _, b := range data[cur : cur+n] {
			if b != 0 {
				zero = false
				break
			}
		}
		if zero {
			return true
		}
		fileOff += int64(n)
		cur += n
	}
	return false
}

// readAll reads segs as etcd's ReadAll does from the snapshot start
// (index and term; 0, 0 from the beginning), checking what it checks:
// the CRC records, metadata, entry continuity, the start snapshot's term.
// validOnly reads as ValidSnapshotEntries does, entries unread.
func readAll(v string, segs []walfmt.Segment, start walfmt.Snapshot, validOnly bool) walStop {
	d := &etcdDecoder{v: v, segs: segs}
	st := walStop{lastIndex: start.Index}
	var meta []byte
	for {
		lastSeg, lastOff := d.seg, d.off
		rec, ok, kind, msg := d.next()
		if !ok {
			st.kind, st.msg, st.seg, st.off = kind, msg, min(d.seg, len(segs)-1), d.off
			return st
		}
		if m := checkRecord(&st, rec, start, &meta, validOnly, d); m != "" {
			st.kind, st.msg, st.seg, st.off = endError, m, lastSeg, lastOff
			return st
		}
	}
}

// checkRecord applies one record as ReadAll (or ValidSnapshotEntries)
// does; it returns etcd's error for a record it refuses.
func checkRecord(st *walStop, rec walfmt.Record, start walfmt.Snapshot, meta *[]byte, validOnly bool, d *etcdDecoder) string {
	switch rec.Type {
	case walfmt.EntryType:
		if validOnly {
			return ""
		}
		e, err := walfmt.DecodeEntry(rec.Data)
		if err != nil {
			return "panic: unmarshal entry: " + err.Error()
		}
		if e.Index > start.Index {
			if e.Index-start.Index-1 > st.lastIndex-start.Index {
				return fmt.Sprintf("wal: slice bounds out of range, snapshot[Index: %d, Term: %d], current entry[Index: %d, Term: %d]", start.Index, start.Term, e.Index, e.Term)
			}
			st.lastIndex = e.Index
		}
	case walfmt.StateType:
		if s, err := walfmt.DecodeHardState(rec.Data); err == nil {
			st.commit = s.Commit
		}
	case walfmt.MetadataType:
		if *meta != nil && string(*meta) != string(rec.Data) {
			return "wal: conflicting metadata found"
		}
		*meta = append([]byte(nil), rec.Data...)
	case walfmt.CRCType:
		if d.crc != 0 && d.crc != rec.CRC {
			return "walpb: crc mismatch"
		}
		d.crc = rec.CRC
	case walfmt.SnapshotType:
		s, err := walfmt.DecodeSnapshot(rec.Data)
		if err != nil {
			return "panic: unmarshal snapshot: " + err.Error()
		}
		if !validOnly && s.Index == start.Index && s.Term != start.Term {
			return "wal: snapshot mismatch"
		}
		st.snaps = append(st.snaps, s)
	default:
		if !validOnly {
			return fmt.Sprintf("unexpected block type %d", int64(rec.Type))
		}
	}
	return ""
}

// repairLast is etcd's wal.Repair on the last segment: it decodes it
// alone with a fresh decoder and, when that ends in an unexpected EOF,
// truncates the segment at the frame that failed (keeping a .broken
// copy). It reports the offset it truncates at, or ok false when Repair
// fails (or finds nothing to cut).
func repairLast(v string, last walfmt.Segment) (off int64, ok bool) {
	d := &etcdDecoder{v: v, segs: []walfmt.Segment{last}}
	for {
		rec, ok, kind, _ := d.next()
		switch {
		case !ok && kind == endUnexpected:
			return d.off, true
		case !ok:
			return 0, false // an error, or io.EOF: Repair changes nothing
		case rec.Type == walfmt.CRCType:
			if d.crc != 0 && d.crc != rec.CRC {
				return 0, false
			}
			d.crc = rec.CRC
		}
	}
}

// nonZeroAfter reports whether any byte of s from off on is not zero.
func nonZeroAfter(s walfmt.Segment, off int64) bool {
	buf := make([]byte, 64<<10)
	for off < s.Size {
		n, err := s.R.ReadAt(buf[:min(int64(len(buf)), s.Size-off)], off)
		for _, b := range buf[:n] {
			if b != 0 {
				return true
			}
		}
		if n == 0 || (err != nil && !errors.Is(err, io.EOF)) {
			return false
		}
		off += int64(n)
	}
	return false
}
