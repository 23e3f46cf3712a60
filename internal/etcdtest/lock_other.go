//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package etcdtest

// lockFile is a no-op here: concurrent test binaries may do the same work
// twice, but the publish-by-rename in the callers keeps the caches whole.
func lockFile(path string) (unlock func(), err error) {
	return func() {}, nil
}
