package compare

import (
	"fmt"
	"strconv"
	"strings"
)

// MemberTable is the members side by side, a row each: the log's extent
// and commit, the applied index (and where a replay forward took it), the
// state's revision and compaction, and the HashKV compared ("-" when it
// was not).
func (r *Result) MemberTable() (hdr []string, rows [][]string) {
	hdr = []string{"MEMBER", "NAME", "ID", "WAL ENTRIES", "COMMIT", "APPLIED", "REVISION", "COMPACTED", "HASHKV"}
	for _, m := range r.Members {
		applied := strconv.FormatUint(m.Applied, 10)
		if m.AppliedByReplay > 0 {
			applied += fmt.Sprintf(" (replayed to %d)", m.AppliedByReplay)
		}
		hash := "-"
		if m.Hash != nil {
			hash = strconv.FormatInt(*m.Hash, 10)
		}
		rows = append(rows, []string{m.Dir, m.Name, m.ID, fmt.Sprintf("%d..%d", m.FirstIndex, m.LastIndex),
			strconv.FormatUint(m.Commit, 10), applied, strconv.FormatInt(m.Revision, 10), strconv.FormatInt(m.CompactRevision, 10), hash})
	}
	return hdr, rows
}

// Notes are the lines that go under the members: where HashKV was
// compared, and each member's self-check or that none was run.
func (r *Result) Notes() []string {
	var out []string
	if r.HashRevision > 0 {
		out = append(out, fmt.Sprintf("HashKV compared at revision %d (compaction %d)", r.HashRevision, r.HashCompactRevision))
	}
	if !r.SelfChecked {
		return append(out, "self-check: not run (--self-check replays each member's WAL and compares it with the member's db)")
	}
	for _, m := range r.Members {
		out = append(out, fmt.Sprintf("self-check %s: %s", m.Dir, m.SelfCheck))
	}
	return out
}

// AdviceTable is the ways to recover, a row each: the member and the
// method, what it keeps and loses, and whether it is recommended or not
// advised.
func (r *Result) AdviceTable() (hdr []string, rows [][]string) {
	hdr = []string{"RECOVER FROM", "HOW", "KEEPS INDEX", "KEEPS REVISION", "LOSES ENTRIES", "LOSES REVISIONS", "ADVICE"}
	for _, a := range r.Advice {
		adv := ""
		if a.Recommended {
			adv = "recommended"
		} else if strings.HasPrefix(a.Note, notAdvised) {
			adv = "not advised: diverged"
		}
		rows = append(rows, []string{a.Dir, a.Method, strconv.FormatUint(a.KeepsIndex, 10), strconv.FormatInt(a.KeepsRevision, 10),
			strconv.FormatUint(a.LostEntries, 10), strconv.FormatInt(a.LostRevisions, 10), adv})
	}
	return hdr, rows
}
