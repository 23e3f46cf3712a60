package repair

import (
	"fmt"
	"slices"
	"strings"

	"github.com/etcdscope/etcdscope/internal/textfmt"
)

// LossSummary is a loss as CONTRACT.md's recommendation carries it.
type LossSummary struct {
	// Measured is false when the loss could not be measured (Problem
	// says why): nothing is then known to be kept.
	Measured  bool     `json:"measured"`
	Problem   string   `json:"problem,omitempty"`
	Entries   int      `json:"entries"`
	Revisions int64    `json:"revisions"`
	Keys      []string `json:"keys"`
	Leases    []string `json:"leases"`
	Auth      []string `json:"auth"`
	Members   []string `json:"members"`
	Other     []string `json:"other"` // alarms, cluster and storage versions
}

// Summarize is the loss as a recommendation carries it; a nil loss (one
// that could not be measured) is unmeasured.
func (l *Loss) Summarize() *LossSummary {
	s := &LossSummary{Keys: []string{}, Leases: []string{}, Auth: []string{}, Members: []string{}, Other: []string{}}
	if l == nil {
		s.Problem = "the loss could not be measured"
		return s
	}
	s.Measured, s.Problem, s.Entries, s.Revisions = l.Problem == "", l.Problem, l.Entries, l.Revisions.Records
	for _, k := range l.Keys {
		s.Keys = append(s.Keys, textfmt.Bare(k.Key))
	}
	for _, le := range l.Leases {
		s.Leases = append(s.Leases, le.describe())
	}
	if !l.Auth.none() {
		s.Auth = append(s.Auth, l.Auth.describe())
	}
	for _, m := range l.Members {
		s.Members = append(s.Members, m.describe())
	}
	for _, a := range l.Alarms.Lost {
		s.Other = append(s.Other, "alarm lost: "+a)
	}
	for _, a := range l.Alarms.Added {
		s.Other = append(s.Other, "alarm added: "+a)
	}
	if v := l.ClusterVersion; v.Before != v.After {
		s.Other = append(s.Other, "cluster version "+v.Before+" → "+v.After)
	}
	if v := l.StorageVersion; v.Before != v.After {
		s.Other = append(s.Other, "storage version "+v.Before+" → "+v.After)
	}
	return s
}

// none reports whether the summary says nothing is lost.
func (s *LossSummary) none() bool {
	return s.Measured && s.Entries == 0 && s.Revisions == 0 && len(s.Keys)+len(s.Leases)+len(s.Auth)+len(s.Members)+len(s.Other) == 0
}

// String says it in one line.
func (s *LossSummary) String() string {
	switch {
	case !s.Measured:
		return "loss not measured: " + s.Problem
	case s.none():
		return "loses nothing"
	}
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, plural(n, what)))
		}
	}
	add(len(s.Keys), "key")
	add(int(s.Revisions), "revision")
	add(s.Entries, "entry")
	add(len(s.Leases), "lease")
	add(len(s.Members), "member")
	out := "loses " + strings.Join(parts, ", ")
	if len(parts) == 0 {
		out = "loses"
	}
	for _, a := range append(s.Auth, s.Other...) {
		out += "; " + a
	}
	return out
}

// less orders losses: an unmeasured loss is the worst, then by keys,
// revisions, entries, leases, auth, members and the rest.
func (l *Loss) less(o *Loss) bool {
	if l == nil || o == nil {
		return l != nil && o == nil
	}
	a, b := l.Summarize(), o.Summarize()
	if a.Measured != b.Measured {
		return a.Measured
	}
	ka := []int64{int64(len(a.Keys)), a.Revisions, int64(a.Entries), int64(len(a.Leases)), int64(len(a.Auth)), int64(len(a.Members)), int64(len(a.Other))}
	kb := []int64{int64(len(b.Keys)), b.Revisions, int64(b.Entries), int64(len(b.Leases)), int64(len(b.Auth)), int64(len(b.Members)), int64(len(b.Other))}
	return slices.Compare(ka, kb) < 0
}
