package cli

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// jsonObj appends one JSON object to a byte slice without reflection, for
// the per-record streams where encoding/json would dominate the cost.
type jsonObj struct {
	b     []byte
	first bool
}

func (o *jsonObj) begin(b []byte) {
	o.b = append(b, '{')
	o.first = true
}

func (o *jsonObj) end() []byte {
	o.b = append(o.b, '}')
	return o.b
}

func (o *jsonObj) key(k string) {
	if !o.first {
		o.b = append(o.b, ',')
	}
	o.first = false
	o.b = append(o.b, '"')
	o.b = append(o.b, k...)
	o.b = append(o.b, '"', ':')
}

func (o *jsonObj) str(k, v string) {
	o.key(k)
	o.b = appendJSONString(o.b, v)
}

func (o *jsonObj) u64(k string, v uint64) {
	o.key(k)
	o.b = strconv.AppendUint(o.b, v, 10)
}

func (o *jsonObj) i64(k string, v int64) {
	o.key(k)
	o.b = strconv.AppendInt(o.b, v, 10)
}

func (o *jsonObj) boolean(k string, v bool) {
	o.key(k)
	o.b = strconv.AppendBool(o.b, v)
}

func (o *jsonObj) bytes64(k string, v []byte) {
	o.key(k)
	o.b = append(o.b, '"')
	o.b = base64.StdEncoding.AppendEncode(o.b, v)
	o.b = append(o.b, '"')
}

// raw appends an already encoded JSON value.
func (o *jsonObj) raw(k string, v []byte) {
	o.key(k)
	o.b = append(o.b, v...)
}

// value appends v through encoding/json.
func (o *jsonObj) value(k string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = appendJSONString(nil, "unencodable: "+err.Error())
	}
	o.raw(k, b)
}

const hexDigits = "0123456789abcdef"

func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
