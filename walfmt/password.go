package walfmt

import (
	"encoding/base64"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/etcdscope/etcdscope/internal/pbwire"
)

// hashedPasswordField is where each request that may carry a password hash
// holds it: the table of the request → its hashedPassword field
// (api/etcdserverpb/rpc.proto AuthUserAddRequest,
// AuthUserChangePasswordRequest).
var hashedPasswordField = map[*msg[AuthRequest]]protowire.Number{
	authUserAddRequest:            userAddHashedPassword,
	authUserChangePasswordRequest: userChangePasswordHashedPassword,
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
	it := pbwire.Fields(data, "InternalRaftRequest", pbwire.Gogo)
	for it.Next() {
		f := it.Field()
		i, ok := irrIndex[f.Num]
		if !ok || f.Type != protowire.BytesType {
			continue
		}
		num, ok := hashedPasswordField[irrFields[i].auth]
		if !ok {
			continue
		}
		sub := pbwire.Fields(f.B, irrFields[i].auth.name, pbwire.Gogo)
		for sub.Next() {
			if g := sub.Field(); g.Num == num && g.Type == protowire.BytesType {
				hashed = g.B // the last one wins, as in gogo
			}
		}
		if err := sub.Err(); err != nil {
			return nil, protoError(err)
		}
	}
	if err := it.Err(); err != nil || hashed == nil {
		return nil, protoError(err)
	}
	return base64.StdEncoding.DecodeString(string(hashed))
}
