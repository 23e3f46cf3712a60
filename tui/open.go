package tui

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/etcdscope/etcdscope/inspect"
	"github.com/etcdscope/etcdscope/internal/datadir"
	"github.com/etcdscope/etcdscope/snapfmt"
	"github.com/etcdscope/etcdscope/tui/panes"
)

// OpenOptions configure Open.
type OpenOptions struct {
	// Provenance, when set, places each revision of the MVCC tab's
	// histories in the raft log.
	Provenance Provenance
}

// Open resolves path (a data dir, a member dir, a wal dir, one segment or
// a db file) and opens a source for each thing it holds, read-only and
// without a lock. Only what the first screen needs is read here: the WAL's
// segment list and the db's checking walk. The snap files' digests, the
// key index (a pass over the key bucket) and the findings (inspect's: for
// a member its whole check, else a pass over the WAL) are read in
// commands once the browser runs. The closer closes
// every file, those opened later included.
func Open(path string, opts OpenOptions) (Sources, io.Closer, error) {
	var src Sources
	c := &closers{}
	l, err := datadir.Resolve(path)
	if err != nil {
		return src, nil, err
	}
	if p, err := l.WAL(); err == nil {
		w, closer, err := OpenWAL(p)
		if err != nil {
			return src, nil, err
		}
		c.add(closer)
		src.WAL = w
	}
	if l.SnapDir != "" {
		dir := l.SnapDir
		src.LoadSnap = func() ([]panes.Item, error) { return SnapItems(dir) }
	}
	if l.DB != "" {
		b, closer, err := OpenBolt(l.DB)
		if err != nil {
			c.Close()
			return src, nil, err
		}
		c.add(closer)
		src.Bolt = b
		db := l.DB
		src.LoadMVCC = func() (panes.MVCCSource, error) {
			mv, closer, err := OpenMVCC(db, opts.Provenance)
			if err != nil {
				return nil, err
			}
			c.add(closer)
			return mv, nil
		}
	}
	if src.WAL == nil && src.Bolt == nil && src.LoadSnap == nil {
		return src, nil, errors.New("tui: nothing to show: give a data dir, a member dir, a wal dir, a .wal file or a db")
	}
	src.LoadFindings = findingsLoader(path, l, src.WAL, src.Bolt)
	return src, c, nil
}

// verdictItems is inspect's verdict as the first item of the findings:
// what real etcd does when it starts on the member.
func verdictItems(v *inspect.Verdict) []panes.Item {
	if v == nil {
		return nil
	}
	it := panes.Item{Problem: v.Outcome != inspect.Starts && v.Outcome != inspect.SelfRepairs,
		Title:  fmt.Sprintf("verdict: etcd %s %s", v.EtcdVersion, v.Outcome),
		Detail: []string{v.Message}}
	for _, c := range v.Changes {
		it.Detail = append(it.Detail, "etcd "+c)
	}
	return []panes.Item{it}
}

// findingsLoader reads what inspect reports: for a member everything
// inspect finds, its cross-checks included; for a lone WAL, db or snap
// dir what its check finds, from the sources' own reads.
func findingsLoader(path string, l datadir.Layout, wal panes.WALSource, db panes.BoltSource) func() ([]panes.Item, error) {
	if l.MemberDir != "" {
		return func() ([]panes.Item, error) {
			rep, err := inspect.Member(path, inspect.Options{})
			if err != nil {
				return nil, err
			}
			return append(verdictItems(rep.Verdict), ReportItems(&rep.Report, wal)...), nil
		}
	}
	return func() ([]panes.Item, error) {
		var snaps *snapfmt.Dir
		if l.SnapDir != "" {
			var err error
			if snaps, err = snapfmt.ReadDir(l.SnapDir, snapfmt.Options{}); err != nil {
				return nil, err
			}
		}
		return FindingItems(wal, db, snaps)
	}
}

// closers closes what Open and its loaders opened; loaders run on the
// program's goroutines.
type closers struct {
	mu     sync.Mutex
	cs     []io.Closer
	closed bool
}

func (c *closers) add(x io.Closer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		x.Close()
		return
	}
	c.cs = append(c.cs, x)
}

// Close closes every file; what a loader opens later is closed at once.
func (c *closers) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	var errs []error
	for _, x := range c.cs {
		errs = append(errs, x.Close())
	}
	c.cs = nil
	return errors.Join(errs...)
}
