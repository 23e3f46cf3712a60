package walfmt

import (
	"encoding/json"
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/etcdscope/etcdscope/internal/pbwire"
)

// The decoders of the request layer mimic the gogo-generated Unmarshal code
// of etcd 3.0-3.6 (api/etcdserverpb/*.pb.go, raft/raftpb/raft.pb.go),
// because etcd tells an InternalRaftRequest from a v2 Request by whether
// the gogo parse fails (server/etcdserver/server.go applyEntryNormal).
// gogo, unlike protobuf-go, rejects a known field with the wrong wire type
// and parses every nested message eagerly; it does not check UTF-8, accepts
// any tenth varint byte below 0x80, and truncates field numbers to int32
// (pbwire.Gogo). The only deliberate difference: messages nested deeper
// than pbwire.MaxDepth are rejected (gogo has no limit; etcd never writes
// more than a few levels).
//
// Each message is a field table in the manner of pebble's
// headerFormatMappings: what to do with each field number. On-disk format;
// do not change (api/etcdserverpb/raft_internal.proto, rpc.proto,
// etcdserver.proto up to 3.6, api/membershippb/membership.proto,
// api/authpb/auth.proto, raftpb/raft.proto).

// field is one field of a message being decoded.
type field = pbwire.Field

// msg decodes one message type T: fields[n] decodes field n into a T.
// Fields without an entry are skipped (unknown fields, as gogo skips them).
type msg[T any] struct {
	name   string
	fields []func(f field, m *T) error
}

// read decodes the fields it walks into m. When unknown is not nil, the
// numbers of the fields msg does not know are appended to it.
func (t *msg[T]) read(it *pbwire.Iter, m *T, unknown *[]int32) error {
	for it.Next() {
		f := it.Field()
		if n := int(f.Num); n < len(t.fields) && t.fields[n] != nil {
			if err := t.fields[n](*f, m); err != nil {
				return err
			}
		} else if unknown != nil {
			*unknown = append(*unknown, int32(f.Num))
		}
	}
	return it.Err()
}

// decode decodes the message b into m.
func (t *msg[T]) decode(b []byte, m *T, unknown *[]int32) error {
	it := pbwire.Fields(b, t.name, pbwire.Gogo)
	return t.read(&it, m, unknown)
}

// message decodes the message in field f into m.
func (t *msg[T]) message(f field, m *T) error {
	it, ok, err := f.Message(t.name)
	if !ok {
		return err
	}
	return t.read(&it, m, nil)
}

// into decodes the message in field f into *dst, allocated on first use: a
// repeated message field merges into the first, as in gogo.
func (t *msg[T]) into(f field, dst **T) error {
	if *dst == nil {
		*dst = new(T)
	}
	return t.message(f, *dst)
}

// add decodes the message in field f as a new element of the repeated
// field *dst.
func (t *msg[T]) add(f field, dst *[]T) error {
	*dst = append(*dst, *new(T))
	return t.message(f, &(*dst)[len(*dst)-1])
}

// irrField is a request field of etcdserverpb.InternalRaftRequest: its
// number, the [Request.Kind] it gives, and how to decode it, into the
// Request (decode) or, for the auth requests, into the AuthRequest of its
// kind (auth).
type irrField struct {
	num    protowire.Number
	kind   string
	decode func(f field, r *Request) error
	auth   *msg[AuthRequest]
}

