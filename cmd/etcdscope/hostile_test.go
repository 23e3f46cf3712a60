//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/fixture"
)

// hostileDamages is how many damaged copies TestRandomDamage makes.
var hostileDamages = flag.Int("hostile-damages", 200, "how many seeded damages TestRandomDamage runs (seeds 0 to N-1)")

// hostileFull is how many of the damages (the first ones) TestRandomDamage
// runs every command on; the others get hostileCore.
var hostileFull = flag.Int("hostile-full", 200, "on how many of the damages (the first) TestRandomDamage runs every command, not only the core ones")

// The bounds every command of TestRandomDamage must keep, on a damaged
// copy of the sample member: issue 15's acceptance.
const (
	hostileTimeout = 30 * time.Second
	hostileMaxRSS  = 512 << 20
	// hostileGoMemLimit is given to the child as GOMEMLIMIT, below the RSS
	// bound so that a child the runtime can keep under it does not fail.
	hostileGoMemLimit = "448MiB"
)

// hostileCmd is one command line of the random-damage run. In args, $DIR
// is the damaged data dir, $DB its db, $OUT a new path for an output (not
// existing) and $SAMPLE the undamaged sample.
type hostileCmd struct {
	args []string
	core bool // run on every damage, not only on the first hostileFull
}

// hostileCmds: every read command and every repair (dry run and real),
// and replay. The core ones run on every damage.
var hostileCmds = []hostileCmd{
	{args: []string{"inspect", "$DIR"}, core: true},
	{args: []string{"wal", "verify", "$DIR"}, core: true},
	{args: []string{"wal", "dump", "$DIR"}},
	{args: []string{"wal", "stats", "$DIR"}},
	{args: []string{"snap", "dump", "$DIR"}},
	{args: []string{"bolt", "check", "$DIR"}, core: true},
	{args: []string{"bolt", "info", "$DB"}},
	{args: []string{"bolt", "pages", "$DB"}},
	{args: []string{"bolt", "buckets", "$DB"}},
	{args: []string{"bolt", "keys", "$DB", "key"}},
	{args: []string{"mvcc", "range", "$DIR", "", "--prefix"}},
	{args: []string{"mvcc", "history", "$DIR", "/app/config"}},
	{args: []string{"mvcc", "hash", "$DIR"}},
	{args: []string{"mvcc", "meta", "$DIR"}},
	{args: []string{"mvcc", "leases", "$DIR"}},
	{args: []string{"mvcc", "members", "$DIR"}},
	{args: []string{"mvcc", "auth", "$DIR"}},
	{args: []string{"compare", "$DIR", "$SAMPLE"}},
	{args: []string{"repair", "wal", "$DIR", "--out", "$OUT", "--dry-run"}},
	{args: []string{"repair", "wal", "$DIR", "--out", "$OUT"}},
	{args: []string{"repair", "bolt", "$DB", "--out", "$OUT", "--dry-run"}},
	{args: []string{"repair", "bolt", "$DB", "--out", "$OUT"}},
	{args: []string{"repair", "salvage", "$DIR", "--out", "$OUT", "--dry-run"}},
	{args: []string{"repair", "salvage", "$DIR", "--out", "$OUT"}},
	{args: []string{"repair", "rebuild", "$DIR", "--out", "$OUT", "--dry-run"}},
	{args: []string{"repair", "rebuild", "$DIR", "--out", "$OUT"}},
	{args: []string{"repair", "auto", "$DIR", "--out", "$OUT", "--dry-run"}, core: true},
	{args: []string{"repair", "auto", "$DIR", "--out", "$OUT"}},
	{args: []string{"replay", "$DIR", "--out", "$OUT"}},
}

// hostileKnown names the failures of TestRandomDamage that belong to one
// of issue 15's cases 1 to 12, fixed elsewhere: "seed N: command line" to
// the case. Such a run is skipped only when it fails.
var hostileKnown = map[string]string{}

// TestRandomDamage is issue 15's seeded random-damage run: the built
// binary runs every read command, every repair (dry run, and for real
// into a new --out) and replay on hostileDamages copies of the sample
// member, each damaged one to four times (a 4 KiB block zeroed or a bit
// flipped, in the db's pages or in a WAL segment; PCG seeded (15, N)).
// Each command runs in a child under GOMEMLIMIT, a 30 s time limit and an
// RSS watchdog, and must not panic or crash, must end within 30 s with
// exit status 0, 1 or 2, and must peak under 512 MiB RSS (wait4's
// ru_maxrss); the damaged copy and the sample are unchanged after.
func TestRandomDamage(t *testing.T) {
	bin := builtBinary(t)
	sample := etcdtest.SampleDir(t)
	defer etcdtest.RequireUnchanged(t, sample)()
	dbUsed := usedExtent(t, filepath.Join(sample, "member", "snap", "db"))
	stats := &hostileStats{}
	t.Run("damages", func(t *testing.T) {
		for seed := range *hostileDamages {
			t.Run("seed="+strconv.Itoa(seed), func(t *testing.T) {
				t.Parallel()
				hostileOne(t, bin, sample, seed, dbUsed, stats)
			})
		}
	})
	t.Logf("%d damages, %d command runs: peak RSS %.1f MiB (%s), slowest %v (%s); exit 0: %d, 1: %d, 2: %d",
		*hostileDamages, stats.runs, float64(stats.maxRSS)/(1<<20), stats.maxRSSCmd,
		stats.slowest.Round(time.Millisecond), stats.slowestCmd, stats.exits[0], stats.exits[1], stats.exits[2])
	for _, c := range hostileCmds {
		if e := stats.perCmd[c.name()]; e != nil {
			t.Logf("%-24s exit 0: %4d, 1: %4d, 2: %4d", c.name(), e[0], e[1], e[2])
		}
	}
}

