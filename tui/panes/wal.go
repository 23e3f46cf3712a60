// Package panes holds the browser's panes, each a bubbles-shaped model:
// New, Update returning its concrete type, View, SetSize, Focus and Blur,
// and a KeyMap for the help line. Update does no I/O: reads run in the
// tea.Cmd it returns and come back as messages.
package panes

import (
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/etcdscope/etcdscope/internal/textfmt"
)

// Segment is one WAL segment file.
type Segment struct {
	Name  string
	Size  int64
	Index uint64 // the first raft index its name says it holds
}

// Row is one frame of a segment as the list shows it.
type Row struct {
	Offset, Size int64
	Kind         string // record type, or zero / damage
	Index, Term  uint64
	Summary      string
	CRCOK        bool
	Checked      bool     // a record whose CRC was checked
	Problems     []string // "code: message"
	// Suspect is the offset of the byte in which one flipped bit would
	// explain the record's CRC mismatch; 0 when none would.
	Suspect int64
}

// Detail is what the detail pane shows of the selected row.
type Detail struct {
	Lines []string
	Hex   string
}

// WALSource is what the WAL pane reads. Rows reads one segment's frames;
// Detail reads one frame's bytes again.
type WALSource interface {
	Segments() []Segment
	Rows(seg int) ([]Row, error)
	Detail(seg int, r Row) (Detail, error)
}

// WALKeyMap are the WAL pane's keys.
type WALKeyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	Switch, NextProblem, PrevProblem        key.Binding
	JumpIndex, JumpOffset, Search           key.Binding
}

// DefaultWALKeyMap has vim and arrow keys.
func DefaultWALKeyMap() WALKeyMap {
	return WALKeyMap{
		Up:          upKey("up"),
		Down:        downKey("down"),
		PageUp:      pageUpKey("page up"),
		PageDown:    pageDownKey("page down"),
		Top:         topKey("first"),
		Bottom:      bottomKey("last"),
		Switch:      key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "segments/records")),
		NextProblem: nextProblemKey(),
		PrevProblem: prevProblemKey(),
		JumpIndex:   key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "go to index")),
		JumpOffset:  key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "go to offset")),
		Search:      key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "search records")),
	}
}

// ShortHelp implements help.KeyMap.
func (k WALKeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.NextProblem, k.PrevProblem, k.JumpIndex, k.JumpOffset, k.Search, k.Switch}
}

// FullHelp implements help.KeyMap.
func (k WALKeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown}, {k.Top, k.Bottom, k.Switch}, {k.NextProblem, k.PrevProblem}, {k.JumpIndex, k.JumpOffset, k.Search}}
}

// What the WAL pane's prompt asks for, besides a search (askSearch).
const (
	askIndex = askSearch + 1 + iota
	askOffset
)

// Messages the pane's commands send back.
type (
	rowsMsg struct {
		seg  int
		rows []Row
		err  error
		// seek: after loading, move to the first (dir 1) or last (dir -1)
		// problem, or keep looking in the next segment.
		seek int
		// at, when seek is 0 and at >= 0: select the row at this offset.
		at int64
	}
	detailMsg struct {
		seg, row int
		d        Detail
		err      error
	}
	// jumpFailedMsg: a jump found nothing to go to.
	jumpFailedMsg struct{ err error }
)

// WAL is the WAL pane: segments on the left; on the right the selected
// segment's records, and under them the selected record decoded and in
// hex.
type WAL struct {
	Keys WALKeyMap

	src      WALSource
	segs     []Segment
	seg      int // selected segment
	loaded   int // segment whose rows are held, -1 before the first load
	rows     []Row
	cur, top int // selected row, first row shown
	onSegs   bool
	focused  bool
	detail   Detail
	err      error
	w, h     int
	loading  bool
	ask      prompt
	needle   string // the last search
}

// NewWAL returns the pane over src.
func NewWAL(src WALSource) WAL {
	return WAL{Keys: DefaultWALKeyMap(), src: src, segs: src.Segments(), loaded: -1, w: 80, h: 24}
}

// Init loads the first segment.
func (m WAL) Init() tea.Cmd {
	if len(m.segs) == 0 {
		return nil
	}
	return m.load(0, 0)
}

func (m WAL) load(seg, seek int) tea.Cmd { return m.loadAt(seg, seek, -1) }

