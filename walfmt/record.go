package walfmt

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// RecordType is a walpb.Record type. On-disk format; do not change
// (etcd server/storage/wal/wal.go).
type RecordType int64

const (
	MetadataType RecordType = 1
	EntryType    RecordType = 2
	StateType    RecordType = 3
	CRCType      RecordType = 4
	SnapshotType RecordType = 5
)

func (t RecordType) String() string {
	switch t {
	case MetadataType:
		return "metadata"
	case EntryType:
		return "entry"
	case StateType:
		return "state"
	case CRCType:
		return "crc"
	case SnapshotType:
		return "snapshot"
	}
	return fmt.Sprintf("type(%d)", int64(t))
}

// ParseRecordType parses the names String returns.
func ParseRecordType(s string) (RecordType, bool) {
	for t := MetadataType; t <= SnapshotType; t++ {
		if t.String() == s {
			return t, true
		}
	}
	return 0, false
}

// Record is a decoded walpb.Record (etcd server/storage/wal/walpb/record.proto):
//
//	message Record { optional int64 type = 1; optional uint32 crc = 2; optional bytes data = 3; }
//
// Data aliases the reader's buffer and is valid until the next call to
// [Reader.Next].
type Record struct {
	Type RecordType
	CRC  uint32
	Data []byte
	// DataOffset is where Data starts in the record's bytes.
	DataOffset int
}

// errProto is wrapped by every protobuf decoding error of this package.
var errProto = errors.New("bad protobuf")

// DecodeRecord decodes a walpb.Record. Missing fields keep their zero value
// and any field order is accepted, as proto2 allows; unknown fields are
// skipped. It never allocates: Data aliases b.
func DecodeRecord(b []byte) (Record, error) {
	var r Record
	all := len(b)
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return r, fmt.Errorf("%w: record tag: %v", errProto, protowire.ParseError(n))
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return r, fmt.Errorf("%w: record type: %v", errProto, protowire.ParseError(n))
			}
			r.Type = RecordType(int64(v))
			b = b[n:]
		case num == 2 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return r, fmt.Errorf("%w: record crc: %v", errProto, protowire.ParseError(n))
			}
			r.CRC = uint32(v)
			b = b[n:]
		case num == 3 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return r, fmt.Errorf("%w: record data: %v", errProto, protowire.ParseError(n))
			}
			r.Data, r.DataOffset = v, all-len(b)+n-len(v)
			b = b[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return r, fmt.Errorf("%w: record field %d: %v", errProto, num, protowire.ParseError(n))
			}
			b = b[n:]
		}
	}
	if r.Type < MetadataType || r.Type > SnapshotType {
		return r, fmt.Errorf("unknown record type %d", int64(r.Type))
	}
	return r, nil
}

// AppendRecord appends the walpb.Record encoding etcd writes (fields 1, 2, 3
// in order, type and crc always present, data only when non-nil).
func AppendRecord(b []byte, r Record) []byte {
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(r.Type))
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(r.CRC))
	if r.Data != nil {
		b = protowire.AppendTag(b, 3, protowire.BytesType)
		b = protowire.AppendBytes(b, r.Data)
	}
	return b
}
