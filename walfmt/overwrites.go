package walfmt

import (
	"io"
	"sort"
)

// Overwrites is what a first pass over a log learns that a streaming
// reader cannot know in advance: where the log rewinds (an entry whose
// index is not above the previous entry's replaces every entry from that
// index on, etcd server/storage/wal/wal.go ReadAll), and the final commit
// index. Its size is proportional to the number of rewinds, not entries.
type Overwrites struct {
	// Commit is the highest commit index of any HardState record.
	Commit uint64
	// LastIndex is the index of the last entry of the effective log.
	LastIndex uint64
	// Rewinds counts the entries that replaced earlier ones.
	Rewinds int

	points []rewindPoint // in log order
	minIdx []uint64      // minIdx[i] = min index over points[i:]
}

type rewindPoint struct {
	seg   int
	off   int64
	index uint64
}

// ScanOverwrites reads the segments once to build the rewind table.
func ScanOverwrites(segs []Segment) (*Overwrites, error) {
	o := &Overwrites{}
	r := NewReader(segs, Options{})
	var have bool
	var last uint64
	for {
		f, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if !f.Trusted() {
			continue
		}
		switch {
		case f.Entry != nil:
			if have && f.Entry.Index <= last {
				o.points = append(o.points, rewindPoint{f.SegmentIndex, f.Offset, f.Entry.Index})
			}
			have, last = true, f.Entry.Index
		case f.State != nil:
			o.Commit = max(o.Commit, f.State.Commit)
		}
	}
	o.LastIndex = last
	o.Rewinds = len(o.points)
	o.minIdx = make([]uint64, len(o.points))
	for i := len(o.points) - 1; i >= 0; i-- {
		o.minIdx[i] = o.points[i].index
		if i+1 < len(o.points) {
			o.minIdx[i] = min(o.minIdx[i], o.minIdx[i+1])
		}
	}
	return o, nil
}

// superseded reports whether the entry with index at (seg, off) is
// replaced by a later rewind to an index at or below it.
func (o *Overwrites) superseded(seg int, off int64, index uint64) bool {
	i := sort.Search(len(o.points), func(i int) bool {
		p := o.points[i]
		return p.seg > seg || (p.seg == seg && p.off > off)
	})
	return i < len(o.points) && o.minIdx[i] <= index
}
