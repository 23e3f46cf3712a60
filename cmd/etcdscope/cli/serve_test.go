package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/replay"
	"github.com/etcdscope/etcdscope/walfmt"
)

// lockedBuffer is a bytes.Buffer a running command writes while the test
// reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startServe runs the serve command in-process on a free loopback port
// until the test ends (or stop is called) and returns its address once it
// answers.
func startServe(t *testing.T, args ...string) (addr string, stop func() (stderr string, code int)) {
	t.Helper()
	addr = freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, append([]string{"serve", "--listen", addr}, args...), &out, &errOut)
	}()
	var once sync.Once
	code := -1
	stop = func() (string, int) {
		once.Do(func() {
			cancel()
			code = <-done
		})
		return errOut.String(), code
	}
	t.Cleanup(func() { stop() })
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return addr, stop
		}
		select {
		case code = <-done:
			t.Fatalf("serve exited %d before answering: %s", code, errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not answer on %s: %s", addr, errOut.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ctl runs etcdctl against endpoint; timeout > 0 kills it then (for
// watch) and returns what it printed.
func ctl(bins etcdtest.Bins, endpoint string, timeout time.Duration, args ...string) ([]byte, error) {
	full := append([]string{"--endpoints", endpoint, "--dial-timeout", "10s", "--command-timeout", "30s",
		"--user", "root:" + etcdtest.RootPassword}, args...)
	wait := time.Minute
	if timeout > 0 {
		wait = timeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	cmd := exec.CommandContext(ctx, bins.Etcdctl, full...)
	cmd.Env = append(os.Environ(), "ETCDCTL_API=3")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if timeout > 0 && ctx.Err() != nil {
		return stdout.Bytes(), nil
	}
	if err != nil {
		return stdout.Bytes(), fmt.Errorf("etcdctl %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return stdout.Bytes(), nil
}

// headerless decodes etcdctl's JSON and drops the header fields that name
// the member and its term (a served replay is not the original member),
// and the endpoint URL etcdctl adds.
func headerless(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Errorf("etcdctl printed invalid JSON: %v: %.300s", err, b)
		return nil
	}
	var strip func(any)
	strip = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, k := range []string{"cluster_id", "member_id", "raft_term", "Endpoint"} {
				delete(x, k)
			}
			for _, e := range x {
				strip(e)
			}
		case []any:
			for _, e := range x {
				strip(e)
			}
		}
	}
	strip(v)
	return v
}

// TestServeEtcdctl: real etcdctl 3.5, 3.6 and 3.7 against serve on the
// harness data dir of the same version answer what real etcd answers, both
// the original live server (its recording) and real etcd restarted on a
// copy of the data dir; every write fails with the read-only error and the
// data dir is left byte-identical.
func TestServeEtcdctl(t *testing.T) {
	for _, v := range etcdtest.Versions {
		t.Run(v, func(t *testing.T) {
			dir, rec := etcdtest.Generate(t, v, etcdtest.GenOptions{})
			bins := etcdtest.Binaries(t, v)
			ref := filepath.Join(t.TempDir(), "ref")
			if err := etcdtest.CopyTree(dir, ref); err != nil {
				t.Fatal(err)
			}
			unchanged := etcdtest.RequireUnchanged(t, dir)
			addr, stop := startServe(t, dir)
			m := etcdtest.StartMember(t, bins, etcdtest.MemberOptions{DataDir: ref, Auth: "root:" + etcdtest.RootPassword})
			defer m.Stop(t)

			ours := func(timeout time.Duration, args ...string) []byte {
				t.Helper()
				out, err := ctl(bins, addr, timeout, args...)
				if err != nil {
					t.Error(err)
				}
				return out
			}
			theirs := func(timeout time.Duration, args ...string) []byte {
				t.Helper()
				out, err := ctl(bins, m.ClientURL, timeout, args...)
				if err != nil {
					t.Error(err)
				}
				return out
			}
			same := func(what string, got, want []byte) {
				t.Helper()
				if d := jsonDiff("", headerless(t, got), headerless(t, want)); d != "" {
					t.Errorf("%s: %s", what, d)
				}
			}

			// Against the original live server's recording.
			for _, p := range rec.Points {
				r := strconv.FormatInt(p.Revision, 10)
				same("get --rev "+r, ours(0, "get", "", "--prefix", "--rev", r, "-w", "json"), p.Get)
				if p.Name != etcdtest.PointCompacted { // see etcdtest.Point
					same("endpoint hashkv --rev "+r, ours(0, "endpoint", "hashkv", "--rev", r, "-w", "json"), p.HashKV)
				}
			}
			same("member list", ours(0, "member", "list", "-w", "json"), rec.MemberList)
			same("lease list", ours(0, "lease", "list", "-w", "json"), rec.LeaseList)

			// Against real etcd serving the same data.
			compact := strconv.FormatInt(rec.CompactRevision, 10)
			for _, args := range [][]string{
				{"get", "", "--prefix"},
				{"get", "", "--prefix", "--keys-only"},
				{"get", "", "--prefix", "--limit", "3"},
				{"get", "/", "--prefix", "--sort-by", "MODIFY", "--order", "DESCEND"},
				{"get", "", "--prefix", "--sort-by", "VERSION"},
				{"get", "", "--prefix", "--sort-by", "CREATE", "--order", "DESCEND", "--limit", "5"},
				{"get", "", "--prefix", "--sort-by", "VALUE"},
				{"get", "", "--prefix", "--rev", compact, "--keys-only"},
				{"get", "", "--from-key", "--limit", "2"},
				{"endpoint", "hashkv", "--rev", compact},
				{"endpoint", "hashkv"},
				{"lease", "timetolive", strconv.FormatInt(etcdtest.LeaseKeptAlive, 16), "--keys"},
			} {
				a := append(args, "-w", "json")
				got, want := ours(0, a...), theirs(0, a...)
				if args[0] == "lease" {
					// No time passes offline: serve gives the granted TTL
					// where a running etcd counts down. etcd lists a lease's
					// keys in its map's order, which changes from call to
					// call: compare them as sets.
					got, want = dropKey(t, got, "ttl"), dropKey(t, want, "ttl")
					got, want = sortedKeys(t, got), sortedKeys(t, want)
				}
				same(strings.Join(args, " "), got, want)
			}
			fields := func(b []byte) string { // -w fields, without the member's fields
				var keep []string
				for _, l := range strings.Split(string(b), "\n") {
					if !strings.HasPrefix(l, `"ClusterID"`) && !strings.HasPrefix(l, `"MemberID"`) && !strings.HasPrefix(l, `"RaftTerm"`) {
						keep = append(keep, l)
					}
				}
				return strings.Join(keep, "\n")
			}
			for _, args := range [][]string{
				{"get", "", "--prefix", "--count-only", "-w", "fields"},
				{"get", "/", "--prefix", "--count-only", "--rev", compact, "-w", "fields"},
			} {
				if got, want := fields(ours(0, args...)), fields(theirs(0, args...)); got != want {
					t.Errorf("%s: serve printed\n%s\nreal etcd\n%s", strings.Join(args, " "), got, want)
				}
			}
			for _, r := range []string{compact, strconv.FormatInt(rec.Point(etcdtest.PointAfterTxns).Revision, 10)} {
				args := []string{"watch", "--rev", r, "--prefix", "", "--prev-kv"}
				got, want := ours(3*time.Second, args...), theirs(3*time.Second, args...)
				if len(want) == 0 || !bytes.Equal(got, want) {
					t.Errorf("watch --rev %s: serve printed %d bytes, real etcd %d:\n%.400q\n%.400q", r, len(got), len(want), got, want)
				}
			}
			var st, refSt []struct {
				Status struct {
					Header struct {
						Revision int64 `json:"revision"`
					} `json:"header"`
					RaftIndex        uint64 `json:"raftIndex"`
					RaftAppliedIndex uint64 `json:"raftAppliedIndex"`
				} `json:"Status"`
			}
			if err := json.Unmarshal(ours(0, "endpoint", "status", "-w", "json"), &st); err != nil || len(st) != 1 {
				t.Fatalf("endpoint status: %v", err)
			}
			if err := json.Unmarshal(rec.EndpointStatus, &refSt); err != nil || len(refSt) != 1 {
				t.Fatalf("recorded endpoint status: %v", err)
			}
			// The live server answered while it may not yet have applied
			// the entry (etcdctl's own authenticate) it had committed: serve
			// has applied everything committed, the live server's raftIndex.
			if st[0].Status.Header.Revision != rec.Revision || st[0].Status.RaftAppliedIndex != refSt[0].Status.RaftIndex {
				t.Errorf("endpoint status: revision %d, applied index %d; the live server had %d, committed index %d",
					st[0].Status.Header.Revision, st[0].Status.RaftAppliedIndex, rec.Revision, refSt[0].Status.RaftIndex)
			}

			// Writes are refused.
			for _, args := range [][]string{
				{"put", "/new", "v"},
				{"del", "/app/config"},
				{"compaction", strconv.FormatInt(rec.Revision, 10)},
				{"lease", "grant", "60"},
				{"lease", "revoke", strconv.FormatInt(etcdtest.LeaseKeptAlive, 16)},
				{"user", "add", "mallory:pw"},
				{"defrag"},
			} {
				out, err := ctl(bins, addr, 0, args...)
				if err == nil || !strings.Contains(err.Error(), "read-only") {
					t.Errorf("etcdctl %s: %v %s, want the read-only error", strings.Join(args, " "), err, out)
				}
			}
			txn := exec.Command(bins.Etcdctl, "--endpoints", addr, "txn")
			txn.Stdin = strings.NewReader("\nput /txn v\n\n\n")
			if out, err := txn.CombinedOutput(); err == nil || !strings.Contains(string(out), "read-only") {
				t.Errorf("etcdctl txn with a put: %v %s, want the read-only error", err, out)
			}

			if errOut, code := stop(); code != 0 {
				t.Errorf("serve exited %d: %s", code, errOut)
			}
			unchanged()
		})
	}
}

// jsonDiff describes the first difference between two decoded JSON
// values, or returns "".
func jsonDiff(path string, got, want any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: serve %.200v, real etcd %.200v", path, got, want)
		}
		for k := range w {
			if d := jsonDiff(path+"."+k, g[k], w[k]); d != "" {
				return d
			}
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				return fmt.Sprintf("%s.%s: serve %.200v, real etcd has none", path, k, g[k])
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: serve %.300v, real etcd %.300v", path, got, want)
		}
		for i := range w {
			if d := jsonDiff(fmt.Sprintf("%s[%d]", path, i), g[i], w[i]); d != "" {
				return d
			}
		}
		return ""
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Sprintf("%s: serve %.200v, real etcd %.200v", path, got, want)
	}
	return ""
}

