package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/diff"
	"github.com/spf13/cobra"

	"github.com/etcdscope/etcdscope/cmd/etcdscope/cli"
	"github.com/etcdscope/etcdscope/internal/etcdtest"
)

// The generated command reference sits between these lines of README.md.
const (
	referenceBegin = "<!-- commands:begin -->"
	referenceEnd   = "<!-- commands:end -->"
)

const referenceHint = "go test ./cmd/etcdscope -run TestREADMECommands -update"

// TestREADMECommands: README.md's command reference is what the command
// tree's help says (Use, Short, Long, Example and flags of every command,
// the source of --help). With -update it rewrites the reference.
func TestREADMECommands(t *testing.T) {
	path := filepath.Join(etcdtest.RepoRoot(t), "README.md")
	readme, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	before, rest, ok1 := bytes.Cut(readme, []byte(referenceBegin+"\n"))
	old, after, ok2 := bytes.Cut(rest, []byte(referenceEnd+"\n"))
	if !ok1 || !ok2 {
		t.Fatalf("README.md has no %s ... %s section for the command reference", referenceBegin, referenceEnd)
	}
	want := []byte(commandReference(cli.NewRootCommand()))
	if bytes.Equal(old, want) {
		return
	}
	if *update {
		out := bytes.Join([][]byte{before, []byte(referenceBegin + "\n"), want, []byte(referenceEnd + "\n"), after}, nil)
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote the command reference in %s", path)
		return
	}
	t.Errorf("README.md's command reference differs from the commands' help; run\n\t%s\n%s",
		referenceHint, diff.Diff("README.md", old, "help", want))
}

// commandReference renders the tree under root as Markdown: one section
// per available command, depth first in the order --help lists them, with
// its usage line, Short, Long, Example and its own flags (the global ones
// once, under the root).
func commandReference(root *cobra.Command) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<!-- Generated from the command tree by TestREADMECommands: edit the commands, then run %s -->\n", referenceHint)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		use := c.Use
		if c.HasParent() {
			use = c.Parent().CommandPath() + " " + use
		}
		fmt.Fprintf(&b, "\n### `%s`\n\n%s.\n", use, strings.TrimSuffix(c.Short, "."))
		if long := strings.TrimSpace(c.Long); long != "" {
			fmt.Fprintf(&b, "\n%s\n", long)
		}
		if ex := strings.TrimRight(c.Example, " \n"); ex != "" {
			fmt.Fprintf(&b, "\nExamples:\n\n```\n%s\n```\n", ex)
		}
		if flags := c.LocalFlags().FlagUsages(); flags != "" {
			what := "Flags"
			if !c.HasParent() {
				what = "Global flags, for every command"
			}
			fmt.Fprintf(&b, "\n%s:\n\n```\n%s```\n", what, flags)
		}
		if subs := c.Commands(); len(subs) > 0 {
			for _, sub := range subs {
				if sub.IsAvailableCommand() {
					walk(sub)
				}
			}
		}
	}
	walk(root)
	return b.String()
}
