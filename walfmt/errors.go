package walfmt

import (
	"errors"
	"fmt"
)

// Problem sentinels. A [Frame] carries each problem found in it as a
// [*CorruptionError] that wraps one of these, so callers test the class with
// errors.Is and read the position with errors.As.
var (
	// ErrCRCMismatch is returned when a record's stored CRC does not equal
	// the running CRC-32C over the data of every record before it.
	ErrCRCMismatch = errors.New("walfmt: crc mismatch")

	// ErrCRCChainBreak is returned when a segment's leading CRC record does
	// not carry the running CRC at the end of the previous segment.
	ErrCRCChainBreak = errors.New("walfmt: crc chain break")

	// ErrTornTail is returned when the last record of the last segment is
	// incomplete (the file ends inside it, or a 512-byte sector of it is all
	// zeros and it does not decode) and nothing valid follows: what a crash
	// in the middle of a write leaves.
	ErrTornTail = errors.New("walfmt: torn tail")

	// ErrGarbageAfterEnd is returned for non-zero bytes after the end of the
	// log, in space that should hold only zero-filled preallocation.
	ErrGarbageAfterEnd = errors.New("walfmt: garbage after end of log")

	// ErrNonzeroPadding is returned when a frame's padding bytes, or the
	// reserved bits 59-62 of its length word, are not zero.
	ErrNonzeroPadding = errors.New("walfmt: non-zero padding")

	// ErrBadLength is returned for a length word that cannot be right: the
	// frame would end beyond the file, or the padding bits disagree with the
	// length.
	ErrBadLength = errors.New("walfmt: bad length")

	// ErrSequenceGap is returned when segment names skip a sequence number or
	// go backwards in raft index.
	ErrSequenceGap = errors.New("walfmt: segment sequence gap")

	// ErrZeroedRegion is returned for a run of zero bytes inside the log,
	// with valid records after it. etcd reads a zero length word as the end
	// of the segment and silently drops everything after it.
	ErrZeroedRegion = errors.New("walfmt: zeroed region inside the log")

	// ErrBadRecord is returned when a frame's bytes do not decode as a
	// walpb.Record, or carry an unknown record type.
	ErrBadRecord = errors.New("walfmt: undecodable record")

	// ErrUndecodablePayload is returned when a record's CRC is fine but its
	// data does not decode as the payload its type says (Entry, HardState,
	// Snapshot, Metadata).
	ErrUndecodablePayload = errors.New("walfmt: undecodable payload")

	// ErrMetadataConflict is returned when a metadata record differs from
	// the first one read; etcd refuses such a WAL.
	ErrMetadataConflict = errors.New("walfmt: conflicting metadata")

	// ErrCommittedOverwritten is returned when an entry replaces an entry at
	// an index the log had already declared committed, which raft forbids.
	ErrCommittedOverwritten = errors.New("walfmt: committed entry overwritten")

	// ErrIndexGap is returned when entry indexes jump forward with no
	// snapshot record to explain the gap.
	ErrIndexGap = errors.New("walfmt: entry index gap")

	// ErrSegmentIndexMismatch is returned when a segment's name does not
	// carry the index that follows the last entry of the previous segment.
	ErrSegmentIndexMismatch = errors.New("walfmt: segment index mismatch")
)

// Severity says how bad a problem is. Errors mean etcd would fail, lose data
// or was handed damaged bytes; warnings are oddities worth a look.
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
	{ErrCRCMismatch, "wal-crc-mismatch", SeverityError},
	{ErrCRCChainBreak, "wal-crc-chain-break", SeverityError},
	{ErrTornTail, "wal-torn-tail", SeverityError},
	{ErrGarbageAfterEnd, "wal-garbage-after-end", SeverityError},
	{ErrNonzeroPadding, "wal-nonzero-padding", SeverityError},
	{ErrBadLength, "wal-bad-length", SeverityError},
	{ErrSequenceGap, "wal-sequence-gap", SeverityError},
	{ErrZeroedRegion, "wal-zeroed-region", SeverityError},
	{ErrBadRecord, "wal-bad-record", SeverityError},
	{ErrUndecodablePayload, "wal-undecodable-entry", SeverityError},
	{ErrMetadataConflict, "wal-metadata-conflict", SeverityError},
	{ErrCommittedOverwritten, "wal-committed-overwritten", SeverityError},
	{ErrIndexGap, "wal-index-gap", SeverityError},
	{ErrSegmentIndexMismatch, "wal-segment-index-mismatch", SeverityWarning},
}

// Code returns the stable finding code for a problem, "wal-internal" for an
// error that wraps none of the sentinels.
func Code(err error) string {
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return "wal-internal"
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

// CorruptionError places a problem in the log: the segment file, the
// absolute byte offset of the damaged record or bytes, and the raft index
// when one is known. Err is one of the sentinels above.
type CorruptionError struct {
	Segment string // segment file name
	Offset  int64  // byte offset in the segment
	Index   uint64 // raft index, 0 when unknown
	Err     error  // the sentinel
	Detail  string // what exactly was seen, lower case, no final punctuation
}

func (e *CorruptionError) Error() string {
	s := fmt.Sprintf("walfmt: %s: offset %#x: %s", e.Segment, e.Offset, trimPrefix(e.Err.Error()))
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

func (e *CorruptionError) Unwrap() error { return e.Err }

func trimPrefix(s string) string {
	const p = "walfmt: "
	if len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

// InputError is returned when a path cannot be used as WAL input at all.
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

// ErrNoSegments is returned when a directory holds no WAL segment.
var ErrNoSegments = errors.New("no WAL segments (*.wal) found")

// ErrNotWAL is returned when a file is not named like a WAL segment and does
// not start with a WAL frame.
var ErrNotWAL = errors.New("not a WAL segment")
