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

// A total is one reader's wall time and peak live heap over a
// benchmark's iterations.
type total struct {
	d    time.Duration
	heap uint64
}

// add runs f once and adds its time and heap to t.
func (t *total) add(b *testing.B, f func() error) {
	d, h, err := benchutil.Measure(f)
	if err != nil {
		b.Fatal(err)
	}
	t.d, t.heap = t.d+d, max(t.heap, h)
}

// perOp is t's time per iteration, in seconds.
func (t total) perOp(b *testing.B) float64 { return t.d.Seconds() / float64(b.N) }

// mib is t's peak heap, in MiB.
func (t total) mib() float64 { return float64(t.heap) / (1 << 20) }

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

	var tv, td, tr total
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tr.add(b, readAll)
		tv.add(b, verify)
		td.add(b, dump)
	}
	b.StopTimer()
	mbps := func(t total) float64 { return float64(size) / t.perOp(b) / 1e6 }
	b.ReportMetric(mbps(tv), "verify-MB/s")
	b.ReportMetric(mbps(td), "dump-MB/s")
	b.ReportMetric(mbps(tr), "readall-MB/s")
	b.ReportMetric(tr.d.Seconds()/tv.d.Seconds(), "verify-x-readall")
	b.ReportMetric(tr.d.Seconds()/td.d.Seconds(), "dump-x-readall")
	b.ReportMetric(tv.mib(), "verify-peak-heap-MiB")
	b.ReportMetric(td.mib(), "dump-peak-heap-MiB")
	b.ReportMetric(tr.mib(), "readall-peak-heap-MiB")
	b.Logf("etcd ReadAll returned %d entries", entries)
}
