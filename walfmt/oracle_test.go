package walfmt_test

import (
	"bytes"
	"path/filepath"
	"testing"

	"go.etcd.io/etcd/server/v3/storage/wal"
	"go.etcd.io/etcd/server/v3/storage/wal/walpb"
	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"

	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/walfmt"
)

// effectiveLog reads a WAL directory with walfmt and returns the entries
// that are not superseded, the summary, and the segments.
func effectiveLog(t *testing.T, walDir string) ([]walfmt.Entry, *walfmt.Summary, []walfmt.Segment) {
	t.Helper()
	files, err := walfmt.OpenPath(walDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { files.Close() })
	ow, err := walfmt.ScanOverwrites(files.Segments)
	if err != nil {
		t.Fatal(err)
	}
	var ents []walfmt.Entry
	sum, err := walfmt.Summarize(walfmt.NewReader(files.Segments, walfmt.Options{Overwrites: ow}), func(f *walfmt.Frame) error {
		if f.Entry != nil && !f.Superseded {
			e := *f.Entry
			e.Data = bytes.Clone(e.Data)
			ents = append(ents, e)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ents, sum, files.Segments
}

// startSnapshot picks the snapshot record etcd's reader can start from:
// the first one at or after the first segment's index (0 when the WAL
// still begins at its first segment).
func startSnapshot(sum *walfmt.Summary, segs []walfmt.Segment) walfmt.Snapshot {
	if segs[0].Seq == 0 {
		return walfmt.Snapshot{}
	}
	for _, s := range sum.Snapshots {
		if s.Index >= segs[0].Index {
			return s
		}
	}
	return walfmt.Snapshot{Index: segs[0].Index}
}

// TestEffectiveLogMatchesEtcd compares, entry for entry, the effective log
// walfmt reads with what etcd's own wal.ReadAll returns from the same
// directory, on WALs written by real etcd 3.5, 3.6 and 3.7.
func TestEffectiveLogMatchesEtcd(t *testing.T) {
	for _, v := range etcdtest.Versions {
		t.Run(v, func(t *testing.T) {
			dataDir, _ := etcdtest.Generate(t, v, etcdtest.GenOptions{})
			walDir := filepath.Join(dataDir, "member", "wal")
			defer etcdtest.RequireUnchanged(t, dataDir)()

			ours, sum, segs := effectiveLog(t, walDir)
			if len(sum.Problems) > 0 {
				t.Fatalf("clean WAL from etcd %s has problems: %v", v, sum.Problems)
			}
			if sum.Segments < 4 {
				t.Errorf("want a WAL spanning several segments, got %d", sum.Segments)
			}
			start := startSnapshot(sum, segs)

			w, err := wal.OpenForRead(zap.NewNop(), walDir, &walpb.Snapshot{Index: &start.Index, Term: &start.Term})
			if err != nil {
				t.Fatalf("etcd wal.OpenForRead: %v", err)
			}
			defer w.Close()
			_, hs, theirs, err := w.ReadAll()
			if err != nil {
				t.Fatalf("etcd ReadAll: %v", err)
			}
			var mine []walfmt.Entry
			for _, e := range ours {
				if e.Index > start.Index {
					mine = append(mine, e)
				}
			}
			if len(mine) != len(theirs) {
				t.Fatalf("walfmt has %d entries after index %d, etcd ReadAll %d", len(mine), start.Index, len(theirs))
			}
			for i, e := range theirs {
				m := mine[i]
				if m.Index != e.GetIndex() || m.Term != e.GetTerm() || int32(m.Type) != int32(e.GetType()) || !bytes.Equal(m.Data, e.GetData()) {
					t.Fatalf("entry %d differs: walfmt index=%d term=%d type=%d len=%d, etcd index=%d term=%d type=%d len=%d",
						i, m.Index, m.Term, m.Type, len(m.Data), e.GetIndex(), e.GetTerm(), e.GetType(), len(e.GetData()))
				}
			}
			if sum.HardState == nil || sum.HardState.Commit != hs.GetCommit() || sum.HardState.Term != hs.GetTerm() || sum.HardState.Vote != hs.GetVote() {
				t.Errorf("last hard state: walfmt %+v, etcd %+v", sum.HardState, hs)
			}
			t.Logf("etcd %s: %d segments, %d entries compared (after index %d), %d snapshot records",
				v, sum.Segments, len(theirs), start.Index, len(sum.Snapshots))
		})
	}
}

// TestOverwritesMatchEtcdWriter has etcd's own WAL writer lay down a log in
// which a new leader rewinds the uncommitted suffix twice and a follower
// applies a leader snapshot (a gap in the log), across several small
// segments; walfmt's effective log must equal etcd's ReadAll from each
// start point, and the replaced entries must be marked superseded.
func TestOverwritesMatchEtcdWriter(t *testing.T) {
	old := wal.SegmentSizeBytes
	wal.SegmentSizeBytes = 512 // every Save cuts: rewinds land at segment starts
	defer func() { wal.SegmentSizeBytes = old }()

	dir := filepath.Join(t.TempDir(), "wal")
	w, err := wal.Create(zap.NewNop(), dir, walfmt.AppendMetadata(nil, walfmt.Metadata{NodeID: 1, ClusterID: 2}))
	if err != nil {
		t.Fatal(err)
	}
	ents := func(term, from, to uint64) []*raftpb.Entry {
		var out []*raftpb.Entry
		for i := from; i <= to; i++ {
			n := int(50 + i*13%200)
			if i%3 == 0 {
				n = 20000 // large enough that ScanOverwrites skims it
			}
			out = append(out, &raftpb.Entry{Term: &term, Index: &i, Type: raftpb.EntryNormal.Enum(), Data: bytes.Repeat([]byte{byte(i)}, n)})
		}
		return out
	}
	hs := func(term, commit uint64) *raftpb.HardState {
		v := uint64(1)
		return &raftpb.HardState{Term: &term, Vote: &v, Commit: &commit}
	}
	steps := []struct {
		st   *raftpb.HardState
		ents []*raftpb.Entry
	}{
		{hs(2, 5), ents(2, 1, 10)},
		{hs(2, 10), ents(2, 11, 20)}, // 11..20 uncommitted
		{hs(3, 10), ents(3, 15, 22)}, // rewind to 15: 15..20 of term 2 superseded
		{hs(3, 22), ents(3, 23, 30)},
		{hs(3, 28), ents(3, 31, 40)},
		{hs(4, 28), ents(4, 29, 35)}, // rewind to 29
		{hs(4, 35), ents(4, 36, 45)},
	}
	for _, s := range steps {
		if err := w.Save(s.st, s.ents); err != nil {
			t.Fatal(err)
		}
	}
	snapIdx, snapTerm := uint64(60), uint64(5)
	if err := w.SaveSnapshot(&walpb.Snapshot{Index: &snapIdx, Term: &snapTerm, ConfState: &raftpb.ConfState{Voters: []uint64{1}}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Save(hs(5, 60), ents(5, 61, 70)); err != nil {
		t.Fatal(err)
	}
	w.Close()

	ours, sum, _ := effectiveLog(t, dir)
	for _, p := range sum.Problems {
		t.Errorf("problem: %v", p)
	}
	if sum.Segments < 4 {
		t.Errorf("want several segments, got %d", sum.Segments)
	}
	// Superseded: term-2 entries 15..20 and term-3 entries 29..40.
	files, _ := walfmt.OpenPath(dir)
	defer files.Close()
	ow, _ := walfmt.ScanOverwrites(files.Segments)
	r := walfmt.NewReader(files.Segments, walfmt.Options{Overwrites: ow})
	superseded := map[[2]uint64]bool{}
	rewindAtSegmentStart := false
	var lastIndex uint64
	firstInSegment := true
	for f, err := r.Next(); err == nil; f, err = r.Next() {
		if f.Kind == walfmt.KindSegment {
			firstInSegment = true
		}
		if f.Entry == nil {
			continue
		}
		if f.Superseded {
			superseded[[2]uint64{f.Entry.Term, f.Entry.Index}] = true
		}
		if firstInSegment && f.Entry.Index <= lastIndex {
			rewindAtSegmentStart = true
		}
		firstInSegment, lastIndex = false, f.Entry.Index
	}
	if !rewindAtSegmentStart {
		t.Errorf("the test wants a rewind as the first entry of a segment")
	}
	want := map[[2]uint64]bool{}
	for i := uint64(15); i <= 20; i++ {
		want[[2]uint64{2, i}] = true
	}
	for i := uint64(29); i <= 40; i++ { // the rewind to 29 replaces every later term-3 entry
		want[[2]uint64{3, i}] = true
	}
	if len(superseded) != len(want) {
		t.Errorf("superseded %v, want %v", superseded, want)
	}
	for k := range want {
		if !superseded[k] {
			t.Errorf("entry term %d index %d not marked superseded", k[0], k[1])
		}
	}

	for _, start := range []struct{ index, term uint64 }{{0, 0}, {snapIdx, snapTerm}} {
		wr, err := wal.OpenForRead(zap.NewNop(), dir, &walpb.Snapshot{Index: &start.index, Term: &start.term})
		if err != nil {
			t.Fatal(err)
		}
		_, _, theirs, err := wr.ReadAll()
		wr.Close()
		if start.index == 0 {
			// etcd's reader fails at the gap, returning what precedes it.
			if err == nil {
				t.Fatalf("ReadAll from 0 across a snapshot gap: want an error")
			}
		} else if err != nil {
			t.Fatalf("ReadAll from %d: %v", start.index, err)
		}
		var mine []walfmt.Entry
		for _, e := range ours {
			if e.Index > start.index && (start.index > 0 || e.Index < snapIdx) {
				mine = append(mine, e)
			}
		}
		if len(mine) != len(theirs) {
			t.Fatalf("from %d: walfmt %d entries, etcd %d", start.index, len(mine), len(theirs))
		}
		for i, e := range theirs {
			if mine[i].Index != e.GetIndex() || mine[i].Term != e.GetTerm() || !bytes.Equal(mine[i].Data, e.GetData()) {
				t.Fatalf("from %d: entry %d differs: walfmt %d/%d, etcd %d/%d", start.index, i, mine[i].Index, mine[i].Term, e.GetIndex(), e.GetTerm())
			}
		}
	}
}
