// Package pbwire is etcdscope's one protobuf walker: every hand-written
// decoder of the repository (the WAL's records, raft payloads and etcd
// requests, .snap files, the db's lease, auth and alarm records, the tui's
// field view) reads messages through it, field by field, with the offsets
// of each field and errors that say where a message stops decoding.
//
// # Usage
//
//	it := pbwire.Fields(b, "HardState", pbwire.Proto)
//	for it.Next() {
//		f := it.Field()
//		switch f.Num {
//		case 1:
//			err = f.Uint64(&h.Term)
//		case 2:
//			err = f.Uint64(&h.Vote)
//		}
//		if err != nil {
//			return err
//		}
//	}
//	return it.Err()
//
// A nested message is walked with [Field.Message], which bounds the
// nesting by [MaxDepth] and reports offsets from the start of the outermost
// message.
//
// # Rules
//
// A walk follows one decoder's [Rules]. [Proto] and [Strict] parse as
// protobuf-go's protowire does; [Gogo] parses as the Unmarshal code gogo
// generated for etcd 3.0-3.6 (api/etcdserverpb/*.pb.go), which etcd's
// classification of a normal entry depends on (see walfmt's request
// layer). The rules also decide what a known field with an unexpected wire
// type is: an unknown field, skipped, under Proto (as protobuf-go reads
// it), an error under Strict and Gogo (as gogo reads it).
//
// # Guarantees
//
// Walking never panics and never allocates on its own; every length is
// checked against the bytes that remain before it is used. Byte fields
// alias the walked bytes. An [Iter] is not safe for concurrent use.
package pbwire

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// Rules are the rules of the decoder a walk mimics.
type Rules uint8

const (
	// Proto reads as protobuf-go: field numbers 1 to 2^29-1, varints of at
	// most 64 bits, groups matched by field number. A known field of an
	// unexpected wire type is an unknown field: the accessors leave their
	// destination alone and return nil.
	Proto Rules = iota
	// Strict reads as Proto, but a known field of an unexpected wire type
	// is an error, as in gogo's generated code.
	Strict
	// Gogo reads as gogo's generated Unmarshal: a varint is at most ten
	// bytes whatever the tenth (bits beyond 64 are dropped), field numbers
	// are truncated to int32 (0 or less is an error), groups are skipped
	// by depth without matching their numbers, and a known field of an
	// unexpected wire type is an error. Strings are not checked for UTF-8.
	Gogo
)

// MaxDepth bounds the nesting of messages walked with [Field.Message], so
// that hostile input cannot exhaust the stack (protobuf-go uses the same
// limit; gogo has none, and etcd never writes more than a few levels).
const MaxDepth = 10000

// Field is one field of a message. It is valid until the next call to
// [Iter.Next].
type Field struct {
	Num  protowire.Number
	Type protowire.Type
	// Off is the offset of the field's tag and ValOff that of its value
	// (for a length-delimited field: of its bytes, after the length), from
	// the start of the outermost message walked.
	Off, ValOff int
	// V is the value of a varint field.
	V uint64
	// B is the bytes of a length-delimited field; for the other wire
	// types, the value's encoding (the group's fields and end tag, for a
	// group). It aliases the walked bytes.
	B []byte

	msg   string
	rules Rules
	depth int
}

// Iter walks the fields of one message, in the manner of bufio.Scanner:
// Next, then Field, until Next returns false; then Err.
type Iter struct {
	b    []byte
	pos  int   // of the next field in b
	base int   // offset of b in the outermost message
	f    Field // the current field; its msg, rules and depth are the iterator's
	err  error
}

// Fields returns an iterator over the fields of the message b, read with
// rules. msg names the message in errors; it may be empty.
func Fields(b []byte, msg string, rules Rules) Iter {
	return Iter{b: b, f: Field{msg: msg, rules: rules}}
}

// Next reads the next field. It returns false at the end of the message
// or at the first field that does not parse; Err says which.
func (it *Iter) Next() bool {
	if it.err != nil || it.pos >= len(it.b) {
		return false
	}
	it.f.Off = it.base + it.pos
	var n int
	if it.f.rules == Gogo {
		n = it.nextGogo()
	} else {
		n = it.nextProto()
	}
	if n < 0 {
		return false
	}
	it.pos += n
	return true
}

// Field returns the field Next read.
func (it *Iter) Field() *Field { return &it.f }

// Err returns the [*Error] that stopped the walk, or nil at the end of the
// message.
func (it *Iter) Err() error { return it.err }

// Offset returns the offset, from the start of the outermost message, of
// the next field.
func (it *Iter) Offset() int { return it.base + it.pos }

