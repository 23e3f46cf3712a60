// Package bench is what the benchmarks share: their inputs, written by
// real etcd 3.6 and cached (DB, WAL, Entries, sized by environment
// variables), and their measures, the wall time and the peak of live heap
// objects while a function runs, sampled through runtime/metrics (no
// stop-the-world). Test support only.
package bench

import (
	"bufio"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const heapMetric = "/memory/classes/heap/objects:bytes"

// Measure runs f once and returns its wall time and the peak live heap of
// the whole process while it ran.
func Measure(f func() error) (time.Duration, uint64, error) {
	runtime.GC()
	var (
		peak uint64
		wg   sync.WaitGroup
		stop = make(chan struct{})
	)
	read := func() uint64 {
		s := []metrics.Sample{{Name: heapMetric}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			peak = max(peak, read())
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	t0 := time.Now()
	err := f()
	d := time.Since(t0)
	close(stop)
	wg.Wait()
	return d, max(peak, read()), err
}

// Total is what the runs of one contender of a benchmark took over its
// iterations: the sum of their wall times and the highest of their peaks.
type Total struct {
	Time time.Duration
	Peak uint64 // bytes of live heap
}

// Measure runs f once (see Measure) and adds it to t. An error from f
// fails tb.
func (t *Total) Measure(tb testing.TB, f func() error) {
	tb.Helper()
	d, h, err := Measure(f)
	if err != nil {
		tb.Fatal(err)
	}
	t.Time += d
	t.Peak = max(t.Peak, h)
}

// PerOp is t's seconds per iteration of b.
func (t Total) PerOp(b *testing.B) float64 { return t.Time.Seconds() / float64(b.N) }

// Over is t's time over u's.
func (t Total) Over(u Total) float64 { return t.Time.Seconds() / u.Time.Seconds() }

// PeakMiB is t's peak in MiB.
func (t Total) PeakMiB() float64 { return float64(t.Peak) / (1 << 20) }

// Rounds resets b's timer, runs each of fs once per iteration of b, in
// order (so that machine noise hits them alike), stops the timer, and
// returns their totals.
func Rounds(b *testing.B, fs ...func() error) []Total {
	b.Helper()
	totals := make([]Total, len(fs))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j, f := range fs {
			totals[j].Measure(b, f)
		}
	}
	b.StopTimer()
	return totals
}

// EnvInt returns the positive integer in environment variable name, or def
// when it is unset; anything else fails the benchmark.
func EnvInt(tb testing.TB, name string, def int64) int64 {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 {
		tb.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return v
}

// RemoteHeap reads go_memstats_heap_alloc_bytes, the live heap, from the
// /metrics of the Go server at baseURL (an etcd member's client URL): the
// figure Measure samples in-process. It gives 0 while the server does not
// answer.
func RemoteHeap(baseURL string) uint64 {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(baseURL + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_memstats_heap_alloc_bytes "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return uint64(f)
		}
	}
	return 0
}
