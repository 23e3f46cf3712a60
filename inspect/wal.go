package inspect

import (
	"errors"
	"path/filepath"

	"github.com/etcdscope/etcdscope/finding"
	"github.com/etcdscope/etcdscope/internal/datadir"
	"github.com/etcdscope/etcdscope/walfmt"
)

// OpenWAL opens the WAL at path (a data dir, a member dir, a wal dir or
// one .wal file) read-only, taking no lock, and returns the member's
// layout with it.
func OpenWAL(path string) (datadir.Layout, *walfmt.Files, error) {
	l, err := datadir.Resolve(path)
	if err != nil {
		return l, nil, err
	}
	p, err := l.WAL()
	if err != nil {
		return l, nil, err
	}
	files, err := walfmt.OpenPath(p)
	if err != nil {
		return l, nil, err
	}
	return l, files, nil
}

// CheckWAL reads every record of the WAL at path (a data dir, a member
// dir, a wal dir or one .wal file) and reports its problems, as wal
// verify prints them: CRC mismatches and chain breaks, torn tails,
// garbage, bad lengths, sequence gaps, undecodable records.
func CheckWAL(path string) (*finding.Report, error) {
	l, files, err := OpenWAL(path)
	if err != nil {
		return nil, err
	}
	defer files.Close()
	sum, err := walfmt.Summarize(walfmt.NewReader(files.Segments, walfmt.Options{}), nil)
	if err != nil {
		return nil, err
	}
	return WAL(files.Segments, sum.Problems, l.Rel), nil
}

// WALMetadata is the member and cluster ids of the member at path, from
// its WAL's metadata record ([walfmt.ReadMetadata]); nil when it has no
// WAL (a lone db) or the WAL holds none.
func WALMetadata(path string) *walfmt.Metadata {
	_, files, err := OpenWAL(path)
	if err != nil {
		return nil
	}
	defer files.Close()
	return walfmt.ReadMetadata(files.Segments)
}

// summarize reads every record of the WAL at path (a wal dir or one
// segment), calling visit (when not nil) on each. The segments it returns
// name the files; their readers are closed.
func summarize(path string, visit func(*walfmt.Frame) error) ([]walfmt.Segment, *walfmt.Summary, error) {
	files, err := walfmt.OpenPath(path)
	if err != nil {
		return nil, nil, err
	}
	defer files.Close()
	sum, err := walfmt.Summarize(walfmt.NewReader(files.Segments, walfmt.Options{}), visit)
	return files.Segments, sum, err
}

// WAL turns the problems a walfmt reader found in segs into findings,
// each placed at its segment (named by rel) and byte offset, with its
// raft index when known.
func WAL(segs []walfmt.Segment, problems []error, rel func(path string) string) *finding.Report {
	rel = relOrSlash(rel)
	names := map[string]string{}
	for _, s := range segs {
		names[s.Name] = rel(s.Path)
	}
	r := &finding.Report{Findings: []finding.Finding{}}
	for _, p := range problems {
		r.Add(walFinding(names, p))
	}
	return r
}

func walFinding(names map[string]string, p error) finding.Finding {
	f := problemFinding(walfmt.SeverityOf(p), walfmt.Code(p), p)
	var ce *walfmt.CorruptionError
	if errors.As(p, &ce) {
		f.File = names[ce.Segment]
		if f.File == "" {
			f.File = ce.Segment
		}
		f.Offset = finding.Ptr(ce.Offset)
		if ce.Index != 0 {
			f.Index = finding.Ptr(ce.Index)
		}
		f.Message = ce.Message()
	}
	return f
}

// problemFinding is the finding for a decoder's problem p, of severity
// sev and code code, before it is placed in its file.
func problemFinding(sev finding.Severity, code string, p error) finding.Finding {
	return finding.Finding{Severity: sev, Code: code, Message: p.Error()}
}

// relOrSlash is rel, or for nil the path as it is, with forward slashes
// as findings name files.
func relOrSlash(rel func(string) string) func(string) string {
	if rel == nil {
		return filepath.ToSlash
	}
	return rel
}
