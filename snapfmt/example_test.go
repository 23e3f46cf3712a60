package snapfmt_test

import (
	"fmt"

	"github.com/etcdscope/etcdscope/snapfmt"
)

// Read the committed sample's snap directory: every .snap with its
// problems, then the snapshot etcd 3.5/3.6 would load given the WAL's
// snapshot records.
func Example() {
	d, err := snapfmt.ReadDir("../testdata/sample/member/snap", snapfmt.Options{})
	if err != nil {
		fmt.Println("cannot read:", err) // I/O, not damage
		return
	}
	for _, f := range d.Snaps {
		for _, p := range f.Problems {
			fmt.Printf("%s: %v\n", snapfmt.Code(p), p)
		}
		if f.Snapshot == nil {
			continue // the envelope or the snapshot did not decode
		}
		m := f.Snapshot.Metadata
		fmt.Printf("%s term %d index %d voters %x crc ok %v", f.Name, m.Term, m.Index, m.ConfState.Voters, f.CRCOK())
		if f.Store != nil {
			fmt.Printf(" cluster %s members %d", f.Store.ClusterVersion, len(f.Store.Members))
		}
		fmt.Println()
	}
	// The WAL's committed snapshot records, as walfmt reads them.
	wal := []snapfmt.SnapshotID{{Term: 0, Index: 0}, {Term: 2, Index: 101}, {Term: 2, Index: 202}}
	c := snapfmt.NewestAvailable(d.Snaps, wal)
	fmt.Println("etcd loads", c.Loaded.Name)
	// Output:
	// 0000000000000002-0000000000000065.snap term 2 index 101 voters [3f8129351331494b] crc ok true cluster 3.6.0 members 1
	// 0000000000000002-00000000000000ca.snap term 2 index 202 voters [3f8129351331494b] crc ok true cluster 3.6.0 members 1
	// 0000000000000002-000000000000012f.snap term 2 index 303 voters [3f8129351331494b] crc ok true cluster 3.6.0 members 1
	// etcd loads 0000000000000002-00000000000000ca.snap
}
