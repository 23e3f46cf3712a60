// Package cli is etcdscope's command tree: one file per noun, each command
// a thin layer that validates flags, calls one library function and
// renders the result.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes, as in diff and CONTRACT.md.
const (
	ExitOK       = 0 // nothing at error severity
	ExitFindings = 1 // findings at error severity
	ExitTrouble  = 2 // the command could not do its job
)

// errFindings is returned by a command that printed findings at error
// severity; it carries no message of its own.
var errFindings = errors.New("findings at error severity")

// usageError marks an error in how the command was called.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// globalOptions are the flags every command has.
type globalOptions struct {
	writeOut string
}

func (o *globalOptions) format() (outputFormat, error) {
	switch o.writeOut {
	case "simple", "":
		return formatSimple, nil
	case "table":
		return formatTable, nil
	case "json":
		return formatJSON, nil
	}
	return 0, usagef("-w %q: want simple, table or json", o.writeOut)
}

// NewRootCommand builds the whole command tree. It has no globals, so it
// can be mounted under another binary.
func NewRootCommand() *cobra.Command {
	g := &globalOptions{}
	root := &cobra.Command{
		Use:   "etcdscope",
		Short: "Offline forensics and repair for etcd data directories",
		Long: `etcdscope reads an etcd member's files (WAL, snapshots, bbolt db) exactly as
they are on disk, reports every problem with its file and byte offset, and never
writes to its input.

Exit status: 0 nothing at error severity, 1 findings at error severity,
2 the command could not do its job.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVarP(&g.writeOut, "write-out", "w", "simple", "output format: simple, table or json")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{err}
	})
	root.AddCommand(newInspectCommand(g), newWALCommand(g), newSnapCommand(g))
	root.AddCommand(newBoltCommand(g), newMVCCCommand(g), newReplayCommand(g), newServeCommand(g), newCompareCommand(g), newRepairCommand(g), newTUICommand())
	return root
}

// Main runs the command line and returns the exit code. Errors are printed
// as one line on stderr.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := NewRootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	return exitCode(err, stderr)
}

func exitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, errFindings):
		return ExitFindings
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "unknown command") || strings.HasPrefix(msg, "unknown flag") ||
		strings.Contains(msg, "accepts") || strings.Contains(msg, "requires") {
		msg += " (see etcdscope --help)"
	}
	fmt.Fprintf(stderr, "etcdscope: %s\n", firstLine(msg))
	return ExitTrouble
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// exactArgs is cobra.ExactArgs with a usage error.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s takes %s (got %d arguments)", cmd.CommandPath(), what, len(args))
		}
		return nil
	}
}
