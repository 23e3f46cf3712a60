package walfmt

import (
	"errors"
	"io"
)

// TypeCount counts records of one kind and their bytes on disk (frame
// header, record and padding).
type TypeCount struct {
	Count int64 `json:"count"`
	Bytes int64 `json:"bytes"`
}

// Summary is what one pass over a log finds: counts, the log's bounds and
// state, and every problem.
type Summary struct {
	Segments     int                  `json:"segments"`
	Bytes        int64                `json:"bytes"`
	Records      map[string]TypeCount `json:"records"` // by record type
	EntryTypes   map[string]TypeCount `json:"entry_types"`
	ZeroBytes    int64                `json:"zero_bytes"`
	DamagedBytes int64                `json:"damaged_bytes"`

	Entries    int64  `json:"entries"`
	FirstIndex uint64 `json:"first_index"`
	LastIndex  uint64 `json:"last_index"`
	FirstTerm  uint64 `json:"first_term"`
	LastTerm   uint64 `json:"last_term"`
	Rewinds    int64  `json:"rewinds"`

	Metadata  *Metadata  `json:"metadata,omitempty"`
	HardState *HardState `json:"hard_state,omitempty"` // the last one
	Snapshots []Snapshot `json:"snapshots"`            // every snapshot record, in log order

	// Problems holds every *CorruptionError found, in log order.
	Problems []error `json:"-"`
}

// Summarize reads every frame of r, calling visit (when not nil) on each,
// and returns the summary. It stops early only on an I/O error or when
// visit returns an error.
func Summarize(r *Reader, visit func(*Frame) error) (*Summary, error) {
	s := &Summary{
		Records:    map[string]TypeCount{},
		EntryTypes: map[string]TypeCount{},
		Snapshots:  []Snapshot{},
	}
	var haveEntry bool
	for {
		f, err := r.Next()
		if errors.Is(err, io.EOF) {
			return s, nil
		}
		if err != nil && f == nil {
			return s, err
		}
		s.add(f, &haveEntry)
		if visit != nil {
			if err := visit(f); err != nil {
				return s, err
			}
		}
		if err != nil {
			return s, err
		}
	}
}

func (s *Summary) add(f *Frame, haveEntry *bool) {
	s.Problems = append(s.Problems, f.Problems...)
	switch f.Kind {
	case KindSegment:
		s.Segments++
		s.Bytes += f.Segment.Size
		return
	case KindZero:
		s.ZeroBytes += f.Size
		return
	case KindDamage:
		s.DamagedBytes += f.Size
		return
	}
	tc := s.Records[f.Record.Type.String()]
	tc.Count++
	tc.Bytes += f.Size
	s.Records[f.Record.Type.String()] = tc
	if !f.Trusted() {
		return
	}
	switch {
	case f.Entry != nil:
		e := f.Entry
		s.Entries++
		et := s.EntryTypes[e.Type.String()]
		et.Count++
		et.Bytes += int64(len(e.Data))
		s.EntryTypes[e.Type.String()] = et
		if !*haveEntry {
			s.FirstIndex, s.FirstTerm = e.Index, e.Term
		} else if e.Index <= s.LastIndex {
			s.Rewinds++
		}
		*haveEntry = true
		s.LastIndex, s.LastTerm = e.Index, e.Term
	case f.State != nil:
		h := *f.State
		s.HardState = &h
	case f.Snapshot != nil:
		sn := *f.Snapshot
		s.Snapshots = append(s.Snapshots, sn)
	case f.Metadata != nil && s.Metadata == nil:
		m := *f.Metadata
		s.Metadata = &m
	}
}
