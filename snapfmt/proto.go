package snapfmt

import (
	"errors"
	"fmt"

	"github.com/etcdscope/etcdscope/internal/pbwire"
)

// Envelope is a decoded snappb.Snapshot, the whole of a .snap file
// (etcd server/etcdserver/api/snap/snappb/snap.proto):
//
//	message snapshot { optional uint32 crc = 1; optional bytes data = 2; }
//
// On-disk format; do not change. Offsets are relative to the start of the
// decoded bytes, -1 for an absent field.
type Envelope struct {
	CRC        uint32 `json:"crc"`
	CRCOffset  int64  `json:"crc_offset"` // of the crc field's tag
	Data       []byte `json:"data"`
	DataOffset int64  `json:"data_offset"` // of the data bytes, just after the field's tag and length
	DataTag    int64  `json:"data_tag"`    // of the data field's tag
}

// The protobuf messages of a .snap file are read with pbwire.Strict: as
// protobuf-go does, except that a known field with an unexpected wire type
// is an error, as in gogo protobuf, which wrote every etcd release up to
// 3.6. Errors are *pbwire.Error, whose offsets are relative to the bytes
// decoded.

// DecodeEnvelope decodes a snappb.Snapshot. As protobuf does, it keeps the
// last occurrence of a repeated scalar field. Data aliases b.
func DecodeEnvelope(b []byte) (Envelope, error) {
	e, err := decodeEnvelope(b)
	return e, wrapField(err)
}

func decodeEnvelope(b []byte) (Envelope, error) {
	e := Envelope{CRCOffset: -1, DataOffset: -1, DataTag: -1}
	err := pbwire.Walk(b, "", pbwire.Strict, func(f pbwire.Field) error {
		switch f.Num {
		case 1:
			if err := f.Uint32(&e.CRC); err != nil {
				return err
			}
			e.CRCOffset = int64(f.Off)
		case 2:
			if err := f.Bytes(&e.Data); err != nil {
				return err
			}
			e.DataOffset, e.DataTag = int64(f.ValOff), int64(f.Off)
		}
		return nil
	})
	return e, err
}

// Snapshot is a decoded raftpb.Snapshot (go.etcd.io/raft/v3 raftpb/raft.proto):
//
//	message Snapshot { optional bytes data = 1; optional SnapshotMetadata metadata = 2; }
//	message SnapshotMetadata { optional ConfState conf_state = 1; optional uint64 index = 2; optional uint64 term = 3; }
//
// On-disk format; do not change. Data, etcd's v2 store as JSON, aliases the
// decoded bytes. Offsets are relative to the decoded bytes, -1 when the
// field is absent.
type Snapshot struct {
	Data           []byte   `json:"data"`
	DataOffset     int64    `json:"data_offset"`
	Metadata       Metadata `json:"metadata"`
	MetadataOffset int64    `json:"metadata_offset"` // of the metadata field's tag
}

// Metadata is a raftpb.SnapshotMetadata.
type Metadata struct {
	ConfState ConfState `json:"conf_state"`
	Index     uint64    `json:"index"`
	Term      uint64    `json:"term"`
}

// ConfState is a raftpb.ConfState: the raft configuration at the
// snapshot, the same type as walfmt.ConfState.
type ConfState = pbwire.ConfState

// DecodeSnapshot decodes a raftpb.Snapshot. Repeated metadata fields are
// merged, as protobuf merges repeated embedded messages.
func DecodeSnapshot(b []byte) (Snapshot, error) {
	s, err := decodeSnapshot(b)
	return s, wrapField(err)
}

func decodeSnapshot(b []byte) (Snapshot, error) {
	s := Snapshot{DataOffset: -1, MetadataOffset: -1}
	err := pbwire.Walk(b, "", pbwire.Strict, func(f pbwire.Field) error {
		switch f.Num {
		case 1:
			if err := f.Bytes(&s.Data); err != nil {
				return err
			}
			s.DataOffset = int64(f.ValOff)
		case 2:
			it, ok, err := f.Message("metadata")
			if !ok {
				return err
			}
			s.MetadataOffset = int64(f.Off)
			return readMetadata(&it, &s.Metadata)
		}
		return nil
	})
	return s, err
}

// DecodeMetadata decodes a raftpb.SnapshotMetadata.
func DecodeMetadata(b []byte) (Metadata, error) {
	var m Metadata
	it := pbwire.Fields(b, "", pbwire.Strict)
	return m, wrapField(readMetadata(&it, &m))
}

func readMetadata(it *pbwire.Iter, m *Metadata) error {
	return it.Each(func(f pbwire.Field) error {
		switch f.Num {
		case 1:
			sub, ok, err := f.Message("conf_state")
			if !ok {
				return err
			}
			return pbwire.ReadConfState(&sub, &m.ConfState)
		case 2:
			return f.Uint64(&m.Index)
		case 3:
			return f.Uint64(&m.Term)
		}
		return nil
	})
}

// DecodeConfState decodes a raftpb.ConfState, accepting packed and
// unpacked repeated fields.
func DecodeConfState(b []byte) (ConfState, error) {
	var c ConfState
	it := pbwire.Fields(b, "", pbwire.Strict)
	return c, wrapField(pbwire.ReadConfState(&it, &c))
}

// wrapField turns a *pbwire.Error into an error that wraps ErrUndecodable,
// keeping the position in the text.
func wrapField(err error) error {
	var pe *pbwire.Error
	if errors.As(err, &pe) {
		return fmt.Errorf("%w: offset %#x: %v", ErrUndecodable, pe.Offset, pe)
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUndecodable, err)
	}
	return nil
}

// AppendEnvelope appends the snappb.Snapshot encoding etcd writes: crc,
// then data.
func AppendEnvelope(b []byte, crc uint32, data []byte) []byte {
	b = pbwire.AppendVarint(b, 1, uint64(crc))
	return pbwire.AppendBytes(b, 2, data)
}

// AppendSnapshot appends the raftpb.Snapshot encoding etcd writes.
func AppendSnapshot(b []byte, s Snapshot) []byte {
	if s.Data != nil {
		b = pbwire.AppendBytes(b, 1, s.Data)
	}
	m := pbwire.AppendBytes(nil, 1, pbwire.AppendConfState(nil, s.Metadata.ConfState))
	m = pbwire.AppendVarint(m, 2, s.Metadata.Index)
	m = pbwire.AppendVarint(m, 3, s.Metadata.Term)
	return pbwire.AppendBytes(b, 2, m)
}