// irrFields lists the request fields in the order in which etcd 3.6 looks
// for them when it applies an entry (server/etcdserver/server.go
// applyEntryNormal, applyInternalRaftRequest; apply/uber_applier.go
// dispatch): the first one set is the request etcd applies.
var irrFields = [...]irrField{
	{2, kindV2, func(f field, r *Request) error { return v2Request.into(f, &r.V2) }, nil},
	{1300, "cluster-version-set", func(f field, r *Request) error { return clusterVersionSet.into(f, &r.ClusterVersionSet) }, nil},
	{1301, "cluster-member-attr-set", func(f field, r *Request) error { return clusterMemberAttrSet.into(f, &r.ClusterMemberAttrSet) }, nil},
	{1302, "downgrade-info-set", func(f field, r *Request) error { return downgradeInfoSet.into(f, &r.DowngradeInfoSet) }, nil},
	{9900, "downgrade-version-test", func(f field, r *Request) error { return downgradeVersionTest.into(f, &r.DowngradeVersionTest) }, nil},
	{3, "range", func(f field, r *Request) error { return rangeRequest.into(f, &r.Range) }, nil},
	{4, "put", func(f field, r *Request) error { return putRequest.into(f, &r.Put) }, nil},
	{5, "delete-range", func(f field, r *Request) error { return deleteRangeRequest.into(f, &r.DeleteRange) }, nil},
	{6, "txn", func(f field, r *Request) error { return txnRequest.into(f, &r.Txn) }, nil},
	{7, "compaction", func(f field, r *Request) error { return compactionRequest.into(f, &r.Compaction) }, nil},
	{8, "lease-grant", func(f field, r *Request) error { return leaseGrantRequest.into(f, &r.LeaseGrant) }, nil},
	{9, "lease-revoke", func(f field, r *Request) error { return leaseRevokeRequest.into(f, &r.LeaseRevoke) }, nil},
	{11, "lease-checkpoint", func(f field, r *Request) error { return leaseCheckpointRequest.into(f, &r.LeaseCheckpoint) }, nil},
	{10, "alarm", func(f field, r *Request) error { return alarmRequest.into(f, &r.Alarm) }, nil},
	{1012, "authenticate", nil, authenticateRequest},
	{1000, "auth-enable", nil, authEmptyRequest},
	{1011, "auth-disable", nil, authEmptyRequest},
	{1013, "auth-status", nil, authEmptyRequest},
	{1100, "auth-user-add", nil, authUserAddRequest},
	{1101, "auth-user-delete", nil, authUserRequest},
	{1103, "auth-user-change-password", nil, authUserChangePasswordRequest},
	{1104, "auth-user-grant-role", nil, authUserRoleRequest},
	{1102, "auth-user-get", nil, authUserRequest},
	{1105, "auth-user-revoke-role", nil, authUserRoleRequest},
	{1200, "auth-role-add", nil, authRoleRequest},
	{1203, "auth-role-grant-permission", nil, authRoleGrantPermissionRequest},
	{1202, "auth-role-get", nil, authRoleRequest},
	{1204, "auth-role-revoke-permission", nil, authRoleRevokePermissionRequest},
	{1201, "auth-role-delete", nil, authRoleRequest},
	{1106, "auth-user-list", nil, authEmptyRequest},
	{1107, "auth-role-list", nil, authEmptyRequest},
}

// InternalRaftRequest fields that are not requests.
const (
	irrID     = 1
	irrHeader = 100
)

// irrIndex maps a request field number to its index in irrFields.
var irrIndex = func() map[protowire.Number]int {
	m := make(map[protowire.Number]int, len(irrFields))
	for i, f := range irrFields {
		m[f.num] = i
	}
	return m
}()

// DecodeRequest decodes the Data of a normal entry the way etcd's
// applyEntryNormal classifies it: empty data is the no-op a new leader
// appends (Kind "empty"); otherwise an InternalRaftRequest if it parses as
// one, else a bare v2 Request (Kind "v2", RawV2). The heuristic works because
// InternalRaftRequest field 2 is a message where Request field 2 is the
// method string, and "PUT", "DELETE", "QGET", "SYNC" ... do not parse as a
// v2 Request message. An InternalRaftRequest that carries a v2 request in
// field 2 has Kind "v2" too, with RawV2 false. When neither parses, the
// error wraps [ErrUndecodableRequest]. DecodeRequest never panics, and
// allocates in proportion to the number of fields, not their size: the
// byte fields of the result (keys, values, range ends) alias data, so copy
// them to keep them past data's lifetime (a [Frame]'s data lives until the
// next [Reader.Next]).
func DecodeRequest(data []byte) (*Request, error) {
	if len(data) == 0 {
		return &Request{Kind: kindEmpty}, nil
	}
	r, irrErr := decodeInternalRaftRequest(data)
	if irrErr == nil {
		return r, nil
	}
	if errors.Is(irrErr, pbwire.ErrTooDeep) {
		// gogo would have taken it as an InternalRaftRequest.
		return nil, fmt.Errorf("%w: as InternalRaftRequest: %w", ErrUndecodableRequest, protoError(irrErr))
	}
	v2 := &V2Request{}
	var unknown []int32
	if err := v2Request.decode(data, v2, &unknown); err != nil {
		return nil, fmt.Errorf("%w: as InternalRaftRequest: %w; as v2 Request: %w",
			ErrUndecodableRequest, protoError(irrErr), protoError(err))
	}
	return &Request{Kind: kindV2, ID: v2.ID, RawV2: true, UnknownFields: unknown, V2: v2}, nil
}

