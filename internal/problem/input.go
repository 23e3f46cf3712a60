package problem

import (
	"errors"
	"io/fs"
	"os"

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
