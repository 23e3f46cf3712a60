package etcdtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// BootResult is what real etcd did when Boot started it on a data dir.
type BootResult struct {
	// Healthy is true when etcd answered /health with "true" within the
	// timeout.
	Healthy bool
	// Exited is true when etcd exited (a fatal log, a panic) before it
	// was healthy, within the timeout.
	Exited bool
	// Message is why etcd did not become healthy: the last panic or fatal
	// message of its JSON log with its error ("discovery failed: walpb:
	// crc mismatch"), else the first line of a Go panic ("panic:
	// assertion failed: ..."); "" when healthy.
	Message string
	// Events are the warnings and worse etcd logged on its first start,
	// and its messages about repairing the WAL, "level: msg: error (base
	// name of the path)", each once, in order.
	Events []string

	// Files changed by the first start (up to the moment it was healthy
	// and had answered, or exited), slash-separated and relative to the
	// data dir, sorted. Rewritten are those of the same size with other
	// bytes. Sizes holds the sizes before and after of each (-1: absent).
	Created, Removed, Shrunk, Grown, Rewritten []string
	Sizes                                      map[string][2]int64
	// ZeroFilled are the WAL files in which bytes that were not zero now
	// lie in a run of at least 64 zero bytes (what etcd's zero fill of a
	// segment's tail leaves); Zeroed says where, "FILE: N bytes zeroed in
	// [A, B)".
	ZeroFilled []string
	Zeroed     []string

	// Served is what a healthy start answered to get "" --prefix.
	Served Served
	// AfterWrites is, for a healthy start, what went wrong when it then
	// took 200 puts of 4 KiB values, was stopped, checked with bbolt
	// check and restarted: "" when all went well.
	AfterWrites string
	// Restarted is what the restart answered to get "" --prefix.
	Restarted Served

	Elapsed time.Duration // of the whole Boot
}

// Served is the header revision and key count etcdctl get "" --prefix
// --count-only answered (as the workload's root user, or without auth
// when auth is off), or why it failed.
type Served struct {
	Revision int64
	Keys     int64
	Err      string
}

func (s Served) String() string {
	if s.Err != "" {
		return "error: " + s.Err
	}
	return fmt.Sprintf("rev=%d keys=%d", s.Revision, s.Keys)
}

// Extra returns r without what a start on the undamaged member did too,
// as baseline (Boot on an undamaged copy of the same data dir) records
// it: the file changes, zero fills and events listed in both are
// dropped. Every start rewrites the WAL's last segment and the db and
// creates member/wal/0.tmp, the next segment preallocated.
func (r BootResult) Extra(baseline BootResult) BootResult {
	minus := func(a, b []string) []string {
		var out []string
		for _, x := range a {
			if !slices.Contains(b, x) {
				out = append(out, x)
			}
		}
		return out
	}
	b := baseline
	r.Created, r.Removed = minus(r.Created, b.Created), minus(r.Removed, b.Removed)
	r.Shrunk, r.Grown = minus(r.Shrunk, b.Shrunk), minus(r.Grown, b.Grown)
	r.Rewritten = minus(r.Rewritten, b.Rewritten)
	r.ZeroFilled, r.Zeroed = minus(r.ZeroFilled, b.ZeroFilled), minus(r.Zeroed, b.Zeroed)
	r.Events = minus(r.Events, b.Events)
	return r
}

