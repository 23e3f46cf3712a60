package replay

import (
	"errors"
	"fmt"
	"io"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdscope/etcdscope/walfmt"
)

// entryRef is where one entry of the effective log is in the WAL. Only
// this is kept per entry: raft gets the entry itself read again from the
// WAL when it hands it out, so a replay's memory does not grow with the
// size of the log's data.
type entryRef struct {
	term uint64
	off  int64  // the record frame's offset in its segment
	seg  uint32 // the segment's position in the list
	size uint32 // the record's length L
}

// maxRead bounds what one Entries call reads, whatever maxSize raft asks
// for (Entries may return fewer entries than asked).
const maxRead = 16 << 20

// walStorage is a raft.Storage over the effective log as readLog found it:
// the base as its snapshot, then the entries from base+1, read from the
// segments on demand. It holds what etcd's restart puts in raft's
// MemoryStorage (bootstrap.go), without holding the entries in memory.
type walStorage struct {
	segs      []walfmt.Segment
	refs      []entryRef // entry snapIndex+1+i is refs[i]
	hs        *raftpb.HardState
	cs        *raftpb.ConfState
	snapIndex uint64
	snapTerm  uint64
}

var _ raft.Storage = (*walStorage)(nil)

func (st *walStorage) InitialState() (*raftpb.HardState, *raftpb.ConfState, error) {
	return st.hs, st.cs, nil
}

func (st *walStorage) FirstIndex() (uint64, error) { return st.snapIndex + 1, nil }

func (st *walStorage) LastIndex() (uint64, error) { return st.snapIndex + uint64(len(st.refs)), nil }

func (st *walStorage) Term(i uint64) (uint64, error) {
	switch {
	case i < st.snapIndex:
		return 0, raft.ErrCompacted
	case i == st.snapIndex:
		return st.snapTerm, nil
	case i-st.snapIndex > uint64(len(st.refs)):
		return 0, raft.ErrUnavailable
	}
	return st.refs[i-st.snapIndex-1].term, nil
}

func (st *walStorage) Snapshot() (*raftpb.Snapshot, error) {
	i, t := st.snapIndex, st.snapTerm
	return &raftpb.Snapshot{Metadata: &raftpb.SnapshotMetadata{Index: &i, Term: &t, ConfState: st.cs}}, nil
}

// Entries reads entries [lo, hi) from the WAL, at least one and no more
// than maxSize bytes of records (nor maxRead), with one read per run of
// entries that lie together in a segment.
func (st *walStorage) Entries(lo, hi, maxSize uint64) ([]*raftpb.Entry, error) {
	if lo <= st.snapIndex {
		return nil, raft.ErrCompacted
	}
	if hi > st.snapIndex+uint64(len(st.refs))+1 || lo > hi {
		return nil, fmt.Errorf("replay: entries [%d, %d) asked of a log that ends at %d", lo, hi, st.snapIndex+uint64(len(st.refs)))
	}
	refs := st.refs[lo-st.snapIndex-1 : hi-st.snapIndex-1]
	n, size := 0, uint64(0)
	for n < len(refs) {
		size += uint64(refs[n].size)
		if n > 0 && (size > maxSize || size > maxRead) {
			break
		}
		n++
	}
	refs = refs[:n]

	ents := make([]raftpb.Entry, n)
	nums := make([]uint64, 2*n)
	types := make([]raftpb.EntryType, n)
	out := make([]*raftpb.Entry, n)
	for i := 0; i < n; {
		// The run refs[i:j] lies in one segment, close together.
		j := i + 1
		for j < n && refs[j].seg == refs[i].seg && refs[j].off > refs[j-1].off &&
			refs[j].off+8+int64(refs[j].size)-refs[i].off <= 2*maxRead {
			j++
		}
		start := refs[i].off
		buf := make([]byte, refs[j-1].off+8+int64(refs[j-1].size)-start)
		seg := &st.segs[refs[i].seg]
		if got, err := seg.R.ReadAt(buf, start); got < len(buf) {
			if err == nil || errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("replay: reading %s at %d: %w", seg.Name, start, err)
		}
		for k := i; k < j; k++ {
			idx := lo + uint64(k)
			r := refs[k]
			raw := buf[r.off-start+8 : r.off-start+8+int64(r.size)]
			rec, err := walfmt.DecodeRecord(raw)
			if err != nil {
				return nil, fmt.Errorf("replay: %s at %d, entry %d: %w", seg.Name, r.off, idx, err)
			}
			e, err := walfmt.DecodeEntry(rec.Data)
			if err != nil || e.Index != idx || e.Term != r.term {
				return nil, fmt.Errorf("replay: %s at %d no longer holds entry %d (term %d): the WAL changed during the replay", seg.Name, r.off, idx, r.term)
			}
			nums[2*k], nums[2*k+1], types[k] = e.Index, e.Term, raftpb.EntryType(e.Type)
			ents[k] = raftpb.Entry{Index: &nums[2*k], Term: &nums[2*k+1], Type: &types[k], Data: e.Data}
			out[k] = &ents[k]
		}
		i = j
	}
	return out, nil
}
