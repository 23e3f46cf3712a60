package main

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/spf13/cobra"

	"github.com/etcdscope/etcdscope/cmd/etcdscope/cli"
	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/fixture"
)

// update rewrites the golden output instead of comparing with it: the
// files compared by cmp in testdata/script/*.txtar, and the command
// reference in README.md (TestREADMECommands).
var update = flag.Bool("update", false, "rewrite the golden output in testdata/script/*.txtar and README.md's command reference")

// TestMain registers the real main as the command etcdscope, so that a
// script's "exec etcdscope ..." runs this test binary as etcdscope in a
// child process: its own arguments, stdout, stderr and exit code.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"etcdscope": main})
}

// TestScripts runs testdata/script/*.txtar, one script per command and
// case (<noun>-<case>.txtar), on copies of testdata/sample, healthy and
// damaged. Refresh the expected output with
//
//	go test ./cmd/etcdscope -run TestScripts -update
//
// Besides testscript's own commands, the scripts have these:
//
//	exits N PROGRAM ARGS...   exec PROGRAM, and fail unless it exits with
//	                          status N (! exec cannot tell 1, findings,
//	                          from 2, could not do its job)
//	sample DIR                copy testdata/sample to DIR
//	damage DIR HOW...         damage the copy at DIR (see damages)
//	hash DIR...               record the state of every file under DIR
//	unchanged DIR...          fail unless DIR is as hash recorded it
//	scrub stdout|stderr FILE  write the last exec's output to FILE for cmp,
//	                          with what changes from run to run ($WORK,
//	                          durations) replaced and a final newline made
//	                          explicit
func TestScripts(t *testing.T) {
	sample := etcdtest.SampleDir(t)
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		UpdateScripts:       *update,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			tb, ok := env.T().(testing.TB)
			if !ok {
				return fmt.Errorf("testscript's T is a %T, not a testing.TB", env.T())
			}
			env.Values[scriptKey{}] = &scriptState{tb: tb, sample: sample, hashes: map[string]*recordedDir{}}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":     cmdExits,
			"sample":    cmdSample,
			"damage":    cmdDamage,
			"hash":      cmdHash,
			"unchanged": cmdUnchanged,
			"scrub":     cmdScrub,
		},
	})
}

type scriptKey struct{}

// scriptState is what one script's commands share.
type scriptState struct {
	tb     testing.TB              // the script's subtest
	sample string                  // testdata/sample
	hashes map[string]*recordedDir // by absolute path
}

// recordedDir is a dir hash recorded: etcdtest.RequireUnchanged's check,
// which reports to tb.
type recordedDir struct {
	tb    *scriptTB
	check func()
}

func state(ts *testscript.TestScript) *scriptState {
	return ts.Value(scriptKey{}).(*scriptState)
}

// scriptTB is the script's testing.TB for the fixture and etcdtest
// helpers: a fatal failure is reported on the script's line (ts.Fatalf)
// instead of ending the subtest's goroutine, and Error and Errorf are
// collected in errs.
type scriptTB struct {
	testing.TB
	ts   *testscript.TestScript
	errs []string
}

func newTB(ts *testscript.TestScript) *scriptTB {
	return &scriptTB{TB: state(ts).tb, ts: ts}
}

func (s *scriptTB) Helper()                           {}
func (s *scriptTB) Fatal(args ...any)                 { s.ts.Fatalf("%s", fmt.Sprint(args...)) }
func (s *scriptTB) Fatalf(format string, args ...any) { s.ts.Fatalf(format, args...) }
func (s *scriptTB) FailNow()                          { s.ts.Fatalf("FailNow called") }
func (s *scriptTB) Error(args ...any)                 { s.errs = append(s.errs, fmt.Sprint(args...)) }
func (s *scriptTB) Errorf(format string, args ...any) {
	s.errs = append(s.errs, fmt.Sprintf(format, args...))
}

func positive(ts *testscript.TestScript, neg bool, name string) {
	if neg {
		ts.Fatalf("unsupported: ! %s", name)
	}
}

