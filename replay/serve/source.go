package serve

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/etcdscope/etcdscope/inspect"
	"github.com/etcdscope/etcdscope/internal/datadir"
	"github.com/etcdscope/etcdscope/replay"
)

// Source is what to serve: one of Member, From and DB.
type Source struct {
	// Member is a data dir or member dir whose WAL is replayed with
	// Replay (its Out is set by Prepare, its AutoBase is the member's
	// snap dir), to serve the state it rebuilds.
	Member string
	Replay replay.Options
	// From is a data dir replay --out wrote, whose db is served as it is.
	From string
	// DB is a db file served as it is: a stopped member's, an etcdctl
	// snapshot save backup, a .snap.db.
	DB string
}

// Prepared is the private db Prepare made, and how to serve it.
type Prepared struct {
	// Options serve the db: DB and, for a member, its ids and the raft
	// term and index the replay reached.
	Options
	// Source is the db copied (the db of From), or the member replayed.
	Source string
	// Replay is the replay's result, for a member.
	Replay *replay.Result
}

// Prepare makes in dir, a private directory, the db [New] opens for src:
// a copy of the db ([CopyDB]), or a replay of the member. It writes only a
// db: a data dir laid out as etcdutl snapshot restore lays it out would
// reset the members to the one new member. What it reads is never opened
// by bbolt, locked or written.
func Prepare(src Source, dir string) (*Prepared, error) {
	p := &Prepared{Options: Options{DB: filepath.Join(dir, "db")}, Source: src.DB}
	switch {
	case src.Member != "":
		if err := p.replay(src); err != nil {
			return nil, err
		}
		return p, nil
	case src.From != "":
		l, err := datadir.Resolve(src.From)
		if err != nil {
			return nil, err
		}
		if l.DB == "" {
			return nil, fmt.Errorf("serve: %s holds no member/snap/db; give the dir replay --out wrote", src.From)
		}
		p.Source = l.DB
	}
	if err := CopyDB(p.Source, p.DB); err != nil {
		return nil, err
	}
	return p, nil
}

// replay replays the member of src into p's db.
func (p *Prepared) replay(src Source) error {
	l, files, err := inspect.OpenWAL(src.Member)
	if err != nil {
		return err
	}
	defer files.Close()
	opts := src.Replay
	opts.Out, opts.AutoBase = p.DB, l.SnapDir
	res, err := replay.Run(files.Segments, opts)
	if err != nil {
		return err
	}
	p.Source, p.Replay = src.Member, res
	p.ClusterID, p.MemberID, p.RaftTerm, p.RaftIndex = res.ClusterID, res.NodeID, res.AppliedTerm, res.AppliedIndex
	return nil
}

// CopyDB copies the db at src to dst, a new file: the private copy
// [Options.DB] asks for. src is opened read-only and never locked (a
// stopped member's db, a backup, a .snap.db). The copy is checked as bolt
// check checks a db, and a damaged one is refused: bbolt, which serve
// reads with, panics on damaged pages.
func CopyDB(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("serve: copying %s: %w", src, err)
	}
	err = inspect.VerifyDB(dst)
	if ve, ok := errors.AsType[*inspect.VerifyError](err); ok {
		return fmt.Errorf("serve: %s is damaged (%d problems; see etcdscope bolt check %s); serve needs a sound db: replay the member, or salvage it first", src, len(ve.Findings), src)
	}
	if err != nil {
		return fmt.Errorf("serve: %s: %w", src, err)
	}
	return nil
}
