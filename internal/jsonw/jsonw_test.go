package jsonw

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestMatchesEncodingJSON writes the fields encoding/json writes for a
// struct, and must give the same bytes (HTML-safe escapes aside).
func TestMatchesEncodingJSON(t *testing.T) {
	type doc struct {
		S string `json:"s"`
		U uint64 `json:"u"`
		I int64  `json:"i"`
		B bool   `json:"b"`
		X []byte `json:"x"`
		O string `json:"o,omitempty"`
		N int64  `json:"n,omitempty"`
	}
	for _, s := range []string{"", "plain", "quote \" back \\ nl \n tab \t \x00 \x1f", "héllo ☃", "bad \xff utf8", "\u2028"} {
		for _, x := range [][]byte{nil, {}, []byte("abc"), make([]byte, 1000)} {
			d := doc{S: s, U: 1 << 63, I: -42, B: true, X: x}
			want, _ := json.Marshal(d)
			o := Begin(nil)
			o.Str("s", d.S)
			o.U64("u", d.U)
			o.I64("i", d.I)
			o.Bool("b", d.B)
			if x == nil {
				o.Raw("x", []byte("null"))
			} else {
				o.Bytes("x", d.X)
			}
			o.OptStr("o", d.O)
			o.OptI64("n", d.N)
			got := string(o.End())
			w := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(want))
			if got != w {
				t.Errorf("got  %.200s\nwant %.200s", got, w)
			}
		}
	}
}

func TestID(t *testing.T) {
	o := Begin(nil)
	o.ID("a", 0x3f8129351331494b)
	o.ID("b", 1)
	o.OptID("c", 0)
	if got := string(o.End()); got != `{"a":"3f8129351331494b","b":"0000000000000001"}` {
		t.Errorf("got %s", got)
	}
}
