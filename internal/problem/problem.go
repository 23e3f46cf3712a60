// Package problem is the error machinery the format decoders (walfmt,
// snapfmt, boltfmt) and internal/datadir share, so that every format
// classifies, words and places its problems the same way (STYLE.md §3.3):
//
//   - a format registers each sentinel with its finding code and severity
//     in a [Classes] table; the severity is [finding.Severity], the one
//     severity type of etcdscope;
//   - [Text] and [Message] word a problem without the "pkg: " prefix of its
//     sentinel, for reports that name the package or the file elsewhere;
//   - [Located] words a problem placed in a file;
//   - [InputError] is the one-line error for a path that cannot be used as
//     input at all, and [OpenFile] opens an input file the way every
//     decoder must (read-only, no lock, never a pipe or device);
//   - [ParseHexName] reads etcd's %016x-%016x file names.
//
// Every text built here that carries a name from the input escapes it with
// textfmt.Escape, so a newline or an escape sequence in a file name can
// neither cut a one-line message nor reach the terminal.
//
// The package imports only the standard library, finding and textfmt, so
// the format decoders may import it (deps_test.go).
package problem

import (
	"errors"
	"fmt"
	"strings"

	"github.com/etcdscope/etcdscope/finding"
)

// ErrNotBolt is returned for a file that does not carry bbolt's magic
// where a bbolt file must. It is the one such sentinel: boltfmt and snapfmt
// export it as their ErrNotBolt, so errors.Is(err, boltfmt.ErrNotBolt)
// holds whichever of them found it. Its text names boltfmt, the package
// that owns the bbolt format.
var ErrNotBolt = errors.New("boltfmt: not a bbolt file")

// Classes is a format's problem sentinels, each registered where it is
// declared with the stable finding code (CONTRACT.md) and the severity it
// is reported with:
//
//	var classes = problem.NewClasses("wal-internal")
//
//	// ErrCRCMismatch is returned when ...
//	var ErrCRCMismatch = classes.New("walfmt: crc mismatch", "wal-crc-mismatch", finding.Error)
//
// Lookups test the sentinels with errors.Is in the order they were
// registered (for package variables, the order of declaration).
type Classes struct {
	list     []class
	internal string
}

type class struct {
	err      error
	code     string
	severity finding.Severity
}

// NewClasses returns an empty table. internal is the code of an error
// that wraps none of the sentinels ("wal-internal"): a bug, not damage.
func NewClasses(internal string) *Classes {
	return &Classes{internal: internal}
}

// New returns a new sentinel with the given text, registered with code and
// severity.
func (c *Classes) New(text, code string, severity finding.Severity) error {
	return c.Add(errors.New(text), code, severity)
}

// Add registers a sentinel made elsewhere (one shared with another
// format, as [ErrNotBolt]) with code and severity, and returns it.
func (c *Classes) Add(sentinel error, code string, severity finding.Severity) error {
	c.list = append(c.list, class{sentinel, code, severity})
	return sentinel
}

func (c *Classes) find(err error) (class, bool) {
	for _, k := range c.list {
		if errors.Is(err, k.err) {
			return k, true
		}
	}
	return class{}, false
}

// Code returns the finding code of the first sentinel err wraps, or the
// table's internal code.
func (c *Classes) Code(err error) string {
	if k, ok := c.find(err); ok {
		return k.code
	}
	return c.internal
}

// Severity returns the severity of the first sentinel err wraps, or
// [finding.Error] for an error that wraps none: an internal error is never
// harmless.
func (c *Classes) Severity(err error) finding.Severity {
	if k, ok := c.find(err); ok {
		return k.severity
	}
	return finding.Error
}

// Text is err's text without the "pkg: " its package puts first
// ("walfmt: crc mismatch" gives "crc mismatch"), for a report or a message
// that names the package, or no package, elsewhere. A text that does not
// start with a lower-case word and ": " is returned whole.
func Text(err error) string {
	s := err.Error()
	if i := strings.Index(s, ": "); i > 0 && isPackageName(s[:i]) {
		return s[i+2:]
	}
	return s
}

// isPackageName reports whether s is a lower-case word as Go package names
// are: a letter, then letters and digits.
func isPackageName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

// Message is a problem's text without the package and the file name:
// the sentinel's [Text], then ": " and the detail when there is one.
func Message(sentinel error, detail string) string {
	s := Text(sentinel)
	if detail != "" {
		s += ": " + detail
	}
	return s
}

// Located is the text of a problem placed in a file, in the form STYLE.md
// §3.3 fixes: "pkg: file: offset 0x1f40: what (detail)". The offset part is
// left out when offset is negative (a problem with no place in the file),
// the detail part when detail is empty. The file name is escaped.
func Located(pkg, file string, offset int64, sentinel error, detail string) string {
	s := pkg + ": " + Path(file)
	if offset >= 0 {
		s += fmt.Sprintf(": offset %#x", offset)
	}
	s += ": " + Text(sentinel)
	if detail != "" {
		s += " (" + detail + ")"
	}
	return s
}