// dropKey removes a top-level key from a JSON object.
func dropKey(t *testing.T, b []byte, key string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Errorf("%v: %.200s", err, b)
		return b
	}
	delete(m, key)
	out, _ := json.Marshal(m)
	return out
}

// kvsAt runs get "" --prefix -w json against addr and returns its
// revision and its key-values without the header.
func kvsAt(t *testing.T, bins etcdtest.Bins, addr string) (int64, any) {
	t.Helper()
	out, err := ctl(bins, addr, 0, "get", "", "--prefix", "-w", "json")
	if err != nil {
		t.Fatal(err)
	}
	return getBody(t, out)
}

// getBody splits etcdctl get -w json output into the header revision and
// the rest.
func getBody(t *testing.T, b []byte) (int64, any) {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v: %.300s", err, b)
	}
	h, _ := v["header"].(map[string]any)
	rev, _ := h["revision"].(float64)
	delete(v, "header")
	return int64(rev), v
}

// TestServeToIndex: serve --to-index N, N the raft index that produced a
// recorded point's revision, answers get "" --prefix with what the live
// server answered for get --rev at that revision, at that revision.
func TestServeToIndex(t *testing.T) {
	dir := etcdtest.SampleDir(t)
	rec := etcdtest.SampleRecording(t)
	bins := etcdtest.Binaries(t, etcdtest.SampleVersion)
	unchanged := etcdtest.RequireUnchanged(t, dir)

	files, err := walfmt.OpenPath(filepath.Join(dir, "member", "wal"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := replay.Run(files.Segments, replay.Options{Out: filepath.Join(t.TempDir(), "db")})
	files.Close()
	if err != nil {
		t.Fatal(err)
	}
	index := map[int64]uint64{}
	for _, p := range res.Provenance() {
		index[p.Revision] = p.Index
	}
	for _, p := range rec.Points {
		idx, ok := index[p.Revision]
		if !ok {
			t.Errorf("%s: the replay names no raft index for revision %d", p.Name, p.Revision)
			continue
		}
		addr, stop := startServe(t, dir, "--to-index", strconv.FormatUint(idx, 10))
		rev, got := kvsAt(t, bins, addr)
		_, want := getBody(t, p.Get)
		if rev != p.Revision {
			t.Errorf("--to-index %d (%s): revision %d, want %d", idx, p.Name, rev, p.Revision)
		}
		if d := jsonDiff("", got, want); d != "" {
			t.Errorf("--to-index %d (%s): %s", idx, p.Name, d)
		}
		if errOut, code := stop(); code != 0 {
			t.Errorf("serve exited %d: %s", code, errOut)
		}
	}
	unchanged()
}

// TestServeDB: serve --db on a stopped member's db and on an etcdctl
// snapshot save backup, and serve --from on a dir replay --out made,
// answer what the live server answered last, and leave their input
// byte-identical. A damaged db and a bare non-loopback --listen are
// refused with exit 2.
func TestServeDB(t *testing.T) {
	dir := etcdtest.SampleDir(t)
	rec := etcdtest.SampleRecording(t)
	bins := etcdtest.Binaries(t, etcdtest.SampleVersion)
	final := rec.Point(etcdtest.PointFinal)
	_, want := getBody(t, final.Get)

	backup := filepath.Join(t.TempDir(), "backup.db")
	live := filepath.Join(t.TempDir(), "live")
	if err := etcdtest.CopyTree(dir, live); err != nil {
		t.Fatal(err)
	}
	m := etcdtest.StartMember(t, bins, etcdtest.MemberOptions{DataDir: live, Auth: "root:" + etcdtest.RootPassword})
	m.Ctl(t, "snapshot", "save", backup)
	m.Stop(t)

	replayed := filepath.Join(t.TempDir(), "replayed")
	var out, errOut bytes.Buffer
	if code := Main(context.Background(), []string{"replay", dir, "--out", replayed}, &out, &errOut); code != 0 {
		t.Fatalf("replay exited %d: %s", code, errOut.String())
	}

	db := filepath.Join(dir, "member", "snap", "db")
	unchanged := etcdtest.RequireUnchanged(t, dir, backup, replayed)
	for _, args := range [][]string{{"--db", db}, {"--db", backup}, {"--from", replayed}} {
		addr, stop := startServe(t, args...)
		rev, got := kvsAt(t, bins, addr)
		if rev != rec.Revision {
			t.Errorf("serve %s: revision %d, want %d", strings.Join(args, " "), rev, rec.Revision)
		}
		if d := jsonDiff("", got, want); d != "" {
			t.Errorf("serve %s: %s", strings.Join(args, " "), d)
		}
		if errOut, code := stop(); code != 0 {
			t.Errorf("serve %s exited %d: %s", strings.Join(args, " "), code, errOut)
		}
	}
	unchanged()

	damaged := filepath.Join(t.TempDir(), "damaged.db")
	b, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	for i := 2 * 4096; i < 12*4096 && i < len(b); i++ {
		b[i] = 0xab
	}
	if err := os.WriteFile(damaged, b, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--db", damaged, "--listen", freeAddr(t)}, "is damaged"},
		{[]string{"serve", "--db", db, "--listen", "0.0.0.0:0"}, "not a loopback address"},
		{[]string{"serve", "--db", db, "--to-index", "5"}, "--to-index needs DATA_DIR"},
		{[]string{"serve", "--db", db, "--trusted-ca-file", "ca.pem"}, "needs --cert-file"},
	} {
		var out, errOut bytes.Buffer
		code := Main(context.Background(), c.args, &out, &errOut)
		if code != ExitTrouble || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("%s: exit %d, %q; want exit %d and %q", strings.Join(c.args, " "), code, errOut.String(), ExitTrouble, c.want)
		}
	}
}

// sortedKeys sorts the "keys" list of a lease timetolive -w json answer.
func sortedKeys(t *testing.T, b []byte) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Errorf("%v: %.200s", err, b)
		return b
	}
	if ks, ok := m["keys"].([]any); ok {
		sort.Slice(ks, func(i, j int) bool { return fmt.Sprint(ks[i]) < fmt.Sprint(ks[j]) })
	}
	out, _ := json.Marshal(m)
	return out
}
