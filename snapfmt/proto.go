package snapfmt

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// Envelope is a decoded snappb.Snapshot, the whole of a .snap file
// (etcd server/etcdserver/api/snap/snappb/snap.proto):
//
//	message snapshot { optional uint32 crc = 1; optional bytes data = 2; }
//
// On-disk format; do not change. Offsets are relative to the start of the
// decoded bytes, -1 for an absent field.
type Envelope struct {
	CRC        uint32
	CRCOffset  int64 // of the crc field's tag
	Data       []byte
	DataOffset int64 // of the data bytes, just after the field's tag and length
	DataTag    int64 // of the data field's tag
}

// fieldError is a protobuf problem at a position, relative to the bytes
// being decoded.
type fieldError struct {
	off    int64
	detail string
}

func (e *fieldError) Error() string { return fmt.Sprintf("offset %#x: %s", e.off, e.detail) }

func errAt(off int64, format string, args ...any) *fieldError {
	return &fieldError{off: off, detail: fmt.Sprintf(format, args...)}
}

// walk calls f for each field of the protobuf message b: num, wire type,
// the varint value (varint fields), the bytes (length-delimited fields),
// the offset of the tag and the offset of the value. A known field (known
// reports which) with an unexpected wire type is an error, as in gogo
// protobuf, which wrote every etcd release up to 3.6. Unknown fields are
// skipped. It never allocates.
func walk(b []byte, known func(protowire.Number) (protowire.Type, bool),
	f func(num protowire.Number, v uint64, bs []byte, tagOff, valOff int64) error) error {
	var off int64
	for int(off) < len(b) {
		rest := b[off:]
		num, typ, n := protowire.ConsumeTag(rest)
		if n < 0 {
			return errAt(off, "bad field tag: %v", protowire.ParseError(n))
		}
		want, isKnown := known(num)
		if isKnown && typ != want {
			return errAt(off, "field %d has wire type %s, want %s", num, wireName(typ), wireName(want))
		}
		val := off + int64(n)
		rest = rest[n:]
		switch {
		case isKnown && typ == protowire.VarintType:
			v, m := protowire.ConsumeVarint(rest)
			if m < 0 {
				return errAt(off, "field %d: truncated varint", num)
			}
			if err := f(num, v, nil, off, val); err != nil {
				return err
			}
			off = val + int64(m)
		case isKnown && typ == protowire.BytesType:
			l, m := protowire.ConsumeVarint(rest)
			if m < 0 {
				return errAt(off, "field %d: truncated length", num)
			}
			if l > uint64(len(rest)-m) {
				return errAt(off, "field %d: length %d runs past the end (%d bytes left)", num, l, len(rest)-m)
			}
			bs := rest[m : m+int(l)]
			if err := f(num, 0, bs, off, val+int64(m)); err != nil {
				return err
			}
			off = val + int64(m) + int64(l)
		default:
			m := protowire.ConsumeFieldValue(num, typ, rest)
			if m < 0 {
				return errAt(off, "unknown field %d: %v", num, protowire.ParseError(m))
			}
			off = val + int64(m)
		}
	}
	return nil
}

func wireName(t protowire.Type) string {
	switch t {
	case protowire.VarintType:
		return "varint"
	case protowire.Fixed32Type:
		return "fixed32"
	case protowire.Fixed64Type:
		return "fixed64"
	case protowire.BytesType:
		return "bytes"
	case protowire.StartGroupType:
		return "start-group"
	case protowire.EndGroupType:
		return "end-group"
	}
	return fmt.Sprintf("wiretype(%d)", int8(t))
}

func knownFields(types ...protowire.Type) func(protowire.Number) (protowire.Type, bool) {
	return func(n protowire.Number) (protowire.Type, bool) {
		if n >= 1 && int(n) <= len(types) {
			return types[n-1], true
		}
		return 0, false
	}
}

var (
	envelopeFields = knownFields(protowire.VarintType, protowire.BytesType)
	snapshotFields = knownFields(protowire.BytesType, protowire.BytesType)
	metadataFields = knownFields(protowire.BytesType, protowire.VarintType, protowire.VarintType)
)

// DecodeEnvelope decodes a snappb.Snapshot. As protobuf does, it keeps the
// last occurrence of a repeated scalar field. Data aliases b.
func DecodeEnvelope(b []byte) (Envelope, error) {
	e, err := decodeEnvelope(b)
	return e, wrapField(err)
}

