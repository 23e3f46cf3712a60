package repair_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/etcdscope/etcdscope/inspect"
	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/fixture"
	"github.com/etcdscope/etcdscope/mvccview"
	"github.com/etcdscope/etcdscope/repair"
)

// salvageHelperEnv, when set, makes TestSalvageBoundedMemory the helper
// process: it salvages the member named there and prints its result and
// heap on stdout.
const salvageHelperEnv = "ETCDSCOPE_SALVAGE_HELPER"

// heapBound is what a salvage of the sample may hold of heap (issue 15).
const heapBound = 512 << 20

// TestSalvageBoundedMemory (issue 15, case 1): a revision key whose top
// byte is damaged, or a record at revision 2^62, must not make repair
// salvage allocate by the revision's value. Each salvage runs in a child
// process under ulimit -v and a time limit, and reports its heap
// (runtime.MemStats.HeapSys, which never shrinks, so bounds the peak).
func TestSalvageBoundedMemory(t *testing.T) {
	if dir := os.Getenv(salvageHelperEnv); dir != "" {
		salvageHelper(t, dir)
		return
	}
	for name, damage := range map[string]func(t *testing.T, db string) int64{
		// The repro: bit 4 of the byte at 0x31332 is in the top
		// byte of a revision key of the key bucket.
		"flipped revision byte": func(t *testing.T, db string) int64 {
			fixture.FlipBit(t, db, 0x31332, 4)
			return 0x1000000000000016
		},
		"revision 2^62": func(t *testing.T, db string) int64 {
			putRecord(t, db, 1<<62)
			return 1 << 62
		},
	} {
		t.Run(name, func(t *testing.T) {
			member := fixture.CopyDir(t, etcdtest.SampleDir(t))
			newest := damage(t, filepath.Join(member, "member", "snap", "db"))
			defer etcdtest.RequireUnchanged(t, member)()
			got := runSalvageHelper(t, member)
			t.Logf("heap %d MiB, revision %d, missing %v", got.HeapSys>>20, got.Revision, got.Missing)
			if got.HeapSys >= heapBound {
				t.Errorf("heap %d MiB, want below %d MiB", got.HeapSys>>20, heapBound>>20)
			}
			if got.Revision != newest {
				t.Errorf("revision %d, want %d", got.Revision, newest)
			}
			// Every revision between the sample's newest and the record's is
			// missing.
			if n := len(got.Missing); n == 0 || got.Missing[n-1].To != newest-1 {
				t.Errorf("missing %v, want a last range ending at %d", got.Missing, newest-1)
			}
		})
	}
}

// helperResult is what the helper process reports.
type helperResult struct {
	HeapSys  uint64
	Revision int64
	Missing  []repair.RevRange
}

// runSalvageHelper runs the test binary as the helper on member under
// ulimit -v 2 GB and a minute's limit.
func runSalvageHelper(t *testing.T, member string) helperResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", `ulimit -v 2000000 && exec "$0" -test.run='^TestSalvageBoundedMemory$' -test.v`, os.Args[0])
	cmd.Env = append(os.Environ(), salvageHelperEnv+"="+member, "TMPDIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("the salvage did not end within a minute")
	}
	if err != nil {
		t.Fatalf("the salvage failed: %v\n%s", err, head(out))
	}
	for line := range strings.Lines(string(out)) {
		if s, ok := strings.CutPrefix(line, "salvage-result "); ok {
			var r helperResult
			if err := json.Unmarshal([]byte(s), &r); err != nil {
				t.Fatal(err)
			}
			return r
		}
	}
	t.Fatalf("no result from the helper:\n%s", head(out))
	return helperResult{}
}

// salvageHelper is the child's side: a dry-run salvage of member.
func salvageHelper(t *testing.T, member string) {
	res, err := repair.SalvagePath(member, filepath.Join(t.TempDir(), "out.db"), repair.SalvageOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b, err := json.Marshal(helperResult{HeapSys: ms.HeapSys, Revision: res.Revision, Missing: res.Missing})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("salvage-result %s\n", b)
}

// putRecord adds to the key bucket of the db at path (a copy) a put of
// key /bounds at main revision rev, as etcd would write it.
func putRecord(t *testing.T, path string, rev int64) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{NoFreelistSync: true})
	if err != nil {
		t.Fatal(err)
	}
	kv := mvccview.KeyValue{Key: []byte("/bounds"), Value: []byte("v"), CreateRevision: rev, ModRevision: rev, Version: 1}
	err = db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(mvccview.KeyBucket)).Put(mvccview.AppendRevisionKey(nil, mvccview.Revision{Main: rev}, false), mvccview.AppendKeyValue(nil, kv))
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}

// head returns the first lines of a child's output (where a fatal
// error and its goroutine are).
func head(out []byte) string {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	return strings.Join(lines[:min(len(lines), 30)], "\n")
}

// TestMeta0BadPageSize (issue 15, case 5): meta 0's page size set to
// 1 GiB (which breaks its checksum) must not hide the intact meta 1, as it
// does not from bbolt: inspect finds meta 0 invalid and nothing more (no
// truncated file, no missing .snap.db), and repair bolt and repair salvage
// write a db that passes their check.
func TestMeta0BadPageSize(t *testing.T) {
	member := fixture.CopyDir(t, etcdtest.SampleDir(t))
	fixture.WriteAt(t, filepath.Join(member, "member", "snap", "db"), 24, []byte{0, 0, 0, 0x40})
	defer etcdtest.RequireUnchanged(t, member)()
	rep, err := inspect.Member(member, inspect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, f := range rep.Findings {
		codes = append(codes, f.Code)
	}
	if !slices.Equal(codes, []string{"bolt-meta-invalid"}) {
		t.Errorf("inspect: findings %v, want meta 0's bolt-meta-invalid alone", codes)
	}
	out := t.TempDir()
	if _, err := repair.BoltPath(member, filepath.Join(out, "bolt.db"), repair.BoltOptions{}); err != nil {
		t.Errorf("repair bolt: %v", err)
	}
	res, err := repair.SalvagePath(member, filepath.Join(out, "salvage.db"), repair.SalvageOptions{})
	if err != nil {
		t.Fatalf("repair salvage: %v", err)
	}
	if len(res.Missing) != 0 || len(res.LostKeys) != 0 {
		t.Errorf("repair salvage: missing %v, %d keys lost", res.Missing, len(res.LostKeys))
	}
}