// cmdExits runs a program as exec does (its stdout and stderr are then
// what cmp stdout and cmp stderr compare) and checks its exit status.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	positive(ts, neg, "exits")
	if len(args) < 2 {
		ts.Fatalf("usage: exits N PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits %s: want a number", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() < 0 {
			ts.Fatalf("exits: %v", err)
		}
		got = exit.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

// cmdSample copies testdata/sample, the committed etcd 3.6 member, to
// each DIR in the script's work dir.
func cmdSample(ts *testscript.TestScript, neg bool, args []string) {
	positive(ts, neg, "sample")
	if len(args) == 0 {
		ts.Fatalf("usage: sample DIR...")
	}
	for _, dir := range args {
		fixture.CopyDirTo(newTB(ts), state(ts).sample, ts.MkAbs(dir))
	}
}

// damages are the ways damage breaks a copy of the sample, each with the
// repository's own corruptors (internal/fixture) at computed offsets.
// HOW is a name, or name=N for those that take a number (arg).
var damages = map[string]damage{
	"wal-flip": {true, "one bit flipped in the last byte of the middle entry record of segment N (0 is the first): wal-crc-mismatch", func(tb testing.TB, dir string, n int64) {
		seg, bad := middleEntry(tb, dir, n)
		fixture.FlipBit(tb, seg, bad.Offset+8+bad.Length-1, 0)
	}},
	"wal-record": {true, "one bit flipped in the first byte (the type tag) of the middle entry record of segment N, so that it no longer decodes: wal-bad-record, and nothing at the record after it", func(tb testing.TB, dir string, n int64) {
		seg, bad := middleEntry(tb, dir, n)
		fixture.FlipBit(tb, seg, bad.Offset+8, 2)
	}},
	"wal-torn": {false, "the last record of the last segment cut in half, as by a crash mid-write: wal-torn-tail", func(tb testing.TB, dir string, _ int64) {
		segs := fixture.Segments(tb, walDir(dir))
		seg := segs[len(segs)-1]
		fr := fixture.Frames(tb, seg)
		last := fr[len(fr)-1]
		fixture.Truncate(tb, seg, last.Offset+8+last.Length/2)
	}},
	"snap-flip": {false, "one bit flipped in the second .snap file: snap-crc-mismatch", func(tb testing.TB, dir string, _ int64) {
		snaps, _ := filepath.Glob(filepath.Join(dir, "member", "snap", "*.snap"))
		if len(snaps) < 2 {
			tb.Fatalf("%s: %d .snap files, want 2 or more", dir, len(snaps))
		}
		fixture.FlipBit(tb, snaps[1], 100, 2)
	}},
	"db-page": {true, "the db's page N zeroed (the sample's pages are 4096 bytes; 18 is meta 0's root, 49 a leaf of etcd's key bucket)", func(tb testing.TB, dir string, n int64) {
		if st, err := os.Stat(dbPath(dir)); err != nil || n < 0 || (n+1)*4096 > st.Size() {
			tb.Fatalf("%s: no page %d (%v)", dbPath(dir), n, err)
		}
		fixture.Zero(tb, dbPath(dir), n*4096, 4096)
	}},
	"db-meta0": {false, "one bit flipped in meta 0's checksum: bolt-meta-invalid, bbolt falls back to meta 1", func(tb testing.TB, dir string, _ int64) {
		fixture.FlipBit(tb, dbPath(dir), 16+56, 0)
	}},
	"db-value": {true, "the last byte of the value written at revision N changed in place (no checksum sees it)", func(tb testing.TB, dir string, rev int64) {
		fixture.RewriteValue(tb, dbPath(dir), rev)
	}},
	"db-remove": {false, "the db removed: db-missing", func(tb testing.TB, dir string, _ int64) {
		if err := os.Remove(dbPath(dir)); err != nil {
			tb.Fatal(err)
		}
	}},
	"random": {true, "fixture.DamageMember with a PCG seeded (N, N): one to four 4 KiB blocks of the db or the WAL zeroed or a bit flipped", func(tb testing.TB, dir string, seed int64) {
		fixture.DamageMember(tb, rand.New(rand.NewPCG(uint64(seed), uint64(seed))), dir)
	}},
}

// middleEntry returns segment N of the copy at dir and its middle entry
// record.
func middleEntry(tb testing.TB, dir string, n int64) (string, fixture.Frame) {
	segs := fixture.Segments(tb, walDir(dir))
	if n < 0 || n >= int64(len(segs)) {
		tb.Fatalf("%s: no segment %d of %d", dir, n, len(segs))
	}
	var entries []fixture.Frame
	for _, f := range fixture.Frames(tb, segs[n]) {
		if f.Type == 2 { // walpb.EntryType
			entries = append(entries, f)
		}
	}
	if len(entries) == 0 {
		tb.Fatalf("%s: no entry records", segs[n])
	}
	return segs[n], entries[len(entries)/2]
}

type damage struct {
	arg  bool // takes =N
	help string
	do   func(tb testing.TB, dir string, n int64)
}

func (d damage) usage(name string) string {
	if d.arg {
		name += "=N"
	}
	return name + ": " + d.help
}

func walDir(dir string) string { return filepath.Join(dir, "member", "wal") }
func dbPath(dir string) string { return filepath.Join(dir, "member", "snap", "db") }

// cmdDamage damages the copy of the sample at DIR in each way HOW names,
// in order.
func cmdDamage(ts *testscript.TestScript, neg bool, args []string) {
	positive(ts, neg, "damage")
	if len(args) < 2 {
		var names []string
		for name, d := range damages {
			names = append(names, "\t"+d.usage(name))
		}
		slices.Sort(names)
		ts.Fatalf("usage: damage DIR HOW...; HOW is one of\n%s", strings.Join(names, "\n"))
	}
	dir := ts.MkAbs(args[0])
	for _, how := range args[1:] {
		name, arg, hasArg := strings.Cut(how, "=")
		d, ok := damages[name]
		switch {
		case !ok:
			ts.Fatalf("damage: unknown %q (run damage without arguments for the list)", how)
		case hasArg != d.arg:
			ts.Fatalf("damage %s: want %s", how, d.usage(name))
		}
		var n int64
		if hasArg {
			var err error
			if n, err = strconv.ParseInt(arg, 10, 64); err != nil {
				ts.Fatalf("damage %s: %v", how, err)
			}
		}
		d.do(newTB(ts), dir, n)
	}
}

// cmdHash records the state of every file and directory under each DIR
// (etcdtest.RequireUnchanged: type, permissions, size, modification time,
// sha256) for unchanged.
func cmdHash(ts *testscript.TestScript, neg bool, args []string) {
	positive(ts, neg, "hash")
	if len(args) == 0 {
		ts.Fatalf("usage: hash DIR...")
	}
	for _, dir := range args {
		tb := newTB(ts)
		state(ts).hashes[ts.MkAbs(dir)] = &recordedDir{tb: tb, check: etcdtest.RequireUnchanged(tb, ts.MkAbs(dir))}
	}
}

// cmdUnchanged fails unless each DIR is as hash recorded it; with !,
// unless each DIR changed.
func cmdUnchanged(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) == 0 {
		ts.Fatalf("usage: unchanged DIR...")
	}
	for _, dir := range args {
		r, ok := state(ts).hashes[ts.MkAbs(dir)]
		if !ok {
			ts.Fatalf("unchanged %s: not hashed; run hash %s first", dir, dir)
		}
		r.tb.errs = nil
		r.check()
		switch {
		case neg && len(r.tb.errs) == 0:
			ts.Fatalf("%s is unchanged", dir)
		case !neg && len(r.tb.errs) > 0:
			ts.Fatalf("%s changed:\n%s", dir, strings.Join(r.tb.errs, "\n"))
		}
	}
}

// durations matches a Go time.Duration as String prints it.
var durations = regexp.MustCompile(`(\d+(\.\d+)?(ns|µs|us|ms|s|m|h))+`)

// cmdScrub writes stdout or stderr of the last exec to FILE, scrubbed.
func cmdScrub(ts *testscript.TestScript, neg bool, args []string) {
	positive(ts, neg, "scrub")
	if len(args) != 2 || (args[0] != "stdout" && args[0] != "stderr") {
		ts.Fatalf("usage: scrub stdout|stderr FILE")
	}
	text := scrub(ts.ReadFile(args[0]), ts.Getenv("WORK"))
	if err := os.WriteFile(ts.MkAbs(args[1]), []byte(text), 0o666); err != nil {
		ts.Fatalf("scrub: %v", err)
	}
}

// scrub replaces in a command's output what changes from one run to the
// next: the script's work dir by $WORK, the Go version (etcdscope version)
// by GOVERSION, and on lines that name a
// duration, the duration by DURATION (a table cell's padding after it
// dropped, and a JSON duration_ns's number). Output that does not end in
// a newline, which a txtar file cannot hold (bolt get's raw value), gets
// one and the line [no newline at end].
func scrub(text, work string) string {
	text = strings.ReplaceAll(text, work, "$WORK")
	text = goVersion.ReplaceAllStringFunc(text, func(v string) string {
		return "GOVERSION" + strings.Repeat(" ", max(0, len(v)-len("GOVERSION"))) // a table cell keeps its width
	})
	lines := strings.SplitAfter(text, "\n")
	for i, l := range lines {
		if !strings.Contains(strings.ToLower(l), "duration") {
			continue
		}
		l = jsonDuration.ReplaceAllString(l, "${1}DURATION")
		l = durations.ReplaceAllString(l, "DURATION")
		lines[i] = cellPadding.ReplaceAllString(l, "DURATION │")
	}
	text = strings.Join(lines, "")
	if text != "" && !strings.HasSuffix(text, "\n") {
		text += "\n" + noFinalNewline + "\n"
	}
	return text
}

const noFinalNewline = "[no newline at end]"

var (
	goVersion    = regexp.MustCompile(regexp.QuoteMeta(runtime.Version()) + ` *`)
	jsonDuration = regexp.MustCompile(`("duration_ns":\s*)\d+`)
	cellPadding  = regexp.MustCompile(`DURATION +│`)
)

// helpOnly are the commands the scripts run only with --help, and why.
var helpOnly = map[string]string{
	"serve": "it serves until a signal (TestServeSignals runs it)",
	"tui":   "it needs a terminal (TestTUIInTmux and the tui package run it)",
}

// TestScriptsCoverCommands: the scripts run every command of the tree
// with --help, and every runnable one without subcommands in each -w
// mode, so that a new command or subcommand comes with its script.
func TestScriptsCoverCommands(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "script", "*.txtar"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	ran := map[string]bool{} // "wal dump --help", "wal dump -w json", ...
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "-- ") {
				break // the golden files
			}
			path, mode, help, ok := scriptInvocation(line)
			if !ok {
				continue
			}
			if help {
				ran[path+" --help"] = true
			} else {
				ran[path+" -w "+mode] = true
			}
		}
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		path := strings.TrimSpace(strings.TrimPrefix(c.CommandPath(), c.Root().Name()))
		if !ran[path+" --help"] {
			t.Errorf("no script runs etcdscope %s --help", path)
		}
		// A command with subcommands runs only to print its help, or to
		// refuse an unknown subcommand (cli's TestUnknownSubcommand).
		if _, ok := helpOnly[path]; c.Runnable() && !c.HasSubCommands() && !ok {
			for _, mode := range []string{"simple", "table", "json"} {
				if !ran[path+" -w "+mode] {
					t.Errorf("no script runs etcdscope %s in -w %s", path, mode)
				}
			}
		}
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				walk(sub)
			}
		}
	}
	walk(cli.NewRootCommand())
}

