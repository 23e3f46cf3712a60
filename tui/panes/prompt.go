package panes

import (
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
)

// prompt is a one-line question at the foot of a pane (jump to index,
// search). While it is open the pane sends it every key, and the root
// keeps its own keys off (see Typing).
type prompt struct {
	kind int // what the answer is for; 0 when closed
	in   textinput.Model
}

// open asks label; kind says what the answer is for.
func (p *prompt) open(kind int, label, value string) tea.Cmd {
	p.kind = kind
	p.in = textinput.New()
	st := textinput.DefaultStyles(true)
	st.Cursor.Blink = false // no timer: a screen is a function of the keys
	p.in.SetStyles(st)
	p.in.Prompt = label
	p.in.SetValue(value)
	return p.in.Focus()
}

// key handles a key while the prompt is open: enter gives the answer
// (with its kind), esc closes it unanswered.
func (p *prompt) key(msg tea.KeyPressMsg) (kind int, answer string, cmd tea.Cmd) {
	switch msg.String() {
	case "enter":
		kind, answer = p.kind, p.in.Value()
		p.kind = 0
		return kind, answer, nil
	case "esc":
		p.kind = 0
		return 0, "", nil
	}
	p.in, cmd = p.in.Update(msg)
	return 0, "", cmd
}

// active says whether the prompt is open.
func (p *prompt) active() bool { return p.kind != 0 }

func (p *prompt) view() string { return p.in.View() }

// askSearch is what a search prompt asks for.
const askSearch = 1

// searchKey feeds a key to an open search prompt; when the prompt answers
// with a needle, it is kept in *needle and run starts the search.
func searchKey(p *prompt, needle *string, msg tea.KeyPressMsg, run func() tea.Cmd) tea.Cmd {
	kind, a, cmd := p.key(msg)
	if kind == askSearch && a != "" {
		*needle = a
		return run()
	}
	return cmd
}
