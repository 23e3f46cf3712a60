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

// TestDescribeLoss: one line a kind of state lost, names from the input
// shown through textfmt (quoted when not plain), lists cut at MaxItems;
// a loss with nothing in it says so.
func TestDescribeLoss(t *testing.T) {
	l := newLoss()
	l.Reference = "the input db at raft index 9, revision 7"
	if !l.None() {
		t.Fatal("an empty loss is not None")
	}
	var b strings.Builder
	l.Describe(&b, DescribeOptions{})
	if b.String() != "loss: nothing, against the input db at raft index 9, revision 7\n" {
		t.Errorf("empty loss:\n%s", b.String())
	}
	l.Entries = 3
	l.lostRecord(5)
	l.lostRecord(5)
	l.lostRecord(6)
	l.lostRecord(9)
	l.Auth = AuthLoss{EnabledBefore: true, RevisionBefore: 4, RevisionAfter: 1, UsersLost: []string{"alice", "r\x1b[31m"}}
	for i := range 4 {
		l.Keys = append(l.Keys, KeyDiff{Key: []byte(fmt.Sprintf("/k/%d\n", i)), Before: &KeyState{ModRevision: 5}})
	}
	l.ClusterVersion = VersionChange{Before: "3.6.0"}
	if l.None() {
		t.Fatal("a loss is None")
	}
	b.Reset()
	l.Describe(&b, DescribeOptions{MaxItems: 2, More: "(see -w json)"})
	want := `loss, against the input db at raft index 9, revision 7:
  entries: 3 left out
  revisions: 4 records lost or different, revisions 5 to 6, revision 9
  keys: 4 whose state differs: "/k/0\n", "/k/1\n", … and 2 more (see -w json)
  auth: enabled → disabled; users lost: alice, "r\x1b[31m"; auth revision 4 → 1
  cluster version: 3.6.0 → none
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

// TestDescribeWAL: the plan of repair wal says what was flipped back,
// where the WAL starts from the db, which entries came from where after
// the log kept, and what is lost.
func TestDescribeWAL(t *testing.T) {
	r := &WALResult{Out: "out", DB: "kept", ConsistentIndex: 300,
		Cut:       &CutPoint{Segment: "s.wal", Offset: 0x40, Code: "wal-crc-mismatch"},
		Flipped:   []Flip{{Segment: "a.wal", Offset: 0x1a8e, Bit: 3, Record: 0x1a28, Type: "entry", Index: 319, Term: 2}},
		FromDB:    &DBStart{Index: 300, Term: 2, Snap: "0000000000000002-000000000000012c.snap", Written: true},
		AfterCut:  []LogRange{{From: "wal", First: 301, Last: 310}, {From: "/data/m1", First: 311, Last: 320}},
		Lost:      []Lost{{Index: 321, Term: 2, Segment: "s.wal", Offset: 0x80, Request: "put"}},
		LastIndex: 320, LastTerm: 2, Commit: 320}
	var b strings.Builder
	r.Describe(&b, DescribeOptions{})
	for _, want := range []string{
		"wrote out: the WAL cut at s.wal:0x40 (wal-crc-mismatch); last entry kept 320 (term 2), commit 320\n",
		"\n  bit 3 of a.wal:0x1a8e, in the entry 319 (term 2) at 0x1a28\n",
		"\nthe WAL starts from the db, which holds every entry up to its consistent_index 300 (term 2): a snapshot record there, and 0000000000000002-000000000000012c.snap written from the db's membership\n",
		"\nentries 301 to 310 (10) after the log kept: from this WAL, read past its damage\n",
		"\nentries 311 to 320 (10) after the log kept: from peer /data/m1\n",
		"\n1 entry lost after the cut:\n  index 321 term 2 (s.wal:0x80): put\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in\n%s", want, b.String())
		}
	}
}
