package cli

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

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
	c.AddCommand(newBoltCheckCommand(g), newBoltInfoCommand(g))
	c.AddCommand(boltBrowseCommands(g)...)
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

// ---- bolt check ----

func newBoltCheckCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "check DB",
		Short: "Check every page, key and reference; report every problem with its page id and offset",
		Long: `Checks everything bbolt's own check verifies (pages referenced once, ids below
the high-water mark, reachable pages not freed, every page reachable or free, key
order within pages and across the tree) and what it does not: both meta pages,
element bounds, inline buckets, bucket headers, cycles, freelist ids in range, a
file shorter than its high-water mark. It reports every problem, not the first;
with meta 0 damaged it checks the tree of meta 1 and says so, and with both
damaged it checks the tree of the more plausible one.`,
		Args: exactArgs(1, "one DB (a bbolt file, or an etcd data dir)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := g.format()
			if err != nil {
				return err
			}
			l, db, path, err := openBolt(args[0])
			if err != nil {
				return err
			}
			defer db.Close()
			rep, err := db.Walk(boltfmt.WalkOptions{})
			if err != nil {
				return fmt.Errorf("reading %s: %w", path, err)
			}
			if format != formatJSON {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s: %s; %d pages below the high-water mark: %d in the tree, %d free, %d orphaned; %d buckets\n",
					l.Rel(path), db.Why, rep.HWM, rep.Tree, rep.Free, rep.Orphans, len(rep.Buckets)-1)
			}
			fr := inspect.Bolt(path, rep.Problems, l.Rel)
			if format == formatJSON {
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
				}{fr, l.Rel(path), rep.MetaUsed, db.Why, uint64(rep.HWM), rep.Tree, rep.Free, rep.Orphans, len(rep.Buckets) - 1}
				if err := writeJSON(cmd.OutOrStdout(), doc); err != nil {
					return err
				}
				if fr.HasErrors() {
					return errFindings
				}
				return nil
			}
			return renderFindings(cmd.OutOrStdout(), cmd.ErrOrStderr(), format, fr)
		},
	}
}

// ---- bolt info ----

type boltInfo struct {
	File              string     `json:"file"`
	Size              int64      `json:"size"`
	PageSize          int        `json:"page_size"`
	Metas             [2]metaDoc `json:"metas"`
	Active            int        `json:"active_meta"`
	Why               string     `json:"why"`
	HWM               uint64     `json:"hwm"`
	FilePages         uint64     `json:"file_pages"`
	FreelistPersisted bool       `json:"freelist_persisted"`
}

type metaDoc struct {
	Valid    bool   `json:"valid"`
	Problem  string `json:"problem,omitempty"`
	TxID     uint64 `json:"txid"`
	Root     uint64 `json:"root"`
	Freelist string `json:"freelist"`
	HWM      uint64 `json:"hwm"`
	PageSize uint32 `json:"page_size"`
	Checksum string `json:"checksum"`
	Computed string `json:"computed_checksum"`
}

func newBoltInfoCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "info DB",
		Short: "Show both meta pages, which one bbolt would use and why, page size and high-water mark",
		Args:  exactArgs(1, "one DB (a bbolt file, or an etcd data dir)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := g.format()
			if err != nil {
				return err
			}
			l, db, path, err := openBolt(args[0])
			if err != nil {
				return err
			}
			defer db.Close()
			info := boltInfo{File: l.Rel(path), Size: db.Size(), PageSize: db.PageSize, Active: db.Active, Why: db.Why,
				HWM: uint64(db.HWM()), FilePages: uint64(db.FilePages()), FreelistPersisted: db.Meta().Freelist != boltfmt.NoFreelist}
			for i, m := range db.Metas {
				d := metaDoc{Valid: m.Valid(), TxID: m.TxID, Root: uint64(m.Root), HWM: uint64(m.HWM), PageSize: m.PageSize,
					Checksum: fmt.Sprintf("%016x", m.Checksum), Computed: fmt.Sprintf("%016x", m.Computed), Freelist: freelistText(m.Freelist)}
				if m.Problem != nil {
					d.Problem = m.Problem.Error()
				}
				info.Metas[i] = d
			}
			return renderBoltInfo(cmd.OutOrStdout(), format, &info)
		},
	}
}

func freelistText(id boltfmt.PageID) string {
	if id == boltfmt.NoFreelist {
		return "not persisted"
	}
	return strconv.FormatUint(uint64(id), 10)
}

func boltInfoRows(info *boltInfo) (hdr []string, rows [][]string) {
	hdr = []string{"META", "VALID", "TXID", "ROOT", "FREELIST", "HWM", "PAGE SIZE", "CHECKSUM", "PROBLEM"}
	for i, m := range info.Metas {
		name := strconv.Itoa(i)
		if i == info.Active {
			name += " (active)"
		}
		rows = append(rows, []string{name, strconv.FormatBool(m.Valid), strconv.FormatUint(m.TxID, 10), strconv.FormatUint(m.Root, 10),
			m.Freelist, strconv.FormatUint(m.HWM, 10), strconv.FormatUint(uint64(m.PageSize), 10), m.Checksum, m.Problem})
	}
	return hdr, rows
}

func renderBoltInfo(out io.Writer, format outputFormat, info *boltInfo) error {
	if format == formatJSON {
		return writeJSON(out, info)
	}
	fmt.Fprintf(out, "file: %s, %d bytes (%d pages of %d bytes), high-water mark %d\n", info.File, info.Size, info.FilePages, info.PageSize, info.HWM)
	fmt.Fprintf(out, "meta: %s\n", info.Why)
	hdr, rows := boltInfoRows(info)
	if format == formatTable {
		return renderTable(out, hdr, rows)
	}
	for _, r := range rows {
		fmt.Fprintf(out, "meta %-10s valid=%-5s txid=%s root=%s freelist=%s hwm=%s page_size=%s checksum=%s", r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7])
		if r[8] != "" {
			fmt.Fprintf(out, " problem: %s", r[8])
		}
		fmt.Fprintln(out)
	}
	return nil
}
