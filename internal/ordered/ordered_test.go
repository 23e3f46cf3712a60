package ordered

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
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
