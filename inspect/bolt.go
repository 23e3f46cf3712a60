package inspect

import (
	"errors"
	"fmt"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/finding"
	"github.com/etcdscope/etcdscope/internal/datadir"
	"github.com/etcdscope/etcdscope/internal/textfmt"
)

// ErrNoDB is wrapped by [CheckDB]'s error when the path holds no db.
var ErrNoDB = errors.New("no bbolt db found")

// CheckDB checks every page of the db at path (a db file, or the
// member/snap/db of a data dir or member dir) as bolt check does and
// reports its problems.
func CheckDB(path string) (*finding.Report, error) {
	l, err := datadir.Resolve(path)
	if err != nil {
		return nil, err
	}
	if l.DB == "" {
		return nil, &datadir.Error{Path: path, Err: ErrNoDB, Hint: "give a db file, or an etcd data dir or member dir holding member/snap/db"}
	}
	return checkBolt(l.DB, l.Rel)
}

// checkBolt walks the db at path and maps its problems.
func checkBolt(path string, rel func(string) string) (*finding.Report, error) {
	db, err := boltfmt.Open(path, boltfmt.Options{})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	walk, err := db.Walk(boltfmt.WalkOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return Bolt(path, walk.Problems, rel), nil
}

// Bolt turns the problems a boltfmt walk found in the db at path (named
// by rel) into findings, each placed at its page and byte offset.
func Bolt(path string, problems []error, rel func(path string) string) *finding.Report {
	file := relOrSlash(rel)(path)
	r := &finding.Report{Findings: []finding.Finding{}}
	for _, p := range problems {
		f := problemFinding(boltfmt.SeverityOf(p), boltfmt.Code(p), p)
		f.File = file
		var pe *boltfmt.PageError
		if errors.As(p, &pe) {
			f.Page = finding.Ptr(uint64(pe.Page))
			f.Offset = finding.Ptr(pe.Offset)
			f.Message = pe.Message()
			if pe.Bucket != "" {
				f.Message += " (bucket " + textfmt.BareString(pe.Bucket) + ")"
			}
		}
		r.Add(f)
	}
	return r
}
