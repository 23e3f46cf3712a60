package snapfmt

import (
	"errors"

	"github.com/etcdscope/etcdscope/finding"
	"github.com/etcdscope/etcdscope/internal/problem"
)

// classes registers each problem sentinel with its stable finding code
// (CONTRACT.md) and severity.
var classes = problem.NewClasses("snap-internal")

// Problem sentinels. A [File], [DBFile] or [Leftover] carries each problem
// found in it as a [*CorruptionError] that wraps one of these, so callers
// test the class with errors.Is and read the position with errors.As.
var (
	// ErrEmpty is returned for a .snap file that is empty, whose data field
	// is missing or empty, or whose crc field is zero: what etcd's snap.Read
	// rejects as "snap: empty snapshot".
	ErrEmpty = classes.New("snapfmt: empty snapshot", "snap-undecodable", finding.Error)

	// ErrUndecodable is returned when a .snap file's bytes do not decode as
	// a snappb.Snapshot, or its data as a raftpb.Snapshot: a bad tag, a
	// truncated varint, a length beyond the end of the file, a known field
	// with the wrong wire type.
	ErrUndecodable = classes.New("snapfmt: undecodable snapshot", "snap-undecodable", finding.Error)

	// ErrCRCMismatch is returned when the CRC-32C of a .snap file's data
	// field does not equal its crc field.
	ErrCRCMismatch = classes.New("snapfmt: crc mismatch", "snap-crc-mismatch", finding.Error)

	// ErrNameMismatch is returned when the term or index in a .snap file's
	// name (%016x-%016x.snap, term-index) differs from its metadata.
	ErrNameMismatch = classes.New("snapfmt: name does not match metadata", "snap-name-mismatch", finding.Error)

	// ErrBadName is returned for a *.snap or *.snap.db file whose name is not
	// in etcd's form. etcd still tries to load such a .snap (it only checks
	// the suffix, and sorts names as strings), but never finds such a
	// .snap.db.
	ErrBadName = classes.New("snapfmt: name not in etcd's form", "snap-bad-name", finding.Warning)

	// ErrStoreUndecodable is returned when a snapshot's v2 store JSON does
	// not decode the way etcd's v2store.Recovery needs: a JSON syntax
	// error, a known field of the wrong JSON type, no root node. etcd 3.5
	// and 3.6 panic when they load such a snapshot.
	ErrStoreUndecodable = classes.New("snapfmt: v2 store does not decode", "snap-store-undecodable", finding.Error)

	// ErrStoreOdd is returned for v2 store content that decodes but is not
	// what etcd writes: a member id that is not hex, member attributes that
	// are not JSON, a node whose Path disagrees with its place in the tree,
	// nesting beyond any real store.
	ErrStoreOdd = classes.New("snapfmt: odd v2 store content", "snap-store-odd", finding.Warning)

	// ErrSHAMismatch is returned when a database snapshot carries a SHA-256
	// trailer (etcdctl snapshot save) that is not the SHA-256 of the bytes
	// before it.
	ErrSHAMismatch = classes.New("snapfmt: sha256 trailer mismatch", "snapdb-sha-mismatch", finding.Error)

	// ErrNotBolt is returned for a database file whose meta pages do not
	// carry bbolt's magic. It is the same sentinel as boltfmt.ErrNotBolt.
	ErrNotBolt = classes.Add(problem.ErrNotBolt, "snapdb-not-bolt", finding.Error)

	// ErrLeftover is returned for a file in the snap directory that is
	// neither a snapshot nor the db: a .broken file, an incomplete download
	// (tmp*), a defragmentation temp file (db.tmp*) or an unknown name.
	ErrLeftover = classes.New("snapfmt: leftover file", "snap-leftover", finding.Warning)
)

// Code returns the stable finding code for a problem, "snap-internal" for
// an error that wraps none of the sentinels.
func Code(err error) string { return classes.Code(err) }

// SeverityOf returns the severity of a problem: [finding.Error] when etcd
// would fail or lose data, or the bytes are damaged; [finding.Warning] for
// an oddity worth a look.
func SeverityOf(err error) finding.Severity { return classes.Severity(err) }

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
	return problem.Located("snapfmt", e.File, e.Offset, e.Err, e.Detail)
}

func (e *CorruptionError) Unwrap() error { return e.Err }

// Message is the error text without the package and file name, for
// reports that print the file separately.
func (e *CorruptionError) Message() string { return problem.Message(e.Err, e.Detail) }

// InputError is returned when a path cannot be read as snapshot input at
// all: it does not exist, cannot be read, or is not a snapshot file. It is
// etcdscope's one input error type, the same as walfmt.InputError and
// boltfmt.InputError.
type InputError = problem.InputError

// ErrUnknownFile is returned by [Open], wrapped in an [*InputError], for a
// single file that is neither named like a snapshot file nor starts like
// one.
var ErrUnknownFile = errors.New("snapfmt: not a .snap or .snap.db file")
