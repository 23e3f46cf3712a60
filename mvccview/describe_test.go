package mvccview_test

import (
	"bytes"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/replaytest"
	"github.com/etcdscope/etcdscope/mvccview"
	"github.com/etcdscope/etcdscope/walfmt"
)

func TestKeyRange(t *testing.T) {
	for _, c := range []struct {
		key, end        string
		nilEnd          bool
		prefix, fromKey bool
		wantKey         string
		wantEnd         string
		wantNilEnd      bool
	}{
		{key: "a", nilEnd: true, wantKey: "a", wantNilEnd: true}, // KEY alone
		{key: "a", end: "c", wantKey: "a", wantEnd: "c"},         // KEY RANGE_END
		{key: "", end: "c", wantKey: "\x00", wantEnd: "c"},       // from the first key
		{key: "/app/", prefix: true, wantKey: "/app/", wantEnd: "/app0"},
		{key: "a\xff", prefix: true, wantKey: "a\xff", wantEnd: "b"}, // clientv3.GetPrefixRangeEnd
		{key: "", prefix: true, wantKey: "\x00", wantEnd: ""},        // every key
		{key: "m", fromKey: true, wantKey: "m", wantEnd: ""},
	} {
		var end []byte
		if !c.nilEnd {
			end = []byte(c.end)
		}
		k, e := mvccview.KeyRange([]byte(c.key), end, c.prefix, c.fromKey)
		if string(k) != c.wantKey || (e == nil) != c.wantNilEnd || string(e) != c.wantEnd {
			t.Errorf("KeyRange(%q, %q, prefix %v, from-key %v) = %q, %q (nil %v); want %q, %q (nil %v)",
				c.key, end, c.prefix, c.fromKey, k, e, e == nil, c.wantKey, c.wantEnd, c.wantNilEnd)
		}
	}
}

// TestHeader: a range's response header carries the store's revision and
// term, and the ids Identify sets: the WAL metadata's (walfmt.ReadMetadata
// of the sample's WAL), or, without it, the lone member's id and no
// cluster id.
func TestHeader(t *testing.T) {
	dir := etcdtest.SampleDir(t)
	s := replaytest.OpenStore(t, filepath.Join(dir, "member", "snap", "db"))
	res, err := s.Range([]byte("/app/config"), nil, mvccview.RangeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if h := res.Header; h != (mvccview.ResponseHeader{Revision: s.CurrentRev, RaftTerm: s.Meta.Term}) {
		t.Errorf("before Identify: %+v", h)
	}
	ms, err := s.Members()
	if err != nil || len(ms) != 1 {
		t.Fatalf("members: %v %v", ms, err)
	}
	id, _ := strconv.ParseUint(ms[0].ID, 16, 64)
	s.Identify(nil)
	if h := s.Header(); h.MemberID != id || h.ClusterID != 0 {
		t.Errorf("a lone db: %+v, want member %x", h, id)
	}
	md := walfmt.ReadMetadata(replaytest.WAL(t, dir).Segments)
	if md == nil || md.NodeID != id || md.ClusterID == 0 {
		t.Fatalf("the sample's WAL metadata: %+v, want member %x", md, id)
	}
	s.Identify(md)
	if h := s.Header(); h.MemberID != md.NodeID || h.ClusterID != md.ClusterID || h.Revision != s.CurrentRev {
		t.Errorf("with the WAL's metadata %+v: %+v", md, h)
	}
}

// TestDescribeRange: a range is described as etcdctl get prints it, and
// its rows give values cut to 64 bytes, in hex with Hex, none with
// KeysOnly.
func TestDescribeRange(t *testing.T) {
	long := bytes.Repeat([]byte("v"), 100)
	r := &mvccview.RangeResponse{Count: 2, KVs: []mvccview.KeyValue{{Key: []byte("a"), Value: []byte("1"), Lease: 0x7e}, {Key: []byte("b\n"), Value: long}}}
	var b bytes.Buffer
	r.Describe(&b, mvccview.DescribeOptions{})
	if want := "a\n1\n\"b\\n\"\n" + string(long) + "\n"; b.String() != want {
		t.Errorf("Describe = %q, want %q", b.String(), want)
	}
	b.Reset()
	r.Describe(&b, mvccview.DescribeOptions{Hex: true, KeysOnly: true, CountOnly: true})
	if want := "2\n\\x61\n\\x62\\x0a\n"; b.String() != want {
		t.Errorf("Describe with Hex, KeysOnly, CountOnly = %q, want %q", b.String(), want)
	}
	_, rows := r.Rows(mvccview.DescribeOptions{})
	if rows[0][4] != "000000000000007e" || rows[1][5] != string(long[:64])+"... (100 bytes)" {
		t.Errorf("rows: %q", rows)
	}
	if _, rows := r.Rows(mvccview.DescribeOptions{KeysOnly: true, Hex: true}); rows[0][0] != `\x61` || rows[0][5] != "" {
		t.Errorf("rows with KeysOnly and Hex: %q", rows)
	}
}
