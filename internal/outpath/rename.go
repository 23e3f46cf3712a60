package outpath

import (
	"os"
)

// renamePortable never replaces to: a file is linked there (which fails
// when to exists) and its old name removed; a directory is renamed after
// a check that to is absent, which leaves a window a rename(2) onto an
// empty directory could use.
func renamePortable(from, to string) error {
	st, err := os.Lstat(from)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		if err := os.Link(from, to); err != nil {
			return err
		}
		return os.Remove(from)
	}
	if _, err := os.Lstat(to); err == nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: os.ErrExist}
	}
	return os.Rename(from, to)
}