// String is the result on one line.
func (r BootResult) String() string {
	var b strings.Builder
	switch {
	case r.Healthy:
		b.WriteString("healthy")
	case r.Exited:
		fmt.Fprintf(&b, "exited %q", r.Message)
	default:
		fmt.Fprintf(&b, "unhealthy %q", r.Message)
	}
	for _, l := range []struct {
		name  string
		files []string
	}{{"created", r.Created}, {"removed", r.Removed}, {"shrunk", r.Shrunk}, {"grown", r.Grown},
		{"rewritten", r.Rewritten}} {
		if len(l.files) == 0 {
			continue
		}
		fmt.Fprintf(&b, " %s=[", l.name)
		for i, f := range l.files {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(f)
			if sz, ok := r.Sizes[f]; ok && l.name != "rewritten" {
				fmt.Fprintf(&b, " (%d to %d)", sz[0], sz[1])
			}
		}
		b.WriteByte(']')
	}
	if len(r.Zeroed) > 0 {
		fmt.Fprintf(&b, " zeroed=%v", r.Zeroed)
	}
	if r.Healthy {
		fmt.Fprintf(&b, " served=%v after-writes=%q restarted=%v", r.Served, r.AfterWrites, r.Restarted)
	}
	return b.String()
}

// Boot starts real etcd of bins on dataDir, which it changes (give it a
// copy), as a single member with StartMember's flags and 16 KiB WAL
// segments (Generate's), and records what it did: whether it became
// healthy within timeout or exited, with what message, and which files
// it created, removed, cut, grew, rewrote or zero-filled. When healthy it
// also records what it served, then puts 200 keys /boot/000 to /boot/199
// with 4 KiB values, stops it, checks the db with bbolt check and
// restarts it (see BootResult.AfterWrites). Every etcd it starts is
// stopped before it returns.
func Boot(tb testing.TB, bins Bins, dataDir string, timeout time.Duration) BootResult {
	tb.Helper()
	t0 := time.Now()
	before := scanFiles(tb, dataDir)
	m := bootMember(tb, bins, dataDir)
	var res BootResult
	res.Healthy, res.Exited, res.Message = m.bootStart(tb, timeout)
	res.Events = logEvents(m.log())
	if res.Healthy {
		res.Served = m.served()
	}
	diffFiles(before, scanFiles(tb, dataDir), &res)
	if res.Healthy {
		res.AfterWrites, res.Restarted = m.afterWrites(tb, res.Served, timeout)
	}
	m.Stop(tb)
	res.Elapsed = time.Since(t0)
	return res
}

// bootMember is a Member on dataDir that is not started yet.
func bootMember(tb testing.TB, bins Bins, dataDir string) *Member {
	tb.Helper()
	m := &Member{
		Bins: bins,
		Opts: MemberOptions{Name: "etcdscope", DataDir: dataDir, SnapshotCount: 100,
			WALSegmentBytes: DefaultWALSegmentBytes},
		Name:    "etcdscope",
		DataDir: dataDir,
		Auth:    "root:" + RootPassword,
	}
	tb.Cleanup(func() { m.Stop(tb) })
	return m
}

// bootStart starts the member on fresh ports (again, when the ports were
// taken meanwhile) and waits until it is healthy, has exited or timeout
// has passed; then it is stopped.
func (m *Member) bootStart(tb testing.TB, timeout time.Duration) (healthy, exited bool, msg string) {
	tb.Helper()
	logDir := tb.TempDir()
	for attempt := 1; ; attempt++ {
		ports, err := freePorts(2)
		if err != nil {
			tb.Fatalf("etcdtest: %v", err)
		}
		m.ClientURL = "http://127.0.0.1:" + strconv.Itoa(ports[0])
		m.PeerURL = "http://127.0.0.1:" + strconv.Itoa(ports[1])
		m.LogPath = filepath.Join(logDir, fmt.Sprintf("etcd-%d.log", attempt))
		if err := m.start(); err != nil {
			tb.Fatalf("etcdtest: starting etcd %s: %v", m.Bins.Version, err)
		}
		healthy, exited, last := m.waitBoot(timeout)
		if healthy {
			return true, false, ""
		}
		if !exited {
			m.Stop(tb)
			return false, false, fmt.Sprintf("not healthy after %v (last: %s)", timeout, last)
		}
		log := m.log()
		if attempt < 5 && strings.Contains(log, "address already in use") {
			continue // etcd binds its ports before it reads the data dir
		}
		return false, true, bootFailure(log)
	}
}

