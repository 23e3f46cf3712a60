package walfmt

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdscope/etcdscope/internal/pbwire"
)

// This file decodes the Data of raft entries the way etcd reads them: normal
// entries as etcdserverpb.InternalRaftRequest or legacy v2
// etcdserverpb.Request, conf change entries as raftpb.ConfChange(V2).
//
// The decoders mimic the gogo-generated Unmarshal code of etcd 3.0-3.6
// (api/etcdserverpb/*.pb.go, raft/raftpb/raft.pb.go), because etcd tells an
// InternalRaftRequest from a v2 Request by whether the gogo parse fails
// (server/etcdserver/server.go applyEntryNormal). gogo, unlike protobuf-go,
// rejects a known field with the wrong wire type and parses every nested
// message eagerly; it does not check UTF-8, accepts any tenth varint byte
// below 0x80, and truncates field numbers to int32. The only deliberate
// difference: messages nested deeper than maxRequestDepth are rejected
// (gogo has no limit; etcd never writes more than a few levels).

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

// errTooDeep is wrapped by the error for messages nested deeper than
// maxRequestDepth.
var errTooDeep = fmt.Errorf("messages nested deeper than %d", maxRequestDepth)

// maxRequestDepth bounds message nesting (a txn inside a txn inside ...),
// so that hostile input cannot exhaust the stack. protobuf-go uses the same
// limit.
const maxRequestDepth = 10000

// Request is the decoded Data of a normal raft entry. Kind says what it is
// and which pointer field holds the body; Describe it with
// [DescribeRequest]. Byte slices are copies, never aliases of the input.
// Passwords and tokens are never kept: only whether they were set.
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

// Enums. On-disk format; do not change (etcd api/etcdserverpb/rpc.proto,
// api/authpb/auth.proto).

// SortOrder is etcdserverpb.RangeRequest_SortOrder.
type SortOrder int32

// SortTarget is etcdserverpb.RangeRequest_SortTarget.
type SortTarget int32

// CompareResult is etcdserverpb.Compare_CompareResult.
type CompareResult int32

// CompareTarget is etcdserverpb.Compare_CompareTarget.
type CompareTarget int32

// AlarmAction is etcdserverpb.AlarmRequest_AlarmAction.
type AlarmAction int32

// AlarmType is etcdserverpb.AlarmType.
type AlarmType int32

// PermissionType is authpb.Permission_Type.
type PermissionType int32

const (
	SortNone    SortOrder = 0
	SortAscend  SortOrder = 1
	SortDescend SortOrder = 2

	SortByKey     SortTarget = 0
	SortByVersion SortTarget = 1
	SortByCreate  SortTarget = 2
	SortByMod     SortTarget = 3
	SortByValue   SortTarget = 4

	CompareEqual    CompareResult = 0
	CompareGreater  CompareResult = 1
	CompareLess     CompareResult = 2
	CompareNotEqual CompareResult = 3

	CompareVersion CompareTarget = 0
	CompareCreate  CompareTarget = 1
	CompareMod     CompareTarget = 2
	CompareValue   CompareTarget = 3
	CompareLease   CompareTarget = 4

	AlarmGet        AlarmAction = 0
	AlarmActivate   AlarmAction = 1
	AlarmDeactivate AlarmAction = 2

	AlarmNone    AlarmType = 0
	AlarmNoSpace AlarmType = 1
	AlarmCorrupt AlarmType = 2

	PermRead      PermissionType = 0
	PermWrite     PermissionType = 1
	PermReadWrite PermissionType = 2
)

var (
	sortOrderNames      = []string{"NONE", "ASCEND", "DESCEND"}
	sortTargetNames     = []string{"KEY", "VERSION", "CREATE", "MOD", "VALUE"}
	compareResultNames  = []string{"EQUAL", "GREATER", "LESS", "NOT_EQUAL"}
	compareTargetNames  = []string{"VERSION", "CREATE", "MOD", "VALUE", "LEASE"}
	alarmActionNames    = []string{"GET", "ACTIVATE", "DEACTIVATE"}
	alarmTypeNames      = []string{"NONE", "NOSPACE", "CORRUPT"}
	permissionTypeNames = []string{"READ", "WRITE", "READWRITE"}
)

// unmarshalEnum sets *v from a name (or "typ(N)") for the UnmarshalText
// methods of the enums.
func unmarshalEnum[T ~int32](v *T, names []string, typ string, text []byte) error {
	x, err := parseEnum[T](names, typ, text)
	*v = x
	return err
}

func (v SortOrder) String() string {
	return enumString(sortOrderNames, "sortorder", int32(v))
}

func (v SortTarget) String() string {
	return enumString(sortTargetNames, "sorttarget", int32(v))
}

func (v CompareResult) String() string {
	return enumString(compareResultNames, "compareresult", int32(v))
}

func (v CompareTarget) String() string {
	return enumString(compareTargetNames, "comparetarget", int32(v))
}

func (v AlarmAction) String() string {
	return enumString(alarmActionNames, "alarmaction", int32(v))
}

func (v AlarmType) String() string {
	return enumString(alarmTypeNames, "alarmtype", int32(v))
}

func (v PermissionType) String() string {
	return enumString(permissionTypeNames, "permissiontype", int32(v))
}

