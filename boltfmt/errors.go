package boltfmt

import (
	"errors"
	"fmt"

	"github.com/etcdscope/etcdscope/finding"
	"github.com/etcdscope/etcdscope/internal/problem"
)

// classes registers each problem sentinel with its stable finding code
// (CONTRACT.md) and severity.
var classes = problem.NewClasses("bolt-internal")

// Problem sentinels. Every problem the decoder or the checker finds is a
// [*PageError] wrapping one of these; errors.Is tells the class, errors.As
// the page and offset.
var (
	// ErrMetaInvalid is returned for a meta page whose magic, version or
	// checksum is wrong, or whose fields cannot be right (root or freelist
	// at or beyond the high-water mark, page size not a power of two).
	ErrMetaInvalid = classes.New("boltfmt: invalid meta page", "bolt-meta-invalid", finding.Error)

	// ErrPageInvalid is returned for a page header that is wrong: its id is
	// not its position, its type is not what the reference to it expects,
	// its overflow runs past the high-water mark or the file, or an element
	// points outside the page.
	ErrPageInvalid = classes.New("boltfmt: invalid page", "bolt-page-invalid", finding.Error)

	// ErrPageUnreachable is returned for a page below the high-water mark
	// that is neither reachable from the root nor free.
	ErrPageUnreachable = classes.New("boltfmt: page unreachable and not free", "bolt-page-unreachable", finding.Error)

	// ErrPageDoubleUse is returned for a page reached twice (two references,
	// or a cycle), both reachable and free, or freed twice.
	ErrPageDoubleUse = classes.New("boltfmt: page used twice", "bolt-page-double-use", finding.Error)

	// ErrKeyOrder is returned for keys that are not strictly increasing in
	// a page, or that fall outside the range their parent branch gives them.
	ErrKeyOrder = classes.New("boltfmt: keys out of order", "bolt-key-order", finding.Error)

	// ErrFreelistInvalid is returned for a freelist page that cannot be read
	// (wrong type, count beyond the page) or that lists page ids below 2 or
	// at or beyond the high-water mark.
	ErrFreelistInvalid = classes.New("boltfmt: invalid freelist", "bolt-freelist-invalid", finding.Error)

	// ErrBucketInvalid is returned for a bucket entry whose value is not a
	// bucket header (16 bytes, or an inline page image after it).
	ErrBucketInvalid = classes.New("boltfmt: invalid bucket", "bolt-bucket-invalid", finding.Error)

	// ErrTruncated is returned when the file is shorter than the
	// high-water mark says: pages the tree may reference are missing.
	ErrTruncated = classes.New("boltfmt: file shorter than its high-water mark", "bolt-file-truncated", finding.Error)

	// ErrBigEndian is returned for a file written on a big-endian machine:
	// its magic reads byte-swapped.
	ErrBigEndian = classes.New("boltfmt: big-endian bbolt file", "bolt-big-endian", finding.Error)
)

// Code returns the stable finding code of a problem, "bolt-internal" for
// an error that wraps none of the sentinels.
func Code(err error) string { return classes.Code(err) }

// SeverityOf returns a problem's severity. A PageError may set it (an
// inactive meta that is merely older, for instance); otherwise it is the
// sentinel's.
func SeverityOf(err error) finding.Severity {
	var pe *PageError
	if errors.As(err, &pe) && pe.Severity != "" {
		return pe.Severity
	}
	return classes.Severity(err)
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
	Severity finding.Severity // "" for the sentinel's severity
}

func (e *PageError) Error() string {
	s := fmt.Sprintf("boltfmt: page %d (offset %#x): %s", e.Page, e.Offset, problem.Text(e.Err))
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

func (e *PageError) Unwrap() error { return e.Err }

// Message is the error text without the package, page and offset, for
// reports that print those separately.
func (e *PageError) Message() string { return problem.Message(e.Err, e.Detail) }

// InputError is returned by [Open] when a path cannot be read as a bbolt
// file at all: it does not exist, cannot be read, or is not a bbolt file.
// It is etcdscope's one input error type, the same as walfmt.InputError
// and snapfmt.InputError.
type InputError = problem.InputError

// ErrNotBolt is returned by [New] (and by [Open], wrapped in an
// [*InputError]) for a file too small to be a bbolt file, or neither of
// whose meta pages has bbolt's magic at any probed page size. It is the
// same sentinel as snapfmt.ErrNotBolt.
var ErrNotBolt = problem.ErrNotBolt
