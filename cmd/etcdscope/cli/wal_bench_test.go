package cli

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/storage/wal"
	"go.etcd.io/etcd/server/v3/storage/wal/walpb"
	"go.uber.org/zap"

	"github.com/etcdscope/etcdscope/internal/benchutil"
	"github.com/etcdscope/etcdscope/internal/etcdtest"
)

// measure runs f once and returns its wall time and the peak live heap.
func measure(b *testing.B, f func() error) (time.Duration, uint64) {
	d, h, err := benchutil.Measure(f)
	if err != nil {
		b.Fatal(err)
	}
	return d, h
}

// BenchmarkWAL compares, on the same WAL files in the same run, the real
// `wal verify` and `wal dump -w json` commands with etcd's own
// wal.OpenForRead+ReadAll. The WAL is written by real etcd 3.6 inside the
// benchmark (cached): ETCDSCOPE_BENCH_WAL_MB sets its size (default 256).
// Each iteration runs the three readers one after the other, so that
// machine noise hits all of them alike; the metrics are totals over the
// iterations.
//
//	go test ./cmd/etcdscope/cli -run '^$' -bench WAL -benchtime 3x
func BenchmarkWAL(b *testing.B) {
	mb := benchutil.EnvInt(b, "ETCDSCOPE_BENCH_WAL_MB", 256)
	dataDir := etcdtest.LargeWAL(b, "3.6", mb<<20)
	walDir := filepath.Join(dataDir, "member", "wal")
	segs, _ := filepath.Glob(filepath.Join(walDir, "*.wal"))
	var size int64
	for _, p := range segs {
		st, err := os.Stat(p)
		if err != nil {
			b.Fatal(err)
		}
		size += st.Size()
	}
	b.Logf("%d segments, %d bytes of WAL", len(segs), size)

	verify := func() error {
		if code := Main(context.Background(), []string{"wal", "verify", walDir}, io.Discard, io.Discard); code != ExitOK {
			b.Fatalf("wal verify exit %d", code)
		}
		return nil
	}
	dump := func() error {
		if code := Main(context.Background(), []string{"wal", "dump", "-w", "json", walDir}, io.Discard, io.Discard); code != ExitOK {
			b.Fatalf("wal dump exit %d", code)
		}
		return nil
	}
	entries := 0
	readAll := func() error {
		w, err := wal.OpenForRead(zap.NewNop(), walDir, &walpb.Snapshot{})
		if err != nil {
			return err
		}
		defer w.Close()
		_, _, ents, err := w.ReadAll()
		entries = len(ents)
		return err
	}

	var tv, td, tr time.Duration
	var hv, hd, hr uint64
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d, h := measure(b, readAll)
		tr, hr = tr+d, max(hr, h)
		d, h = measure(b, verify)
		tv, hv = tv+d, max(hv, h)
		d, h = measure(b, dump)
		td, hd = td+d, max(hd, h)
	}
	b.StopTimer()
	mbps := func(d time.Duration) float64 { return float64(size) * float64(b.N) / d.Seconds() / 1e6 }
	b.ReportMetric(mbps(tv), "verify-MB/s")
	b.ReportMetric(mbps(td), "dump-MB/s")
	b.ReportMetric(mbps(tr), "readall-MB/s")
	b.ReportMetric(tr.Seconds()/tv.Seconds(), "verify-x-readall")
	b.ReportMetric(tr.Seconds()/td.Seconds(), "dump-x-readall")
	b.ReportMetric(float64(hv)/(1<<20), "verify-peak-heap-MiB")
	b.ReportMetric(float64(hd)/(1<<20), "dump-peak-heap-MiB")
	b.ReportMetric(float64(hr)/(1<<20), "readall-peak-heap-MiB")
	b.Logf("etcd ReadAll returned %d entries", entries)
}
