package snapfmt_test

import (
	"bytes"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/etcdscope/etcdscope/snapfmt"
)

// The fuzz targets are seeded with the committed sample's real .snap files,
// 7 KiB each. Go's input minimizer is quadratic in the input's size, so
// run them with a short minimization budget, or the workers spend the run
// minimizing:
//
//	go test ./snapfmt -run '^$' -fuzz '^FuzzSnap$' -fuzztime 20s -fuzzminimizetime 1s

// seedSnaps adds every committed sample .snap and a few small shapes.
func seedSnaps(f *testing.F) [][]byte {
	paths, _ := filepath.Glob("../testdata/sample/member/snap/*.snap")
	if len(paths) == 0 {
		f.Fatal("no sample .snap files")
	}
	var files [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		files = append(files, b)
	}
	small := snapfmt.AppendSnapshot(nil, snapfmt.Snapshot{Data: []byte(`{"Root":{}}`),
		Metadata: snapfmt.Metadata{Index: 7, Term: 2, ConfState: snapfmt.ConfState{Voters: []uint64{1, 2}, Learners: []uint64{3}}}})
	f.Add(snapfmt.AppendEnvelope(nil, crc32.Checksum(small, crc32.MakeTable(crc32.Castagnoli)), small))
	f.Add(snapfmt.AppendEnvelope(nil, 1, small))
	f.Add([]byte{})
	f.Add([]byte{0x08})
	f.Add([]byte{0x08, 0x01, 0x12, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add(bytes.Repeat([]byte{0xff}, 64))
	return files
}

// checkFile decodes b as a .snap and checks the guarantees: no panic
// (the recover backstop stays cold), every problem coded and placed within
// the file, allocation bounded by the input, and a valid snapshot
// round-trips through the encoders.
func checkFile(t *testing.T, b []byte) *snapfmt.File {
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	f, err := snapfmt.NewFile(bytes.NewReader(b), int64(len(b)), snapfmt.Options{Name: snapfmt.SnapName(2, 7)})
	runtime.ReadMemStats(&ms1)
	if err != nil {
		t.Fatalf("NewFile: %v", err)
	}
	if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc > uint64(64*len(b))+1<<20 {
		t.Fatalf("allocated %d bytes decoding %d", alloc, len(b))
	}
	for _, p := range f.Problems {
		var ce *snapfmt.CorruptionError
		if !errors.As(p, &ce) {
			t.Fatalf("problem %v is not a CorruptionError", p)
		}
		if ce.Offset < -1 || ce.Offset > int64(len(b)) {
			t.Fatalf("problem offset %#x outside [0,%d]: %v", ce.Offset, len(b), p)
		}
		if snapfmt.Code(p) == "snap-internal" || strings.Contains(p.Error(), "internal error") {
			t.Fatalf("uncoded or internal problem: %v", p)
		}
	}
	if f.Loadable() {
		s := *f.Snapshot
		data := snapfmt.AppendSnapshot(nil, s)
		again := snapfmt.AppendEnvelope(nil, crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)), data)
		g, err := snapfmt.NewFile(bytes.NewReader(again), int64(len(again)), snapfmt.Options{SkipStore: true})
		if err != nil || !g.Loadable() {
			t.Fatalf("re-encoded snapshot does not load: %v %v", err, g.Problems)
		}
		gm, m := g.Snapshot.Metadata, s.Metadata
		if gm.Index != m.Index || gm.Term != m.Term || gm.ConfState.AutoLeave != m.ConfState.AutoLeave ||
			!slices.Equal(gm.ConfState.Voters, m.ConfState.Voters) || !slices.Equal(gm.ConfState.Learners, m.ConfState.Learners) ||
			!bytes.Equal(g.Snapshot.Data, s.Data) {
			t.Fatalf("snapshot does not round-trip: %+v -> %+v", m, gm)
		}
	}
	return f
}

func FuzzSnap(f *testing.F) {
	seedSnaps(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		file := checkFile(t, b)
		_ = snapfmt.Newest([]*snapfmt.File{file})
		// A size larger than the bytes there are is an error, not an
		// allocation of that size.
		if _, err := snapfmt.NewFile(bytes.NewReader(b), int64(len(b))+1<<40, snapfmt.Options{}); err == nil {
			t.Fatal("NewFile with a size beyond the input: no error")
		}
		// The same bytes as a database file.
		d, err := snapfmt.NewDBFile(bytes.NewReader(b), int64(len(b)), snapfmt.Options{Name: "x.snap.db"})
		if err != nil {
			t.Fatalf("NewDBFile: %v", err)
		}
		notBolt := false
		for _, p := range d.Problems {
			notBolt = notBolt || errors.Is(p, snapfmt.ErrNotBolt)
		}
		trailerChecked := d.Trailer == snapfmt.TrailerOK || d.Trailer == snapfmt.TrailerMismatch
		if d.Bolt == notBolt || trailerChecked != snapfmt.HasTrailer(int64(len(b))) {
			t.Fatalf("Bolt %v, trailer %v with problems %v", d.Bolt, d.Trailer, d.Problems)
		}
	})
}

func FuzzStore(f *testing.F) {
	for _, b := range seedSnaps(f) {
		if file, err := snapfmt.NewFile(bytes.NewReader(b), int64(len(b)), snapfmt.Options{SkipStore: true}); err == nil && file.Snapshot != nil {
			f.Add(file.Snapshot.Data)
		}
	}
	f.Add([]byte(`{"Root":{"Children":{"0":{"Children":{"members":{"Children":{"a":{"Children":{"raftAttributes":{"Value":"{\"peerURLs\":[\"x\"]}"}}}}},"removed_members":{"Children":{"b":{}}}}}}},"CurrentIndex":1}`))
	f.Add([]byte(`[[[[{"Root":null}]]]]`))
	f.Add([]byte(`{"Root":{"Children":{"a":{"Children":{"a":{"Children":{}}}}}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		s := snapfmt.SummarizeStore(b)
		runtime.ReadMemStats(&ms1)
		if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc > uint64(64*len(b))+1<<20 {
			t.Fatalf("allocated %d bytes summarising %d", alloc, len(b))
		}
		if s.Keys > s.Nodes || s.Nodes > len(b) {
			t.Fatalf("%d keys, %d nodes in %d bytes", s.Keys, s.Nodes, len(b))
		}
		for _, p := range s.Problems {
			var ce *snapfmt.CorruptionError
			if !errors.As(p, &ce) || ce.Offset < -1 || ce.Offset > int64(len(b)) {
				t.Fatalf("problem %v outside [0,%d]", p, len(b))
			}
			if !errors.Is(p, snapfmt.ErrStoreOdd) && !errors.Is(p, snapfmt.ErrStoreUndecodable) {
				t.Fatalf("problem of another class: %v", p)
			}
		}
		if len(s.Problems) > 21 {
			t.Fatalf("%d problems, want at most 21", len(s.Problems))
		}
	})
}
