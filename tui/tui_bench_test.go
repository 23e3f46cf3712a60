package tui_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	bolt "go.etcd.io/bbolt"

	"github.com/etcdscope/etcdscope/internal/benchutil"
	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/tui"
)

// BenchmarkTUI measures the browser on a real etcd 3.6 member with a db of
// 512 MB or more (ETCDSCOPE_BENCH_DB_MB) and 64 MB WAL segments, written by
// real etcd inside the benchmark (cached): the time to the first screen
// of the Bolt tab (open, the checking walk, the first window of pages
// read, drawn) and of the WAL tab (the first 64 MB segment read and
// drawn), and the peak live heap while paging through every page of the
// db, and the process's peak RSS then (VmHWM, before bbolt maps the
// file). For scale, in the same run, what bbolt
// takes to know the same about every page (read-only Open with the
// freelist rebuilt, then Tx.Check): first-screen-x-bbolt-check.
//
//	go test ./tui -run '^$' -bench TUI -benchtime 3x -timeout 30m
func BenchmarkTUI(b *testing.B) {
	mb := benchutil.EnvInt(b, "ETCDSCOPE_BENCH_DB_MB", 512)
	dir := etcdtest.LargeDB(b, "3.6", mb<<20)
	dbPath := filepath.Join(dir, "member", "snap", "db")
	walPath := filepath.Join(dir, "member", "wal")
	var boltFirst, walFirst, bboltCheck, paging time.Duration
	var peak uint64
	var pages uint64
	b.ResetTimer()
	for i := range b.N {
		var m tea.Model
		d, _, err := benchutil.Measure(func() error {
			src, closer, err := tui.OpenBolt(dbPath)
			if err != nil {
				return err
			}
			b.Cleanup(func() { closer.Close() })
			pages = src.PageCount()
			m = start(b, tui.Sources{Bolt: src}, 120, 40)
			_ = screen(m)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		boltFirst += d

		d, h, err := benchutil.Measure(func() error {
			for i := 0; ; i++ {
				before := screen(m)
				m = drive(b, m, press("pgdown"))
				if screen(m) == before {
					return nil // the last page
				}
			}
		})
		if err != nil {
			b.Fatal(err)
		}
		paging += d
		peak = max(peak, h)
		if want := fmt.Sprintf("Page %d ", pages-1); !strings.Contains(screen(m), want) {
			b.Fatalf("paging stopped before the last page (%s):\n%s", want, screen(m))
		}

		d, _, err = benchutil.Measure(func() error {
			src, closer, err := tui.OpenWAL(walPath)
			if err != nil {
				return err
			}
			defer closer.Close()
			_ = screen(start(b, tui.Sources{WAL: src}, 120, 40))
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		walFirst += d
		if i == 0 && tuiRSS == 0 { // before bbolt ever maps the file in this process: its pages would count
			tuiRSS, _ = peakRSS()
		}

		d, _, err = benchutil.Measure(func() error {
			db, err := bolt.Open(dbPath, 0o400, &bolt.Options{ReadOnly: true, PreLoadFreelist: true, Timeout: time.Second})
			if err != nil {
				return err
			}
			defer db.Close()
			return db.View(func(tx *bolt.Tx) error {
				for err := range tx.Check() {
					return err
				}
				return nil
			})
		})
		if err != nil {
			b.Fatal(err)
		}
		bboltCheck += d

	}
	n := float64(b.N)
	b.ReportMetric(boltFirst.Seconds()/n, "bolt-first-screen-s")
	b.ReportMetric(walFirst.Seconds()/n, "wal-first-screen-s")
	b.ReportMetric(boltFirst.Seconds()/bboltCheck.Seconds(), "first-screen-x-bbolt-check")
	b.ReportMetric(paging.Seconds()/n, "page-through-s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(pages), "pages")
	b.ReportMetric(float64(tuiRSS)/(1<<20), "tui-peak-rss-MiB")
}

// tuiRSS is the process's peak RSS after the browser's first pass, taken
// once: later runs of the benchmark come after bbolt mapped the file.
var tuiRSS uint64

// peakRSS is the process's peak resident set (VmHWM, Linux), which also
// counts what the bbolt reference mapped.
func peakRSS() (uint64, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			var kb uint64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kb); err == nil {
				return kb << 10, true
			}
		}
	}
	return 0, false
}
