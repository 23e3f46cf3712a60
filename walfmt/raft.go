package walfmt

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// EntryKind is raftpb.EntryType. On-disk format; do not change
// (go.etcd.io/raft/v3 raftpb/raft.proto).
type EntryKind int32

const (
	EntryNormal       EntryKind = 0
	EntryConfChange   EntryKind = 1
	EntryConfChangeV2 EntryKind = 2
)

func (k EntryKind) String() string {
	switch k {
	case EntryNormal:
		return "normal"
	case EntryConfChange:
		return "confchange"
	case EntryConfChangeV2:
		return "confchangev2"
	}
	return fmt.Sprintf("entrytype(%d)", int32(k))
}

// ParseEntryKind parses the names String returns.
func ParseEntryKind(s string) (EntryKind, bool) {
	for k := EntryNormal; k <= EntryConfChangeV2; k++ {
		if k.String() == s {
			return k, true
		}
	}
	return 0, false
}

// Entry is a raftpb.Entry. Data aliases the decoded bytes.
type Entry struct {
	Term  uint64
	Index uint64
	Type  EntryKind
	Data  []byte
}

// HardState is a raftpb.HardState.
type HardState struct {
	Term   uint64
	Vote   uint64
	Commit uint64
}

// ConfState is a raftpb.ConfState.
type ConfState struct {
	Voters         []uint64
	Learners       []uint64
	VotersOutgoing []uint64
	LearnersNext   []uint64
	AutoLeave      bool
}

// Snapshot is a walpb.Snapshot: the raft index and term of a snapshot, and
// since etcd 3.5 its ConfState (nil when absent).
type Snapshot struct {
	Index     uint64
	Term      uint64
	ConfState *ConfState
}

// Metadata is an etcdserverpb.Metadata: the member and cluster ids every
// segment repeats.
type Metadata struct {
	NodeID    uint64
	ClusterID uint64
}

// fields walks a protobuf message and calls f for each field. f receives
// the varint value for varint fields and the bytes for length-delimited
// ones; other wire types are skipped. Unknown fields are ignored.
func fields(b []byte, f func(num protowire.Number, v uint64, bs []byte, typ protowire.Type) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("%w: tag: %v", errProto, protowire.ParseError(n))
		}
		b = b[n:]
		switch typ {
		case protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return fmt.Errorf("%w: field %d: %v", errProto, num, protowire.ParseError(n))
			}
			b = b[n:]
			if err := f(num, v, nil, typ); err != nil {
				return err
			}
		case protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return fmt.Errorf("%w: field %d: %v", errProto, num, protowire.ParseError(n))
			}
			b = b[n:]
			if err := f(num, 0, v, typ); err != nil {
				return err
			}
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return fmt.Errorf("%w: field %d: %v", errProto, num, protowire.ParseError(n))
			}
			b = b[n:]
		}
	}
	return nil
}

// DecodeEntry decodes a raftpb.Entry without allocating.
func DecodeEntry(b []byte) (Entry, error) {
	var e Entry
	// Fast path: etcd writes fields 1,2,3,4 in order as single-byte tags.
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return e, fmt.Errorf("%w: entry tag: %v", errProto, protowire.ParseError(n))
		}
		b = b[n:]
		switch {
		case typ == protowire.VarintType && num >= 1 && num <= 3:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return e, fmt.Errorf("%w: entry field %d: %v", errProto, num, protowire.ParseError(n))
			}
			b = b[n:]
			switch num {
			case 1:
				e.Type = EntryKind(int32(v))
			case 2:
				e.Term = v
			case 3:
				e.Index = v
			}
		case typ == protowire.BytesType && num == 4:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return e, fmt.Errorf("%w: entry data: %v", errProto, protowire.ParseError(n))
			}
			e.Data = v
			b = b[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return e, fmt.Errorf("%w: entry field %d: %v", errProto, num, protowire.ParseError(n))
			}
			b = b[n:]
		}
	}
	return e, nil
}

// AppendEntry appends the raftpb.Entry encoding etcd writes.
func AppendEntry(b []byte, e Entry) []byte {
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(e.Type))
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, e.Term)
	b = protowire.AppendTag(b, 3, protowire.VarintType)
	b = protowire.AppendVarint(b, e.Index)
	if e.Data != nil {
		b = protowire.AppendTag(b, 4, protowire.BytesType)
		b = protowire.AppendBytes(b, e.Data)
	}
	return b
}

