package cli

import (
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"

	fastb64 "github.com/segmentio/asm/base64"

	"github.com/etcdscope/etcdscope/walfmt"
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
	o.b = appendBase64(o.b, v)
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

// appendBase64 appends the standard base64 encoding of v, with an AVX2
// encoder where the CPU has one (segmentio/asm; byte-identical output to
// encoding/base64, which a test checks).
func appendBase64(b, v []byte) []byte {
	n := fastb64.StdEncoding.EncodedLen(len(v))
	b = slices.Grow(b, n)
	fastb64.StdEncoding.Encode(b[len(b):len(b)+n], v)
	return b[:len(b)+n]
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

// appendRequestJSON appends a decoded etcd request. Values are given as
// value_size unless values is set (as in the simple output); the entry's
// whole data is in the record's "data" field either way. The common kinds
// are encoded by hand, the rare ones through encoding/json.
func appendRequestJSON(b []byte, r *walfmt.Request, values bool) []byte {
	switch {
	case r.Put == nil && r.DeleteRange == nil && r.Txn == nil:
		v, err := json.Marshal(r)
		if err != nil {
			return appendJSONString(b, "unencodable: "+err.Error())
		}
		return append(b, v...)
	}
	var j jsonObj
	j.begin(b)
	j.str("kind", r.Kind)
	if r.ID != 0 {
		j.u64("id", r.ID)
	}
	if h := r.Header; h != nil {
		j.key("header")
		var hj jsonObj
		hj.begin(j.b)
		if h.ID != 0 {
			hj.u64("id", h.ID)
		}
		if h.Username != "" {
			hj.str("username", h.Username)
		}
		if h.AuthRevision != 0 {
			hj.u64("auth_revision", h.AuthRevision)
		}
		j.b = hj.end()
	}
	if len(r.Ignored) > 0 {
		j.value("ignored", r.Ignored)
	}
	if len(r.UnknownFields) > 0 {
		j.value("unknown_fields", r.UnknownFields)
	}
	switch {
	case r.Put != nil:
		j.key("put")
		j.b = appendPutJSON(j.b, r.Put, values)
	case r.DeleteRange != nil:
		j.key("delete_range")
		j.b = appendDeleteRangeJSON(j.b, r.DeleteRange)
	case r.Txn != nil:
		j.key("txn")
		j.b = appendTxnJSON(j.b, r.Txn, values)
	}
	return j.end()
}

func appendPutJSON(b []byte, p *walfmt.PutRequest, values bool) []byte {
	var j jsonObj
	j.begin(b)
	j.bytes64("key", p.Key)
	if values {
		j.bytes64("value", p.Value)
	} else {
		j.i64("value_size", int64(len(p.Value)))
	}
	if p.Lease != 0 {
		j.i64("lease", p.Lease)
	}
	if p.PrevKV {
		j.boolean("prev_kv", true)
	}
	if p.IgnoreValue {
		j.boolean("ignore_value", true)
	}
	if p.IgnoreLease {
		j.boolean("ignore_lease", true)
	}
	return j.end()
}

func appendDeleteRangeJSON(b []byte, d *walfmt.DeleteRangeRequest) []byte {
	var j jsonObj
	j.begin(b)
	j.bytes64("key", d.Key)
	if len(d.RangeEnd) > 0 {
		j.bytes64("range_end", d.RangeEnd)
	}
	if d.PrevKV {
		j.boolean("prev_kv", true)
	}
	return j.end()
}

func appendTxnJSON(b []byte, t *walfmt.TxnRequest, values bool) []byte {
	var j jsonObj
	j.begin(b)
	j.value("compare", t.Compare)
	for _, branch := range []struct {
		name string
		ops  []walfmt.RequestOp
	}{{"success", t.Success}, {"failure", t.Failure}} {
		j.key(branch.name)
		j.b = append(j.b, '[')
		for i := range branch.ops {
			if i > 0 {
				j.b = append(j.b, ',')
			}
			op := &branch.ops[i]
			var oj jsonObj
			oj.begin(j.b)
			switch {
			case op.Put != nil:
				oj.key("put")
				oj.b = appendPutJSON(oj.b, op.Put, values)
			case op.DeleteRange != nil:
				oj.key("delete_range")
				oj.b = appendDeleteRangeJSON(oj.b, op.DeleteRange)
			case op.Txn != nil:
				oj.key("txn")
				oj.b = appendTxnJSON(oj.b, op.Txn, values)
			case op.Range != nil:
				oj.value("range", op.Range)
			}
			j.b = oj.end()
		}
		j.b = append(j.b, ']')
	}
	return j.end()
}
