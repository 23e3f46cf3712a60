package repair

import (
	"fmt"
	"strings"
	"testing"
)

func TestDescribeLists(t *testing.T) {
	r := &WALResult{Out: "out", DryRun: true, DB: "copied"}
	for i := range 25 {
		r.LostKeys = append(r.LostKeys, KeyDiff{Key: []byte(fmt.Sprintf("/k/%02d\x00", i)), Before: &KeyState{ModRevision: int64(i), Version: 1}})
	}
	var b strings.Builder
	r.Describe(&b, DescribeOptions{MaxItems: 20, More: "(see all)"})
	s := b.String()
	for _, want := range []string{"would write out: the WAL has no damage to cut at;", "\n25 keys whose state is lost", "\n  \"/k/19\\x00\": mod 19 ver 1 → absent\n", "\n  … and 5 more (see all)\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("no line %q in\n%s", want, s)
		}
	}
	if strings.Contains(s, "/k/20") {
		t.Errorf("more than 20 keys listed:\n%s", s)
	}
	b.Reset()
	r.Describe(&b, DescribeOptions{})
	if !strings.Contains(b.String(), "/k/24") {
		t.Errorf("MaxItems 0 does not list every key:\n%s", b.String())
	}
}
