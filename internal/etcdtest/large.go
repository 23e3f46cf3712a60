package etcdtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcdscope/etcdscope/boltfmt"
)

// LargeWALVersion identifies the load LargeWAL drives through etcd. Bump it
// whenever the load, the flags or LargeWALInfo change; it is part of the
// cache key.
const LargeWALVersion = 1

// Parameters of LargeWAL's load.
const (
	largeWorkers        = 32   // concurrent clients
	largePrefixes       = 8    // /bench/p0/ to /bench/p7/
	largeKeysPerPrefix  = 4096 // /bench/pN/00000 to /bench/pN/04095
	largeSnapshotCount  = 100000
	largeCompactEvery   = 20000 // revisions between compactions
	largeCompactRetain  = 10000 // revisions kept by each compaction
	largeQuotaBackend   = "8589934592"
	largeValuePoolBytes = 256 << 10
)

// LargeWALInfo describes a data dir made by LargeWAL. It is written as
// large.json beside the data dir (in its parent dir).
type LargeWALInfo struct {
	GeneratorVersion int    `json:"generator_version"` // LargeWALVersion
	Version          string `json:"version"`           // minor version, as in Versions
	ServerVersion    string `json:"server_version"`    // e.g. "3.6.16"
	MinBytes         int64  `json:"min_bytes"`         // as asked

	// WALBytes is the number of bytes etcd wrote to member/wal/*.wal: the
	// sizes of all segments but the last, plus the last one's offset of its
	// last non-zero byte, rounded up to 8 (a frame ends on 8 bytes).
	WALBytes int64 `json:"wal_bytes"`
	// WALFileBytes is the sum of the sizes of member/wal/*.wal, including
	// the preallocated tail of the last segment.
	WALFileBytes int64 `json:"wal_file_bytes"`
	Segments     int   `json:"segments"`

	// RaftIndex and Revision are from the member's status after the load:
	// the WAL holds about RaftIndex entries.
	RaftIndex uint64 `json:"raft_index"`
	Revision  int64  `json:"revision"`
	// CompactRevision is the last revision the load compacted at.
	CompactRevision int64 `json:"compact_revision"`

	// Requests the load made, successful ones only.
	Puts        int64 `json:"puts"`
	Deletes     int64 `json:"deletes"`
	Txns        int64 `json:"txns"`
	Compactions int64 `json:"compactions"`
	// ValueBytes is the sum of the sizes of the values put, txns included.
	ValueBytes int64 `json:"value_bytes"`

	Seconds float64 `json:"seconds"` // wall time of the load
}

// LargeWALInfoPath returns the path of the LargeWALInfo of a data dir
// returned by LargeWAL.
func LargeWALInfoPath(dataDir string) string {
	return filepath.Join(filepath.Dir(filepath.Clean(dataDir)), "large.json")
}

// LoadLargeWALInfo reads the LargeWALInfo of a data dir returned by
// LargeWAL.
func LoadLargeWALInfo(dataDir string) (*LargeWALInfo, error) {
	data, err := os.ReadFile(LargeWALInfoPath(dataDir))
	if err != nil {
		return nil, err
	}
	var info LargeWALInfo
	if err := json.Unmarshal(data, &info); err != nil {
		return nil, fmt.Errorf("%s: %v", LargeWALInfoPath(dataDir), err)
	}
	return &info, nil
}

// LargeWAL returns a data dir whose member/wal holds at least minBytes of
// WAL written by real etcd of the given version, for benchmarks of WAL
// readers. etcd runs with its default 64,000,000-byte segments,
// --snapshot-count 100000, --quota-backend-bytes 8 GiB and --max-wals 0
// --max-snapshots 0, so no segment is purged and the WAL starts at
// 0000000000000000-0000000000000000.wal.
//
// The load is 32 concurrent client/v3 clients, each running its own
// deterministic sequence of requests over the keys /bench/p0/00000 to
// /bench/p7/04095 (so most puts overwrite): 98% puts whose values are 70%
// 100 B to 1000 B, 25% 1 KiB to 8 KiB and 5% 16 KiB to 64 KiB, 1% deletes
// of one key and 1% small txns (compare a key's version, then put it and
// get another key, else put it). Every 20,000 revisions it compacts,
// keeping the last 10,000, so the db stays small. The interleaving of the
// clients' requests, hence the WAL's bytes, differs from run to run. It
// stops once the written bytes of member/wal/*.wal reach minBytes and
// stops etcd cleanly. At about 3.5 KiB per entry, 256 MiB is some 75,000
// entries.
//
// The result is cached under CacheDir(tb)/large, keyed by the version,
// minBytes, LargeWALVersion and the binaries, and filled under a file lock,
// so it is generated once; LargeWAL logs its progress with tb.Logf. The
// returned path is the cached data dir itself, not a copy: callers must
// only read it (open the WAL read-only, never start etcd on it) and must
// not modify it. Benchmarks should call b.ResetTimer after LargeWAL.
// LoadLargeWALInfo describes it.
func LargeWAL(tb testing.TB, version string, minBytes int64) (dataDir string) {
	tb.Helper()
	return largeDir(tb, "LargeWAL", version, largeTarget{walBytes: minBytes})
}

