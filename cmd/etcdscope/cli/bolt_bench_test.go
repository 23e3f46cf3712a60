package cli

import (
	"context"
	"io"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/internal/bench"
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
	path, size := bench.DBFile(b)
	var used int64
	check := func() error {
		if code := Main(context.Background(), []string{"bolt", "check", path}, io.Discard, io.Discard); code != ExitOK {
			b.Fatalf("bolt check exit %d", code)
		}
		return nil
	}
	bboltCheck := func() error {
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
	t := bench.Rounds(b, bboltCheck, check, scan)
	theirs, ours, scanned := t[0], t[1], t[2]
	b.Logf("db %d bytes on disk, %d below the high-water mark, %d leaf pages", size, used, leaves)
	b.ReportMetric(ours.PerOp(b), "check-s/op")
	b.ReportMetric(theirs.PerOp(b), "bbolt-check-s/op")
	b.ReportMetric(ours.Over(theirs), "check-time-x-bbolt")
	b.ReportMetric(ours.PeakMiB(), "check-peak-heap-MiB")
	b.ReportMetric(theirs.PeakMiB(), "bbolt-peak-heap-MiB")
	b.ReportMetric(float64(used)*float64(b.N)/scanned.Time.Seconds()/1e6, "leaf-scan-MB/s")
	b.ReportMetric(scanned.PeakMiB(), "scan-peak-heap-MiB")
}
