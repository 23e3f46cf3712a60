package cli

import (
	"bufio"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/etcdscope/etcdscope/inspect"
	"github.com/etcdscope/etcdscope/internal/textfmt"
	"github.com/etcdscope/etcdscope/mvccview"
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

// A described document describes itself, in mvccview: rows for a table,
// lines for the simple form.
type described interface {
	Rows(mvccview.DescribeOptions) (hdr []string, rows [][]string)
	Describe(io.Writer, mvccview.DescribeOptions)
}

// renderDescribed writes doc as JSON, as a table of its rows, or as its
// own lines.
func renderDescribed(out io.Writer, format outputFormat, doc described, o mvccview.DescribeOptions) error {
	switch format {
	case formatJSON:
		return writeJSON(out, doc)
	case formatTable:
		hdr, rows := doc.Rows(o)
		return renderTable(out, hdr, rows)
	}
	bw := bufio.NewWriter(out)
	doc.Describe(bw, o)
	return bw.Flush()
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
// terms (mvccview.KeyRange).
func (o *mvccRangeOptions) span(args []string) (key, end []byte, err error) {
	switch {
	case len(args) == 1 && !o.prefix && !o.fromKey:
		return nil, nil, usagef("give a KEY, or --prefix \"\" for every key")
	case len(args) == 3 && (o.prefix || o.fromKey):
		return nil, nil, usagef("RANGE_END cannot be combined with --prefix or --from-key")
	case o.prefix && o.fromKey:
		return nil, nil, usagef("--prefix and --from-key exclude each other")
	case len(args) == 3:
		end = []byte(args[2])
	}
	if len(args) >= 2 {
		key = []byte(args[1])
	}
	key, end = mvccview.KeyRange(key, end, o.prefix, o.fromKey)
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
		s.Identify(inspect.WALMetadata(args[0]))
		res, err := s.Range(key, end, mvccview.RangeOptions{Rev: o.rev, Limit: o.limit, KeysOnly: o.keysOnly, CountOnly: o.countOnly})
		if err != nil {
			return err
		}
		return renderDescribed(cmd.OutOrStdout(), format, res, mvccview.DescribeOptions{Hex: o.hex, KeysOnly: o.keysOnly, CountOnly: o.countOnly})
	})
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
		h, err := s.History(key)
		if err != nil {
			return err
		}
		if pl := openProvenance(arg); pl != nil {
			defer pl.Close()
			pl.Annotate(h)
		}
		if len(h.Records) == 0 && format != formatJSON {
			fmt.Fprintf(cmd.ErrOrStderr(), "no revision of %s in the db (compacted away, or never written)\n", textfmt.Quote(key))
		}
		return renderDescribed(cmd.OutOrStdout(), format, h, mvccview.DescribeOptions{Values: o.values, Hex: o.hex})
	})
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
		return renderDescribed(cmd.OutOrStdout(), format, h, mvccview.DescribeOptions{})
	})
}

// ---- mvcc meta, leases, members, auth ----

// An mvccDoc is a command that prints one decoded bucket document: read
// gives the document (its JSON) and its rows, which render writes as a
// list (renderList) or as fields (renderFields).
type mvccDoc struct {
	use, short string
	render     func(out io.Writer, format outputFormat, doc any, rows rowsFunc) error
	read       func(*mvccview.Store) (doc any, rows rowsFunc, err error)
}

var mvccDocs = []mvccDoc{
	{"meta", "The meta bucket: consistent_index, term, confState, compaction marks, storage version; and the store's revisions", renderFields, func(s *mvccview.Store) (any, rowsFunc, error) {
		st, err := s.Status()
		return st, st.Rows, err
	}},
	{"leases", "The lease bucket, with the keys attached to each lease", renderList, func(s *mvccview.Store) (any, rowsFunc, error) {
		ls, err := s.Leases()
		return map[string]mvccview.Leases{"leases": ls}, ls.Rows, err
	}},
	{"members", "The members and members_removed buckets", renderList, func(s *mvccview.Store) (any, rowsFunc, error) {
		ms, err := s.Members()
		return map[string]mvccview.Members{"members": ms}, ms.Rows, err
	}},
	{"auth", "The auth buckets: enabled, revision, users and their roles, roles and their permissions", renderList, func(s *mvccview.Store) (any, rowsFunc, error) {
		a, err := s.Auth()
		return a, a.Rows, err
	}},
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
				return d.render(cmd.OutOrStdout(), g.output(), doc, rows)
			})
		},
	}
}
