package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/finding"
	"github.com/etcdscope/etcdscope/inspect"
	"github.com/etcdscope/etcdscope/internal/datadir"
)

func newBoltCommand(g *globalOptions) *cobra.Command {
	c := &cobra.Command{
		Use:   "bolt",
		Short: "Read and check a bbolt db page by page, without bbolt's runtime",
		Long: `The bolt commands read a bbolt file (etcd's member/snap/db, a .snap.db, an
etcdctl snapshot) page by page through plain reads: they never map, lock or write
it, so they work on damaged files that make bbolt panic and next to a running
etcd. DB is a db file, or an etcd data dir or member dir (member/snap/db).`,
	}
	oneDB := exactArgs(1, "one DB (a bbolt file, or an etcd data dir)")
	for _, l := range []struct {
		o boltLeaf
		c *cobra.Command
	}{
		{&boltCheckOptions{}, &cobra.Command{Use: "check DB", Short: boltCheckShort, Long: boltCheckLong, Args: oneDB}},
		{&boltInfoOptions{}, &cobra.Command{Use: "info DB", Short: boltInfoShort, Args: oneDB}},
		{&boltPagesOptions{}, &cobra.Command{Use: "pages DB", Short: boltPagesShort, Long: boltPagesLong, Args: oneDB}},
		{&boltPageOptions{}, &cobra.Command{Use: "page DB ID...", Short: boltPageShort, Long: boltPageLong, Args: boltPageArgs}},
		{&boltBucketsOptions{}, &cobra.Command{Use: "buckets DB", Short: boltBucketsShort, Args: oneDB}},
		{&boltKeysOptions{}, &cobra.Command{Use: "keys DB BUCKET", Short: boltKeysShort, Long: boltKeysLong, Args: exactArgs(2, "a DB and a BUCKET")}},
		{&boltGetOptions{}, &cobra.Command{Use: "get DB BUCKET KEY", Short: boltGetShort, Long: boltGetLong, Args: exactArgs(3, "a DB, a BUCKET and a KEY")}},
	} {
		c.AddCommand(newBoltLeaf(g, l.o, l.c))
	}
	return c
}

// boltLeaf is what a bolt leaf command is made of, in the manner of bbolt's
// own commands: options that add its flags, and run, which does its job
// on the db that args[0] names.
type boltLeaf interface {
	AddFlags(fs *pflag.FlagSet)
	run(e *boltEnv, args []string) error
}

// boltValidator is a boltLeaf whose arguments are checked before the db is
// opened.
type boltValidator interface {
	validate(args []string) error
}

// noFlags is the AddFlags of a bolt command with only the global flags.
type noFlags struct{}

func (noFlags) AddFlags(*pflag.FlagSet) {}

// newBoltLeaf completes c with o's flags and a RunE that validates the
// arguments, opens the db and runs o on it.
func newBoltLeaf(g *globalOptions, o boltLeaf, c *cobra.Command) *cobra.Command {
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if v, ok := o.(boltValidator); ok {
			if err := v.validate(args); err != nil {
				return err
			}
		}
		return withBolt(cmd, g, args, o.run)
	}
	o.AddFlags(c.Flags())
	return c
}

// openBolt resolves arg to a db file and opens it read-only.
func openBolt(arg string) (datadir.Layout, *boltfmt.DB, string, error) {
	l, err := datadir.Resolve(arg)
	if err != nil {
		return l, nil, "", err
	}
	path := l.DB
	if path == "" {
		return l, nil, "", &datadir.Error{Path: arg, Err: errors.New("no bbolt db found"), Hint: "give a db file, or an etcd data dir or member dir holding member/snap/db"}
	}
	db, err := boltfmt.Open(path, boltfmt.Options{})
	if err != nil {
		return l, nil, path, err
	}
	return l, db, path, nil
}

// boltEnv is what a bolt command runs with: the output format and the db,
// opened read-only.
type boltEnv struct {
	cmd    *cobra.Command
	format outputFormat
	l      datadir.Layout
	path   string
	db     *boltfmt.DB
}

