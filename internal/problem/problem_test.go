package problem

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/etcdscope/etcdscope/finding"
)

func TestClasses(t *testing.T) {
	c := NewClasses("x-internal")
	errA := c.New("xfmt: a", "x-a", finding.Error)
	errB := c.New("xfmt: b", "x-b", finding.Warning)
	shared := c.Add(ErrNotBolt, "x-not-bolt", finding.Error)
	if shared != ErrNotBolt {
		t.Fatal("Add does not return the sentinel it registers")
	}
	for _, tc := range []struct {
		err  error
		code string
		sev  finding.Severity
	}{
		{errA, "x-a", finding.Error},
		{fmt.Errorf("at 3: %w", errB), "x-b", finding.Warning},
		{&InputError{Path: "p", Err: ErrNotBolt}, "x-not-bolt", finding.Error},
		{errors.Join(errB, errA), "x-a", finding.Error}, // the first registered wins
		{errors.New("xfmt: something else"), "x-internal", finding.Error},
	} {
		if got := c.Code(tc.err); got != tc.code {
			t.Errorf("Code(%v) = %q, want %q", tc.err, got, tc.code)
		}
		if got := c.Severity(tc.err); got != tc.sev {
			t.Errorf("Severity(%v) = %q, want %q", tc.err, got, tc.sev)
		}
	}
}

