package walfmt

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/etcdscope/etcdscope/internal/textfmt"
)

// DescribeOptions configure [DescribeRequest].
type DescribeOptions struct {
	// Values writes values (of puts, txn value compares, v2 requests) in
	// full, as keys are, instead of by size.
	Values bool
}

// DescribeRequest returns a one-line description of r, stable for tests
// and grep: the kind followed by its fields, for example
//
//	put key="foo" value=5B lease=0x1234
//	txn compare=[mod("a")>3] success=[put key="a" value=3B] failure=[range key="a"]
//
// Keys, values and names are quoted Go string literals ([textfmt.Quote]):
// printable UTF-8 as it is, every other byte escaped. Values are given by
// size unless opts.Values. Secrets are never printed, only whether they
// are set.
func DescribeRequest(r *Request, opts DescribeOptions) string {
	if r == nil {
		return "<nil>"
	}
	w := &describer{values: opts.Values}
	w.WriteString(r.Kind)
	w.body(r)
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

// body writes the fields of the request r's Kind names.
func (w *describer) body(r *Request) {
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
		fmt.Fprintf(w, " context=%dB context_error=%s", len(cc.Context), textfmt.Quote([]byte(cc.ContextError)))
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

func (w *describer) key(name string, b []byte) {
	w.WriteString(" " + name + "=" + textfmt.Quote(b))
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
	w.WriteString(" " + name + "=" + textfmt.Quote([]byte(s)))
}

func (w *describer) strs(name string, ss []string) {
	w.WriteString(" " + name + "=[")
	for i, s := range ss {
		if i > 0 {
			w.WriteString(",")
		}
		w.WriteString(textfmt.Quote([]byte(s)))
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
			m = textfmt.Quote([]byte(m))
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
	w.WriteString(strings.ToLower(c.Target.String()) + "(" + textfmt.Quote(c.Key))
	if len(c.RangeEnd) > 0 {
		w.WriteString(".." + textfmt.Quote(c.RangeEnd))
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
			w.WriteString(textfmt.Quote(c.Value))
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
		r := op.request()
		w.WriteString(r.Kind)
		w.body(&r)
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
