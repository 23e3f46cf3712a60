package etcdtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestLargeWAL generates (or finds in the cache) a large WAL with etcd 3.6.
// It runs only when ETCDSCOPE_LARGE_WAL_MB is set, to that many MiB:
//
//	ETCDSCOPE_LARGE_WAL_MB=256 go test ./internal/etcdtest -run TestLargeWAL -v -timeout 20m
func TestLargeWAL(t *testing.T) {
	mb, err := strconv.ParseInt(os.Getenv("ETCDSCOPE_LARGE_WAL_MB"), 10, 64)
	if err != nil || mb <= 0 {
		t.Skip("set ETCDSCOPE_LARGE_WAL_MB to a number of MiB to generate a large WAL")
	}
	minBytes := mb << 20
	dataDir := LargeWAL(t, "3.6", minBytes)
	info, err := LoadLargeWALInfo(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %+v", dataDir, *info)

	walDir := filepath.Join(dataDir, "member", "wal")
	names, err := walSegments(walDir)
	if err != nil {
		t.Fatal(err)
	}
	var prevIndex uint64
	for i, name := range names {
		var seq, index uint64
		base := filepath.Base(name)
		if _, err := fmt.Sscanf(base, "%016x-%016x.wal", &seq, &index); err != nil {
			t.Fatalf("segment %s: %v", base, err)
		}
		if i == 0 && base != "0000000000000000-0000000000000000.wal" {
			t.Errorf("first segment %s, want 0000000000000000-0000000000000000.wal", base)
		}
		if seq != uint64(i) || (i > 0 && index <= prevIndex) {
			t.Errorf("segment %d is %s: want sequence %d and an index above %d", i, base, i, prevIndex)
		}
		prevIndex = index
	}
	written, fileBytes, segs, err := walWritten(walDir)
	if err != nil {
		t.Fatal(err)
	}
	if written < minBytes {
		t.Errorf("%d bytes written to the WAL, want at least %d", written, minBytes)
	}
	if written != info.WALBytes || fileBytes != info.WALFileBytes || segs != info.Segments || segs != len(names) {
		t.Errorf("WAL now %d bytes written, %d on disk, %d segments; large.json says %d, %d, %d",
			written, fileBytes, segs, info.WALBytes, info.WALFileBytes, info.Segments)
	}
	if info.RaftIndex == 0 || info.Puts == 0 || info.Deletes == 0 || info.Txns == 0 {
		t.Errorf("implausible load: %+v", *info)
	}
	t.Logf("%d segments, %d bytes written (%d on disk), raft index %d", segs, written, fileBytes, info.RaftIndex)
}
