package replay_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/etcdscope/etcdscope/internal/bench"
	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/replaytest"
	"github.com/etcdscope/etcdscope/replay"
)

// BenchmarkReplay compares, on the same WAL in the same run, replay.Run
// with real etcd re-applying the same log: etcd 3.6 restarted on a copy of
// the data dir without its db and .snap files, so that it replays every
// entry from index 1, timed from its start until its applied index reaches
// the commit index. Peak memory is the live Go heap of each, sampled while
// it runs (etcd's from its /metrics every 20 ms). The WAL (ETCDSCOPE_BENCH_ENTRIES entries, default 1M,
// small values) is written by real etcd inside the benchmark and cached.
//
//	go test ./replay -run '^$' -bench Replay -benchtime 2x -timeout 60m
func BenchmarkReplay(b *testing.B) {
	src := bench.Entries(b)
	files := replaytest.WAL(b, src)
	bins := etcdtest.Binaries(b, bench.EtcdVersion)

	var ours, theirs time.Duration
	var heap, etcdHeap uint64
	var entries uint64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		out := filepath.Join(b.TempDir(), "db")
		dir := filepath.Join(b.TempDir(), "data")
		if err := os.MkdirAll(filepath.Join(dir, "member", "snap"), 0o700); err != nil {
			b.Fatal(err)
		}
		bench.Copy(b, filepath.Join(src, "member", "wal"), filepath.Join(dir, "member", "wal"))
		b.StartTimer()

		d, h, err := bench.Measure(func() error {
			res, err := replay.Run(files.Segments, replay.Options{Out: out})
			if err == nil {
				entries = res.AppliedIndex
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		ours, heap = ours+d, max(heap, h)

		t0 := time.Now()
		m := etcdtest.StartMember(b, bins, etcdtest.MemberOptions{DataDir: dir})
		cli := m.Client(b)
		for {
			etcdHeap = max(etcdHeap, bench.RemoteHeap(m.ClientURL))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			st, err := cli.Status(ctx, m.ClientURL)
			cancel()
			if err == nil && st.RaftAppliedIndex >= entries {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		theirs += time.Since(t0)
		m.Stop(b)
	}
	b.StopTimer()
	rate := func(d time.Duration) float64 { return float64(entries) * float64(b.N) / d.Seconds() }
	b.Logf("%d entries", entries)
	b.ReportMetric(rate(ours), "replay-entries/s")
	b.ReportMetric(rate(theirs), "etcd-entries/s")
	b.ReportMetric(theirs.Seconds()/ours.Seconds(), "replay-x-etcd")
	b.ReportMetric(float64(heap)/(1<<20), "replay-peak-heap-MiB")
	b.ReportMetric(float64(etcdHeap)/(1<<20), "etcd-peak-heap-MiB")
}
