package panes

import (
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// The colours, 4-bit so that every terminal has them; bubbletea drops
// them where the terminal has none. The text carries the same meaning
// without them (!! and ! mark problems, [x] the selection), which is what
// the golden files hold.
var (
	problemStyle  = lipgloss.NewStyle().Foreground(lipgloss.BrightRed).Bold(true)
	selectedStyle = lipgloss.NewStyle().Reverse(true)
	focusedStyle  = lipgloss.NewStyle().Bold(true)
	glyphStyles   = map[byte]lipgloss.Style{
		'M': lipgloss.NewStyle().Foreground(lipgloss.BrightBlue),
		'B': lipgloss.NewStyle().Foreground(lipgloss.Magenta),
		'L': lipgloss.NewStyle().Foreground(lipgloss.Green),
		'o': lipgloss.NewStyle().Foreground(lipgloss.Cyan),
		'F': lipgloss.NewStyle().Foreground(lipgloss.Yellow),
		'.': lipgloss.NewStyle().Faint(true),
		'?': lipgloss.NewStyle().Foreground(lipgloss.BrightYellow),
		'!': problemStyle,
	}
)

// Problem styles a problem mark or text.
func Problem(s string) string { return problemStyle.Render(s) }

// glyph is a page map glyph in its colour.
func glyph(g byte) string {
	if st, ok := glyphStyles[g]; ok {
		return st.Render(string(g))
	}
	return string(g)
}

// pad cuts or pads s to exactly w cells; escape sequences take none.
func pad(s string, w int) string {
	n := ansi.StringWidth(s)
	if n > w {
		return ansi.Cut(s, 0, w)
	}
	return s + strings.Repeat(" ", w-n)
}