// MarshalText returns String, so JSON carries names.
func (v SortOrder) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// MarshalText returns String, so JSON carries names.
func (v SortTarget) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// MarshalText returns String, so JSON carries names.
func (v CompareResult) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// MarshalText returns String, so JSON carries names.
func (v CompareTarget) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// MarshalText returns String, so JSON carries names.
func (v AlarmAction) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// MarshalText returns String, so JSON carries names.
func (v AlarmType) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// MarshalText returns String, so JSON carries names.
func (v PermissionType) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText parses what MarshalText returns.
func (v *SortOrder) UnmarshalText(b []byte) error {
	return unmarshalEnum(v, sortOrderNames, "sortorder", b)
}

// UnmarshalText parses what MarshalText returns.
func (v *SortTarget) UnmarshalText(b []byte) error {
	return unmarshalEnum(v, sortTargetNames, "sorttarget", b)
}

// UnmarshalText parses what MarshalText returns.
func (v *CompareResult) UnmarshalText(b []byte) error {
	return unmarshalEnum(v, compareResultNames, "compareresult", b)
}

// UnmarshalText parses what MarshalText returns.
func (v *CompareTarget) UnmarshalText(b []byte) error {
	return unmarshalEnum(v, compareTargetNames, "comparetarget", b)
}

// UnmarshalText parses what MarshalText returns.
func (v *AlarmAction) UnmarshalText(b []byte) error {
	return unmarshalEnum(v, alarmActionNames, "alarmaction", b)
}

// UnmarshalText parses what MarshalText returns.
func (v *AlarmType) UnmarshalText(b []byte) error {
	return unmarshalEnum(v, alarmTypeNames, "alarmtype", b)
}

// UnmarshalText parses what MarshalText returns.
func (v *PermissionType) UnmarshalText(b []byte) error {
	return unmarshalEnum(v, permissionTypeNames, "permissiontype", b)
}

// Request kinds.
const (
	kindEmpty   = "empty"
	kindV2      = "v2"
	kindUnknown = "unknown"
)

// irrKinds maps InternalRaftRequest request fields to kinds, in the order
// in which etcd 3.6 looks for them when it applies an entry
// (server/etcdserver/server.go applyEntryNormal, applyInternalRaftRequest;
// apply/uber_applier.go dispatch). On-disk format; do not change
// (api/etcdserverpb/raft_internal.proto).
var irrKinds = [...]struct {
	num  int32
	kind string
}{
	{2, kindV2},
	{1300, "cluster-version-set"},
	{1301, "cluster-member-attr-set"},
	{1302, "downgrade-info-set"},
	{9900, "downgrade-version-test"},
	{3, "range"},
	{4, "put"},
	{5, "delete-range"},
	{6, "txn"},
	{7, "compaction"},
	{8, "lease-grant"},
	{9, "lease-revoke"},
	{11, "lease-checkpoint"},
	{10, "alarm"},
	{1012, "authenticate"},
	{1000, "auth-enable"},
	{1011, "auth-disable"},
	{1013, "auth-status"},
	{1100, "auth-user-add"},
	{1101, "auth-user-delete"},
	{1103, "auth-user-change-password"},
	{1104, "auth-user-grant-role"},
	{1102, "auth-user-get"},
	{1105, "auth-user-revoke-role"},
	{1200, "auth-role-add"},
	{1203, "auth-role-grant-permission"},
	{1202, "auth-role-get"},
	{1204, "auth-role-revoke-permission"},
	{1201, "auth-role-delete"},
	{1106, "auth-user-list"},
	{1107, "auth-role-list"},
}

// irrKindIndex returns the index in irrKinds of a request field number.
func irrKindIndex(num int32) (int, bool) {
	for i, k := range irrKinds {
		if k.num == num {
			return i, true
		}
	}
	return 0, false
}

// RequestKinds returns every value [Request.Kind] can take.
func RequestKinds() []string {
	ks := []string{kindEmpty}
	for _, k := range irrKinds {
		ks = append(ks, k.kind)
	}
	return append(ks, kindUnknown)
}

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
	var d reqDecoder
	r, irrErr := d.internalRaftRequest(data)
	if irrErr == nil {
		return r, nil
	}
	if errors.Is(irrErr, errTooDeep) {
		// gogo would have taken it as an InternalRaftRequest.
		return nil, fmt.Errorf("%w: as InternalRaftRequest: %w", ErrUndecodableRequest, irrErr)
	}
	d = reqDecoder{}
	v2 := &V2Request{}
	var unknown []int32
	v2Err := d.v2Request(data, v2, &unknown)
	if v2Err != nil {
		return nil, fmt.Errorf("%w: as InternalRaftRequest: %w; as v2 Request: %w",
			ErrUndecodableRequest, irrErr, v2Err)
	}
	return &Request{Kind: kindV2, ID: v2.ID, RawV2: true, UnknownFields: unknown, V2: v2}, nil
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
			switch {
			case op.Range != nil:
				ks = append(ks, op.Range.Key)
			case op.Put != nil:
				ks = append(ks, op.Put.Key)
			case op.DeleteRange != nil:
				ks = append(ks, op.DeleteRange.Key)
			case op.Txn != nil:
				ks = op.Txn.appendKeys(ks)
			}
		}
	}
	return ks
}

// ConfChangeType is raftpb.ConfChangeType. On-disk format; do not change
// (go.etcd.io/raft/v3 raftpb/raft.proto).
type ConfChangeType int32

const (
	ConfChangeAddNode        ConfChangeType = 0
	ConfChangeRemoveNode     ConfChangeType = 1
	ConfChangeUpdateNode     ConfChangeType = 2
	ConfChangeAddLearnerNode ConfChangeType = 3
)

var confChangeTypeNames = []string{"add-node", "remove-node", "update-node", "add-learner-node"}

