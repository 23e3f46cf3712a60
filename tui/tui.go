// Package tui is etcdscope's terminal browser: tabs over what a path
// holds (for now the WAL: segments, records, each record decoded and in
// hex, with jumps between problems). It only reads: its sources open
// their files read-only and take no lock.
//
// # Usage
//
//	src, closer, err := tui.OpenWAL(path)
//	...
//	err = tui.Run(ctx, tui.Sources{WAL: src}, tui.Options{})
//
// # Guarantees
//
// Update does no I/O: reads run in commands and come back as messages.
// A segment's rows are read when the segment is shown; a record's bytes
// when it is selected.
package tui

import (
	"context"
	"errors"
	"io"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/etcdscope/etcdscope/tui/panes"
)

// Options configure Run.
type Options struct {
	// Input and Output replace the terminal (tests).
	Input  io.Reader
	Output io.Writer
}

// Run shows the browser until the user quits or ctx ends.
func Run(ctx context.Context, src Sources, opts Options) error {
	m, err := New(src)
	if err != nil {
		return err
	}
	var po []tea.ProgramOption
	po = append(po, tea.WithContext(ctx))
	if opts.Input != nil {
		po = append(po, tea.WithInput(opts.Input))
	}
	if opts.Output != nil {
		po = append(po, tea.WithOutput(opts.Output))
	}
	_, err = tea.NewProgram(m, po...).Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil
	}
	return err
}

// keyMap are the global keys, and the active pane's for the help line.
type keyMap struct {
	Quit, Help, NextTab, PrevTab key.Binding
	pane                         help.KeyMap
}

// ShortHelp puts the global keys first: a narrow screen cuts the line's
// end, and ? must stay in sight.
func (k keyMap) ShortHelp() []key.Binding {
	return append([]key.Binding{k.Help, k.Quit, k.NextTab}, k.pane.ShortHelp()...)
}

func (k keyMap) FullHelp() [][]key.Binding {
	return append(k.pane.FullHelp(), []key.Binding{k.NextTab, k.PrevTab, k.Help, k.Quit})
}

// The tabs, in order; a path shows those it has sources for.
const (
	tabWAL = iota
	tabSnap
	tabBolt
	tabMVCC
	tabFindings
)

var tabNames = []string{"WAL", "Snap", "Bolt", "MVCC", "Findings"}

var activeTab = lipgloss.NewStyle().Bold(true).Reverse(true)

// Model is the root: tabs, the active pane, the help line. It handles
// only layout, focus, global keys and routing.
type Model struct {
	wal      panes.WAL
	snap     panes.List
	bolt     panes.Bolt
	mvcc     panes.MVCC
	findings panes.List
	tabs     []int // the tabs shown
	active   int   // index into tabs
	keys     keyMap
	help     help.Model
	w, h     int
	quitting bool
}

// newList returns the list pane named name over what load reads after the
// first screen when load is set, else over items; ok is false when there
// is neither.
func newList(name string, items []panes.Item, load func() ([]panes.Item, error)) (l panes.List, ok bool) {
	switch {
	case load != nil:
		return panes.NewListLoader(name, load), true
	case items != nil:
		return panes.NewList(name, items), true
	}
	return panes.List{}, false
}

// New returns the root model over src.
func New(src Sources) (Model, error) {
	m := Model{help: help.New(), w: 100, h: 30}
	if src.WAL != nil {
		m.wal = panes.NewWAL(src.WAL)
		m.tabs = append(m.tabs, tabWAL)
	}
	var ok bool
	if m.snap, ok = newList("Snapshot files", src.Snap, src.LoadSnap); ok {
		m.tabs = append(m.tabs, tabSnap)
	}
	if src.Bolt != nil {
		m.bolt = panes.NewBolt(src.Bolt)
		m.tabs = append(m.tabs, tabBolt)
	}
	switch {
	case src.LoadMVCC != nil:
		m.mvcc = panes.NewMVCCLoader(src.LoadMVCC)
		m.tabs = append(m.tabs, tabMVCC)
	case src.MVCC != nil:
		m.mvcc = panes.NewMVCC(src.MVCC)
		m.tabs = append(m.tabs, tabMVCC)
	}
	if m.findings, ok = newList("Findings", src.Findings, src.LoadFindings); ok {
		m.tabs = append(m.tabs, tabFindings)
	}
	if len(m.tabs) == 0 {
		return Model{}, errors.New("tui: nothing to show: give a data dir, a member dir, a wal dir, a .wal file or a db")
	}
	m.keys = keyMap{
		Quit:    key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Help:    key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		NextTab: key.NewBinding(key.WithKeys("]"), key.WithHelp("]", "next tab")),
		PrevTab: key.NewBinding(key.WithKeys("["), key.WithHelp("[", "previous tab")),
	}
	m.focus()
	m.layout()
	return m, nil
}

// Init starts every pane's first reads.
func (m Model) Init() tea.Cmd {
	var cmds []tea.Cmd
	for _, t := range m.tabs {
		switch t {
		case tabWAL:
			cmds = append(cmds, m.wal.Init())
		case tabBolt:
			cmds = append(cmds, m.bolt.Init())
		case tabMVCC:
			cmds = append(cmds, m.mvcc.Init())
		case tabSnap:
			cmds = append(cmds, m.snap.Init())
		case tabFindings:
			cmds = append(cmds, m.findings.Init())
		}
	}
	return tea.Batch(cmds...)
}

