package cli

import (
	"github.com/spf13/cobra"

	"github.com/etcdscope/etcdscope/internal/datadir"
	"github.com/etcdscope/etcdscope/tui"
)

func newTUICommand() *cobra.Command {
	return &cobra.Command{
		Use:   "tui PATH",
		Short: "Browse a member's WAL in the terminal, read-only",
		Long: `Opens a terminal browser over PATH (a data dir, a member dir, a wal dir or one
.wal file): the WAL's segments, each segment's records with their offsets,
types, raft index and term and CRC status, and the selected record decoded and
in hex. n and N jump to the next and previous problem, across segments; ? shows
every key; q quits. The files are opened read-only and never locked.`,
		Args: exactArgs(1, "one PATH (data dir, member dir, wal dir or .wal file)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := datadir.Resolve(args[0])
			if err != nil {
				return err
			}
			p, err := l.WAL()
			if err != nil {
				return err
			}
			src, closer, err := tui.OpenWAL(p)
			if err != nil {
				return err
			}
			defer closer.Close()
			return tui.Run(cmd.Context(), tui.Sources{WAL: src}, tui.Options{})
		},
	}
}
