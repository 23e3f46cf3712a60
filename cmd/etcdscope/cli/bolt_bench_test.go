package cli

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/internal/benchutil"
	"github.com/etcdscope/etcdscope/internal/etcdtest"
)

// BenchmarkBoltCheck compares, on the same real etcd db in the same run,
// the real `bolt check` command with what `bbolt check` does (a read-only
// bbolt.Open with PreLoadFreelist, which walks the tree to rebuild etcd's
// unpersisted freelist, then Tx.Check), and measures a sequential scan
// decoding every leaf page. The db is written by real etcd 3.6 inside the
// benchmark (cached); ETCDSCOPE_BENCH_DB_MB sets its size (default 512).
//
//	go test ./cmd/etcdscope/cli -run '^$' -bench BoltCheck -benchtime 5x
func BenchmarkBoltCheck(b *testing.B) {
	mb := benchutil.EnvInt(b, "ETCDSCOPE_BENCH_DB_MB", 512)
	path := filepath.Join(etcdtest.LargeDB(b, "3.6", mb<<20), "member", "snap", "db")
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	var used int64
	ours := func() error {
		if code := Main(context.Background(), []string{"bolt", "check", path}, io.Discard, io.Discard); code != ExitOK {
			b.Fatalf("bolt check exit %d", code)
		}
		return nil
	}
	theirs := func() error {
		db, err := bolt.Open(path, 0o400, &bolt.Options{ReadOnly: true, PreLoadFreelist: true})
		if err != nil {
			return err
		}
		defer db.Close()
		return db.View(func(tx *bolt.Tx) error {
			for err := range tx.Check() {
				b.Fatalf("bbolt check: %v", err)
			}
			return nil
		})
	}
	leaves := 0
	scan := func() error {
		db, err := boltfmt.Open(path, boltfmt.Options{})
		if err != nil {
			return err
		}
		defer db.Close()
		used = int64(db.HWM()) * int64(db.PageSize)
		leaves = 0
		return db.ScanPages(boltfmt.ScanOptions{To: db.HWM()}, func(p *boltfmt.Page) error {
			if p.Type == boltfmt.LeafPage {
				if _, err := boltfmt.LeafElements(p.Data, int(p.Count)); err == nil {
					leaves++
				}
			}
			return nil
		})
	}
	var to, tt, ts total
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tt.add(b, theirs)
		to.add(b, ours)
		ts.add(b, scan)
	}
	b.StopTimer()
	b.Logf("db %d bytes on disk, %d below the high-water mark, %d leaf pages", st.Size(), used, leaves)
	b.ReportMetric(to.perOp(b), "check-s/op")
	b.ReportMetric(tt.perOp(b), "bbolt-check-s/op")
	b.ReportMetric(to.d.Seconds()/tt.d.Seconds(), "check-time-x-bbolt")
	b.ReportMetric(to.mib(), "check-peak-heap-MiB")
	b.ReportMetric(tt.mib(), "bbolt-peak-heap-MiB")
	b.ReportMetric(float64(used)/ts.perOp(b)/1e6, "leaf-scan-MB/s")
	b.ReportMetric(ts.mib(), "scan-peak-heap-MiB")
}