// DecodeHardState decodes a raftpb.HardState.
func DecodeHardState(b []byte) (HardState, error) {
	var h HardState
	err := fields(b, func(num protowire.Number, v uint64, _ []byte, typ protowire.Type) error {
		if typ != protowire.VarintType {
			return nil
		}
		switch num {
		case 1:
			h.Term = v
		case 2:
			h.Vote = v
		case 3:
			h.Commit = v
		}
		return nil
	})
	return h, err
}

// AppendHardState appends the raftpb.HardState encoding etcd writes.
func AppendHardState(b []byte, h HardState) []byte {
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, h.Term)
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, h.Vote)
	b = protowire.AppendTag(b, 3, protowire.VarintType)
	return protowire.AppendVarint(b, h.Commit)
}

// DecodeMetadata decodes an etcdserverpb.Metadata.
func DecodeMetadata(b []byte) (Metadata, error) {
	var m Metadata
	err := fields(b, func(num protowire.Number, v uint64, _ []byte, typ protowire.Type) error {
		if typ != protowire.VarintType {
			return nil
		}
		switch num {
		case 1:
			m.NodeID = v
		case 2:
			m.ClusterID = v
		}
		return nil
	})
	return m, err
}

// AppendMetadata appends an etcdserverpb.Metadata encoding.
func AppendMetadata(b []byte, m Metadata) []byte {
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, m.NodeID)
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	return protowire.AppendVarint(b, m.ClusterID)
}

// DecodeSnapshot decodes a walpb.Snapshot.
func DecodeSnapshot(b []byte) (Snapshot, error) {
	var s Snapshot
	err := fields(b, func(num protowire.Number, v uint64, bs []byte, typ protowire.Type) error {
		switch {
		case num == 1 && typ == protowire.VarintType:
			s.Index = v
		case num == 2 && typ == protowire.VarintType:
			s.Term = v
		case num == 3 && typ == protowire.BytesType:
			cs, err := DecodeConfState(bs)
			if err != nil {
				return fmt.Errorf("conf_state: %w", err)
			}
			s.ConfState = &cs
		}
		return nil
	})
	return s, err
}

// AppendSnapshot appends a walpb.Snapshot encoding.
func AppendSnapshot(b []byte, s Snapshot) []byte {
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, s.Index)
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, s.Term)
	if s.ConfState != nil {
		b = protowire.AppendTag(b, 3, protowire.BytesType)
		b = protowire.AppendBytes(b, AppendConfState(nil, *s.ConfState))
	}
	return b
}

// DecodeConfState decodes a raftpb.ConfState, accepting packed and unpacked
// repeated fields.
func DecodeConfState(b []byte) (ConfState, error) {
	var c ConfState
	err := fields(b, func(num protowire.Number, v uint64, bs []byte, typ protowire.Type) error {
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
		case 5:
			if typ == protowire.VarintType {
				c.AutoLeave = v != 0
			}
			return nil
		default:
			return nil
		}
		if typ == protowire.VarintType {
			*dst = append(*dst, v)
			return nil
		}
		for len(bs) > 0 { // packed
			x, n := protowire.ConsumeVarint(bs)
			if n < 0 {
				return fmt.Errorf("%w: packed field %d: %v", errProto, num, protowire.ParseError(n))
			}
			*dst = append(*dst, x)
			bs = bs[n:]
		}
		return nil
	})
	return c, err
}

// AppendConfState appends the unpacked raftpb.ConfState encoding gogo writes.
func AppendConfState(b []byte, c ConfState) []byte {
	for i, ids := range [][]uint64{c.Voters, c.Learners, c.VotersOutgoing, c.LearnersNext} {
		for _, id := range ids {
			b = protowire.AppendTag(b, protowire.Number(i+1), protowire.VarintType)
			b = protowire.AppendVarint(b, id)
		}
	}
	b = protowire.AppendTag(b, 5, protowire.VarintType)
	return protowire.AppendVarint(b, protowire.EncodeBool(c.AutoLeave))
}
