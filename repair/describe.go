package repair

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/etcdscope/etcdscope/internal/textfmt"
)

// DescribeOptions say how long a plan's description gets.
type DescribeOptions struct {
	// MaxItems is how many entries or keys a list shows (0: all); a line
	// then says how many more there are, followed by More.
	MaxItems int
	More     string
}

// describer writes a plan's lines.
type describer struct {
	w io.Writer
	o DescribeOptions
}

func (d describer) line(format string, args ...any) { fmt.Fprintf(d.w, format+"\n", args...) }

// list writes item(i) for the first n items, MaxItems at most.
func (d describer) list(n int, what string, item func(i int)) {
	for i := range n {
		if i == d.o.MaxItems && d.o.MaxItems > 0 {
			d.line("  … and %d more%s %s", n-i, what, d.o.More)
			return
		}
		item(i)
	}
}

func verb(dryRun bool) string {
	if dryRun {
		return "would write"
	}
	return "wrote"
}

func plural(n int, w string) string {
	if n == 1 {
		return w
	}
	return w + "s"
}

// lost lists the entries a repair leaves out.
func (d describer) lost(lost []Lost, why string) {
	if len(lost) == 0 {
		d.line("no entry %s", why)
		return
	}
	word := "entries"
	if len(lost) == 1 {
		word = "entry"
	}
	d.line("%d %s %s:", len(lost), word, why)
	d.list(len(lost), "", func(i int) {
		e := lost[i]
		d.line("  index %d term %d (%s:%#x): %s", e.Index, e.Term, e.Segment, e.Offset, e.Request)
	})
}

// flipped lists the bits a repair flipped back.
func (d describer) flipped(flips []Flip) {
	if len(flips) == 0 {
		return
	}
	d.line("flipped back %d %s, each explaining the damage of a record, which is then as etcd wrote it:", len(flips), plural(len(flips), "bit"))
	d.list(len(flips), "", func(i int) {
		f := flips[i]
		what := f.Type
		if f.Type == "entry" {
			what = fmt.Sprintf("entry %d (term %d)", f.Index, f.Term)
		}
		d.line("  bit %d of %s:%#x, in the %s at %#x", f.Bit, f.Segment, f.Offset, what, f.Record)
	})
}

// Describe writes what the plan says, for a person.
func (r *RebuildResult) Describe(w io.Writer, o DescribeOptions) {
	d, rp := describer{w, o}, r.Replay
	d.line("%s %s: member %016x of cluster %016x, raft index %d applied (term %d), state from %s",
		verb(r.DryRun), r.Out, rp.NodeID, rp.ClusterID, rp.AppliedIndex, rp.AppliedTerm, rp.Base)
	d.line("revision %d, %d keys live, compacted at %d", r.Revision, r.Keys, r.CompactRevision)
	d.lost(r.Dropped, "left out (not committed, or after --to-index)")
	r.Loss.describe(d)
}

// Describe writes what the plan says, for a person.
func (r *WALResult) Describe(w io.Writer, o DescribeOptions) {
	d := describer{w, o}
	defer r.Loss.describe(d)
	cut := "the WAL has no damage to cut at"
	if r.Cut != nil {
		cut = fmt.Sprintf("the WAL cut at %s:%#x (%s)", r.Cut.Segment, r.Cut.Offset, r.Cut.Code)
	}
	d.line("%s %s: %s; last entry kept %d (term %d), commit %d", verb(r.DryRun), r.Out, cut, r.LastIndex, r.LastTerm, r.Commit)
	d.flipped(r.Flipped)
	if s := r.FromDB; s != nil {
		snap := s.Snap + " written from the db's membership"
		if !s.Written {
			snap = "the member's own " + s.Snap
		}
		d.line("the WAL starts from the db, which holds every entry up to its consistent_index %d (term %d): a snapshot record there, and %s", s.Index, s.Term, snap)
	}
	for _, a := range r.AfterCut {
		from := "this WAL, read past its damage"
		if a.From != fromWAL {
			from = "peer " + textfmt.BareString(a.From)
		}
		d.line("entries %d to %d (%d) after the log kept: from %s", a.First, a.Last, a.Last-a.First+1, from)
	}
	if r.Cleared > 0 || r.Garbage > 0 {
		d.line("cleared: %d records' padding, %d bytes of garbage after the end", r.Cleared, r.Garbage)
	}
	d.lost(r.Lost, "lost after the cut")
	for _, p := range slices.Sorted(maps.Keys(r.PeersHave)) {
		d.line("  %s holds %d of them", p, r.PeersHave[p])
	}
	d.line("db: %s (its consistent_index was %d); revision %d, %d keys live", r.DB, r.ConsistentIndex, r.Revision, r.Keys)
	if len(r.DroppedSnaps) > 0 {
		d.line("left out: %s", strings.Join(r.DroppedSnaps, ", "))
	}
	if len(r.LostKeys) == 0 {
		d.line("no key's state is lost")
		return
	}
	state := func(s *KeyState) string {
		if s == nil {
			return "absent"
		}
		return fmt.Sprintf("mod %d ver %d", s.ModRevision, s.Version)
	}
	d.line("%d %s whose state is lost (before → after):", len(r.LostKeys), plural(len(r.LostKeys), "key"))
	d.list(len(r.LostKeys), "", func(i int) {
		k := r.LostKeys[i]
		d.line("  %s: %s → %s", textfmt.Bare(k.Key), state(k.Before), state(k.After))
	})
}

