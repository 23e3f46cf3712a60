package walfmt

import (
	"go.etcd.io/raft/v3/raftpb"
)

// The request layer: the Data of raft entries decoded the way etcd reads
// them, normal entries as etcdserverpb.InternalRaftRequest or legacy v2
// etcdserverpb.Request, conf change entries as raftpb.ConfChange(V2). This
// file holds the types; decode.go the decoders ([DecodeRequest],
// [DecodeConfChange]), enum.go the enums, describe.go the one-line
// descriptions ([DescribeRequest]).

// ErrUndecodableRequest is returned by [DecodeRequest], [DecodeConfChange]
// and [DecodeConfChangeV2] when an entry's data does not decode as what its
// entry type says (for a normal entry: neither as an InternalRaftRequest nor
// as a v2 Request). etcd panics when it applies such an entry. It matches
// [ErrUndecodablePayload] too, so [Code] reports wal-undecodable-entry.
var ErrUndecodableRequest error = &subError{"walfmt: undecodable request", ErrUndecodablePayload}

// subError is a sentinel that is also a kind of a more general sentinel.
type subError struct {
	msg    string
	parent error
}

func (e *subError) Error() string { return e.msg }
func (e *subError) Unwrap() error { return e.parent }

// Request kinds.
const (
	kindEmpty   = "empty"
	kindV2      = "v2"
	kindUnknown = "unknown"
)

// Request is the decoded Data of a normal raft entry. Kind says what it is
// and which pointer field holds the body; Describe it with
// [DescribeRequest]. Byte slices (keys, values, range ends) alias the
// decoded data; strings are copies. Passwords and tokens are never kept:
// only whether they were set.
type Request struct {
	// Kind is one of the slugs [RequestKinds] lists: "empty" for the no-op
	// a new leader appends, "v2" for a legacy v2 request, "unknown" for an
	// InternalRaftRequest that sets no request field this package knows.
	Kind string `json:"kind"`
	// ID is the request id: InternalRaftRequest.ID, or header.ID when that
	// is 0 (what etcd uses), or the v2 Request's ID.
	ID     uint64         `json:"id,omitempty"`
	Header *RequestHeader `json:"header,omitempty"`
	// RawV2 is true when Data is a bare v2 etcdserverpb.Request (what etcd
	// 3.5 and earlier propose for v2 calls, SYNC and member/version
	// publishing), false when the v2 request is wrapped in an
	// InternalRaftRequest.
	RawV2 bool `json:"raw_v2,omitempty"`
	// Ignored lists the kinds of further request fields the entry sets. etcd
	// applies only Kind, the first in its order; a well-formed entry sets
	// one request field.
	Ignored []string `json:"ignored,omitempty"`
	// UnknownFields lists the field numbers of the InternalRaftRequest (or
	// v2 Request) this package does not know, as from a newer etcd.
	UnknownFields []int32 `json:"unknown_fields,omitempty"`

	V2                   *V2Request                   `json:"v2,omitempty"`
	Range                *RangeRequest                `json:"range,omitempty"`
	Put                  *PutRequest                  `json:"put,omitempty"`
	DeleteRange          *DeleteRangeRequest          `json:"delete_range,omitempty"`
	Txn                  *TxnRequest                  `json:"txn,omitempty"`
	Compaction           *CompactionRequest           `json:"compaction,omitempty"`
	LeaseGrant           *LeaseGrantRequest           `json:"lease_grant,omitempty"`
	LeaseRevoke          *LeaseRevokeRequest          `json:"lease_revoke,omitempty"`
	LeaseCheckpoint      *LeaseCheckpointRequest      `json:"lease_checkpoint,omitempty"`
	Alarm                *AlarmRequest                `json:"alarm,omitempty"`
	Auth                 *AuthRequest                 `json:"auth,omitempty"`
	ClusterVersionSet    *ClusterVersionSetRequest    `json:"cluster_version_set,omitempty"`
	ClusterMemberAttrSet *ClusterMemberAttrSetRequest `json:"cluster_member_attr_set,omitempty"`
	DowngradeInfoSet     *DowngradeInfoSetRequest     `json:"downgrade_info_set,omitempty"`
	DowngradeVersionTest *DowngradeVersionTestRequest `json:"downgrade_version_test,omitempty"`
}

