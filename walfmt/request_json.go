package walfmt

import (
	"github.com/etcdscope/etcdscope/internal/jsonw"
)

// JSON. A request's JSON is written here, once: [Request.AppendJSON] is
// what wal dump writes, and MarshalJSON calls it, so that encoding/json
// gives the same document. The kinds wal dump meets most (put, delete
// range, txn) and those that carry member or lease ids, which JSON gives
// as 16 hex digits as etcd's logs print them, are written field by field;
// the others through their json tags.

// JSONOptions say how [Request.AppendJSON] writes a request.
type JSONOptions struct {
	// ValueSizes writes a put's value as its size (value_size) instead of
	// its bytes (value).
	ValueSizes bool
}

// AppendJSON appends r as a JSON object.
func (r *Request) AppendJSON(b []byte, opts JSONOptions) []byte {
	o := jsonw.Begin(b)
	o.Str("kind", r.Kind)
	o.OptU64("id", r.ID)
	if h := r.Header; h != nil {
		o.Key("header")
		ho := jsonw.Begin(o.B)
		ho.OptU64("id", h.ID)
		ho.OptStr("username", h.Username)
		ho.OptU64("auth_revision", h.AuthRevision)
		o.B = ho.End()
	}
	o.OptBool("raw_v2", r.RawV2)
	if len(r.Ignored) > 0 {
		o.Value("ignored", r.Ignored)
	}
	if len(r.UnknownFields) > 0 {
		o.Value("unknown_fields", r.UnknownFields)
	}
	if r.Put != nil {
		o.Key("put")
		o.B = r.Put.appendJSON(o.B, opts)
	}
	if r.DeleteRange != nil {
		o.Key("delete_range")
		o.B = r.DeleteRange.appendJSON(o.B)
	}
	if r.Txn != nil {
		o.Key("txn")
		o.B = r.Txn.appendJSON(o.B, opts)
	}
	for _, f := range []struct {
		name string
		body any
		set  bool
	}{
		{"v2", r.V2, r.V2 != nil}, {"range", r.Range, r.Range != nil}, {"compaction", r.Compaction, r.Compaction != nil},
		{"lease_grant", r.LeaseGrant, r.LeaseGrant != nil}, {"lease_revoke", r.LeaseRevoke, r.LeaseRevoke != nil},
		{"lease_checkpoint", r.LeaseCheckpoint, r.LeaseCheckpoint != nil}, {"alarm", r.Alarm, r.Alarm != nil},
		{"auth", r.Auth, r.Auth != nil}, {"cluster_version_set", r.ClusterVersionSet, r.ClusterVersionSet != nil},
		{"cluster_member_attr_set", r.ClusterMemberAttrSet, r.ClusterMemberAttrSet != nil},
		{"downgrade_info_set", r.DowngradeInfoSet, r.DowngradeInfoSet != nil},
		{"downgrade_version_test", r.DowngradeVersionTest, r.DowngradeVersionTest != nil},
	} {
		if f.set {
			o.Value(f.name, f.body)
		}
	}
	return o.End()
}

// object is the JSON of a type whose fields write writes.
func object(write func(*jsonw.Object)) ([]byte, error) {
	o := jsonw.Begin(nil)
	write(&o)
	return o.End(), nil
}

// MarshalJSON is [Request.AppendJSON] with values.
func (r Request) MarshalJSON() ([]byte, error) { return r.AppendJSON(nil, JSONOptions{}), nil }

func (p *PutRequest) appendJSON(b []byte, opts JSONOptions) []byte {
	o := jsonw.Begin(b)
	o.Bytes("key", p.Key)
	if opts.ValueSizes {
		o.I64("value_size", int64(len(p.Value)))
	} else {
		o.Bytes("value", p.Value)
	}
	o.OptID("lease", uint64(p.Lease))
	o.OptBool("prev_kv", p.PrevKV)
	o.OptBool("ignore_value", p.IgnoreValue)
	o.OptBool("ignore_lease", p.IgnoreLease)
	return o.End()
}

// MarshalJSON writes the put with its value.
func (p PutRequest) MarshalJSON() ([]byte, error) { return p.appendJSON(nil, JSONOptions{}), nil }

func (d *DeleteRangeRequest) appendJSON(b []byte) []byte {
	o := jsonw.Begin(b)
	o.Bytes("key", d.Key)
	o.OptBytes("range_end", d.RangeEnd)
	o.OptBool("prev_kv", d.PrevKV)
	return o.End()
}

// MarshalJSON writes what AppendJSON writes of a delete range.
func (d DeleteRangeRequest) MarshalJSON() ([]byte, error) { return d.appendJSON(nil), nil }

