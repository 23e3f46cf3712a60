package walfmt_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/etcdscope/etcdscope/walfmt"
)

// TestDescribeFrame pins the description of each kind of frame and record.
func TestDescribeFrame(t *testing.T) {
	crcErr := &walfmt.CorruptionError{Segment: testSeg.Name, Offset: 0x40, Err: walfmt.ErrCRCMismatch, Detail: "stored 0x1, running crc 0x2"}
	state, snap, meta, crc, bad := record(walfmt.StateType), record(walfmt.SnapshotType), record(walfmt.MetadataType), record(walfmt.CRCType), record(walfmt.EntryType)
	state.State = &walfmt.HardState{Term: 2, Vote: 0x3f81, Commit: 10}
	snap.Snapshot = &walfmt.Snapshot{Term: 2, Index: 101, ConfState: &walfmt.ConfState{Voters: []uint64{1, 2}, Learners: []uint64{3}, AutoLeave: true}}
	meta.Metadata = &walfmt.Metadata{NodeID: 0x3f8129351331494b, ClusterID: 9}
	_, undecodable := walfmt.DecodeRequest([]byte{0xff})
	badName := *testSeg
	badName.NameOK = false
	for _, c := range []struct {
		f    walfmt.Frame
		opts walfmt.FrameOptions
		want string
	}{
		{walfmt.Frame{Kind: walfmt.KindSegment, Segment: testSeg}, walfmt.FrameOptions{}, "seq=2 index=11 size=18168"},
		{walfmt.Frame{Kind: walfmt.KindSegment, Segment: &badName}, walfmt.FrameOptions{}, "size=18168 (name is not etcd's seq-index.wal form)"},
		{walfmt.Frame{Kind: walfmt.KindZero, Segment: testSeg, Size: 8}, walfmt.FrameOptions{}, "zero-filled (preallocated)"},
		{walfmt.Frame{Kind: walfmt.KindDamage, Segment: testSeg, Problems: []error{crcErr, crcErr}}, walfmt.FrameOptions{}, crcErr.Error() + "; " + crcErr.Error()},
		{state, walfmt.FrameOptions{}, "term=2 vote=0000000000003f81 commit=10"},
		{snap, walfmt.FrameOptions{}, "term=2 index=101 voters=[0000000000000001 0000000000000002] learners=[0000000000000003] auto_leave"},
		{meta, walfmt.FrameOptions{}, "node=3f8129351331494b cluster=0000000000000009"},
		{crc, walfmt.FrameOptions{}, "crc=0x07b3d367"},
		{crc, walfmt.FrameOptions{Raw: true}, "raw=abcd"},
		{bad, walfmt.FrameOptions{}, "undecodable payload data=0102"},
		{entryFrame(walfmt.Entry{Type: walfmt.EntryNormal}), walfmt.FrameOptions{}, "normal empty"},
		{entryFrame(walfmt.Entry{Type: walfmt.EntryNormal, Data: []byte{0xff}}), walfmt.FrameOptions{}, "normal undecodable (" + undecodable.Error() + ") data=ff"},
		{entryFrame(walfmt.Entry{Type: walfmt.EntryKind(7), Data: []byte{1}}), walfmt.FrameOptions{}, "entrytype(7)"},
	} {
		got := walfmt.DescribeFrame(&c.f, nil, c.opts)
		if got != c.want {
			t.Errorf("%v %v: %q, want %q", c.f.Kind, c.f.Record.Type, got, c.want)
		}
	}
	if got, want := walfmt.DescribeFlags(&walfmt.Frame{Kind: walfmt.KindRecord, Superseded: true, Entry: &walfmt.Entry{}, Problems: []error{crcErr}}), "SUPERSEDED,uncommitted,wal-crc-mismatch"; got != want {
		t.Errorf("flags %q, want %q", got, want)
	}
}

// sample is the committed sample's WAL, closed when the test ends.
func sample(t *testing.T) []walfmt.Segment {
	t.Helper()
	files, err := walfmt.OpenPath("../testdata/sample/member/wal")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { files.Close() })
	return files.Segments
}

// sampleFrames calls visit on every frame of the sample.
func sampleFrames(t *testing.T, visit func(f *walfmt.Frame)) {
	t.Helper()
	visitAll := func(f *walfmt.Frame) error { visit(f); return nil }
	if _, err := walfmt.Summarize(walfmt.NewReader(sample(t), walfmt.Options{}), visitAll); err != nil {
		t.Fatal(err)
	}
}

// TestFrameJSON: every frame of the sample is one valid JSON object whose
// data is the entry's, the same with another base64 encoder; an entry's
// request is written unless Raw, and then only when a filter decoded it.
func TestFrameJSON(t *testing.T) {
	other := walfmt.FrameOptions{AppendBase64: base64.StdEncoding.AppendEncode}
	requestsOnly := walfmt.Filter{Requests: walfmt.PayloadKinds()}
	entries := 0
	sampleFrames(t, func(f *walfmt.Frame) {
		b := f.AppendJSON(nil, nil, walfmt.FrameOptions{})
		var v struct {
			Kind    string          `json:"kind"`
			Data    []byte          `json:"data"`
			Request json.RawMessage `json:"request"`
		}
		if err := json.Unmarshal(b, &v); err != nil || v.Kind != f.Kind.String() {
			t.Fatalf("%s: %v", b, err)
		}
		if got := f.AppendJSON(nil, nil, other); string(got) != string(b) {
			t.Fatalf("another base64 encoder:\n%s\nwant\n%s", got, b)
		}
		if f.Entry == nil {
			return
		}
		entries++
		if string(v.Data) != string(f.Entry.Data) || v.Request == nil {
			t.Fatalf("%s: data %q, request %s", b, v.Data, v.Request)
		}
		var p walfmt.Payload
		if raw := string(f.AppendJSON(nil, &p, walfmt.FrameOptions{Raw: true})); strings.Contains(raw, `"request"`) {
			t.Fatalf("raw, not decoded: %s", raw)
		}
		if !requestsOnly.Match(f, &p) {
			t.Fatalf("%s: not a payload kind", b)
		}
		if raw := string(f.AppendJSON(nil, &p, walfmt.FrameOptions{Raw: true})); !strings.Contains(raw, `"request":`) {
			t.Fatalf("raw, decoded by the filter: %s", raw)
		}
	})
	if entries != 367 {
		t.Errorf("%d entries, want 367", entries)
	}
}