// waitBoot polls /health until it says true, etcd exits or timeout has
// passed.
func (m *Member) waitBoot(timeout time.Duration) (healthy, exited bool, last string) {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-m.done:
			return false, true, ""
		default:
		}
		resp, err := client.Get(m.ClientURL + "/health")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && bytes.Contains(body, []byte(`"health":"true"`)) {
				return true, false, ""
			}
			last = fmt.Sprintf("%s: %s", resp.Status, bytes.TrimSpace(body))
		} else {
			last = err.Error()
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false, false, last
}

// log is the member's whole log.
func (m *Member) log() string {
	data, err := os.ReadFile(m.LogPath)
	if err != nil {
		return err.Error()
	}
	return string(data)
}

// served asks the member for get "" --prefix --count-only, as root, or
// without auth when auth is not enabled.
func (m *Member) served() Served {
	args := []string{"get", "", "--prefix", "--count-only", "-w", "fields"}
	out, err := m.CtlErr(args...)
	if err != nil && strings.Contains(err.Error(), "authentication is not enabled") {
		auth := m.Auth
		m.Auth = ""
		out, err = m.CtlErr(args...)
		m.Auth = auth
	}
	if err != nil {
		return Served{Err: lastLine(err.Error())}
	}
	var s Served
	rev, rok := fieldValue(out, "Revision")
	count, cok := fieldValue(out, "Count")
	if !rok || !cok {
		return Served{Err: fmt.Sprintf("etcdctl get: no revision or count in %q", out)}
	}
	s.Revision, s.Keys = rev, count
	return s
}

// fieldValue reads `"NAME" : N` from etcdctl's -w fields output.
func fieldValue(out []byte, name string) (int64, bool) {
	for l := range strings.Lines(string(out)) {
		k, v, ok := strings.Cut(strings.TrimSpace(l), " : ")
		if ok && k == strconv.Quote(name) {
			n, err := strconv.ParseInt(v, 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// bootPuts is how many keys afterWrites puts, and their value size.
const (
	bootPuts      = 200
	bootValueSize = 4 << 10
)

// afterWrites puts bootPuts keys into the healthy member, stops it,
// checks its db with bbolt check and restarts it, and says what went
// wrong ("" when nothing did), and what the restart served.
func (m *Member) afterWrites(tb testing.TB, first Served, timeout time.Duration) (string, Served) {
	tb.Helper()
	var problems []string
	put, err := m.putMany(bootPuts)
	if err != nil {
		problems = append(problems, fmt.Sprintf("%d of %d puts failed: %v", bootPuts-put, bootPuts, err))
	}
	select {
	case <-m.done:
		problems = append(problems, "etcd exited during the puts: "+bootFailure(m.log()))
	default:
	}
	m.Stop(tb)
	if msg := boltCheck(tb, filepath.Join(m.DataDir, dbRel)); msg != "" {
		problems = append(problems, "bbolt check: "+msg)
	}
	var again Served
	healthy, _, msg := m.bootStart(tb, timeout)
	switch {
	case !healthy:
		problems = append(problems, "restart: "+msg)
		again.Err = "the restart failed"
	default:
		again = m.served()
		want := Served{Revision: first.Revision + int64(put), Keys: first.Keys + int64(put)}
		if again != want {
			problems = append(problems, fmt.Sprintf("restart served %v, want %v", again, want))
		}
	}
	m.Stop(tb)
	return strings.Join(problems, "; "), again
}

// putMany puts n keys from 8 goroutines and returns how many succeeded
// and the first error; it gives up early once etcd has exited.
func (m *Member) putMany(n int) (int, error) {
	user, pass, _ := strings.Cut(m.Auth, ":")
	cli, err := clientv3.New(clientv3.Config{
		Endpoints: []string{m.ClientURL}, DialTimeout: 5 * time.Second,
		Username: user, Password: pass, Logger: zap.NewNop(),
	})
	if err != nil {
		return 0, err
	}
	defer cli.Close()
	var (
		mu    sync.Mutex
		ok    int
		first error
		wg    sync.WaitGroup
	)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				key := fmt.Sprintf("/boot/%03d", i)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				_, err := cli.Put(ctx, key, string(Value(key, 0, bootValueSize)))
				cancel()
				mu.Lock()
				if err == nil {
					ok++
				} else if first == nil {
					first = err
				}
				mu.Unlock()
				select {
				case <-m.done:
					return
				default:
				}
			}
		})
	}
	wg.Wait()
	return ok, first
}