func (t ConfChangeType) String() string {
	return enumString(confChangeTypeNames, "confchangetype", int32(t))
}

// MarshalText returns String, so JSON carries names.
func (t ConfChangeType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText parses what MarshalText returns.
func (t *ConfChangeType) UnmarshalText(b []byte) error {
	return unmarshalEnum(t, confChangeTypeNames, "confchangetype", b)
}

// ConfChangeTransition is raftpb.ConfChangeTransition.
type ConfChangeTransition int32

const (
	ConfChangeTransitionAuto          ConfChangeTransition = 0
	ConfChangeTransitionJointImplicit ConfChangeTransition = 1
	ConfChangeTransitionJointExplicit ConfChangeTransition = 2
)

var confChangeTransitionNames = []string{"auto", "joint-implicit", "joint-explicit"}

func (t ConfChangeTransition) String() string {
	return enumString(confChangeTransitionNames, "confchangetransition", int32(t))
}

// MarshalText returns String, so JSON carries names.
func (t ConfChangeTransition) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText parses what MarshalText returns.
func (t *ConfChangeTransition) UnmarshalText(b []byte) error {
	return unmarshalEnum(t, confChangeTransitionNames, "confchangetransition", b)
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

// DecodeConfChange decodes the Data of an EntryConfChange entry, and the
// member JSON in its context. An undecodable conf change wraps
// [ErrUndecodableRequest]. It never panics.
func DecodeConfChange(data []byte) (*ConfChange, error) {
	cc := &ConfChange{}
	err := pbWalk(data, "ConfChange", func(f pbwire.Field) error {
		switch f.Num {
		case 1:
			return f.Uint64(&cc.ID)
		case 2:
			return f.Int32((*int32)(&cc.Type))
		case 3:
			return f.Uint64(&cc.NodeID)
		case 4:
			return f.Bytes(&cc.Context)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: as ConfChange: %w", ErrUndecodableRequest, err)
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
	var d reqDecoder
	err := pbWalk(data, "ConfChangeV2", func(f pbwire.Field) error {
		switch f.Num {
		case 1:
			return f.Int32((*int32)(&cc.Transition))
		case 2:
			cc.Changes = append(cc.Changes, ConfChangeSingle{})
			c := &cc.Changes[len(cc.Changes)-1]
			return d.message(f, func(b []byte) error {
				return pbWalk(b, "ConfChangeSingle", func(f pbwire.Field) error {
					switch f.Num {
					case 1:
						return f.Int32((*int32)(&c.Type))
					case 2:
						return f.Uint64(&c.NodeID)
					}
					return nil
				})
			})
		case 3:
			return f.Bytes(&cc.Context)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: as ConfChangeV2: %w", ErrUndecodableRequest, err)
	}
	return cc, nil
}

// ---- wire level ----

// pbWalk walks a message with gogo's rules (see the top of this file).
func pbWalk(b []byte, msg string, f func(pbwire.Field) error) error {
	return pbwire.Walk(b, msg, pbwire.Gogo, f)
}

// reqDecoder tracks message nesting.
type reqDecoder struct {
	depth int
}

// message decodes a nested message field with fn.
func (d *reqDecoder) message(f pbwire.Field, fn func([]byte) error) error {
	if _, ok, err := f.Message(""); !ok {
		return err
	}
	if d.depth >= maxRequestDepth {
		return fmt.Errorf("%w: field %d: %w", errProto, f.Num, errTooDeep)
	}
	d.depth++
	err := fn(f.B)
	d.depth--
	return err
}

func (d *reqDecoder) internalRaftRequest(b []byte) (*Request, error) {
	r := &Request{}
	var id uint64
	var present uint64 // bit i: irrKinds[i] is set
	var auths [len(irrKinds)]*AuthRequest
	err := pbWalk(b, "InternalRaftRequest", func(f pbwire.Field) error {
		switch f.Num {
		case 1:
			return f.Uint64(&id)
		case 100:
			if r.Header == nil {
				r.Header = &RequestHeader{}
			}
			return d.message(f, func(b []byte) error { return decodeRequestHeader(b, r.Header) })
		}
		i, ok := irrKindIndex(int32(f.Num))
		if !ok {
			r.UnknownFields = append(r.UnknownFields, int32(f.Num))
			return nil
		}
		present |= 1 << i
		// A repeated message field merges into the first, as in gogo.
		switch f.Num {
		case 2:
			if r.V2 == nil {
				r.V2 = &V2Request{}
			}
			return d.message(f, func(b []byte) error { return d.v2Request(b, r.V2, nil) })
		case 3:
			if r.Range == nil {
				r.Range = &RangeRequest{}
			}
			return d.message(f, func(b []byte) error { return decodeRange(b, r.Range) })
		case 4:
			if r.Put == nil {
				r.Put = &PutRequest{}
			}
			return d.message(f, func(b []byte) error { return decodePut(b, r.Put) })
		case 5:
			if r.DeleteRange == nil {
				r.DeleteRange = &DeleteRangeRequest{}
			}
			return d.message(f, func(b []byte) error { return decodeDeleteRange(b, r.DeleteRange) })
		case 6:
			if r.Txn == nil {
				r.Txn = &TxnRequest{}
			}
			return d.message(f, func(b []byte) error { return d.txnRequest(b, r.Txn) })
		case 7:
			if r.Compaction == nil {
				r.Compaction = &CompactionRequest{}
			}
			c := r.Compaction
			return d.message(f, func(b []byte) error {
				return pbWalk(b, "CompactionRequest", func(f pbwire.Field) error {
					switch f.Num {
					case 1:
						return f.Int64(&c.Revision)
					case 2:
						return f.Bool(&c.Physical)
					}
					return nil
				})
			})
		case 8:
			if r.LeaseGrant == nil {
				r.LeaseGrant = &LeaseGrantRequest{}
			}
			l := r.LeaseGrant
			return d.message(f, func(b []byte) error {
				return pbWalk(b, "LeaseGrantRequest", func(f pbwire.Field) error {
					switch f.Num {
					case 1:
						return f.Int64(&l.TTL)
					case 2:
						return f.Int64(&l.ID)
					}
					return nil
				})
			})
		case 9:
			if r.LeaseRevoke == nil {
				r.LeaseRevoke = &LeaseRevokeRequest{}
			}
			l := r.LeaseRevoke
			return d.message(f, func(b []byte) error {
				return pbWalk(b, "LeaseRevokeRequest", func(f pbwire.Field) error {
					if f.Num == 1 {
						return f.Int64(&l.ID)
					}
					return nil
				})
			})
		case 10:
			if r.Alarm == nil {
				r.Alarm = &AlarmRequest{}
			}
			a := r.Alarm
			return d.message(f, func(b []byte) error {
				return pbWalk(b, "AlarmRequest", func(f pbwire.Field) error {
					switch f.Num {
					case 1:
						return f.Int32((*int32)(&a.Action))
					case 2:
						return f.Uint64(&a.MemberID)
					case 3:
						return f.Int32((*int32)(&a.Alarm))
					}
					return nil
				})
			})
		case 11:
			if r.LeaseCheckpoint == nil {
				r.LeaseCheckpoint = &LeaseCheckpointRequest{}
			}
			l := r.LeaseCheckpoint
			return d.message(f, func(b []byte) error {
				return pbWalk(b, "LeaseCheckpointRequest", func(f pbwire.Field) error {
					if f.Num != 1 {
						return nil
					}
					l.Checkpoints = append(l.Checkpoints, LeaseCheckpoint{})
					c := &l.Checkpoints[len(l.Checkpoints)-1]
					return d.message(f, func(b []byte) error {
						return pbWalk(b, "LeaseCheckpoint", func(f pbwire.Field) error {
							switch f.Num {
							case 1:
								return f.Int64(&c.ID)
							case 2:
								return f.Int64(&c.RemainingTTL)
							}
							return nil
						})
					})
				})
			})
		case 1300:
			if r.ClusterVersionSet == nil {
				r.ClusterVersionSet = &ClusterVersionSetRequest{}
			}
			c := r.ClusterVersionSet
			return d.message(f, func(b []byte) error {
				return pbWalk(b, "ClusterVersionSetRequest", func(f pbwire.Field) error {
					if f.Num == 1 {
						return f.Text(&c.Ver)
					}
					return nil
				})
			})
		case 1301:
			if r.ClusterMemberAttrSet == nil {
				r.ClusterMemberAttrSet = &ClusterMemberAttrSetRequest{}
			}
			return d.message(f, func(b []byte) error { return d.clusterMemberAttrSet(b, r.ClusterMemberAttrSet) })
		case 1302:
			if r.DowngradeInfoSet == nil {
				r.DowngradeInfoSet = &DowngradeInfoSetRequest{}
			}
			c := r.DowngradeInfoSet
			return d.message(f, func(b []byte) error {
				return pbWalk(b, "DowngradeInfoSetRequest", func(f pbwire.Field) error {
					switch f.Num {
					case 1:
						return f.Bool(&c.Enabled)
					case 2:
						return f.Text(&c.Ver)
					}
					return nil
				})
			})
		case 9900:
			if r.DowngradeVersionTest == nil {
				r.DowngradeVersionTest = &DowngradeVersionTestRequest{}
			}
			c := r.DowngradeVersionTest
			return d.message(f, func(b []byte) error {
				return pbWalk(b, "DowngradeVersionTestRequest", func(f pbwire.Field) error {
					if f.Num == 1 {
						return f.Text(&c.Ver)
					}
					return nil
				})
			})
		}
		// Every other request field is an auth request.
		if auths[i] == nil {
			auths[i] = &AuthRequest{}
		}
		return d.message(f, func(b []byte) error { return d.authRequest(b, int32(f.Num), auths[i]) })
	})
	if err != nil {
		return nil, err
	}
	r.Kind = kindUnknown
	for i, k := range irrKinds {
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

func decodeRequestHeader(b []byte, h *RequestHeader) error {
	return pbWalk(b, "RequestHeader", func(f pbwire.Field) error {
		switch f.Num {
		case 1:
			return f.Uint64(&h.ID)
		case 2:
			return f.Text(&h.Username)
		case 3:
			return f.Uint64(&h.AuthRevision)
		}
		return nil
	})
}

// v2Request decodes an etcdserverpb.Request. Unknown field numbers are
// appended to *unknown when unknown is not nil.
func (d *reqDecoder) v2Request(b []byte, r *V2Request, unknown *[]int32) error {
	return pbWalk(b, "Request", func(f pbwire.Field) error {
		switch f.Num {
		case 1:
			return f.Uint64(&r.ID)
		case 2:
			return f.Text(&r.Method)
		case 3:
			return f.Text(&r.Path)
		case 4:
			return f.Text(&r.Val)
		case 5:
			return f.Bool(&r.Dir)
		case 6:
			return f.Text(&r.PrevValue)
		case 7:
			return f.Uint64(&r.PrevIndex)
		case 8:
			return f.OptBool(&r.PrevExist)
		case 9:
			return f.Int64(&r.Expiration)
		case 10:
			return f.Bool(&r.Wait)
		case 11:
			return f.Uint64(&r.Since)
		case 12:
			return f.Bool(&r.Recursive)
		case 13:
			return f.Bool(&r.Sorted)
		case 14:
			return f.Bool(&r.Quorum)
		case 15:
			return f.Int64(&r.Time)
		case 16:
			return f.Bool(&r.Stream)
		case 17:
			return f.OptBool(&r.Refresh)
		}
		if unknown != nil {
			*unknown = append(*unknown, int32(f.Num))
		}
		return nil
	})
}

func decodeRange(b []byte, r *RangeRequest) error {
	return pbWalk(b, "RangeRequest", func(f pbwire.Field) error {
		switch f.Num {
		case 1:
			return f.Bytes(&r.Key)
		case 2:
			return f.Bytes(&r.RangeEnd)
		case 3:
			return f.Int64(&r.Limit)
		case 4:
			return f.Int64(&r.Revision)
		case 5:
			return f.Int32((*int32)(&r.SortOrder))
		case 6:
			return f.Int32((*int32)(&r.SortTarget))
		case 7:
			return f.Bool(&r.Serializable)
		case 8:
			return f.Bool(&r.KeysOnly)
		case 9:
			return f.Bool(&r.CountOnly)
		case 10:
			return f.Int64(&r.MinModRevision)
		case 11:
			return f.Int64(&r.MaxModRevision)
		case 12:
			return f.Int64(&r.MinCreateRevision)
		case 13:
			return f.Int64(&r.MaxCreateRevision)
		}
		return nil
	})
}

func decodePut(b []byte, p *PutRequest) error {
	return pbWalk(b, "PutRequest", func(f pbwire.Field) error {
		switch f.Num {
		case 1:
			return f.Bytes(&p.Key)
		case 2:
			return f.Bytes(&p.Value)
		case 3:
			return f.Int64(&p.Lease)
		case 4:
			return f.Bool(&p.PrevKV)
		case 5:
			return f.Bool(&p.IgnoreValue)
		case 6:
			return f.Bool(&p.IgnoreLease)
		}
		return nil
	})
}

func decodeDeleteRange(b []byte, r *DeleteRangeRequest) error {
	return pbWalk(b, "DeleteRangeRequest", func(f pbwire.Field) error {
		switch f.Num {
		case 1:
			return f.Bytes(&r.Key)
		case 2:
			return f.Bytes(&r.RangeEnd)
		case 3:
			return f.Bool(&r.PrevKV)
		}
		return nil
	})
}

func (d *reqDecoder) txnRequest(b []byte, t *TxnRequest) error {
	return pbWalk(b, "TxnRequest", func(f pbwire.Field) error {
		switch f.Num {
		case 1:
			t.Compare = append(t.Compare, Compare{})
			c := &t.Compare[len(t.Compare)-1]
			return d.message(f, func(b []byte) error { return decodeCompare(b, c) })
		case 2, 3:
			ops := &t.Success
			if f.Num == 3 {
				ops = &t.Failure
			}
			*ops = append(*ops, RequestOp{})
			op := &(*ops)[len(*ops)-1]
			return d.message(f, func(b []byte) error { return d.requestOp(b, op) })
		}
		return nil
	})
}

// requestOp decodes an etcdserverpb.RequestOp. Each oneof field replaces the
// previous one, as in gogo.
func (d *reqDecoder) requestOp(b []byte, op *RequestOp) error {
	return pbWalk(b, "RequestOp", func(f pbwire.Field) error {
		switch f.Num {
		case 1:
			v := &RangeRequest{}
			*op = RequestOp{Range: v}
			return d.message(f, func(b []byte) error { return decodeRange(b, v) })
		case 2:
			v := &PutRequest{}
			*op = RequestOp{Put: v}
			return d.message(f, func(b []byte) error { return decodePut(b, v) })
		case 3:
			v := &DeleteRangeRequest{}
			*op = RequestOp{DeleteRange: v}
			return d.message(f, func(b []byte) error { return decodeDeleteRange(b, v) })
		case 4:
			v := &TxnRequest{}
			*op = RequestOp{Txn: v}
			return d.message(f, func(b []byte) error { return d.txnRequest(b, v) })
		}
		return nil
	})
}

func decodeCompare(b []byte, c *Compare) error {
	// The oneof target_union: each field replaces the previous one.
	union := func(f pbwire.Field) error {
		c.Version, c.CreateRevision, c.ModRevision, c.Lease, c.Value = nil, nil, nil, nil, nil
		if f.Num == 7 {
			return f.Bytes(&c.Value) // non-nil even when empty
		}
		v := new(int64)
		switch f.Num {
		case 4:
			c.Version = v
		case 5:
			c.CreateRevision = v
		case 6:
			c.ModRevision = v
		case 8:
			c.Lease = v
		}
		return f.Int64(v)
	}
	return pbWalk(b, "Compare", func(f pbwire.Field) error {
		switch f.Num {
		case 1:
			return f.Int32((*int32)(&c.Result))
		case 2:
			return f.Int32((*int32)(&c.Target))
		case 3:
			return f.Bytes(&c.Key)
		case 4, 5, 6, 7, 8:
			return union(f)
		case 64:
			return f.Bytes(&c.RangeEnd)
		}
		return nil
	})
}

func (d *reqDecoder) clusterMemberAttrSet(b []byte, c *ClusterMemberAttrSetRequest) error {
	return pbWalk(b, "ClusterMemberAttrSetRequest", func(f pbwire.Field) error {
		switch f.Num {
		case 1:
			return f.Uint64(&c.MemberID)
		case 2:
			return d.message(f, func(b []byte) error {
				return pbWalk(b, "Attributes", func(f pbwire.Field) error {
					switch f.Num {
					case 1:
						return f.Text(&c.Name)
					case 2:
						var s string
						if err := f.Text(&s); err != nil {
							return err
						}
						c.ClientURLs = append(c.ClientURLs, s)
					}
					return nil
				})
			})
		}
		return nil
	})
}

// authRequest decodes the auth request in InternalRaftRequest field num.
func (d *reqDecoder) authRequest(b []byte, num int32, a *AuthRequest) error {
	return pbWalk(b, "auth request", func(f pbwire.Field) error {
		switch num {
		case 1012: // InternalAuthenticateRequest
			switch f.Num {
			case 1:
				return f.Text(&a.Name)
			case 2:
				return f.Present(&a.Password)
			case 3:
				return f.Present(&a.SimpleToken)
			}
		case 1100: // AuthUserAddRequest
			switch f.Num {
			case 1:
				return f.Text(&a.Name)
			case 2:
				return f.Present(&a.Password)
			case 3:
				return d.message(f, func(b []byte) error {
					return pbWalk(b, "UserAddOptions", func(f pbwire.Field) error {
						if f.Num == 1 {
							return f.Bool(&a.NoPassword)
						}
						return nil
					})
				})
			case 4:
				return f.Present(&a.HashedPassword)
			}
		case 1101, 1102: // AuthUserDeleteRequest, AuthUserGetRequest
			if f.Num == 1 {
				return f.Text(&a.Name)
			}
		case 1103: // AuthUserChangePasswordRequest
			switch f.Num {
			case 1:
				return f.Text(&a.Name)
			case 2:
				return f.Present(&a.Password)
			case 3:
				return f.Present(&a.HashedPassword)
			}
		case 1104, 1105: // AuthUserGrantRoleRequest (user=1), AuthUserRevokeRoleRequest (name=1)
			switch f.Num {
			case 1:
				return f.Text(&a.Name)
			case 2:
				return f.Text(&a.Role)
			}
		case 1200, 1201, 1202: // AuthRoleAddRequest (name=1), AuthRoleDeleteRequest, AuthRoleGetRequest (role=1)
			if f.Num == 1 {
				return f.Text(&a.Role)
			}
		case 1203: // AuthRoleGrantPermissionRequest
			switch f.Num {
			case 1:
				return f.Text(&a.Role)
			case 2:
				if a.Perm == nil {
					a.Perm = &Permission{}
				}
				p := a.Perm
				return d.message(f, func(b []byte) error {
					return pbWalk(b, "Permission", func(f pbwire.Field) error {
						switch f.Num {
						case 1:
							return f.Int32((*int32)(&p.Type))
						case 2:
							return f.Bytes(&p.Key)
						case 3:
							return f.Bytes(&p.RangeEnd)
						}
						return nil
					})
				})
			}
		case 1204: // AuthRoleRevokePermissionRequest
			switch f.Num {
			case 1:
				return f.Text(&a.Role)
			case 2:
				return f.Bytes(&a.Key)
			case 3:
				return f.Bytes(&a.RangeEnd)
			}
		}
		// AuthEnable, AuthDisable, AuthStatus, AuthUserList, AuthRoleList
		// are empty messages: every field is unknown.
		return nil
	})
}

// ---- description ----

// DescribeRequest returns a one-line description of r, stable for tests
// and grep: the kind followed by its fields, for example
//
//	put key="foo" value=5B lease=0x1234
//	txn compare=[mod("a")>3] success=[put key="a" value=3B] failure=[range key="a"]
//
// Keys and values that are printable ASCII are quoted, others are written
// as 0x<hex>. Values are given by size unless values is true. Secrets are
// never printed, only whether they are set.
func DescribeRequest(r *Request, values bool) string {
	if r == nil {
		return "<nil>"
	}
	w := &describer{values: values}
	w.WriteString(r.Kind)
	switch {
	case r.Kind == kindV2 && r.V2 != nil:
		w.v2(r.V2)
	case r.Kind == "range" && r.Range != nil:
		w.rangeRequest(r.Range)
	case r.Kind == "put" && r.Put != nil:
		w.put(r.Put)
	case r.Kind == "delete-range" && r.DeleteRange != nil:
		w.deleteRange(r.DeleteRange)
	case r.Kind == "txn" && r.Txn != nil:
		w.txn(r.Txn)
	case r.Kind == "compaction" && r.Compaction != nil:
		fmt.Fprintf(w, " revision=%d", r.Compaction.Revision)
		w.flag(r.Compaction.Physical, "physical")
	case r.Kind == "lease-grant" && r.LeaseGrant != nil:
		fmt.Fprintf(w, " id=%#x ttl=%d", r.LeaseGrant.ID, r.LeaseGrant.TTL)
	case r.Kind == "lease-revoke" && r.LeaseRevoke != nil:
		fmt.Fprintf(w, " id=%#x", r.LeaseRevoke.ID)
	case r.Kind == "lease-checkpoint" && r.LeaseCheckpoint != nil:
		w.WriteString(" checkpoints=[")
		for i, c := range r.LeaseCheckpoint.Checkpoints {
			if i > 0 {
				w.WriteString(", ")
			}
			fmt.Fprintf(w, "id=%#x remaining_ttl=%d", c.ID, c.RemainingTTL)
		}
		w.WriteString("]")
	case r.Kind == "alarm" && r.Alarm != nil:
		fmt.Fprintf(w, " action=%s member=%x alarm=%s", r.Alarm.Action, r.Alarm.MemberID, r.Alarm.Alarm)
	case r.Kind == "cluster-version-set" && r.ClusterVersionSet != nil:
		w.str("ver", r.ClusterVersionSet.Ver)
	case r.Kind == "cluster-member-attr-set" && r.ClusterMemberAttrSet != nil:
		c := r.ClusterMemberAttrSet
		fmt.Fprintf(w, " member=%x", c.MemberID)
		w.str("name", c.Name)
		w.strs("client_urls", c.ClientURLs)
	case r.Kind == "downgrade-info-set" && r.DowngradeInfoSet != nil:
		fmt.Fprintf(w, " enabled=%t", r.DowngradeInfoSet.Enabled)
		w.str("ver", r.DowngradeInfoSet.Ver)
	case r.Kind == "downgrade-version-test" && r.DowngradeVersionTest != nil:
		w.str("ver", r.DowngradeVersionTest.Ver)
	case strings.HasPrefix(r.Kind, "auth") && r.Auth != nil:
		w.auth(r.Auth)
	}
	if len(r.Ignored) > 0 {
		w.WriteString(" ignored=[" + strings.Join(r.Ignored, ",") + "]")
	}
	if r.Kind == kindUnknown && len(r.UnknownFields) > 0 {
		w.WriteString(" fields=[")
		for i, n := range r.UnknownFields {
			if i > 0 {
				w.WriteString(",")
			}
			w.WriteString(strconv.Itoa(int(n)))
		}
		w.WriteString("]")
	}
	return w.String()
}

// DescribeConfChange returns a one-line description of cc, for example
//
//	add-node node=8e9e05c52164694d name="n1" peer_urls=["http://127.0.0.1:2380"]
//
// Node and member ids are in hex, as etcd prints them. member_id appears
// only when the context's member id differs from node_id (etcd rejects such
// a change).
func DescribeConfChange(cc *ConfChange) string {
	if cc == nil {
		return "<nil>"
	}
	w := &describer{}
	fmt.Fprintf(w, "%s node=%x", cc.Type, cc.NodeID)
	if m := cc.Member; m != nil {
		if m.ID != cc.NodeID {
			fmt.Fprintf(w, " member_id=%x", m.ID)
		}
		if m.Name != "" {
			w.str("name", m.Name)
		}
		if m.PeerURLs != nil {
			w.strs("peer_urls", m.PeerURLs)
		}
		if m.ClientURLs != nil {
			w.strs("client_urls", m.ClientURLs)
		}
		w.flag(m.IsLearner, "learner")
		w.flag(m.IsPromote, "promote")
	}
	if cc.ContextError != "" {
		fmt.Fprintf(w, " context=%dB context_error=%s", len(cc.Context), strconv.Quote(cc.ContextError))
	}
	return w.String()
}

// DescribeConfChangeV2 returns a one-line description of cc, for example
//
//	transition=auto changes=[add-node 1, remove-node 2] context=0B
func DescribeConfChangeV2(cc *ConfChangeV2) string {
	if cc == nil {
		return "<nil>"
	}
	w := &describer{}
	fmt.Fprintf(w, "transition=%s changes=[", cc.Transition)
	for i, c := range cc.Changes {
		if i > 0 {
			w.WriteString(", ")
		}
		fmt.Fprintf(w, "%s %x", c.Type, c.NodeID)
	}
	fmt.Fprintf(w, "] context=%dB", len(cc.Context))
	return w.String()
}

type describer struct {
	strings.Builder
	values bool
}

// quoteBytes quotes printable ASCII and writes anything else as 0x<hex>.
func quoteBytes(b []byte) string {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return "0x" + hex.EncodeToString(b)
		}
	}
	return strconv.Quote(string(b))
}

func (w *describer) key(name string, b []byte) {
	w.WriteString(" " + name + "=" + quoteBytes(b))
}

func (w *describer) optKey(name string, b []byte) {
	if len(b) > 0 {
		w.key(name, b)
	}
}

// value writes b, or its size unless w.values.
func (w *describer) value(name string, b []byte) {
	if w.values {
		w.key(name, b)
		return
	}
	fmt.Fprintf(w, " %s=%dB", name, len(b))
}

func (w *describer) str(name, s string) {
	w.WriteString(" " + name + "=" + strconv.Quote(s))
}

func (w *describer) strs(name string, ss []string) {
	w.WriteString(" " + name + "=[")
	for i, s := range ss {
		if i > 0 {
			w.WriteString(",")
		}
		w.WriteString(strconv.Quote(s))
	}
	w.WriteString("]")
}

func (w *describer) flag(on bool, name string) {
	if on {
		w.WriteString(" " + name)
	}
}

func (w *describer) num(name string, v int64) {
	if v != 0 {
		fmt.Fprintf(w, " %s=%d", name, v)
	}
}

func (w *describer) v2(r *V2Request) {
	m := r.Method
	for _, c := range []byte(m) {
		if c < 'A' || c > 'Z' {
			m = strconv.Quote(m)
			break
		}
	}
	if m == "" {
		m = `""`
	}
	w.WriteString(" " + m)
	w.key("path", []byte(r.Path))
	if r.Val != "" {
		w.value("val", []byte(r.Val))
	}
	w.flag(r.Dir, "dir")
	if r.PrevValue != "" {
		w.value("prev_value", []byte(r.PrevValue))
	}
	if r.PrevIndex != 0 {
		fmt.Fprintf(w, " prev_index=%d", r.PrevIndex)
	}
	if r.PrevExist != nil {
		fmt.Fprintf(w, " prev_exist=%t", *r.PrevExist)
	}
	w.num("expiration", r.Expiration)
	w.flag(r.Wait, "wait")
	if r.Since != 0 {
		fmt.Fprintf(w, " since=%d", r.Since)
	}
	w.flag(r.Recursive, "recursive")
	w.flag(r.Sorted, "sorted")
	w.flag(r.Quorum, "quorum")
	w.num("time", r.Time)
	w.flag(r.Stream, "stream")
	if r.Refresh != nil {
		fmt.Fprintf(w, " refresh=%t", *r.Refresh)
	}
}

func (w *describer) rangeRequest(r *RangeRequest) {
	w.key("key", r.Key)
	w.optKey("range_end", r.RangeEnd)
	w.num("limit", r.Limit)
	w.num("revision", r.Revision)
	if r.SortOrder != SortNone {
		fmt.Fprintf(w, " sort_order=%s", r.SortOrder)
	}
	if r.SortTarget != SortByKey {
		fmt.Fprintf(w, " sort_target=%s", r.SortTarget)
	}
	w.flag(r.Serializable, "serializable")
	w.flag(r.KeysOnly, "keys_only")
	w.flag(r.CountOnly, "count_only")
	w.num("min_mod_revision", r.MinModRevision)
	w.num("max_mod_revision", r.MaxModRevision)
	w.num("min_create_revision", r.MinCreateRevision)
	w.num("max_create_revision", r.MaxCreateRevision)
}

func (w *describer) put(p *PutRequest) {
	w.key("key", p.Key)
	w.value("value", p.Value)
	if p.Lease != 0 {
		fmt.Fprintf(w, " lease=%#x", p.Lease)
	}
	w.flag(p.PrevKV, "prev_kv")
	w.flag(p.IgnoreValue, "ignore_value")
	w.flag(p.IgnoreLease, "ignore_lease")
}

func (w *describer) deleteRange(r *DeleteRangeRequest) {
	w.key("key", r.Key)
	w.optKey("range_end", r.RangeEnd)
	w.flag(r.PrevKV, "prev_kv")
}

var compareOps = []string{"=", ">", "<", "!="}

func (w *describer) txn(t *TxnRequest) {
	w.WriteString(" compare=[")
	for i := range t.Compare {
		if i > 0 {
			w.WriteString(", ")
		}
		w.compare(&t.Compare[i])
	}
	w.WriteString("]")
	w.ops("success", t.Success)
	w.ops("failure", t.Failure)
}

// compare writes target(key)op operand, with the operand etcd would use
// (server/storage/mvcc txn compare: the union field that Target names).
func (w *describer) compare(c *Compare) {
	w.WriteString(strings.ToLower(c.Target.String()) + "(" + quoteBytes(c.Key))
	if len(c.RangeEnd) > 0 {
		w.WriteString(".." + quoteBytes(c.RangeEnd))
	}
	w.WriteString(")")
	if c.Result >= 0 && int(c.Result) < len(compareOps) {
		w.WriteString(compareOps[c.Result])
	} else {
		w.WriteString(" " + c.Result.String() + " ")
	}
	var n *int64
	switch c.Target {
	case CompareValue:
		if w.values {
			w.WriteString(quoteBytes(c.Value))
		} else {
			fmt.Fprintf(w, "%dB", len(c.Value))
		}
		return
	case CompareVersion:
		n = c.Version
	case CompareCreate:
		n = c.CreateRevision
	case CompareMod:
		n = c.ModRevision
	case CompareLease:
		n = c.Lease
	}
	var v int64
	if n != nil {
		v = *n
	}
	w.WriteString(strconv.FormatInt(v, 10))
}

func (w *describer) ops(name string, ops []RequestOp) {
	w.WriteString(" " + name + "=[")
	for i, op := range ops {
		if i > 0 {
			w.WriteString(", ")
		}
		switch {
		case op.Range != nil:
			w.WriteString("range")
			w.rangeRequest(op.Range)
		case op.Put != nil:
			w.WriteString("put")
			w.put(op.Put)
		case op.DeleteRange != nil:
			w.WriteString("delete-range")
			w.deleteRange(op.DeleteRange)
		case op.Txn != nil:
			w.WriteString("txn")
			w.txn(op.Txn)
		default:
			w.WriteString("empty")
		}
	}
	w.WriteString("]")
}

func (w *describer) auth(a *AuthRequest) {
	if a.Name != "" {
		w.str("name", a.Name)
	}
	if a.Role != "" {
		w.str("role", a.Role)
	}
	if a.Password {
		w.WriteString(" password=set")
	}
	if a.HashedPassword {
		w.WriteString(" hashed_password=set")
	}
	w.flag(a.NoPassword, "no_password")
	if p := a.Perm; p != nil {
		fmt.Fprintf(w, " perm=%s", p.Type)
		w.key("key", p.Key)
		w.optKey("range_end", p.RangeEnd)
	}
	if a.Key != nil {
		w.key("key", a.Key)
	}
	w.optKey("range_end", a.RangeEnd)
	if a.SimpleToken {
		w.WriteString(" simple_token=set")
	}
}
