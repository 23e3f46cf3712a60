package walfmt

import (
	"encoding/json"
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/etcdscope/etcdscope/internal/pbwire"
)

// EntryKind is raftpb.EntryType. On-disk format; do not change
// (go.etcd.io/raft/v3 raftpb/raft.proto).
type EntryKind int32

const (
	EntryNormal       EntryKind = 0
	EntryConfChange   EntryKind = 1
	EntryConfChangeV2 EntryKind = 2
)

var entryKinds = enum{"entrytype", []string{"normal", "confchange", "confchangev2"}}

func (k EntryKind) String() string { return name(entryKinds, k) }

// ParseEntryKind parses the names String returns.
func ParseEntryKind(s string) (EntryKind, bool) { return lookup[EntryKind](entryKinds, s) }

// Entry is a raftpb.Entry. Data aliases the decoded bytes.
type Entry struct {
	Term  uint64    `json:"term"`
	Index uint64    `json:"index"`
	Type  EntryKind `json:"type"`
	Data  []byte    `json:"data,omitempty"`
}

// HardState is a raftpb.HardState. Its JSON gives the vote, a member id,
// in 16 hex digits.
type HardState struct {
	Term   uint64
	Vote   uint64
	Commit uint64
}

// ConfState is a raftpb.ConfState, the same type as snapfmt.ConfState.
type ConfState = pbwire.ConfState

// Snapshot is a walpb.Snapshot: the raft index and term of a snapshot, and
// since etcd 3.5 its ConfState (nil when absent).
type Snapshot struct {
	Index     uint64     `json:"index"`
	Term      uint64     `json:"term"`
	ConfState *ConfState `json:"conf_state,omitempty"`
}

// Metadata is an etcdserverpb.Metadata: the member and cluster ids every
// segment repeats. Its JSON gives them in 16 hex digits.
type Metadata struct {
	NodeID    uint64
	ClusterID uint64
}

// MarshalJSON writes the vote as a member id.
func (h HardState) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Term   uint64       `json:"term"`
		Vote   pbwire.HexID `json:"vote"`
		Commit uint64       `json:"commit"`
	}{h.Term, pbwire.HexID(h.Vote), h.Commit})
}

// MarshalJSON writes the ids in hex.
func (m Metadata) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		NodeID    pbwire.HexID `json:"node_id"`
		ClusterID pbwire.HexID `json:"cluster_id"`
	}{pbwire.HexID(m.NodeID), pbwire.HexID(m.ClusterID)})
}

// errProto is wrapped by every protobuf decoding error of this package.
var errProto = errors.New("bad protobuf")

// protoError wraps a decoding error of pbwire in errProto.
func protoError(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %w", errProto, err)
}

// The records and raft payloads are read as protobuf-go reads them
// (pbwire.Proto): a known field with another wire type is skipped.

// DecodeEntry decodes a raftpb.Entry without allocating.
func DecodeEntry(b []byte) (Entry, error) {
	var e Entry
	var typ uint64
	var err error
	e.Data, _, err = varintsAndData(b, "Entry", 4, &typ, &e.Term, &e.Index)
	e.Type = EntryKind(int32(typ))
	return e, err
}

// varintsAndData decodes, without allocating, a message of varint fields
// 1, 2, ... (into the uint64s vs point to) and one bytes field, number
// data, as walpb.Record and raftpb.Entry are: it returns that field's
// bytes, with the capacity of b (by which [Frame.CloneInto] finds them in
// a record), and their offset in b.
func varintsAndData(b []byte, msg string, data protowire.Number, vs ...*uint64) ([]byte, int, error) {
	var d []byte
	var off int
	it := pbwire.Fields(b, msg, pbwire.Proto) // a loop, not pbwire.Walk: it does not escape
	for it.Next() {
		switch f := it.Field(); {
		case f.Num == data && f.Type == protowire.BytesType:
			d, off = f.B, f.ValOff
		case f.Num >= 1 && int(f.Num) <= len(vs) && f.Type == protowire.VarintType:
			*vs[f.Num-1] = f.V
		}
	}
	return d, off, protoError(it.Err())
}

// AppendEntry appends the raftpb.Entry encoding etcd writes.
func AppendEntry(b []byte, e Entry) []byte {
	b = pbwire.AppendVarint(b, 1, uint64(e.Type))
	b = pbwire.AppendVarint(b, 2, e.Term)
	b = pbwire.AppendVarint(b, 3, e.Index)
	if e.Data != nil {
		b = pbwire.AppendBytes(b, 4, e.Data)
	}
	return b
}

// DecodeHardState decodes a raftpb.HardState.
func DecodeHardState(b []byte) (HardState, error) {
	var h HardState
	return h, protoError(pbwire.Varints(b, "HardState", pbwire.Proto, &h.Term, &h.Vote, &h.Commit))
}

// AppendHardState appends the raftpb.HardState encoding etcd writes.
func AppendHardState(b []byte, h HardState) []byte {
	b = pbwire.AppendVarint(b, 1, h.Term)
	b = pbwire.AppendVarint(b, 2, h.Vote)
	return pbwire.AppendVarint(b, 3, h.Commit)
}

// DecodeMetadata decodes an etcdserverpb.Metadata.
func DecodeMetadata(b []byte) (Metadata, error) {
	var m Metadata
	return m, protoError(pbwire.Varints(b, "Metadata", pbwire.Proto, &m.NodeID, &m.ClusterID))
}

// AppendMetadata appends an etcdserverpb.Metadata encoding.
func AppendMetadata(b []byte, m Metadata) []byte {
	b = pbwire.AppendVarint(b, 1, m.NodeID)
	return pbwire.AppendVarint(b, 2, m.ClusterID)
}

// DecodeSnapshot decodes a walpb.Snapshot.
func DecodeSnapshot(b []byte) (Snapshot, error) {
	var s Snapshot
	err := pbwire.Walk(b, "Snapshot", pbwire.Proto, func(f pbwire.Field) error {
		switch f.Num {
		case 1:
			return f.Uint64(&s.Index)
		case 2:
			return f.Uint64(&s.Term)
		case 3:
			var cs ConfState
			it, ok, err := f.Message("conf_state")
			if ok {
				if err = pbwire.ReadConfState(&it, &cs); err == nil {
					s.ConfState = &cs
				}
			}
			return err
		}
		return nil
	})
	return s, protoError(err)
}

// AppendSnapshot appends a walpb.Snapshot encoding.
func AppendSnapshot(b []byte, s Snapshot) []byte {
	b = pbwire.AppendVarint(b, 1, s.Index)
	b = pbwire.AppendVarint(b, 2, s.Term)
	if s.ConfState != nil {
		b = pbwire.AppendBytes(b, 3, AppendConfState(nil, *s.ConfState))
	}
	return b
}

// DecodeConfState decodes a raftpb.ConfState, accepting packed and unpacked
// repeated fields.
func DecodeConfState(b []byte) (ConfState, error) {
	var c ConfState
	it := pbwire.Fields(b, "ConfState", pbwire.Proto)
	return c, protoError(pbwire.ReadConfState(&it, &c))
}

// AppendConfState appends the unpacked raftpb.ConfState encoding gogo writes.
func AppendConfState(b []byte, c ConfState) []byte { return pbwire.AppendConfState(b, c) }