// boltCheck runs bbolt check on the db (read-only) in a process of its
// own, since bbolt can crash on a damaged file, and returns "" when it
// says OK, else its first lines.
func boltCheck(tb testing.TB, path string) string {
	tb.Helper()
	if _, err := os.Stat(path); err != nil {
		return err.Error()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, boltBinary(tb), "check", path).CombinedOutput()
	text := strings.TrimSpace(string(out))
	if err == nil && text == "OK" {
		return ""
	}
	lines := strings.Split(text, "\n")
	for _, l := range lines {
		if strings.HasPrefix(l, "panic: ") {
			return l // the goroutine dump after it says no more
		}
	}
	if len(lines) > 4 {
		lines = append(lines[:3], "...", lines[len(lines)-1])
	}
	msg := strings.Join(lines, " | ")
	if err != nil {
		msg += fmt.Sprintf(" (%v)", err)
	}
	return msg
}

var (
	boltBinOnce sync.Once
	boltBinPath string
)

// boltBinary returns bbolt's command, go.etcd.io/bbolt/cmd/bbolt of the
// version this module requires, built once into the cache.
func boltBinary(tb testing.TB) string {
	tb.Helper()
	boltBinOnce.Do(func() {
		root := RepoRoot(tb)
		h := sha256.New()
		fmt.Fprintf(h, "%s/%s %s\n", runtime.GOOS, runtime.GOARCH, runtime.Version())
		if err := hashFiles(h, root, []string{"go.mod", "go.sum"}); err != nil {
			tb.Fatalf("etcdtest: %v", err)
		}
		dir := filepath.Join(CacheDir(tb), "bin", "bbolt-"+hex.EncodeToString(h.Sum(nil))[:16])
		buildCached(tb, dir, "bbolt", ".bbolt-", func(tmp string) {
			cmd := exec.Command("go", "build", "-o", filepath.Join(tmp, "bbolt"), "go.etcd.io/bbolt/cmd/bbolt")
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly", "GOWORK=off")
			if out, err := cmd.CombinedOutput(); err != nil {
				tb.Fatalf("etcdtest: building bbolt: %v\n%s", err, out)
			}
		})
		boltBinPath = filepath.Join(dir, "bbolt")
	})
	if boltBinPath == "" {
		tb.Fatalf("etcdtest: bbolt was not built")
	}
	return boltBinPath
}

// bootFailure picks why etcd stopped from its log: the last panic or
// fatal line of its JSON log, with its error; else the first line of a
// Go panic or fatal error; else the last line.
func bootFailure(log string) string {
	lines := strings.Split(strings.TrimSpace(log), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := lines[i]
		if strings.Contains(l, `"level":"panic"`) || strings.Contains(l, `"level":"fatal"`) {
			return eventText(l, false)
		}
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "panic: ") || strings.HasPrefix(l, "fatal error: ") {
			return l
		}
	}
	if n := len(lines); n > 0 {
		return lines[n-1]
	}
	return "no log"
}

// logEvents returns the warnings and worse of etcd's JSON log, its
// messages about repairing the WAL, and the first line of a Go panic,
// each once.
func logEvents(log string) []string {
	var evs []string
	for l := range strings.Lines(log) {
		l = strings.TrimSpace(l)
		var ev string
		switch {
		case strings.HasPrefix(l, "panic: "), strings.HasPrefix(l, "fatal error: "):
			ev = l
		case strings.HasPrefix(l, "{"):
			var e struct{ Level, Msg string }
			if json.Unmarshal([]byte(l), &e) != nil {
				continue
			}
			if (e.Level == "info" || e.Level == "debug") && !strings.Contains(e.Msg, "repair") {
				continue
			}
			ev = e.Level + ": " + eventText(l, true)
		}
		if ev != "" && !slices.Contains(evs, ev) {
			evs = append(evs, ev)
		}
	}
	return evs
}

