package panes

import (
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/etcdscope/etcdscope/internal/textfmt"
)

// KV is one key as the MVCC pane lists it at a revision.
type KV struct {
	Key            string
	CreateRevision int64
	ModRevision    int64
	Version        int64
	Lease          int64
	ValueSize      int
}

// MVCCSource is what the MVCC pane reads: the revisions kept, a page of
// keys from a key on at a revision, and one key's history.
type MVCCSource interface {
	Revisions() (compact, current int64)
	// Keys returns up to n keys from start (inclusive) live at rev, and
	// how many keys are live at rev in all.
	Keys(start string, n int, rev int64) (kvs []KV, total int64, err error)
	// History describes every revision of a key, and its value at rev.
	History(key string, rev int64) ([]string, error)
	// Search returns the first key at or after start, live at rev, whose
	// name or value holds needle.
	Search(start string, rev int64, needle string) (key string, ok bool, err error)
}

// MVCCKeyMap are the MVCC pane's keys.
type MVCCKeyMap struct {
	Up, Down, PageDown, PageUp, Top, Older, Newer, Current key.Binding
	Search, SearchNext                                     key.Binding
}

// DefaultMVCCKeyMap has vim and arrow keys; - and + move the revision.
func DefaultMVCCKeyMap() MVCCKeyMap {
	return MVCCKeyMap{
		Up:         upKey("up"),
		Down:       downKey("down"),
		PageDown:   pageDownKey("next keys"),
		PageUp:     pageUpKey("previous keys"),
		Top:        topKey("first key"),
		Older:      key.NewBinding(key.WithKeys("-"), key.WithHelp("-", "revision back")),
		Newer:      key.NewBinding(key.WithKeys("+", "="), key.WithHelp("+", "revision forward")),
		Current:    key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "current revision")),
		Search:     searchBinding(),
		SearchNext: nextMatchBinding(),
	}
}

// ShortHelp implements help.KeyMap.
func (k MVCCKeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Down, k.Up, k.Older, k.Newer, k.Current, k.Search}
}

// FullHelp implements help.KeyMap.
func (k MVCCKeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Top}, {k.Older, k.Newer, k.Current}, {k.Search, k.SearchNext}}
}

type (
	keysMsg struct {
		start string
		rev   int64
		kvs   []KV
		total int64
		err   error
	}
	historyMsg struct {
		key   string
		rev   int64
		lines []string
		err   error
	}
	foundMsg struct {
		rev    int64
		needle string
		key    string
		ok     bool
		err    error
	}
)

// MVCC is the MVCC pane: the keys live at a revision, a page at a time,
// and the selected key's history and value at that revision.
type MVCC struct {
	Keys MVCCKeyMap

	src              MVCCSource
	open             func() (MVCCSource, error) // until the source is open
	compact, current int64
	rev              int64
	starts           []string // the first key of each page shown so far
	kvs              []KV
	total            int64
	cur              int
	history          []string
	err              error
	note             string // a search's result
	find             finder
	focused          bool
	w, h             int
}

// NewMVCC returns the pane over src, at the current revision.
func NewMVCC(src MVCCSource) MVCC {
	m := MVCC{Keys: DefaultMVCCKeyMap(), starts: []string{""}, w: 80, h: 24}
	m.ready(src)
	return m
}

// NewMVCCLoader returns the pane over the source open returns, which Init
// calls in a command: rebuilding the key index reads the whole key
// bucket, and the first screen does not wait for it.
func NewMVCCLoader(open func() (MVCCSource, error)) MVCC {
	return MVCC{Keys: DefaultMVCCKeyMap(), open: open, starts: []string{""}, w: 80, h: 24}
}

// mvccOpenedMsg carries the source a loader opened.
type mvccOpenedMsg struct {
	src MVCCSource
	err error
}

func (m *MVCC) ready(src MVCCSource) {
	m.src, m.open = src, nil
	m.compact, m.current = src.Revisions()
	m.rev = m.current
}

// Init opens the source, if a loader was given, or reads the first page
// of keys.
func (m MVCC) Init() tea.Cmd {
	if open := m.open; open != nil {
		return func() tea.Msg {
			src, err := open()
			return mvccOpenedMsg{src: src, err: err}
		}
	}
	return m.loadKeys()
}

// SetSize sets the pane's size in cells.
func (m *MVCC) SetSize(w, h int) { m.w, m.h = max(w, 20), max(h, 6) }

// Focus and Blur say whether keys go to the pane.
func (m *MVCC) Focus() { m.focused = true }
func (m *MVCC) Blur()  { m.focused = false }

func (m MVCC) page() int { return max(m.h-1, 1) }

func (m MVCC) loadKeys() tea.Cmd {
	src, start, n, rev := m.src, m.starts[len(m.starts)-1], m.page(), m.rev
	return func() tea.Msg {
		kvs, total, err := src.Keys(start, n+1, rev) // one more: is there a next page?
		return keysMsg{start: start, rev: rev, kvs: kvs, total: total, err: err}
	}
}

func (m MVCC) loadHistory() tea.Cmd {
	if m.cur >= len(m.kvs) {
		return nil
	}
	src, k, rev := m.src, m.kvs[m.cur].Key, m.rev
	return func() tea.Msg {
		lines, err := src.History(k, rev)
		return historyMsg{key: k, rev: rev, lines: lines, err: err}
	}
}

