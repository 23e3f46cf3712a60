package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etcdscope/etcdscope/internal/etcdtest"
)

// liveRun is one run of a command against the db of a running etcd.
type liveRun struct {
	args    []string
	code    int
	elapsed time.Duration
	stderr  string
}

// runBounded runs the command line in-process, failing the test if it does
// not finish within limit (a command blocked by etcd's lock would hang).
func runBounded(t *testing.T, limit time.Duration, args ...string) liveRun {
	t.Helper()
	type result struct {
		code   int
		stderr string
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		var out, errOut bytes.Buffer
		code := Main(context.Background(), args, &out, &errOut)
		done <- result{code, errOut.String()}
	}()
	select {
	case r := <-done:
		return liveRun{args: args, code: r.code, elapsed: time.Since(start), stderr: r.stderr}
	case <-time.After(limit):
		t.Fatalf("%v did not finish within %v while etcd was running", args, limit)
		return liveRun{}
	}
}

// TestBoltLiveEtcd runs bolt check and bolt keys on the db of a real etcd
// while it takes writes: the commands must neither block nor be blocked
// by etcd (they take no lock and never map or write the file), and etcd's
// writes must keep succeeding quickly.
func TestBoltLiveEtcd(t *testing.T) {
	const (
		puts       = 300
		putLimit   = time.Second      // the slowest put etcd may take
		cmdLimit   = 60 * time.Second // a command that takes longer is blocked
		valueBytes = 2 << 10
	)
	v := etcdtest.SampleVersion
	dir, _ := etcdtest.Generate(t, v, etcdtest.GenOptions{})
	db := filepath.Join(dir, "member", "snap", "db")
	m := etcdtest.StartMember(t, etcdtest.Binaries(t, v), etcdtest.MemberOptions{DataDir: dir, Auth: "root:" + etcdtest.RootPassword})
	cli := m.Client(t)

	// The writer: a bounded number of puts, each timed.
	var (
		wg        sync.WaitGroup
		latencies []time.Duration
		putErrs   []error
	)
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		value := strings.Repeat("v", valueBytes)
		for i := range puts {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			start := time.Now()
			_, err := cli.Put(ctx, fmt.Sprintf("/live/%04d", i%50), fmt.Sprintf("%d-%s", i, value))
			cancel()
			latencies = append(latencies, time.Since(start))
			if err != nil {
				putErrs = append(putErrs, err)
			}
			// Paced, so that the puts span many of etcd's batched commits
			// (one every 100 ms) and the readers overlap them.
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	writerDone := make(chan struct{})
	go func() {
		wg.Wait()
		close(writerDone)
	}()

	// The readers: bolt check and bolt keys, over and over, while the
	// writer runs (at least a few rounds even if it is quick).
	var runs []liveRun
	writing := func() bool {
		select {
		case <-writerDone:
			return false
		default:
			return true
		}
	}
	txids := map[uint64]bool{} // the commits the readers saw
	for round := 0; round < 3 || writing(); round++ {
		runs = append(runs,
			runBounded(t, cmdLimit, "bolt", "check", db),
			runBounded(t, cmdLimit, "bolt", "keys", db, "key"),
			runBounded(t, cmdLimit, "bolt", "pages", db),
		)
		out, _, code := run(t, "bolt", "info", "-w", "json", db)
		var info struct {
			Active int `json:"active_meta"`
			Metas  [2]struct {
				TxID uint64 `json:"txid"`
			} `json:"metas"`
		}
		if code == ExitOK && json.Unmarshal([]byte(out), &info) == nil && info.Active >= 0 {
			txids[info.Metas[info.Active].TxID] = true
		}
	}
	close(stop)
	<-writerDone

	// What the readers saw.
	codes := map[string]map[int]int{}
	var transient []string
	var slowest time.Duration
	for _, r := range runs {
		name := r.args[1]
		if codes[name] == nil {
			codes[name] = map[int]int{}
		}
		codes[name][r.code]++
		slowest = max(slowest, r.elapsed)
		if r.code != ExitOK && r.code != ExitFindings {
			t.Errorf("%v while etcd was writing: exit %d: %s", r.args, r.code, r.stderr)
		}
		if r.code != ExitOK || strings.Contains(r.stderr, "etcdscope: warning") {
			transient = append(transient, fmt.Sprintf("%s exit %d: %s", name, r.code, firstLine(strings.TrimSpace(lastLine(r.stderr)))))
		}
	}
	t.Logf("%d command runs while etcd took writes, seeing %d distinct commits (txids): exit codes %v; slowest %v; %d runs saw a transient inconsistency",
		len(runs), len(txids), codes, slowest, len(transient))
	for _, s := range transient[:min(len(transient), 10)] {
		t.Logf("transient: %s", s)
	}

	// What the writer saw.
	if len(putErrs) > 0 {
		t.Errorf("%d of %d puts failed while the commands ran, first: %v", len(putErrs), len(latencies), putErrs[0])
	}
	if len(latencies) < puts {
		t.Errorf("%d puts done, want %d", len(latencies), puts)
	}
	sorted := slices.Clone(latencies)
	slices.Sort(sorted)
	p50, p99, worst := sorted[len(sorted)/2], sorted[len(sorted)*99/100], sorted[len(sorted)-1]
	t.Logf("%d puts: p50 %v, p99 %v, max %v", len(sorted), p50, p99, worst)
	if worst > putLimit {
		t.Errorf("a put took %v while the commands ran, want under %v", worst, putLimit)
	}

	// With etcd stopped, the db is consistent again.
	m.Stop(t)
	defer etcdtest.RequireUnchanged(t, dir)()
	if r := runBounded(t, cmdLimit, "bolt", "check", db); r.code != ExitOK {
		t.Errorf("bolt check after etcd stopped: exit %d: %s", r.code, r.stderr)
	}
	out, errOut, code := run(t, "bolt", "keys", db, "key")
	if code != ExitOK || errOut != "" || strings.Count(out, "\n") < puts {
		t.Errorf("bolt keys after etcd stopped: exit %d, %d keys: %s", code, strings.Count(out, "\n"), errOut)
	}
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
