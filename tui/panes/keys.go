package panes

import "charm.land/bubbles/v2/key"

// binding is a key binding: keys, and in the help line name for them and
// desc for what they do.
func binding(name, desc string, keys ...string) key.Binding {
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(name, desc))
}

// The bindings every pane has alike, vim keys and arrows; desc is what
// the help line says they do in that pane.
func upKey(desc string) key.Binding       { return binding("k/↑", desc, "k", "up") }
func downKey(desc string) key.Binding     { return binding("j/↓", desc, "j", "down") }
func pageUpKey(desc string) key.Binding   { return binding("pgup", desc, "ctrl+u", "pgup") }
func pageDownKey(desc string) key.Binding { return binding("pgdn", desc, "ctrl+d", "pgdown") }
func topKey(desc string) key.Binding      { return binding("g", desc, "g", "home") }
func bottomKey(desc string) key.Binding   { return binding("G", desc, "G", "end") }

// The bindings of the panes that search keys and values, and of those
// that list problems.
func searchBinding() key.Binding    { return binding("/", "search keys and values", "/") }
func nextMatchBinding() key.Binding { return binding("n", "next match", "n") }
func nextProblemKey() key.Binding   { return binding("n", "next problem", "n") }
func prevProblemKey() key.Binding   { return binding("N", "previous problem", "N") }