// eventText is a JSON log line's message with its error and, withPath,
// the base name of the path it names.
func eventText(line string, withPath bool) string {
	var e struct {
		Msg   string `json:"msg"`
		Error string `json:"error"`
		Path  string `json:"path"`
	}
	if json.Unmarshal([]byte(line), &e) != nil {
		return line
	}
	s := e.Msg
	if e.Error != "" {
		s += ": " + e.Error
	}
	if withPath && e.Path != "" {
		s += " (" + filepath.Base(e.Path) + ")"
	}
	return s
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// fileState is a file as scanFiles saw it; WAL segments are kept whole,
// to find the bytes etcd zeroed.
type fileState struct {
	size int64
	sum  string
	data []byte
}

// scanFiles describes every regular file under dir.
func scanFiles(tb testing.TB, dir string) map[string]fileState {
	tb.Helper()
	out := map[string]fileState{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		st := fileState{size: info.Size(), sum: "too large to hash"}
		switch {
		case strings.HasPrefix(rel, walRel+"/") && info.Size() <= 64<<20:
			if st.data, err = os.ReadFile(p); err != nil {
				return err
			}
			sum := sha256.Sum256(st.data)
			st.sum = hex.EncodeToString(sum[:])
		case info.Size() <= 1<<30:
			if st.sum, err = hashFile(p); err != nil {
				return err
			}
		}
		out[rel] = st
		return nil
	})
	if err != nil {
		tb.Fatalf("etcdtest: scanning %s: %v", dir, err)
	}
	return out
}

// diffFiles fills the file lists of res from two scans.
func diffFiles(before, after map[string]fileState, res *BootResult) {
	res.Sizes = map[string][2]int64{}
	size := func(m map[string]fileState, rel string) int64 {
		if st, ok := m[rel]; ok {
			return st.size
		}
		return -1
	}
	note := func(list *[]string, rel string) {
		*list = append(*list, rel)
		res.Sizes[rel] = [2]int64{size(before, rel), size(after, rel)}
	}
	for _, rel := range sortedKeys(before) {
		b := before[rel]
		a, ok := after[rel]
		switch {
		case !ok:
			note(&res.Removed, rel)
		case a.size < b.size:
			note(&res.Shrunk, rel)
		case a.size > b.size:
			note(&res.Grown, rel)
		case a.sum != b.sum:
			note(&res.Rewritten, rel)
		}
		if ok && b.data != nil && a.data != nil {
			if z := zeroedSpan(b.data, a.data); z != "" {
				res.ZeroFilled = append(res.ZeroFilled, rel)
				res.Zeroed = append(res.Zeroed, rel+": "+z)
			}
		}
	}
	for _, rel := range sortedKeys(after) {
		if _, ok := before[rel]; !ok {
			note(&res.Created, rel)
		}
	}
}

// zeroedSpan says how many bytes that were not zero in before lie in runs
// of at least 64 zero bytes in after, and between which offsets; "" when
// none. A shorter run is no zero fill: the records etcd writes over old
// bytes hold zeros too.
func zeroedSpan(before, after []byte) string {
	const minRun = 64
	n, first, last := 0, -1, -1
	end := min(len(before), len(after))
	for i := 0; i < end; {
		if after[i] != 0 {
			i++
			continue
		}
		j := i
		for j < end && after[j] == 0 {
			j++
		}
		if j-i >= minRun {
			for k := i; k < j; k++ {
				if before[k] != 0 {
					n++
					if first < 0 {
						first = k
					}
					last = k
				}
			}
		}
		i = j
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d bytes zeroed in [%#x, %#x)", n, first, last+1)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
