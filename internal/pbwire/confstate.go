package pbwire

import (
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// ConfState is a raftpb.ConfState (go.etcd.io/raft/v3 raftpb/raft.proto),
// the raft configuration that both a WAL snapshot record (walpb.Snapshot)
// and a .snap file (raftpb.SnapshotMetadata) carry: walfmt.ConfState and
// snapfmt.ConfState are this type.
//
//	message ConfState { repeated uint64 voters = 1; repeated uint64 learners = 2;
//	  repeated uint64 voters_outgoing = 3; repeated uint64 learners_next = 4; optional bool auto_leave = 5; }
//
// On-disk format; do not change.
type ConfState struct {
	Voters         []uint64
	Learners       []uint64
	VotersOutgoing []uint64
	LearnersNext   []uint64
	AutoLeave      bool
}

// A HexID is a member, cluster or lease id in JSON and text: 16
// lower-case hex digits, as etcd's logs and etcdctl member list print
// them.
type HexID uint64

func (id HexID) MarshalText() ([]byte, error) { return fmt.Appendf(nil, "%016x", uint64(id)), nil }

func (id HexID) String() string { return fmt.Sprintf("%016x", uint64(id)) }

// HexIDs is ids as [HexID]s; it is never nil, so an empty list is [] in
// JSON.
func HexIDs(v []uint64) []HexID {
	out := make([]HexID, len(v))
	for i, x := range v {
		out[i] = HexID(x)
	}
	return out
}

// MarshalJSON writes the member ids in hex: voters always, the other
// lists and auto_leave when set.
func (c ConfState) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Voters         []HexID `json:"voters"`
		Learners       []HexID `json:"learners,omitempty"`
		VotersOutgoing []HexID `json:"voters_outgoing,omitempty"`
		LearnersNext   []HexID `json:"learners_next,omitempty"`
		AutoLeave      bool    `json:"auto_leave,omitempty"`
	}{HexIDs(c.Voters), HexIDs(c.Learners), HexIDs(c.VotersOutgoing), HexIDs(c.LearnersNext), c.AutoLeave})
}

// ReadConfState decodes the raftpb.ConfState it walks into c, accepting
// packed and unpacked repeated fields. Fields merge into what c holds, as
// protobuf merges a repeated embedded message.
func ReadConfState(it *Iter, c *ConfState) error {
	ids := [...]*[]uint64{&c.Voters, &c.Learners, &c.VotersOutgoing, &c.LearnersNext}
	return it.Each(func(f Field) error {
		switch {
		case f.Num >= 1 && int(f.Num) <= len(ids):
			return f.Packed(ids[f.Num-1])
		case f.Num == 5:
			return f.Bool(&c.AutoLeave)
		}
		return nil
	})
}

// AppendConfState appends the unpacked raftpb.ConfState encoding gogo
// writes (etcd 3.0-3.6).
func AppendConfState(b []byte, c ConfState) []byte {
	for i, ids := range [][]uint64{c.Voters, c.Learners, c.VotersOutgoing, c.LearnersNext} {
		for _, id := range ids {
			b = AppendVarint(b, protowire.Number(i+1), id)
		}
	}
	return AppendVarint(b, 5, protowire.EncodeBool(c.AutoLeave))
}
