package panes

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/etcdscope/etcdscope/internal/textfmt"
)

// Entry is one element of a bucket as the bucket browser lists it.
type Entry struct {
	Key    []byte
	Text   string // the key for people: a revision in etcd's key bucket, text, or hex
	Note   string // what else the list shows of it (etcd's key, in its key bucket)
	Bucket bool   // a sub-bucket: enter opens it
	Size   int    // the value's bytes
	Page   uint64 // the page holding the element
}

// Value is one value, in the ways it can be shown, the most telling
// first (etcd's KeyValue decoded, JSON, text), hex always last.
type Value struct {
	Size  int
	Views []ValueView
}

// ValueView is one way to show a value.
type ValueView struct {
	Name  string
	Lines []string
}

// BucketSource is what the bucket browser reads: a window of a bucket's
// elements at a time, one value, and a search.
type BucketSource interface {
	// Entries returns up to n elements of the bucket at path (nil for
	// the root), in key order from the first key at or after from; with
	// reverse, the n before from (nil: the last n), nearest first.
	Entries(path []string, from []byte, reverse bool, n int) ([]Entry, error)
	// Value reads the value of key in the bucket at path.
	Value(path []string, key []byte) (Value, error)
	// Search returns the first key at or after from whose key or value
	// holds needle.
	Search(path []string, from, needle []byte) (found []byte, ok bool, err error)
}

// TreeKeyMap are the bucket browser's keys.
type TreeKeyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	Open, Back, View, Search, SearchNext    key.Binding
	ValueDown, ValueUp                      key.Binding
}

// DefaultTreeKeyMap has vim and arrow keys.
func DefaultTreeKeyMap() TreeKeyMap {
	return TreeKeyMap{
		Up:         upKey("up"),
		Down:       downKey("down"),
		PageUp:     pageUpKey("page up"),
		PageDown:   pageDownKey("page down"),
		Top:        topKey("first key"),
		Bottom:     bottomKey("last key"),
		Open:       key.NewBinding(key.WithKeys("enter", "l", "right"), key.WithHelp("enter", "open bucket")),
		Back:       key.NewBinding(key.WithKeys("backspace", "h", "left"), key.WithHelp("h/←", "parent bucket")),
		View:       key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "value as…")),
		Search:     searchBinding(),
		SearchNext: nextMatchBinding(),
		ValueDown:  key.NewBinding(key.WithKeys("J", "shift+down"), key.WithHelp("J", "scroll value down")),
		ValueUp:    key.NewBinding(key.WithKeys("K", "shift+up"), key.WithHelp("K", "scroll value up")),
	}
}

// ShortHelp implements help.KeyMap.
func (k TreeKeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Open, k.Back, k.View, k.Search, k.SearchNext}
}

// FullHelp implements help.KeyMap.
func (k TreeKeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown}, {k.Top, k.Bottom, k.Open, k.Back}, {k.View, k.ValueDown, k.ValueUp}, {k.Search, k.SearchNext}}
}

type (
	// windowMsg is a new window of the bucket at path.
	windowMsg struct {
		gen  int
		win  []Entry
		cur  int
		note string // said in the title (a search's result)
		err  error
	}
	valueMsg struct {
		gen int
		key []byte
		v   Value
		err error
	}
)

// Tree is the bucket browser: a bucket's elements a window at a time (a
// bucket of millions of keys is never read whole), enter into a
// sub-bucket and back, and the selected value shown decoded or in hex.
type Tree struct {
	Keys TreeKeyMap

	src     BucketSource
	path    []string
	back    [][]byte // per level opened, the key to come back to
	gen     int      // bumped whenever the window is asked for; older answers are dropped
	win     []Entry
	cur     int
	value   Value
	view    int // the ValueView shown
	valTop  int // its first line shown
	note    string
	find    finder
	err     error
	focused bool
	w, h    int
}

// NewTree returns the browser at the root bucket of src.
func NewTree(src BucketSource) Tree {
	return Tree{Keys: DefaultTreeKeyMap(), src: src, w: 80, h: 24}
}

// Init reads the root bucket's first window.
func (m Tree) Init() tea.Cmd { return m.fetch(nil, false) }

// SetSize sets the pane's size in cells.
func (m *Tree) SetSize(w, h int) { m.w, m.h = max(w, 20), max(h, 4) }

