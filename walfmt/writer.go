package walfmt

import (
	"encoding/binary"
	"hash/crc32"
	"io"
)

// Writer writes WAL frames the way etcd's encoder does (encoder.go): a
// little-endian length word with the padding in its top byte, the record,
// zero padding to 8 bytes, and each record's CRC chained over the data of
// every record before it. It is for repair output and tests; decoders
// never write.
type Writer struct {
	w   io.Writer
	crc uint32
	buf []byte
}

// NewWriter starts a segment whose leading CRC record carries prevCRC (0
// for the first segment) and writes that record.
func NewWriter(w io.Writer, prevCRC uint32) (*Writer, error) {
	wr := &Writer{w: w, crc: prevCRC}
	return wr, wr.Write(CRCType, nil)
}

// Write appends one record of type t with data.
func (wr *Writer) Write(t RecordType, data []byte) error {
	if t != CRCType {
		wr.crc = crc32.Update(wr.crc, castagnoli, data)
	}
	if data == nil && t != CRCType {
		data = []byte{}
	}
	rec := AppendRecord(nil, Record{Type: t, CRC: wr.crc, Data: data})
	pad := (8 - len(rec)%8) % 8
	w := uint64(len(rec))
	if pad > 0 {
		w |= (0x80 | uint64(pad)) << 56
	}
	wr.buf = binary.LittleEndian.AppendUint64(wr.buf[:0], w)
	wr.buf = append(wr.buf, rec...)
	wr.buf = append(wr.buf, make([]byte, pad)...)
	_, err := wr.w.Write(wr.buf)
	return err
}

// CRC returns the running CRC, which the next segment's CRC record carries.
func (wr *Writer) CRC() uint32 { return wr.crc }
