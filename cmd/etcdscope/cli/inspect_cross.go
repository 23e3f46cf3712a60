package cli

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/etcdscope/etcdscope/finding"
	"github.com/etcdscope/etcdscope/internal/datadir"
	"github.com/etcdscope/etcdscope/mvccview"
	"github.com/etcdscope/etcdscope/snapfmt"
	"github.com/etcdscope/etcdscope/walfmt"
)

// walFacts is what inspect learns from the WAL besides its summary: the
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
		cc, err := walfmt.DecodeConfChange(e.Data)
		if err != nil || w.members == nil {
			return nil
		}
		switch cc.Type {
		case walfmt.ConfChangeAddNode, walfmt.ConfChangeAddLearnerNode:
			w.members[cc.NodeID] = true
		case walfmt.ConfChangeRemoveNode:
			delete(w.members, cc.NodeID)
		}
	case walfmt.EntryNormal:
		r, err := walfmt.DecodeRequest(e.Data)
		if err != nil {
			return nil
		}
		switch {
		case r.ClusterVersionSet != nil:
			w.clusterVersion = r.ClusterVersionSet.Ver
		case r.V2 != nil && r.V2.Path == "/0/version" && r.V2.Method == "PUT":
			w.clusterVersion = r.V2.Val
		}
	}
	return nil
}

// crossCheck compares the db with the WAL and the snap files the way
// etcd's boot would use them together.
func crossCheck(l datadir.Layout, rep *finding.Report, sum *walfmt.Summary, facts *walFacts, sd *snapfmt.Dir, st *mvccview.Store) {
	if sum == nil || st == nil {
		return
	}
	db := l.Rel(l.DB)
	ci := st.Meta.ConsistentIndex
	var commit uint64
	if sum.HardState != nil {
		commit = sum.HardState.Commit
	}
	add := func(sev finding.Severity, code, file string, index uint64, format string, args ...any) {
		f := finding.Finding{Severity: sev, Code: code, File: file, Message: fmt.Sprintf(format, args...)}
		if index != 0 {
			f.Index = finding.Ptr(index)
		}
		rep.Add(f)
	}

	// The db cannot have applied what the WAL never held.
	if sum.Entries > 0 && ci > sum.LastIndex {
		add(finding.Error, "db-ahead-of-wal", db, ci,
			"the db has applied entries up to index %d, but the WAL's last entry is %d: the WAL lost its tail (or is another member's). etcd still starts, but treats every entry up to %d as already applied, so the next %d entries it commits would never reach the db",
			ci, sum.LastIndex, ci, ci-sum.LastIndex)
	}

	// The snapshot etcd 3.5/3.6 would load at boot, and the db it needs.
	base := ci
	if sd != nil {
		var ids []snapfmt.SnapshotID
		for _, s := range sum.Snapshots {
			if s.Index <= commit {
				ids = append(ids, snapfmt.SnapshotID{Term: s.Term, Index: s.Index})
			}
		}
		if n := len(ids); n > 0 && ids[n-1].Index > ci {
			newest := ids[n-1]
			found := false
			for _, f := range sd.Snaps {
				if f.Loadable() && f.ID() == newest {
					found = true
				}
			}
			if !found {
				add(finding.Error, "wal-snapshot-missing", l.Rel(l.SnapDir), newest.Index,
					"the WAL's newest committed snapshot record (term %d, index %d) has no readable .snap file (%s), and the db is only at index %d",
					newest.Term, newest.Index, snapfmt.SnapName(newest.Term, newest.Index), ci)
			}
		}
		choice := snapfmt.NewestAvailable(sd.Snaps, ids)
		if f := choice.Loaded; f != nil && f.ID().Index > ci {
			idx := f.ID().Index
			usable := false
			for _, d := range sd.DBs {
				if d.NameOK && d.Index == idx && d.Bolt {
					usable = true
				}
			}
			if usable {
				base = idx // etcd swaps the .snap.db in for the db
			} else {
				add(finding.Error, "snapdb-missing", l.Rel(filepath.Join(l.SnapDir, snapfmt.DBName(idx))), idx,
					"etcd would load snapshot %s (index %d), which is ahead of the db (consistent_index %d), and then look for %s to replace the db: it is missing, so etcd fails with \"failed to find database snapshot file\"",
					f.Name, idx, ci, snapfmt.DBName(idx))
			}
		}
	}

	// The WAL must still hold every entry after what the db (or the
	// snapshot db) holds.
	if sum.Entries > 0 && sum.FirstIndex > base+1 {
		add(finding.Error, "db-behind-wal", db, base,
			"the db holds the state up to index %d, but the WAL's oldest entry is %d: entries %d to %d are gone, so etcd cannot bring the db up to date",
			base, sum.FirstIndex, base+1, sum.FirstIndex-1)
	}

	// Membership: the db's members against what the log implies.
	if facts.membersKnown {
		ms, err := st.Members()
		if err == nil {
			var dbIDs, walIDs []string
			for _, m := range ms {
				if !m.Removed && m.Problem == "" {
					dbIDs = append(dbIDs, m.ID)
				}
			}
			for id := range facts.members {
				walIDs = append(walIDs, strconv.FormatUint(id, 16))
			}
			sort.Strings(dbIDs)
			sort.Strings(walIDs)
			if strings.Join(dbIDs, ",") != strings.Join(walIDs, ",") && len(dbIDs) > 0 {
				add(finding.Warning, "membership-mismatch", db, 0,
					"the db's members bucket lists %v, the WAL's conf state implies %v", dbIDs, walIDs)
			}
		}
	}

	// Storage version against the cluster version the WAL last set.
	if sv, cv := st.Meta.StorageVersion, facts.clusterVersion; sv != "" && cv != "" && majorMinor(sv) != majorMinor(cv) {
		add(finding.Warning, "storage-version-mismatch", db, 0,
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