// DecodeRequestPrefix decodes the Data of a normal entry whose record is
// damaged (its CRC does not match) and may end in bytes that are not
// etcd's. Data that decodes whole as an InternalRaftRequest is that
// request. Else the InternalRaftRequest made of its top-level fields
// before the first that does not decode is, when one of those is a
// request field (a put, a txn, ...), the request; the error then says
// where the damage starts, and the request's values may be wrong: only a
// field that decoded whole is kept, but damage inside a key or a value
// decodes as one. Only else is data decoded as [DecodeRequest] does (a
// bare v2 request): damaged bytes may well parse as one, which a request
// field decoded before the damage is more likely than. When none of
// these decodes, the request is nil.
func DecodeRequestPrefix(data []byte) (*Request, error) {
	if len(data) == 0 {
		return DecodeRequest(data)
	}
	r, err := decodeInternalRaftRequest(data)
	if err == nil {
		return r, nil
	}
	end := 0
	it := pbwire.Fields(data, "InternalRaftRequest", pbwire.Gogo)
	for it.Next() {
		if _, ferr := decodeInternalRaftRequest(data[it.Field().Off:it.Offset()]); ferr != nil {
			break
		}
		end = it.Offset()
	}
	if p, perr := decodeInternalRaftRequest(data[:end]); perr == nil && p.Kind != kindUnknown {
		return p, fmt.Errorf("%w: decoded as the InternalRaftRequest of its first %d bytes of %d: %w", ErrUndecodableRequest, end, len(data), protoError(err))
	}
	return DecodeRequest(data)
}