// hostileOne damages a copy of sample with the given seed and runs the
// commands on it.
func hostileOne(t *testing.T, bin, sample string, seed int, dbUsed int64, stats *hostileStats) {
	dir := fixture.CopyDir(t, sample)
	damage := hostileDamage(t, rand.New(rand.NewPCG(15, uint64(seed))), dir, dbUsed)
	defer etcdtest.RequireUnchanged(t, dir)()
	outs := t.TempDir()
	for i, c := range hostileCmds {
		if !c.core && seed >= *hostileFull {
			continue
		}
		args := make([]string, len(c.args))
		for j, a := range c.args {
			a = strings.ReplaceAll(a, "$DIR", dir)
			a = strings.ReplaceAll(a, "$DB", filepath.Join(dir, "member", "snap", "db"))
			a = strings.ReplaceAll(a, "$OUT", filepath.Join(outs, "out"+strconv.Itoa(i)))
			args[j] = strings.ReplaceAll(a, "$SAMPLE", sample)
		}
		t.Run(c.name(), func(t *testing.T) {
			line := fmt.Sprintf("seed %d: %s", seed, strings.Join(c.args, " "))
			r := runBounded(bin, args, hostileTimeout)
			stats.add(r, c.name(), line)
			if msg := r.failure(); msg != "" {
				if why, ok := hostileKnown[line]; ok {
					t.Skipf("%s: %s (%s)", why, line, msg)
				}
				t.Errorf("%s: %s\ndamage: %s\nrun: etcdscope %s\nstderr: %s", line, msg, strings.Join(damage, "; "), strings.Join(args, " "), r.stderr)
			}
		})
	}
}

// name is the command's subtest name: its words without the paths and
// keys.
func (c hostileCmd) name() string {
	var w []string
	for _, a := range c.args {
		if a != "" && a != "--out" && !strings.HasPrefix(a, "$") && !strings.HasPrefix(a, "/") {
			w = append(w, strings.TrimLeft(a, "-"))
		}
	}
	return strings.Join(w, "_")
}

// usedExtent is the size of the db up to its last 4 KiB block that is not
// all zero: where its pages are, before bbolt's zero padding.
func usedExtent(tb testing.TB, db string) int64 {
	tb.Helper()
	b, err := os.ReadFile(db)
	if err != nil {
		tb.Fatal(err)
	}
	end := int64(0)
	for off := 0; off < len(b); off += 4096 {
		blk := b[off:min(off+4096, len(b))]
		if !bytes.Equal(blk, make([]byte, len(blk))) {
			end = int64(off + len(blk))
		}
	}
	return end
}

// hostileDamage damages the member copy at dir one to four times, each
// time a 4 KiB block zeroed or one bit flipped, half of the times in the
// db (within its first dbUsed bytes, where its pages are) and half in a
// WAL segment. It returns what it did, for failure messages.
func hostileDamage(tb testing.TB, rng *rand.Rand, dir string, dbUsed int64) []string {
	tb.Helper()
	db := filepath.Join(dir, "member", "snap", "db")
	segs := fixture.Segments(tb, filepath.Join(dir, "member", "wal"))
	var did []string
	for range 1 + rng.IntN(4) {
		f, size := db, dbUsed
		if rng.IntN(2) == 0 {
			f = segs[rng.IntN(len(segs))]
			st, err := os.Stat(f)
			if err != nil {
				tb.Fatal(err)
			}
			size = st.Size()
		}
		rel, _ := filepath.Rel(dir, f)
		if rng.IntN(2) == 0 {
			off := rng.Int64N((size+4095)/4096) * 4096
			fixture.Zero(tb, f, off, min(4096, size-off))
			did = append(did, fmt.Sprintf("zeroed %s at %#x", rel, off))
		} else {
			off, bit := rng.Int64N(size), uint(rng.IntN(8))
			fixture.FlipBit(tb, f, off, bit)
			did = append(did, fmt.Sprintf("flipped bit %d of %s at %#x", bit, rel, off))
		}
	}
	return did
}

