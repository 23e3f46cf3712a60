package ordered

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
)

type rec struct{ b []byte }

var opts = Options[rec]{
	Copy: func(dst, src *rec, arena []byte) []byte {
		start := len(arena)
		arena = append(arena, src.b...)
		dst.b = arena[start:len(arena):len(arena)]
		return arena
	},
	Encode: func(b []byte, r *rec) []byte {
		if len(r.b) > 0 && r.b[len(r.b)-1] == '7' {
			return b // left out
		}
		return append(append(b, r.b...), '\n')
	},
}

// TestOrder writes records through a buffer the caller reuses: every
// record comes out once, in order, as it was when written.
func TestOrder(t *testing.T) {
	var out, want bytes.Buffer
	w := NewWriter(&out, opts)
	buf := make([]byte, 0, 64)
	for i := range 10000 {
		buf = strconv.AppendInt(buf[:0], int64(i), 10)
		if i%10 != 7 {
			fmt.Fprintf(&want, "%d\n", i)
		}
		if err := w.Write(&rec{buf}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if out.String() != want.String() {
		t.Fatalf("out differs: %d bytes, want %d", out.Len(), want.Len())
	}
}

type failing struct{}

var errDisk = errors.New("disk full")

func (failing) Write([]byte) (int, error) { return 0, errDisk }

func TestWriteError(t *testing.T) {
	w := NewWriter[rec](failing{}, opts)
	var err error
	for i := 0; i < 1e6 && err == nil; i++ {
		err = w.Write(&rec{[]byte("x")})
	}
	if !errors.Is(err, ErrStopped) {
		t.Errorf("Write after a failed write: %v", err)
	}
	if err := w.Close(); !errors.Is(err, errDisk) {
		t.Errorf("Close: %v, want %v", err, errDisk)
	}
}

// TestWriteAll: every record next gives is written, in order, up to
// io.EOF; an error of next's is returned as it is, after what came before
// it is written; a failed write stops the reading.
func TestWriteAll(t *testing.T) {
	reader := func(n int, end error) func() (*rec, error) {
		i := 0
		return func() (*rec, error) {
			if i == n {
				return nil, end
			}
			i++
			return &rec{[]byte(strconv.Itoa(i))}, nil
		}
	}
	var out bytes.Buffer
	if err := WriteAll(&out, reader(1000, io.EOF), opts); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(out.String(), "\n"); got != 900 || !strings.HasPrefix(out.String(), "1\n2\n") || !strings.HasSuffix(out.String(), "999\n1000\n") {
		t.Errorf("%d lines, want 900 in order", got)
	}
	errBad := errors.New("bad read")
	out.Reset()
	if err := WriteAll(&out, reader(3, errBad), opts); err != errBad || out.String() != "1\n2\n3\n" {
		t.Errorf("a read error: %v after %q, want %v after 3 lines", err, out.String(), errBad)
	}
	forever := func() (*rec, error) { return &rec{[]byte("x")}, nil }
	if err := WriteAll[rec](failing{}, forever, opts); !errors.Is(err, errDisk) {
		t.Errorf("a write error: %v, want %v", err, errDisk)
	}
}
