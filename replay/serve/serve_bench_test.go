package serve_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/replay/serve"
)

// The benchmark's data: benchPrefixes prefixes of benchPerPrefix keys
// each, one revision per key, values of benchValueBytes bytes.
const (
	benchPrefixes   = 100
	benchPerPrefix  = 100
	benchValueBytes = 100
	// benchClients is the number of client/v3 clients per target, each
	// with its own connection and goroutine.
	benchClients = 16
	// benchRounds is how many slices each sub-benchmark's b.N ops per
	// target are cut into; the targets take turns slice by slice, the
	// first to go alternating, so that machine noise hits both.
	benchRounds = 10
)

func benchKey(p, k int) string { return fmt.Sprintf("/bench/p%03d/k%03d", p, k) }
func benchPrefix(p int) string { return fmt.Sprintf("/bench/p%03d/", p) }

// BenchmarkServeRange compares serializable Range throughput of serve with
// real etcd 3.6 serving the same data, in the same run: 16 client/v3
// clients per target, each in its own goroutine, share each slice of ops.
// The data, 100 prefixes of 100 keys with 100-byte values, is written by
// real etcd inside the benchmark; serve answers from a copy of the member's
// db once it is stopped, and the member is restarted on its data dir. The
// sub-benchmarks are the workloads: get1 gets one key, prefix100 one prefix
// of exactly 100 keys. b.N is the number of ops per target; they are cut
// into slices that the two targets take turns at. serve-ops/s and
// etcd-ops/s are the throughputs, serve-x-etcd their ratio (above 1: serve
// is faster); ns/op covers one op against each. serve runs in the
// benchmark's process, sharing its CPUs with the clients; etcd runs in its
// own.
//
//	go test ./replay/serve -run '^$' -bench ServeRange -benchtime 20000x
func BenchmarkServeRange(b *testing.B) {
	if testing.Short() {
		b.Skip("starts real etcd")
	}
	etcdCLIs, serveCLIs := benchServeSetup(b)
	keys := make([]string, 0, benchPrefixes*benchPerPrefix)
	prefixes := make([]string, 0, benchPrefixes)
	for p := range benchPrefixes {
		prefixes = append(prefixes, benchPrefix(p))
		for k := range benchPerPrefix {
			keys = append(keys, benchKey(p, k))
		}
	}
	// Op i of either target reads the same key or prefix. The strides are
	// prime to the counts, so consecutive ops spread over all of them.
	get1 := func(ctx context.Context, cli *clientv3.Client, i int) error {
		key := keys[i*7919%len(keys)]
		resp, err := cli.Get(ctx, key, clientv3.WithSerializable())
		if err != nil {
			return err
		}
		if len(resp.Kvs) != 1 {
			return fmt.Errorf("get %s: %d keys, want 1", key, len(resp.Kvs))
		}
		return nil
	}
	prefix100 := func(ctx context.Context, cli *clientv3.Client, i int) error {
		prefix := prefixes[i*37%len(prefixes)]
		resp, err := cli.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithSerializable())
		if err != nil {
			return err
		}
		if len(resp.Kvs) != benchPerPrefix {
			return fmt.Errorf("get %s --prefix: %d keys, want %d", prefix, len(resp.Kvs), benchPerPrefix)
		}
		return nil
	}
	for _, w := range []struct {
		name string
		op   benchOp
	}{{"get1", get1}, {"prefix100", prefix100}} {
		b.Run(w.name, func(b *testing.B) {
			var etcdTime, serveTime time.Duration
			rounds := min(benchRounds, b.N)
			for r := range rounds {
				lo, hi := b.N*r/rounds, b.N*(r+1)/rounds
				etcdFirst := r%2 == 0
				for turn := range 2 {
					runtime.GC() // no garbage of the other turn left to collect
					if (turn == 0) == etcdFirst {
						etcdTime += benchRunOps(b, etcdCLIs, w.op, lo, hi)
					} else {
						serveTime += benchRunOps(b, serveCLIs, w.op, lo, hi)
					}
				}
			}
			etcdRate := float64(b.N) / etcdTime.Seconds()
			serveRate := float64(b.N) / serveTime.Seconds()
			b.ReportMetric(serveRate, "serve-ops/s")
			b.ReportMetric(etcdRate, "etcd-ops/s")
			b.ReportMetric(serveRate/etcdRate, "serve-x-etcd")
		})
	}
}

