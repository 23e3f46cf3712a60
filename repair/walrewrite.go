package repair

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"strings"

	"github.com/etcdscope/etcdscope/walfmt"
)

// rewrite is the second pass over a WAL (after [findFlips]): it writes
// the records before the cut into dir, one file per segment of the same
// name and size, each record as etcd wrote it (a flipped bit flipped
// back), and notes what comes after the cut.
type rewrite struct {
	segs  []walfmt.Segment
	flips map[frameAt]*fixed
	res   *WALResult
	out   *segWriter
	cur   int              // the segment being written, -1 before the first
	state walfmt.HardState // the last kept
	// last is the last trusted hard state, kept or after the cut; meta
	// the data of the first trusted metadata record.
	last walfmt.HardState
	meta []byte
	// cutIndex is the last entry kept when the cut came; tail the
	// trusted entries after the cut, as raft reads them, and tailCommit
	// the highest commit of the trusted hard states there.
	cutIndex   uint64
	tail       effLog
	tailCommit uint64
	// snapIndex is the index of the db's snapshot the WAL restarts
	// from ([rewrite.restart]), 0 when it keeps its own start.
	snapIndex uint64
}

// rewriteWAL runs a rewrite of segs into dir and fills in res; the
// segment the log ends in is left open, in rw.out, for what the repair
// writes after it.
func rewriteWAL(segs []walfmt.Segment, dir string, flips map[frameAt]*fixed, res *WALResult) (*rewrite, error) {
	rw := &rewrite{segs: segs, flips: flips, res: res, cur: -1, out: &segWriter{dir: dir, segBytes: segmentBytes(segs)}}
	r := walfmt.NewReader(segs, walfmt.Options{})
	for {
		fr, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			rw.out.abort()
			return nil, err
		}
		if res.Cut != nil {
			rw.afterCut(fr)
			continue
		}
		if err := rw.keep(fr); err != nil {
			rw.out.abort()
			return nil, err
		}
	}
	return rw, nil
}

// fix is the flip found for fr when it continues the output's CRC chain.
func (rw *rewrite) fix(fr *walfmt.Frame) *fixed {
	fx := rw.flips[at(fr)]
	if fx == nil {
		return nil
	}
	chain := rw.out.chain()
	if fx.rec.Type == walfmt.CRCType && fx.rec.CRC == chain || fx.rec.Type != walfmt.CRCType && crc32.Update(chain, castagnoli, fx.rec.Data) == fx.rec.CRC {
		return fx
	}
	return nil
}

// keep writes a frame before the cut, or makes it the cut.
func (rw *rewrite) keep(fr *walfmt.Frame) error {
	res := rw.res
	fx := rw.fix(fr)
	for _, p := range fr.Problems {
		if cuts(p) && (fx == nil || !errors.Is(p, walfmt.ErrCRCMismatch) && !errors.Is(p, walfmt.ErrBadRecord)) {
			res.Cut = &CutPoint{Segment: fr.Segment.Name, Offset: fr.Offset, Code: walfmt.Code(p), Problem: p.Error()}
			rw.cutAt(fr)
			return nil
		}
	}
	switch {
	case fr.Kind == walfmt.KindDamage && fx == nil:
		res.Garbage += fr.Size
		return nil
	case fr.Kind == walfmt.KindZero, fr.Kind == walfmt.KindSegment:
		return nil
	}
	if fr.SegmentIndex != rw.cur {
		seg := &rw.segs[fr.SegmentIndex]
		if err := rw.out.open(seg.Name, seg.Seq, seg.Size); err != nil {
			return err
		}
		rw.cur = fr.SegmentIndex
	}
	for _, p := range fr.Problems {
		if errors.Is(p, walfmt.ErrNonzeroPadding) {
			res.Cleared++
			break
		}
	}
	typ, data, entry, state := fr.Record.Type, fr.Record.Data, fr.Entry, fr.State
	if fx != nil {
		typ, data, entry, state = fx.rec.Type, fx.rec.Data, fx.entry, fx.state
		res.Flipped = append(res.Flipped, fx.Flip)
	}
	switch typ {
	case walfmt.CRCType:
		return nil // open wrote the segment's own
	case walfmt.EntryType:
		if entry != nil {
			res.LastIndex, res.LastTerm = entry.Index, entry.Term
		}
	case walfmt.StateType:
		if state != nil {
			rw.state, rw.last = *state, *state
			res.Commit = max(res.Commit, state.Commit)
		}
	case walfmt.MetadataType:
		if rw.meta == nil {
			rw.meta = bytes.Clone(data)
		}
	}
	return rw.out.write(typ, data)
}

