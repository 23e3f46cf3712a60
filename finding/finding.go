// Package finding is the one findings type every checker of etcdscope
// reports in, with the JSON shape fixed by CONTRACT.md:
//
//	{"findings":[{"severity":"error","code":"wal-crc-mismatch","file":"member/wal/0000000000000000-0000000000000000.wal",
//	  "offset":123456,"page":null,"index":812,"revision":null,"member":null,"message":"..."}],
//	 "summary":{"errors":1,"warnings":0}}
package finding

import (
	"fmt"
	"sort"
	"strconv"
)

// Severity is "error", "warning" or "info". Only errors make a command exit 1.
type Severity string

const (
	Error   Severity = "error"
	Warning Severity = "warning"
	Info    Severity = "info"
)

// Finding is one problem, placed as precisely as the checker can.
type Finding struct {
	Severity Severity `json:"severity"`
	Code     string   `json:"code"`
	File     string   `json:"file"`     // relative to the argument given
	Offset   *int64   `json:"offset"`   // byte offset in File
	Page     *uint64  `json:"page"`     // bbolt page id
	Index    *uint64  `json:"index"`    // raft index
	Revision *int64   `json:"revision"` // MVCC revision
	Member   *string  `json:"member"`   // member (compare)
	Message  string   `json:"message"`
	// EtcdAction is what real etcd does about it when it starts on the
	// member (inspect's verdict); empty where that is not known.
	EtcdAction string `json:"etcd_action,omitempty"`
}

// Summary counts findings by severity.
type Summary struct {
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
	Infos    int `json:"infos,omitempty"`
}

// Report is a list of findings and their summary.
type Report struct {
	Findings []Finding `json:"findings"`
	Summary  Summary   `json:"summary"`
}

// Add appends a finding and counts it.
func (r *Report) Add(f Finding) {
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	r.Findings = append(r.Findings, f)
	switch f.Severity {
	case Error:
		r.Summary.Errors++
	case Warning:
		r.Summary.Warnings++
	default:
		r.Summary.Infos++
	}
}

// Merge appends every finding of o.
func (r *Report) Merge(o *Report) {
	for _, f := range o.Findings {
		r.Add(f)
	}
}

// HasErrors reports whether any finding is at error severity.
func (r *Report) HasErrors() bool { return r.Summary.Errors > 0 }

// Sort orders findings by file, then offset, keeping the order of equal ones.
func (r *Report) Sort() {
	sort.SliceStable(r.Findings, func(i, j int) bool {
		a, b := r.Findings[i], r.Findings[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return deref(a.Offset) < deref(b.Offset)
	})
}

func deref(p *int64) int64 {
	if p == nil {
		return -1
	}
	return *p
}

// Ptr returns a pointer to v, for the optional fields.
func Ptr[T any](v T) *T { return &v }

// Where is the finding's place as the CLI prints it: the file, then the
// byte offset (file:0x1f0) or, without one, the page (file:page 49).
func (f Finding) Where() string {
	switch {
	case f.Offset != nil:
		return f.File + ":" + fmt.Sprintf("%#x", *f.Offset)
	case f.Page != nil:
		return f.File + ":page " + strconv.FormatUint(*f.Page, 10)
	}
	return f.File
}

// String is the finding on one line, as the commands print it without -w:
// severity, code, place, raft index where known, and the message.
func (f Finding) String() string {
	idx := ""
	if f.Index != nil {
		idx = " index " + strconv.FormatUint(*f.Index, 10)
	}
	s := fmt.Sprintf("%-7s %s %s%s: %s", f.Severity, f.Code, f.Where(), idx, f.Message)
	if f.EtcdAction != "" {
		s += "\n        etcd: " + f.EtcdAction
	}
	return s
}

// String counts the errors and warnings: "1 error, 0 warnings".
func (s Summary) String() string {
	return fmt.Sprintf("%d %s, %d %s", s.Errors, plural(s.Errors, "error"), s.Warnings, plural(s.Warnings, "warning"))
}

func plural(n int, w string) string {
	if n == 1 {
		return w
	}
	return w + "s"
}