// benchOp is op i of a workload, run on cli.
type benchOp func(ctx context.Context, cli *clientv3.Client, i int) error

// benchRunOps runs ops lo to hi-1 on clis, one goroutine per client taking
// the next op until none is left, and returns the time from the start of
// the first to the end of the last.
func benchRunOps(b *testing.B, clis []*clientv3.Client, op benchOp, lo, hi int) time.Duration {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
		begin    = make(chan struct{})
	)
	next.Store(int64(lo))
	for _, cli := range clis {
		wg.Go(func() {
			<-begin
			for {
				i := int(next.Add(1) - 1)
				if i >= hi {
					return
				}
				if err := op(ctx, cli, i); err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
			}
		})
	}
	t0 := time.Now()
	close(begin)
	wg.Wait()
	d := time.Since(t0)
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	return d
}

// benchServeSetup writes the benchmark's data to a real etcd 3.6 member,
// stops it, serves a copy of its db, restarts it, checks that both answer
// alike, and returns benchClients warmed-up clients of each. b.Cleanup
// closes them and stops both servers.
func benchServeSetup(b *testing.B) (etcdCLIs, serveCLIs []*clientv3.Client) {
	b.Helper()
	t0 := time.Now()
	m := etcdtest.StartMember(b, etcdtest.Binaries(b, "3.6"), etcdtest.MemberOptions{})
	fill := m.Client(b)
	benchFill(b, fill)
	fill.Close()
	m.Stop(b)

	db := filepath.Join(b.TempDir(), "db")
	if err := etcdtest.CopyTree(filepath.Join(m.DataDir, "member", "snap", "db"), db); err != nil {
		b.Fatal(err)
	}
	_, addr := start(b, serve.Options{DB: db})
	m.Restart(b)

	for range benchClients {
		etcdCLIs = append(etcdCLIs, client(b, m.ClientURL, nil))
		serveCLIs = append(serveCLIs, client(b, "http://"+addr, nil))
	}
	benchCheckSame(b, etcdCLIs[0], serveCLIs[0])
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, cli := range append(etcdCLIs[:len(etcdCLIs):len(etcdCLIs)], serveCLIs...) {
		if _, err := cli.Get(ctx, benchKey(0, 0), clientv3.WithSerializable()); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("setup %v: %d keys of %d bytes", time.Since(t0).Round(time.Millisecond), benchPrefixes*benchPerPrefix, benchValueBytes)
	return etcdCLIs, serveCLIs
}

// benchFill puts every key once, from benchClients goroutines sharing
// cli (benchRunOps's fan-out, untimed).
func benchFill(b *testing.B, cli *clientv3.Client) {
	b.Helper()
	clis := make([]*clientv3.Client, benchClients)
	for i := range clis {
		clis[i] = cli
	}
	benchRunOps(b, clis, func(ctx context.Context, cli *clientv3.Client, i int) error {
		key := benchKey(i/benchPerPrefix, i%benchPerPrefix)
		if _, err := cli.Put(ctx, key, string(etcdtest.Value(key, 1, benchValueBytes))); err != nil {
			return fmt.Errorf("put %s: %w", key, err)
		}
		return nil
	}, 0, benchPrefixes*benchPerPrefix)
}

// benchCheckSame fails b unless etcd and serve are at the same revision
// and answer a whole prefix and the count of all keys alike.
func benchCheckSame(b *testing.B, etcdCLI, serveCLI *clientv3.Client) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, c := range []struct {
		key  string
		opts []clientv3.OpOption
	}{
		{benchPrefix(benchPrefixes - 1), []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithSerializable()}},
		{"/bench/", []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithCountOnly(), clientv3.WithSerializable()}},
	} {
		want, err := etcdCLI.Get(ctx, c.key, c.opts...)
		if err != nil {
			b.Fatal(err)
		}
		got, err := serveCLI.Get(ctx, c.key, c.opts...)
		if err != nil {
			b.Fatal(err)
		}
		if got.Header.Revision != want.Header.Revision || got.Count != want.Count || !benchSameKVs(got.Kvs, want.Kvs) {
			b.Fatalf("%s: serve at revision %d has %d keys (%d returned), etcd at %d has %d (%d returned)",
				c.key, got.Header.Revision, got.Count, len(got.Kvs), want.Header.Revision, want.Count, len(want.Kvs))
		}
	}
}

func benchSameKVs(a, b []*mvccpb.KeyValue) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !proto.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