// decodeInternalRaftRequest decodes an etcdserverpb.InternalRaftRequest.
// Each auth request field decodes into an AuthRequest of its own; Auth is
// the one of the first such field in etcd's order.
func decodeInternalRaftRequest(b []byte) (*Request, error) {
	r := &Request{}
	var id uint64
	var present uint64 // bit i: irrFields[i] is set
	var auths [len(irrFields)]*AuthRequest
	it := pbwire.Fields(b, "InternalRaftRequest", pbwire.Gogo)
	for it.Next() {
		f := *it.Field()
		i, known := irrIndex[f.Num]
		var err error
		switch {
		case f.Num == irrID:
			err = f.Uint64(&id)
		case f.Num == irrHeader:
			err = requestHeader.into(f, &r.Header)
		case !known:
			r.UnknownFields = append(r.UnknownFields, int32(f.Num))
		case irrFields[i].auth != nil:
			present |= 1 << i
			err = irrFields[i].auth.into(f, &auths[i])
		default:
			present |= 1 << i
			err = irrFields[i].decode(f, r)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := it.Err(); err != nil {
		return nil, err
	}
	r.Kind = kindUnknown
	for i, k := range irrFields {
		if present&(1<<i) == 0 {
			continue
		}
		if r.Kind == kindUnknown {
			r.Kind = k.kind
		} else {
			r.Ignored = append(r.Ignored, k.kind)
		}
		if r.Auth == nil && auths[i] != nil {
			r.Auth = auths[i]
		}
	}
	r.ID = id
	if r.ID == 0 && r.Header != nil {
		r.ID = r.Header.ID
	}
	if r.ID == 0 && r.V2 != nil {
		r.ID = r.V2.ID
	}
	return r, nil
}

// The field tables of the requests.

var requestHeader = &msg[RequestHeader]{"RequestHeader", []func(field, *RequestHeader) error{
	1: func(f field, h *RequestHeader) error { return f.Uint64(&h.ID) },
	2: func(f field, h *RequestHeader) error { return f.Text(&h.Username) },
	3: func(f field, h *RequestHeader) error { return f.Uint64(&h.AuthRevision) },
}}

var v2Request = &msg[V2Request]{"Request", []func(field, *V2Request) error{
	1:  func(f field, r *V2Request) error { return f.Uint64(&r.ID) },
	2:  func(f field, r *V2Request) error { return f.Text(&r.Method) },
	3:  func(f field, r *V2Request) error { return f.Text(&r.Path) },
	4:  func(f field, r *V2Request) error { return f.Text(&r.Val) },
	5:  func(f field, r *V2Request) error { return f.Bool(&r.Dir) },
	6:  func(f field, r *V2Request) error { return f.Text(&r.PrevValue) },
	7:  func(f field, r *V2Request) error { return f.Uint64(&r.PrevIndex) },
	8:  func(f field, r *V2Request) error { return f.OptBool(&r.PrevExist) },
	9:  func(f field, r *V2Request) error { return f.Int64(&r.Expiration) },
	10: func(f field, r *V2Request) error { return f.Bool(&r.Wait) },
	11: func(f field, r *V2Request) error { return f.Uint64(&r.Since) },
	12: func(f field, r *V2Request) error { return f.Bool(&r.Recursive) },
	13: func(f field, r *V2Request) error { return f.Bool(&r.Sorted) },
	14: func(f field, r *V2Request) error { return f.Bool(&r.Quorum) },
	15: func(f field, r *V2Request) error { return f.Int64(&r.Time) },
	16: func(f field, r *V2Request) error { return f.Bool(&r.Stream) },
	17: func(f field, r *V2Request) error { return f.OptBool(&r.Refresh) },
}}

var rangeRequest = &msg[RangeRequest]{"RangeRequest", []func(field, *RangeRequest) error{
	1:  func(f field, r *RangeRequest) error { return f.Bytes(&r.Key) },
	2:  func(f field, r *RangeRequest) error { return f.Bytes(&r.RangeEnd) },
	3:  func(f field, r *RangeRequest) error { return f.Int64(&r.Limit) },
	4:  func(f field, r *RangeRequest) error { return f.Int64(&r.Revision) },
	5:  func(f field, r *RangeRequest) error { return f.Int32((*int32)(&r.SortOrder)) },
	6:  func(f field, r *RangeRequest) error { return f.Int32((*int32)(&r.SortTarget)) },
	7:  func(f field, r *RangeRequest) error { return f.Bool(&r.Serializable) },
	8:  func(f field, r *RangeRequest) error { return f.Bool(&r.KeysOnly) },
	9:  func(f field, r *RangeRequest) error { return f.Bool(&r.CountOnly) },
	10: func(f field, r *RangeRequest) error { return f.Int64(&r.MinModRevision) },
	11: func(f field, r *RangeRequest) error { return f.Int64(&r.MaxModRevision) },
	12: func(f field, r *RangeRequest) error { return f.Int64(&r.MinCreateRevision) },
	13: func(f field, r *RangeRequest) error { return f.Int64(&r.MaxCreateRevision) },
}}

var putRequest = &msg[PutRequest]{"PutRequest", []func(field, *PutRequest) error{
	1: func(f field, p *PutRequest) error { return f.Bytes(&p.Key) },
	2: func(f field, p *PutRequest) error { return f.Bytes(&p.Value) },
	3: func(f field, p *PutRequest) error { return f.Int64(&p.Lease) },
	4: func(f field, p *PutRequest) error { return f.Bool(&p.PrevKV) },
	5: func(f field, p *PutRequest) error { return f.Bool(&p.IgnoreValue) },
	6: func(f field, p *PutRequest) error { return f.Bool(&p.IgnoreLease) },
}}

var deleteRangeRequest = &msg[DeleteRangeRequest]{"DeleteRangeRequest", []func(field, *DeleteRangeRequest) error{
	1: func(f field, r *DeleteRangeRequest) error { return f.Bytes(&r.Key) },
	2: func(f field, r *DeleteRangeRequest) error { return f.Bytes(&r.RangeEnd) },
	3: func(f field, r *DeleteRangeRequest) error { return f.Bool(&r.PrevKV) },
}}

// txnRequest is built with the table of its RequestOp in one function,
// because the two refer to each other (a txn holds ops, an op may be a txn).
var txnRequest = txnTable()

func txnTable() *msg[TxnRequest] {
	txn := &msg[TxnRequest]{name: "TxnRequest"}
	op := &msg[RequestOp]{name: "RequestOp"}
	txn.fields = []func(field, *TxnRequest) error{
		1: func(f field, t *TxnRequest) error { return compare.add(f, &t.Compare) },
		2: func(f field, t *TxnRequest) error { return op.add(f, &t.Success) },
		3: func(f field, t *TxnRequest) error { return op.add(f, &t.Failure) },
	}
	// The request oneof: each field replaces the previous one, as in gogo.
	op.fields = []func(field, *RequestOp) error{
		1: func(f field, o *RequestOp) error { *o = RequestOp{}; return rangeRequest.into(f, &o.Range) },
		2: func(f field, o *RequestOp) error { *o = RequestOp{}; return putRequest.into(f, &o.Put) },
		3: func(f field, o *RequestOp) error { *o = RequestOp{}; return deleteRangeRequest.into(f, &o.DeleteRange) },
		4: func(f field, o *RequestOp) error { *o = RequestOp{}; return txn.into(f, &o.Txn) },
	}
	return txn
}

var compare = &msg[Compare]{"Compare", []func(field, *Compare) error{
	1: func(f field, c *Compare) error { return f.Int32((*int32)(&c.Result)) },
	2: func(f field, c *Compare) error { return f.Int32((*int32)(&c.Target)) },
	3: func(f field, c *Compare) error { return f.Bytes(&c.Key) },
	// The target_union oneof: each field replaces the previous one.
	4:  func(f field, c *Compare) error { return c.union(f, &c.Version) },
	5:  func(f field, c *Compare) error { return c.union(f, &c.CreateRevision) },
	6:  func(f field, c *Compare) error { return c.union(f, &c.ModRevision) },
	7:  func(f field, c *Compare) error { c.union(f, nil); return f.Bytes(&c.Value) }, // non-nil even when empty
	8:  func(f field, c *Compare) error { return c.union(f, &c.Lease) },
	64: func(f field, c *Compare) error { return f.Bytes(&c.RangeEnd) },
}}

// union clears the target_union of c and, when dst is not nil, sets *dst
// to field f's value.
func (c *Compare) union(f field, dst **int64) error {
	c.Version, c.CreateRevision, c.ModRevision, c.Lease, c.Value = nil, nil, nil, nil, nil
	if dst == nil {
		return nil
	}
	*dst = new(int64)
	return f.Int64(*dst)
}

var compactionRequest = &msg[CompactionRequest]{"CompactionRequest", []func(field, *CompactionRequest) error{
	1: func(f field, c *CompactionRequest) error { return f.Int64(&c.Revision) },
	2: func(f field, c *CompactionRequest) error { return f.Bool(&c.Physical) },
}}

var leaseGrantRequest = &msg[LeaseGrantRequest]{"LeaseGrantRequest", []func(field, *LeaseGrantRequest) error{
	1: func(f field, l *LeaseGrantRequest) error { return f.Int64(&l.TTL) },
	2: func(f field, l *LeaseGrantRequest) error { return f.Int64(&l.ID) },
}}

var leaseRevokeRequest = &msg[LeaseRevokeRequest]{"LeaseRevokeRequest", []func(field, *LeaseRevokeRequest) error{
	1: func(f field, l *LeaseRevokeRequest) error { return f.Int64(&l.ID) },
}}

var leaseCheckpointRequest = &msg[LeaseCheckpointRequest]{"LeaseCheckpointRequest", []func(field, *LeaseCheckpointRequest) error{
	1: func(f field, l *LeaseCheckpointRequest) error { return leaseCheckpoint.add(f, &l.Checkpoints) },
}}

var leaseCheckpoint = &msg[LeaseCheckpoint]{"LeaseCheckpoint", []func(field, *LeaseCheckpoint) error{
	1: func(f field, c *LeaseCheckpoint) error { return f.Int64(&c.ID) },
	2: func(f field, c *LeaseCheckpoint) error { return f.Int64(&c.RemainingTTL) },
}}

var alarmRequest = &msg[AlarmRequest]{"AlarmRequest", []func(field, *AlarmRequest) error{
	1: func(f field, a *AlarmRequest) error { return f.Int32((*int32)(&a.Action)) },
	2: func(f field, a *AlarmRequest) error { return f.Uint64(&a.MemberID) },
	3: func(f field, a *AlarmRequest) error { return f.Int32((*int32)(&a.Alarm)) },
}}

var clusterVersionSet = &msg[ClusterVersionSetRequest]{"ClusterVersionSetRequest", []func(field, *ClusterVersionSetRequest) error{
	1: func(f field, c *ClusterVersionSetRequest) error { return f.Text(&c.Ver) },
}}

// clusterMemberAttrSet flattens the member_attributes of the request into
// it (memberAttributes decodes them).
var clusterMemberAttrSet = &msg[ClusterMemberAttrSetRequest]{"ClusterMemberAttrSetRequest", []func(field, *ClusterMemberAttrSetRequest) error{
	1: func(f field, c *ClusterMemberAttrSetRequest) error { return f.Uint64(&c.MemberID) },
	2: func(f field, c *ClusterMemberAttrSetRequest) error { return memberAttributes.message(f, c) },
}}

var memberAttributes = &msg[ClusterMemberAttrSetRequest]{"Attributes", []func(field, *ClusterMemberAttrSetRequest) error{
	1: func(f field, c *ClusterMemberAttrSetRequest) error { return f.Text(&c.Name) },
	2: func(f field, c *ClusterMemberAttrSetRequest) error { return f.AppendText(&c.ClientURLs) },
}}

var downgradeInfoSet = &msg[DowngradeInfoSetRequest]{"DowngradeInfoSetRequest", []func(field, *DowngradeInfoSetRequest) error{
	1: func(f field, d *DowngradeInfoSetRequest) error { return f.Bool(&d.Enabled) },
	2: func(f field, d *DowngradeInfoSetRequest) error { return f.Text(&d.Ver) },
}}

var downgradeVersionTest = &msg[DowngradeVersionTestRequest]{"DowngradeVersionTestRequest", []func(field, *DowngradeVersionTestRequest) error{
	1: func(f field, d *DowngradeVersionTestRequest) error { return f.Text(&d.Ver) },
}}

// The auth requests all decode into an AuthRequest: Name is a user name,
// Role a role name, whatever the proto calls them; secrets are only
// marked present.

// Fields of the auth requests that carry a password hash, which
// [HashedPassword] reads.
const (
	userAddHashedPassword            = 4 // AuthUserAddRequest.hashedPassword
	userChangePasswordHashedPassword = 3 // AuthUserChangePasswordRequest.hashedPassword
)

var (
	authName            = func(f field, a *AuthRequest) error { return f.Text(&a.Name) }
	authRole            = func(f field, a *AuthRequest) error { return f.Text(&a.Role) }
	authPassword        = func(f field, a *AuthRequest) error { return f.Present(&a.Password) }
	authHashed          = func(f field, a *AuthRequest) error { return f.Present(&a.HashedPassword) }
	authEmptyRequest    = &msg[AuthRequest]{name: "auth request"} // AuthEnable, AuthDisable, AuthStatus, AuthUserList, AuthRoleList
	authUserRequest     = &msg[AuthRequest]{"AuthUserRequest", []func(field, *AuthRequest) error{1: authName}}
	authRoleRequest     = &msg[AuthRequest]{"AuthRoleRequest", []func(field, *AuthRequest) error{1: authRole}}
	authUserRoleRequest = &msg[AuthRequest]{"AuthUserRoleRequest", []func(field, *AuthRequest) error{1: authName, 2: authRole}}
)

var authenticateRequest = &msg[AuthRequest]{"InternalAuthenticateRequest", []func(field, *AuthRequest) error{
	1: authName,
	2: authPassword,
	3: func(f field, a *AuthRequest) error { return f.Present(&a.SimpleToken) },
}}

var authUserAddRequest = &msg[AuthRequest]{"AuthUserAddRequest", []func(field, *AuthRequest) error{
	1:                     authName,
	2:                     authPassword,
	3:                     func(f field, a *AuthRequest) error { return userAddOptions.message(f, a) },
	userAddHashedPassword: authHashed,
}}

var userAddOptions = &msg[AuthRequest]{"UserAddOptions", []func(field, *AuthRequest) error{
	1: func(f field, a *AuthRequest) error { return f.Bool(&a.NoPassword) },
}}

var authUserChangePasswordRequest = &msg[AuthRequest]{"AuthUserChangePasswordRequest", []func(field, *AuthRequest) error{
	1:                                authName,
	2:                                authPassword,
	userChangePasswordHashedPassword: authHashed,
}}

var authRoleGrantPermissionRequest = &msg[AuthRequest]{"AuthRoleGrantPermissionRequest", []func(field, *AuthRequest) error{
	1: authRole,
	2: func(f field, a *AuthRequest) error { return permission.into(f, &a.Perm) },
}}

var permission = &msg[Permission]{"Permission", []func(field, *Permission) error{
	1: func(f field, p *Permission) error { return f.Int32((*int32)(&p.Type)) },
	2: func(f field, p *Permission) error { return f.Bytes(&p.Key) },
	3: func(f field, p *Permission) error { return f.Bytes(&p.RangeEnd) },
}}

var authRoleRevokePermissionRequest = &msg[AuthRequest]{"AuthRoleRevokePermissionRequest", []func(field, *AuthRequest) error{
	1: authRole,
	2: func(f field, a *AuthRequest) error { return f.Bytes(&a.Key) },
	3: func(f field, a *AuthRequest) error { return f.Bytes(&a.RangeEnd) },
}}

// The conf changes (raftpb.ConfChange, raftpb.ConfChangeV2).

var confChange = &msg[ConfChange]{"ConfChange", []func(field, *ConfChange) error{
	1: func(f field, c *ConfChange) error { return f.Uint64(&c.ID) },
	2: func(f field, c *ConfChange) error { return f.Int32((*int32)(&c.Type)) },
	3: func(f field, c *ConfChange) error { return f.Uint64(&c.NodeID) },
	4: func(f field, c *ConfChange) error { return f.Bytes(&c.Context) },
}}

var confChangeV2 = &msg[ConfChangeV2]{"ConfChangeV2", []func(field, *ConfChangeV2) error{
	1: func(f field, c *ConfChangeV2) error { return f.Int32((*int32)(&c.Transition)) },
	2: func(f field, c *ConfChangeV2) error { return confChangeSingle.add(f, &c.Changes) },
	3: func(f field, c *ConfChangeV2) error { return f.Bytes(&c.Context) },
}}

var confChangeSingle = &msg[ConfChangeSingle]{"ConfChangeSingle", []func(field, *ConfChangeSingle) error{
	1: func(f field, c *ConfChangeSingle) error { return f.Int32((*int32)(&c.Type)) },
	2: func(f field, c *ConfChangeSingle) error { return f.Uint64(&c.NodeID) },
}}

// DecodeConfChange decodes the Data of an EntryConfChange entry, and the
// member JSON in its context. An undecodable conf change wraps
// [ErrUndecodableRequest]. It never panics.
func DecodeConfChange(data []byte) (*ConfChange, error) {
	cc := &ConfChange{}
	if err := confChange.decode(data, cc, nil); err != nil {
		return nil, fmt.Errorf("%w: as ConfChange: %w", ErrUndecodableRequest, protoError(err))
	}
	if len(cc.Context) > 0 {
		// The shape of server/etcdserver/api/membership ConfigChangeContext;
		// id decodes into a uint64, never through float64, as in etcd.
		var ctx struct {
			ID         uint64   `json:"id"`
			PeerURLs   []string `json:"peerURLs"`
			IsLearner  bool     `json:"isLearner"`
			Name       string   `json:"name"`
			ClientURLs []string `json:"clientURLs"`
			IsPromote  bool     `json:"isPromote"`
		}
		if err := json.Unmarshal(cc.Context, &ctx); err != nil {
			cc.ContextError = err.Error()
		} else {
			cc.Member = &Member{
				ID:         ctx.ID,
				Name:       ctx.Name,
				PeerURLs:   ctx.PeerURLs,
				ClientURLs: ctx.ClientURLs,
				IsLearner:  ctx.IsLearner,
				IsPromote:  ctx.IsPromote,
			}
		}
	}
	return cc, nil
}

// DecodeConfChangeV2 decodes the Data of an EntryConfChangeV2 entry. An
// undecodable one wraps [ErrUndecodableRequest]. It never panics.
func DecodeConfChangeV2(data []byte) (*ConfChangeV2, error) {
	cc := &ConfChangeV2{}
	if err := confChangeV2.decode(data, cc, nil); err != nil {
		return nil, fmt.Errorf("%w: as ConfChangeV2: %w", ErrUndecodableRequest, protoError(err))
	}
	return cc, nil
}
