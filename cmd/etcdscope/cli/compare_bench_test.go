package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/etcdscope/etcdscope/internal/bench"
)

// BenchmarkCompare checks the bar of compare's issue, "on three copies of
// a member of at least 512 MB, compare under 3x the time of mvcc hash on
// one": in the same run, it times the real `compare` command on three
// copies of one real etcd data dir and the real `mvcc hash` command on one
// copy's db. Both must give the same hash, and compare must exit 0
// (copies of one member only draw warnings). The data dir is written by
// real etcd 3.6 inside the benchmark (cached, the one BenchmarkMVCCHash
// uses); ETCDSCOPE_BENCH_DB_MB sets its db's size (default 512). The
// copies are made once, outside the timer, as separate files. Each
// iteration runs both commands, alternating which goes first so that a
// warm page cache favours neither; the metrics are totals over the
// iterations.
//
//	go test ./cmd/etcdscope/cli -run '^$' -bench Compare -benchtime 3x -timeout 60m
func BenchmarkCompare(b *testing.B) {
	src := bench.DB(b)
	tmp := b.TempDir()
	dirs := make([]string, 3)
	for i := range dirs {
		dirs[i] = filepath.Join(tmp, "m"+strconv.Itoa(i+1))
		bench.Copy(b, src, dirs[i])
	}
	db := filepath.Join(dirs[0], "member", "snap", "db")
	st, err := os.Stat(db)
	if err != nil {
		b.Fatal(err)
	}
	wal, err := treeSize(filepath.Join(dirs[0], "member", "wal"))
	if err != nil {
		b.Fatal(err)
	}

	var hashOut struct {
		Hash            int64 `json:"hash"`
		CompactRevision int64 `json:"compact_revision"`
		HashRevision    int64 `json:"hash_revision"`
	}
	var cmpOut struct {
		Members []struct {
			Hash *int64 `json:"hash"`
		} `json:"members"`
		HashRevision        int64 `json:"hash_revision"`
		HashCompactRevision int64 `json:"hash_compact_revision"`
	}
	hash := func() error {
		var out, errOut bytes.Buffer
		if code := Main(context.Background(), []string{"mvcc", "hash", db, "-w", "json"}, &out, &errOut); code != ExitOK {
			b.Fatalf("mvcc hash exit %d: %s", code, errOut.Bytes())
		}
		return json.Unmarshal(out.Bytes(), &hashOut)
	}
	cmp := func() error {
		var out, errOut bytes.Buffer
		args := append([]string{"compare"}, dirs...)
		if code := Main(context.Background(), append(args, "-w", "json"), &out, &errOut); code != ExitOK {
			b.Fatalf("compare exit %d: %s\n%s", code, errOut.Bytes(), out.Bytes())
		}
		return json.Unmarshal(out.Bytes(), &cmpOut)
	}

	var tc, th bench.Total
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			tc.Measure(b, cmp)
			th.Measure(b, hash)
		} else {
			th.Measure(b, hash)
			tc.Measure(b, cmp)
		}
		if len(cmpOut.Members) != len(dirs) {
			b.Fatalf("compare reported %d members, want %d", len(cmpOut.Members), len(dirs))
		}
		for j, m := range cmpOut.Members {
			if m.Hash == nil || *m.Hash != hashOut.Hash {
				b.Fatalf("compare member %d hash %v, mvcc hash %d", j, m.Hash, hashOut.Hash)
			}
		}
		if cmpOut.HashRevision != hashOut.HashRevision || cmpOut.HashCompactRevision != hashOut.CompactRevision {
			b.Fatalf("compare at revision %d (compaction %d), mvcc hash at %d (compaction %d)",
				cmpOut.HashRevision, cmpOut.HashCompactRevision, hashOut.HashRevision, hashOut.CompactRevision)
		}
	}
	b.StopTimer()
	b.Logf("db %d bytes, WAL %d bytes, per copy; hash %d at revision %d from both",
		st.Size(), wal, hashOut.Hash, hashOut.HashRevision)
	b.ReportMetric(tc.PerOp(b), "compare-s/op")
	b.ReportMetric(th.PerOp(b), "mvcchash-s/op")
	b.ReportMetric(tc.Over(th), "compare-x-mvcchash")
	b.ReportMetric(tc.PeakMiB(), "compare-peak-heap-MiB")
	b.ReportMetric(th.PeakMiB(), "mvcchash-peak-heap-MiB")
}

// treeSize returns the total size of the regular files under dir.
func treeSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		n += info.Size()
		return nil
	})
	return n, err
}