// Focus and Blur say whether keys go to the pane.
func (m *Tree) Focus() { m.focused = true }
func (m *Tree) Blur()  { m.focused = false }

// Typing says whether keys go to the search prompt.
func (m Tree) Typing() bool { return m.find.ask.active() }

// rows is how many elements the window holds: the list's height.
func (m Tree) rows() int { return max(m.h-1, 1) }

// after is the least key above k.
func after(k []byte) []byte { return append(slices.Clip(k), 0) }

// seek loads the window starting at from (the last window with last),
// dropping the answers to what was asked before.
func (m *Tree) seek(from []byte, last bool) tea.Cmd {
	m.gen++
	return m.fetch(from, last)
}

func (m Tree) fetch(from []byte, last bool) tea.Cmd {
	src, path, n, gen := m.src, m.path, m.rows(), m.gen
	return func() tea.Msg {
		win, err := src.Entries(path, from, last, n)
		cur := 0
		if last {
			slices.Reverse(win)
			cur = len(win) - 1
		}
		return windowMsg{gen: gen, win: win, cur: cur, err: err}
	}
}

// scroll moves the window by d elements (a page when |d| is rows), the
// selection staying at row cur of the new window when it can.
func (m *Tree) scroll(d int) tea.Cmd {
	if len(m.win) == 0 {
		return nil
	}
	m.gen++
	src, path, n, gen, win, cur := m.src, m.path, m.rows(), m.gen, m.win, m.cur
	return func() tea.Msg {
		var more []Entry
		var err error
		if d > 0 {
			more, err = src.Entries(path, after(win[len(win)-1].Key), false, d)
		} else {
			more, err = src.Entries(path, win[0].Key, true, -d)
			slices.Reverse(more)
		}
		if err != nil || len(more) == 0 {
			if d > 0 {
				cur = len(win) - 1
			} else {
				cur = 0
			}
			return windowMsg{gen: gen, win: win, cur: cur, err: err}
		}
		var next []Entry
		if d > 0 {
			next = append(slices.Clone(win), more...)
			next = next[max(len(next)-n, 0):]
		} else {
			next = append(more, win...)
			next = next[:min(len(next), n)]
		}
		return windowMsg{gen: gen, win: next, cur: min(cur, len(next)-1)}
	}
}

func (m Tree) loadValue() tea.Cmd {
	if m.cur >= len(m.win) || m.win[m.cur].Bucket {
		return nil
	}
	src, path, k, gen := m.src, m.path, m.win[m.cur].Key, m.gen
	return func() tea.Msg {
		v, err := src.Value(path, k)
		return valueMsg{gen: gen, key: k, v: v, err: err}
	}
}

// search looks for the needle from the element after the selected one
// and opens the window at the match.
func (m *Tree) search() tea.Cmd {
	var from []byte
	if m.cur < len(m.win) {
		from = after(m.win[m.cur].Key)
	}
	m.gen++
	src, path, n, gen, needle := m.src, m.path, m.rows(), m.gen, m.find.needle
	return func() tea.Msg {
		k, ok, err := src.Search(path, from, []byte(needle))
		if err != nil || !ok {
			return windowMsg{gen: gen, err: err, note: fmt.Sprintf("%q: no more matches", needle), cur: -1}
		}
		win, err := src.Entries(path, k, false, n)
		return windowMsg{gen: gen, win: win, err: err, note: fmt.Sprintf("%q found", needle)}
	}
}

// Update handles keys and reads.
func (m Tree) Update(msg tea.Msg) (Tree, tea.Cmd) {
	switch msg := msg.(type) {
	case windowMsg:
		if msg.gen != m.gen {
			return m, nil
		}
		m.err, m.note = msg.err, msg.note
		if msg.cur < 0 { // a search found nothing: stay
			return m, nil
		}
		m.win, m.cur, m.value, m.valTop = msg.win, msg.cur, Value{}, 0
		return m, m.loadValue()
	case valueMsg:
		if msg.gen == m.gen && m.cur < len(m.win) && bytes.Equal(msg.key, m.win[m.cur].Key) {
			m.value, m.err, m.valTop = msg.v, msg.err, 0
			m.view = min(m.view, max(len(m.value.Views)-1, 0))
		}
		return m, nil
	case tea.KeyPressMsg:
		if !m.focused {
			return m, nil
		}
		return m.key(msg)
	}
	return m, nil
}

