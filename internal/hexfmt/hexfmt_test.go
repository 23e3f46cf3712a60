package hexfmt_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/etcdscope/etcdscope/internal/hexfmt"
)

func page() []byte {
	d := make([]byte, 96)
	copy(d, "\x03\x00\x00\x00\x00\x00\x00\x00\x02\x00\x01\x00\x00\x00\x00\x00hello world, this is a key")
	return d
}

func TestRender(t *testing.T) {
	b := hexfmt.New(page(), hexfmt.Options{Base: 0x3000})
	// Out of order on purpose.
	b.Add(8, 2, "flags 0x%04x", 2)
	b.Add(0, 8, "page id %d", 3)
	b.Add(10, 2, "count 1")
	b.Add(12, 4, "overflow 0")
	b.Add(16, 11, "key 0")
	b.Add(27, 0, "value 0: empty")
	want := `00003000 +0000: 03 00 00 00 00 00 00 00                          |........        | # page id 3
00003008 +0008: 02 00                                            |..              | # flags 0x0002
0000300a +000a: 01 00                                            |..              | # count 1
0000300c +000c: 00 00 00 00                                      |....            | # overflow 0
00003010 +0010: 68 65 6c 6c 6f 20 77 6f  72 6c 64                |hello world     | # key 0
0000301b +001b:                                                  |                | # value 0: empty
0000301b +001b: 2c 20 74 68 69 73 20 69  73 20 61 20 6b 65 79 00 |, this is a key.|
0000302b +002b: 00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00 |................|
0000303b +003b: 00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00 |................|
0000304b +004b: 00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00 |................|
0000305b +005b: 00 00 00 00 00                                   |.....           |
`
	if got := b.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	var buf bytes.Buffer
	n, err := b.WriteTo(&buf)
	if err != nil || n != int64(len(want)) || buf.String() != want {
		t.Errorf("WriteTo: %d bytes, %v", n, err)
	}
}

func TestSqueeze(t *testing.T) {
	d := make([]byte, 100)
	d[99] = 'z'
	b := hexfmt.New(d, hexfmt.Options{Squeeze: true})
	b.Add(0, 96, "zeros")
	want := `00000000 +0000: 00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00 |................| # zeros
*
00000060 +0060: 00 00 00 7a                                      |...z            |
`
	if got := b.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestDamagedSpans: spans that overlap, run past the buffer, start before
// it or have a negative length are clipped and still rendered, and every
// byte is shown exactly once.
func TestDamagedSpans(t *testing.T) {
	d := page()[:32]
	b := hexfmt.New(d, hexfmt.Options{Width: 8})
	b.Add(4, 8, "a")
	b.Add(6, 2, "inside a")
	b.Add(10, 6, "overlaps a")
	b.Add(30, 1<<20, "too long")
	b.Add(-5, 6, "before")
	b.Add(40, 4, "past")
	b.Add(20, -3, "negative")
	got := b.String()
	for _, s := range []string{
		"# a\n",
		"# inside a (2 bytes, shown above)",
		"# overlaps a (from +0xa, overlapping the range above)",
		"# too long (cut at the end of the 32 bytes; 1048574 more)",
		"# before (starts 5 bytes before the buffer)",
		"# past (past the end of the 32 bytes)",
		"# negative\n",
	} {
		if !strings.Contains(got, s) {
			t.Errorf("missing %q in\n%s", s, got)
		}
	}
	// Every byte once: count the hex pairs.
	pairs := 0
	for _, line := range strings.Split(strings.TrimSpace(got), "\n") {
		_, rest, _ := strings.Cut(line, ": ")
		hex, _, _ := strings.Cut(rest, "|")
		pairs += len(strings.Fields(hex))
	}
	if pairs != len(d) {
		t.Errorf("%d bytes rendered, want %d:\n%s", pairs, len(d), got)
	}
}

func TestSpans(t *testing.T) {
	b := hexfmt.New(nil, hexfmt.Options{})
	b.Add(5, 1, "b")
	b.Add(0, 1, "a")
	b.Add(5, 3, "c")
	var names []string
	for _, s := range b.Spans() {
		names = append(names, s.Text)
	}
	if got := strings.Join(names, ","); got != "a,c,b" {
		t.Errorf("Spans order %s, want a,c,b", got)
	}
	if got := b.String(); !strings.Contains(got, "# a (past the end of the 0 bytes)") {
		t.Errorf("empty buffer:\n%s", got)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("full") }

func TestWriteError(t *testing.T) {
	b := hexfmt.New(make([]byte, 64<<10), hexfmt.Options{})
	if _, err := b.WriteTo(failWriter{}); err == nil {
		t.Error("WriteTo to a failing writer: no error")
	}
}

// TestMark: marked bytes are wrapped by Highlight, hex and character;
// without a Highlight the output is the same as unmarked.
func TestMark(t *testing.T) {
	data := []byte("hello world")
	b := hexfmt.New(data, hexfmt.Options{Highlight: func(s string) string { return "[" + s + "]" }})
	b.Mark(4, 2)
	want := "00000000 +0000: 68 65 6c 6c [6f] [20] 77 6f  72 6c 64                |hell[o][ ]world     |\n"
	if got := b.String(); got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	plain := hexfmt.New(data, hexfmt.Options{})
	plain.Mark(4, 2)
	if got, want := plain.String(), hexfmt.New(data, hexfmt.Options{}).String(); got != want {
		t.Errorf("marks without a Highlight changed the output:\n%s\nwant\n%s", got, want)
	}
}
