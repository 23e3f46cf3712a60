package replay

import (
	"strconv"
	"strings"

	"github.com/etcdscope/etcdscope/walfmt"
)

type alarmKey struct {
	member uint64
	typ    walfmt.AlarmType
}

// alarmState is etcd's alarm store and the applier chain it selects.
//
// etcd 3.6 and later rebuild the chain from the active alarms after every
// activation or deactivation: the CORRUPT applier, then the NOSPACE
// ("capped") applier, in front of the auth applier. etcd 3.5 does that
// only when it starts; while running, the first alarm of a type replaces
// the chain with that alarm's applier over the bare backend (no auth
// checks, and a CORRUPT alarm drops a NOSPACE one), and the last alarm of
// a type going away restores the plain chain.
type alarmState struct {
	active  map[alarmKey]bool
	capped  bool // NOSPACE: puts, txns with a put and lease grants fail
	corrupt bool // CORRUPT: every kv and lease request fails
	noAuth  bool // etcd 3.5 at run time: the wrapper sits on the bare backend
}

func newAlarmState() *alarmState { return &alarmState{active: map[alarmKey]bool{}} }

// count is how many members have an alarm of type t active.
func (a *alarmState) count(t walfmt.AlarmType) int {
	n := 0
	for k := range a.active {
		if k.typ == t {
			n++
		}
	}
	return n
}

// restore selects the chain as etcd does when it starts.
func (a *alarmState) restore() {
	a.capped = a.count(walfmt.AlarmNoSpace) > 0
	a.corrupt = a.count(walfmt.AlarmCorrupt) > 0
	a.noAuth = false
}

// apply records an alarm request and reselects the chain as the etcd
// version that applied it did. It reports whether the alarm bucket
// changes.
func (a *alarmState) apply(r *walfmt.AlarmRequest, v35 bool) bool {
	k := alarmKey{r.MemberID, r.Alarm}
	before := a.count(r.Alarm)
	changed := false
	switch r.Action {
	case walfmt.AlarmActivate:
		if r.Alarm == walfmt.AlarmNone {
			return false
		}
		changed = !a.active[k]
		a.active[k] = true
	case walfmt.AlarmDeactivate:
		if !a.active[k] {
			return false
		}
		delete(a.active, k)
		changed = true
	default:
		return false
	}
	if !v35 {
		a.restore()
		return changed
	}
	after := a.count(r.Alarm)
	switch {
	case r.Action == walfmt.AlarmActivate && before == 0 && after == 1:
		a.capped, a.corrupt, a.noAuth = r.Alarm == walfmt.AlarmNoSpace, r.Alarm == walfmt.AlarmCorrupt, true
	case r.Action == walfmt.AlarmDeactivate && before > 0 && after == 0 &&
		(r.Alarm == walfmt.AlarmNoSpace || r.Alarm == walfmt.AlarmCorrupt):
		a.capped, a.corrupt, a.noAuth = false, false, false
	}
	return changed
}

// refuse is the error the alarm appliers give r, or nil when they pass it
// on.
func (a *alarmState) refuse(r *walfmt.Request) error {
	if a.corrupt {
		switch {
		case r.Put != nil, r.Range != nil, r.DeleteRange != nil, r.Txn != nil, r.Compaction != nil,
			r.LeaseGrant != nil, r.LeaseRevoke != nil:
			return errCorrupt
		}
	}
	if a.capped {
		switch {
		case r.Put != nil, r.LeaseGrant != nil:
			return errNoSpace
		case r.Txn != nil && (txnHasPut(r.Txn.Success) || txnHasPut(r.Txn.Failure)):
			return errNoSpace
		}
	}
	return nil
}

// txnHasPut reports whether ops, or a txn nested in them, hold a put: what
// makes etcd's quota cost of a txn more than zero.
func txnHasPut(ops []walfmt.RequestOp) bool {
	for _, op := range ops {
		if op.Put != nil {
			return true
		}
		if op.Txn != nil && (txnHasPut(op.Txn.Success) || txnHasPut(op.Txn.Failure)) {
			return true
		}
	}
	return false
}

// before36 reports whether cluster version v ("3.5.0") is older than 3.6;
// an unknown version counts as 3.6.
func before36(v string) bool {
	major, rest, ok := strings.Cut(v, ".")
	if !ok {
		return false
	}
	minor, _, _ := strings.Cut(rest, ".")
	ma, err1 := strconv.Atoi(major)
	mi, err2 := strconv.Atoi(minor)
	if err1 != nil || err2 != nil {
		return false
	}
	return ma < 3 || ma == 3 && mi < 6
}