// withBolt is the prologue of every bolt command: it resolves args[0] to
// a db, opens it read-only, runs fn and closes the db.
func withBolt(cmd *cobra.Command, g *globalOptions, args []string, fn func(*boltEnv, []string) error) error {
	l, db, path, err := openBolt(args[0])
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(&boltEnv{cmd: cmd, format: g.output(), l: l, path: path, db: db}, args)
}

// walk walks the db, with the one-line warning every browsing command
// gives when the walk found problems; the problems themselves are bolt
// check's.
func (e *boltEnv) walk(opts boltfmt.WalkOptions) (*boltfmt.Report, error) {
	rep, err := e.db.Walk(opts)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", e.path, err)
	}
	browseWarn(e.cmd.ErrOrStderr(), e.path, rep.Problems)
	return rep, nil
}

func browseWarn(w io.Writer, file string, problems []error) {
	if n := len(problems); n > 0 {
		fmt.Fprintf(w, "etcdscope: warning: %s: %d %s; run etcdscope bolt check\n", file, n, plural(n, "problem"))
	}
}

// ---- bolt check ----

type boltCheckOptions struct{ noFlags }

const (
	boltCheckShort = "Check every page, key and reference; report every problem with its page id and offset"
	boltCheckLong  = `Checks everything bbolt's own check verifies (pages referenced once, ids below
the high-water mark, reachable pages not freed, every page reachable or free, key
order within pages and across the tree) and what it does not: both meta pages,
element bounds, inline buckets, bucket headers, cycles, freelist ids in range, a
file shorter than its high-water mark. It reports every problem, not the first;
with meta 0 damaged it checks the tree of meta 1 and says so, and with both
damaged it checks the tree of the more plausible one.`
)

func (o *boltCheckOptions) run(e *boltEnv, _ []string) error {
	rep, err := e.db.Walk(boltfmt.WalkOptions{})
	if err != nil {
		return fmt.Errorf("reading %s: %w", e.path, err)
	}
	file := e.l.Rel(e.path)
	fr := inspect.Bolt(e.path, rep.Problems, e.l.Rel)
	if e.format != formatJSON {
		fmt.Fprintf(e.cmd.ErrOrStderr(), "%s: %s; %d pages below the high-water mark: %d in the tree, %d free, %d orphaned; %d buckets\n",
			file, e.db.Why, rep.HWM, rep.Tree, rep.Free, rep.Orphans, len(rep.Buckets)-1)
		return renderFindings(e.cmd.OutOrStdout(), e.cmd.ErrOrStderr(), e.format, fr)
	}
	doc := struct {
		*finding.Report
		File     string `json:"file"`
		MetaUsed int    `json:"meta_used"`
		Why      string `json:"why"`
		HWM      uint64 `json:"hwm"`
		Tree     int    `json:"tree_pages"`
		Free     int    `json:"free_pages"`
		Orphans  int    `json:"orphan_pages"`
		Buckets  int    `json:"buckets"`
	}{fr, file, rep.MetaUsed, e.db.Why, uint64(rep.HWM), rep.Tree, rep.Free, rep.Orphans, len(rep.Buckets) - 1}
	return writeReport(e.cmd.OutOrStdout(), doc, fr)
}

// ---- bolt info ----

type boltInfoOptions struct{ noFlags }

const boltInfoShort = "Show both meta pages, which one bbolt would use and why, page size and high-water mark"

func (o *boltInfoOptions) run(e *boltEnv, _ []string) error {
	info, file, out := e.db.Info(), e.l.Rel(e.path), e.cmd.OutOrStdout()
	switch e.format {
	case formatJSON:
		return writeJSON(out, struct {
			File string `json:"file"`
			*boltfmt.Info
		}{file, info})
	case formatTable:
		info.DescribeHeader(out, file)
		hdr, rows := info.Rows()
		return renderTable(out, hdr, rows)
	}
	info.Describe(out, file)
	return nil
}
