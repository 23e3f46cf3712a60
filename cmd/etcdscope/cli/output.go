package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/term"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/etcdscope/etcdscope/finding"
)

type outputFormat int

const (
	formatSimple outputFormat = iota
	formatTable
	formatJSON
)

// defaultTableWidth is the width tables wrap to when stdout is not a
// terminal.
const defaultTableWidth = 120

// cellPad is the space tablewriter leaves either side of a cell.
const cellPad = 2

// tableSample is how many rows a table holds before it fixes its column
// widths and starts writing; a table with fewer is sized to all of them.
const tableSample = 64

// A table writes rows under a header with tablewriter, as they come: the
// column widths are taken from the header and the first rows and fitted to
// the terminal's width (defaultTableWidth when the output is not a
// terminal), and a longer cell wraps. It is the only place that knows
// tablewriter.
type table struct {
	bw     *bufio.Writer
	width  int
	hdr    []string
	sample [][]string
	widths []int
	t      *tablewriter.Table
}

func newTable(out io.Writer, hdr ...string) *table {
	width := defaultTableWidth
	if f, ok := out.(interface{ Fd() uintptr }); ok && term.IsTerminal(f.Fd()) {
		if w, _, err := term.GetSize(f.Fd()); err == nil && w > 0 {
			width = w
		}
	}
	return &table{bw: bufio.NewWriter(out), width: width, hdr: hdr}
}

// Row writes one row (held back while the widths are being sampled).
func (t *table) Row(cells ...string) error {
	if t.t == nil {
		t.sample = append(t.sample, cells)
		if len(t.sample) < tableSample {
			return nil
		}
		return t.start()
	}
	return t.append(cells)
}

func (t *table) start() error {
	t.widths = fitWidths(t.width, t.hdr, t.sample)
	cw := tw.NewMapper[int, int]()
	for i, w := range t.widths {
		cw.Set(i, w)
	}
	t.t = tablewriter.NewTable(t.bw, tablewriter.WithStreaming(tw.StreamConfig{Enable: true}), tablewriter.WithColumnWidths(cw),
		tablewriter.WithHeaderAutoFormat(tw.Off), tablewriter.WithHeaderAutoWrap(tw.WrapNone), tablewriter.WithRowAutoWrap(tw.WrapNone))
	if err := t.t.Start(); err != nil {
		return err
	}
	t.t.Header(t.wrap(t.hdr))
	rows := t.sample
	t.sample = nil
	for _, r := range rows {
		if err := t.append(r); err != nil {
			return err
		}
	}
	return nil
}

func (t *table) append(cells []string) error { return t.t.Append(t.wrap(cells)) }

// wrap fits each cell to its column: lines break between words, and a word
// longer than the column is cut.
func (t *table) wrap(cells []string) []string {
	var out []string
	for i, c := range cells {
		if i >= len(t.widths) || twwidth.Width(c) <= t.widths[i]-cellPad && !strings.Contains(c, "\n") {
			continue
		}
		if out == nil {
			out = slices.Clone(cells)
		}
		out[i] = wrapText(c, t.widths[i]-cellPad)
	}
	if out == nil {
		return cells
	}
	return out
}

// wrapText breaks s into lines of at most width columns, between words
// where it can.
func wrapText(s string, width int) string {
	var b strings.Builder
	for n, line := range strings.Split(s, "\n") {
		if n > 0 {
			b.WriteByte('\n')
		}
		col := 0
		for i, word := range strings.Split(line, " ") {
			w := twwidth.Width(word)
			switch {
			case i > 0 && col+1+w <= width:
				b.WriteByte(' ')
				col++
			case i > 0:
				b.WriteByte('\n')
				col = 0
			}
			for _, r := range word {
				rw := twwidth.Width(string(r))
				if col+rw > width && col > 0 {
					b.WriteByte('\n')
					col = 0
				}
				b.WriteRune(r)
				col += rw
			}
		}
	}
	return b.String()
}

