package boltfmt

import (
	"errors"
	"fmt"
)

// Problem sentinels. Every problem the decoder or the checker finds is a
// [*PageError] wrapping one of these; errors.Is tells the class, errors.As
// the page and offset.
var (
	// ErrMetaInvalid is returned for a meta page whose magic, version or
	// checksum is wrong, or whose fields cannot be right (root or freelist
	// at or beyond the high-water mark, page size not a power of two).
	ErrMetaInvalid = errors.New("boltfmt: invalid meta page")

	// ErrPageInvalid is returned for a page header that is wrong: its id is
	// not its position, its type is not what the reference to it expects,
	// its overflow runs past the high-water mark or the file, or an element
	// points outside the page.
	ErrPageInvalid = errors.New("boltfmt: invalid page")

	// ErrPageUnreachable is returned for a page below the high-water mark
	// that is neither reachable from the root nor free.
	ErrPageUnreachable = errors.New("boltfmt: page unreachable and not free")

	// ErrPageDoubleUse is returned for a page reached twice (two references,
	// or a cycle), both reachable and free, or freed twice.
	ErrPageDoubleUse = errors.New("boltfmt: page used twice")

	// ErrKeyOrder is returned for keys that are not strictly increasing in
	// a page, or that fall outside the range their parent branch gives them.
	ErrKeyOrder = errors.New("boltfmt: keys out of order")

	// ErrFreelistInvalid is returned for a freelist page that cannot be read
	// (wrong type, count beyond the page) or that lists page ids below 2 or
	// at or beyond the high-water mark.
	ErrFreelistInvalid = errors.New("boltfmt: invalid freelist")

	// ErrBucketInvalid is returned for a bucket entry whose value is not a
	// bucket header (16 bytes, or an inline page image after it).
	ErrBucketInvalid = errors.New("boltfmt: invalid bucket")

	// ErrTruncated is returned when the file is shorter than the
	// high-water mark says: pages the tree may reference are missing.
	ErrTruncated = errors.New("boltfmt: file shorter than its high-water mark")

	// ErrBigEndian is returned for a file written on a big-endian machine:
	// its magic reads byte-swapped.
	ErrBigEndian = errors.New("boltfmt: big-endian bbolt file")
)

// Severity of a problem.
type Severity int

const (
	SeverityError Severity = iota
	SeverityWarning
	SeverityInfo
)

func (s Severity) String() string {
	switch s {
	case SeverityError:
		return "error"
	case SeverityWarning:
		return "warning"
	}
	return "info"
}

var codes = []struct {
	err      error
	code     string
	severity Severity
}{
	{ErrMetaInvalid, "bolt-meta-invalid", SeverityError},
	{ErrPageInvalid, "bolt-page-invalid", SeverityError},
	{ErrPageUnreachable, "bolt-page-unreachable", SeverityError},
	{ErrPageDoubleUse, "bolt-page-double-use", SeverityError},
	{ErrKeyOrder, "bolt-key-order", SeverityError},
	{ErrFreelistInvalid, "bolt-freelist-invalid", SeverityError},
	{ErrBucketInvalid, "bolt-bucket-invalid", SeverityError},
	{ErrTruncated, "bolt-file-truncated", SeverityError},
	{ErrBigEndian, "bolt-big-endian", SeverityError},
}

// Code returns the stable finding code of a problem.
func Code(err error) string {
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return "bolt-internal"
}

// SeverityOf returns a problem's severity. A PageError may lower it (an
// inactive meta that is merely older, for instance).
func SeverityOf(err error) Severity {
	var pe *PageError
	if errors.As(err, &pe) && pe.Severity != SeverityError {
		return pe.Severity
	}
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.severity
		}
	}
	return SeverityError
}

// PageError places a problem: the page id, the absolute file offset of the
// damaged page (or of the damaged bytes, where that is more precise), the
// bucket it belongs to and the path of page ids from the bucket's root.
type PageError struct {
	Page     PageID
	Offset   int64
	Bucket   string   // "a/b" for nested buckets, "" for the root bucket
	Path     []PageID // page ids from the root to this page
	Err      error    // the sentinel
	Detail   string
	Severity Severity
}

func (e *PageError) Error() string {
	s := fmt.Sprintf("boltfmt: page %d (offset %#x): %s", e.Page, e.Offset, trim(e.Err.Error()))
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

func (e *PageError) Unwrap() error { return e.Err }

func trim(s string) string {
	const p = "boltfmt: "
	if len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}
