package replay

import (
	"testing"

	"github.com/etcdscope/etcdscope/walfmt"
)

func TestBefore36(t *testing.T) {
	for v, want := range map[string]bool{
		"3.5.0": true, "3.4.0": true, "2.3.8": true, "3.6.0": false, "3.7.0": false, "4.0.0": false,
		"": false, "3": false, "x.y": false,
	} {
		if got := before36(v); got != want {
			t.Errorf("before36(%q) = %v, want %v", v, got, want)
		}
	}
}

// TestAlarmChain35: with two alarms of a type, etcd 3.5 changes its
// appliers only on the first activation and the last deactivation.
func TestAlarmChain35(t *testing.T) {
	a := newAlarmState()
	req := func(act walfmt.AlarmAction, member uint64, typ walfmt.AlarmType) *walfmt.AlarmRequest {
		return &walfmt.AlarmRequest{Action: act, MemberID: member, Alarm: typ}
	}
	put := &walfmt.Request{Put: &walfmt.PutRequest{Key: []byte("k")}}
	a.apply(req(walfmt.AlarmActivate, 1, walfmt.AlarmNoSpace), true)
	a.apply(req(walfmt.AlarmActivate, 2, walfmt.AlarmNoSpace), true)
	if a.refuse(put) != errNoSpace || !a.noAuth {
		t.Fatalf("after two NOSPACE alarms: %+v", a)
	}
	if a.apply(req(walfmt.AlarmDeactivate, 3, walfmt.AlarmNoSpace), true) {
		t.Fatal("clearing an alarm that is not active changed the bucket")
	}
	a.apply(req(walfmt.AlarmDeactivate, 1, walfmt.AlarmNoSpace), true)
	if a.refuse(put) != errNoSpace {
		t.Fatal("one NOSPACE alarm left, but puts pass")
	}
	a.apply(req(walfmt.AlarmDeactivate, 2, walfmt.AlarmNoSpace), true)
	if a.refuse(put) != nil || a.noAuth {
		t.Fatalf("no alarm left: %+v", a)
	}
	if a.apply(req(walfmt.AlarmActivate, 1, walfmt.AlarmNone), true) || len(a.active) != 0 {
		t.Fatal("activating NONE recorded an alarm")
	}
}
