package walfmt

import (
	"fmt"
	"strconv"
	"strings"
)

// enum names the values of one enum type: names[v] is value v's name ("" for
// none), typ the type's name in "<typ>(<v>)" for a value without a name.
type enum struct {
	typ   string
	names []string
}

// integer is the underlying type of the enums of this package.
type integer interface {
	~int32 | ~int64 | ~uint8
}

// name names v, or "<typ>(<v>)" for a value without a name.
func name[T integer](e enum, v T) string {
	if v >= 0 && int64(v) < int64(len(e.names)) && e.names[v] != "" {
		return e.names[v]
	}
	return e.typ + "(" + strconv.FormatInt(int64(v), 10) + ")"
}

// lookup returns the value named s.
func lookup[T integer](e enum, s string) (T, bool) {
	for i, n := range e.names {
		if n == s && n != "" {
			return T(i), true
		}
	}
	return 0, false
}

// parse sets *v from what name returns: a name, or "<typ>(<v>)". It is the
// UnmarshalText of the enums.
func parse[T integer](e enum, v *T, text []byte) error {
	s := string(text)
	if x, ok := lookup[T](e, s); ok {
		*v = x
		return nil
	}
	if rest, ok := strings.CutPrefix(s, e.typ+"("); ok {
		if num, ok := strings.CutSuffix(rest, ")"); ok {
			if x, err := strconv.ParseInt(num, 10, 32); err == nil {
				*v = T(x)
				return nil
			}
		}
	}
	*v = 0
	return fmt.Errorf("walfmt: unknown %s %q", e.typ, s)
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

// ConfChangeType is raftpb.ConfChangeType. On-disk format; do not change
// (go.etcd.io/raft/v3 raftpb/raft.proto).
type ConfChangeType int32

const (
	ConfChangeAddNode        ConfChangeType = 0
	ConfChangeRemoveNode     ConfChangeType = 1
	ConfChangeUpdateNode     ConfChangeType = 2
	ConfChangeAddLearnerNode ConfChangeType = 3
)

// ConfChangeTransition is raftpb.ConfChangeTransition.
type ConfChangeTransition int32

const (
	ConfChangeTransitionAuto          ConfChangeTransition = 0
	ConfChangeTransitionJointImplicit ConfChangeTransition = 1
	ConfChangeTransitionJointExplicit ConfChangeTransition = 2
)

var (
	sortOrderEnum            = enum{"sortorder", []string{"NONE", "ASCEND", "DESCEND"}}
	sortTargetEnum           = enum{"sorttarget", []string{"KEY", "VERSION", "CREATE", "MOD", "VALUE"}}
	compareResultEnum        = enum{"compareresult", []string{"EQUAL", "GREATER", "LESS", "NOT_EQUAL"}}
	compareTargetEnum        = enum{"comparetarget", []string{"VERSION", "CREATE", "MOD", "VALUE", "LEASE"}}
	alarmActionEnum          = enum{"alarmaction", []string{"GET", "ACTIVATE", "DEACTIVATE"}}
	alarmTypeEnum            = enum{"alarmtype", []string{"NONE", "NOSPACE", "CORRUPT"}}
	permissionTypeEnum       = enum{"permissiontype", []string{"READ", "WRITE", "READWRITE"}}
	confChangeTypeEnum       = enum{"confchangetype", []string{"add-node", "remove-node", "update-node", "add-learner-node"}}
	confChangeTransitionEnum = enum{"confchangetransition", []string{"auto", "joint-implicit", "joint-explicit"}}
)

// The enums of the request layer are named by String, in JSON too
// (MarshalText), and UnmarshalText parses what MarshalText returns.

func (v SortOrder) String() string            { return name(sortOrderEnum, v) }
func (v SortTarget) String() string           { return name(sortTargetEnum, v) }
func (v CompareResult) String() string        { return name(compareResultEnum, v) }
func (v CompareTarget) String() string        { return name(compareTargetEnum, v) }
func (v AlarmAction) String() string          { return name(alarmActionEnum, v) }
func (v AlarmType) String() string            { return name(alarmTypeEnum, v) }
func (v PermissionType) String() string       { return name(permissionTypeEnum, v) }
func (v ConfChangeType) String() string       { return name(confChangeTypeEnum, v) }
func (v ConfChangeTransition) String() string { return name(confChangeTransitionEnum, v) }

func (v SortOrder) MarshalText() ([]byte, error)            { return []byte(v.String()), nil }
func (v SortTarget) MarshalText() ([]byte, error)           { return []byte(v.String()), nil }
func (v CompareResult) MarshalText() ([]byte, error)        { return []byte(v.String()), nil }
func (v CompareTarget) MarshalText() ([]byte, error)        { return []byte(v.String()), nil }
func (v AlarmAction) MarshalText() ([]byte, error)          { return []byte(v.String()), nil }
func (v AlarmType) MarshalText() ([]byte, error)            { return []byte(v.String()), nil }
func (v PermissionType) MarshalText() ([]byte, error)       { return []byte(v.String()), nil }
func (v ConfChangeType) MarshalText() ([]byte, error)       { return []byte(v.String()), nil }
func (v ConfChangeTransition) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

func (v *SortOrder) UnmarshalText(b []byte) error      { return parse(sortOrderEnum, v, b) }
func (v *SortTarget) UnmarshalText(b []byte) error     { return parse(sortTargetEnum, v, b) }
func (v *CompareResult) UnmarshalText(b []byte) error  { return parse(compareResultEnum, v, b) }
func (v *CompareTarget) UnmarshalText(b []byte) error  { return parse(compareTargetEnum, v, b) }
func (v *AlarmAction) UnmarshalText(b []byte) error    { return parse(alarmActionEnum, v, b) }
func (v *AlarmType) UnmarshalText(b []byte) error      { return parse(alarmTypeEnum, v, b) }
func (v *PermissionType) UnmarshalText(b []byte) error { return parse(permissionTypeEnum, v, b) }
func (v *ConfChangeType) UnmarshalText(b []byte) error { return parse(confChangeTypeEnum, v, b) }
func (v *ConfChangeTransition) UnmarshalText(b []byte) error {
	return parse(confChangeTransitionEnum, v, b)
}
