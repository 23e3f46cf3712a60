package walfmt_test

import (
	"bytes"
	"encoding/base64"
	"testing"

	"go.etcd.io/etcd/api/v3/authpb"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"

	"github.com/etcdscope/etcdscope/walfmt"
)

// TestHashedPassword: the hash an auth-user-add or change-password entry
// carries comes back decoded from base64, as etcd's auth store keeps it;
// other entries carry none.
func TestHashedPassword(t *testing.T) {
	hash := []byte("$2a$10$abcdefghijklmnopqrstuv")
	enc := base64.StdEncoding.EncodeToString(hash)
	for _, tc := range []struct {
		name    string
		req     *pb.InternalRaftRequest
		want    []byte
		wantErr bool
	}{
		{"user add", &pb.InternalRaftRequest{AuthUserAdd: &pb.AuthUserAddRequest{Name: "u", HashedPassword: enc}}, hash, false},
		{"change password", &pb.InternalRaftRequest{AuthUserChangePassword: &pb.AuthUserChangePasswordRequest{Name: "u", HashedPassword: enc}}, hash, false},
		{"no password", &pb.InternalRaftRequest{AuthUserAdd: &pb.AuthUserAddRequest{Name: "u", Options: &authpb.UserAddOptions{NoPassword: true}}}, nil, false},
		{"put", &pb.InternalRaftRequest{Put: &pb.PutRequest{Key: []byte("k"), Value: []byte(enc)}}, nil, false},
		{"not base64", &pb.InternalRaftRequest{AuthUserAdd: &pb.AuthUserAddRequest{Name: "u", HashedPassword: "%%"}}, nil, true},
	} {
		data, err := proto.Marshal(tc.req)
		if err != nil {
			t.Fatal(err)
		}
		got, err := walfmt.HashedPassword(data)
		if (err != nil) != tc.wantErr || !bytes.Equal(got, tc.want) {
			t.Errorf("%s: %q, %v; want %q (error %v)", tc.name, got, err, tc.want, tc.wantErr)
		}
	}
	if _, err := walfmt.HashedPassword([]byte{0x0a, 0x05, 'x'}); err == nil {
		t.Errorf("a truncated message gave no error")
	}
}