// nextProto reads the field at it.pos with protowire and returns its
// length, or -1 after setting it.err. One-byte tags, varints and lengths,
// the common case, are read inline.
func (it *Iter) nextProto() int {
	rest := it.b[it.pos:]
	f := &it.f
	n := 1
	if c := rest[0]; c >= 1<<3 && c < 0x80 {
		f.Num, f.Type = protowire.Number(c>>3), protowire.Type(c&7)
	} else {
		f.Num, f.Type, n = protowire.ConsumeTag(rest)
		if n < 0 {
			return it.fail(0, classOf(n), "bad field tag: %v", protowire.ParseError(n))
		}
	}
	num := f.Num
	f.ValOff = f.Off + n
	val := rest[n:]
	var m int
	switch f.Type {
	case protowire.VarintType:
		f.V, m = varint(val)
		if m < 0 {
			return it.fail(num, classOf(m), "field %d: %v", num, protowire.ParseError(m))
		}
	case protowire.BytesType:
		l, k := varint(val)
		if k < 0 {
			return it.fail(num, classOf(k), "field %d: length: %v", num, protowire.ParseError(k))
		}
		if l > uint64(len(val)-k) {
			return it.fail(num, ErrTruncated, "field %d: length %d runs past the end (%d bytes left)", num, l, len(val)-k)
		}
		f.ValOff += k
		f.V, f.B = 0, val[k:k+int(l)]
		return n + k + int(l)
	default:
		m = protowire.ConsumeFieldValue(num, f.Type, val)
		if m < 0 {
			return it.fail(num, classOf(m), "field %d: %v", num, protowire.ParseError(m))
		}
		f.V = 0
	}
	f.B = val[:m]
	return n + m
}

// varint is protowire.ConsumeVarint with the one-byte case inline.
func varint(b []byte) (uint64, int) {
	if len(b) > 0 && b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	return protowire.ConsumeVarint(b)
}

// fail records an error at the current field and returns -1.
func (it *Iter) fail(num protowire.Number, class error, format string, args ...any) int {
	// protobuf-go's error texts put a no-break space after "proto:" in
	// some builds and not others (internal/detrand, keyed on the binary):
	// a message must read the same whatever the build.
	detail := strings.ReplaceAll(fmt.Sprintf(format, args...), "\u00a0", " ")
	it.err = &Error{Msg: it.f.msg, Num: num, Offset: it.base + it.pos, Err: class, Detail: detail}
	return -1
}

// Message returns an iterator over the message in f, one level deeper,
// with the same rules. ok is false when f is not a length-delimited field
// (err is then an error under Strict and Gogo, nil under Proto: an unknown
// field) or when the message is nested deeper than [MaxDepth] (an error
// matching [ErrTooDeep]).
func (f *Field) Message(msg string) (it Iter, ok bool, err error) {
	if ok, err := f.check(protowire.BytesType); !ok {
		return Iter{}, false, err
	}
	if f.depth >= MaxDepth {
		return Iter{}, false, f.errorf(ErrTooDeep, "field %d: messages nested deeper than %d", f.Num, MaxDepth)
	}
	return Iter{b: f.B, base: f.ValOff, f: Field{msg: msg, rules: f.rules, depth: f.depth + 1}}, true, nil
}

// check reports whether f has wire type want. When it has not, err is an
// error under Strict and Gogo, nil under Proto.
func (f *Field) check(want protowire.Type) (ok bool, err error) {
	if f.Type == want {
		return true, nil
	}
	return false, f.mismatch(want)
}

// mismatch is the error for a known field whose wire type is not want: an
// error under Strict and Gogo, nil under Proto.
func (f *Field) mismatch(want protowire.Type) error {
	if f.rules == Proto {
		return nil
	}
	return f.errorf(nil, "field %d: wire type %s, want %s", f.Num, TypeName(f.Type), TypeName(want))
}

func (f *Field) errorf(class error, format string, args ...any) error {
	return &Error{Msg: f.msg, Num: f.Num, Offset: f.Off, Err: class, Detail: fmt.Sprintf(format, args...)}
}

// set stores v in *dst when f has wire type want, and otherwise returns
// [Field.mismatch]. The accessors are written with it so that they
// inline.
func set[T any](f *Field, want protowire.Type, dst *T, v T) error {
	if f.Type != want {
		return f.mismatch(want)
	}
	*dst = v
	return nil
}

// Uint64 sets *dst to a varint field's value.
func (f *Field) Uint64(dst *uint64) error { return set(f, protowire.VarintType, dst, f.V) }

// Int64 sets *dst to a varint field's value as an int64 (int64, and
// negative int32 and enum values, are ten-byte varints).
func (f *Field) Int64(dst *int64) error { return set(f, protowire.VarintType, dst, int64(f.V)) }