// RequestHeader is an etcdserverpb.RequestHeader.
type RequestHeader struct {
	ID           uint64 `json:"id,omitempty"`
	Username     string `json:"username,omitempty"`
	AuthRevision uint64 `json:"auth_revision,omitempty"`
}

// V2Request is a legacy v2 etcdserverpb.Request (api/etcdserverpb/etcdserver.proto
// up to etcd 3.6).
type V2Request struct {
	ID         uint64 `json:"id,omitempty"`
	Method     string `json:"method,omitempty"`
	Path       string `json:"path,omitempty"`
	Val        string `json:"val,omitempty"`
	Dir        bool   `json:"dir,omitempty"`
	PrevValue  string `json:"prev_value,omitempty"`
	PrevIndex  uint64 `json:"prev_index,omitempty"`
	PrevExist  *bool  `json:"prev_exist,omitempty"`
	Expiration int64  `json:"expiration,omitempty"`
	Wait       bool   `json:"wait,omitempty"`
	Since      uint64 `json:"since,omitempty"`
	Recursive  bool   `json:"recursive,omitempty"`
	Sorted     bool   `json:"sorted,omitempty"`
	Quorum     bool   `json:"quorum,omitempty"`
	Time       int64  `json:"time,omitempty"` // unix nanoseconds, set by SYNC
	Stream     bool   `json:"stream,omitempty"`
	Refresh    *bool  `json:"refresh,omitempty"`
}

// RangeRequest is an etcdserverpb.RangeRequest.
type RangeRequest struct {
	Key               []byte     `json:"key,omitempty"`
	RangeEnd          []byte     `json:"range_end,omitempty"`
	Limit             int64      `json:"limit,omitempty"`
	Revision          int64      `json:"revision,omitempty"`
	SortOrder         SortOrder  `json:"sort_order,omitempty"`
	SortTarget        SortTarget `json:"sort_target,omitempty"`
	Serializable      bool       `json:"serializable,omitempty"`
	KeysOnly          bool       `json:"keys_only,omitempty"`
	CountOnly         bool       `json:"count_only,omitempty"`
	MinModRevision    int64      `json:"min_mod_revision,omitempty"`
	MaxModRevision    int64      `json:"max_mod_revision,omitempty"`
	MinCreateRevision int64      `json:"min_create_revision,omitempty"`
	MaxCreateRevision int64      `json:"max_create_revision,omitempty"`
}

// PutRequest is an etcdserverpb.PutRequest.
type PutRequest struct {
	Key         []byte `json:"key,omitempty"`
	Value       []byte `json:"value,omitempty"`
	Lease       int64  `json:"lease,omitempty"`
	PrevKV      bool   `json:"prev_kv,omitempty"`
	IgnoreValue bool   `json:"ignore_value,omitempty"`
	IgnoreLease bool   `json:"ignore_lease,omitempty"`
}

// DeleteRangeRequest is an etcdserverpb.DeleteRangeRequest.
type DeleteRangeRequest struct {
	Key      []byte `json:"key,omitempty"`
	RangeEnd []byte `json:"range_end,omitempty"`
	PrevKV   bool   `json:"prev_kv,omitempty"`
}

// TxnRequest is an etcdserverpb.TxnRequest.
type TxnRequest struct {
	Compare []Compare   `json:"compare,omitempty"`
	Success []RequestOp `json:"success,omitempty"`
	Failure []RequestOp `json:"failure,omitempty"`
}

// RequestOp is an etcdserverpb.RequestOp: at most one field is set.
type RequestOp struct {
	Range       *RangeRequest       `json:"range,omitempty"`
	Put         *PutRequest         `json:"put,omitempty"`
	DeleteRange *DeleteRangeRequest `json:"delete_range,omitempty"`
	Txn         *TxnRequest         `json:"txn,omitempty"`
}