// pane is what the root does alike with every pane; Update differs in
// its concrete return type and is routed in Update.
type pane interface {
	SetSize(w, h int)
	Focus()
	Blur()
	View() string
	// Typing says the pane's prompt is open: keys are text, not commands.
	Typing() bool
}

// pane returns tab's pane and its keys.
func (m *Model) pane(tab int) (pane, help.KeyMap) {
	switch tab {
	case tabWAL:
		return &m.wal, m.wal.Keys
	case tabSnap:
		return &m.snap, m.snap.Keys
	case tabBolt:
		return &m.bolt, m.bolt.HelpKeys()
	case tabMVCC:
		return &m.mvcc, m.mvcc.Keys
	default:
		return &m.findings, m.findings.Keys
	}
}

func (m *Model) focus() {
	for _, t := range m.tabs {
		p, _ := m.pane(t)
		p.Blur()
	}
	p, _ := m.pane(m.tabs[m.active])
	p.Focus()
}

// helpKeys are the global keys and those of what the active pane shows
// now (the bolt tab's change with its view).
func (m Model) helpKeys() keyMap {
	k := m.keys
	_, k.pane = m.pane(m.tabs[m.active])
	return k
}

func (m *Model) layout() {
	m.help.SetWidth(m.w)
	h := m.h - 2 - m.helpHeight()
	for _, t := range m.tabs {
		p, _ := m.pane(t)
		p.SetSize(m.w, h)
	}
}

func (m Model) helpHeight() int {
	return strings.Count(m.help.View(m.helpKeys()), "\n") + 1
}

// Update routes messages: global keys here, keys to the active pane, and
// read results to every pane (each takes its own).
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
		m.layout()
		return m, nil
	case panes.JumpMsg:
		return m.jump(msg)
	case tea.MouseWheelMsg:
		// The wheel moves the selection, as the arrow keys do.
		switch msg.Button {
		case tea.MouseWheelUp:
			return m.Update(tea.KeyPressMsg{Code: tea.KeyUp})
		case tea.MouseWheelDown:
			return m.Update(tea.KeyPressMsg{Code: tea.KeyDown})
		}
		return m, nil
	case tea.KeyPressMsg:
		if p, _ := m.pane(m.tabs[m.active]); p.Typing() && msg.String() != "ctrl+c" {
			break // the pane's prompt takes every key
		}
		switch {
		case key.Matches(msg, m.keys.Quit):
			m.quitting = true
			return m, tea.Quit
		case key.Matches(msg, m.keys.Help):
			m.help.ShowAll = !m.help.ShowAll
			m.layout()
			return m, nil
		case key.Matches(msg, m.keys.NextTab), key.Matches(msg, m.keys.PrevTab):
			d := 1
			if key.Matches(msg, m.keys.PrevTab) {
				d = len(m.tabs) - 1
			}
			m.active = (m.active + d) % len(m.tabs)
			m.focus()
			m.layout()
			return m, nil
		}
	}
	var c1, c2, c3, c4, c5 tea.Cmd
	m.wal, c1 = m.wal.Update(msg)
	m.snap, c2 = m.snap.Update(msg)
	m.bolt, c3 = m.bolt.Update(msg)
	m.mvcc, c4 = m.mvcc.Update(msg)
	m.findings, c5 = m.findings.Update(msg)
	m.layout() // the help's height follows the active pane's keys
	return m, tea.Batch(c1, c2, c3, c4, c5)
}

// jump shows a finding's record or page in its tab.
func (m Model) jump(msg panes.JumpMsg) (tea.Model, tea.Cmd) {
	var tab int
	var cmd tea.Cmd
	switch t := msg.Target.(type) {
	case panes.JumpWAL:
		tab = tabWAL
		m.wal, cmd = m.wal.JumpTo(t.Seg, t.Offset)
	case panes.JumpPage:
		tab = tabBolt
		m.bolt, cmd = m.bolt.JumpTo(t.ID)
	default:
		return m, nil
	}
	for i, t := range m.tabs {
		if t == tab {
			m.active = i
			m.focus()
			m.layout()
			return m, cmd
		}
	}
	return m, nil
}

// View draws the tab bar, the pane and the help line.
func (m Model) View() tea.View {
	v := tea.NewView(m.Render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion // for the wheel
	return v
}

// Render is the screen as text.
func (m Model) Render() string {
	if m.quitting {
		return ""
	}
	var b strings.Builder
	for i, t := range m.tabs {
		if i == m.active {
			b.WriteString(activeTab.Render("[" + tabNames[t] + "]"))
		} else {
			b.WriteString(" " + tabNames[t] + " ")
		}
		b.WriteString(" ")
	}
	b.WriteString(" etcdscope tui (read-only)\n")
	b.WriteString(strings.Repeat("─", m.w) + "\n")
	p, _ := m.pane(m.tabs[m.active])
	b.WriteString(p.View())
	b.WriteString("\n")
	// help cuts its line at the width only when the ellipsis fits; cut
	// every line here so that nothing wraps.
	lines := strings.Split(m.help.View(m.helpKeys()), "\n")
	for i, l := range lines {
		if ansi.StringWidth(l) > m.w {
			lines[i] = ansi.Cut(l, 0, m.w-1) + "…"
		}
	}
	b.WriteString(strings.Join(lines, "\n"))
	return b.String()
}
