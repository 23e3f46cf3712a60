// Package hexfmt renders bytes as annotated hex, in the manner of pebble's
// internal/binfmt: a [Builder] collects annotated byte ranges of a buffer,
// and renders one line per range (more when a range is wider than a line):
//
//	00003000 +0000: 03 00 00 00 00 00 00 00                          |........        | # page id 3
//	00003008 +0008: 02 00                                            |..              | # flags 0x0002 (leaf)
//	0000300a +000a: 01 00                                            |..              | # count 1
//
// The columns are the absolute offset (the buffer's position in its file,
// [Options.Base], plus the offset in the buffer), the offset in the
// buffer, the bytes in hex, the bytes as ASCII ('.' for anything not
// printable) and the annotation. Bytes no range covers are rendered too,
// without an annotation, so every byte of the buffer is shown once.
//
// # Guarantees
//
// Ranges may be given in any order, may overlap and may run past the
// buffer: they are sorted, clipped and rendered without a panic. A Builder
// is not safe for concurrent use.
package hexfmt

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Options configure [New].
type Options struct {
	// Base is added to every offset in the first column: the buffer's
	// offset in its file.
	Base int64
	// Width is the number of bytes per line; 0 means 16.
	Width int
	// Squeeze collapses repeated all-zero lines within one range into a
	// single "*" line, as hexdump does.
	Squeeze bool
	// Highlight, when set, wraps the hex digits and the character of each
	// byte Mark marked (a terminal style, for instance).
	Highlight func(string) string
}

// Span is one annotated byte range.
type Span struct {
	Offset int    // in the buffer
	Length int    // may be 0: an annotation with no bytes
	Text   string // the annotation
}

// End returns the offset just past the span.
func (s Span) End() int { return s.Offset + s.Length }

// Builder collects annotated ranges of one buffer.
type Builder struct {
	data  []byte
	opts  Options
	spans []Span
	marks []Span // bytes to highlight
}

// New returns a Builder for data. data is not copied; it must not change
// until the Builder has been rendered.
func New(data []byte, opts Options) *Builder {
	if opts.Width <= 0 {
		opts.Width = 16
	}
	return &Builder{data: data, opts: opts}
}

// Add annotates n bytes at off. Negative offsets and lengths are clipped
// to the buffer when rendering, not here, so that Spans reports what was
// asked.
func (b *Builder) Add(off, n int, format string, args ...any) {
	text := format
	if len(args) > 0 {
		text = fmt.Sprintf(format, args...)
	}
	b.spans = append(b.spans, Span{Offset: off, Length: n, Text: text})
}

// Mark has n bytes at off highlighted with Options.Highlight.
func (b *Builder) Mark(off, n int) {
	b.marks = append(b.marks, Span{Offset: off, Length: n})
}

// marked reports whether the byte at off is to be highlighted.
func (b *Builder) marked(off int) bool {
	for _, m := range b.marks {
		if off >= m.Offset && off < m.End() {
			return b.opts.Highlight != nil
		}
	}
	return false
}

// Spans returns the ranges added, ordered by offset (longer first on a
// tie, then in the order they were added).
func (b *Builder) Spans() []Span {
	out := append([]Span(nil), b.spans...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Offset != out[j].Offset {
			return out[i].Offset < out[j].Offset
		}
		return out[i].Length > out[j].Length
	})
	return out
}

// String renders the buffer.
func (b *Builder) String() string {
	var sb strings.Builder
	b.WriteTo(&sb)
	return sb.String()
}

// WriteTo renders the buffer to w.
func (b *Builder) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: bufio.NewWriter(w)}
	r := b.renderer(cw)
	pos := 0
	n := len(b.data)
	for _, s := range b.Spans() {
		start, end := clip(s.Offset, n), clip(s.End(), n)
		if s.Length < 0 {
			end = start
		}
		text := s.Text
		if s.Offset < 0 && s.Length > 0 {
			text += fmt.Sprintf(" (starts %d bytes before the buffer)", -s.Offset)
		}
		switch {
		case start < pos && end <= pos:
			if s.Length > 0 {
				text += fmt.Sprintf(" (%d bytes, shown above)", end-start)
			}
			r.empty(start, text)
			continue
		case start < pos:
			text += fmt.Sprintf(" (from +%#x, overlapping the range above)", start)
			start = pos
		case start > pos:
			r.run(pos, start, "")
			pos = start
		}
		if end == start {
			if s.Length > 0 {
				text += fmt.Sprintf(" (past the end of the %d bytes)", n)
			}
			r.empty(start, text)
			continue
		}
		if s.Length > 0 && s.End() > n {
			text += fmt.Sprintf(" (cut at the end of the %d bytes; %d more)", n, s.End()-n)
		}
		r.run(start, end, text)
		pos = end
	}
	if pos < n {
		r.run(pos, n, "")
	}
	err := cw.w.(*bufio.Writer).Flush()
	if err == nil {
		err = cw.err
	}
	return cw.n, err
}