// LargeDB returns a data dir whose member/snap/db holds at least minBytes
// (high-water mark times page size) written by real etcd of the given
// version, for benchmarks of db readers: the same load as LargeWAL but
// never compacted, so every revision stays in the key bucket. Cached and
// returned like LargeWAL's: callers must only read it.
func LargeDB(tb testing.TB, version string, minBytes int64) (dataDir string) {
	tb.Helper()
	return largeDir(tb, "LargeDB", version, largeTarget{dbBytes: minBytes})
}

// LargeEntries returns a data dir whose WAL holds at least n entries
// written by real etcd of the given version, with small values (20 B to
// 200 B) so that a million entries stay a few hundred MB; otherwise the
// load and the caching are LargeWAL's (compactions included, WAL kept from
// index 1). Callers must only read it.
func LargeEntries(tb testing.TB, version string, n int64) (dataDir string) {
	tb.Helper()
	return largeDir(tb, "LargeEntries", version, largeTarget{entries: n})
}

// largeDir returns the data dir of the large load of the given version
// that runs until target, for the function named fn. It is cached under
// CacheDir(tb)/large in a dir named by the target, the version,
// LargeWALVersion and the binaries, generated into a temporary sibling and
// renamed, under a lock file, unless it is there already.
func largeDir(tb testing.TB, fn, version string, target largeTarget) (dataDir string) {
	tb.Helper()
	kind, n := target.goal()
	if n <= 0 {
		tb.Fatalf("etcdtest: %s: %d: want > 0", fn, n)
	}
	bins := Binaries(tb, version)
	name := fmt.Sprintf("%s%s-g%d-%d-%s", kind, version, LargeWALVersion, n,
		filepath.Base(filepath.Dir(bins.Etcd)))
	cached := filepath.Join(CacheDir(tb), "large", name)
	if _, err := os.Stat(filepath.Join(cached, "large.json")); err != nil {
		buildCached(tb, cached, "large.json", ".large-", func(tmp string) {
			writeLargeInfo(tb, tmp, runLargeLoad(tb, bins, target, filepath.Join(tmp, "data")))
		})
	}
	return filepath.Join(cached, "data")
}

// largeTarget says when the load stops: once the WAL's written bytes reach
// walBytes, or (with no compaction) once the db's high-water mark reaches
// dbBytes.
type largeTarget struct {
	walBytes, dbBytes int64
	entries           int64 // with small values: stop at this many revisions
}

// goal returns the target's number (bytes of WAL or db, or revisions) and
// the kind that prefixes the names of its cached data dirs.
func (t largeTarget) goal() (kind string, n int64) {
	switch {
	case t.entries != 0:
		return "entries-", t.entries
	case t.dbBytes != 0:
		return "db-", t.dbBytes
	}
	return "", t.walBytes
}

func writeLargeInfo(tb testing.TB, dir string, info *LargeWALInfo) {
	data, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "large.json"), append(data, '\n'), 0o644); err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
}

// dbUsedBytes returns a bbolt file's high-water mark times its page size,
// read from its meta pages (read-only, no lock; etcd may be writing it).
func dbUsedBytes(path string) (int64, error) {
	db, err := boltfmt.Open(path, boltfmt.Options{})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	return int64(db.HWM()) * int64(db.PageSize), nil
}

// largeWorker is one client of the load, with its own splitmix64 stream.
type largeWorker struct {
	cli   *clientv3.Client
	pool  []byte
	rng   uint64
	small bool // values of 20 B to 200 B only
}

