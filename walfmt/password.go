package walfmt

import (
	"encoding/base64"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/etcdscope/etcdscope/internal/pbwire"
)

// hashedPasswordField is where each request that may carry a password hash
// holds it: InternalRaftRequest field → hashedPassword field of that
// request (api/etcdserverpb/rpc.proto AuthUserAddRequest,
// AuthUserChangePasswordRequest). On-disk format; do not change.
var hashedPasswordField = map[int32]int32{
	1100: 4, // auth-user-add
	1103: 3, // auth-user-change-password
}

// HashedPassword returns the password hash an auth-user-add or
// auth-user-change-password entry carries, decoded from the base64 in
// which etcd 3.5 and later proposers send it: the bytes etcd's auth store
// keeps for the user. It returns nil when the entry carries none, and an
// error when data does not decode or the hash is not base64.
//
// [DecodeRequest] never keeps a secret; this is for a replay, which must
// store what etcd stores.
func HashedPassword(data []byte) ([]byte, error) {
	var hashed []byte
	err := pbWalk(data, "InternalRaftRequest", func(f pbwire.Field) error {
		num, ok := hashedPasswordField[int32(f.Num)]
		if !ok || f.Type != protowire.BytesType {
			return nil
		}
		return pbWalk(f.B, "auth request", func(g pbwire.Field) error {
			if int32(g.Num) == num && g.Type == protowire.BytesType {
				hashed = g.B // the last one wins, as in gogo
			}
			return nil
		})
	})
	if err != nil || hashed == nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(string(hashed))
}
