package replay_test

import (
	"bytes"
	"path/filepath"
	"slices"
	"testing"

	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/fixture"
	"github.com/etcdscope/etcdscope/internal/replaytest"
	"github.com/etcdscope/etcdscope/mvccview"
	"github.com/etcdscope/etcdscope/replay"
	"github.com/etcdscope/etcdscope/walfmt"
)

// TestReplayIncludeDamaged: in a WAL etcd 3.6 wrote (auth enabled), a put
// mid-log whose record's last 16 bytes are overwritten (its request's
// header, which etcd writes last, and the end of its value) breaks the
// log: the replay cannot go past it. With Options.IncludeDamaged the
// entry is taken as far as its request decodes, applied though its header
// (who made it) is lost, and the replay reaches the undamaged WAL's
// revision and live keys (create and mod revisions, versions), naming the
// entry in Result.Damaged. The same entry damaged where its request
// starts does not decode: the replay stops before it (Result.Stopped),
// at the undamaged WAL's state at the entry before.
func TestReplayIncludeDamaged(t *testing.T) {
	gen, _ := etcdtest.Generate(t, "3.6", etcdtest.GenOptions{})
	files := replaytest.WAL(t, gen)
	fullOut, full := replaytest.Run(t, files.Segments, replay.Options{})
	// A put's place: its index, its segment, its record's offset and
	// length, and where its request starts.
	type put struct {
		index             uint64
		seg               string
		off, len, request int64
	}
	var puts []put
	r := walfmt.NewReader(files.Segments, walfmt.Options{})
	for f, err := r.Next(); err == nil; f, err = r.Next() {
		if f.Entry == nil || f.Entry.Type != walfmt.EntryNormal {
			continue
		}
		if rq, err := walfmt.DecodeRequest(f.Entry.Data); err == nil && rq.Put != nil && rq.Header != nil && rq.Header.Username != "" {
			req := f.Offset + 8 + int64(f.Record.DataOffset) + int64(len(f.Record.Data)-len(f.Entry.Data))
			puts = append(puts, put{f.Entry.Index, f.Segment.Path, f.Offset, f.Length, req})
		}
	}
	if len(puts) < 3 {
		t.Fatalf("%d puts by a user in the WAL", len(puts))
	}
	p := puts[len(puts)/2]
	d := p.index
	rel, err := filepath.Rel(gen, p.seg)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		at   int64
	}{{"the end of its record", p.off + 8 + p.len - 16}, {"the start of its request", p.request}} {
		t.Run(c.name, func(t *testing.T) {
			src := fixture.CopyDir(t, gen)
			fixture.WriteAt(t, filepath.Join(src, rel), c.at, bytes.Repeat([]byte{0xa5}, 16))
			defer etcdtest.RequireUnchanged(t, src)()
			segs := replaytest.WAL(t, src).Segments
			if _, err := replay.Run(segs, replay.Options{Out: filepath.Join(t.TempDir(), "db")}); err == nil {
				t.Fatalf("without IncludeDamaged, the replay goes past entry %d", d)
			}
			out, res := replaytest.Run(t, segs, replay.Options{IncludeDamaged: true})
			wantOut, want, stopped := fullOut, full, res.Stopped != nil
			if stopped {
				wantOut, want = replaytest.Run(t, files.Segments, replay.Options{ToIndex: d - 1})
			}
			if c.name == "the end of its record" {
				if stopped || len(res.Damaged) != 1 || res.Damaged[0].Index != d || res.Damaged[0].Offset != p.off {
					t.Fatalf("damaged %+v, stopped %+v; want entry %d taken", res.Damaged, res.Stopped, d)
				}
			} else if !stopped || res.Stopped.Index != d || res.Stopped.Offset != p.off || len(res.Damaged) != 0 {
				t.Fatalf("damaged %+v, stopped %+v; want the replay stopped before entry %d", res.Damaged, res.Stopped, d)
			}
			if res.AppliedIndex != want.AppliedIndex || res.Revision != want.Revision {
				t.Fatalf("applied %d, revision %d; the undamaged WAL's %d, %d; stats %+v, want %+v", res.AppliedIndex, res.Revision, want.AppliedIndex, want.Revision, res.Stats, want.Stats)
			}
			if g, w := liveKeys(t, out), liveKeys(t, wantOut); !slices.Equal(g, w) {
				t.Fatalf("%d live keys, the undamaged WAL's %d, or they differ", len(g), len(w))
			}
			t.Logf("entry %d damaged at %s: applied %d, revision %d, damaged %+v, stopped %+v", d, c.name, res.AppliedIndex, res.Revision, res.Damaged, res.Stopped)
		})
	}
}

// liveKeys are the keys live in the db at path, with their revisions and
// versions.
func liveKeys(t *testing.T, path string) []mvccview.LiveKey {
	t.Helper()
	var out []mvccview.LiveKey
	for k := range replaytest.OpenStore(t, path).Live() {
		out = append(out, k)
	}
	return out
}
