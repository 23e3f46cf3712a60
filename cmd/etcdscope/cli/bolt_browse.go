package cli

import "github.com/spf13/cobra"

// boltBrowseCommands returns bolt pages, page, buckets, keys and get.
func boltBrowseCommands(g *globalOptions) []*cobra.Command { return nil }
