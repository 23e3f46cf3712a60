package panes

import (
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// Item is one entry of a List: a line in the list, and what the detail
// shows when it is selected.
type Item struct {
	Title   string
	Problem bool
	Detail  []string
	// Jump, when set, is where enter goes: a JumpWAL or a JumpPage.
	Jump any
}

// JumpWAL selects the record at Offset of segment Seg in the WAL tab.
type JumpWAL struct {
	Seg    int
	Offset int64
}

// JumpPage selects page ID in the bolt tab.
type JumpPage struct{ ID uint64 }

// JumpMsg asks the root to show Target (a JumpWAL or a JumpPage).
type JumpMsg struct{ Target any }

// ListKeyMap are a list's keys.
type ListKeyMap struct {
	Up, Down, Top, Bottom, NextProblem, PrevProblem, Open key.Binding
}

// DefaultListKeyMap has vim and arrow keys.
func DefaultListKeyMap() ListKeyMap {
	return ListKeyMap{
		Up:          upKey("up"),
		Down:        downKey("down"),
		Top:         topKey("first"),
		Bottom:      bottomKey("last"),
		NextProblem: nextProblemKey(),
		PrevProblem: prevProblemKey(),
		Open:        key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "go to it")),
	}
}

// ShortHelp implements help.KeyMap.
func (k ListKeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Down, k.Up, k.NextProblem, k.PrevProblem, k.Open}
}

// FullHelp implements help.KeyMap.
func (k ListKeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.Top, k.Bottom}, {k.NextProblem, k.PrevProblem, k.Open}}
}

// List is a pane of a few items (files, findings) read when the source
// opened, with the selected one's detail beside the list.
type List struct {
	Keys ListKeyMap

	name     string
	items    []Item
	load     func() ([]Item, error) // nil once the items are in
	err      error
	cur, top int
	focused  bool
	w, h     int
}

// NewList returns a list pane titled name.
func NewList(name string, items []Item) List {
	return List{Keys: DefaultListKeyMap(), name: name, items: items, w: 80, h: 24}
}

// NewListLoader returns a list pane titled name whose items load reads,
// in a command Init returns: the first screen does not wait for it.
func NewListLoader(name string, load func() ([]Item, error)) List {
	return List{Keys: DefaultListKeyMap(), name: name, load: load, w: 80, h: 24}
}

// itemsMsg carries a loader's items to the list named name.
type itemsMsg struct {
	name  string
	items []Item
	err   error
}

// Init runs the loader, if any.
func (m List) Init() tea.Cmd {
	if m.load == nil {
		return nil
	}
	name, load := m.name, m.load
	return func() tea.Msg {
		items, err := load()
		return itemsMsg{name: name, items: items, err: err}
	}
}

// SetSize sets the pane's size in cells.
func (m *List) SetSize(w, h int) { m.w, m.h = max(w, 20), max(h, 4) }

// Focus and Blur say whether keys go to the pane.
func (m *List) Focus() { m.focused = true }
func (m *List) Blur()  { m.focused = false }

// Update moves the selection.
func (m List) Update(msg tea.Msg) (List, tea.Cmd) {
	if im, ok := msg.(itemsMsg); ok && im.name == m.name && m.load != nil {
		m.items, m.err, m.load = im.items, im.err, nil
		return m, nil
	}
	k, ok := msg.(tea.KeyPressMsg)
	if !ok || !m.focused || len(m.items) == 0 {
		return m, nil
	}
	cur := m.cur
	switch {
	case key.Matches(k, m.Keys.Open):
		if j := m.items[m.cur].Jump; j != nil {
			return m, func() tea.Msg { return JumpMsg{Target: j} }
		}
		return m, nil
	case key.Matches(k, m.Keys.Up):
		cur--
	case key.Matches(k, m.Keys.Down):
		cur++
	case key.Matches(k, m.Keys.Top):
		cur = 0
	case key.Matches(k, m.Keys.Bottom):
		cur = len(m.items) - 1
	case key.Matches(k, m.Keys.NextProblem), key.Matches(k, m.Keys.PrevProblem):
		d := 1
		if key.Matches(k, m.Keys.PrevProblem) {
			d = -1
		}
		for i := cur + d; i >= 0 && i < len(m.items); i += d {
			if m.items[i].Problem {
				cur = i
				break
			}
		}
	}
	m.cur = min(max(cur, 0), len(m.items)-1)
	if rows := m.h - 1; m.cur < m.top {
		m.top = m.cur
	} else if m.cur >= m.top+rows {
		m.top = m.cur - rows + 1
	}
	return m, nil
}

// View draws the list on the left and the detail on the right.
func (m List) View() string {
	lw := min(max(m.w*3/5, 20), 72) // a finding names a segment and an offset
	n := 0
	for _, it := range m.items {
		if it.Problem {
			n++
		}
	}
	head := fmt.Sprintf("%s: %d, %d with problems", m.name, len(m.items), n)
	switch {
	case m.load != nil:
		head = m.name + ": reading…"
	case m.err != nil:
		head = m.name + ": " + m.err.Error()
	}
	left := []string{title(head, m.focused)}
	for i := m.top; i < len(m.items) && len(left) < m.h; i++ {
		mark := "  "
		if i == m.cur {
			mark = "> "
		}
		flag := "   "
		if m.items[i].Problem {
			flag = Problem("!!") + " "
		}
		left = append(left, mark+flag+m.items[i].Title)
	}
	right := []string{title("Detail", false)}
	if m.cur < len(m.items) {
		for _, l := range m.items[m.cur].Detail {
			right = append(right, wrap(l, m.w-lw-1)...)
		}
	}
	return columns(left, right, lw, m.w, m.h)
}

// wrap cuts a line into pieces of at most w cells.
func wrap(s string, w int) []string {
	r := []rune(s)
	if w <= 0 || len(r) <= w {
		return []string{s}
	}
	var out []string
	for len(r) > w {
		out = append(out, string(r[:w]))
		r = r[w:]
	}
	return append(out, string(r))
}

// Typing says whether keys go to the pane's prompt.
func (m List) Typing() bool { return false }