// Compare is an etcdserverpb.Compare. At most one of Version,
// CreateRevision, ModRevision, Lease and Value is set (non-nil): the
// target_union field on the wire. etcd compares against the one that
// Target names, reading 0 or an empty value when another one is set.
type Compare struct {
	Result         CompareResult `json:"result"`
	Target         CompareTarget `json:"target"`
	Key            []byte        `json:"key,omitempty"`
	RangeEnd       []byte        `json:"range_end,omitempty"`
	Version        *int64        `json:"version,omitempty"`
	CreateRevision *int64        `json:"create_revision,omitempty"`
	ModRevision    *int64        `json:"mod_revision,omitempty"`
	Lease          *int64        `json:"lease,omitempty"`
	Value          []byte        `json:"value,omitempty"`
}

// CompactionRequest is an etcdserverpb.CompactionRequest.
type CompactionRequest struct {
	Revision int64 `json:"revision,omitempty"`
	Physical bool  `json:"physical,omitempty"`
}

// LeaseGrantRequest is an etcdserverpb.LeaseGrantRequest. ID is chosen by
// the proposer.
type LeaseGrantRequest struct {
	TTL int64 `json:"ttl,omitempty"`
	ID  int64 `json:"id,omitempty"`
}

// LeaseRevokeRequest is an etcdserverpb.LeaseRevokeRequest.
type LeaseRevokeRequest struct {
	ID int64 `json:"id,omitempty"`
}

// LeaseCheckpointRequest is an etcdserverpb.LeaseCheckpointRequest.
type LeaseCheckpointRequest struct {
	Checkpoints []LeaseCheckpoint `json:"checkpoints,omitempty"`
}

// LeaseCheckpoint is an etcdserverpb.LeaseCheckpoint.
type LeaseCheckpoint struct {
	ID           int64 `json:"id,omitempty"`
	RemainingTTL int64 `json:"remaining_ttl,omitempty"`
}

// AlarmRequest is an etcdserverpb.AlarmRequest.
type AlarmRequest struct {
	Action   AlarmAction `json:"action"`
	MemberID uint64      `json:"member_id,omitempty"`
	Alarm    AlarmType   `json:"alarm"`
}

// AuthRequest holds the fields of any of the auth requests (the Kind of the
// [Request] says which). Name is a user name, Role a role name, whatever the
// proto calls them (AuthRoleAddRequest.name is a role). Secrets are never
// kept: Password, HashedPassword and SimpleToken only say whether the entry
// carries one.
type AuthRequest struct {
	Name           string      `json:"name,omitempty"`
	Role           string      `json:"role,omitempty"`
	Password       bool        `json:"password,omitempty"`
	HashedPassword bool        `json:"hashed_password,omitempty"`
	NoPassword     bool        `json:"no_password,omitempty"`
	Perm           *Permission `json:"perm,omitempty"`
	Key            []byte      `json:"key,omitempty"`       // auth-role-revoke-permission
	RangeEnd       []byte      `json:"range_end,omitempty"` // auth-role-revoke-permission
	SimpleToken    bool        `json:"simple_token,omitempty"`
}

// Permission is an authpb.Permission.
type Permission struct {
	Type     PermissionType `json:"type"`
	Key      []byte         `json:"key,omitempty"`
	RangeEnd []byte         `json:"range_end,omitempty"`
}

// ClusterVersionSetRequest is a membershippb.ClusterVersionSetRequest.
type ClusterVersionSetRequest struct {
	Ver string `json:"ver,omitempty"`
}

// ClusterMemberAttrSetRequest is a membershippb.ClusterMemberAttrSetRequest,
// with its member_attributes flattened.
type ClusterMemberAttrSetRequest struct {
	MemberID   uint64   `json:"member_id,omitempty"`
	Name       string   `json:"name,omitempty"`
	ClientURLs []string `json:"client_urls,omitempty"`
}

// DowngradeInfoSetRequest is a membershippb.DowngradeInfoSetRequest.
type DowngradeInfoSetRequest struct {
	Enabled bool   `json:"enabled,omitempty"`
	Ver     string `json:"ver,omitempty"`
}

// DowngradeVersionTestRequest is an etcdserverpb.DowngradeVersionTestRequest,
// which only etcd's tests write; etcd applies it as a no-op.
type DowngradeVersionTestRequest struct {
	Ver string `json:"ver,omitempty"`
}

// RequestKinds returns every value [Request.Kind] can take.
func RequestKinds() []string {
	ks := []string{kindEmpty}
	for _, k := range irrFields {
		ks = append(ks, k.kind)
	}
	return append(ks, kindUnknown)
}

