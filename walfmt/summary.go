package walfmt

import (
	"bytes"
	"cmp"
	"errors"
	"io"
	"slices"

	"github.com/etcdscope/etcdscope/internal/textfmt"
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

// Stats is a [Summary] with the entries also counted, with their data
// bytes, by payload kind ([Payload.Kind], "undecodable" for data that does
// not decode) and by key prefix: what wal stats reports.
type Stats struct {
	*Summary
	Requests map[string]TypeCount `json:"requests"`
	Prefixes map[string]TypeCount `json:"key_prefixes"` // an entry counts once per prefix its keys have
	Problems int                  `json:"problems"`     // len(Summary.Problems)
}

// CollectStats reads every frame of r, as [Summarize] does, and counts the
// entries by payload kind and by the first prefixDepth '/'-separated parts
// of the keys their requests name ([KeyPrefix]).
func CollectStats(r *Reader, prefixDepth int) (*Stats, error) {
	st := &Stats{Requests: map[string]TypeCount{}, Prefixes: map[string]TypeCount{}}
	sum, err := Summarize(r, func(f *Frame) error {
		if f.Entry == nil {
			return nil
		}
		p := DecodePayload(f.Entry)
		kind := p.Kind
		if p.Err != nil {
			kind = "undecodable"
		}
		n := int64(len(f.Entry.Data))
		count(st.Requests, kind, n)
		seen := map[string]bool{}
		for _, k := range p.Keys() {
			if pre := KeyPrefix(k, prefixDepth); !seen[pre] {
				seen[pre] = true
				count(st.Prefixes, pre, n)
			}
		}
		return nil
	})
	st.Summary = sum
	if sum != nil {
		st.Problems = len(sum.Problems)
	}
	return st, err
}

func count(m map[string]TypeCount, k string, n int64) {
	tc := m[k]
	tc.Count++
	tc.Bytes += n
	m[k] = tc
}

// KeyPrefix returns the first depth '/'-separated parts of k, with their
// trailing slash, as text ([textfmt.Bare]): "/registry/pods/ns/x" at depth
// 2 is "/registry/pods/". A key with fewer parts gives all but its last;
// one with no '/' past its first byte, "(no prefix)".
func KeyPrefix(k []byte, depth int) string {
	n := 0
	for i, c := range k {
		if c == '/' && i > 0 {
			n++
			if n == depth {
				return textfmt.Bare(k[:i+1])
			}
		}
	}
	if i := bytes.LastIndexByte(k, '/'); i > 0 {
		return textfmt.Bare(k[:i+1])
	}
	return "(no prefix)"
}

// A NamedCount is one name's count.
type NamedCount struct {
	Name string
	TypeCount
}

// ByBytes returns the counts of m, the most bytes first, names breaking
// ties.
func ByBytes(m map[string]TypeCount) []NamedCount {
	out := make([]NamedCount, 0, len(m))
	for k, tc := range m {
		out = append(out, NamedCount{k, tc})
	}
	slices.SortFunc(out, func(a, b NamedCount) int {
		return cmp.Or(cmp.Compare(b.Bytes, a.Bytes), cmp.Compare(a.Name, b.Name))
	})
	return out
}
