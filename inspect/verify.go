package inspect

import (
	"fmt"
	"strings"

	"github.com/etcdscope/etcdscope/finding"
)

// VerifyError is returned by [VerifyMember] and [VerifyDB] when their
// check finds problems at error severity.
type VerifyError struct {
	Check    string            // the check that failed: "inspect" or "bolt check"
	Findings []finding.Finding // the findings at error severity
}

func (e *VerifyError) Error() string {
	what := make([]string, len(e.Findings))
	for i, f := range e.Findings {
		what[i] = f.Code + " " + f.File
		if f.Page != nil {
			what[i] += fmt.Sprintf(" page %d", *f.Page)
		}
		what[i] += ": " + f.Message
	}
	word := "errors"
	if len(e.Findings) == 1 {
		word = "error"
	}
	return fmt.Sprintf("%s found %d %s: %s", e.Check, len(e.Findings), word, strings.Join(what, "; "))
}

// VerifyMember checks the member at path as [Member] does and returns a
// [*VerifyError] when it finds anything at error severity: what a repair
// runs on a member it wrote before it publishes it.
func VerifyMember(path string) error {
	rep, err := Member(path, Options{})
	if err != nil {
		return err
	}
	return verified("inspect", &rep.Report)
}

// VerifyDB checks every page of the db file at path as bolt check does
// and returns a [*VerifyError] when it finds anything at error severity:
// what a repair runs on a db it wrote before it publishes it, and what
// serve asks of a db before bbolt (which panics on damaged pages) reads
// it.
func VerifyDB(path string) error {
	rep, err := checkBolt(path, nil)
	if err != nil {
		return err
	}
	return verified("bolt check", rep)
}

func verified(check string, rep *finding.Report) error {
	if !rep.HasErrors() {
		return nil
	}
	e := &VerifyError{Check: check}
	for _, f := range rep.Findings {
		if f.Severity == finding.Error {
			e.Findings = append(e.Findings, f)
		}
	}
	return e
}