// Update handles keys and reads.
func (m MVCC) Update(msg tea.Msg) (MVCC, tea.Cmd) {
	if m.src == nil { // still opening, or failed to
		if msg, ok := msg.(mvccOpenedMsg); ok && m.open != nil {
			if msg.err != nil {
				m.open, m.err = nil, msg.err
				return m, nil
			}
			m.ready(msg.src)
			return m, m.loadKeys()
		}
		return m, nil
	}
	switch msg := msg.(type) {
	case keysMsg:
		if msg.rev != m.rev || msg.start != m.starts[len(m.starts)-1] {
			return m, nil
		}
		m.kvs, m.total, m.err = msg.kvs, msg.total, msg.err
		m.cur = min(m.cur, max(len(m.shown())-1, 0))
		m.history = nil
		return m, m.loadHistory()
	case historyMsg:
		if m.cur < len(m.kvs) && msg.key == m.kvs[m.cur].Key && msg.rev == m.rev {
			m.history, m.err = msg.lines, msg.err
		}
		return m, nil
	case foundMsg:
		if msg.rev != m.rev || msg.needle != m.find.needle {
			return m, nil
		}
		m.err = msg.err
		if !msg.ok {
			m.note = fmt.Sprintf("%q: no more matches", msg.needle)
			return m, nil
		}
		m.note = fmt.Sprintf("%q found", msg.needle)
		m.starts, m.cur = append(m.starts, msg.key), 0
		return m, m.loadKeys()
	case tea.KeyPressMsg:
		if !m.focused {
			return m, nil
		}
		return m.key(msg)
	}
	return m, nil
}

// Typing says whether keys go to the search prompt.
func (m MVCC) Typing() bool { return m.find.ask.active() }

// search looks for the needle from the key after the selected one.
func (m MVCC) search() tea.Cmd {
	start := m.starts[len(m.starts)-1]
	if m.cur < len(m.kvs) {
		start = m.kvs[m.cur].Key + "\x00"
	}
	src, rev, needle := m.src, m.rev, m.find.needle
	return func() tea.Msg {
		k, ok, err := src.Search(start, rev, needle)
		return foundMsg{rev: rev, needle: needle, key: k, ok: ok, err: err}
	}
}

// shown is the page without the look-ahead key.
func (m MVCC) shown() []KV { return m.kvs[:min(len(m.kvs), m.page())] }

func (m MVCC) key(msg tea.KeyPressMsg) (MVCC, tea.Cmd) {
	k := m.Keys
	if !m.find.ask.active() {
		m.note = "" // any key but those typed into the prompt clears the last search's result
	}
	if cmd, ok := m.find.key(msg, k.Search, k.SearchNext, func() tea.Cmd { return m.search() }); ok {
		return m, cmd
	}
	switch {
	case key.Matches(msg, k.Up):
		if m.cur > 0 {
			m.cur--
			return m, m.loadHistory()
		}
	case key.Matches(msg, k.Down):
		if m.cur < len(m.shown())-1 {
			m.cur++
			return m, m.loadHistory()
		}
	case key.Matches(msg, k.PageDown):
		if len(m.kvs) > m.page() {
			m.starts = append(m.starts, m.kvs[m.page()].Key)
			m.cur = 0
			return m, m.loadKeys()
		}
	case key.Matches(msg, k.PageUp):
		if len(m.starts) > 1 {
			m.starts = m.starts[:len(m.starts)-1]
			m.cur = 0
			return m, m.loadKeys()
		}
	case key.Matches(msg, k.Top):
		m.starts, m.cur = []string{""}, 0
		return m, m.loadKeys()
	case key.Matches(msg, k.Older), key.Matches(msg, k.Newer), key.Matches(msg, k.Current):
		rev := m.rev
		switch {
		case key.Matches(msg, k.Older):
			rev = max(rev-1, max(m.compact, 1))
		case key.Matches(msg, k.Newer):
			rev = min(rev+1, m.current)
		default:
			rev = m.current
		}
		if rev != m.rev {
			m.rev = rev
			return m, m.loadKeys()
		}
	}
	return m, nil
}

// View draws the keys on the left and the history on the right.
func (m MVCC) View() string {
	lw := min(max(m.w/2, 20), 70)
	if m.src == nil {
		what := "reading the key index…"
		if m.err != nil {
			what = "error: " + m.err.Error()
		}
		return columns([]string{title("Keys", m.focused), what}, nil, min(max(m.w/2, 20), 70), m.w, m.h)
	}
	head := fmt.Sprintf("Keys at revision %d (kept %d..%d): %d", m.rev, max(m.compact, 1), m.current, m.total)
	if m.note != "" {
		head += "  (" + m.note + ")"
	}
	left := []string{title(head, m.focused)}
	for i, kv := range m.shown() {
		mark := "  "
		if i == m.cur {
			mark = "> "
		}
		left = append(left, fmt.Sprintf("%s%-30s mod %d ver %d %dB", mark, quote(kv.Key), kv.ModRevision, kv.Version, kv.ValueSize))
	}
	right := []string{title("History", false)}
	if m.err != nil {
		right = append(right, "error: "+m.err.Error())
	}
	right = append(right, m.history...)
	if m.find.ask.active() {
		right = append(fill(right, m.h-1), m.find.ask.view())
	}
	return columns(left, right, lw, m.w, m.h)
}

// quote shows a key as text: as it is when printable, else quoted and
// escaped (textfmt's policy, the CLI's).
func quote(k string) string { return textfmt.BareString(k) }