func (m Tree) key(msg tea.KeyPressMsg) (Tree, tea.Cmd) {
	k := m.Keys
	if cmd, ok := m.find.key(msg, k.Search, k.SearchNext, func() tea.Cmd { return m.search() }); ok {
		return m, cmd
	}
	switch {
	case key.Matches(msg, k.View):
		if n := len(m.value.Views); n > 0 {
			m.view, m.valTop = (m.view+1)%n, 0
		}
	case key.Matches(msg, k.ValueDown), key.Matches(msg, k.ValueUp):
		d := m.h / 2
		if key.Matches(msg, k.ValueUp) {
			d = -d
		}
		if m.view < len(m.value.Views) {
			m.valTop = max(min(m.valTop+d, len(m.value.Views[m.view].Lines)-1), 0)
		}
	case key.Matches(msg, k.Top):
		return m, m.seek(nil, false)
	case key.Matches(msg, k.Bottom):
		return m, m.seek(nil, true)
	case key.Matches(msg, k.Up):
		if m.cur > 0 {
			m.cur--
			m.gen++
			return m, m.loadValue()
		}
		return m, m.scroll(-1)
	case key.Matches(msg, k.Down):
		if m.cur < len(m.win)-1 {
			m.cur++
			m.gen++
			return m, m.loadValue()
		}
		return m, m.scroll(1)
	case key.Matches(msg, k.PageUp):
		return m, m.scroll(-m.rows())
	case key.Matches(msg, k.PageDown):
		return m, m.scroll(m.rows())
	case key.Matches(msg, k.Open):
		if m.cur < len(m.win) && m.win[m.cur].Bucket {
			e := m.win[m.cur]
			m.path = append(slices.Clip(m.path), string(e.Key))
			m.back = append(slices.Clip(m.back), e.Key)
			m.view, m.note = 0, ""
			return m, m.seek(nil, false)
		}
	case key.Matches(msg, k.Back):
		if n := len(m.path); n > 0 {
			from := m.back[n-1]
			m.path, m.back, m.note = m.path[:n-1], m.back[:n-1], ""
			return m, m.seek(from, false)
		}
	}
	return m, nil
}

// Path is the bucket shown, its names joined by /.
func (m Tree) Path() string { return "/" + strings.Join(m.path, "/") }

// View draws the elements on the left and the value on the right.
func (m Tree) View() string {
	lw := min(max(m.w*2/5, 24), 64)
	head := "Bucket " + m.Path()
	if m.note != "" {
		head += "  (" + m.note + ")"
	}
	left := []string{title(head, m.focused)}
	first := max(0, m.cur-(m.h-2)) // the window outgrew a shrunk screen
	for i, e := range m.win[first:] {
		i += first
		mark := "  "
		if i == m.cur {
			mark = "> "
		}
		if e.Bucket {
			left = append(left, mark+"["+e.Text+"]/")
			continue
		}
		left = append(left, strings.TrimRight(fmt.Sprintf("%s%-12s %9s  %s", mark, e.Text, textfmt.Size(int64(e.Size)), e.Note), " "))
	}
	var right []string
	switch {
	case m.cur >= len(m.win):
		right = []string{title("Value", false), "(empty bucket)"}
	case m.win[m.cur].Bucket:
		e := m.win[m.cur]
		right = []string{title("Bucket "+e.Text, false), fmt.Sprintf("a sub-bucket, its entry on page %d", e.Page), "", "enter: open it"}
	default:
		e := m.win[m.cur]
		name := ""
		if m.view < len(m.value.Views) {
			name = m.value.Views[m.view].Name
		}
		var names []string
		for _, v := range m.value.Views {
			names = append(names, v.Name)
		}
		right = []string{title(fmt.Sprintf("Value of %s: %d bytes on page %d, as %s (v: %s)", e.Text, e.Size, e.Page, name, strings.Join(names, ", ")), false)}
		if m.view < len(m.value.Views) {
			lines := m.value.Views[m.view].Lines
			right = append(right, lines[min(m.valTop, len(lines)):]...)
		}
	}
	if m.err != nil {
		right = append(right[:1], append([]string{"error: " + m.err.Error()}, right[1:]...)...)
	}
	if m.find.ask.active() {
		right = append(fill(right, m.h-1), m.find.ask.view())
	}
	return columns(left, right, lw, m.w, m.h)
}
