// Package replay rebuilds an etcd member's state from its WAL the way etcd
// rebuilds it when it restarts, into a new etcd db. It restores raft's
// storage from the WAL (the last hard state, the entries no later entry
// replaced, a base db as the snapshot), restarts a real raft node
// (go.etcd.io/raft/v3) that hands out only what its hard state says is
// committed, and applies each committed entry as etcd's apply loop does:
// key-value requests and txns, leases, compactions, auth (users, roles,
// permissions, the auth revision), the cluster version, member attributes,
// downgrade, alarms, the legacy v2 requests etcd still applies, and conf
// changes. What etcd refuses when it applies an entry is refused too:
// writes the caller may not make or makes under an old auth revision, and
// what an active NOSPACE or CORRUPT alarm blocks, with etcd 3.5's applier
// chain or 3.6's as the cluster version says. The key bucket it writes is
// etcd's byte for byte, so HashKV matches the live server's.
//
// # Usage
//
// [Run] writes a db; [RunDataDir] lays a complete data dir around it that
// etcd starts on as a single-member cluster ([WriteDataDir], as etcdutl
// snapshot restore does), with a provenance file ([ProvenanceFile],
// [OpenProvenance]) that names the WAL entry behind each revision:
//
//	files, err := walfmt.OpenPath("member/wal")
//	...
//	defer files.Close()
//	res, err := replay.Run(files.Segments, replay.Options{
//		Out:      "replayed.db", // must not exist
//		AutoBase: "member/snap", // a base, if the WAL no longer starts at index 1
//	})
//	...
//	// res.AppliedIndex, res.Revision, res.Stats (requests applied, refused,
//	// not supported); res.Provenance()
//
// The state starts empty when the WAL starts at index 1. Otherwise it
// starts from [Options.Base] (an etcdctl snapshot save backup, a .snap.db
// or the member's own db), or from the base [ChooseBase] picks in
// [Options.AutoBase], and the WAL must hold every entry after it; else Run
// returns [ErrNeedsBase]. [Options.ToIndex] stops after an entry: the state
// as it was then. [Result.Base] says what the state started from.
//
// # Guarantees
//
//   - It writes only to [Options.Out] (RunDataDir: its dir), a new path: it
//     refuses one that exists. The WAL and the base are evidence and only
//     read, never locked; the base is copied to Out first. A failed Run
//     removes Out, and RunDataDir builds in a temporary sibling that it
//     renames into place last, so a replay killed midway leaves nothing
//     at dir.
//   - It uses only WAL records whose CRC checks out, and entries no later
//     entry replaced; a log with a gap (a snapshot installed from the
//     leader) needs a base at or after the gap.
//   - It never prints or logs: raft's logger is silenced, and a raft panic
//     is returned as an error.
//   - Memory holds, per entry, only where it is in the WAL (raft reads
//     entries again when it hands them out), plus the live key-values, the
//     key index, the leases, auth and members: not the log's data.
//   - Each Run is independent; Options.Progress is called on Run's
//     goroutine.
package replay
