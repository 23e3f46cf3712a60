package walfmt

import (
	"errors"

	"github.com/etcdscope/etcdscope/finding"
	"github.com/etcdscope/etcdscope/internal/problem"
)

// classes registers each problem sentinel with its stable finding code
// (CONTRACT.md) and severity.
var classes = problem.NewClasses("wal-internal")

// Problem sentinels. A [Frame] carries each problem found in it as a
// [*CorruptionError] that wraps one of these, so callers test the class with
// errors.Is and read the position with errors.As.
var (
	// ErrCRCMismatch is returned when a record's stored CRC does not equal
	// the running CRC-32C over the data of every record before it.
	ErrCRCMismatch = classes.New("walfmt: crc mismatch", "wal-crc-mismatch", finding.Error)

	// ErrCRCChainBreak is returned when a segment's leading CRC record does
	// not carry the running CRC at the end of the previous segment.
	ErrCRCChainBreak = classes.New("walfmt: crc chain break", "wal-crc-chain-break", finding.Error)

	// ErrTornTail is returned when the last record of the last segment is
	// incomplete (the file ends inside it, or a 512-byte sector of it is all
	// zeros and it does not decode) and nothing valid follows: what a crash
	// in the middle of a write leaves.
	ErrTornTail = classes.New("walfmt: torn tail", "wal-torn-tail", finding.Error)

	// ErrGarbageAfterEnd is returned for non-zero bytes after the end of the
	// log, in space that should hold only zero-filled preallocation.
	ErrGarbageAfterEnd = classes.New("walfmt: garbage after end of log", "wal-garbage-after-end", finding.Error)

	// ErrNonzeroPadding is returned when a frame's padding bytes, or the
	// reserved bits 59-62 of its length word, are not zero.
	ErrNonzeroPadding = classes.New("walfmt: non-zero padding", "wal-nonzero-padding", finding.Error)

	// ErrBadLength is returned for a length word that cannot be right: the
	// frame would end beyond the file, or the padding bits disagree with the
	// length.
	ErrBadLength = classes.New("walfmt: bad length", "wal-bad-length", finding.Error)

	// ErrSequenceGap is returned when segment names skip a sequence number or
	// go backwards in raft index.
	ErrSequenceGap = classes.New("walfmt: segment sequence gap", "wal-sequence-gap", finding.Error)

	// ErrZeroedRegion is returned for a run of zero bytes inside the log,
	// with valid records after it. etcd reads a zero length word as the end
	// of the segment and silently drops everything after it.
	ErrZeroedRegion = classes.New("walfmt: zeroed region inside the log", "wal-zeroed-region", finding.Error)

	// ErrBadRecord is returned when a frame's bytes do not decode as a
	// walpb.Record, or carry an unknown record type.
	ErrBadRecord = classes.New("walfmt: undecodable record", "wal-bad-record", finding.Error)

	// ErrUndecodablePayload is returned when a record's CRC is fine but its
	// data does not decode as the payload its type says (Entry, HardState,
	// Snapshot, Metadata).
	ErrUndecodablePayload = classes.New("walfmt: undecodable payload", "wal-undecodable-entry", finding.Error)

	// ErrMetadataConflict is returned when a metadata record differs from
	// the first one read; etcd refuses such a WAL.
	ErrMetadataConflict = classes.New("walfmt: conflicting metadata", "wal-metadata-conflict", finding.Error)

	// ErrCommittedOverwritten is returned when an entry replaces an entry at
	// an index the log had already declared committed, which raft forbids.
	ErrCommittedOverwritten = classes.New("walfmt: committed entry overwritten", "wal-committed-overwritten", finding.Error)

	// ErrIndexGap is returned when entry indexes jump forward with no
	// snapshot record to explain the gap.
	ErrIndexGap = classes.New("walfmt: entry index gap", "wal-index-gap", finding.Error)

	// ErrSegmentIndexMismatch is returned when a segment's name does not
	// carry the index that follows the last entry of the previous segment.
	ErrSegmentIndexMismatch = classes.New("walfmt: segment index mismatch", "wal-segment-index-mismatch", finding.Warning)
)

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
	return problem.Located("walfmt", e.Segment, e.Offset, e.Err, e.Detail)
}

func (e *CorruptionError) Unwrap() error { return e.Err }

// Message is the error text without the package and segment name, for
// reports that print the segment separately.
func (e *CorruptionError) Message() string { return problem.Message(e.Err, e.Detail) }

// Code returns the stable finding code for a problem, "wal-internal" for an
// error that wraps none of the sentinels.
func Code(err error) string { return classes.Code(err) }

// SeverityOf returns the severity of a problem: [finding.Error] when etcd
// would fail or lose data, or was handed damaged bytes; [finding.Warning]
// for an oddity worth a look.
func SeverityOf(err error) finding.Severity { return classes.Severity(err) }

// InputError is returned when a path cannot be used as WAL input at all:
// it does not exist, cannot be read, or holds no WAL. It is etcdscope's one
// input error type, the same as snapfmt.InputError and boltfmt.InputError.
type InputError = problem.InputError

// Input sentinels, each wrapped in an [*InputError] that names the path.
var (
	// ErrNoSegments is returned by [OpenPath] for a directory that holds no
	// file named like a WAL segment (%016x-%016x.wal).
	ErrNoSegments = errors.New("walfmt: no WAL segments (*.wal) found")

	// ErrNotWAL is returned by [OpenPath] for a single file that is neither
	// named like a WAL segment nor starts with a WAL frame.
	ErrNotWAL = errors.New("walfmt: not a WAL segment")
)