func (m WAL) loadAt(seg, seek int, at int64) tea.Cmd {
	src := m.src
	return func() tea.Msg {
		rows, err := src.Rows(seg)
		return rowsMsg{seg: seg, rows: rows, err: err, seek: seek, at: at}
	}
}

// JumpTo selects the frame covering offset off of segment seg, reading
// the segment first if it is not the one shown.
func (m WAL) JumpTo(seg int, off int64) (WAL, tea.Cmd) {
	if seg < 0 || seg >= len(m.segs) {
		return m, nil
	}
	m.onSegs, m.loading = false, true
	return m, m.loadAt(seg, 0, off)
}

func (m WAL) loadDetail() tea.Cmd {
	if m.cur < 0 || m.cur >= len(m.rows) {
		return nil
	}
	src, seg, cur, r := m.src, m.loaded, m.cur, m.rows[m.cur]
	return func() tea.Msg {
		d, err := src.Detail(seg, r)
		return detailMsg{seg: seg, row: cur, d: d, err: err}
	}
}

// SetSize sets the pane's size in cells.
func (m *WAL) SetSize(w, h int) { m.w, m.h = max(w, 20), max(h, 6) }

// Focus and Blur say whether keys go to the pane.
func (m *WAL) Focus() { m.focused = true }
func (m *WAL) Blur()  { m.focused = false }

// Update handles keys and loads.
func (m WAL) Update(msg tea.Msg) (WAL, tea.Cmd) {
	switch msg := msg.(type) {
	case rowsMsg:
		return m.gotRows(msg)
	case detailMsg:
		if msg.seg == m.loaded && msg.row == m.cur {
			m.detail, m.err = msg.d, msg.err
		}
		return m, nil
	case jumpFailedMsg:
		m.loading, m.err = false, msg.err
		return m, nil
	case tea.KeyPressMsg:
		if !m.focused {
			return m, nil
		}
		if m.ask.active() {
			return m.answer(m.ask.key(msg))
		}
		return m.key(msg)
	}
	return m, nil
}

// Typing says whether keys go to the pane's prompt.
func (m WAL) Typing() bool { return m.ask.active() }

// answer acts on the prompt's answer, if it gave one.
func (m WAL) answer(kind int, a string, cmd tea.Cmd) (WAL, tea.Cmd) {
	a = strings.TrimSpace(a)
	switch kind {
	case askIndex:
		idx, err := strconv.ParseUint(a, 10, 64)
		if err != nil {
			m.err = fmt.Errorf("not a raft index: %q", a)
			return m, nil
		}
		m.onSegs, m.loading, m.err = false, true, nil
		return m, m.findIndex(idx)
	case askSearch:
		if a == "" {
			return m, nil
		}
		m.needle, m.err = a, nil
		for i := m.cur + 1; i < len(m.rows); i++ {
			if m.rows[i].matches(a) {
				m.cur, m.onSegs = i, false
				m.scroll()
				return m, m.loadDetail()
			}
		}
		m.loading = true
		return m, m.findAfter(m.loaded+1, a)
	case askOffset:
		off, err := strconv.ParseInt(a, 0, 64)
		if err != nil || off < 0 {
			m.err = fmt.Errorf("not a byte offset (decimal, or hex with 0x): %q", a)
			return m, nil
		}
		m.err = nil
		return m.JumpTo(m.seg, off)
	}
	return m, cmd
}

// matches reports whether a row's type, summary (the decoded request, its
// keys) or problems hold needle.
func (r Row) matches(needle string) bool {
	if strings.Contains(r.Kind, needle) || strings.Contains(r.Summary, needle) {
		return true
	}
	for _, p := range r.Problems {
		if strings.Contains(p, needle) {
			return true
		}
	}
	return false
}

// findAfter reads the segments from seg on, one at a time, until a record
// matches needle, and selects it.
func (m WAL) findAfter(seg int, needle string) tea.Cmd {
	src, n := m.src, len(m.segs)
	return func() tea.Msg {
		for ; seg < n; seg++ {
			rows, err := src.Rows(seg)
			if err != nil {
				return jumpFailedMsg{err}
			}
			for _, r := range rows {
				if r.matches(needle) {
					return rowsMsg{seg: seg, rows: rows, at: r.Offset}
				}
			}
		}
		return jumpFailedMsg{fmt.Errorf("no record after the one selected holds %q", needle)}
	}
}

