package inspect

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/etcdscope/etcdscope/finding"
	"github.com/etcdscope/etcdscope/internal/textfmt"
	"github.com/etcdscope/etcdscope/mvccview"
	"github.com/etcdscope/etcdscope/snapfmt"
	"github.com/etcdscope/etcdscope/walfmt"
)

// walFacts is what Member learns from the WAL besides its summary: the
// membership the log implies and the cluster version it last set.
type walFacts struct {
	members        map[uint64]bool
	membersKnown   bool // a snapshot record's conf state, or the log from index 1
	clusterVersion string
}

// visit follows trusted records: conf states in snapshot records, conf
// change entries, cluster version requests (v3, or 3.5's v2 PUT /0/version).
func (w *walFacts) visit(f *walfmt.Frame) error {
	if !f.Trusted() {
		return nil
	}
	if s := f.Snapshot; s != nil && s.ConfState != nil {
		w.members = map[uint64]bool{}
		for _, id := range append(append([]uint64(nil), s.ConfState.Voters...), s.ConfState.Learners...) {
			w.members[id] = true
		}
		w.membersKnown = true
	}
	e := f.Entry
	if e == nil || f.Superseded {
		return nil
	}
	if e.Index == 1 && !w.membersKnown {
		w.members, w.membersKnown = map[uint64]bool{}, true
	}
	switch e.Type {
	case walfmt.EntryConfChange:
		w.confChange(e.Data)
	case walfmt.EntryNormal:
		w.request(e.Data)
	}
	return nil
}

func (w *walFacts) confChange(data []byte) {
	cc, err := walfmt.DecodeConfChange(data)
	if err != nil || w.members == nil {
		return
	}
	switch cc.Type {
	case walfmt.ConfChangeAddNode, walfmt.ConfChangeAddLearnerNode:
		w.members[cc.NodeID] = true
	case walfmt.ConfChangeRemoveNode:
		delete(w.members, cc.NodeID)
	}
}

func (w *walFacts) request(data []byte) {
	r, err := walfmt.DecodeRequest(data)
	if err != nil {
		return
	}
	switch {
	case r.ClusterVersionSet != nil:
		w.clusterVersion = r.ClusterVersionSet.Ver
	case r.V2 != nil && r.V2.Path == "/0/version" && r.V2.Method == "PUT":
		w.clusterVersion = r.V2.Val
	}
}

// committedSnapshots are the WAL's snapshot records at or below the last
// hard state's commit, in log order: etcd's wal.ValidSnapshotEntries, the
// only .snap files etcd 3.5 and 3.6 load at boot.
func committedSnapshots(sum *walfmt.Summary) []snapfmt.SnapshotID {
	var commit uint64
	if sum.HardState != nil {
		commit = sum.HardState.Commit
	}
	ids := []snapfmt.SnapshotID{}
	for _, s := range sum.Snapshots {
		if s.Index <= commit {
			ids = append(ids, snapfmt.SnapshotID{Term: s.Term, Index: s.Index})
		}
	}
	return ids
}

// cross compares the db with the WAL and the snap files the way etcd's
// boot uses them together.
type cross struct {
	rep   *finding.Report
	rel   func(string) string // names files in findings
	sum   *walfmt.Summary
	facts *walFacts
	st    *mvccview.Store
	db    string // the db's name in findings
	ci    uint64 // the db's consistent_index
}

// crossCheck runs the cross-checks on the WAL's summary and facts, the
// snap dir (nil when there is none) and the db at dbPath; it needs both
// the WAL and the db.
func crossCheck(rep *finding.Report, rel func(string) string, sum *walfmt.Summary, facts *walFacts, sd *snapfmt.Dir, dbPath string, st *mvccview.Store) {
	if sum == nil || st == nil {
		return
	}
	c := &cross{rep: rep, rel: rel, sum: sum, facts: facts, st: st, db: rel(dbPath), ci: st.Meta.ConsistentIndex}
	c.dbAhead()
	base := c.ci
	if sd != nil {
		ids := committedSnapshots(sum)
		c.snapshotMissing(sd, ids)
		base = c.snapDB(sd, ids)
	}
	c.dbBehind(base)
	c.membership()
	c.storageVersion()
}

func (c *cross) add(sev finding.Severity, code, file string, index uint64, format string, args ...any) {
	f := finding.Finding{Severity: sev, Code: code, File: file, Message: fmt.Sprintf(format, args...)}
	if index != 0 {
		f.Index = finding.Ptr(index)
	}
	c.rep.Add(f)
}

