package panes

import (
	"fmt"
	"sort"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// BoltPage is one page as the page map shows it.
type BoltPage struct {
	ID     uint64
	Glyph  byte // M meta, B branch, L leaf, o overflow, F freelist, . free, ? unreached or unseen, ! a problem
	Status string
}

// BoltSource is what the bolt pane reads: the walk's verdict on every
// page below the high-water mark, a window of pages, one page in detail.
type BoltSource interface {
	PageCount() uint64
	// Problems are the pages a problem names, in order.
	Problems() []uint64
	Pages(from, n uint64) ([]BoltPage, error)
	PageDetail(id uint64) (Detail, error)
}

// BoltKeyMap are the bolt pane's keys.
type BoltKeyMap struct {
	Left, Right, Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	NextProblem, PrevProblem                             key.Binding
	Buckets                                              key.Binding
}

// DefaultBoltKeyMap has vim and arrow keys.
func DefaultBoltKeyMap() BoltKeyMap {
	return BoltKeyMap{
		Left:        key.NewBinding(key.WithKeys("h", "left"), key.WithHelp("h/←", "previous page")),
		Right:       key.NewBinding(key.WithKeys("l", "right"), key.WithHelp("l/→", "next page")),
		Up:          upKey("up a row"),
		Down:        downKey("down a row"),
		PageUp:      pageUpKey("screen up"),
		PageDown:    pageDownKey("screen down"),
		Top:         topKey("page 0"),
		Bottom:      bottomKey("last page"),
		NextProblem: nextProblemKey(),
		PrevProblem: prevProblemKey(),
		Buckets:     key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "pages/buckets")),
	}
}

// ShortHelp implements help.KeyMap.
func (k BoltKeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Right, k.Down, k.NextProblem, k.PrevProblem, k.Buckets}
}

// FullHelp implements help.KeyMap.
func (k BoltKeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Left, k.Right, k.Up, k.Down}, {k.PageUp, k.PageDown, k.Top, k.Bottom}, {k.NextProblem, k.PrevProblem, k.Buckets}}
}

type (
	pagesMsg struct {
		from  uint64
		pages []BoltPage
		err   error
	}
	pageMsg struct {
		id  uint64
		d   Detail
		err error
	}
)

// Bolt is the bolt pane: a map of the pages, one glyph each, windowed
// (only the pages on screen are read), and the selected page in detail;
// b turns to the bucket browser, when the source has one, and back.
type Bolt struct {
	Keys BoltKeyMap

	tree    Tree
	hasTree bool
	onTree  bool // the bucket browser is shown

	src      BoltSource
	n        uint64
	problems []uint64
	cur, top uint64 // selected page; first page of the first map row shown
	window   []BoltPage
	winFrom  uint64
	detail   Detail
	err      error
	focused  bool
	w, h     int
}

// NewBolt returns the pane over src.
func NewBolt(src BoltSource) Bolt {
	m := Bolt{Keys: DefaultBoltKeyMap(), src: src, n: src.PageCount(), problems: src.Problems(), w: 80, h: 24}
	if bs, ok := src.(BucketSource); ok {
		m.tree, m.hasTree = NewTree(bs), true
	}
	m.Keys.Buckets.SetEnabled(m.hasTree)
	return m
}

// Init reads the first screen, and the root bucket's first keys.
func (m Bolt) Init() tea.Cmd {
	cmds := []tea.Cmd{m.loadWindow(), m.loadDetail()}
	if m.hasTree {
		cmds = append(cmds, m.tree.Init())
	}
	return tea.Batch(cmds...)
}

// SetSize sets the pane's size in cells.
func (m *Bolt) SetSize(w, h int) {
	m.w, m.h = max(w, 20), max(h, 6)
	m.tree.SetSize(w, h)
}

// Focus and Blur say whether keys go to the pane.
func (m *Bolt) Focus() { m.focused = true; m.tree.Focus() }
func (m *Bolt) Blur()  { m.focused = false; m.tree.Blur() }

// HelpKeys are the keys of what is shown: the page map's or the bucket
// browser's.
func (m Bolt) HelpKeys() help.KeyMap {
	if m.onTree {
		return treeHelp{m.tree.Keys, m.Keys.Buckets}
	}
	return m.Keys
}

// treeHelp is the bucket browser's keys and b to go back to the pages.
type treeHelp struct {
	TreeKeyMap
	pages key.Binding
}

func (k treeHelp) ShortHelp() []key.Binding {
	return append(k.TreeKeyMap.ShortHelp(), k.pages)
}

func (k treeHelp) FullHelp() [][]key.Binding {
	return append(k.TreeKeyMap.FullHelp(), []key.Binding{k.pages})
}

// The layout: the map on top (cols pages a row), the detail below.
func (m Bolt) cols() uint64     { return uint64(max(8, min(64, (m.w-12)/8*8))) }
func (m Bolt) mapRows() uint64  { return uint64(max(2, (m.h-2)/2)) }
func (m Bolt) onScreen() uint64 { return m.cols() * m.mapRows() }

func (m Bolt) loadWindow() tea.Cmd {
	src, from, n := m.src, m.top, m.onScreen()
	return func() tea.Msg {
		pages, err := src.Pages(from, n)
		return pagesMsg{from: from, pages: pages, err: err}
	}
}

