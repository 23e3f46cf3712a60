package cli

import (
	"bufio"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/etcdscope/etcdscope/internal/textfmt"
	"github.com/etcdscope/etcdscope/mvccview"
	"github.com/etcdscope/etcdscope/replay"
	"github.com/etcdscope/etcdscope/walfmt"
)

func newMVCCCommand(g *globalOptions) *cobra.Command {
	c := &cobra.Command{
		Use:   "mvcc",
		Short: "etcd's key space in a db: range at a revision, history, HashKV, leases, members, auth",
		Long: `The mvcc commands read a db as etcd's MVCC store does: the key index is
rebuilt from the key bucket exactly as etcd rebuilds it on start, so ranges and
hashes at a revision answer what etcd would have answered. The db is read
read-only, without a lock, and a damaged db yields what is reachable. DB is a db
file or an etcd data dir or member dir.`,
	}
	c.AddCommand(newMVCCRangeCommand(g), newMVCCHistoryCommand(g), newMVCCHashCommand(g))
	for _, d := range mvccDocs {
		c.AddCommand(newMVCCDocCommand(g, d))
	}
	return c
}

// withStore opens DB, rebuilds its MVCC view and runs f on it, warning on
// stderr when the db is damaged: the prologue of every mvcc command.
func withStore(cmd *cobra.Command, arg string, f func(*mvccview.Store) error) error {
	l, db, path, err := openBolt(arg)
	if err != nil {
		return err
	}
	defer db.Close()
	src := &mvccview.BoltSource{DB: db}
	s, err := mvccview.Open(src)
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	if n := len(src.Problems); n > 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s is damaged (%d problems); showing what is reachable (run etcdscope bolt check)\n", l.Rel(path), n)
	}
	if n := len(s.BadRecords); n > 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "warning: %d key-bucket records do not decode and are left out\n", n)
	}
	return f(s)
}

// bytesOptions are --values and --hex, for the commands that print keys
// and values read from the db.
type bytesOptions struct {
	values bool // whole values, instead of their first bytes or sizes
	hex    bool // keys and values as etcdctl --hex prints them
}

func (o *bytesOptions) addFlags(fs *pflag.FlagSet, values string) {
	fs.BoolVar(&o.values, "values", false, values)
	fs.BoolVar(&o.hex, "hex", false, "print keys and values as hex-escaped bytes, as etcdctl --hex does (JSON stays base64)")
}

// keyText is how a key or value read from the db is printed: as it is when
// it is printable, else quoted, or every byte in hex with --hex, as
// etcdctl --hex prints them.
func keyText(b []byte, hex bool) string {
	if hex {
		return textfmt.Hex(b)
	}
	return textfmt.Bare(b)
}

// ---- mvcc range ----

type mvccRangeOptions struct {
	prefix    bool
	fromKey   bool
	rev       int64
	limit     int64
	keysOnly  bool
	countOnly bool
	hex       bool
}

func (o *mvccRangeOptions) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.prefix, "prefix", false, "every key with KEY as prefix (\"\" for all keys)")
	fs.BoolVar(&o.fromKey, "from-key", false, "every key from KEY on")
	fs.Int64Var(&o.rev, "rev", 0, "the revision to read at; 0 means the db's current revision")
	fs.Int64Var(&o.limit, "limit", 0, "at most this many keys; 0 means no limit")
	fs.BoolVar(&o.keysOnly, "keys-only", false, "keys without values")
	fs.BoolVar(&o.countOnly, "count-only", false, "only the count")
	fs.BoolVar(&o.hex, "hex", false, "print keys and values as hex-escaped bytes, as etcdctl --hex does")
}

// span is the [key, end) range the arguments and flags ask for, in etcd's
// terms: end nil for KEY alone, empty for every key from key on.
func (o *mvccRangeOptions) span(args []string) (key, end []byte, err error) {
	if len(args) >= 2 {
		key = []byte(args[1])
	}
	switch {
	case len(args) == 1 && !o.prefix && !o.fromKey:
		return nil, nil, usagef("give a KEY, or --prefix \"\" for every key")
	case len(args) == 3 && (o.prefix || o.fromKey):
		return nil, nil, usagef("RANGE_END cannot be combined with --prefix or --from-key")
	case o.prefix && o.fromKey:
		return nil, nil, usagef("--prefix and --from-key exclude each other")
	case len(args) == 3:
		end = []byte(args[2])
	case o.prefix:
		end = mvccview.PrefixEnd(key)
	case o.fromKey:
		end = []byte{}
	}
	if len(key) == 0 && end != nil {
		key = []byte{0}
	}
	return key, end, nil
}