func clip(v, n int) int { return min(max(v, 0), n) }

type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}

type renderer struct {
	b         *Builder
	w         io.Writer
	absDigits int
	relDigits int
	line      []byte
}

func (b *Builder) renderer(w io.Writer) *renderer {
	digits := func(v int64) int {
		d := 1
		for v >= 16 {
			v /= 16
			d++
		}
		return d
	}
	n := int64(len(b.data))
	return &renderer{b: b, w: w, absDigits: max(8, digits(b.opts.Base+n)), relDigits: max(4, digits(n))}
}

// hexWidth is the width of the hex column for a full line.
func (r *renderer) hexWidth() int {
	w := r.b.opts.Width
	return 3*w + (w-1)/8
}

func (r *renderer) prefix(off int) {
	r.line = fmt.Appendf(r.line[:0], "%0*x +%0*x: ", r.absDigits, r.b.opts.Base+int64(off), r.relDigits, off)
}

// empty writes an annotation that covers no bytes of its own.
func (r *renderer) empty(off int, text string) {
	r.prefix(off)
	r.line = append(r.line, strings.Repeat(" ", r.hexWidth())...)
	r.line = append(r.line, '|')
	r.line = append(r.line, strings.Repeat(" ", r.b.opts.Width)...)
	r.line = append(r.line, "| # "...)
	r.line = append(r.line, text...)
	r.line = append(r.line, '\n')
	r.w.Write(r.line)
}

// run writes the bytes [start, end), the annotation on the first line.
func (r *renderer) run(start, end int, text string) {
	w := r.b.opts.Width
	squeezed := false
	for off := start; off < end; off += w {
		chunk := r.b.data[off:min(off+w, end)]
		if r.b.opts.Squeeze && off > start && len(chunk) == w && allZero(chunk) && allZero(r.b.data[off-w:off]) {
			if !squeezed {
				r.w.Write([]byte("*\n"))
				squeezed = true
			}
			continue
		}
		squeezed = false
		r.prefix(off)
		for i := 0; i < w; i++ {
			if i > 0 && i%8 == 0 {
				r.line = append(r.line, ' ')
			}
			switch {
			case i < len(chunk) && r.b.marked(off+i):
				r.line = append(r.line, r.b.opts.Highlight(string([]byte{hexDigits[chunk[i]>>4], hexDigits[chunk[i]&0xf]}))...)
				r.line = append(r.line, ' ')
			case i < len(chunk):
				r.line = append(r.line, hexDigits[chunk[i]>>4], hexDigits[chunk[i]&0xf], ' ')
			default:
				r.line = append(r.line, "   "...)
			}
		}
		r.line = append(r.line, '|')
		for i := 0; i < w; i++ {
			switch {
			case i >= len(chunk):
				r.line = append(r.line, ' ')
			case r.b.marked(off + i):
				c := byte('.')
				if chunk[i] >= 0x20 && chunk[i] < 0x7f {
					c = chunk[i]
				}
				r.line = append(r.line, r.b.opts.Highlight(string(c))...)
			case chunk[i] >= 0x20 && chunk[i] < 0x7f:
				r.line = append(r.line, chunk[i])
			default:
				r.line = append(r.line, '.')
			}
		}
		r.line = append(r.line, '|')
		if off == start && text != "" {
			r.line = append(r.line, " # "...)
			r.line = append(r.line, text...)
		}
		r.line = append(r.line, '\n')
		r.w.Write(r.line)
	}
}

const hexDigits = "0123456789abcdef"

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