// Close writes what is left and the bottom border, and flushes.
func (t *table) Close() error {
	if t.t == nil {
		if err := t.start(); err != nil {
			return err
		}
	}
	if err := t.t.Close(); err != nil {
		return err
	}
	return t.bw.Flush()
}

// fitWidths gives each column the width of its widest cell in the sample
// (padding included) and, when they do not fit in width, takes the widest
// columns down until they do: first only those whose cells have spaces,
// which wrap between words, then all.
func fitWidths(width int, hdr []string, sample [][]string) []int {
	const minCol = 6
	ws := make([]int, len(hdr))
	words := make([]bool, len(hdr)) // a cell of the column has a space
	for n, r := range append([][]string{hdr}, sample...) {
		for i := 0; i < len(r) && i < len(ws); i++ {
			for _, line := range strings.Split(r[i], "\n") {
				ws[i] = max(ws[i], twwidth.Width(line)+cellPad)
			}
			words[i] = words[i] || n > 0 && strings.Contains(r[i], " ")
		}
	}
	avail := width - len(ws) - 1 // the borders
	for _, flexible := range [][]bool{words, nil} {
		limited := func(limit int) []int {
			out := slices.Clone(ws)
			for i := range out {
				if flexible == nil || flexible[i] {
					out[i] = min(out[i], limit)
				}
			}
			return out
		}
		if sum(limited(minCol)) > avail {
			continue
		}
		limit := minCol
		for limit < width && sum(limited(limit+1)) <= avail {
			limit++
		}
		return limited(limit)
	}
	return ws
}

func sum(v []int) (n int) {
	for _, x := range v {
		n += x
	}
	return n
}

// renderTable writes rows under a header.
func renderTable(w io.Writer, hdr []string, rows [][]string) error {
	t := newTable(w, hdr...)
	for _, r := range rows {
		if err := t.Row(r...); err != nil {
			return err
		}
	}
	return t.Close()
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

// rowsFunc is a pure row builder: the header and the rows of a document
// (etcdutl's printer.go).
type rowsFunc func() (hdr []string, rows [][]string)

// renderFields writes a document of named fields: doc as JSON, else its
// rows (FIELD, VALUE) as a table, else one "field: value" line a row.
func renderFields(out io.Writer, format outputFormat, doc any, rows rowsFunc) error {
	return render(out, format, doc, rows, func(_ []string, r []string) string { return r[0] + ": " + r[1] })
}

// renderList writes a list: doc as JSON, else its rows as a table, else one
// line a row, each cell as HEADER=value.
func renderList(out io.Writer, format outputFormat, doc any, rows rowsFunc) error {
	return render(out, format, doc, rows, func(hdr []string, r []string) string {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = hdr[i] + "=" + c
		}
		return strings.Join(cells, "  ")
	})
}

func render(out io.Writer, format outputFormat, doc any, rows rowsFunc, line func(hdr, row []string) string) error {
	switch format {
	case formatJSON:
		return writeJSON(out, doc)
	case formatTable:
		hdr, r := rows()
		return renderTable(out, hdr, r)
	}
	bw := bufio.NewWriter(out)
	hdr, r := rows()
	for _, row := range r {
		bw.WriteString(line(hdr, row))
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// findingRows is the pure row builder for findings.
func findingRows(r *finding.Report) (hdr []string, rows [][]string) {
	hdr = []string{"SEVERITY", "CODE", "WHERE", "INDEX", "MESSAGE"}
	for _, f := range r.Findings {
		rows = append(rows, []string{string(f.Severity), f.Code, f.Where(), optU(f.Index), f.Message})
	}
	return hdr, rows
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
			if _, err := fmt.Fprintln(out, f); err != nil {
				return err
			}
		}
	}
	if format != formatJSON {
		fmt.Fprintln(errOut, r.Summary)
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

func plural(n int, w string) string {
	if n == 1 {
		return w
	}
	return w + "s"
}
