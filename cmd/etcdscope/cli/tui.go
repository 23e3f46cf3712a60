package cli

import (
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/etcdscope/etcdscope/internal/datadir"
	"github.com/etcdscope/etcdscope/replay"
	"github.com/etcdscope/etcdscope/tui"
)

func newTUICommand() *cobra.Command {
	return &cobra.Command{
		Use:   "tui PATH",
		Short: "Browse a member's WAL, snap files, db and MVCC state in the terminal, read-only",
		Long: `Opens a terminal browser over PATH (a data dir, a member dir, a wal dir, one
.wal file or a db file), one tab for each it holds:

- WAL: the segments, each segment's records with their offsets, types, raft
  index and term and CRC status, and the selected record decoded and in hex;
  i goes to a raft index, o to an offset of the segment shown, / to the next
  record whose decoded request or problem holds some text.
- Snap: the .snap and .snap.db files and the db's container: raft term and
  index, conf state, members, cluster version, CRC and trailer checks.
- Bolt: a map of the db's pages (meta, branch, leaf, overflow, freelist, free,
  unreached, damaged) and the selected page's header, problems and hex; b
  turns to the bucket browser: buckets, their keys a screen at a time, and
  the selected value as etcd's KeyValue, protobuf fields, JSON, text or
  hex (v cycles).
- MVCC: the keys live at a revision (- and + move it, c goes back to the
  current one), and the selected key's history and value at that revision;
  in a data dir replay wrote, the raft entry behind each revision.
- Findings: everything inspect finds in a member (the decoders' problems in
  the WAL, the snap files and the db, and its cross-checks between them), or
  what wal verify, bolt check and snap dump find in a lone WAL, db or snap
  dir; enter shows a record or a page in its tab.

n and N jump to the next and previous problem; in the bucket browser and the
MVCC tab, / searches keys and values and n goes to the next match. ] and [
switch tabs; the mouse wheel scrolls; ? shows every key; q quits. The files
are opened read-only and never locked.`,
		Args: exactArgs(1, "one PATH (data dir, member dir, wal dir, .wal file or db)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return tuiFunc(cmd, args[0])
		},
	}
}

func tuiFunc(cmd *cobra.Command, arg string) error {
	var opts tui.OpenOptions
	if pl := openProvenance(arg); pl != nil {
		defer pl.Close()
		opts.Provenance = func(rev int64) (string, bool) {
			p, ok := pl.Lookup(rev)
			return p.String(), ok
		}
	}
	src, closer, err := tui.Open(arg, opts)
	if err != nil {
		return err
	}
	defer closer.Close()
	return tui.Run(cmd.Context(), src, tui.Options{})
}

// openProvenance opens what a data dir replay wrote knows: the raft entry
// behind each revision; nil for any other dir.
func openProvenance(arg string) *replay.ProvenanceLookup {
	l, err := datadir.Resolve(arg)
	if err != nil {
		return nil
	}
	pl, err := replay.OpenProvenance(filepath.Join(l.Base, replay.ProvenanceFile))
	if err != nil {
		return nil
	}
	return pl
}
