package cli

import (
	"context"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"go.etcd.io/etcd/etcdutl/v3/etcdutl"
	"go.etcd.io/etcd/server/v3/storage/backend"
	"go.etcd.io/etcd/server/v3/storage/mvcc"
	"go.uber.org/zap"

	"github.com/etcdscope/etcdscope/internal/bench"
)

// BenchmarkMVCCHash compares, on the same real etcd db in the same run, the
// real `mvcc hash` command with etcd's own HashKV computation as
// `etcdutl hashkv` runs it (backend.NewDefaultBackend, mvcc.NewStore, which
// rebuilds the key index, then HashByRev), on a fresh copy each time
// because etcd's backend writes to what it opens. Both must give the same
// hash. The db is written by real etcd 3.6 inside the benchmark (cached);
// ETCDSCOPE_BENCH_DB_MB sets its size (default 512).
//
//	go test ./cmd/etcdscope/cli -run '^$' -bench MVCCHash -benchtime 3x
func BenchmarkMVCCHash(b *testing.B) {
	path, size := bench.DBFile(b)
	var ours, theirs string
	var to, tt bench.Total
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		cp := filepath.Join(b.TempDir(), "db")
		bench.Copy(b, path, cp)
		b.StartTimer()
		tt.Measure(b, func() error {
			be := backend.NewDefaultBackend(zap.NewNop(), cp)
			defer be.Close()
			st := mvcc.NewStore(zap.NewNop(), be, &etcdutl.SimpleLessor{}, mvcc.StoreConfig{})
			defer st.Close()
			kv, _, err := mvcc.NewHashStorage(zap.NewNop(), st).HashByRev(0)
			theirs = strconv.FormatUint(uint64(kv.Hash), 10)
			return err
		})
		to.Measure(b, func() error {
			var out strings.Builder
			if code := Main(context.Background(), []string{"mvcc", "hash", path}, &out, io.Discard); code != ExitOK {
				b.Fatalf("mvcc hash exit %d", code)
			}
			ours = strings.Fields(out.String())[1]
			return nil
		})
		if ours != theirs {
			b.Fatalf("mvcc hash %s, etcd %s", ours, theirs)
		}
	}
	b.StopTimer()
	b.Logf("db %d bytes; hash %s from both", size, ours)
	b.ReportMetric(to.PerOp(b), "hash-s/op")
	b.ReportMetric(tt.PerOp(b), "etcd-hash-s/op")
	b.ReportMetric(to.Over(tt), "hash-time-x-etcd")
	b.ReportMetric(to.PeakMiB(), "hash-peak-heap-MiB")
	b.ReportMetric(tt.PeakMiB(), "etcd-peak-heap-MiB")
}
