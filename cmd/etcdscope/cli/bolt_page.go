package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/etcdscope/etcdscope/boltfmt"
)

// bolt page prints the layouts of boltfmt.DescribePages.

type boltPageOptions struct {
	hex    bool
	values bool
	ids    []boltfmt.PageID // parsed by validate
}

func (o *boltPageOptions) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.hex, "hex", false, "also print the page's bytes as annotated hex (header fields, element headers, keys, values)")
	fs.BoolVar(&o.values, "values", false, "print leaf values instead of their sizes (quoted, with escapes for what is not printable; in a table printable text as it is)")
}

const (
	boltPageShort = "Decode pages: header, elements, bucket entries, freelist ids, meta fields; --hex for annotated bytes"
	boltPageLong  = `Decodes each page given: its header, and by its type the branch elements
(key, child page), the leaf elements (flags, key, value size or value; bucket
entries with their root page and sequence, inline buckets with their elements),
the freelist's page ids, or a meta page's fields. An element whose bounds are
wrong is shown with its problem. Keys in etcd's key bucket are shown as
revisions main_sub (t marks a tombstone). --hex adds the page's bytes, overflow
pages included, with a column naming what starts where. The status and bucket
come from a walk of the whole tree.`
)

func boltPageArgs(cmd *cobra.Command, args []string) error {
	if len(args) < 2 {
		return usagef("%s takes a DB and one or more page ids (got %d arguments)", cmd.CommandPath(), len(args))
	}
	return nil
}

// validate parses the page ids.
func (o *boltPageOptions) validate(args []string) error {
	o.ids = nil
	for _, a := range args[1:] {
		v, err := strconv.ParseUint(a, 0, 64)
		if err != nil {
			return usagef("page id %q: want a non-negative integer", a)
		}
		o.ids = append(o.ids, boltfmt.PageID(v))
	}
	return nil
}

func (o *boltPageOptions) run(e *boltEnv, _ []string) error {
	for _, id := range o.ids {
		if id >= e.db.FilePages() {
			return fmt.Errorf("%s: page %d is beyond the end of the file (%d pages of %d bytes); see etcdscope bolt info", e.path, id, e.db.FilePages(), e.db.PageSize)
		}
	}
	rep, err := e.walk(boltfmt.WalkOptions{})
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(e.cmd.OutOrStdout(), 64<<10)
	opts := boltfmt.DescribeOptions{Annotate: o.hex, Key: boltKeys, Values: o.values}
	first := true
	err = e.db.DescribePages(rep, o.ids, opts, func(l *boltfmt.PageLayout) error {
		if !first && e.format != formatJSON {
			w.WriteString("\n")
		}
		first = false
		return o.render(w, e.format, l)
	})
	if err != nil {
		return fmt.Errorf("reading %s: %w", e.path, err)
	}
	return w.Flush()
}

func (o *boltPageOptions) render(w *bufio.Writer, format outputFormat, l *boltfmt.PageLayout) error {
	switch format {
	case formatJSON:
		b, err := json.Marshal(l)
		if err != nil {
			return err
		}
		_, err = w.Write(append(b, '\n'))
		return err
	case formatTable:
		l.DescribeHeader(w)
		if hdr, rows := l.ElementRows(); len(rows) > 0 {
			if err := renderTable(w, hdr, rows); err != nil {
				return err
			}
		}
	default:
		l.Describe(w)
	}
	if o.hex {
		fmt.Fprintln(w)
		_, err := l.Hex(0).WriteTo(w)
		return err
	}
	return nil
}
