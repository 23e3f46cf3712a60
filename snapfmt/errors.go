package snapfmt

import (
	"errors"
	"fmt"
)

// Problem sentinels. A [File], [DBFile] or [Leftover] carries each problem
// found in it as a [*CorruptionError] that wraps one of these, so callers
// test the class with errors.Is and read the position with errors.As.
var (
	// ErrEmpty is returned for a .snap file that is empty, whose data field
	// is missing or empty, or whose crc field is zero: what etcd's snap.Read
	// rejects as "snap: empty snapshot".
	ErrEmpty = errors.New("snapfmt: empty snapshot")

	// ErrUndecodable is returned when a .snap file's bytes do not decode as
	// a snappb.Snapshot, or its data as a raftpb.Snapshot: a bad tag, a
	// truncated varint, a length beyond the end of the file, a known field
	// with the wrong wire type.
	ErrUndecodable = errors.New("snapfmt: undecodable snapshot")

	// ErrCRCMismatch is returned when the CRC-32C of a .snap file's data
	// field does not equal its crc field.
	ErrCRCMismatch = errors.New("snapfmt: crc mismatch")

	// ErrNameMismatch is returned when the term or index in a .snap file's
	// name (%016x-%016x.snap, term-index) differs from its metadata.
	ErrNameMismatch = errors.New("snapfmt: name does not match metadata")

	// ErrBadName is returned for a *.snap or *.snap.db file whose name is not
	// in etcd's form. etcd still tries to load such a .snap (it only checks
	// the suffix, and sorts names as strings), but never finds such a
	// .snap.db.
	ErrBadName = errors.New("snapfmt: name not in etcd's form")

	// ErrStoreUndecodable is returned when a snapshot's v2 store JSON does
	// not decode the way etcd's v2store.Recovery needs: a JSON syntax
	// error, a known field of the wrong JSON type, no root node. etcd 3.5
	// and 3.6 panic when they load such a snapshot.
	ErrStoreUndecodable = errors.New("snapfmt: v2 store does not decode")

	// ErrStoreOdd is returned for v2 store content that decodes but is not
	// what etcd writes: a member id that is not hex, member attributes that
	// are not JSON, a node whose Path disagrees with its place in the tree,
	// nesting beyond any real store.
	ErrStoreOdd = errors.New("snapfmt: odd v2 store content")

	// ErrSHAMismatch is returned when a database snapshot carries a SHA-256
	// trailer (etcdctl snapshot save) that is not the SHA-256 of the bytes
	// before it.
	ErrSHAMismatch = errors.New("snapfmt: sha256 trailer mismatch")

	// ErrNotBolt is returned for a database file whose meta pages do not
	// carry bbolt's magic.
	ErrNotBolt = errors.New("snapfmt: not a bbolt file")

	// ErrLeftover is returned for a file in the snap directory that is
	// neither a snapshot nor the db: a .broken file, an incomplete download
	// (tmp*), a defragmentation temp file (db.tmp*) or an unknown name.
	ErrLeftover = errors.New("snapfmt: leftover file")
)

// Severity says how bad a problem is. Errors mean etcd would fail or lose
// data, or the bytes are damaged; warnings are oddities worth a look.
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
	default:
		return "info"
	}
}

// codes maps each sentinel to its stable finding code (CONTRACT.md).
var codes = []struct {
	err      error
	code     string
	severity Severity
}{
	{ErrCRCMismatch, "snap-crc-mismatch", SeverityError},
	{ErrEmpty, "snap-undecodable", SeverityError},
	{ErrUndecodable, "snap-undecodable", SeverityError},
	{ErrNameMismatch, "snap-name-mismatch", SeverityError},
	{ErrBadName, "snap-bad-name", SeverityWarning},
	{ErrStoreUndecodable, "snap-store-undecodable", SeverityError},
	{ErrStoreOdd, "snap-store-odd", SeverityWarning},
	{ErrSHAMismatch, "snapdb-sha-mismatch", SeverityError},
	{ErrNotBolt, "snapdb-not-bolt", SeverityError},
	{ErrLeftover, "snap-leftover", SeverityWarning},
}

// Code returns the stable finding code for a problem, "snap-internal" for
// an error that wraps none of the sentinels.
func Code(err error) string {
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return "snap-internal"
}

// SeverityOf returns the severity of a problem.
func SeverityOf(err error) Severity {
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.severity
		}
	}
	return SeverityError
}

// CorruptionError places a problem in a file: its name, the absolute byte
// offset of the damaged field or bytes (-1 when the problem has no place,
// as for a leftover), and the raft index of the snapshot when one is
// known. Err is one of the sentinels above.
type CorruptionError struct {
	File   string // base name of the file
	Offset int64  // byte offset in File, -1 when not applicable
	Index  uint64 // raft index, 0 when unknown
	Err    error  // the sentinel
	Detail string // what exactly was seen, lower case, no final punctuation
}

func (e *CorruptionError) Error() string {
	s := "snapfmt: " + e.File
	if e.Offset >= 0 {
		s += fmt.Sprintf(": offset %#x", e.Offset)
	}
	s += ": " + trimPrefix(e.Err.Error())
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

func (e *CorruptionError) Unwrap() error { return e.Err }

// Message is the error text without the package and file name, for
// reports that print the file separately.
func (e *CorruptionError) Message() string {
	s := trimPrefix(e.Err.Error())
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

func trimPrefix(s string) string {
	const p = "snapfmt: "
	if len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

// InputError is returned when a path cannot be read as snapshot input at
// all: it does not exist, cannot be read, or is not a snapshot file.
type InputError struct {
	Path string
	Err  error
	Hint string // what the user can do about it
}

func (e *InputError) Error() string {
	s := fmt.Sprintf("%s: %v", e.Path, e.Err)
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

func (e *InputError) Unwrap() error { return e.Err }

// ErrUnknownFile is returned by [Open] for a single file that is neither
// named like a snapshot file nor starts like one.
var ErrUnknownFile = errors.New("not a .snap or .snap.db file")
