// Command etcd is real etcd 3.5.35, built from the Go module proxy for
// etcdscope's tests. ETCDSCOPE_WAL_SEGMENT_BYTES, when set, shrinks the WAL
// segment size so that small workloads produce several segments.
package main

import (
	"os"
	"strconv"

	"go.etcd.io/etcd/server/v3/etcdmain"
	"go.etcd.io/etcd/server/v3/wal"
)

func main() {
	if s := os.Getenv("ETCDSCOPE_WAL_SEGMENT_BYTES"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 4096 {
			os.Stderr.WriteString("ETCDSCOPE_WAL_SEGMENT_BYTES: want an integer >= 4096\n")
			os.Exit(2)
		}
		wal.SegmentSizeBytes = n
	}
	etcdmain.Main(os.Args)
}