func newMVCCRangeCommand(g *globalOptions) *cobra.Command {
	o := &mvccRangeOptions{}
	return leaf(&cobra.Command{
		Use:     "range DB [KEY [RANGE_END]]",
		Aliases: []string{"get"},
		Short:   "Keys and values live at a revision, as etcdctl get answers",
		Long: `Prints the keys in [KEY, RANGE_END) live at --rev, as etcdctl get would have
printed them at that revision: a revision below the compaction is an error, as in
etcd. With -w json the output has the shape of etcdctl get -w json, so the two
can be diffed: header (revision is the db's current revision, raft_term the
db's, member_id and cluster_id those of the member's WAL, or the member_id of
a lone db's only member), kvs with base64 key and value, count, more.`,
		Args: rangeArgs(1, 3, "DB [KEY [RANGE_END]]"),
	}, o, func(cmd *cobra.Command, args []string) error { return mvccRange(cmd, g.output(), args, o) })
}

func mvccRange(cmd *cobra.Command, format outputFormat, args []string, o *mvccRangeOptions) error {
	key, end, err := o.span(args)
	if err != nil {
		return err
	}
	return withStore(cmd, args[0], func(s *mvccview.Store) error {
		res, err := s.Range(key, end, mvccview.RangeOptions{Rev: o.rev, Limit: o.limit, KeysOnly: o.keysOnly, CountOnly: o.countOnly})
		if err != nil {
			return err
		}
		doc := rangeDoc{Header: responseHeader(args[0], s), KVs: res.KVs, More: res.More, Count: res.Count}
		return renderRange(cmd.OutOrStdout(), format, &doc, o)
	})
}

// rangeDoc is mvcc range -w json: etcdctl get -w json's document.
type rangeDoc struct {
	Header header              `json:"header"`
	KVs    []mvccview.KeyValue `json:"kvs,omitempty"`
	More   bool                `json:"more,omitempty"`
	Count  int64               `json:"count,omitempty"`
}

// header is etcd's ResponseHeader, numbers as etcdctl prints them.
type header struct {
	ClusterID uint64 `json:"cluster_id,omitempty"`
	MemberID  uint64 `json:"member_id,omitempty"`
	Revision  int64  `json:"revision,omitempty"`
	RaftTerm  uint64 `json:"raft_term,omitempty"`
}

// responseHeader is the header a member serving the db would give: its
// revision and raft term from the db, the member and cluster ids from the
// member's WAL, or, for a lone db, the member id of its only member.
func responseHeader(arg string, s *mvccview.Store) header {
	h := header{Revision: s.CurrentRev, RaftTerm: s.Meta.Term}
	if _, files, err := openWAL(arg); err == nil {
		defer files.Close()
		r := walfmt.NewReader(files.Segments, walfmt.Options{})
		for range 8 { // a segment's metadata is its second record
			f, err := r.Next()
			if err != nil {
				break
			}
			if f.Metadata != nil {
				h.MemberID, h.ClusterID = f.Metadata.NodeID, f.Metadata.ClusterID
				return h
			}
		}
	}
	if ms, err := s.Members(); err == nil && len(ms) == 1 && !ms[0].Removed {
		h.MemberID, _ = strconv.ParseUint(ms[0].ID, 16, 64)
	}
	return h
}

func (d *rangeDoc) rows(o *mvccRangeOptions) (hdr []string, rows [][]string) {
	hdr = []string{"KEY", "CREATE", "MOD", "VERSION", "LEASE", "VALUE"}
	for _, kv := range d.KVs {
		val := textfmt.Truncate(kv.Value, 64)
		if o.hex {
			val = textfmt.Hex(kv.Value)
		}
		if o.keysOnly {
			val = ""
		}
		rows = append(rows, []string{keyText(kv.Key, o.hex), strconv.FormatInt(kv.CreateRevision, 10), strconv.FormatInt(kv.ModRevision, 10),
			strconv.FormatInt(kv.Version, 10), leaseText(kv.Lease), val})
	}
	return hdr, rows
}

