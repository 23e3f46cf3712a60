package cli

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/etcdscope/etcdscope/internal/datadir"
	"github.com/etcdscope/etcdscope/mvccview"
	"github.com/etcdscope/etcdscope/replay"
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
	c.AddCommand(newMVCCRangeCommand(g), newMVCCHistoryCommand(g), newMVCCHashCommand(g), newMVCCMetaCommand(g),
		newMVCCLeasesCommand(g), newMVCCMembersCommand(g), newMVCCAuthCommand(g))
	return c
}

// openStore opens a db and rebuilds its MVCC view, warning on stderr
// when the db is damaged.
func openStore(cmd *cobra.Command, arg string) (*mvccview.Store, func(), error) {
	l, db, path, err := openBolt(arg)
	if err != nil {
		return nil, nil, err
	}
	src := &mvccview.BoltSource{DB: db}
	s, err := mvccview.Open(src)
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if n := len(src.Problems); n > 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s is damaged (%d problems); showing what is reachable (run etcdscope bolt check)\n", l.Rel(path), n)
	}
	if n := len(s.BadRecords); n > 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "warning: %d key-bucket records do not decode and are left out\n", n)
	}
	return s, func() { db.Close() }, nil
}

// ---- mvcc range ----

type mvccRangeOptions struct {
	prefix    bool
	fromKey   bool
	rev       int64
	limit     int64
	keysOnly  bool
	countOnly bool
}

func (o *mvccRangeOptions) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.prefix, "prefix", false, "every key with KEY as prefix (\"\" for all keys)")
	fs.BoolVar(&o.fromKey, "from-key", false, "every key from KEY on")
	fs.Int64Var(&o.rev, "rev", 0, "the revision to read at; 0 means the db's current revision")
	fs.Int64Var(&o.limit, "limit", 0, "at most this many keys; 0 means no limit")
	fs.BoolVar(&o.keysOnly, "keys-only", false, "keys without values")
	fs.BoolVar(&o.countOnly, "count-only", false, "only the count")
}