// boundedRun is how one child of runBounded ended.
type boundedRun struct {
	exit     int // -1 if killed by a signal
	signal   string
	timedOut bool
	timeout  time.Duration
	rssKill  bool  // the watchdog killed it over hostileMaxRSS
	maxRSS   int64 // bytes, wait4's ru_maxrss
	elapsed  time.Duration
	stderr   string
}

// runBounded runs bin with args under GOMEMLIMIT and the timeout, and
// kills it if its RSS, polled, goes over hostileMaxRSS.
func runBounded(bin string, args []string, timeout time.Duration) boundedRun {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "GOMEMLIMIT="+hostileGoMemLimit)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = time.Second // a killed child's own children may hold stderr
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return boundedRun{exit: -1, signal: "not started: " + err.Error()}
	}
	var r boundedRun
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the RSS watchdog
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if rss(cmd.Process.Pid) > hostileMaxRSS {
				r.rssKill = true
				cmd.Process.Kill()
				return
			}
		}
	}()
	err := cmd.Wait()
	close(stop)
	wg.Wait()
	r.elapsed = time.Since(t0)
	r.timedOut = ctx.Err() != nil
	r.timeout = timeout
	r.stderr = stderr.String()
	r.exit = cmd.ProcessState.ExitCode()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		r.signal = ws.Signal().String()
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSS = ru.Maxrss * 1024 // kilobytes on Linux
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		r.signal = "wait: " + err.Error()
	}
	return r
}

// rss is the resident set size of process pid in bytes, from
// /proc/pid/statm; 0 if it cannot be read.
func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// failure says how r broke the bounds, or "" if it kept them.
func (r boundedRun) failure() string {
	var bad []string
	switch {
	case r.timedOut:
		bad = append(bad, fmt.Sprintf("still running after %v", r.timeout))
	case r.rssKill:
		bad = append(bad, fmt.Sprintf("killed with RSS over %d MiB", hostileMaxRSS>>20))
	case r.signal != "":
		bad = append(bad, "ended by "+r.signal)
	case r.exit < 0 || r.exit > 2:
		bad = append(bad, fmt.Sprintf("exit status %d", r.exit))
	}
	for _, crash := range []string{"panic:", "goroutine ", "fatal error:", "runtime error", "SIGSEGV"} {
		if strings.Contains(r.stderr, crash) {
			bad = append(bad, fmt.Sprintf("crashed (stderr has %q), exit status %d", crash, r.exit))
			break
		}
	}
	if r.maxRSS >= hostileMaxRSS {
		bad = append(bad, fmt.Sprintf("peak RSS %.1f MiB", float64(r.maxRSS)/(1<<20)))
	}
	return strings.Join(bad, "; ")
}

// hostileStats gathers the figures TestRandomDamage logs.
type hostileStats struct {
	mu         sync.Mutex
	runs       int
	exits      [3]int
	maxRSS     int64
	maxRSSCmd  string
	slowest    time.Duration
	slowestCmd string
	perCmd     map[string]*[3]int // exit statuses by subtest name
}

func (s *hostileStats) add(r boundedRun, cmd, line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runs++
	if s.perCmd == nil {
		s.perCmd = make(map[string]*[3]int)
	}
	if s.perCmd[cmd] == nil {
		s.perCmd[cmd] = new([3]int)
	}
	if r.exit >= 0 && r.exit <= 2 {
		s.exits[r.exit]++
		s.perCmd[cmd][r.exit]++
	}
	if r.maxRSS > s.maxRSS {
		s.maxRSS, s.maxRSSCmd = r.maxRSS, line
	}
	if r.elapsed > s.slowest {
		s.slowest, s.slowestCmd = r.elapsed, line
	}
}

// TestRunBounded: the harness of TestRandomDamage tells a crash, a kill,
// an exit status out of range, a timeout and an RSS over the bound from a
// clean run.
func TestRunBounded(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	cases := []struct {
		script, want string
		timeout      time.Duration
	}{
		{"exit 1", "", time.Second},
		{"echo 'panic: runtime error: index out of range' >&2; echo 'goroutine 1 [running]:' >&2; exit 2", "crashed", time.Second},
		{"kill -SEGV $$", "ended by segmentation fault", time.Second},
		{"exit 3", "exit status 3", time.Second},
		{"exec sleep 5", "still running after 500ms", 500 * time.Millisecond},
	}
	if py, err := exec.LookPath("python3"); err == nil {
		cases = append(cases, struct {
			script, want string
			timeout      time.Duration
		}{"exec " + py + " -c 'import time; b = bytearray(600 << 20); time.sleep(20)'", "killed with RSS over 512 MiB", 15 * time.Second})
	}
	for _, c := range cases {
		r := runBounded(sh, []string{"-c", c.script}, c.timeout)
		if got := r.failure(); (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("sh -c %q: failure %q, want %q", c.script, got, c.want)
		}
	}
}
