package snapfmt

import (
	"fmt"
	"slices"
	"strings"
)

// Outcome is what etcd's snapshot loader does with one .snap file.
type Outcome int

const (
	// OutcomeLoaded: etcd loads this snapshot.
	OutcomeLoaded Outcome = iota
	// OutcomeBroken: snap.Read fails on it, so etcd renames it to
	// NAME.broken and tries the next one.
	OutcomeBroken
	// OutcomeUnmatched: it reads, but no WAL snapshot record has its term
	// and index (written before a crash cut the WAL record, or newer than
	// the committed index), so etcd skips it and leaves it in place.
	OutcomeUnmatched
	// OutcomeNotReached: older than the one loaded; etcd never reads it.
	OutcomeNotReached
)

func (o Outcome) String() string {
	switch o {
	case OutcomeLoaded:
		return "loaded"
	case OutcomeBroken:
		return "broken"
	case OutcomeUnmatched:
		return "unmatched"
	case OutcomeNotReached:
		return "not-reached"
	}
	return fmt.Sprintf("outcome(%d)", int(o))
}

// Step is one .snap file in the loader's order and what it does with it.
type Step struct {
	File    *File
	Outcome Outcome
}

// Choice is the result of etcd's snapshot search over a snap directory.
type Choice struct {
	// Loaded is the snapshot etcd would load; nil when it would find none
	// ("snap: no available snapshot"), in which case it replays the WAL
	// from its start.
	Loaded *File
	// Steps lists every .snap, newest first, as the loader sees them.
	Steps []Step
	// Constrained is set when the choice was limited to WAL snapshot
	// records ([NewestAvailable]).
	Constrained bool
}

// Renamed returns the files the search would rename to .broken.
func (c Choice) Renamed() []*File {
	var out []*File
	for _, s := range c.Steps {
		if s.Outcome == OutcomeBroken {
			out = append(out, s.File)
		}
	}
	return out
}

// Newest is etcd's Snapshotter.Load: it sorts the .snap names as strings,
// descending (so newest means highest term, then highest index, for
// etcd's names), and takes the first that snap.Read accepts. Every file
// it tries before that one is renamed to .broken. etcd-dump-logs and
// etcd before 3.5 search this way.
func Newest(snaps []*File) Choice {
	return choose(snaps, nil)
}

// NewestAvailable is etcd's Snapshotter.LoadNewestAvailable, which etcd
// 3.5 and 3.6 run at boot: as [Newest], but a snapshot counts only when
// its (term, index) equals one of walSnaps, the WAL's snapshot records
// whose index is at most the last hard state's commit
// (wal.ValidSnapshotEntries). An empty walSnaps matches nothing.
//
// etcd 3.7 reads no .snap file at boot: it builds the raft snapshot from
// the newest valid WAL snapshot record and the membership in the v3
// backend (bootstrap.go recoverSnapshot), though it still writes .snap
// files.
func NewestAvailable(snaps []*File, walSnaps []SnapshotID) Choice {
	if walSnaps == nil {
		walSnaps = []SnapshotID{}
	}
	return choose(snaps, walSnaps)
}

func choose(snaps []*File, walSnaps []SnapshotID) Choice {
	c := Choice{Constrained: walSnaps != nil}
	order := slices.Clone(snaps)
	slices.SortFunc(order, func(a, b *File) int { return strings.Compare(b.Name, a.Name) })
	for _, f := range order {
		switch {
		case c.Loaded != nil:
			c.Steps = append(c.Steps, Step{f, OutcomeNotReached})
		case !f.Loadable():
			c.Steps = append(c.Steps, Step{f, OutcomeBroken})
		case walSnaps != nil && !slices.Contains(walSnaps, f.ID()):
			c.Steps = append(c.Steps, Step{f, OutcomeUnmatched})
		default:
			c.Loaded = f
			c.Steps = append(c.Steps, Step{f, OutcomeLoaded})
		}
	}
	return c
}