// Describe writes what the plan says, for a person.
func (r *BoltResult) Describe(w io.Writer, o DescribeOptions) {
	d := describer{w, o}
	d.line("%s %s: both metas carry txid %d (the tree of meta %d); freelist %s", verb(r.DryRun), r.Out, r.TxID, r.Meta, r.Freelist)
	for i, m := range r.Metas {
		state, tree := "valid", "sound"
		if !m.Valid {
			state = "invalid: " + m.Problem
		}
		if !m.TreeSound {
			tree = "not sound: " + m.TreeProblem
		}
		d.line("  meta %d (txid %d): %s; its tree (root %d) %s", i, m.TxID, state, m.Root, tree)
	}
	if r.Reverted != nil {
		d.line("transaction %d is lost: %s", r.Reverted.TxID, r.Reverted.Why)
	}
	for _, f := range r.Fixed {
		d.line("fixed: %s", f)
	}
	d.line("revision %d, %d keys live; %d %s whose state differs from what can be read of the input", r.Revision, r.Keys, len(r.ChangedKeys), plural(len(r.ChangedKeys), "key"))
	if s := r.OnStart; s != nil {
		d.line("on start, etcd applies the WAL's entries %d to %d again: revision %d, %d keys live then", s.ConsistentIndex+1, s.AppliedIndex, s.Revision, s.Keys)
	} else if r.Reverted != nil {
		d.line("on start, etcd applies again the WAL's entries past the older consistent index (give the data dir to see what it will hold)")
	}
	r.Loss.describe(d)
}

// Describe writes what the plan says, for a person.
func (r *SalvageResult) Describe(w io.Writer, o DescribeOptions) {
	d := describer{w, o}
	defer r.Loss.describe(d)
	d.line("%s %s: consistent_index %d, revision %d (compacted at %d), %d keys live", verb(r.DryRun), r.Out, r.ConsistentIndex, r.Revision, r.CompactRevision, r.Keys)
	var buckets []string
	for _, b := range slices.Sorted(maps.Keys(r.Placed)) {
		buckets = append(buckets, fmt.Sprintf("%s %d", b, r.Placed[b]))
	}
	d.line("placed: %s; %d key-bucket records recovered from %d unreachable pages", strings.Join(buckets, ", "), r.Recovered, len(r.RecoveredPages))
	d.list(len(r.NotPlaced), " not placed", func(i int) {
		n := r.NotPlaced[i]
		d.line("not placed: page %d %s %s: %s", n.Page, n.Bucket, textfmt.Bare(n.Key), n.Why)
	})
	for _, m := range r.Missing {
		d.line("no record of revisions %d to %d", m.From, m.To)
	}
	if !r.KnowsLostKeys {
		d.line("the keys whose state is lost cannot be named without the member's WAL (give its data dir)")
		return
	}
	d.line("%d %s whose state is lost, against the WAL replayed to the same index", len(r.LostKeys), plural(len(r.LostKeys), "key"))
	d.list(len(r.LostKeys), "", func(i int) { d.line("  %s", textfmt.Bare(r.LostKeys[i].Key)) })
}
