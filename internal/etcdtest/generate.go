package etcdtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// GenOptions configure Generate. The zero value means 100 and 16 KiB.
type GenOptions struct {
	SnapshotCount   uint64 // --snapshot-count; default 100
	WALSegmentBytes int64  // WAL segment size; default 16 KiB
}

// DefaultWALSegmentBytes is the WAL segment size Generate uses by default:
// small enough that the workload's WAL spans about ten segments, with
// snapshot records and 64 KiB entries in different ones.
const DefaultWALSegmentBytes = 16 << 10

func (o GenOptions) withDefaults() GenOptions {
	if o.SnapshotCount == 0 {
		o.SnapshotCount = 100
	}
	if o.WALSegmentBytes == 0 {
		o.WALSegmentBytes = DefaultWALSegmentBytes
	}
	return o
}

// Generate returns a data dir written by etcd of the given version running
// the workload (StartMember, RunWorkload, Stop), and its recording. The
// result is cached (see the package doc); every caller gets its own copy in
// a tb.TempDir(), with recording.json beside the data dir, so it may change
// or corrupt it freely.
func Generate(tb testing.TB, version string, opts GenOptions) (dataDir string, rec *Recording) {
	tb.Helper()
	opts = opts.withDefaults()
	bins := Binaries(tb, version)

	srcKey, err := sourceKey(RepoRoot(tb))
	if err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
	name := fmt.Sprintf("%s-w%d-s%d-seg%d-%s-%s", version, WorkloadVersion,
		opts.SnapshotCount, opts.WALSegmentBytes, filepath.Base(filepath.Dir(bins.Etcd)), srcKey)
	cached := filepath.Join(CacheDir(tb), "gen", name)
	if _, err := os.Stat(filepath.Join(cached, "recording.json")); err != nil {
		generateInto(tb, bins, opts, cached)
	}

	dst := tb.TempDir()
	dataDir = filepath.Join(dst, "data")
	if err := CopyTree(filepath.Join(cached, "data"), dataDir); err != nil {
		tb.Fatalf("etcdtest: copying the generated data dir: %v", err)
	}
	if err := CopyTree(filepath.Join(cached, "recording.json"), RecordingPath(dataDir)); err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
	rec, err = LoadRecording(RecordingPath(dataDir))
	if err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
	return dataDir, rec
}

// generateInto runs the workload into a temporary sibling of dir and renames
// it to dir, under a lock file.
func generateInto(tb testing.TB, bins Bins, opts GenOptions, dir string) {
	tb.Helper()
	buildCached(tb, dir, "recording.json", ".gen-", func(tmp string) {
		m := StartMember(tb, bins, MemberOptions{
			DataDir:         filepath.Join(tmp, "data"),
			SnapshotCount:   opts.SnapshotCount,
			WALSegmentBytes: opts.WALSegmentBytes,
		})
		RunWorkload(tb, m)
		m.Stop(tb)
	})
}

// buildCached fills dir once, across processes: under dir+".lock", unless
// dir already holds the marker file, fill builds into a temporary sibling
// (named with prefix) that is then renamed to dir.
func buildCached(tb testing.TB, dir, marker, prefix string, fill func(tmp string)) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
	unlock, err := lockFile(dir + ".lock")
	if err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
	defer unlock()
	if _, err := os.Stat(filepath.Join(dir, marker)); err == nil {
		return // another process built it meanwhile
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), prefix)
	if err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
	defer os.RemoveAll(tmp)
	fill(tmp)
	if tb.Failed() {
		tb.FailNow()
	}
	if _, err := os.Stat(filepath.Join(tmp, marker)); err != nil {
		tb.Fatalf("etcdtest: building %s left no %s", dir, marker)
	}
	if err := os.RemoveAll(dir); err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
	pruneStale(dir)
}

// pruneStale removes data dirs generated for the same version, options and
// binaries by other revisions of this package's sources, once they are an
// hour old, so that editing the workload does not fill the cache.
func pruneStale(dir string) {
	base := filepath.Base(dir)
	prefix := base[:strings.LastIndexByte(base, '-')+1]
	entries, _ := os.ReadDir(filepath.Dir(dir))
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || name == base || !strings.HasPrefix(name, prefix) {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > time.Hour {
			stale := filepath.Join(filepath.Dir(dir), name)
			os.RemoveAll(stale)
			os.Remove(stale + ".lock")
		}
	}
}

// sourceKey hashes this package's non-test Go files, so that a change to
// the workload or the flags invalidates generated data dirs even if
// WorkloadVersion was not bumped.
func sourceKey(root string) (string, error) {
	dir := filepath.Join(root, "internal", "etcdtest")
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return "", err
	}
	var files []string
	for _, name := range names {
		if !strings.HasSuffix(name, "_test.go") {
			files = append(files, filepath.Base(name))
		}
	}
	sort.Strings(files)
	h := sha256.New()
	if err := hashFiles(h, dir, files); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}