// findIndex reads the segments whose names say they may hold raft index
// idx, the newest first, and selects the last entry with that index: the
// one a rewrite did not supersede.
func (m WAL) findIndex(idx uint64) tea.Cmd {
	src, segs := m.src, m.segs
	return func() tea.Msg {
		last := 0
		for i, s := range segs {
			if s.Index <= idx {
				last = i
			}
		}
		for seg := last; seg >= 0 && seg >= last-2; seg-- {
			rows, err := src.Rows(seg)
			if err != nil {
				return jumpFailedMsg{err}
			}
			for i := len(rows) - 1; i >= 0; i-- {
				if rows[i].Index == idx {
					return rowsMsg{seg: seg, rows: rows, at: rows[i].Offset}
				}
			}
		}
		return jumpFailedMsg{fmt.Errorf("no entry with raft index %d in the segments that may hold it", idx)}
	}
}

func (m WAL) gotRows(msg rowsMsg) (WAL, tea.Cmd) {
	m.loading = false
	if msg.err != nil {
		m.err = msg.err
	}
	m.seg, m.loaded, m.rows, m.cur, m.top, m.detail = msg.seg, msg.seg, msg.rows, 0, 0, Detail{}
	if msg.seek == 0 && msg.at >= 0 {
		for i, r := range m.rows {
			if r.Offset <= msg.at && msg.at < r.Offset+max(r.Size, 1) {
				m.cur = i
				break
			}
		}
	}
	switch msg.seek {
	case 1:
		if i := m.problem(-1, 1); i >= 0 {
			m.cur = i
		} else if msg.seg+1 < len(m.segs) {
			m.loading = true
			return m, m.load(msg.seg+1, 1)
		}
	case -1:
		if i := m.problem(len(m.rows), -1); i >= 0 {
			m.cur = i
		} else if msg.seg > 0 {
			m.loading = true
			return m, m.load(msg.seg-1, -1)
		}
	}
	m.scroll()
	return m, m.loadDetail()
}

// problem returns the first row with a problem after (dir 1) or before
// (dir -1) row from, or -1.
func (m WAL) problem(from, dir int) int {
	for i := from + dir; i >= 0 && i < len(m.rows); i += dir {
		if len(m.rows[i].Problems) > 0 {
			return i
		}
	}
	return -1
}

func (m WAL) key(msg tea.KeyPressMsg) (WAL, tea.Cmd) {
	k := m.Keys
	if key.Matches(msg, k.Switch) {
		m.onSegs = !m.onSegs
		return m, nil
	}
	if m.loading {
		return m, nil
	}
	switch {
	case key.Matches(msg, k.JumpIndex):
		return m, m.ask.open(askIndex, "raft index: ", "")
	case key.Matches(msg, k.Search):
		return m, m.ask.open(askSearch, "search records: ", m.needle)
	case key.Matches(msg, k.JumpOffset):
		return m, m.ask.open(askOffset, fmt.Sprintf("offset in %s: ", m.segName()), "0x")
	case key.Matches(msg, k.NextProblem), key.Matches(msg, k.PrevProblem):
		dir := 1
		if key.Matches(msg, k.PrevProblem) {
			dir = -1
		}
		if i := m.problem(m.cur, dir); i >= 0 {
			m.cur = i
			m.scroll()
			return m, m.loadDetail()
		}
		if next := m.loaded + dir; next >= 0 && next < len(m.segs) {
			m.loading = true
			return m, m.load(next, dir)
		}
		return m, nil
	}
	// The cursor moves in the segments column or in the records list
	// (which alone has pages).
	cur, n, page := m.cur, len(m.rows), max(m.listHeight()-1, 1)
	if m.onSegs {
		cur, n, page = m.seg, len(m.segs), 0
	}
	switch {
	case key.Matches(msg, k.Up):
		cur--
	case key.Matches(msg, k.Down):
		cur++
	case key.Matches(msg, k.PageUp):
		cur -= page
	case key.Matches(msg, k.PageDown):
		cur += page
	case key.Matches(msg, k.Top):
		cur = 0
	case key.Matches(msg, k.Bottom):
		cur = n - 1
	}
	cur = min(max(cur, 0), max(n-1, 0))
	if m.onSegs {
		if cur != m.seg {
			m.seg, m.loading = cur, true
			return m, m.load(cur, 0)
		}
		return m, nil
	}
	if cur == m.cur {
		return m, nil
	}
	m.cur = cur
	m.scroll()
	return m, m.loadDetail()
}

