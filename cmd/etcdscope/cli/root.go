// Package cli is etcdscope's command tree: one file per noun, each command
// a thin layer that validates flags, calls one library function and
// renders the result.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/etcdscope/etcdscope/internal/etcdrelease"
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

// usageError marks an error in how the command was called: a bad flag,
// flag value or argument, an unknown command. It exits 2 with a pointer to
// the command's help.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// asUsage marks err, from an argument or flag check, as a usage error.
func asUsage(err error) error {
	if err == nil || errors.As(err, new(usageError)) {
		return err
	}
	return usageError{err}
}

// globalOptions are the flags every command has.
type globalOptions struct {
	writeOut string
}

var writeOutValues = []string{"simple", "table", "json"}

func (o *globalOptions) AddFlags(fs *pflag.FlagSet) {
	o.writeOut = "simple"
	fs.VarP(enumValue(&o.writeOut, writeOutValues), "write-out", "w", "output format: simple, table or json")
}

// output is the output format -w chose (checked when the flag was parsed).
func (o *globalOptions) output() outputFormat {
	return outputFormat(slices.Index(writeOutValues, o.writeOut))
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
		Version:       buildVersion().Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	g.AddFlags(root.PersistentFlags())
	root.SetVersionTemplate(buildVersion().text())
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(newInspectCommand(g), newWALCommand(g), newSnapCommand(g))
	root.AddCommand(newBoltCommand(g), newMVCCCommand(g), newReplayCommand(g), newServeCommand(), newCompareCommand(g), newRepairCommand(g), newTUICommand())
	root.AddCommand(newVersionCommand(g))
	// cobra adds the help command as it runs: add it now, so that it gets
	// its examples and its argument check too.
	root.InitDefaultHelpCmd()
	finishTree(root)
	return root
}

// flagError makes a flag's parse error a usage error, suggesting the
// nearest flags for an unknown one.
func flagError(c *cobra.Command, err error) error {
	var ne *pflag.NotExistError
	if errors.As(err, &ne) && ne.GetSpecifiedShortnames() == "" {
		var names []string
		c.Flags().VisitAll(func(f *pflag.Flag) { names = append(names, "--"+f.Name) })
		err = fmt.Errorf("%w%s", err, didYouMean("--"+ne.GetSpecifiedName(), names))
	}
	return usageError{err}
}

// finishTree gives every command of the tree what the contract asks of all
// of them: its examples (examples.go), argument errors that are usage
// errors, and, for a command with subcommands, an unknown subcommand
// refused with a suggestion instead of the help.
func finishTree(c *cobra.Command) {
	c.Example = examples[c.CommandPath()]
	switch {
	case c.Name() == "help":
		c.Args = func(cmd *cobra.Command, args []string) error {
			if found, rest, _ := cmd.Root().Find(args); len(rest) > 0 {
				return subcommandArgs(found, rest)
			}
			return nil
		}
	case c.HasSubCommands():
		c.Args = subcommandArgs
		c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	case c.Args != nil:
		args := c.Args
		c.Args = func(cmd *cobra.Command, a []string) error { return asUsage(args(cmd, a)) }
	}
	for _, s := range c.Commands() {
		finishTree(s)
	}
}

// flagger is a command's options: the flags they take.
type flagger interface{ AddFlags(*pflag.FlagSet) }

// leaf completes c, a command without subcommands, with o's flags and run
// as its RunE.
func leaf(c *cobra.Command, o flagger, run func(cmd *cobra.Command, args []string) error) *cobra.Command {
	c.RunE = run
	o.AddFlags(c.Flags())
	return c
}

// subcommandArgs refuses an argument where a subcommand is expected.
func subcommandArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	var names []string
	for _, s := range cmd.Commands() {
		if s.IsAvailableCommand() {
			names = append(names, s.Name())
			names = append(names, s.Aliases...)
		}
	}
	return usagef("unknown command %q for %q%s", args[0], cmd.CommandPath(), didYouMean(args[0], names))
}

// Main runs the command line and returns the exit code. Errors are printed
// as one line on stderr.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := NewRootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	return exitCode(cmd, err, stderr)
}

