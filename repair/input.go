package repair

import (
	"github.com/etcdscope/etcdscope/finding"
	"github.com/etcdscope/etcdscope/inspect"
)

// CheckMember is what inspect finds in the member at path, the input of
// [RebuildPath] and [WALPath]: the findings their plans carry
// ([Checked]). An input inspect cannot read gives one finding,
// input-unreadable, that says so.
func CheckMember(path string) *finding.Report {
	rep, err := inspect.Member(path, inspect.Options{})
	if err != nil {
		return unreadable(path, err)
	}
	return &rep.Report
}

// CheckDB is what bolt check finds in the db at path (a db file, or the
// db of a data dir or member dir), the input of [BoltPath] and
// [SalvagePath]: the findings their plans carry. An input it cannot read
// gives one finding, input-unreadable, that says so.
func CheckDB(path string) *finding.Report {
	rep, err := inspect.CheckDB(path)
	if err != nil {
		return unreadable(path, err)
	}
	return rep
}

func unreadable(path string, err error) *finding.Report {
	rep := &finding.Report{Findings: []finding.Finding{}}
	rep.Add(finding.Finding{Severity: finding.Error, Code: "input-unreadable", File: path, Message: err.Error()})
	return rep
}