func (w *largeWorker) next() uint64 {
	w.rng += 0x9e3779b97f4a7c15
	z := w.rng
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (w *largeWorker) key() string {
	r := w.next()
	return fmt.Sprintf("/bench/p%d/%05d", r%largePrefixes, (r/largePrefixes)%largeKeysPerPrefix)
}

// value returns a value of the load's size mix, a slice of the pool.
func (w *largeWorker) value() string {
	r := w.next()
	var n int
	switch p, x := r%100, int(r>>8); {
	case w.small:
		n = 20 + x%181
	case p < 70:
		n = 100 + x%901
	case p < 95:
		n = 1<<10 + x%(7<<10+1)
	default:
		n = 16<<10 + x%(48<<10+1)
	}
	off := int(w.next() % uint64(len(w.pool)-n))
	return string(w.pool[off : off+n])
}

type largeCounters struct {
	puts, deletes, txns, valueBytes atomic.Int64
	rev                             atomic.Int64 // highest revision seen
}

func (c *largeCounters) sawRev(rev int64) {
	for {
		old := c.rev.Load()
		if rev <= old || c.rev.CompareAndSwap(old, rev) {
			return
		}
	}
}

// op performs the worker's next request.
func (w *largeWorker) op(c *largeCounters) error {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	switch w.next() % 100 {
	case 0:
		key := w.key()
		resp, err := w.cli.Delete(ctx, key)
		if err != nil {
			return fmt.Errorf("delete %s: %w", key, err)
		}
		c.deletes.Add(1)
		c.sawRev(resp.Header.Revision)
	case 1:
		key, other := w.key(), w.key()
		val := w.pool[:64+w.next()%64]
		resp, err := w.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.Version(key), ">", 0)).
			Then(clientv3.OpPut(key, string(val)), clientv3.OpGet(other)).
			Else(clientv3.OpPut(key, string(val[:32]))).
			Commit()
		if err != nil {
			return fmt.Errorf("txn on %s: %w", key, err)
		}
		c.txns.Add(1)
		c.valueBytes.Add(int64(len(val)))
		c.sawRev(resp.Header.Revision)
	default:
		key, val := w.key(), w.value()
		resp, err := w.cli.Put(ctx, key, val)
		if err != nil {
			return fmt.Errorf("put %s (%d B): %w", key, len(val), err)
		}
		c.puts.Add(1)
		c.valueBytes.Add(int64(len(val)))
		c.sawRev(resp.Header.Revision)
	}
	return nil
}

// runLargeLoad starts a member in dataDir, loads it until its WAL holds
// minBytes, and stops it.
func runLargeLoad(tb testing.TB, bins Bins, target largeTarget, dataDir string) *LargeWALInfo {
	tb.Helper()
	_, minBytes := target.goal()
	start := time.Now()
	m := StartMember(tb, bins, MemberOptions{
		DataDir:       dataDir,
		SnapshotCount: largeSnapshotCount,
		ExtraArgs: []string{
			"--quota-backend-bytes", largeQuotaBackend,
			"--log-level", "error",
		},
	})
	defer m.Stop(tb)
	cli := m.Client(tb)
	walDir := filepath.Join(dataDir, "member", "wal")
	tb.Logf("etcdtest: LargeWAL: loading etcd %s (pid %d) until %s holds %d bytes of WAL",
		bins.Version, m.Pid(), walDir, minBytes)

	pool := Value("/bench/pool", LargeWALVersion, largeValuePoolBytes)
	var (
		c       largeCounters
		stop    atomic.Bool
		errOnce sync.Once
		loadErr error
		failed  = make(chan struct{})
		wg      sync.WaitGroup
	)
	for i := range largeWorkers {
		w := &largeWorker{cli: cli, pool: pool, rng: uint64(i+1) * 0x2545f4914f6cdd1d, small: target.entries > 0}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				if err := w.op(&c); err != nil {
					if !stop.Load() {
						errOnce.Do(func() { loadErr = err; close(failed) })
					}
					return
				}
			}
		}()
	}
	finish := func() {
		stop.Store(true)
		wg.Wait()
	}

	meter := walMeter{dir: walDir}
	var compactRev, compactions int64
	nextLog := int64(1)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-failed:
			finish()
			tb.Fatalf("etcdtest: LargeWAL: %v", loadErr)
		case <-tick.C:
		}
		written, segs, err := meter.measure()
		if err == nil && target.dbBytes > 0 {
			written, err = dbUsedBytes(filepath.Join(dataDir, "member", "snap", "db"))
		}
		if err != nil {
			finish()
			tb.Fatalf("etcdtest: LargeWAL: %v", err)
		}
		if pct := written * 10 / minBytes; pct >= nextLog && written < minBytes {
			nextLog = pct + 1
			tb.Logf("etcdtest: large load: %3d%%: %d bytes (WAL, or db for LargeDB); %d WAL segments, revision %d, %v",
				pct*10, written, segs, c.rev.Load(), time.Since(start).Round(100*time.Millisecond))
		}
		if target.entries > 0 {
			written = c.rev.Load() // revisions stand in for entries (one put, one entry)
		}
		if written >= minBytes {
			break
		}
		if rev := c.rev.Load(); target.dbBytes == 0 && rev-compactRev >= largeCompactEvery+largeCompactRetain {
			target := rev - largeCompactRetain
			ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
			_, err := cli.Compact(ctx, target)
			cancel()
			if err != nil {
				finish()
				tb.Fatalf("etcdtest: LargeWAL: compact %d: %v", target, err)
			}
			compactRev = target
			compactions++
		}
	}
	finish()

	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	status, err := cli.Status(ctx, m.ClientURL)
	cancel()
	if err != nil {
		tb.Fatalf("etcdtest: LargeWAL: status: %v", err)
	}
	cli.Close()
	m.Stop(tb)
	if tb.Failed() {
		tb.FailNow()
	}

	written, fileBytes, segs, err := walWritten(walDir)
	if err != nil {
		tb.Fatalf("etcdtest: LargeWAL: %v", err)
	}
	if written < target.walBytes {
		tb.Fatalf("etcdtest: LargeWAL: only %d bytes of WAL after stopping etcd, want %d", written, target.walBytes)
	}
	info := &LargeWALInfo{
		GeneratorVersion: LargeWALVersion,
		Version:          bins.Version,
		ServerVersion:    status.Version,
		MinBytes:         minBytes,
		WALBytes:         written,
		WALFileBytes:     fileBytes,
		Segments:         segs,
		RaftIndex:        status.RaftIndex,
		Revision:         status.Header.Revision,
		CompactRevision:  compactRev,
		Puts:             c.puts.Load(),
		Deletes:          c.deletes.Load(),
		Txns:             c.txns.Load(),
		Compactions:      compactions,
		ValueBytes:       c.valueBytes.Load(),
		Seconds:          time.Since(start).Seconds(),
	}
	tb.Logf("etcdtest: LargeWAL: 100%%: %d bytes of WAL (%d on disk) in %d segments, raft index %d, revision %d, %d puts, %d deletes, %d txns, %d compactions, %.1fs",
		info.WALBytes, info.WALFileBytes, info.Segments, info.RaftIndex, info.Revision,
		info.Puts, info.Deletes, info.Txns, info.Compactions, info.Seconds)
	return info
}

