package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/olekukonko/tablewriter"

	"github.com/etcdscope/etcdscope/finding"
)

type outputFormat int

const (
	formatSimple outputFormat = iota
	formatTable
	formatJSON
)

// renderTable writes rows under a header with tablewriter. It is the only
// place that knows tablewriter.
func renderTable(w io.Writer, hdr []string, rows [][]string) error {
	t := tablewriter.NewTable(w)
	t.Header(toAny(hdr)...)
	for _, r := range rows {
		if err := t.Append(toAny(r)...); err != nil {
			return err
		}
	}
	return t.Render()
}

func toAny(s []string) []any {
	a := make([]any, len(s))
	for i, v := range s {
		a[i] = v
	}
	return a
}

// writeJSON writes v as one indented JSON document.
func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}

// findingRows is the pure row builder for findings.
func findingRows(r *finding.Report) (hdr []string, rows [][]string) {
	hdr = []string{"SEVERITY", "CODE", "WHERE", "INDEX", "MESSAGE"}
	for _, f := range r.Findings {
		rows = append(rows, []string{string(f.Severity), f.Code, where(f), optU(f.Index), f.Message})
	}
	return hdr, rows
}

func where(f finding.Finding) string {
	s := f.File
	switch {
	case f.Offset != nil:
		s += ":" + fmt.Sprintf("%#x", *f.Offset)
	case f.Page != nil:
		s += ":page " + strconv.FormatUint(*f.Page, 10)
	}
	return s
}

func optU(p *uint64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatUint(*p, 10)
}

// renderFindings prints a report in the chosen format: findings to out,
// the summary line to errOut (except in JSON, where it is in the document).
// It returns errFindings when the report has errors.
func renderFindings(out, errOut io.Writer, format outputFormat, r *finding.Report) error {
	switch format {
	case formatJSON:
		if err := writeJSON(out, r); err != nil {
			return err
		}
	case formatTable:
		hdr, rows := findingRows(r)
		if len(rows) > 0 {
			if err := renderTable(out, hdr, rows); err != nil {
				return err
			}
		}
	default:
		for _, f := range r.Findings {
			idx := ""
			if f.Index != nil {
				idx = " index " + strconv.FormatUint(*f.Index, 10)
			}
			if _, err := fmt.Fprintf(out, "%-7s %s %s%s: %s\n", f.Severity, f.Code, where(f), idx, f.Message); err != nil {
				return err
			}
		}
	}
	if format != formatJSON {
		fmt.Fprintf(errOut, "%s\n", summaryLine(r.Summary))
	}
	if r.HasErrors() {
		return errFindings
	}
	return nil
}

// writeReport writes doc, a JSON document that carries r's findings (and
// summary), and returns errFindings when r has errors: -w json of every
// command that checks.
func writeReport(out io.Writer, doc any, r *finding.Report) error {
	if err := writeJSON(out, doc); err != nil {
		return err
	}
	if r.HasErrors() {
		return errFindings
	}
	return nil
}

func summaryLine(s finding.Summary) string {
	return fmt.Sprintf("%d %s, %d %s", s.Errors, plural(s.Errors, "error"), s.Warnings, plural(s.Warnings, "warning"))
}

func plural(n int, w string) string {
	if n == 1 {
		return w
	}
	return w + "s"
}