func decodeEnvelope(b []byte) (Envelope, error) {
	e := Envelope{CRCOffset: -1, DataOffset: -1, DataTag: -1}
	err := walk(b, envelopeFields, func(num protowire.Number, v uint64, bs []byte, tagOff, valOff int64) error {
		switch num {
		case 1:
			e.CRC, e.CRCOffset = uint32(v), tagOff
		case 2:
			e.Data, e.DataOffset, e.DataTag = bs, valOff, tagOff
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
	Data           []byte
	DataOffset     int64
	Metadata       Metadata
	MetadataOffset int64 // of the metadata field's tag
}

// Metadata is a raftpb.SnapshotMetadata.
type Metadata struct {
	ConfState ConfState
	Index     uint64
	Term      uint64
}

// ConfState is a raftpb.ConfState: the raft configuration at the snapshot.
type ConfState struct {
	Voters         []uint64
	Learners       []uint64
	VotersOutgoing []uint64
	LearnersNext   []uint64
	AutoLeave      bool
}

// DecodeSnapshot decodes a raftpb.Snapshot. Repeated metadata fields are
// merged, as protobuf merges repeated embedded messages.
func DecodeSnapshot(b []byte) (Snapshot, error) {
	s, err := decodeSnapshot(b)
	return s, wrapField(err)
}

func decodeSnapshot(b []byte) (Snapshot, error) {
	s := Snapshot{DataOffset: -1, MetadataOffset: -1}
	err := walk(b, snapshotFields, func(num protowire.Number, _ uint64, bs []byte, tagOff, valOff int64) error {
		switch num {
		case 1:
			s.Data, s.DataOffset = bs, valOff
		case 2:
			s.MetadataOffset = tagOff
			if err := decodeMetadataInto(&s.Metadata, bs); err != nil {
				if fe, ok := err.(*fieldError); ok {
					return errAt(valOff+fe.off, "metadata: %s", fe.detail)
				}
				return err
			}
		}
		return nil
	})
	return s, err
}

// DecodeMetadata decodes a raftpb.SnapshotMetadata.
func DecodeMetadata(b []byte) (Metadata, error) {
	var m Metadata
	return m, wrapField(decodeMetadataInto(&m, b))
}

func decodeMetadataInto(m *Metadata, b []byte) error {
	return walk(b, metadataFields, func(num protowire.Number, v uint64, bs []byte, _, valOff int64) error {
		switch num {
		case 1:
			if err := decodeConfStateInto(&m.ConfState, bs); err != nil {
				if fe, ok := err.(*fieldError); ok {
					return errAt(valOff+fe.off, "conf_state: %s", fe.detail)
				}
				return err
			}
		case 2:
			m.Index = v
		case 3:
			m.Term = v
		}
		return nil
	})
}

// DecodeConfState decodes a raftpb.ConfState, accepting packed and
// unpacked repeated fields.
func DecodeConfState(b []byte) (ConfState, error) {
	var c ConfState
	return c, wrapField(decodeConfStateInto(&c, b))
}

func decodeConfStateInto(c *ConfState, b []byte) error {
	// Repeated fields may be packed (bytes) or not (varint), so the wire
	// type is checked here rather than by walk.
	var off int64
	for int(off) < len(b) {
		rest := b[off:]
		num, typ, n := protowire.ConsumeTag(rest)
		if n < 0 {
			return errAt(off, "bad field tag: %v", protowire.ParseError(n))
		}
		rest = rest[n:]
		var dst *[]uint64
		switch num {
		case 1:
			dst = &c.Voters
		case 2:
			dst = &c.Learners
		case 3:
			dst = &c.VotersOutgoing
		case 4:
			dst = &c.LearnersNext
		}
		switch {
		case num >= 1 && num <= 5 && typ == protowire.VarintType:
			v, m := protowire.ConsumeVarint(rest)
			if m < 0 {
				return errAt(off, "field %d: truncated varint", num)
			}
			if num == 5 {
				c.AutoLeave = v != 0
			} else {
				*dst = append(*dst, v)
			}
			off += int64(n + m)
		case num >= 1 && num <= 4 && typ == protowire.BytesType: // packed
			bs, m := protowire.ConsumeBytes(rest)
			if m < 0 {
				return errAt(off, "field %d: packed length runs past the end", num)
			}
			for len(bs) > 0 {
				v, k := protowire.ConsumeVarint(bs)
				if k < 0 {
					return errAt(off, "field %d: truncated packed varint", num)
				}
				*dst = append(*dst, v)
				bs = bs[k:]
			}
			off += int64(n + m)
		case num >= 1 && num <= 5:
			return errAt(off, "field %d has wire type %s", num, wireName(typ))
		default:
			m := protowire.ConsumeFieldValue(num, typ, rest)
			if m < 0 {
				return errAt(off, "unknown field %d: %v", num, protowire.ParseError(m))
			}
			off += int64(n + m)
		}
	}
	return nil
}

// wrapField turns a *fieldError into an error that wraps ErrUndecodable,
// keeping the position in the text.
func wrapField(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %v", ErrUndecodable, err)
}

// AppendEnvelope appends the snappb.Snapshot encoding etcd writes: crc,
// then data.
func AppendEnvelope(b []byte, crc uint32, data []byte) []byte {
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(crc))
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	return protowire.AppendBytes(b, data)
}

// AppendSnapshot appends the raftpb.Snapshot encoding etcd writes.
func AppendSnapshot(b []byte, s Snapshot) []byte {
	if s.Data != nil {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendBytes(b, s.Data)
	}
	var m []byte
	m = protowire.AppendTag(m, 1, protowire.BytesType)
	m = protowire.AppendBytes(m, appendConfState(nil, s.Metadata.ConfState))
	m = protowire.AppendTag(m, 2, protowire.VarintType)
	m = protowire.AppendVarint(m, s.Metadata.Index)
	m = protowire.AppendTag(m, 3, protowire.VarintType)
	m = protowire.AppendVarint(m, s.Metadata.Term)
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	return protowire.AppendBytes(b, m)
}

func appendConfState(b []byte, c ConfState) []byte {
	for i, ids := range [][]uint64{c.Voters, c.Learners, c.VotersOutgoing, c.LearnersNext} {
		for _, id := range ids {
			b = protowire.AppendTag(b, protowire.Number(i+1), protowire.VarintType)
			b = protowire.AppendVarint(b, id)
		}
	}
	b = protowire.AppendTag(b, 5, protowire.VarintType)
	return protowire.AppendVarint(b, protowire.EncodeBool(c.AutoLeave))
}