// walSegments returns the paths of the .wal files in dir, sorted.
func walSegments(dir string) ([]string, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.wal"))
	sort.Strings(names)
	return names, err
}

// walMeter measures the bytes written to a live WAL cheaply: it remembers
// how far the last segment was written and reads on from there, up to the
// first 64 KiB of zeros.
type walMeter struct {
	dir  string
	last string // the last segment
	off  int64  // bytes written to it, as far as known
}

func (w *walMeter) measure() (written int64, segs int, err error) {
	names, err := walSegments(w.dir)
	if err != nil || len(names) == 0 {
		return 0, 0, err
	}
	for _, name := range names[:len(names)-1] {
		st, err := os.Stat(name)
		if err != nil {
			return 0, 0, err
		}
		written += st.Size()
	}
	if last := names[len(names)-1]; last != w.last {
		w.last, w.off = last, 0
	}
	f, err := os.Open(w.last)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for pos := w.off &^ 4095; ; pos += int64(len(buf)) {
		n, err := f.ReadAt(buf, pos)
		if i := lastNonZero(buf[:n]); i >= 0 {
			w.off = max(w.off, pos+int64(i)+1)
		} else {
			break
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, 0, err
		}
	}
	return written + w.off, len(names), nil
}

// walWritten returns the bytes written to the WAL in dir (see
// LargeWALInfo.WALBytes), the sum of its segments' sizes and their number.
func walWritten(dir string) (written, fileBytes int64, segs int, err error) {
	names, err := walSegments(dir)
	if err != nil {
		return 0, 0, 0, err
	}
	if len(names) == 0 {
		return 0, 0, 0, fmt.Errorf("no WAL segment in %s", dir)
	}
	for _, name := range names {
		st, err := os.Stat(name)
		if err != nil {
			return 0, 0, 0, err
		}
		fileBytes += st.Size()
	}
	last := names[len(names)-1]
	data, err := os.ReadFile(last)
	if err != nil {
		return 0, 0, 0, err
	}
	tail := int64(lastNonZero(data)+1+7) &^ 7
	st, _ := os.Stat(last)
	return fileBytes - st.Size() + min(tail, st.Size()), fileBytes, len(names), nil
}

// lastNonZero returns the index of the last non-zero byte of b, or -1.
func lastNonZero(b []byte) int {
	var zero [4096]byte
	i := len(b)
	for i >= len(zero) && bytes.Equal(b[i-len(zero):i], zero[:]) {
		i -= len(zero)
	}
	for i > 0 {
		i--
		if b[i] != 0 {
			return i
		}
	}
	return -1
}
