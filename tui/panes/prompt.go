package panes

import (
	"charm.land/bubbles/v2/key"
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

// finder is the search of a pane of keys and values: the prompt that asks
// for a needle, and the last needle.
type finder struct {
	ask    prompt
	needle string
}

// key handles msg if it is the search's: any key while the prompt is open
// (run starts the search once it answers with a needle), search, which
// opens the prompt, and next, which runs the search for the needle again.
// It returns ok false for the pane's other keys.
func (f *finder) key(msg tea.KeyPressMsg, search, next key.Binding, run func() tea.Cmd) (cmd tea.Cmd, ok bool) {
	switch {
	case f.ask.active():
		kind, a, cmd := f.ask.key(msg)
		if kind == askSearch && a != "" {
			f.needle = a
			return run(), true
		}
		return cmd, true
	case key.Matches(msg, search):
		return f.ask.open(askSearch, "search keys and values: ", f.needle), true
	case key.Matches(msg, next):
		if f.needle != "" {
			return run(), true
		}
		return nil, true
	}
	return nil, false
}