func renderRange(out io.Writer, format outputFormat, d *rangeDoc, o *mvccRangeOptions) error {
	switch format {
	case formatJSON:
		return writeJSON(out, d)
	case formatTable:
		hdr, rows := d.rows(o)
		return renderTable(out, hdr, rows)
	}
	bw := bufio.NewWriter(out)
	if o.countOnly {
		fmt.Fprintln(bw, d.Count)
	}
	// As etcdctl get prints: key, then value, each on its own line.
	for _, kv := range d.KVs {
		fmt.Fprintln(bw, keyText(kv.Key, o.hex))
		if !o.keysOnly {
			fmt.Fprintln(bw, keyText(kv.Value, o.hex))
		}
	}
	return bw.Flush()
}

func leaseText(id int64) string {
	if id == 0 {
		return ""
	}
	return hexID(id)
}

// ---- mvcc history ----

type mvccHistoryOptions struct{ bytesOptions }

func (o *mvccHistoryOptions) AddFlags(fs *pflag.FlagSet) { o.addFlags(fs, "print whole values") }

func newMVCCHistoryCommand(g *globalOptions) *cobra.Command {
	o := &mvccHistoryOptions{}
	return leaf(&cobra.Command{
		Use:   "history DB KEY",
		Short: "Every revision of a key still in the db, tombstones included",
		Long: `Prints every record of KEY in the key bucket, oldest first: puts with their
create revision, version, lease and value, and deletes. In a data dir replay
wrote, each revision also names the WAL entry (raft index, term, segment and
offset) that produced it.`,
		Args: exactArgs(2, "DB and KEY"),
	}, o, func(cmd *cobra.Command, args []string) error {
		return mvccHistory(cmd, g.output(), args[0], []byte(args[1]), o)
	})
}

func mvccHistory(cmd *cobra.Command, format outputFormat, arg string, key []byte, o *mvccHistoryOptions) error {
	return withStore(cmd, arg, func(s *mvccview.Store) error {
		hist, err := s.History(key)
		if err != nil {
			return err
		}
		doc := historyDoc{Key: key, Records: []historyRecord{}}
		pl := openProvenance(arg)
		if pl != nil {
			defer pl.Close()
		}
		for _, h := range hist {
			r := historyRecord{h.Rev.String(), h.Rev.Main, h.Rev.Sub, h.Tombstone, h.KV.CreateRevision, h.KV.ModRevision, h.KV.Version, leaseText(h.KV.Lease), h.KV.Value, nil}
			if pl != nil {
				if p, ok := pl.Lookup(h.Rev.Main); ok {
					r.Source = &p
				}
			}
			doc.Records = append(doc.Records, r)
		}
		return renderHistory(cmd, format, doc, o)
	})
}

func renderHistory(cmd *cobra.Command, format outputFormat, doc historyDoc, o *mvccHistoryOptions) error {
	out := cmd.OutOrStdout()
	if len(doc.Records) == 0 && format != formatJSON {
		fmt.Fprintf(cmd.ErrOrStderr(), "no revision of %s in the db (compacted away, or never written)\n", textfmt.Quote(doc.Key))
	}
	if format != formatSimple {
		return renderList(out, format, doc, func() ([]string, [][]string) { return doc.rows(o) })
	}
	bw := bufio.NewWriter(out)
	_, rows := doc.rows(o)
	for _, r := range rows {
		fmt.Fprintf(bw, "%-12s %-6s create=%s version=%s lease=%s %s", r[0], r[1], r[2], r[3], r[4], r[5])
		if r[6] != "" {
			fmt.Fprintf(bw, "  (from %s)", r[6])
		}
		fmt.Fprintln(bw)
	}
	return bw.Flush()
}

// historyDoc is mvcc history -w json.
type historyDoc struct {
	Key     []byte          `json:"key"`
	Records []historyRecord `json:"records"`
}

