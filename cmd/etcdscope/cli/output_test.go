package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/olekukonko/tablewriter/pkg/twwidth"
)

// TestTableStreams: -w table writes rows as they come. Once the widths are
// sampled, rows reach the output before the table is closed, so a table of
// a whole WAL never sits in memory.
func TestTableStreams(t *testing.T) {
	var out bytes.Buffer
	tb := newTable(&out, "INDEX", "KEY")
	for i := 0; i < 2000; i++ {
		if err := tb.Row(strings.Repeat("9", 6), "/registry/pods/default/nginx-"+strings.Repeat("x", 20)); err != nil {
			t.Fatal(err)
		}
	}
	before := out.Len()
	if before == 0 {
		t.Fatal("nothing written before Close: the table buffers its rows")
	}
	if err := tb.Close(); err != nil {
		t.Fatal(err)
	}
	if out.Len() <= before {
		t.Error("Close wrote nothing more")
	}
	if n := strings.Count(out.String(), "nginx-"); n != 2000 {
		t.Errorf("%d rows written, want 2000", n)
	}
}

// TestTableWraps: a table whose cells are wider than the output fits in
// 120 columns when the output is not a terminal, wrapping long cells
// between words and keeping every word; a column without spaces (a
// file:offset) keeps its cells whole while the others can give way.
func TestTableWraps(t *testing.T) {
	long := strings.Repeat("the quick brown fox jumps over the lazy dog ", 8)
	var out bytes.Buffer
	if err := renderTable(&out, []string{"CODE", "WHERE", "MESSAGE"}, [][]string{
		{"wal-crc-mismatch", "member/wal/0000000000000000-0000000000000000.wal:0x1f0", long},
		{"bolt-page-invalid", "member/snap/db:0x31000", "short"},
	}); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimRight(out.String(), "\n"), "\n") {
		if w := twwidth.Width(line); w > defaultTableWidth {
			t.Errorf("line of %d columns, more than %d: %q", w, defaultTableWidth, line)
		}
	}
	if got, want := strings.Count(out.String(), "fox"), 8; got != want {
		t.Errorf("%d of the long cell's %d words left, want all", got, want)
	}
	if !strings.Contains(out.String(), "0000000000000000-0000000000000000.wal:0x1f0") {
		t.Errorf("a cell without spaces was cut:\n%s", out.String())
	}
}
