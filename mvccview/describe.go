package mvccview

import (
	"fmt"
	"io"
	"strconv"

	"github.com/etcdscope/etcdscope/internal/pbwire"
	"github.com/etcdscope/etcdscope/internal/textfmt"
)

// This file describes the store's answers for people, as the mvcc
// commands print them. Rows are pure row builders (etcdutl's printer.go):
// a header and the cells of each record, written as a table or, in simple
// form, as HEADER=value lines ("field: value" for [Status]). Describe
// writes the line forms of etcdctl get and of mvcc history. Keys, values
// and names go through textfmt, etcdscope's one policy for bytes shown as
// text.

// DescribeOptions say how keys and values are described.
type DescribeOptions struct {
	// Hex shows keys and values as etcdctl --hex does: every byte \xNN.
	Hex bool
	// Values shows values in full in a row, instead of their first 64
	// bytes.
	Values bool
	// KeysOnly and CountOnly describe a range asked for keys only, or for
	// the count only, as etcdctl get --keys-only and --count-only print it.
	KeysOnly, CountOnly bool
}

// text is a key or value standing alone, as etcdctl prints it.
func (o DescribeOptions) text(b []byte) string {
	if o.Hex {
		return textfmt.Hex(b)
	}
	return textfmt.Bare(b)
}