func exitCode(cmd *cobra.Command, err error, stderr io.Writer) int {
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, errFindings):
		return ExitFindings
	}
	msg := err.Error()
	if errors.As(err, new(usageError)) {
		if cmd.Name() == "help" {
			cmd = cmd.Root()
		}
		msg = fmt.Sprintf("%s (see %s --help)", firstLine(msg), cmd.CommandPath())
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

// exactArgs is cobra.ExactArgs with a message that says what is wanted.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return rangeArgs(n, n, what)
}

// rangeArgs is cobra.RangeArgs with a message that says what is wanted.
func rangeArgs(min, max int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < min || len(args) > max {
			return usagef("%s takes %s (got %d arguments)", cmd.CommandPath(), what, len(args))
		}
		return nil
	}
}

// enumFlag is a flag that takes values from a fixed list: a string, or a
// list of strings given comma-separated or by repeating the flag. A value
// not in the list is a usage error that gives the list and the nearest
// values, as cobra suggests commands.
type enumFlag struct {
	one   *string
	many  *[]string
	valid []string
}

func enumValue(p *string, valid []string) *enumFlag       { return &enumFlag{one: p, valid: valid} }
func enumListValue(p *[]string, valid []string) *enumFlag { return &enumFlag{many: p, valid: valid} }

func (f *enumFlag) Set(s string) error {
	if f.one != nil {
		if err := f.check(s); err != nil {
			return err
		}
		*f.one = s
		return nil
	}
	for _, v := range strings.Split(s, ",") {
		if err := f.check(v); err != nil {
			return err
		}
		*f.many = append(*f.many, v)
	}
	return nil
}

func (f *enumFlag) check(s string) error {
	if slices.Contains(f.valid, s) {
		return nil
	}
	return fmt.Errorf("%q is not one of %s%s", s, strings.Join(f.valid, ", "), didYouMean(s, f.valid))
}

func (f *enumFlag) String() string {
	if f.one != nil {
		return *f.one
	}
	return strings.Join(*f.many, ",")
}

func (f *enumFlag) Type() string {
	if f.one != nil {
		return "string"
	}
	return "strings"
}

// didYouMean suggests the names nearest to s, as cobra does for commands:
// those within an edit distance of 2, or that s is a prefix of; and those
// that s starts like ("entries" for "entry").
func didYouMean(s string, names []string) string {
	var near []string
	for _, n := range names {
		common := 0
		for common < len(s) && common < len(n) && s[common] == n[common] {
			common++
		}
		if editDistance(strings.ToLower(s), strings.ToLower(n)) <= 2 || s != "" && strings.HasPrefix(n, s) || common >= min(4, len(n)) {
			near = append(near, fmt.Sprintf("%q", n))
		}
	}
	if len(near) == 0 || len(near) > 3 {
		return ""
	}
	return "; did you mean " + strings.Join(near, " or ") + "?"
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// ---- version ----

// versionInfo is what etcdscope version prints.
type versionInfo struct {
	Version string   `json:"etcdscope_version"`
	Go      string   `json:"go_version"`
	Etcd    []string `json:"etcd_versions_tested"`
}

// buildVersion is the main module's version as the build recorded it
// ("(devel)" when built from a checkout without one).
func buildVersion() versionInfo {
	v := versionInfo{Version: "(devel)", Go: runtime.Version(), Etcd: etcdrelease.Tested}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	return v
}

func (v versionInfo) rows() (hdr []string, rows [][]string) {
	return []string{"FIELD", "VALUE"}, [][]string{
		{"etcdscope version", v.Version},
		{"Go version", v.Go},
		{"etcd versions tested", strings.Join(v.Etcd, ", ")},
	}
}

func (v versionInfo) text() string {
	_, rows := v.rows()
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%s: %s\n", r[0], r[1])
	}
	return b.String()
}

func newVersionCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print etcdscope's version, its Go version and the etcd versions it is tested against",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := buildVersion()
			return renderFields(cmd.OutOrStdout(), g.output(), v, v.rows)
		},
	}
}