func (t *TxnRequest) appendJSON(b []byte, opts JSONOptions) []byte {
	o := jsonw.Begin(b)
	if len(t.Compare) > 0 {
		o.Value("compare", t.Compare)
	}
	for _, branch := range []struct {
		name string
		ops  []RequestOp
	}{{"success", t.Success}, {"failure", t.Failure}} {
		if len(branch.ops) == 0 {
			continue
		}
		o.Key(branch.name)
		o.B = append(o.B, '[')
		for i := range branch.ops {
			if i > 0 {
				o.B = append(o.B, ',')
			}
			o.B = branch.ops[i].appendJSON(o.B, opts)
		}
		o.B = append(o.B, ']')
	}
	return o.End()
}

// MarshalJSON writes the txn with its values.
func (t TxnRequest) MarshalJSON() ([]byte, error) { return t.appendJSON(nil, JSONOptions{}), nil }

func (op *RequestOp) appendJSON(b []byte, opts JSONOptions) []byte {
	o := jsonw.Begin(b)
	switch {
	case op.Put != nil:
		o.Key("put")
		o.B = op.Put.appendJSON(o.B, opts)
	case op.DeleteRange != nil:
		o.Key("delete_range")
		o.B = op.DeleteRange.appendJSON(o.B)
	case op.Txn != nil:
		o.Key("txn")
		o.B = op.Txn.appendJSON(o.B, opts)
	case op.Range != nil:
		o.Value("range", op.Range)
	}
	return o.End()
}

// MarshalJSON writes the op with its values.
func (op RequestOp) MarshalJSON() ([]byte, error) { return op.appendJSON(nil, JSONOptions{}), nil }

// MarshalJSON writes a lease target in hex.
func (c Compare) MarshalJSON() ([]byte, error) {
	return object(func(o *jsonw.Object) {
		o.Str("result", c.Result.String())
		o.Str("target", c.Target.String())
		o.OptBytes("key", c.Key)
		o.OptBytes("range_end", c.RangeEnd)
		for _, n := range []struct {
			name string
			v    *int64
		}{{"version", c.Version}, {"create_revision", c.CreateRevision}, {"mod_revision", c.ModRevision}} {
			if n.v != nil {
				o.I64(n.name, *n.v)
			}
		}
		if c.Lease != nil {
			o.ID("lease", uint64(*c.Lease))
		}
		o.OptBytes("value", c.Value)
	})
}

// MarshalJSON writes the lease id in hex.
func (l LeaseGrantRequest) MarshalJSON() ([]byte, error) {
	return object(func(o *jsonw.Object) { o.OptI64("ttl", l.TTL); o.OptID("id", uint64(l.ID)) })
}

// MarshalJSON writes the lease id in hex.
func (l LeaseRevokeRequest) MarshalJSON() ([]byte, error) {
	return object(func(o *jsonw.Object) { o.OptID("id", uint64(l.ID)) })
}

// MarshalJSON writes the lease id in hex.
func (l LeaseCheckpoint) MarshalJSON() ([]byte, error) {
	return object(func(o *jsonw.Object) { o.OptID("id", uint64(l.ID)); o.OptI64("remaining_ttl", l.RemainingTTL) })
}

// MarshalJSON writes the member id in hex.
func (a AlarmRequest) MarshalJSON() ([]byte, error) {
	return object(func(o *jsonw.Object) {
		o.Str("action", a.Action.String())
		o.OptID("member_id", a.MemberID)
		o.Str("alarm", a.Alarm.String())
	})
}

// MarshalJSON writes the member id in hex.
func (c ClusterMemberAttrSetRequest) MarshalJSON() ([]byte, error) {
	return object(func(o *jsonw.Object) {
		o.OptID("member_id", c.MemberID)
		o.OptStr("name", c.Name)
		o.OptStrings("client_urls", c.ClientURLs)
	})
}

// MarshalJSON writes the node's id in hex.
func (cc ConfChange) MarshalJSON() ([]byte, error) {
	return object(func(o *jsonw.Object) {
		o.OptU64("id", cc.ID)
		o.Str("type", cc.Type.String())
		o.ID("node_id", cc.NodeID)
		o.OptBytes("context", cc.Context)
		if cc.Member != nil {
			o.Value("member", cc.Member)
		}
		o.OptStr("context_error", cc.ContextError)
	})
}

// MarshalJSON writes the member's id in hex.
func (m Member) MarshalJSON() ([]byte, error) {
	return object(func(o *jsonw.Object) {
		o.ID("id", m.ID)
		o.OptStr("name", m.Name)
		o.OptStrings("peer_urls", m.PeerURLs)
		o.OptStrings("client_urls", m.ClientURLs)
		o.OptBool("is_learner", m.IsLearner)
		o.OptBool("is_promote", m.IsPromote)
	})
}

// MarshalJSON writes the node's id in hex.
func (c ConfChangeSingle) MarshalJSON() ([]byte, error) {
	return object(func(o *jsonw.Object) { o.Str("type", c.Type.String()); o.ID("node_id", c.NodeID) })
}
