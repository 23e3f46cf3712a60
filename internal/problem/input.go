package problem

import (
	"errors"
	"io/fs"
	"os"
	"strings"

	"github.com/etcdscope/etcdscope/internal/textfmt"
)

// InputError is returned when a path cannot be used as input at all: it
// does not exist, cannot be read, or is not what the command reads. Its
// text is the one line CONTRACT.md asks for, naming the path and what to
// do: "path: what; hint".
//
// Err may be an *fs.PathError: the text shows only its cause, so that the
// path appears once, while errors.Is and errors.As still see the whole
// error.
type InputError struct {
	Path string
	Err  error
	Hint string // what the user can do about it
}

func (e *InputError) Error() string {
	s := Path(e.Path) + ": " + textfmt.Escape(Text(UnwrapPath(e.Err)))
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

func (e *InputError) Unwrap() error { return e.Err }

// Path is a path or file name from the input as a message shows it:
// control characters and invalid bytes escaped (textfmt.Escape), so that
// it can neither cut a one-line message nor reach the terminal as a
// control sequence.
func Path(p string) string { return textfmt.Escape(p) }

// UnwrapPath returns the cause err carries when it is an *fs.PathError
// (ENOENT, EACCES, EIO, ...), for a message that names the path itself,
// escaped; any other error is returned as it is.
func UnwrapPath(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

// errNotRegular is the cause [OpenFile] gives for a path that is not a
// regular file.
var errNotRegular = errors.New("not a regular file")

// OpenFile opens the regular file at path read-only, taking no lock, and
// returns it with its size. It looks before it opens, so it never opens a
// FIFO or a device, which could block or have side effects. Its errors are
// [*InputError]s naming path.
func OpenFile(path string) (*os.File, int64, error) {
	const hint = "check the path and its permissions (reading needs only read access)"
	st, err := os.Stat(path)
	if err != nil {
		return nil, 0, &InputError{Path: path, Err: err, Hint: hint}
	}
	if !st.Mode().IsRegular() {
		return nil, 0, &InputError{Path: path, Err: errNotRegular, Hint: "give the file itself, not a directory, pipe or device"}
	}
	f, err := os.Open(path) // O_RDONLY, no flock
	if err != nil {
		return nil, 0, &InputError{Path: path, Err: err, Hint: hint}
	}
	if st, err = f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		if err == nil {
			err = errNotRegular // replaced since the first look
		}
		return nil, 0, &InputError{Path: path, Err: err, Hint: hint}
	}
	return f, st.Size(), nil
}

// ParseHexName parses one of etcd's file names: len(fields) numbers
// written %016x (16 lower-case hex digits), joined by "-", then suffix.
// A WAL segment's name is "%016x-%016x.wal" (sequence, index), a .snap's
// "%016x-%016x.snap" (term, index), a .snap.db's "%016x.snap.db" (index).
// It stores the numbers in fields and reports whether name has that form.
// A field that is not hex is 0, and every field is 0 when the length,
// the dashes or the suffix are wrong.
func ParseHexName(name, suffix string, fields ...*uint64) bool {
	n := len(fields)
	for _, f := range fields {
		*f = 0
	}
	if n == 0 || len(name) != 17*n-1+len(suffix) || !strings.HasSuffix(name, suffix) {
		return false
	}
	for i := 1; i < n; i++ {
		if name[17*i-1] != '-' {
			return false
		}
	}
	ok := true
	for i, f := range fields {
		v, valid := parseHex16(name[17*i : 17*i+16])
		*f, ok = v, ok && valid
	}
	return ok
}

func parseHex16(s string) (uint64, bool) {
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | uint64(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | uint64(c-'a'+10)
		default:
			return 0, false
		}
	}
	return v, true
}