// cutAt notes what the cut loses of the record it cuts at.
func (rw *rewrite) cutAt(fr *walfmt.Frame) {
	res := rw.res
	rw.cutIndex = res.LastIndex
	switch e := fr.Entry; {
	case e != nil && e.Index > res.LastIndex:
		res.Lost = append(res.Lost, Lost{Index: e.Index, Term: e.Term, Segment: fr.Segment.Name, Offset: fr.Offset, Request: describeEntry(e) + " (its record is damaged)"})
	case e == nil && (fr.Kind == walfmt.KindRecord || fr.Kind == walfmt.KindDamage):
		if t, ok := recordType(fr); ok && t != walfmt.EntryType {
			return // a hard state, snapshot, metadata or CRC record: no entry is lost with it
		}
		if rw.unacknowledged(fr) {
			return
		}
		res.Lost = append(res.Lost, Lost{Segment: fr.Segment.Name, Offset: fr.Offset, Request: "a record that does not decode (" + res.Cut.Code + "): which entry it held is not known"})
	}
}

// unacknowledged reports whether the record the log is cut at is a write
// that never completed: a torn tail, or a bad length word at the end of
// the last segment with nothing valid after it (etcd's decoder reads both
// as an unexpected EOF and its Repair truncates there). Its fsync never
// returned, so etcd never acknowledged what it held.
func (rw *rewrite) unacknowledged(fr *walfmt.Frame) bool {
	c := rw.res.Cut
	last := fr.SegmentIndex == len(rw.segs)-1
	return c.Code == "wal-torn-tail" || last && c.Code == "wal-bad-length" && strings.Contains(c.Problem, "nothing valid follows")
}

// recordType is the type a damaged record's first bytes still give: the
// record's type field, which etcd writes first, when it reads as a known
// type.
func recordType(fr *walfmt.Frame) (walfmt.RecordType, bool) {
	n := min(16, fr.Segment.Size-fr.Offset-8)
	if n < 2 {
		return 0, false
	}
	b := make([]byte, n)
	if _, err := fr.Segment.R.ReadAt(b, fr.Offset+8); err != nil || b[0] != 0x08 {
		return 0, false
	}
	v, k := binary.Uvarint(b[1:])
	if t := walfmt.RecordType(v); k > 0 && t >= walfmt.MetadataType && t <= walfmt.SnapshotType {
		return t, true
	}
	return 0, false
}

// afterCut notes what a frame after the cut holds: a trusted entry joins
// the tail, a trusted hard state its commit; an entry past the last kept
// is lost, the last written of each index, unless the repair gets it back.
func (rw *rewrite) afterCut(fr *walfmt.Frame) {
	res := rw.res
	e, st, trusted := fr.Entry, fr.State, fr.Trusted()
	if fx := rw.flips[at(fr)]; fx != nil {
		e, st, trusted = fx.entry, fx.state, true
	}
	switch {
	case trusted && e != nil:
		rw.tail.add(logRef{seg: fr.SegmentIndex, off: fr.Offset, index: e.Index, term: e.Term})
	case trusted && st != nil:
		rw.last, rw.tailCommit = *st, max(rw.tailCommit, st.Commit)
	case trusted && fr.Metadata != nil && rw.meta == nil:
		rw.meta = bytes.Clone(fr.Record.Data)
	}
	if e == nil || e.Index <= res.LastIndex {
		return
	}
	for len(res.Lost) > 0 && res.Lost[len(res.Lost)-1].Index >= e.Index {
		res.Lost = res.Lost[:len(res.Lost)-1]
	}
	res.Lost = append(res.Lost, Lost{Index: e.Index, Term: e.Term, Segment: fr.Segment.Name, Offset: fr.Offset, Request: describeEntry(e)})
}

// finish writes the entries refs of srcs after the log kept (or the db's
// snapshot), base, and a hard state: the term and vote of the last trusted
// one (a higher term when an entry has one, with no vote then), committed
// to the last entry that was (the highest commit of the WAL's hard states
// and of the peers that gave entries; the snapshot's index at least), and
// closes the WAL. With nothing to add and the hard state as kept, nothing
// is written.
func (rw *rewrite) finish(base joint, refs []logRef, srcs []*logSource) error {
	res := rw.res
	st, last := rw.last, base
	commit := max(res.Commit, rw.tailCommit)
	for _, r := range refs {
		data, err := srcs[r.src].data(r)
		if err == nil {
			err = rw.out.writeEntry(r.index, data)
		}
		if err != nil {
			rw.out.abort()
			return err
		}
		if r.src > 0 {
			commit = max(commit, srcs[r.src].commit)
		} else if fx := srcs[0].flips[frameAt{r.seg, r.off}]; fx != nil {
			res.Flipped = append(res.Flipped, fx.Flip)
		}
		last = joint{r.index, r.term, r.src}
	}
	res.LastIndex, res.LastTerm = last.index, last.term
	if last.term > st.Term {
		st.Term, st.Vote = last.term, 0
	}
	st.Commit = max(rw.snapIndex, min(commit, last.index))
	if len(refs) > 0 || st != rw.state {
		if err := rw.out.writeState(st); err != nil {
			rw.out.abort()
			return err
		}
	}
	res.Commit = st.Commit
	return rw.out.close()
}
