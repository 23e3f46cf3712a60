package repair

import (
	"math"
	"slices"
)

// revSet is a set of main revisions, a bit each in 64-bit words keyed by
// revision/64. Only the words that hold a revision exist, so its size
// follows the records read, never the value of a revision (a damaged key,
// or a record at 2^62, is one word).
type revSet map[int64]uint64

func (s revSet) add(r int64) {
	if r >= 0 {
		s[r>>6] |= 1 << (r & 63)
	}
}

// missing appends to dst, in order and merged, the ranges of revisions
// from lo to hi (both included) that are not in the set. Its work follows
// the words present, not hi-lo.
func (s revSet) missing(dst []RevRange, lo, hi int64) []RevRange {
	if lo < 0 {
		lo = 0
	}
	if lo > hi {
		return dst
	}
	words := make([]int64, 0, len(s))
	for w := range s {
		if w >= lo>>6 && w <= hi>>6 {
			words = append(words, w)
		}
	}
	slices.Sort(words)
	next := lo // the first revision not yet accounted for
	for _, w := range words {
		base, end := w<<6, min(w<<6+63, hi)
		if next < base {
			dst = appendRange(dst, next, base-1)
			next = base
		}
		for r := next; ; r++ { // r <= end, and r++ must not wrap past MaxInt64
			if s[w]&(1<<(r&63)) == 0 {
				dst = appendRange(dst, r, r)
			}
			if r == end {
				break
			}
		}
		if end == math.MaxInt64 {
			return dst
		}
		next = end + 1
	}
	if next <= hi {
		dst = appendRange(dst, next, hi)
	}
	return dst
}

// appendRange appends from..to to dst, merged with its last range when
// they touch.
func appendRange(dst []RevRange, from, to int64) []RevRange {
	if n := len(dst); n > 0 && dst[n-1].To == from-1 {
		dst[n-1].To = to
		return dst
	}
	return append(dst, RevRange{From: from, To: to})
}