// Keys returns every key the request names: put, range and delete-range
// keys, the keys of txn compares and operations (recursively), a v2 path,
// and the keys of auth permission requests. Range ends are not included.
func (r *Request) Keys() [][]byte {
	if r == nil {
		return nil
	}
	var ks [][]byte
	if r.V2 != nil {
		ks = append(ks, []byte(r.V2.Path))
	}
	if r.Range != nil {
		ks = append(ks, r.Range.Key)
	}
	if r.Put != nil {
		ks = append(ks, r.Put.Key)
	}
	if r.DeleteRange != nil {
		ks = append(ks, r.DeleteRange.Key)
	}
	if r.Txn != nil {
		ks = r.Txn.appendKeys(ks)
	}
	if r.Auth != nil {
		if r.Auth.Perm != nil {
			ks = append(ks, r.Auth.Perm.Key)
		}
		if r.Auth.Key != nil {
			ks = append(ks, r.Auth.Key)
		}
	}
	return ks
}

func (t *TxnRequest) appendKeys(ks [][]byte) [][]byte {
	for _, c := range t.Compare {
		ks = append(ks, c.Key)
	}
	for _, ops := range [][]RequestOp{t.Success, t.Failure} {
		for _, op := range ops {
			r := op.request()
			ks = append(ks, r.Keys()...)
		}
	}
	return ks
}

// request returns op as a Request of its kind ("empty" when it holds
// none).
func (op RequestOp) request() Request {
	switch {
	case op.Range != nil:
		return Request{Kind: "range", Range: op.Range}
	case op.Put != nil:
		return Request{Kind: "put", Put: op.Put}
	case op.DeleteRange != nil:
		return Request{Kind: "delete-range", DeleteRange: op.DeleteRange}
	case op.Txn != nil:
		return Request{Kind: "txn", Txn: op.Txn}
	}
	return Request{Kind: kindEmpty}
}

// ConfChange is a raftpb.ConfChange, the Data of an EntryConfChange entry.
// etcd puts the JSON of the member in Context (membership.Member, or
// membership.ConfigChangeContext for a learner promotion); Member is that
// JSON decoded. A Context that is not such JSON leaves Member nil and says
// why in ContextError; it is not an error of the conf change (etcd would
// panic applying it).
type ConfChange struct {
	ID           uint64         `json:"id,omitempty"` // etcd's request id, 0 when synthesized
	Type         ConfChangeType `json:"type"`
	NodeID       uint64         `json:"node_id"`
	Context      []byte         `json:"context,omitempty"`
	Member       *Member        `json:"member,omitempty"`
	ContextError string         `json:"context_error,omitempty"`
}

// Raft returns cc as the raftpb.ConfChange raft applies (RawNode.ApplyConfChange).
func (cc *ConfChange) Raft() *raftpb.ConfChange {
	id, typ, node := cc.ID, raftpb.ConfChangeType(cc.Type), cc.NodeID
	return &raftpb.ConfChange{Id: &id, Type: &typ, NodeId: &node, Context: cc.Context}
}

// Member is the membership.Member (plus ConfigChangeContext.isPromote) etcd
// writes as JSON into a ConfChange context.
type Member struct {
	ID         uint64   `json:"id"`
	Name       string   `json:"name,omitempty"`
	PeerURLs   []string `json:"peer_urls,omitempty"`
	ClientURLs []string `json:"client_urls,omitempty"`
	IsLearner  bool     `json:"is_learner,omitempty"`
	IsPromote  bool     `json:"is_promote,omitempty"`
}

// ConfChangeV2 is a raftpb.ConfChangeV2, the Data of an EntryConfChangeV2
// entry. etcd never writes one.
type ConfChangeV2 struct {
	Transition ConfChangeTransition `json:"transition"`
	Changes    []ConfChangeSingle   `json:"changes,omitempty"`
	Context    []byte               `json:"context,omitempty"`
}

// ConfChangeSingle is a raftpb.ConfChangeSingle.
type ConfChangeSingle struct {
	Type   ConfChangeType `json:"type"`
	NodeID uint64         `json:"node_id"`
}
