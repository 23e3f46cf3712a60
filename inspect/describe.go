package inspect

import (
	"fmt"
	"strings"

	"github.com/etcdscope/etcdscope/internal/textfmt"
)

// Fields sums the member up for a person, a labelled line each: its ids,
// the WAL's extent, raft state and snapshot records, the snap files, the
// db's pages and buckets, the MVCC state, what was checked, and the
// findings counted by severity.
func (r *Report) Fields() [][2]string {
	var f [][2]string
	add := func(what, format string, args ...any) { f = append(f, [2]string{what, fmt.Sprintf(format, args...)}) }
	if r.Member != "" {
		add("member", "%s in cluster %s", r.Member, r.Cluster)
	}
	if w := r.WAL; w != nil {
		add("wal", "%d segments, %s; entries %d..%d (last term %d), %d entries", w.Segments, textfmt.Size(w.Bytes), w.FirstIndex, w.LastIndex, w.LastTerm, w.Entries)
		if h := w.HardState; h != nil {
			add("raft", "term %d, vote %x, commit %d", h.Term, h.Vote, h.Commit)
		}
		if n := len(w.Snapshots); n > 0 {
			s := w.Snapshots[n-1]
			add("wal snap", "%d snapshot records, newest index %d term %d", n, s.Index, s.Term)
		}
	}
	add("snap", "%s", r.Snap.describe())
	switch d, s := r.DB, r.Snap; {
	case d != nil:
		add("db", "%s, %s; %d pages of %d bytes below the high-water mark (%d in the tree, %d free), meta %d; %d buckets, %d records in the key bucket",
			d.File, textfmt.Size(d.Bytes), d.HWM, d.PageSize, d.Tree, d.Free, d.MetaUsed, d.Buckets, d.Keys)
	case s.DB != "":
		add("db", "%s, %s", s.DB, textfmt.Size(s.DBBytes))
	default:
		add("db", "none (member/snap/db is missing)")
	}
	if d := r.DB; d != nil && d.ConsistentIndex > 0 {
		v := d.StorageVersion
		if v == "" {
			v = "-"
		}
		add("mvcc", "revision %d, compacted at %d; consistent_index %d, term %d; storage version %s", d.Revision, d.CompactRevision, d.ConsistentIndex, d.Term, v)
	}
	if v := r.Verdict; v != nil {
		add("verdict", "%s: %s (etcd %s, from the %s)", v.Outcome, v.Message, v.EtcdVersion, v.VersionFrom)
		for _, c := range v.Changes {
			add("  etcd", "%s", c)
		}
	}
	add("checked", "%s", strings.Join(r.Checked, ", "))
	add("findings", "%s", r.Summary)
	return f
}

// describe counts the files of member/snap by kind, naming the newest
// .snap and the files of other kinds.
func (s SnapInventory) describe() string {
	out := fmt.Sprintf("%d .snap files", len(s.Snaps))
	if n := len(s.Snaps); n > 0 {
		out += " (newest " + s.Snaps[n-1] + ")"
	}
	out += fmt.Sprintf(", %d .snap.db files", len(s.SnapDBs))
	if len(s.Other) > 0 {
		out += ", also: " + strings.Join(s.Other, " ")
	}
	return out
}
