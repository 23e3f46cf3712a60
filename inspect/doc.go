// Package inspect is etcdscope's member model: the whole-member health
// check (CONTRACT.md's "main job"), the checks of one WAL, one db or one
// snap dir, and the one mapping from the decoders' problems to the
// findings every command, the tui and the repairs report. It knows how
// etcd boots from a member's files: which .snap it would load, which db
// it would swap in, which entries it would still need from the WAL.
//
// # Usage
//
// [Member] checks a member given as an etcd --data-dir or a member dir:
// every WAL record, the .snap and .snap.db files, every db page and MVCC
// record, and the cross-checks between them (db-ahead-of-wal,
// db-behind-wal, wal-snapshot-missing, snapdb-missing, db-missing,
// membership, storage version):
//
//	rep, err := inspect.Member("/var/lib/etcd", inspect.Options{})
//	if err != nil {
//		// the member could not be read at all (not a data dir, unreadable)
//	}
//	for _, f := range rep.Findings {
//		// f.Severity, f.Code, f.File (relative to the path given), f.Offset ...
//	}
//	if rep.HasErrors() {
//		// etcd would refuse, damage or serve wrong data
//	}
//
// [CheckWAL], [CheckDB] and [CheckSnap] check one format on its own (wal
// verify, the bolt check of a repair's dry run, snap dump). A caller that
// has read a format already turns its problems into findings with [WAL],
// [Bolt] and [Snap]. [VerifyMember] and [VerifyDB] say whether a member or
// a db is sound enough to publish or serve: nothing at error severity.
//
// File names in findings are relative to the path given (an etcd data
// dir, a member dir, a wal or snap dir, or a single file, as in CONTRACT.md
// "Inputs"); the mapping functions take a rel function that names a path
// so (nil keeps paths as they are).
//
// # Guarantees
//
//   - Read-only: every file is opened O_RDONLY, and nothing is renamed,
//     truncated or written, even where etcd would (a .snap it cannot read
//     is reported, not renamed to .broken).
//   - No lock: it neither blocks nor is blocked by a running etcd, whose
//     files may then look briefly inconsistent.
//   - Never panics on input: damage is reported as findings; an error is
//     returned only when a check cannot run at all (a missing or
//     unreadable path, an I/O error).
//   - It does not print, exit or log. A Report is not safe for concurrent
//     use while it is being built; the functions share no state.
package inspect
