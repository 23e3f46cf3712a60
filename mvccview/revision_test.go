package mvccview_test

import (
	"bytes"
	"testing"

	"github.com/etcdscope/etcdscope/mvccview"
)

func TestRevisionKeyText(t *testing.T) {
	for _, c := range []struct {
		rev  mvccview.Revision
		tomb bool
		text string
	}{
		{mvccview.Revision{Main: 337}, false, "337_0"},
		{mvccview.Revision{Main: 21, Sub: 4}, true, "21_4t"},
		{mvccview.Revision{Main: 1<<63 - 1, Sub: 1<<63 - 1}, false, "9223372036854775807_9223372036854775807"},
	} {
		k := mvccview.AppendRevisionKey(nil, c.rev, c.tomb)
		if s, ok := mvccview.RevisionKeyText(k); !ok || s != c.text {
			t.Errorf("RevisionKeyText(%x) = %q, %v, want %q", k, s, ok, c.text)
		}
		if got, err := mvccview.ParseRevisionKey(c.text); err != nil || !bytes.Equal(got, k) {
			t.Errorf("ParseRevisionKey(%q) = %x, %v, want %x", c.text, got, err, k)
		}
		// In the key bucket only.
		if s, ok := mvccview.KeyText(mvccview.KeyBucket, k); !ok || s != c.text {
			t.Errorf("KeyText(key, %x) = %q, %v, want %q", k, s, ok, c.text)
		}
		if got, ok := mvccview.ParseKeyText(mvccview.KeyBucket, c.text); !ok || !bytes.Equal(got, k) {
			t.Errorf("ParseKeyText(key, %q) = %x, %v, want %x", c.text, got, ok, k)
		}
		if s, ok := mvccview.KeyText(mvccview.MetaBucket, k); ok {
			t.Errorf("KeyText(meta, %x) = %q, want no form of its own", k, s)
		}
		if got, ok := mvccview.ParseKeyText(mvccview.MetaBucket, c.text); ok {
			t.Errorf("ParseKeyText(meta, %q) = %x, want no key", c.text, got)
		}
	}
	for _, k := range [][]byte{nil, []byte("term"), append(mvccview.AppendRevisionKey(nil, mvccview.Revision{Main: 2}, false), 'x')} {
		if s, ok := mvccview.RevisionKeyText(k); ok {
			t.Errorf("RevisionKeyText(%x) = %q, want no revision", k, s)
		}
	}
	for _, s := range []string{"", "1", "_", "1_", "_1", "-1_0", "1_-1", "1_0tt", "a_b", "1_0x"} {
		if k, err := mvccview.ParseRevisionKey(s); err == nil {
			t.Errorf("ParseRevisionKey(%q) = %x, want an error", s, k)
		}
	}
}

func TestPrefixEnd(t *testing.T) {
	for _, c := range []struct{ prefix, end string }{
		{"/a/", "/a0"},
		{"a", "b"},
		{"a\xff", "b"},
		{"a\xff\xff", "b"},
		{"\xff", ""},
		{"", ""},
	} {
		if got := mvccview.PrefixEnd([]byte(c.prefix)); string(got) != c.end || got == nil {
			t.Errorf("PrefixEnd(%q) = %q, want %q", c.prefix, got, c.end)
		}
	}
	p := []byte("ab")
	mvccview.PrefixEnd(p)
	if string(p) != "ab" {
		t.Errorf("PrefixEnd changed its argument to %q", p)
	}
}