// dbAhead: the db cannot have applied what the WAL never held.
func (c *cross) dbAhead() {
	if s := c.sum; s.Entries > 0 && c.ci > s.LastIndex {
		c.add(finding.Error, "db-ahead-of-wal", c.db, c.ci,
			"the db has applied entries up to index %d, but the WAL's last entry is %d: the WAL lost its tail (or is another member's). etcd still starts, but treats every entry up to %d as already applied, so the next %d entries it commits would never reach the db",
			c.ci, s.LastIndex, c.ci, c.ci-s.LastIndex)
	}
}

// snapshotMissing: the WAL's newest committed snapshot record, when it is
// ahead of the db, needs its .snap.
func (c *cross) snapshotMissing(sd *snapfmt.Dir, ids []snapfmt.SnapshotID) {
	n := len(ids)
	if n == 0 || ids[n-1].Index <= c.ci {
		return
	}
	newest := ids[n-1]
	for _, f := range sd.Snaps {
		if f.Loadable() && f.ID() == newest {
			return
		}
	}
	c.add(finding.Error, "wal-snapshot-missing", c.rel(sd.Path), newest.Index,
		"the WAL's newest committed snapshot record (term %d, index %d) has no readable .snap file (%s), and the db is only at index %d",
		newest.Term, newest.Index, snapfmt.SnapName(newest.Term, newest.Index), c.ci)
}

// snapDB finds the snapshot etcd 3.5/3.6 would load at boot and, when it
// is ahead of the db, the .snap.db etcd swaps in for the db. It returns
// the index the state etcd starts from holds.
func (c *cross) snapDB(sd *snapfmt.Dir, ids []snapfmt.SnapshotID) uint64 {
	f := snapfmt.NewestAvailable(sd.Snaps, ids).Loaded
	if f == nil || f.ID().Index <= c.ci {
		return c.ci
	}
	idx := f.ID().Index
	for _, d := range sd.DBs {
		if d.NameOK && d.Index == idx && d.Bolt {
			return idx // etcd swaps the .snap.db in for the db
		}
	}
	c.add(finding.Error, "snapdb-missing", c.rel(filepath.Join(sd.Path, snapfmt.DBName(idx))), idx,
		"etcd would load snapshot %s (index %d), which is ahead of the db (consistent_index %d), and then look for %s to replace the db: it is missing, so etcd fails with \"failed to find database snapshot file\"",
		f.Name, idx, c.ci, snapfmt.DBName(idx))
	return c.ci
}

// dbBehind: the WAL must still hold every entry after what the db (or the
// snapshot db) holds.
func (c *cross) dbBehind(base uint64) {
	if s := c.sum; s.Entries > 0 && s.FirstIndex > base+1 {
		c.add(finding.Error, "db-behind-wal", c.db, base,
			"the db holds the state up to index %d, but the WAL's oldest entry is %d: entries %d to %d are gone, so etcd cannot bring the db up to date",
			base, s.FirstIndex, base+1, s.FirstIndex-1)
	}
}

// membership: the db's members against what the log implies.
func (c *cross) membership() {
	if !c.facts.membersKnown {
		return
	}
	ms, err := c.st.Members()
	if err != nil {
		return
	}
	var dbIDs, walIDs []string
	for _, m := range ms {
		if !m.Removed && m.Problem == "" {
			dbIDs = append(dbIDs, m.ID)
		}
	}
	for id := range c.facts.members {
		walIDs = append(walIDs, strconv.FormatUint(id, 16))
	}
	sort.Strings(dbIDs)
	sort.Strings(walIDs)
	if strings.Join(dbIDs, ",") != strings.Join(walIDs, ",") && len(dbIDs) > 0 {
		shown := make([]string, len(dbIDs)) // the bucket's keys, from the input
		for i, id := range dbIDs {
			shown[i] = textfmt.BareString(id)
		}
		c.add(finding.Warning, "membership-mismatch", c.db, 0,
			"the db's members bucket lists %v, the WAL's conf state implies %v", shown, walIDs)
	}
}

// storageVersion: the db's storage version against the cluster version
// the WAL last set.
func (c *cross) storageVersion() {
	if sv, cv := c.st.Meta.StorageVersion, c.facts.clusterVersion; sv != "" && cv != "" && majorMinor(sv) != majorMinor(cv) {
		c.add(finding.Warning, "storage-version-mismatch", c.db, 0,
			"the db's storage version is %s but the WAL last set the cluster version to %s", sv, cv)
	}
}

func majorMinor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}
