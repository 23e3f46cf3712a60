package compare

import (
	"fmt"
	"testing"
)

// TestLogAdd: overwrites truncate, gaps start runs, as etcd's ReadAll
// reads a log.
func TestLogAdd(t *testing.T) {
	layout := func(l *memberLog) string {
		s := ""
		for _, r := range l.runs {
			s += fmt.Sprintf("[%d..%d", r.first, r.last())
			for _, e := range r.entries {
				s += fmt.Sprintf(" t%d", e.term)
			}
			s += "]"
		}
		return s
	}
	for _, c := range []struct {
		adds [][2]uint64 // index, term
		want string
	}{
		{[][2]uint64{{1, 1}, {2, 1}, {3, 1}}, "[1..3 t1 t1 t1]"},
		{[][2]uint64{{1, 1}, {2, 1}, {3, 1}, {2, 2}}, "[1..2 t1 t2]"},
		{[][2]uint64{{1, 1}, {2, 1}, {3, 1}, {3, 2}, {4, 2}}, "[1..4 t1 t1 t2 t2]"},
		{[][2]uint64{{1, 1}, {2, 1}, {10, 2}, {11, 2}}, "[1..2 t1 t1][10..11 t2 t2]"},
		{[][2]uint64{{1, 1}, {2, 1}, {10, 2}, {11, 2}, {10, 3}}, "[1..2 t1 t1][10..10 t3]"},
		{[][2]uint64{{1, 1}, {2, 1}, {10, 2}, {11, 2}, {3, 3}}, "[1..3 t1 t1 t3]"},
		{[][2]uint64{{1, 1}, {2, 1}, {10, 2}, {11, 2}, {2, 3}}, "[1..2 t1 t3]"},
		{[][2]uint64{{5, 1}, {6, 1}, {1, 2}}, "[1..1 t2]"},
	} {
		l := &memberLog{}
		for _, a := range c.adds {
			l.add(a[0], entry{term: a[1]})
		}
		if got := layout(l); got != c.want {
			t.Errorf("%v: %s, want %s", c.adds, got, c.want)
		}
	}
}
