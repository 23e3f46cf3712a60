package serve

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/etcdscope/etcdscope/inspect"
)

// CopyDB copies the db at src to dst, a new file: the private copy
// [Options.DB] asks for. src is opened read-only and never locked (a
// stopped member's db, a backup, a .snap.db). The copy is checked as bolt
// check checks a db, and a damaged one is refused: bbolt, which serve
// reads with, panics on damaged pages.
func CopyDB(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("serve: copying %s: %w", src, err)
	}
	err = inspect.VerifyDB(dst)
	if ve, ok := errors.AsType[*inspect.VerifyError](err); ok {
		return fmt.Errorf("serve: %s is damaged (%d problems; see etcdscope bolt check %s); serve needs a sound db: replay the member, or salvage it first", src, len(ve.Findings), src)
	}
	if err != nil {
		return fmt.Errorf("serve: %s: %w", src, err)
	}
	return nil
}
