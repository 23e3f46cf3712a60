package repair

import (
	"errors"
	"io"

	"github.com/etcdscope/etcdscope/walfmt"
)

// Flip is a bit repair wal flipped back: one flipped bit explained the
// damage of a record (its CRC did not match, or it did not decode), and
// with the bit flipped back the record decodes, its CRC continues the
// chain and, for an entry, its index and term follow its neighbours'. The
// record is then the bytes etcd wrote, and nothing is cut there.
type Flip struct {
	Segment string `json:"segment"`
	Offset  int64  `json:"offset"` // of the byte, in the segment
	Bit     uint8  `json:"bit"`    // 0 is the lowest
	// Record is the offset of the record's frame; Type its record type,
	// Index and Term the entry's when it is one.
	Record int64  `json:"record_offset"`
	Type   string `json:"type"`
	Index  uint64 `json:"index,omitempty"`
	Term   uint64 `json:"term,omitempty"`
}

// frameAt names a frame of a reader: its segment's position and offset.
type frameAt struct {
	seg int
	off int64
}

func at(f *walfmt.Frame) frameAt { return frameAt{f.SegmentIndex, f.Offset} }

// fixed is a damaged record with its flipped bit flipped back: the bytes
// etcd wrote, decoded.
type fixed struct {
	Flip
	rec   walfmt.Record // Data is owned
	entry *walfmt.Entry
	state *walfmt.HardState
}

// unflip is f's record with its suspect bit flipped back, when f has one
// and the record then decodes, payload included.
func unflip(f *walfmt.Frame) (*fixed, bool) {
	if f.Suspect == 0 || (f.Kind != walfmt.KindRecord && f.Kind != walfmt.KindDamage) || f.Length <= 0 {
		return nil, false
	}
	raw := make([]byte, f.Length)
	if f.Kind == walfmt.KindRecord {
		copy(raw, f.Raw)
	} else if _, err := f.Segment.R.ReadAt(raw, f.Offset+8); err != nil {
		return nil, false
	}
	j := f.Suspect - f.Offset - 8
	if j < 0 || j >= int64(len(raw)) {
		return nil, false
	}
	raw[j] ^= 1 << f.SuspectBit
	rec, err := walfmt.DecodeRecord(raw)
	if err != nil {
		return nil, false
	}
	fx := &fixed{rec: rec, Flip: Flip{Segment: f.Segment.Name, Offset: f.Suspect, Bit: f.SuspectBit, Record: f.Offset, Type: rec.Type.String()}}
	switch rec.Type {
	case walfmt.EntryType:
		e, err := walfmt.DecodeEntry(rec.Data)
		if err != nil {
			return nil, false
		}
		fx.entry, fx.Index, fx.Term = &e, e.Index, e.Term
	case walfmt.StateType:
		s, err := walfmt.DecodeHardState(rec.Data)
		if err != nil {
			return nil, false
		}
		fx.state = &s
	case walfmt.SnapshotType:
		_, err = walfmt.DecodeSnapshot(rec.Data)
	case walfmt.MetadataType:
		_, err = walfmt.DecodeMetadata(rec.Data)
	}
	return fx, err == nil
}

// logPos is where a log stands, read in WAL order: its last entry, the
// highest commit, the highest snapshot record since that entry, and
// whether damage came since (an index gap is then its consequence).
type logPos struct {
	have         bool
	index, term  uint64
	commit, snap uint64
	damagedSince bool
}

// fits reports whether e can follow the log: the next index with a term
// no lower, a rewind of entries not committed, or a jump to just after a
// snapshot record (or over damage).
func (p *logPos) fits(e *walfmt.Entry) bool {
	switch {
	case !p.have:
		return true
	case e.Index == p.index+1:
		return e.Term >= p.term
	case e.Index <= p.index:
		return e.Index > p.commit
	default:
		return p.snap+1 == e.Index || p.damagedSince
	}
}

func (p *logPos) entry(e *walfmt.Entry) {
	p.have, p.index, p.term, p.snap, p.damagedSince = true, e.Index, e.Term, 0, false
}

// add follows a frame: trusted records move the log on, damage is noted.
func (p *logPos) add(f *walfmt.Frame) {
	switch {
	case f.Kind == walfmt.KindDamage || f.Kind == walfmt.KindRecord && !f.Trusted():
		p.damagedSince = true
	case f.Entry != nil:
		p.entry(f.Entry)
	case f.State != nil:
		p.commit = max(p.commit, f.State.Commit)
	case f.Snapshot != nil:
		p.snap = max(p.snap, f.Snapshot.Index)
	}
}

// findFlips reads segs and returns the records whose damage one flipped
// bit explains and that, flipped back, decode and fit the log: the next
// data record's CRC checks against the chain the flipped one continues
// (or the log ends after it), and an entry's index and term follow the
// entry before it and lead to the one after it.
func findFlips(segs []walfmt.Segment) (map[frameAt]*fixed, error) {
	r := walfmt.NewReader(segs, walfmt.Options{})
	flips := map[frameAt]*fixed{}
	var (
		pos     logPos
		pending *fixed // a flip waiting for the record after it
		where   frameAt
	)
	for {
		f, err := r.Next()
		if errors.Is(err, io.EOF) {
			if pending != nil {
				flips[where] = pending
			}
			return flips, nil
		}
		if err != nil {
			return nil, err
		}
		if pending != nil {
			switch ok, decided := confirms(f, &pos); {
			case decided && ok:
				flips[where] = pending
				pending = nil
			case decided:
				pending = nil
			}
		}
		if fx, ok := unflip(f); ok && (fx.entry == nil || pos.fits(fx.entry)) {
			pending, where = fx, at(f)
			switch {
			case fx.entry != nil:
				pos.entry(fx.entry)
			case fx.state != nil:
				pos.commit = max(pos.commit, fx.state.Commit)
			}
			continue
		}
		pos.add(f)
	}
}

// confirms decides a pending flip on the frame after it: a data record
// whose CRC checks and, for an entry, follows confirms it; a torn tail
// (the log ends) confirms it too; a CRC record that breaks the chain, or
// any other damage, refuses it. Other frames decide nothing.
func confirms(f *walfmt.Frame, pos *logPos) (ok, decided bool) {
	switch f.Kind {
	case walfmt.KindRecord:
		if f.Record.Type == walfmt.CRCType {
			return false, !f.CRCOK
		}
		return f.CRCOK && (f.Entry == nil || pos.fits(f.Entry)), true
	case walfmt.KindDamage:
		for _, p := range f.Problems {
			if errors.Is(p, walfmt.ErrTornTail) {
				return true, true
			}
			if cuts(p) {
				return false, true
			}
		}
	}
	return false, false
}
