package bench

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/etcdscope/etcdscope/internal/etcdtest"
)

// EtcdVersion is the etcd version that writes the benchmarks' inputs.
const EtcdVersion = "3.6"

// DB returns the data dir the benchmarks of db readers share: an
// uncompacted member whose db holds at least ETCDSCOPE_BENCH_DB_MB MiB
// (default 512), as etcdtest.LargeDB writes it. Callers must only read it.
func DB(b *testing.B) (dataDir string) {
	b.Helper()
	return etcdtest.LargeDB(b, EtcdVersion, EnvInt(b, "ETCDSCOPE_BENCH_DB_MB", 512)<<20)
}

// DBFile returns the path of DB's member/snap/db and its size.
func DBFile(b *testing.B) (path string, size int64) {
	b.Helper()
	path = filepath.Join(DB(b), "member", "snap", "db")
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return path, st.Size()
}

// WAL returns the data dir the benchmarks of WAL readers share: a member
// whose WAL holds at least ETCDSCOPE_BENCH_WAL_MB MiB (default 256) in 64 MB
// segments, as etcdtest.LargeWAL writes it. Callers must only read it.
func WAL(b *testing.B) (dataDir string) {
	b.Helper()
	return etcdtest.LargeWAL(b, EtcdVersion, EnvInt(b, "ETCDSCOPE_BENCH_WAL_MB", 256)<<20)
}

// Entries returns the data dir of the replay benchmarks: a member whose WAL
// holds at least ETCDSCOPE_BENCH_ENTRIES entries (default 1M) of small
// values, as etcdtest.LargeEntries writes it. Callers must only read it.
func Entries(b *testing.B) (dataDir string) {
	b.Helper()
	return etcdtest.LargeEntries(b, EtcdVersion, EnvInt(b, "ETCDSCOPE_BENCH_ENTRIES", 1_000_000))
}

// Copy copies src, a file or a dir (an input, for a benchmark that needs
// to write to it), to dst, which must not exist. It streams the files: a
// copy held in memory would count in the heaps measured.
func Copy(b *testing.B, src, dst string) {
	b.Helper()
	if err := etcdtest.CopyTree(src, dst); err != nil {
		b.Fatal(err)
	}
}
