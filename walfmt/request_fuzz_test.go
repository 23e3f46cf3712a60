package walfmt_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/etcdscope/etcdscope/walfmt"
)

// outputBound is how large a decoded request's JSON or description may
// grow for n input bytes: each element costs at least two input bytes.
func outputBound(n int) int { return 64*n + 4096 }

func FuzzDecodeRequest(f *testing.F) {
	for _, tc := range irrCases() {
		f.Add(marshal(f, tc.irr))
	}
	for _, tc := range v2Cases {
		f.Add(appendV2Request(nil, tc.req))
	}
	f.Add([]byte{})
	f.Add(nestedTxn(3))
	f.Fuzz(func(t *testing.T, data []byte) {
		orig := bytes.Clone(data)
		r, err := walfmt.DecodeRequest(data)
		if err != nil {
			if !errors.Is(err, walfmt.ErrUndecodableRequest) {
				t.Fatalf("error %v does not wrap ErrUndecodableRequest", err)
			}
			if r != nil {
				t.Fatalf("request %+v with error %v", r, err)
			}
			return
		}
		if (len(data) == 0) != (r.Kind == "empty") {
			t.Fatalf("kind %q for %d bytes", r.Kind, len(data))
		}
		js, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		for _, values := range []bool{false, true} {
			if d := walfmt.DescribeRequest(r, walfmt.DescribeOptions{Values: values}); len(d) > outputBound(len(data)) {
				t.Fatalf("description of %d bytes from %d input bytes", len(d), len(data))
			}
		}
		if len(js) > outputBound(len(data)) {
			t.Fatalf("JSON of %d bytes from %d input bytes", len(js), len(data))
		}
		_ = r.Keys()
		// The result aliases the input (documented); decoding never writes to it.
		if !bytes.Equal(data, orig) {
			t.Fatalf("DecodeRequest modified its input")
		}
	})
}

func FuzzDecodeConfChange(f *testing.F) {
	for _, cc := range []*raftpb.ConfChange{
		{Id: proto.Uint64(1), Type: raftpb.ConfChangeType_ConfChangeAddNode.Enum(), NodeId: proto.Uint64(13668033151171901709),
			Context: []byte(`{"id":13668033151171901709,"peerURLs":["http://127.0.0.1:23801"],"name":"n1"}`)},
		{Type: raftpb.ConfChangeType_ConfChangeAddNode.Enum(), NodeId: proto.Uint64(5),
			Context: []byte(`{"id":5,"peerURLs":null,"isPromote":true}`)},
		{Type: raftpb.ConfChangeType_ConfChangeRemoveNode.Enum(), NodeId: proto.Uint64(3)},
		{Type: raftpb.ConfChangeType_ConfChangeUpdateNode.Enum(), NodeId: proto.Uint64(3), Context: []byte("not json")},
	} {
		f.Add(marshal(f, cc))
	}
	f.Add(marshal(f, &raftpb.ConfChangeV2{
		Transition: raftpb.ConfChangeTransition_ConfChangeTransitionJointImplicit.Enum(),
		Changes: []*raftpb.ConfChangeSingle{
			{Type: raftpb.ConfChangeType_ConfChangeAddLearnerNode.Enum(), NodeId: proto.Uint64(1)},
			{Type: raftpb.ConfChangeType_ConfChangeRemoveNode.Enum(), NodeId: proto.Uint64(2)},
		},
		Context: []byte("x"),
	}))
	f.Fuzz(func(t *testing.T, data []byte) {
		if cc, err := walfmt.DecodeConfChange(data); err != nil {
			if !errors.Is(err, walfmt.ErrUndecodableRequest) {
				t.Fatalf("error %v does not wrap ErrUndecodableRequest", err)
			}
		} else {
			if cc.Member != nil && cc.ContextError != "" {
				t.Fatalf("both a member and a context error: %+v", cc)
			}
			_ = walfmt.DescribeConfChange(cc)
			if _, err := json.Marshal(cc); err != nil {
				t.Fatal(err)
			}
		}
		if cc, err := walfmt.DecodeConfChangeV2(data); err != nil {
			if !errors.Is(err, walfmt.ErrUndecodableRequest) {
				t.Fatalf("error %v does not wrap ErrUndecodableRequest", err)
			}
		} else {
			_ = walfmt.DescribeConfChangeV2(cc)
		}
	})
}