// The layout: a segments column, and a records list (a title line and
// rows) above the detail.
func (m WAL) segWidth() int   { return min(46, max(20, m.w*2/5)) }
func (m WAL) listHeight() int { return max((m.h-1)/2, 3) }

func (m *WAL) scroll() {
	h := m.listHeight() - 1 // the title line
	if m.cur < m.top {
		m.top = m.cur
	}
	if m.cur >= m.top+h {
		m.top = m.cur - h + 1
	}
}

// View draws the pane in exactly its size.
func (m WAL) View() string {
	left := m.segView(m.h)
	segWidth := m.segWidth()
	rw := m.w - segWidth - 1
	right := append(m.rowsView(rw, m.listHeight()), m.detailView(rw, m.h-m.listHeight())...)
	return columns(left, right, segWidth, m.w, m.h)
}

func (m WAL) segView(h int) []string {
	lines := []string{title("Segments", m.focused && m.onSegs)}
	top := max(0, m.seg-(h-2))
	for i := top; i < len(m.segs) && len(lines) < h; i++ {
		mark := "  "
		if i == m.seg {
			mark = "> "
		}
		line := mark + strings.TrimSuffix(m.segs[i].Name, ".wal")
		if size := " " + textfmt.Size(m.segs[i].Size); len(line)+len(size) <= m.segWidth() {
			line += size
		}
		lines = append(lines, line)
	}
	return fill(lines, h)
}

func (m WAL) rowsView(w, h int) []string {
	head := fmt.Sprintf("Records of %s", m.segName())
	if m.loading {
		head += " (reading)"
	} else if m.loaded >= 0 {
		n := 0
		for _, r := range m.rows {
			if len(r.Problems) > 0 {
				n++
			}
		}
		head += fmt.Sprintf(": %d frames, %d with problems", len(m.rows), n)
	}
	lines := []string{title(head, m.focused && !m.onSegs)}
	for i := m.top; i < len(m.rows) && len(lines) < h; i++ {
		r := m.rows[i]
		mark := "  "
		if i == m.cur {
			mark = "> "
		}
		crc := "   "
		switch {
		case len(r.Problems) > 0:
			crc = Problem("!!") + " "
		case r.Checked && r.CRCOK:
			crc = "ok "
		}
		idx := ""
		if r.Index > 0 {
			idx = fmt.Sprintf("%d/%d ", r.Index, r.Term)
		}
		text := r.Summary
		if len(r.Problems) > 0 {
			text = r.Problems[0]
		}
		lines = append(lines, fmt.Sprintf("%s%#08x %s%-8s %s%s", mark, r.Offset, crc, r.Kind, idx, text))
	}
	return fill(lines, h)
}

func (m WAL) detailView(w, h int) []string {
	lines := []string{title("Record", false)}
	if m.err != nil {
		lines = append(lines, "error: "+m.err.Error())
	}
	lines = append(lines, m.detail.Lines...)
	if m.detail.Hex != "" {
		lines = append(lines, strings.Split(strings.TrimRight(m.detail.Hex, "\n"), "\n")...)
	}
	if m.ask.active() {
		return append(fill(lines, h-1), m.ask.view())
	}
	return fill(lines, h)
}

func (m WAL) segName() string {
	if m.seg < 0 || m.seg >= len(m.segs) {
		return "(none)"
	}
	return m.segs[m.seg].Name
}

// Selected returns the selected segment and the selected row, if any.
func (m WAL) Selected() (seg int, r Row, ok bool) {
	if m.cur < 0 || m.cur >= len(m.rows) {
		return m.loaded, Row{}, false
	}
	return m.loaded, m.rows[m.cur], true
}

func title(s string, focused bool) string {
	if focused {
		return focusedStyle.Render("▶ " + s)
	}
	return "  " + s
}

func fill(lines []string, h int) []string {
	for len(lines) < h {
		lines = append(lines, "")
	}
	return lines[:h]
}

// columns draws left and right side by side in exactly w by h cells,
// the left one lw wide, a rule between them.
func columns(left, right []string, lw, w, h int) string {
	left, right = fill(left, h), fill(right, h)
	var b strings.Builder
	for i := range h {
		b.WriteString(pad(left[i], lw))
		b.WriteString("│")
		b.WriteString(pad(right[i], w-lw-1))
		if i < h-1 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}
