package walfmt

import (
	"fmt"

	"github.com/etcdscope/etcdscope/internal/pbwire"
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

var recordTypes = enum{"type", []string{1: "metadata", 2: "entry", 3: "state", 4: "crc", 5: "snapshot"}}

func (t RecordType) String() string { return name(recordTypes, t) }

// ParseRecordType parses the names String returns.
func ParseRecordType(s string) (RecordType, bool) { return lookup[RecordType](recordTypes, s) }

// Record is a decoded walpb.Record (etcd server/storage/wal/walpb/record.proto):
//
//	message Record { optional int64 type = 1; optional uint32 crc = 2; optional bytes data = 3; }
//
// Data aliases the reader's buffer and is valid until the next call to
// [Reader.Next].
type Record struct {
	Type RecordType `json:"type"`
	CRC  uint32     `json:"crc"`
	Data []byte     `json:"data,omitempty"`
	// DataOffset is where Data starts in the record's bytes.
	DataOffset int `json:"data_offset"`
}

// DecodeRecord decodes a walpb.Record. Missing fields keep their zero value
// and any field order is accepted, as proto2 allows; unknown fields are
// skipped. It never allocates: Data aliases b.
func DecodeRecord(b []byte) (Record, error) {
	var r Record
	var typ, crc uint64
	var err error
	r.Data, r.DataOffset, err = varintsAndData(b, "Record", 3, &typ, &crc)
	r.Type, r.CRC = RecordType(int64(typ)), uint32(crc)
	if err != nil {
		return r, err
	}
	if r.Type < MetadataType || r.Type > SnapshotType {
		return r, fmt.Errorf("unknown record type %d", int64(r.Type))
	}
	return r, nil
}

// AppendRecord appends the walpb.Record encoding etcd writes (fields 1, 2, 3
// in order, type and crc always present, data only when non-nil).
func AppendRecord(b []byte, r Record) []byte {
	b = pbwire.AppendVarint(b, 1, uint64(r.Type))
	b = pbwire.AppendVarint(b, 2, uint64(r.CRC))
	if r.Data != nil {
		b = pbwire.AppendBytes(b, 3, r.Data)
	}
	return b
}
