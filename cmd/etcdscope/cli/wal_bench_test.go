package cli

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"go.etcd.io/etcd/server/v3/storage/wal"
	"go.etcd.io/etcd/server/v3/storage/wal/walpb"
	"go.uber.org/zap"

	"github.com/etcdscope/etcdscope/internal/bench"
)

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
	walDir := filepath.Join(bench.WAL(b), "member", "wal")
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

	b.SetBytes(size)
	t := bench.Rounds(b, readAll, verify, dump)
	tr, tv, td := t[0], t[1], t[2]
	mbps := func(t bench.Total) float64 { return float64(size) * float64(b.N) / t.Time.Seconds() / 1e6 }
	b.ReportMetric(mbps(tv), "verify-MB/s")
	b.ReportMetric(mbps(td), "dump-MB/s")
	b.ReportMetric(mbps(tr), "readall-MB/s")
	b.ReportMetric(tr.Over(tv), "verify-x-readall")
	b.ReportMetric(tr.Over(td), "dump-x-readall")
	b.ReportMetric(tv.PeakMiB(), "verify-peak-heap-MiB")
	b.ReportMetric(td.PeakMiB(), "dump-peak-heap-MiB")
	b.ReportMetric(tr.PeakMiB(), "readall-peak-heap-MiB")
	b.Logf("etcd ReadAll returned %d entries", entries)
}
