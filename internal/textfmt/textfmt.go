// Package textfmt is etcdscope's one policy for showing bytes taken from
// the input (keys, values, file and bucket names, messages that quote them)
// as text, in the CLI, the tui and the findings alike. It follows etcdctl:
//
//   - printable UTF-8 is shown as it is ([Bare]);
//   - anything else, and wherever the output needs a delimited token, is a
//     double-quoted Go string literal whose escapes (\x00, \n, \u2028) make
//     every byte visible and no terminal control sequence reach the screen
//     ([Quote], [Bare] for text that is not plain);
//   - --hex prints every byte as \xNN, as `etcdctl get --hex` does ([Hex]).
//
// Bare text never starts with a double quote, so a reader can always tell
// a quoted form from a plain one. Sizes in bytes are shown as [Size] puts
// them.
package textfmt

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Plain reports whether b is printable UTF-8 that needs no quoting: no
// control character, no invalid byte, no double quote or backslash, no
// leading or trailing space, and not empty.
func Plain(b []byte) bool {
	if len(b) == 0 || b[0] == ' ' || b[len(b)-1] == ' ' {
		return false
	}
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 || r == '"' || r == '\\' || !unicode.IsPrint(r) {
			return false
		}
		b = b[n:]
	}
	return true
}

// Bare is b as it is when it is [Plain], else [Quote]d. It is the form for
// a key or value standing alone: a column, a line of its own.
func Bare(b []byte) string {
	if Plain(b) {
		return string(b)
	}
	return Quote(b)
}

// BareString is [Bare] of a string: a file, bucket or member name.
func BareString(s string) string {
	if Plain([]byte(s)) {
		return s
	}
	return strconv.Quote(s)
}

// Quote is b as a double-quoted Go string literal: printable UTF-8 kept,
// every other byte escaped. It is the form for a token inside a line
// (key="..."), where spaces and quotes would be ambiguous.
func Quote(b []byte) string { return strconv.Quote(string(b)) }

// Hex is every byte of b as \xNN, the form `etcdctl --hex` prints.
func Hex(b []byte) string {
	const digits = "0123456789abcdef"
	var s strings.Builder
	s.Grow(4 * len(b))
	for _, c := range b {
		s.WriteString(`\x`)
		s.WriteByte(digits[c>>4])
		s.WriteByte(digits[c&0xf])
	}
	return s.String()
}

// ParseHex is the inverse of [Hex]: bytes given as \xNN escapes, as Hex
// prints them, or as plain hex digits (2f61), with or without 0x. The
// error is encoding/hex's.
func ParseHex(s string) ([]byte, error) {
	plain := strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	return hex.DecodeString(strings.ReplaceAll(plain, `\x`, ""))
}

// ParseBare is the inverse of [Bare] and of [Quote]: s unquoted when it is
// a double-quoted Go string literal, else s as it is.
func ParseBare(s string) []byte {
	if strings.HasPrefix(s, `"`) {
		if u, err := strconv.Unquote(s); err == nil {
			return []byte(u)
		}
	}
	return []byte(s)
}

// Shorten is [Bare] of at most max bytes of b, followed by the whole
// length when b is longer: `"abc"... (4096 bytes)`. A cut inside a
// multi-byte rune moves back to the rune's start.
func Shorten(b []byte, max int) string {
	if len(b) <= max {
		return Bare(b)
	}
	cut := max
	for cut > 0 && cut > max-utf8.UTFMax && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return Bare(b[:cut]) + "... (" + strconv.Itoa(len(b)) + " bytes)"
}

// Escape makes a message that carries names from the input safe to print
// on one line of a terminal: control characters (a newline, ESC) and
// invalid bytes are escaped as in a Go string literal; everything else,
// quotes included, stays as it is.
func Escape(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) && r != ' ' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	q := strconv.Quote(s)
	q = q[1 : len(q)-1]
	return strings.ReplaceAll(q, `\"`, `"`)
}

// Size is a size in bytes for a person: B below a KiB, else KiB, MiB or
// GiB with one decimal ("7.0 KiB", "16.0 MiB").
func Size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
