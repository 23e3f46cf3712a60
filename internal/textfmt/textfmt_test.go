package textfmt

import (
	"strings"
	"testing"
)

func TestPolicy(t *testing.T) {
	for _, c := range []struct {
		in               string
		bare, quote, hex string
	}{
		{"/registry/pods/default/nginx", "/registry/pods/default/nginx", `"/registry/pods/default/nginx"`, `\x2f\x72\x65\x67\x69\x73\x74\x72\x79\x2f\x70\x6f\x64\x73\x2f\x64\x65\x66\x61\x75\x6c\x74\x2f\x6e\x67\x69\x6e\x78`},
		{"", `""`, `""`, ""},
		{"héllo wörld", "héllo wörld", `"héllo wörld"`, `\x68\xc3\xa9\x6c\x6c\x6f\x20\x77\xc3\xb6\x72\x6c\x64`},
		{"a\x00b", `"a\x00b"`, `"a\x00b"`, `\x61\x00\x62`},
		{"line\n", `"line\n"`, `"line\n"`, `\x6c\x69\x6e\x65\x0a`},
		{"\x1b]0;title\x07", `"\x1b]0;title\a"`, `"\x1b]0;title\a"`, `\x1b\x5d\x30\x3b\x74\x69\x74\x6c\x65\x07`},
		{`say "hi"`, `"say \"hi\""`, `"say \"hi\""`, `\x73\x61\x79\x20\x22\x68\x69\x22`},
		{"\xff\xfe", `"\xff\xfe"`, `"\xff\xfe"`, `\xff\xfe`},
		{" padded", `" padded"`, `" padded"`, `\x20\x70\x61\x64\x64\x65\x64`},
	} {
		b := []byte(c.in)
		if got := Bare(b); got != c.bare {
			t.Errorf("Bare(%q) = %s, want %s", c.in, got, c.bare)
		}
		if got := BareString(c.in); got != c.bare {
			t.Errorf("BareString(%q) = %s, want %s", c.in, got, c.bare)
		}
		if got := Quote(b); got != c.quote {
			t.Errorf("Quote(%q) = %s, want %s", c.in, got, c.quote)
		}
		if got := Hex(b); got != c.hex {
			t.Errorf("Hex(%q) = %s, want %s", c.in, got, c.hex)
		}
		// The parsers invert each form.
		for _, s := range []string{c.bare, c.quote} {
			if got := ParseBare(s); string(got) != c.in {
				t.Errorf("ParseBare(%s) = %q, want %q", s, got, c.in)
			}
		}
		for _, s := range []string{c.hex, strings.ReplaceAll(c.hex, `\x`, ""), "0x" + strings.ReplaceAll(c.hex, `\x`, "")} {
			if got, err := ParseHex(s); err != nil || string(got) != c.in {
				t.Errorf("ParseHex(%s) = %q, %v, want %q", s, got, err, c.in)
			}
		}
	}
	if _, err := ParseHex(`\x6`); err == nil {
		t.Error("ParseHex of an odd digit count: no error")
	}
}

func TestShorten(t *testing.T) {
	if got := Shorten([]byte("abcdef"), 3); got != "abc... (6 bytes)" {
		t.Errorf("got %s", got)
	}
	if got := Shorten([]byte("abc"), 3); got != "abc" {
		t.Errorf("got %s", got)
	}
	// "é" is 2 bytes: a cut after its first byte backs up to before it.
	if got := Shorten([]byte("aéb"), 2); got != "a... (4 bytes)" {
		t.Errorf("got %s", got)
	}
}

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"walfmt: seg.wal: offset 0x10: crc mismatch": "walfmt: seg.wal: offset 0x10: crc mismatch",
		"open \"a\nb\": no such file":                `open "a\nb": no such file`,
		"\x1b[2J.snap":                               `\x1b[2J.snap`,
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 7122: "7.0 KiB", 16801792: "16.0 MiB", 3 << 30: "3.0 GiB"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %s, want %s", n, got, want)
		}
	}
}