// Int32 sets *dst to a varint field's value truncated to 32 bits, as
// protobuf reads int32 and enum fields.
func (f *Field) Int32(dst *int32) error { return set(f, protowire.VarintType, dst, int32(f.V)) }

// Uint32 sets *dst to a varint field's value truncated to 32 bits.
func (f *Field) Uint32(dst *uint32) error { return set(f, protowire.VarintType, dst, uint32(f.V)) }

// Bool sets *dst to whether a varint field is not zero.
func (f *Field) Bool(dst *bool) error { return set(f, protowire.VarintType, dst, f.V != 0) }

// OptBool sets *dst to a new bool holding whether a varint field is not
// zero: an optional bool that records presence.
func (f *Field) OptBool(dst **bool) error {
	v := f.V != 0
	return set(f, protowire.VarintType, dst, &v)
}

// Bytes sets *dst to a length-delimited field's bytes. They alias the
// walked bytes; their capacity ends with them, so that an append copies
// rather than writes into the input.
func (f *Field) Bytes(dst *[]byte) error {
	return set(f, protowire.BytesType, dst, f.B[:len(f.B):len(f.B)])
}

// Text sets *dst to a length-delimited field's bytes as a string (a copy,
// not checked for UTF-8).
func (f *Field) Text(dst *string) error {
	if f.Type != protowire.BytesType {
		return f.mismatch(protowire.BytesType)
	}
	*dst = string(f.B)
	return nil
}

// AppendText appends a length-delimited field's bytes, as a string, to
// *dst: one value of a repeated string field.
func (f *Field) AppendText(dst *[]string) error {
	if f.Type != protowire.BytesType {
		return f.mismatch(protowire.BytesType)
	}
	*dst = append(*dst, string(f.B))
	return nil
}

// Present sets *dst to whether a length-delimited field is not empty,
// without keeping its bytes: for secrets.
func (f *Field) Present(dst *bool) error { return set(f, protowire.BytesType, dst, len(f.B) > 0) }

// Packed appends a repeated varint field's values to *dst, packed (one
// length-delimited field) or not (one varint field a value), as protobuf
// accepts both.
func (f *Field) Packed(dst *[]uint64) error {
	if f.Type == protowire.VarintType {
		*dst = append(*dst, f.V)
		return nil
	}
	if ok, err := f.check(protowire.BytesType); !ok {
		return err
	}
	for b := f.B; len(b) > 0; {
		v, n := f.varint(b)
		if n < 0 {
			return f.errorf(varintClass(n), "field %d: packed varint: %s", f.Num, varintText(n))
		}
		*dst = append(*dst, v)
		b = b[n:]
	}
	return nil
}

// varint reads a varint with f's rules. n is -1 when b ends inside it and
// -2 when it is too long.
func (f *Field) varint(b []byte) (v uint64, n int) {
	if f.rules == Gogo {
		return gogoVarint(b)
	}
	v, n = protowire.ConsumeVarint(b)
	if n < 0 && classOf(n) != ErrTruncated {
		n = -2
	}
	return v, n
}

// TypeName names a wire type as the protobuf documentation does.
func TypeName(t protowire.Type) string {
	switch t {
	case protowire.VarintType:
		return "varint"
	case protowire.Fixed32Type:
		return "fixed32"
	case protowire.Fixed64Type:
		return "fixed64"
	case protowire.BytesType:
		return "bytes"
	case protowire.StartGroupType:
		return "start-group"
	case protowire.EndGroupType:
		return "end-group"
	}
	return fmt.Sprintf("wiretype(%d)", int8(t))
}

// Walk calls fn for each field of the message b, read with rules, and
// returns the first error fn returns or the walk meets. It is [Fields]
// for a decoder that fits in one function.
func Walk(b []byte, msg string, rules Rules, fn func(f Field) error) error {
	it := Fields(b, msg, rules)
	return it.Each(fn)
}

// Each calls fn for each field the iterator has not read yet, and returns
// the first error fn returns or the walk meets.
func (it *Iter) Each(fn func(f Field) error) error {
	for it.Next() {
		if err := fn(it.f); err != nil {
			return err
		}
	}
	return it.err
}

// AppendVarint appends a varint field.
func AppendVarint(b []byte, num protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// AppendBytes appends a length-delimited field.
func AppendBytes(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

// Varints decodes a message whose fields 1, 2, ... are the integers dsts
// point to, in order; other fields are skipped.
func Varints[T ~uint64 | ~int64](b []byte, msg string, rules Rules, dsts ...*T) error {
	return Walk(b, msg, rules, func(f Field) error {
		if f.Num < 1 || int(f.Num) > len(dsts) {
			return nil
		}
		if f.Type != protowire.VarintType {
			return f.mismatch(protowire.VarintType)
		}
		*dsts[f.Num-1] = T(f.V)
		return nil
	})
}