type historyRecord struct {
	Revision       string           `json:"revision"`
	Main           int64            `json:"main"`
	Sub            int64            `json:"sub"`
	Tombstone      bool             `json:"tombstone"`
	CreateRevision int64            `json:"create_revision"`
	ModRevision    int64            `json:"mod_revision"`
	Version        int64            `json:"version"`
	Lease          string           `json:"lease,omitempty"`
	Value          []byte           `json:"value,omitempty"`
	Source         *replay.Position `json:"source,omitempty"` // the WAL entry, for a replayed dir
}

func (d historyDoc) rows(o *mvccHistoryOptions) (hdr []string, rows [][]string) {
	hdr = []string{"REVISION", "EVENT", "CREATE", "VERSION", "LEASE", "VALUE", "FROM"}
	for _, r := range d.Records {
		ev, val := "put", textfmt.Truncate(r.Value, 64)
		switch {
		case r.Tombstone:
			ev, val = "delete", ""
		case o.hex:
			val = textfmt.Hex(r.Value)
		case o.values:
			val = textfmt.Bare(r.Value)
		}
		from := ""
		if r.Source != nil {
			from = r.Source.String()
		}
		rows = append(rows, []string{r.Revision, ev, strconv.FormatInt(r.CreateRevision, 10), strconv.FormatInt(r.Version, 10), r.Lease, val, from})
	}
	return hdr, rows
}

// ---- mvcc hash ----

type mvccHashOptions struct {
	rev int64
}

func (o *mvccHashOptions) AddFlags(fs *pflag.FlagSet) {
	fs.Int64Var(&o.rev, "rev", 0, "the revision to hash at; 0 means the current revision")
}

func newMVCCHashCommand(g *globalOptions) *cobra.Command {
	o := &mvccHashOptions{}
	return leaf(&cobra.Command{
		Use:   "hash DB",
		Short: "etcd's HashKV at a revision, bit-exact, without writing to the db",
		Long: `Computes what etcdctl endpoint hashkv --rev N answers, from the db alone: the
CRC-32C of the key bucket up to N with etcd's compaction rules. Unlike etcdutl
hashkv it opens the db read-only and never resumes a compaction. At exactly a
past compaction revision a live server may answer from a hash it cached while
compacting, which no offline reader can reproduce.`,
		Args: exactArgs(1, "one DB"),
	}, o, func(cmd *cobra.Command, args []string) error { return mvccHash(cmd, g.output(), args[0], o) })
}

func mvccHash(cmd *cobra.Command, format outputFormat, arg string, o *mvccHashOptions) error {
	return withStore(cmd, arg, func(s *mvccview.Store) error {
		h, err := s.HashKV(o.rev)
		if err != nil {
			return err
		}
		if format == formatSimple {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "hash %d compact_revision %d hash_revision %d\n", h.Hash, h.CompactRevision, h.HashRevision)
			return err
		}
		return renderList(cmd.OutOrStdout(), format, h, func() ([]string, [][]string) {
			return []string{"HASH", "COMPACT REVISION", "HASH REVISION"},
				[][]string{{strconv.FormatUint(uint64(h.Hash), 10), strconv.FormatInt(h.CompactRevision, 10), strconv.FormatInt(h.HashRevision, 10)}}
		})
	})
}

// ---- mvcc meta, leases, members, auth ----

// An mvccDoc is a command that prints one decoded bucket document: read
// gives the document (its JSON) and its rows, as a list or as fields.
type mvccDoc struct {
	use, short string
	fields     bool // FIELD, VALUE rows, printed "field: value"
	read       func(*mvccview.Store) (doc any, rows rowsFunc, err error)
}

var mvccDocs = []mvccDoc{
	{"meta", "The meta bucket: consistent_index, term, confState, compaction marks, storage version; and the store's revisions", true, readMeta},
	{"leases", "The lease bucket, with the keys attached to each lease", false, readLeases},
	{"members", "The members and members_removed buckets", false, readMembers},
	{"auth", "The auth buckets: enabled, revision, users and their roles, roles and their permissions", false, readAuth},
}

func newMVCCDocCommand(g *globalOptions, d mvccDoc) *cobra.Command {
	return &cobra.Command{
		Use:   d.use + " DB",
		Short: d.short,
		Args:  exactArgs(1, "one DB"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, args[0], func(s *mvccview.Store) error {
				doc, rows, err := d.read(s)
				if err != nil {
					return err
				}
				if d.fields {
					return renderFields(cmd.OutOrStdout(), g.output(), doc, rows)
				}
				return renderList(cmd.OutOrStdout(), g.output(), doc, rows)
			})
		},
	}
}

