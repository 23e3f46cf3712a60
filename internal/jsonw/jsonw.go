// Package jsonw appends JSON objects to a byte slice field by field,
// without reflection: for the records of a stream, where encoding/json
// would dominate the cost, and for types whose JSON is written in one
// place by hand (walfmt's requests). Keys are written as given: they must
// need no escaping.
package jsonw

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// An Object is one JSON object being appended to B.
type Object struct {
	B     []byte
	first bool
}

// Begin starts an object at the end of b.
func Begin(b []byte) Object { return Object{B: append(b, '{'), first: true} }

// End closes the object and returns the bytes.
func (o *Object) End() []byte {
	o.B = append(o.B, '}')
	return o.B
}

// Key writes a field's key; its value is appended to B next.
func (o *Object) Key(k string) {
	if !o.first {
		o.B = append(o.B, ',')
	}
	o.first = false
	o.B = append(o.B, '"')
	o.B = append(o.B, k...)
	o.B = append(o.B, '"', ':')
}

// Str writes a string field.
func (o *Object) Str(k, v string) {
	o.Key(k)
	o.B = AppendString(o.B, v)
}

// U64 writes an unsigned number.
func (o *Object) U64(k string, v uint64) {
	o.Key(k)
	o.B = strconv.AppendUint(o.B, v, 10)
}

// I64 writes a number.
func (o *Object) I64(k string, v int64) {
	o.Key(k)
	o.B = strconv.AppendInt(o.B, v, 10)
}

// Bool writes a boolean.
func (o *Object) Bool(k string, v bool) {
	o.Key(k)
	o.B = strconv.AppendBool(o.B, v)
}

// Bytes writes bytes in standard base64, as encoding/json does.
func (o *Object) Bytes(k string, v []byte) {
	o.Key(k)
	o.B = append(o.B, '"')
	o.B = base64.StdEncoding.AppendEncode(o.B, v)
	o.B = append(o.B, '"')
}

// ID writes a member, cluster or lease id as etcd's logs and etcdctl
// member list print it: 16 lower-case hex digits, a string.
func (o *Object) ID(k string, v uint64) {
	const digits = "0123456789abcdef"
	o.Key(k)
	o.B = append(o.B, '"')
	for shift := 60; shift >= 0; shift -= 4 {
		o.B = append(o.B, digits[v>>shift&0xf])
	}
	o.B = append(o.B, '"')
}

// Raw writes a value already encoded.
func (o *Object) Raw(k string, v []byte) {
	o.Key(k)
	o.B = append(o.B, v...)
}

// Value writes v through encoding/json (a string saying why, when it
// cannot).
func (o *Object) Value(k string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = AppendString(nil, "unencodable: "+err.Error())
	}
	o.Raw(k, b)
}

// The Opt forms leave the field out when its value is the zero value, as
// encoding/json's omitempty does.

// OptStr writes a string unless it is empty.
func (o *Object) OptStr(k, v string) {
	if v != "" {
		o.Str(k, v)
	}
}

// OptI64 writes a number unless it is 0.
func (o *Object) OptI64(k string, v int64) {
	if v != 0 {
		o.I64(k, v)
	}
}

// OptU64 writes an unsigned number unless it is 0.
func (o *Object) OptU64(k string, v uint64) {
	if v != 0 {
		o.U64(k, v)
	}
}

// OptBool writes true, and nothing for false.
func (o *Object) OptBool(k string, v bool) {
	if v {
		o.Bool(k, v)
	}
}

// OptBytes writes bytes unless there are none.
func (o *Object) OptBytes(k string, v []byte) {
	if len(v) > 0 {
		o.Bytes(k, v)
	}
}

// OptStrings writes a list of strings unless it is empty.
func (o *Object) OptStrings(k string, v []string) {
	if len(v) == 0 {
		return
	}
	o.Key(k)
	o.B = append(o.B, '[')
	for i, s := range v {
		if i > 0 {
			o.B = append(o.B, ',')
		}
		o.B = AppendString(o.B, s)
	}
	o.B = append(o.B, ']')
}

// OptID writes an id unless it is 0.
func (o *Object) OptID(k string, v uint64) {
	if v != 0 {
		o.ID(k, v)
	}
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string: quotes, backslashes, control
// characters and U+2028 and U+2029 escaped, invalid UTF-8 replaced by
// U+FFFD, as encoding/json does (but for its HTML escapes).
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c == '\b':
				b = append(b, '\\', 'b')
			case c == '\f':
				b = append(b, '\\', 'f')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