func newMVCCRangeCommand(g *globalOptions) *cobra.Command {
	o := &mvccRangeOptions{}
	c := &cobra.Command{
		Use:   "range DB [KEY [RANGE_END]]",
		Short: "Keys and values live at a revision, as etcdctl get answers",
		Long: `Prints the keys in [KEY, RANGE_END) live at --rev, as etcdctl get would have
printed them at that revision: a revision below the compaction is an error, as in
etcd. With -w json the output has the shape of etcdctl get -w json (header.revision
is the db's current revision, kvs with base64 key and value, count, more), so the
two can be diffed.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 3 {
				return usagef("mvcc range takes DB [KEY [RANGE_END]] (got %d arguments)", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := g.format()
			if err != nil {
				return err
			}
			var key, end []byte
			switch {
			case len(args) == 1 && !o.prefix && !o.fromKey:
				return usagef("give a KEY, or --prefix \"\" for every key")
			case len(args) >= 2:
				key = []byte(args[1])
			}
			switch {
			case len(args) == 3:
				if o.prefix || o.fromKey {
					return usagef("RANGE_END cannot be combined with --prefix or --from-key")
				}
				end = []byte(args[2])
			case o.prefix && o.fromKey:
				return usagef("--prefix and --from-key exclude each other")
			case o.prefix:
				end = mvccview.PrefixEnd(key)
			case o.fromKey:
				end = []byte{}
			}
			if len(key) == 0 && end != nil {
				key = []byte{0}
			}
			s, done, err := openStore(cmd, args[0])
			if err != nil {
				return err
			}
			defer done()
			res, err := s.Range(key, end, mvccview.RangeOptions{Rev: o.rev, Limit: o.limit, KeysOnly: o.keysOnly, CountOnly: o.countOnly})
			if err != nil {
				return err
			}
			return renderRange(cmd.OutOrStdout(), format, res, o)
		},
	}
	o.AddFlags(c.Flags())
	return c
}

func renderRange(out io.Writer, format outputFormat, res *mvccview.RangeResult, o *mvccRangeOptions) error {
	bw := bufio.NewWriter(out)
	defer bw.Flush()
	switch format {
	case formatJSON:
		var j jsonObj
		j.begin(nil)
		j.key("header")
		var h jsonObj
		h.begin(j.b)
		h.i64("revision", res.Rev)
		j.b = h.end()
		if len(res.KVs) > 0 {
			j.key("kvs")
			j.b = append(j.b, '[')
			for i, kv := range res.KVs {
				if i > 0 {
					j.b = append(j.b, ',')
				}
				var k jsonObj
				k.begin(j.b)
				k.bytes64("key", kv.Key)
				k.i64("create_revision", kv.CreateRevision)
				k.i64("mod_revision", kv.ModRevision)
				k.i64("version", kv.Version)
				if len(kv.Value) > 0 {
					k.bytes64("value", kv.Value)
				}
				if kv.Lease != 0 {
					k.i64("lease", kv.Lease)
				}
				j.b = k.end()
			}
			j.b = append(j.b, ']')
		}
		if res.More {
			j.boolean("more", true)
		}
		j.i64("count", res.Count)
		_, err := bw.Write(append(j.end(), '\n'))
		return err
	case formatTable:
		hdr := []string{"KEY", "CREATE", "MOD", "VERSION", "LEASE", "VALUE"}
		var rows [][]string
		for _, kv := range res.KVs {
			rows = append(rows, []string{quoteKey(kv.Key), strconv.FormatInt(kv.CreateRevision, 10), strconv.FormatInt(kv.ModRevision, 10),
				strconv.FormatInt(kv.Version, 10), leaseText(kv.Lease), valueText(kv.Value, o.keysOnly)})
		}
		return renderTable(bw, hdr, rows)
	}
	if o.countOnly {
		fmt.Fprintln(bw, res.Count)
		return nil
	}
	// As etcdctl get prints: key, then value, each on its own line.
	for _, kv := range res.KVs {
		bw.Write(kv.Key)
		bw.WriteByte('\n')
		if !o.keysOnly {
			bw.Write(kv.Value)
			bw.WriteByte('\n')
		}
	}
	return nil
}

func leaseText(id int64) string {
	if id == 0 {
		return ""
	}
	return fmt.Sprintf("%x", id)
}

func valueText(v []byte, keysOnly bool) string {
	if keysOnly {
		return ""
	}
	if len(v) > 64 {
		return fmt.Sprintf("%s... (%d bytes)", quoteKey(v[:64]), len(v))
	}
	return quoteKey(v)
}

// ---- mvcc history ----

func newMVCCHistoryCommand(g *globalOptions) *cobra.Command {
	values := false
	c := &cobra.Command{
		Use:   "history DB KEY",
		Short: "Every revision of a key still in the db, tombstones included",
		Args:  exactArgs(2, "DB and KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := g.format()
			if err != nil {
				return err
			}
			s, done, err := openStore(cmd, args[0])
			if err != nil {
				return err
			}
			defer done()
			hist, err := s.History([]byte(args[1]))
			if err != nil {
				return err
			}
			// A data dir written by replay knows which WAL entry produced
			// each revision.
			lookup := func(int64) (replay.Position, bool) { return replay.Position{}, false }
			if l, err := datadir.Resolve(args[0]); err == nil {
				if pl, err := replay.OpenProvenance(filepath.Join(l.Base, replay.ProvenanceFile)); err == nil {
					defer pl.Close()
					lookup = pl.Lookup
				}
			}
			if format == formatJSON {
				type rec struct {
					Revision       string           `json:"revision"`
					Main           int64            `json:"main"`
					Sub            int64            `json:"sub"`
					Tombstone      bool             `json:"tombstone"`
					CreateRevision int64            `json:"create_revision"`
					ModRevision    int64            `json:"mod_revision"`
					Version        int64            `json:"version"`
					Lease          int64            `json:"lease,omitempty"`
					Value          []byte           `json:"value,omitempty"`
					Source         *replay.Position `json:"source,omitempty"` // the WAL entry, for a replayed dir
				}
				doc := struct {
					Key     []byte `json:"key"`
					Records []rec  `json:"records"`
				}{Key: []byte(args[1]), Records: []rec{}}
				for _, h := range hist {
					r := rec{h.Rev.String(), h.Rev.Main, h.Rev.Sub, h.Tombstone, h.KV.CreateRevision, h.KV.ModRevision, h.KV.Version, h.KV.Lease, h.KV.Value, nil}
					if p, ok := lookup(h.Rev.Main); ok {
						r.Source = &p
					}
					doc.Records = append(doc.Records, r)
				}
				return writeJSON(cmd.OutOrStdout(), doc)
			}
			hdr := []string{"REVISION", "EVENT", "CREATE", "VERSION", "LEASE", "VALUE", "FROM"}
			var rows [][]string
			for _, h := range hist {
				ev, val := "put", valueText(h.KV.Value, false)
				if values {
					val = quoteKey(h.KV.Value)
				}
				if h.Tombstone {
					ev, val = "delete", ""
				}
				from := ""
				if p, ok := lookup(h.Rev.Main); ok {
					from = fmt.Sprintf("index %d term %d %s:%#x", p.Index, p.Term, p.Segment, p.Offset)
				}
				rows = append(rows, []string{h.Rev.String(), ev, strconv.FormatInt(h.KV.CreateRevision, 10), strconv.FormatInt(h.KV.Version, 10), leaseText(h.KV.Lease), val, from})
			}
			if format == formatTable {
				return renderTable(cmd.OutOrStdout(), hdr, rows)
			}
			for _, r := range rows {
				fmt.Fprintf(cmd.OutOrStdout(), "%-12s %-6s create=%s version=%s lease=%s %s", r[0], r[1], r[2], r[3], r[4], r[5])
				if r[6] != "" {
					fmt.Fprintf(cmd.OutOrStdout(), "  (from %s)", r[6])
				}
				fmt.Fprintln(cmd.OutOrStdout())
			}
			if len(rows) == 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "no revision of %q in the db (compacted away, or never written)\n", args[1])
			}
			return nil
		},
	}
	c.Flags().BoolVar(&values, "values", false, "print whole values")
	return c
}

// ---- mvcc hash ----

func newMVCCHashCommand(g *globalOptions) *cobra.Command {
	rev := int64(0)
	c := &cobra.Command{
		Use:   "hash DB",
		Short: "etcd's HashKV at a revision, bit-exact, without writing to the db",
		Long: `Computes what etcdctl endpoint hashkv --rev N answers, from the db alone: the
CRC-32C of the key bucket up to N with etcd's compaction rules. Unlike etcdutl
hashkv it opens the db read-only and never resumes a compaction. At exactly a
past compaction revision a live server may answer from a hash it cached while
compacting, which no offline reader can reproduce.`,
		Args: exactArgs(1, "one DB"),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := g.format()
			if err != nil {
				return err
			}
			s, done, err := openStore(cmd, args[0])
			if err != nil {
				return err
			}
			defer done()
			h, err := s.HashKV(rev)
			if err != nil {
				return err
			}
			switch format {
			case formatJSON:
				return writeJSON(cmd.OutOrStdout(), h)
			case formatTable:
				return renderTable(cmd.OutOrStdout(), []string{"HASH", "COMPACT REVISION", "HASH REVISION"},
					[][]string{{strconv.FormatUint(uint64(h.Hash), 10), strconv.FormatInt(h.CompactRevision, 10), strconv.FormatInt(h.HashRevision, 10)}})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "hash %d compact_revision %d hash_revision %d\n", h.Hash, h.CompactRevision, h.HashRevision)
			return nil
		},
	}
	c.Flags().Int64Var(&rev, "rev", 0, "the revision to hash at; 0 means the current revision")
	return c
}

// ---- mvcc meta, leases, members, auth ----

// simpleDoc is a command that prints one decoded document.
func simpleDoc(g *globalOptions, use, short string, get func(*mvccview.Store) (any, [][]string, []string, error)) *cobra.Command {
	return &cobra.Command{
		Use:   use + " DB",
		Short: short,
		Args:  exactArgs(1, "one DB"),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := g.format()
			if err != nil {
				return err
			}
			s, done, err := openStore(cmd, args[0])
			if err != nil {
				return err
			}
			defer done()
			doc, rows, hdr, err := get(s)
			if err != nil {
				return err
			}
			switch format {
			case formatJSON:
				return writeJSON(cmd.OutOrStdout(), doc)
			case formatTable:
				return renderTable(cmd.OutOrStdout(), hdr, rows)
			}
			if len(hdr) == 2 && hdr[0] == "FIELD" {
				for _, r := range rows {
					fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", r[0], r[1])
				}
				return nil
			}
			for _, r := range rows {
				for i, c := range r {
					if i > 0 {
						fmt.Fprint(cmd.OutOrStdout(), "  ")
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%s=%s", hdr[i], c)
				}
				fmt.Fprintln(cmd.OutOrStdout())
			}
			return nil
		},
	}
}

func newMVCCMetaCommand(g *globalOptions) *cobra.Command {
	return simpleDoc(g, "meta", "The meta bucket: consistent_index, term, confState, compaction marks, storage version; and the store's revisions",
		func(s *mvccview.Store) (any, [][]string, []string, error) {
			c, err := s.Cluster()
			if err != nil {
				return nil, nil, nil, err
			}
			doc := struct {
				mvccview.Meta
				CurrentRevision  int64             `json:"current_revision"`
				CompactRevision  int64             `json:"compact_revision"`
				Keys             int               `json:"keys"`
				KeyBucketRecords int64             `json:"key_bucket_records"`
				BadKeyRecords    int               `json:"bad_key_records"`
				Cluster          *mvccview.Cluster `json:"cluster"`
			}{Meta: s.Meta, CurrentRevision: s.CurrentRev, CompactRevision: s.CompactRev, Keys: s.Keys(), KeyBucketRecords: s.Records, BadKeyRecords: len(s.BadRecords), Cluster: c}
			opt := func(p *int64) string {
				if p == nil {
					return "-"
				}
				return strconv.FormatInt(*p, 10)
			}
			rows := [][]string{
				{mvccview.MetaConsistentIndex, strconv.FormatUint(s.Meta.ConsistentIndex, 10)},
				{mvccview.MetaTerm, strconv.FormatUint(s.Meta.Term, 10)},
				{mvccview.MetaConfState, s.Meta.ConfState},
				{mvccview.MetaStorageVersion, s.Meta.StorageVersion},
				{mvccview.MetaScheduledCompactRev, opt(s.Meta.Scheduled)},
				{mvccview.MetaFinishedCompactRev, opt(s.Meta.Finished)},
				{"current revision", strconv.FormatInt(s.CurrentRev, 10)},
				{"compact revision", strconv.FormatInt(s.CompactRev, 10)},
				{"keys", strconv.Itoa(s.Keys())},
				{"key bucket records", strconv.FormatInt(s.Records, 10)},
				{"cluster version", c.ClusterVersion},
				{"alarms", fmt.Sprint(c.Alarms)},
			}
			return doc, rows, []string{"FIELD", "VALUE"}, nil
		})
}

func newMVCCLeasesCommand(g *globalOptions) *cobra.Command {
	return simpleDoc(g, "leases", "The lease bucket, with the keys attached to each lease",
		func(s *mvccview.Store) (any, [][]string, []string, error) {
			ls, err := s.Leases()
			if err != nil {
				return nil, nil, nil, err
			}
			var rows [][]string
			for _, l := range ls {
				rows = append(rows, []string{fmt.Sprintf("%x", l.ID), strconv.FormatInt(l.TTL, 10), strconv.FormatInt(l.RemainingTTL, 10), fmt.Sprint(len(l.Keys)), l.Problem})
			}
			return struct {
				Leases []mvccview.Lease `json:"leases"`
			}{ls}, rows, []string{"ID", "TTL", "REMAINING", "KEYS", "PROBLEM"}, nil
		})
}

func newMVCCMembersCommand(g *globalOptions) *cobra.Command {
	return simpleDoc(g, "members", "The members and members_removed buckets",
		func(s *mvccview.Store) (any, [][]string, []string, error) {
			ms, err := s.Members()
			if err != nil {
				return nil, nil, nil, err
			}
			var rows [][]string
			for _, m := range ms {
				rows = append(rows, []string{m.ID, m.Name, fmt.Sprint(m.PeerURLs), fmt.Sprint(m.ClientURLs), strconv.FormatBool(m.IsLearner), strconv.FormatBool(m.Removed)})
			}
			return struct {
				Members []mvccview.Member `json:"members"`
			}{ms}, rows, []string{"ID", "NAME", "PEER URLS", "CLIENT URLS", "LEARNER", "REMOVED"}, nil
		})
}

func newMVCCAuthCommand(g *globalOptions) *cobra.Command {
	return simpleDoc(g, "auth", "The auth buckets: enabled, revision, users and their roles, roles and their permissions",
		func(s *mvccview.Store) (any, [][]string, []string, error) {
			a, err := s.Auth()
			if err != nil {
				return nil, nil, nil, err
			}
			rows := [][]string{{"auth", "", fmt.Sprintf("enabled=%v revision=%d", a.Enabled, a.Revision)}}
			for _, u := range a.Users {
				rows = append(rows, []string{"user", u.Name, fmt.Sprintf("roles=%v password=%v", u.Roles, u.HasPassword)})
			}
			for _, r := range a.Roles {
				for _, p := range r.Permissions {
					rows = append(rows, []string{"role", r.Name, fmt.Sprintf("%s %s %s", p.Type, quoteKey(p.Key), quoteKey(p.RangeEnd))})
				}
				if len(r.Permissions) == 0 {
					rows = append(rows, []string{"role", r.Name, "no permissions"})
				}
			}
			return a, rows, []string{"KIND", "NAME", "DETAIL"}, nil
		})
}
