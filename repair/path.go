package repair

import (
	"fmt"
	"io"

	"github.com/etcdscope/etcdscope/finding"
	"github.com/etcdscope/etcdscope/inspect"
	"github.com/etcdscope/etcdscope/internal/datadir"
	"github.com/etcdscope/etcdscope/walfmt"
)

// This file holds the repairs of what a path names, as the repair
// commands take it (an etcd data dir or member dir, or a db file for the
// repairs of a db): each resolves the member's files, opens what it reads
// of them, runs the repair over them, and reports with the plan what a
// check finds in the input. [Rebuild], [WAL], [Bolt] and [Salvage], over
// segments and files already found, are the primitives.

// A Plan is a repair's result: what it did or, in a dry run, would do.
type Plan interface {
	// Describe writes what the plan says, for a person.
	Describe(io.Writer, DescribeOptions)
	// Input is what the check of the input found, nil when it was not
	// checked (the primitives do not check).
	Input() *finding.Report
}

// Checked is, in every result, what the check of the repair's input found
// ([CheckMember], [CheckDB]): the repairs of a path set it, and JSON
// writes its findings and summary beside the plan's fields.
type Checked struct {
	*finding.Report
}

// Input is the report; see [Plan].
func (c *Checked) Input() *finding.Report { return c.Report }

func (c *Checked) check(r *finding.Report) { c.Report = r }

// An InputError is a path a repair does not take: a lone WAL for
// [WALPath], a path that holds no db for [BoltPath] and [SalvagePath].
type InputError struct{ msg string }

func (e *InputError) Error() string { return e.msg }

// RebuildPath is [Rebuild] of the member at path, a data dir or member
// dir: it reads the member's WAL and, when that does not start at index 1
// and opts.Replay gives no Base, starts from the newest .snap.db the
// member received, else from its db (replay's AutoBase). The loss is
// measured against the member's db, when it has one.
func RebuildPath(path, out string, opts RebuildOptions) (*RebuildResult, error) {
	if err := checkOut(out, path); err != nil {
		return nil, err
	}
	return onMember(path, func(l datadir.Layout, segs []walfmt.Segment) (*RebuildResult, error) {
		opts.Replay.AutoBase = l.SnapDir
		if opts.Reference == "" {
			opts.Reference = l.DB
			// A db that is missing or damaged is no reference; a WAL
			// from index 1 holds every entry any db of it applied.
			if fromStart(segs) && (l.DB == "" || inspect.VerifyDB(l.DB) != nil) {
				opts.Reference, opts.wholeLog = "", true
			}
		}
		return Rebuild(segs, out, opts)
	})
}

// fromStart reports whether a WAL's first segment is etcd's first: it
// holds the log from index 1.
func fromStart(segs []walfmt.Segment) bool {
	return len(segs) > 0 && segs[0].NameOK && segs[0].Seq == 0 && segs[0].Index == 0
}

// WALPath is [WAL] of the member at path, a data dir or member dir; peers
// are other members' data dirs, whose WALs give the entries the member's
// lacks where log matching allows it, and say which of them still hold
// the entries lost all the same (opts.Peers).
func WALPath(path, out string, peers []string, opts WALOptions) (*WALResult, error) {
	if err := checkOut(out, path); err != nil {
		return nil, err
	}
	return onMember(path, func(l datadir.Layout, segs []walfmt.Segment) (*WALResult, error) {
		if l.MemberDir == "" {
			return nil, &InputError{"repair wal needs a data dir or a member dir, not a lone WAL"}
		}
		opts.Peers = map[string][]walfmt.Segment{}
		for _, p := range peers {
			_, files, err := inspect.OpenWAL(p)
			if err != nil {
				return nil, err
			}
			defer files.Close()
			opts.Peers[p] = files.Segments
		}
		return WAL(l.MemberDir, segs, out, opts)
	})
}

// BoltPath is [Bolt] of the db at path, a db file or the db of a data dir
// or member dir, whose WAL it then reads (opts.WAL).
func BoltPath(path, out string, opts BoltOptions) (*BoltResult, error) {
	if err := checkOut(out, path); err != nil {
		return nil, err
	}
	return onDB(path, func(db string, wal []walfmt.Segment) (*BoltResult, error) {
		opts.WAL = wal
		return Bolt(db, out, opts)
	})
}

// SalvagePath is [Salvage] of the db at path, a db file or the db of a
// data dir or member dir, whose WAL it then reads (opts.WAL).
func SalvagePath(path, out string, opts SalvageOptions) (*SalvageResult, error) {
	if err := checkOut(out, path); err != nil {
		return nil, err
	}
	return onDB(path, func(db string, wal []walfmt.Segment) (*SalvageResult, error) {
		opts.WAL = wal
		return Salvage(db, out, opts)
	})
}

// checkable is a result a repair of a path reports its input's check in.
type checkable interface{ check(*finding.Report) }

// onMember runs repair on the layout of the member at path and its WAL,
// then checks the member as inspect does.
func onMember[R checkable](path string, repair func(datadir.Layout, []walfmt.Segment) (R, error)) (R, error) {
	var none R
	l, files, err := inspect.OpenWAL(path)
	if err != nil {
		return none, err
	}
	defer files.Close()
	res, err := repair(l, files.Segments)
	if err != nil {
		return none, err
	}
	res.check(CheckMember(path))
	return res, nil
}

// onDB runs repair on the db at path and, when path is a member's, its
// WAL, then checks the db as bolt check does.
func onDB[R checkable](path string, repair func(db string, wal []walfmt.Segment) (R, error)) (R, error) {
	var none R
	l, err := datadir.Resolve(path)
	if err == nil && l.DB == "" {
		err = &InputError{fmt.Sprintf("%s holds no db", path)}
	}
	if err != nil {
		return none, err
	}
	files := &walfmt.Files{}
	if p, werr := l.WAL(); werr == nil && l.MemberDir != "" {
		if files, err = walfmt.OpenPath(p); err != nil {
			return none, err
		}
	}
	defer files.Close()
	res, err := repair(l.DB, files.Segments)
	if err != nil {
		return none, err
	}
	res.check(CheckDB(path))
	return res, nil
}