func TestText(t *testing.T) {
	for in, want := range map[string]string{
		"walfmt: crc mismatch":                      "crc mismatch",
		"boltfmt: page 3 (offset 0x3000): bad":      "page 3 (offset 0x3000): bad",
		"etcd3: x":                                  "x",
		"no such file or directory":                 "no such file or directory",
		"reading meta page 1: unexpected EOF":       "reading meta page 1: unexpected EOF",
		"open /tmp/x: permission denied":            "open /tmp/x: permission denied",
		"Walfmt: upper case is not a package":       "Walfmt: upper case is not a package",
		"3fmt: a package name starts with a letter": "3fmt: a package name starts with a letter",
		": empty":         ": empty",
		"walfmt:no space": "walfmt:no space",
	} {
		if got := Text(errors.New(in)); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Message(errors.New("snapfmt: crc mismatch"), "stored 0x1"); got != "crc mismatch: stored 0x1" {
		t.Errorf("Message = %q", got)
	}
	if got := Message(errors.New("snapfmt: crc mismatch"), ""); got != "crc mismatch" {
		t.Errorf("Message without detail = %q", got)
	}
}

func TestLocated(t *testing.T) {
	crc := errors.New("walfmt: crc mismatch")
	for _, tc := range []struct {
		file   string
		offset int64
		detail string
		want   string
	}{
		{"seg.wal", 0x1f40, "want 0x1, got 0x2", "walfmt: seg.wal: offset 0x1f40: crc mismatch (want 0x1, got 0x2)"},
		{"seg.wal", 0, "", "walfmt: seg.wal: offset 0x0: crc mismatch"},
		{"tmp1", -1, "an incomplete download", "walfmt: tmp1: crc mismatch (an incomplete download)"},
		{"a\nb.wal", 16, "", `walfmt: a\nb.wal: offset 0x10: crc mismatch`},
		{"\x1b[2J.wal", 16, "", `walfmt: \x1b[2J.wal: offset 0x10: crc mismatch`},
	} {
		if got := Located("walfmt", tc.file, tc.offset, crc, tc.detail); got != tc.want {
			t.Errorf("Located(%q, %d, %q) = %q, want %q", tc.file, tc.offset, tc.detail, got, tc.want)
		}
	}
}

func TestInputError(t *testing.T) {
	notWAL := errors.New("walfmt: not a WAL segment")
	pathErr := &fs.PathError{Op: "open", Path: "/x/db", Err: syscall.ENOENT}
	for _, tc := range []struct {
		e    *InputError
		want string
	}{
		{&InputError{Path: "/x/a.wal", Err: notWAL, Hint: "give a .wal file"}, "/x/a.wal: not a WAL segment; give a .wal file"},
		{&InputError{Path: "/x/db", Err: pathErr}, "/x/db: no such file or directory"},
		{&InputError{Path: "/x/a\nb", Err: notWAL, Hint: "h"}, `/x/a\nb: not a WAL segment; h`},
		{&InputError{Path: "/x/\x1b]0;owned\x07", Err: fmt.Errorf("reading %s: %w", "a\rb", notWAL)}, `/x/\x1b]0;owned\a: reading a\rb: walfmt: not a WAL segment`},
	} {
		got := tc.e.Error()
		if got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
		if strings.ContainsAny(got, "\n\r\x1b\x07") {
			t.Errorf("Error() = %q: not one clean line", got)
		}
	}
	e := &InputError{Path: "/x/db", Err: pathErr}
	if !errors.Is(e, fs.ErrNotExist) {
		t.Error("errors.Is does not see the cause")
	}
	if pe, ok := errors.AsType[*fs.PathError](e); !ok || pe != pathErr {
		t.Error("errors.As does not see the *fs.PathError")
	}
	if got := UnwrapPath(pathErr); got != syscall.ENOENT {
		t.Errorf("UnwrapPath = %v", got)
	}
	if got := UnwrapPath(notWAL); got != notWAL {
		t.Errorf("UnwrapPath of another error = %v", got)
	}
}

func TestOpenFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f\nx")
	if err := os.WriteFile(p, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, size, err := OpenFile(p)
	if err != nil || size != 5 {
		t.Fatalf("OpenFile: %d, %v", size, err)
	}
	f.Close()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{dir, fifo, filepath.Join(dir, "nope\n")} {
		_, _, err := OpenFile(bad) // must not block on the FIFO
		ie, ok := errors.AsType[*InputError](err)
		if !ok || ie.Path != bad || ie.Hint == "" || strings.Contains(err.Error(), "\n") {
			t.Errorf("OpenFile(%q) = %v, want a one-line *InputError naming the path with a hint", bad, err)
		}
	}
}

func TestParseHexName(t *testing.T) {
	for _, tc := range []struct {
		name, suffix string
		want         []uint64
		ok           bool
	}{
		{"0000000000000000-0000000000000000.wal", ".wal", []uint64{0, 0}, true},
		{"00000000000000ff-0123456789abcdef.wal", ".wal", []uint64{0xff, 0x0123456789abcdef}, true},
		{"0000000000000002-0000000000000065.snap", ".snap", []uint64{2, 0x65}, true},
		{"ffffffffffffffff.snap.db", ".snap.db", []uint64{1<<64 - 1}, true},
		{"0000000000000001-000000000000000g.wal", ".wal", []uint64{1, 0}, false}, // a field not hex is 0
		{"0000000000000001-000000000000000F.wal", ".wal", []uint64{1, 0}, false}, // etcd writes lower case
		{"0000000000000001_0000000000000002.wal", ".wal", []uint64{0, 0}, false},
		{"0000000000000001-0000000000000002.snap", ".wal", []uint64{0, 0}, false},
		{"000000000000001-0000000000000002.wal", ".wal", []uint64{0, 0}, false},
		{"0000000000000001-00000000000000002.wal", ".wal", []uint64{0, 0}, false},
		{"0000000000000001.wal", ".wal", []uint64{0, 0}, false},
		{"", ".snap.db", []uint64{0}, false},
	} {
		got := make([]uint64, len(tc.want))
		ptrs := make([]*uint64, len(got))
		for i := range got {
			got[i] = 7 // overwritten
			ptrs[i] = &got[i]
		}
		if ok := ParseHexName(tc.name, tc.suffix, ptrs...); ok != tc.ok || !slices.Equal(got, tc.want) {
			t.Errorf("ParseHexName(%q, %q) = %x, %v; want %x, %v", tc.name, tc.suffix, got, ok, tc.want, tc.ok)
		}
	}
}
