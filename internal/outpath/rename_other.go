//go:build !linux

package outpath

func renameNoReplace(from, to string) error { return renamePortable(from, to) }
