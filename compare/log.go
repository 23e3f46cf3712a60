package compare

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"

	"github.com/etcdscope/etcdscope/walfmt"
)

// entry is what comparing needs of one log entry: its term and type, a
// hash of its data, and where it is (to decode it again for a message).
type entry struct {
	term uint64
	sum  uint64 // maphash of type and data, with the process's one seed
	off  int64  // the record frame's offset in its segment
	seg  uint32 // the segment's position in the member's list
	typ  walfmt.EntryKind
}

// run is a stretch of consecutive entries; a member that installed a
// leader snapshot has a gap in its log, so several runs.
type run struct {
	first   uint64
	entries []entry
}

func (r *run) last() uint64 { return r.first + uint64(len(r.entries)) - 1 }

// memberLog is a member's effective log (overwritten entries resolved)
// and its raft state as its WAL records them.
type memberLog struct {
	segs      []walfmt.Segment
	runs      []run
	commit    uint64 // the highest HardState commit
	term      uint64 // the last HardState term
	nodeID    uint64
	clusterID uint64
	snapIndex uint64 // the newest snapshot record's index
	problems  int    // records that could not be trusted
}

var seed = maphash.MakeSeed()

// readLog reads the effective log in one streaming pass: a later entry
// at an index replaces the entries from there on, as etcd's ReadAll
// truncates them. 40 bytes per entry stay in memory.
func readLog(segs []walfmt.Segment) (*memberLog, error) {
	l := &memberLog{segs: segs}
	if n := len(segs); n > 1 && segs[0].NameOK && segs[n-1].NameOK && segs[n-1].Index > segs[0].Index {
		// Room for as many entries as the segment names promise, the last
		// segment counted like the one before it; never more than one per
		// 16 bytes of WAL.
		est := segs[n-1].Index - segs[0].Index + (segs[n-1].Index - segs[n-2].Index)
		var size int64
		for _, s := range segs {
			size += s.Size
		}
		l.runs = []run{{entries: make([]entry, 0, min(est, uint64(size/16)))}}
	}
	r := walfmt.NewReader(segs, walfmt.Options{EndAtZero: true})
	for {
		f, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(f.Problems) > 0 {
			l.problems++
		}
		if !f.Trusted() {
			continue
		}
		switch {
		case f.Metadata != nil && l.nodeID == 0:
			l.nodeID, l.clusterID = f.Metadata.NodeID, f.Metadata.ClusterID
		case f.State != nil:
			l.commit = max(l.commit, f.State.Commit)
			l.term = f.State.Term
		case f.Snapshot != nil:
			l.snapIndex = max(l.snapIndex, f.Snapshot.Index)
		case f.Entry != nil:
			e := f.Entry
			var h maphash.Hash
			h.SetSeed(seed)
			h.WriteByte(byte(e.Type))
			h.Write(e.Data)
			l.add(e.Index, entry{term: e.Term, sum: h.Sum64(), off: f.Offset, seg: uint32(f.SegmentIndex), typ: e.Type})
		}
	}
	if len(l.runs) == 1 && len(l.runs[0].entries) == 0 {
		l.runs = nil // pre-sized, but no entry came
	}
	if l.nodeID == 0 {
		return nil, errors.New("the WAL has no metadata record (member id)")
	}
	return l, nil
}

// add appends the entry at index i. An index at or below the last one
// replaces the entries from i on (a new leader overwrote them); one past
// the end extends the last run; one further on starts a new run (a
// snapshot from the leader was installed in between).
func (l *memberLog) add(i uint64, e entry) {
	if len(l.runs) == 1 && len(l.runs[0].entries) == 0 { // the pre-sized first run
		l.runs[0].first = i
		l.runs[0].entries = append(l.runs[0].entries, e)
		return
	}
	for len(l.runs) > 0 {
		r := &l.runs[len(l.runs)-1]
		if i > r.first {
			if i <= r.last() {
				r.entries = r.entries[:i-r.first]
			}
			break
		}
		l.runs = l.runs[:len(l.runs)-1]
	}
	if n := len(l.runs); n > 0 && i == l.runs[n-1].last()+1 {
		l.runs[n-1].entries = append(l.runs[n-1].entries, e)
		return
	}
	l.runs = append(l.runs, run{first: i, entries: []entry{e}})
}

// firstIndex and lastIndex bound the entries the WAL holds (0 when none).
func (l *memberLog) firstIndex() uint64 {
	if len(l.runs) == 0 {
		return 0
	}
	return l.runs[0].first
}

func (l *memberLog) lastIndex() uint64 {
	if len(l.runs) == 0 {
		return 0
	}
	return l.runs[len(l.runs)-1].last()
}

// at returns the entry at index i, if the log holds it.
func (l *memberLog) at(i uint64) (entry, bool) {
	for k := len(l.runs) - 1; k >= 0; k-- {
		r := &l.runs[k]
		if i >= r.first {
			if i <= r.last() {
				return r.entries[i-r.first], true
			}
			return entry{}, false
		}
	}
	return entry{}, false
}

// startsAtOne reports whether the log still holds every entry from index
// 1 on, so that a replay from an empty state rebuilds the whole state.
func (l *memberLog) startsAtOne() bool {
	return len(l.runs) == 1 && l.runs[0].first == 1
}

// describe decodes the entry at e again and says what it is.
func (l *memberLog) describe(e entry) (string, string) {
	seg := &l.segs[e.seg]
	var hdr [8]byte
	if _, err := seg.R.ReadAt(hdr[:], e.off); err != nil {
		return seg.Name, fmt.Sprintf("unreadable: %v", err)
	}
	n := int64(binary.LittleEndian.Uint64(hdr[:]) & (1<<56 - 1)) // the length word without the padding byte
	if n <= 0 || e.off+8+n > seg.Size {
		return seg.Name, "unreadable record"
	}
	b := make([]byte, n)
	if _, err := seg.R.ReadAt(b, e.off+8); err != nil {
		return seg.Name, fmt.Sprintf("unreadable: %v", err)
	}
	rec, err := walfmt.DecodeRecord(b)
	if err != nil {
		return seg.Name, fmt.Sprintf("undecodable record: %v", err)
	}
	ent, err := walfmt.DecodeEntry(rec.Data)
	if err != nil {
		return seg.Name, fmt.Sprintf("undecodable entry: %v", err)
	}
	p := walfmt.DecodePayload(&ent)
	switch what := p.Describe(walfmt.DescribeOptions{Values: true}); {
	case ent.Type == walfmt.EntryNormal && len(ent.Data) == 0:
		return seg.Name, "an empty entry"
	case what != "":
		return seg.Name, what
	}
	return seg.Name, fmt.Sprintf("%d bytes of %s data", len(ent.Data), ent.Type)
}