func (m Bolt) loadDetail() tea.Cmd {
	if m.n == 0 {
		return nil
	}
	src, id := m.src, m.cur
	return func() tea.Msg {
		d, err := src.PageDetail(id)
		return pageMsg{id: id, d: d, err: err}
	}
}

// Update handles keys and reads.
func (m Bolt) Update(msg tea.Msg) (Bolt, tea.Cmd) {
	switch msg := msg.(type) {
	case windowMsg, valueMsg:
		var cmd tea.Cmd
		m.tree, cmd = m.tree.Update(msg)
		return m, cmd
	case pagesMsg:
		if msg.from == m.top {
			m.window, m.winFrom, m.err = msg.pages, msg.from, msg.err
		}
		return m, nil
	case pageMsg:
		if msg.id == m.cur {
			m.detail, m.err = msg.d, msg.err
		}
		return m, nil
	case tea.KeyPressMsg:
		if !m.focused {
			return m, nil
		}
		if m.hasTree && !m.tree.Typing() && key.Matches(msg, m.Keys.Buckets) {
			m.onTree = !m.onTree
			return m, nil
		}
		if m.onTree {
			var cmd tea.Cmd
			m.tree, cmd = m.tree.Update(msg)
			return m, cmd
		}
		return m.key(msg)
	}
	return m, nil
}

func (m Bolt) key(msg tea.KeyPressMsg) (Bolt, tea.Cmd) {
	if m.n == 0 {
		return m, nil
	}
	k, cur := m.Keys, int64(m.cur)
	switch {
	case key.Matches(msg, k.Left):
		cur--
	case key.Matches(msg, k.Right):
		cur++
	case key.Matches(msg, k.Up):
		cur -= int64(m.cols())
	case key.Matches(msg, k.Down):
		cur += int64(m.cols())
	case key.Matches(msg, k.PageUp):
		cur -= int64(m.onScreen())
	case key.Matches(msg, k.PageDown):
		cur += int64(m.onScreen())
	case key.Matches(msg, k.Top):
		cur = 0
	case key.Matches(msg, k.Bottom):
		cur = int64(m.n) - 1
	case key.Matches(msg, k.NextProblem):
		i := sort.Search(len(m.problems), func(i int) bool { return m.problems[i] > m.cur })
		if i < len(m.problems) {
			cur = int64(m.problems[i])
		}
	case key.Matches(msg, k.PrevProblem):
		i := sort.Search(len(m.problems), func(i int) bool { return m.problems[i] >= m.cur })
		if i > 0 {
			cur = int64(m.problems[i-1])
		}
	}
	cur = min(max(cur, 0), int64(m.n)-1)
	if uint64(cur) == m.cur {
		return m, nil
	}
	m.cur = uint64(cur)
	top := m.top
	if m.cur < m.top {
		m.top = m.cur / m.cols() * m.cols()
	}
	if m.cur >= m.top+m.onScreen() {
		m.top = (m.cur/m.cols() - m.mapRows() + 1) * m.cols()
	}
	if m.top != top {
		return m, tea.Batch(m.loadWindow(), m.loadDetail())
	}
	return m, m.loadDetail()
}

// JumpTo selects page id.
func (m Bolt) JumpTo(id uint64) (Bolt, tea.Cmd) {
	if id >= m.n {
		return m, nil
	}
	m.onTree = false
	m.cur = id
	m.top = id / m.cols() * m.cols()
	return m, tea.Batch(m.loadWindow(), m.loadDetail())
}

// View draws the pane in exactly its size.
func (m Bolt) View() string {
	if m.onTree {
		return m.tree.View()
	}
	lines := []string{title(fmt.Sprintf("Pages 0..%d (%d with problems)  M meta  B branch  L leaf  o overflow  F freelist  . free  ? unreached  ! problem", max(m.n, 1)-1, len(m.problems)), m.focused)}
	cols := m.cols()
	for r := uint64(0); r < m.mapRows(); r++ {
		first := m.top + r*cols
		if first >= m.n {
			lines = append(lines, "")
			continue
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%9d  ", first)
		for c := uint64(0); c < cols && first+c < m.n; c++ {
			id := first + c
			g := byte(' ')
			if i := id - m.winFrom; id >= m.winFrom && i < uint64(len(m.window)) {
				g = m.window[i].Glyph
			}
			if id == m.cur {
				b.WriteString(selectedStyle.Render("[" + string(g) + "]"))
			} else {
				b.WriteString(glyph(g))
			}
		}
		lines = append(lines, b.String())
	}
	lines = append(lines, title(fmt.Sprintf("Page %d", m.cur), false))
	if m.err != nil {
		lines = append(lines, "error: "+m.err.Error())
	}
	lines = append(lines, m.detail.Lines...)
	if m.detail.Hex != "" {
		lines = append(lines, strings.Split(strings.TrimRight(m.detail.Hex, "\n"), "\n")...)
	}
	lines = fill(lines, m.h)
	for i := range lines {
		lines[i] = pad(lines[i], m.w)
	}
	return strings.Join(lines, "\n")
}

// Typing says whether keys go to the pane's prompt.
func (m Bolt) Typing() bool { return m.onTree && m.tree.Typing() }
