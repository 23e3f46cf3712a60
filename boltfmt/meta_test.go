package boltfmt_test

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/fixture"
)

// TestBadPageSizeInMeta0 (issue 15, case 5): meta 0's page size is
// damaged, which breaks its checksum; meta 1 is intact. bbolt finds meta 1
// by probing and opens the file from it, and so must New, whatever the
// bad page size (past the end of the file, or inside it). bbolt 1.5.0 is
// the oracle, on a copy.
func TestBadPageSizeInMeta0(t *testing.T) {
	for _, ps := range []uint32{1 << 30, 1 << 31, 1 << 24, 8192, 1024, 0} {
		t.Run(fmt.Sprintf("page size %#x", ps), func(t *testing.T) {
			dir := fixture.CopyDir(t, filepath.Join(etcdtest.SampleDir(t), "member", "snap"))
			path := filepath.Join(dir, "db")
			fixture.WriteAt(t, path, 24, binary.LittleEndian.AppendUint32(nil, ps))
			defer etcdtest.RequireUnchanged(t, path)()
			bdb := fixture.OpenBoltCopy(t, path)
			var txid int
			if err := bdb.View(func(tx *bolt.Tx) error { txid = tx.ID(); return nil }); err != nil {
				t.Fatal(err)
			}
			db, err := boltfmt.Open(path, boltfmt.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if db.Active != 1 || db.PageSize != bdb.Info().PageSize || db.Meta().TxID != uint64(txid) || db.PageSizeProblem != nil {
				t.Fatalf("active meta %d (%s), page size %d (%v), txid %d; bbolt: meta 1, page size %d, txid %d",
					db.Active, db.Why, db.PageSize, db.PageSizeProblem, db.Meta().TxID, bdb.Info().PageSize, txid)
			}
			ours, rep := ourKeys(t, path)
			for _, p := range rep.Problems { // meta 0's alone
				if pe, ok := p.(*boltfmt.PageError); !ok || pe.Page != 0 || len(rep.Problems) != 1 {
					t.Errorf("problem: %v", p)
				}
			}
			var want []kv
			for _, x := range boltKeys(t, path) {
				if !x.isBucket {
					want = append(want, x)
				}
			}
			byKey := func(a, b kv) int {
				return cmp.Or(strings.Compare(a.bucket, b.bucket), strings.Compare(a.key, b.key))
			}
			slices.SortFunc(ours, byKey)
			slices.SortFunc(want, byKey)
			if !slices.Equal(ours, want) {
				t.Errorf("walk %d records, bbolt %d, or they differ", len(ours), len(want))
			}
		})
	}
}
