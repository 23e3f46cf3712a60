package replay

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Fields sums the replay up for a person, a labelled line each: where the
// state started, the member, what was applied and the revision reached,
// the requests by kind (applied, not applied, refused), which revisions
// are rebuilt from the log, and how long it took.
func (r *Result) Fields() [][2]string {
	return [][2]string{
		{"base", r.Base},
		{"member", fmt.Sprintf("%016x in cluster %016x", r.NodeID, r.ClusterID)},
		{"applied", fmt.Sprintf("%d entries, through index %d (term %d) of %d committed", r.Stats.Entries, r.AppliedIndex, r.AppliedTerm, r.Commit)},
		{"revision", fmt.Sprintf("%d, compacted at %d", r.Revision, r.CompactRev)},
		{"requests", counts(r.Stats.Requests)},
		{"not applied", counts(r.Stats.Unsupported)},
		{"refused", counts(r.Stats.Failed)},
		{"trustworthy", r.trust()},
		{"duration", r.Duration.String()},
	}
}

// counts lists requests by kind, "none" when there are none.
func counts(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", k, m[k])
	}
	return b.String()
}

// trust says which revisions the replay rebuilt from the log and which
// are the base's.
func (r *Result) trust() string {
	if r.BaseIndex == 0 {
		return fmt.Sprintf("revisions 1 to %d, rebuilt from the whole log", r.Revision)
	}
	if r.Revision == r.BaseRevision {
		return fmt.Sprintf("no revision after the base's %d: everything is the base's", r.BaseRevision)
	}
	return fmt.Sprintf("revisions %d to %d rebuilt from the WAL; up to %d they are the base's", r.BaseRevision+1, r.Revision, r.BaseRevision)
}
