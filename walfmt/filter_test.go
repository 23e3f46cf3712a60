package walfmt_test

import (
	"strings"
	"testing"

	"github.com/etcdscope/etcdscope/walfmt"
)

var testSeg = &walfmt.Segment{Name: walfmt.SegmentName(2, 11), Seq: 2, Index: 11, NameOK: true, Size: 18168}

func record(t walfmt.RecordType) walfmt.Frame {
	return walfmt.Frame{Kind: walfmt.KindRecord, Segment: testSeg, Offset: 0x40, Size: 32, Length: 20, Pad: 4,
		Record: walfmt.Record{Type: t, CRC: 0x07b3d367, Data: []byte{1, 2}}, Raw: []byte{0xab, 0xcd}, CRCOK: true}
}

func entryFrame(e walfmt.Entry) walfmt.Frame {
	f := record(walfmt.EntryType)
	f.Entry, f.Committed = &e, true
	return f
}

// TestFilter checks which frames each kind of filter selects.
func TestFilter(t *testing.T) {
	put := walfmt.Entry{Type: walfmt.EntryNormal, Index: 7, Data: putData(t, "/app/x")}
	frames := map[string]walfmt.Frame{
		"segment": {Kind: walfmt.KindSegment, Segment: testSeg},
		"damage":  {Kind: walfmt.KindDamage, Segment: testSeg},
		"state":   record(walfmt.StateType),
		"put":     entryFrame(put),
		"cc":      entryFrame(walfmt.Entry{Type: walfmt.EntryConfChange, Index: 9, Data: []byte{0xff}}),
	}
	for _, c := range []struct {
		filter walfmt.Filter
		want   string
	}{
		{walfmt.Filter{}, "cc damage put segment state"},
		{walfmt.Filter{RecordTypes: []string{"state"}}, "state"},
		{walfmt.Filter{RecordTypes: []string{"state", "entry"}, StartIndex: 8}, "cc state"},
		{walfmt.Filter{StartIndex: 7, EndIndex: 7}, "put"},
		{walfmt.Filter{EntryTypes: []string{"confchange"}}, "cc"},
		{walfmt.Filter{Requests: []string{"confchange"}}, "cc"}, // undecodable, but a conf change
		{walfmt.Filter{Requests: []string{"put"}, KeyPrefix: "/app/"}, "put"},
		{walfmt.Filter{KeyPrefix: "/other/"}, ""},
	} {
		var got []string
		for _, name := range []string{"cc", "damage", "put", "segment", "state"} {
			f := frames[name]
			if c.filter.Match(&f, nil) {
				got = append(got, name)
			}
		}
		if s := strings.Join(got, " "); s != c.want {
			t.Errorf("%+v: %q, want %q", c.filter, s, c.want)
		}
	}
}

// putData is a normal entry's data: an InternalRaftRequest with a put of
// key (field 4, PutRequest field 1).
func putData(t *testing.T, key string) []byte {
	put := append([]byte{0x0a, byte(len(key))}, key...)
	b := append([]byte{0x22, byte(len(put))}, put...)
	if r, err := walfmt.DecodeRequest(b); err != nil || r.Kind != "put" {
		t.Fatalf("putData: %+v %v", r, err)
	}
	return b
}
