package walfmt

import (
	"errors"
	"io"
	"runtime"
	"sort"
	"sync"
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

// ScanOverwrites reads the segments once to build the rewind table. It
// checks the CRC of hard states and of entries that rewind the log (the
// records the table is built from) and reads segments in parallel, one
// goroutine per CPU, each through its own window.
func ScanOverwrites(segs []Segment) (*Overwrites, error) {
	parts := make([]segmentScan, len(segs))
	workers := min(runtime.GOMAXPROCS(0), len(segs))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				parts[i] = scanSegment(segs[i], i)
			}
		}()
	}
	for i := range segs {
		next <- i
	}
	close(next)
	wg.Wait()

	o := &Overwrites{}
	var have bool
	var last uint64
	for _, p := range parts {
		if p.err != nil {
			return nil, p.err
		}
		o.Commit = max(o.Commit, p.commit)
		if !p.haveEntry {
			continue
		}
		if have && p.firstIndex <= last {
			o.points = append(o.points, rewindPoint{p.seg, p.firstOff, p.firstIndex})
		}
		o.points = append(o.points, p.points...)
		have, last = true, p.lastIndex
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

// segmentScan is what one segment contributes to the rewind table.
type segmentScan struct {
	seg        int
	points     []rewindPoint // rewinds inside the segment
	haveEntry  bool
	firstIndex uint64 // first trusted entry, which may rewind the previous segment
	firstOff   int64
	lastIndex  uint64
	commit     uint64
	err        error
}

func scanSegment(seg Segment, si int) segmentScan {
	sc := segmentScan{seg: si}
	// A small window, so that the data of large entries, which lazy mode
	// skips, is not read in with their neighbours.
	r := NewReader([]Segment{seg}, Options{lazyEntryCRC: true, BufferSize: 32 << 10})
	for {
		f, err := r.Next()
		if errors.Is(err, io.EOF) {
			return sc
		}
		if err != nil {
			sc.err = err
			return sc
		}
		if !f.Trusted() {
			continue
		}
		switch {
		case f.Entry != nil:
			if !sc.haveEntry {
				sc.firstIndex, sc.firstOff = f.Entry.Index, f.Offset
			} else if f.Entry.Index <= sc.lastIndex {
				sc.points = append(sc.points, rewindPoint{si, f.Offset, f.Entry.Index})
			}
			sc.haveEntry, sc.lastIndex = true, f.Entry.Index
		case f.State != nil:
			sc.commit = max(sc.commit, f.State.Commit)
		}
	}
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
