package repair

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/etcdscope/etcdscope/walfmt"
)

// LogRange is a run of entries the output of repair wal holds past the
// log it kept, and where they came from.
type LogRange struct {
	// From is "wal", the member's own WAL read past its damage, or the
	// data dir of the peer (--peer) whose log they are.
	From  string `json:"from"`
	First uint64 `json:"first"`
	Last  uint64 `json:"last"`
}

// fromWAL names the member's own WAL in a LogRange.
const fromWAL = "wal"

// logRef is where an entry of a log is: its source (0 the WAL repaired,
// i a peer, in srcs), the segment and the frame's offset.
type logRef struct {
	src         int
	seg         int
	off         int64
	index, term uint64
}

// effLog is a log's entries as raft reads them, in WAL order: a later
// entry replaces the one of its index and every one after it. Entries
// below floor are left out.
type effLog struct {
	floor uint64
	refs  []logRef // increasing index, with gaps where entries are missing
}

func (l *effLog) add(r logRef) {
	i := sort.Search(len(l.refs), func(i int) bool { return l.refs[i].index >= r.index })
	l.refs = l.refs[:i]
	if r.index >= l.floor {
		l.refs = append(l.refs, r)
	}
}

func (l *effLog) at(index uint64) (logRef, bool) {
	i := sort.Search(len(l.refs), func(i int) bool { return l.refs[i].index >= index })
	if i < len(l.refs) && l.refs[i].index == index {
		return l.refs[i], true
	}
	return logRef{}, false
}

// logSource is a log the repair takes entries from: the WAL repaired, its
// trusted entries after the cut, or a peer's, its trusted entries.
type logSource struct {
	name   string // fromWAL, or the peer's data dir
	segs   []walfmt.Segment
	flips  map[frameAt]*fixed
	log    effLog
	commit uint64 // the highest commit of its trusted hard states
}

// data is the data of the entry record at r (the raftpb.Entry).
func (s *logSource) data(r logRef) ([]byte, error) {
	if fx := s.flips[frameAt{r.seg, r.off}]; fx != nil {
		return fx.rec.Data, nil
	}
	seg := s.segs[r.seg]
	var hdr [8]byte
	if _, err := seg.R.ReadAt(hdr[:], r.off); err != nil {
		return nil, fmt.Errorf("repair: reading %s at %#x: %w", seg.Name, r.off, err)
	}
	n := int64(binary.LittleEndian.Uint64(hdr[:]) & (1<<56 - 1))
	if n > seg.Size-r.off-8 {
		return nil, fmt.Errorf("repair: the record at %s:%#x no longer fits its segment", seg.Name, r.off)
	}
	raw := make([]byte, n)
	if _, err := seg.R.ReadAt(raw, r.off+8); err != nil {
		return nil, fmt.Errorf("repair: reading %s at %#x: %w", seg.Name, r.off, err)
	}
	rec, err := walfmt.DecodeRecord(raw)
	if err != nil || rec.Type != walfmt.EntryType {
		return nil, fmt.Errorf("repair: the entry at %s:%#x no longer reads (%v)", seg.Name, r.off, err)
	}
	return rec.Data, nil
}

// readPeer reads the trusted entries of a peer's WAL from index floor on,
// and its commit.
func readPeer(name string, src int, segs []walfmt.Segment, floor uint64) (*logSource, error) {
	s := &logSource{name: name, segs: segs, log: effLog{floor: floor}}
	r := walfmt.NewReader(segs, walfmt.Options{})
	for {
		f, err := r.Next()
		if errors.Is(err, io.EOF) {
			return s, nil
		}
		if err != nil {
			return nil, fmt.Errorf("repair: reading the WAL of %s: %w", name, err)
		}
		switch {
		case !f.Trusted():
		case f.Entry != nil:
			s.log.add(logRef{src: src, seg: f.SegmentIndex, off: f.Offset, index: f.Entry.Index, term: f.Entry.Term})
		case f.State != nil:
			s.commit = max(s.commit, f.State.Commit)
		}
	}
}

// joint is where the log being assembled ends: its last entry's index and
// term, and the source it came from (-1: the log kept, or the db's
// snapshot).
type joint struct {
	index, term uint64
	src         int
}

// assemble extends the log past base, index after index, with the
// entries of srcs (srcs[0] the WAL repaired, the others peers): the
// repaired WAL's own where it continues the log, else a peer's where log
// matching allows it (the peer holds the last entry with the same term, or
// gave it) and the peer has committed it.
func assemble(base joint, srcs []*logSource) []logRef {
	var out []logRef
	for last := base; ; {
		r, ok := following(last, srcs)
		if !ok {
			return out
		}
		out = append(out, r)
		last = joint{r.index, r.term, r.src}
	}
}

// following is the entry after last from the first source that may give
// it.
func following(last joint, srcs []*logSource) (logRef, bool) {
	for i, s := range srcs {
		r, ok := s.log.at(last.index + 1)
		if !ok || r.term < last.term || i > 0 && r.index > s.commit {
			continue
		}
		if last.src == i {
			return r, true
		}
		if p, ok := s.log.at(last.index); ok {
			if p.term == last.term {
				return r, true
			}
			continue
		}
		// The WAL repaired continues the log it kept, or the db's
		// snapshot, which came from the same log.
		if i == 0 && last.src < 0 {
			return r, true
		}
	}
	return logRef{}, false
}

// logRanges are the runs of refs by source.
func logRanges(refs []logRef, srcs []*logSource) []LogRange {
	out := []LogRange{}
	for i, r := range refs {
		if i > 0 && refs[i-1].src == r.src {
			out[len(out)-1].Last = r.index
			continue
		}
		out = append(out, LogRange{From: srcs[r.src].name, First: r.index, Last: r.index})
	}
	return out
}
