// Package benchutil measures benchmarks: the peak of live heap objects
// while a function runs, sampled through runtime/metrics (no stop-the-world).
// Test support only.
package benchutil

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
