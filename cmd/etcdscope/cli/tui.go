package cli

import (
	"github.com/spf13/cobra"

	"github.com/etcdscope/etcdscope/internal/datadir"
	"github.com/etcdscope/etcdscope/tui"
)

func newTUICommand() *cobra.Command {
	return &cobra.Command{
		Use:   "tui PATH",
		Short: "Browse a member's WAL and db in the terminal, read-only",
		Long: `Opens a terminal browser over PATH (a data dir, a member dir, a wal dir, one
.wal file or a db file), one tab for each it holds:

- WAL: the segments, each segment's records with their offsets, types, raft
  index and term and CRC status, and the selected record decoded and in hex.
- Snap: the .snap and .snap.db files and the db's container: raft term and
  index, conf state, members, cluster version, CRC and trailer checks.
- Bolt: a map of the db's pages (meta, branch, leaf, overflow, freelist, free,
  unreached, damaged) and the selected page's header, problems and hex.
- MVCC: the keys live at a revision (- and + move it, c goes back to the
  current one), and the selected key's history and value at that revision.

- Findings: every problem the decoders found in the WAL, the snap files and
  the db; enter shows it in its tab.

n and N jump to the next and previous problem; ] and [ switch tabs; ? shows
every key; q quits. The files are opened read-only and never locked.`,
		Args: exactArgs(1, "one PATH (data dir, member dir, wal dir, .wal file or db)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := datadir.Resolve(args[0])
			if err != nil {
				return err
			}
			var src tui.Sources
			if p, err := l.WAL(); err == nil {
				w, closer, err := tui.OpenWAL(p)
				if err != nil {
					return err
				}
				defer closer.Close()
				src.WAL = w
			}
			if l.SnapDir != "" {
				items, err := tui.SnapItems(l.SnapDir)
				if err != nil {
					return err
				}
				src.Snap = items
			}
			if l.DB != "" {
				b, closer, err := tui.OpenBolt(l.DB)
				if err != nil {
					return err
				}
				defer closer.Close()
				src.Bolt = b
				mv, closer2, err := tui.OpenMVCC(l.DB)
				if err != nil {
					return err
				}
				defer closer2.Close()
				src.MVCC = mv
			}
			if src.Findings, err = tui.FindingItems(src.WAL, src.Bolt, src.Snap); err != nil {
				return err
			}
			return tui.Run(cmd.Context(), src, tui.Options{})
		},
	}
}