// mvccMetaDoc is mvcc meta -w json.
type mvccMetaDoc struct {
	mvccview.Meta
	CurrentRevision  int64             `json:"current_revision"`
	CompactRevision  int64             `json:"compact_revision"`
	Keys             int               `json:"keys"`
	KeyBucketRecords int64             `json:"key_bucket_records"`
	BadKeyRecords    int               `json:"bad_key_records"`
	Cluster          *mvccview.Cluster `json:"cluster"`
}

func readMeta(s *mvccview.Store) (any, rowsFunc, error) {
	c, err := s.Cluster()
	if err != nil {
		return nil, nil, err
	}
	d := &mvccMetaDoc{Meta: s.Meta, CurrentRevision: s.CurrentRev, CompactRevision: s.CompactRev, Keys: s.Keys(), KeyBucketRecords: s.Records, BadKeyRecords: len(s.BadRecords), Cluster: c}
	return d, d.rows, nil
}

func (d *mvccMetaDoc) rows() (hdr []string, rows [][]string) {
	opt := func(p *int64) string {
		if p == nil {
			return "-"
		}
		return strconv.FormatInt(*p, 10)
	}
	return []string{"FIELD", "VALUE"}, [][]string{
		{mvccview.MetaConsistentIndex, strconv.FormatUint(d.ConsistentIndex, 10)},
		{mvccview.MetaTerm, strconv.FormatUint(d.Term, 10)},
		{mvccview.MetaConfState, d.ConfState},
		{mvccview.MetaStorageVersion, d.StorageVersion},
		{mvccview.MetaScheduledCompactRev, opt(d.Scheduled)},
		{mvccview.MetaFinishedCompactRev, opt(d.Finished)},
		{"current revision", strconv.FormatInt(d.CurrentRevision, 10)},
		{"compact revision", strconv.FormatInt(d.CompactRevision, 10)},
		{"keys", strconv.Itoa(d.Keys)},
		{"key bucket records", strconv.FormatInt(d.KeyBucketRecords, 10)},
		{"cluster version", d.Cluster.ClusterVersion},
		{"alarms", fmt.Sprint(d.Cluster.Alarms)},
	}
}

// listOf is the document {name: items} and its rows, one an item.
func listOf[T any](name string, items []T, err error, hdr []string, row func(T) []string) (any, rowsFunc, error) {
	if items == nil {
		items = []T{}
	}
	return map[string][]T{name: items}, func() ([]string, [][]string) {
		rows := make([][]string, 0, len(items))
		for _, x := range items {
			rows = append(rows, row(x))
		}
		return hdr, rows
	}, err
}

func readLeases(s *mvccview.Store) (any, rowsFunc, error) {
	ls, err := s.Leases()
	return listOf("leases", ls, err, []string{"ID", "TTL", "REMAINING", "KEYS", "PROBLEM"}, func(l mvccview.Lease) []string {
		return []string{hexID(l.ID), strconv.FormatInt(l.TTL, 10), strconv.FormatInt(l.RemainingTTL, 10), strconv.Itoa(len(l.Keys)), l.Problem}
	})
}

func readMembers(s *mvccview.Store) (any, rowsFunc, error) {
	ms, err := s.Members()
	return listOf("members", ms, err, []string{"ID", "NAME", "PEER URLS", "CLIENT URLS", "LEARNER", "REMOVED"}, func(m mvccview.Member) []string {
		id := m.ID
		if x, err := strconv.ParseUint(m.ID, 16, 64); err == nil {
			id = hexID(x)
		}
		return []string{id, textfmt.BareString(m.Name), fmt.Sprint(m.PeerURLs), fmt.Sprint(m.ClientURLs), strconv.FormatBool(m.IsLearner), strconv.FormatBool(m.Removed)}
	})
}

func readAuth(s *mvccview.Store) (any, rowsFunc, error) {
	a, err := s.Auth()
	if err != nil {
		return nil, nil, err
	}
	return a, func() (hdr []string, rows [][]string) {
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
	}, nil
}
