package tui_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	bolt "go.etcd.io/bbolt"

	"github.com/etcdscope/etcdscope/internal/bench"
	"github.com/etcdscope/etcdscope/tui"
)

// BenchmarkTUI measures the browser on a real etcd 3.6 member with a db of
// 512 MB or more (ETCDSCOPE_BENCH_DB_MB) and 64 MB WAL segments, written by
// real etcd inside the benchmark (cached), opened as the tui command opens
// it (tui.Open) and run as bubbletea runs it (each command on its own
// goroutine, the screen drawn after each message):
//
//   - datadir-first-screen-s: the data dir, until the WAL tab shows the
//     first 64 MB segment's records (the loaders of the snap files, the key
//     index and the findings running meanwhile, as they do);
//
//   - bolt-first-screen-s: the db file, until the page map shows the first
//     window of pages (open and the checking walk included), and, for
//     scale, first-screen-x-bbolt-check: over what bbolt takes to know the
//     same about every page (read-only Open with the freelist rebuilt,
//     then Tx.Check);
//
//   - mvcc-ready-s: until the MVCC tab has rebuilt the key index and shows
//     the first keys;
//
//   - page-through-s and peak-heap-MiB: paging the map through every page
//     of the db; key-bucket-pgdown-ms: one screen down etcd's key bucket in
//     the bucket browser, averaged over 200;
//
//   - tui-peak-rss-MiB: the process's peak RSS (VmHWM) after the first
//     pass, before bbolt maps the file.
//
//     go test ./tui -run '^$' -bench TUI -benchtime 3x -timeout 30m
func BenchmarkTUI(b *testing.B) {
	dir := bench.DB(b)
	dbPath, _ := bench.DBFile(b)
	var boltFirst, dirFirst, mvccReady, bboltCheck, paging, pgdown time.Duration
	var peak uint64
	var pages uint64
	b.ResetTimer()
	for i := range b.N {
		// The data dir: the WAL tab first.
		d, _, err := bench.Measure(func() error {
			src, closer, err := tui.Open(dir, tui.OpenOptions{})
			if err != nil {
				return err
			}
			defer closer.Close()
			r := newRunner(b, src, 120, 40)
			defer r.stop()
			r.until(func(s string) bool { return strings.Contains(s, "frames,") })
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		dirFirst += d

		// The db file: the page map first, then the MVCC tab.
		src, closer, err := tui.Open(dbPath, tui.OpenOptions{})
		if err != nil {
			b.Fatal(err)
		}
		var r *runner
		d, _, err = bench.Measure(func() error {
			closer.Close()
			t0 := time.Now()
			src, closer, err = tui.Open(dbPath, tui.OpenOptions{})
			if err != nil {
				return err
			}
			pages = src.Bolt.PageCount()
			r = newRunner(b, src, 120, 40)
			r.until(func(s string) bool { return strings.Contains(s, "[M]M") })
			boltFirst += time.Since(t0)
			r.m = drive(b, r.m, press("]"))
			r.until(func(s string) bool { return strings.Contains(s, "Keys at revision") })
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		mvccReady += d
		r.stop()
		m := settle(b, r.m, nil)
		m = drive(b, m, press("["))

		d, h, err := bench.Measure(func() error {
			for {
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

		// The bucket browser: into etcd's key bucket, 200 screens down.
		m = drive(b, m, press("b"))
		for range 5 {
			m = drive(b, m, press("j"))
		}
		m = drive(b, m, tea.KeyPressMsg{Code: tea.KeyEnter})
		d, h, err = bench.Measure(func() error {
			for range 200 {
				m = drive(b, m, press("pgdown"))
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		if !strings.Contains(screen(m), "Bucket /key") {
			b.Fatalf("not in the key bucket:\n%s", screen(m))
		}
		pgdown += d / 200
		peak = max(peak, h)
		closer.Close()
		if i == 0 && tuiRSS == 0 { // before bbolt ever maps the file in this process: its pages would count
			tuiRSS, _ = peakRSS()
		}

		d, _, err = bench.Measure(func() error {
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
	b.ReportMetric(dirFirst.Seconds()/n, "datadir-first-screen-s")
	b.ReportMetric(boltFirst.Seconds()/n, "bolt-first-screen-s")
	b.ReportMetric(boltFirst.Seconds()/bboltCheck.Seconds(), "first-screen-x-bbolt-check")
	b.ReportMetric(mvccReady.Seconds()/n, "mvcc-ready-s")
	b.ReportMetric(paging.Seconds()/n, "page-through-s")
	b.ReportMetric(float64(pgdown.Microseconds())/1000/n, "key-bucket-pgdown-ms")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(pages), "pages")
	b.ReportMetric(float64(tuiRSS)/(1<<20), "tui-peak-rss-MiB")
}

// runner runs the root model as bubbletea does: every command on its own
// goroutine, their messages applied one at a time.
type runner struct {
	tb   testing.TB
	m    tea.Model
	msgs chan tea.Msg
	done chan struct{}
}

func newRunner(tb testing.TB, src tui.Sources, w, h int) *runner {
	root, err := tui.New(src)
	if err != nil {
		tb.Fatal(err)
	}
	r := &runner{tb: tb, m: root, msgs: make(chan tea.Msg), done: make(chan struct{})}
	r.m, _ = r.m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	r.run(r.m.Init())
	return r
}

func (r *runner) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() {
		select {
		case r.msgs <- cmd():
		case <-r.done:
		}
	}()
}

// until applies messages until the screen satisfies ok.
func (r *runner) until(ok func(screen string) bool) {
	deadline := time.After(5 * time.Minute)
	for !ok(screen(r.m)) {
		select {
		case msg := <-r.msgs:
			switch msg := msg.(type) {
			case nil:
			case tea.BatchMsg:
				for _, c := range msg {
					r.run(c)
				}
			default:
				var cmd tea.Cmd
				r.m, cmd = r.m.Update(msg)
				r.run(cmd)
			}
		case <-deadline:
			r.tb.Fatalf("the screen never came:\n%s", screen(r.m))
		}
	}
}

// stop lets the commands still running end without being read.
func (r *runner) stop() { close(r.done) }

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