// scriptInvocation parses a script line that runs etcdscope (exec or
// exits N): the command path (the arguments before the first one that is
// not a known command name), the -w mode and whether it asks for --help.
func scriptInvocation(line string) (path, mode string, help, ok bool) {
	f := strings.Fields(line)
	switch {
	case len(f) >= 2 && f[0] == "exec" && f[1] == "etcdscope":
		f = f[2:]
	case len(f) >= 3 && f[0] == "exits" && f[2] == "etcdscope":
		f = f[3:]
	default:
		return "", "", false, false
	}
	mode = "simple"
	var words []string
	c := cli.NewRootCommand()
	for i := 0; i < len(f); i++ {
		switch a := f[i]; {
		case a == "-w" || a == "--write-out":
			if i+1 < len(f) {
				mode = f[i+1]
				i++
			}
		case a == "--help" || a == "-h":
			help = true
		case a == "help" && len(words) == 0:
			help = true
		default:
			if sub := findSub(c, a); sub != nil && !strings.HasPrefix(a, "-") {
				c = sub
				words = append(words, a)
			}
		}
	}
	return strings.Join(words, " "), mode, help, true
}

func findSub(c *cobra.Command, name string) *cobra.Command {
	for _, sub := range c.Commands() {
		if sub.Name() == name {
			return sub
		}
	}
	return nil
}

// TestScrub: what scrub replaces, and what it leaves.
func TestScrub(t *testing.T) {
	want := map[string]string{ // input: scrubbed, with the work dir /w
		"out: /w/x/out\n":                          "out: $WORK/x/out\n",
		"duration:    11.749599ms\n":               "duration:    DURATION\n",
		"duration:    1m2.5s\n":                    "duration:    DURATION\n",
		"duration:    350µs\n":                     "duration:    DURATION\n",
		"│ duration    │ 12.386617ms          │\n": "│ duration    │ DURATION │\n",
		`  "duration_ns": 12450889,` + "\n":        `  "duration_ns": DURATION,` + "\n",
		"revision 337, took 5ms\n":                 "revision 337, took 5ms\n", // not a duration line
		"\x00\x01o":                                "\x00\x01o\n" + noFinalNewline + "\n",
		"":                                         "",
	}
	for in, out := range want {
		if got := scrub(in, "/w"); got != out {
			t.Errorf("scrub(%q) = %q, want %q", in, got, out)
		}
	}
}
