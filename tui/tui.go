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

// keyMap are the global keys.
type keyMap struct {
	Quit, Help key.Binding
	pane       help.KeyMap
}

func (k keyMap) ShortHelp() []key.Binding {
	return append(k.pane.ShortHelp(), k.Help, k.Quit)
}

func (k keyMap) FullHelp() [][]key.Binding {
	return append(k.pane.FullHelp(), []key.Binding{k.Help, k.Quit})
}

// Model is the root: tabs, the focused pane, the help line. It handles
// only layout, focus, global keys and routing.
type Model struct {
	wal      panes.WAL
	keys     keyMap
	help     help.Model
	tabs     []string
	w, h     int
	quitting bool
}

// New returns the root model over src.
func New(src Sources) (Model, error) {
	if src.WAL == nil {
		return Model{}, errors.New("tui: nothing to show: give a data dir, a member dir, a wal dir or a .wal file")
	}
	m := Model{wal: panes.NewWAL(src.WAL), tabs: []string{"WAL"}, help: help.New(), w: 100, h: 30}
	m.keys = keyMap{
		Quit: key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Help: key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		pane: m.wal.Keys,
	}
	m.wal.Focus()
	m.layout()
	return m, nil
}

// Init starts the first pane's reads.
func (m Model) Init() tea.Cmd { return m.wal.Init() }

func (m *Model) layout() {
	m.help.SetWidth(m.w)
	m.wal.SetSize(m.w, m.h-2-m.helpHeight())
}

func (m Model) helpHeight() int {
	return strings.Count(m.help.View(m.keys), "\n") + 1
}

// Update routes messages: global keys here, the rest to the pane.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
		m.layout()
		return m, nil
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, m.keys.Quit):
			m.quitting = true
			return m, tea.Quit
		case key.Matches(msg, m.keys.Help):
			m.help.ShowAll = !m.help.ShowAll
			m.layout()
			return m, nil
		}
	}
	var cmd tea.Cmd
	m.wal, cmd = m.wal.Update(msg)
	return m, cmd
}

// View draws the tab bar, the pane and the help line.
func (m Model) View() tea.View {
	v := tea.NewView(m.Render())
	v.AltScreen = true
	return v
}

// Render is the screen as text.
func (m Model) Render() string {
	if m.quitting {
		return ""
	}
	var b strings.Builder
	for i, t := range m.tabs {
		if i == 0 {
			b.WriteString("[" + t + "]")
		} else {
			b.WriteString("  " + t)
		}
	}
	b.WriteString("  etcdscope tui (read-only)\n")
	b.WriteString(strings.Repeat("─", m.w) + "\n")
	b.WriteString(m.wal.View())
	b.WriteString("\n")
	b.WriteString(m.help.View(m.keys))
	return b.String()
}
