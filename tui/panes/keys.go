package panes

import "charm.land/bubbles/v2/key"

// The bindings every pane has alike, vim keys and arrows; desc is what
// the help line says they do in that pane.

func upKey(desc string) key.Binding {
	return key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("k/↑", desc))
}

func downKey(desc string) key.Binding {
	return key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("j/↓", desc))
}

func pageUpKey(desc string) key.Binding {
	return key.NewBinding(key.WithKeys("ctrl+u", "pgup"), key.WithHelp("pgup", desc))
}

func pageDownKey(desc string) key.Binding {
	return key.NewBinding(key.WithKeys("ctrl+d", "pgdown"), key.WithHelp("pgdn", desc))
}

func topKey(desc string) key.Binding {
	return key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g", desc))
}

func bottomKey(desc string) key.Binding {
	return key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G", desc))
}

func searchBinding() key.Binding {
	return key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "search keys and values"))
}

func nextMatchBinding() key.Binding {
	return key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "next match"))
}