// cell is a value in a row.
func (o DescribeOptions) cell(v []byte) string {
	switch {
	case o.KeysOnly:
		return ""
	case o.Hex:
		return textfmt.Hex(v)
	case o.Values:
		return textfmt.Bare(v)
	}
	return textfmt.Shorten(v, 64)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Rows are the response's key-values: key, create and mod revisions,
// version, lease and value.
func (r *RangeResponse) Rows(o DescribeOptions) (hdr []string, rows [][]string) {
	hdr = []string{"KEY", "CREATE", "MOD", "VERSION", "LEASE", "VALUE"}
	for _, kv := range r.KVs {
		rows = append(rows, []string{o.text(kv.Key), itoa(kv.CreateRevision), itoa(kv.ModRevision), itoa(kv.Version), leaseText(kv.Lease), o.cell(kv.Value)})
	}
	return hdr, rows
}

// Describe writes the response as etcdctl get prints it: the count, with
// CountOnly; each key, then its value unless KeysOnly, on lines of their
// own.
func (r *RangeResponse) Describe(w io.Writer, o DescribeOptions) {
	if o.CountOnly {
		fmt.Fprintln(w, r.Count)
	}
	for _, kv := range r.KVs {
		fmt.Fprintln(w, o.text(kv.Key))
		if !o.KeysOnly {
			fmt.Fprintln(w, o.text(kv.Value))
		}
	}
}

// Rows are the history's records: revision, event (put or delete), create
// revision, version, lease, value (none for a delete) and, when known,
// the source.
func (h *History) Rows(o DescribeOptions) (hdr []string, rows [][]string) {
	hdr = []string{"REVISION", "EVENT", "CREATE", "VERSION", "LEASE", "VALUE", "FROM"}
	for _, r := range h.Records {
		ev, val, from := "put", o.cell(r.KV.Value), ""
		if r.Tombstone {
			ev, val = "delete", ""
		}
		if r.Source != nil {
			from = r.Source.String()
		}
		rows = append(rows, []string{r.Rev.String(), ev, itoa(r.KV.CreateRevision), itoa(r.KV.Version), leaseText(r.KV.Lease), val, from})
	}
	return hdr, rows
}

// Describe writes a line a record, its [History.Rows] cells in columns.
func (h *History) Describe(w io.Writer, o DescribeOptions) {
	_, rows := h.Rows(o)
	for _, r := range rows {
		fmt.Fprintf(w, "%-12s %-6s create=%s version=%s lease=%s %s", r[0], r[1], r[2], r[3], r[4], r[5])
		if r[6] != "" {
			fmt.Fprintf(w, "  (from %s)", r[6])
		}
		fmt.Fprintln(w)
	}
}

// Rows are the hash and the revisions it was taken at.
func (h *HashKV) Rows(DescribeOptions) (hdr []string, rows [][]string) {
	return []string{"HASH", "COMPACT REVISION", "HASH REVISION"},
		[][]string{{strconv.FormatUint(uint64(h.Hash), 10), itoa(h.CompactRevision), itoa(h.HashRevision)}}
}

// Describe writes the answer on one line, its fields named as in JSON.
func (h *HashKV) Describe(w io.Writer, _ DescribeOptions) {
	fmt.Fprintf(w, "hash %d compact_revision %d hash_revision %d\n", h.Hash, h.CompactRevision, h.HashRevision)
}

// Rows are the status's fields, one a row: the meta bucket's under their
// keys' names, then the store's revisions and counts and the cluster's
// version and alarms.
func (st *Status) Rows() (hdr []string, rows [][]string) {
	opt := func(p *int64) string {
		if p == nil {
			return "-"
		}
		return itoa(*p)
	}
	return []string{"FIELD", "VALUE"}, [][]string{
		{MetaConsistentIndex, strconv.FormatUint(st.ConsistentIndex, 10)},
		{MetaTerm, strconv.FormatUint(st.Term, 10)},
		{MetaConfState, st.ConfState},
		{MetaStorageVersion, st.StorageVersion},
		{MetaScheduledCompactRev, opt(st.Scheduled)},
		{MetaFinishedCompactRev, opt(st.Finished)},
		{"current revision", itoa(st.CurrentRevision)},
		{"compact revision", itoa(st.CompactRevision)},
		{"keys", strconv.Itoa(st.Keys)},
		{"key bucket records", itoa(st.KeyBucketRecords)},
		{"cluster version", st.Cluster.ClusterVersion},
		{"alarms", fmt.Sprint(st.Cluster.Alarms)},
	}
}

// Rows are the leases: id, TTL, remaining TTL, how many keys are attached
// and what does not decode.
func (ls Leases) Rows() (hdr []string, rows [][]string) {
	rows = make([][]string, 0, len(ls))
	for _, l := range ls {
		rows = append(rows, []string{pbwire.HexID(l.ID).String(), itoa(l.TTL), itoa(l.RemainingTTL), strconv.Itoa(len(l.Keys)), l.Problem})
	}
	return []string{"ID", "TTL", "REMAINING", "KEYS", "PROBLEM"}, rows
}

// Rows are the members: id, name, peer and client URLs, whether a learner
// and whether removed.
func (ms Members) Rows() (hdr []string, rows [][]string) {
	rows = make([][]string, 0, len(ms))
	for _, m := range ms {
		rows = append(rows, []string{m.HexID(), textfmt.BareString(m.Name), fmt.Sprint(m.PeerURLs), fmt.Sprint(m.ClientURLs), strconv.FormatBool(m.IsLearner), strconv.FormatBool(m.Removed)})
	}
	return []string{"ID", "NAME", "PEER URLS", "CLIENT URLS", "LEARNER", "REMOVED"}, rows
}

// Rows are the auth store: whether enabled and its revision, then each
// user with its roles and whether it has a password, then each role's
// permissions (type, key, range end), a row each.
func (a *Auth) Rows() (hdr []string, rows [][]string) {
	rows = [][]string{{"auth", "", fmt.Sprintf("enabled=%v revision=%d", a.Enabled, a.Revision)}}
	for _, u := range a.Users {
		rows = append(rows, []string{"user", textfmt.BareString(u.Name), fmt.Sprintf("roles=%v password=%v", u.Roles, u.HasPassword)})
	}
	for _, r := range a.Roles {
		for _, p := range r.Permissions {
			rows = append(rows, []string{"role", textfmt.BareString(r.Name), fmt.Sprintf("%s %s %s", p.Type, textfmt.Quote(p.Key), textfmt.Quote(p.RangeEnd))})
		}
		if len(r.Permissions) == 0 {
			rows = append(rows, []string{"role", textfmt.BareString(r.Name), "no permissions"})
		}
	}
	return []string{"KIND", "NAME", "DETAIL"}, rows
}
