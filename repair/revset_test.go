package repair

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestRevSetMissing checks revSet.missing against a count of every
// revision, on random sets, and at the ends of int64 without wrapping.
func TestRevSetMissing(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 1))
	for range 500 {
		s, in := revSet{}, map[int64]bool{}
		for range rng.IntN(40) {
			r := rng.Int64N(300)
			s.add(r)
			in[r] = true
		}
		lo, hi := rng.Int64N(320)-10, rng.Int64N(320)
		var want []RevRange
		for r := max(lo, 0); r <= hi; r++ {
			if !in[r] {
				want = appendRange(want, r, r)
			}
		}
		if got := s.missing(nil, lo, hi); !slices.Equal(got, want) {
			t.Fatalf("set %v, missing(%d, %d) = %v, want %v", in, lo, hi, got, want)
		}
	}
	s := revSet{}
	for _, r := range []int64{5, 1 << 62, math.MaxInt64 - 1} {
		s.add(r)
	}
	want := []RevRange{{1, 4}, {6, 1<<62 - 1}, {1<<62 + 1, math.MaxInt64 - 2}, {math.MaxInt64, math.MaxInt64}}
	if got := s.missing(nil, 1, math.MaxInt64); !slices.Equal(got, want) {
		t.Errorf("missing = %v, want %v", got, want)
	}
	if len(s) != 3 {
		t.Errorf("%d words for 3 revisions", len(s))
	}
}
