package mvccview_test

import (
	"bytes"
	"encoding/json"
	"hash/crc32"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/replaytest"
	"github.com/etcdscope/etcdscope/mvccview"
)

type etcdGet struct {
	Header struct {
		Revision int64 `json:"revision"`
	} `json:"header"`
	KVs   []mvccview.KeyValue `json:"kvs"`
	Count int64               `json:"count"`
}

type etcdHash []struct {
	HashKV struct {
		Hash            uint32 `json:"hash"`
		CompactRevision int64  `json:"compact_revision"`
	} `json:"HashKV"`
}

// TestRangeAndHashMatchLiveEtcd compares mvccview, on the db a real etcd
// left behind, with what that etcd answered while it ran: get "" --prefix
// --rev R and endpoint hashkv --rev R at every recorded revision above the
// compaction (at the compaction revision itself a live server answers from
// a hash it cached while compacting, which no offline reader can know).
func TestRangeAndHashMatchLiveEtcd(t *testing.T) {
	for _, v := range etcdtest.Versions {
		t.Run(v, func(t *testing.T) {
			dir, rec := etcdtest.Generate(t, v, etcdtest.GenOptions{})
			defer etcdtest.RequireUnchanged(t, dir)()
			s := replaytest.OpenStore(t, filepath.Join(dir, "member", "snap", "db"))
			if len(s.BadRecords) > 0 {
				t.Fatalf("bad records: %v", s.BadRecords)
			}
			if s.CurrentRev != rec.Revision || s.CompactRev != rec.CompactRevision {
				t.Errorf("current %d compact %d, the server said %d and %d", s.CurrentRev, s.CompactRev, rec.Revision, rec.CompactRevision)
			}
			compared := 0
			for _, p := range rec.Points {
				if p.Revision <= rec.CompactRevision {
					continue
				}
				var want etcdGet
				if err := json.Unmarshal(p.Get, &want); err != nil {
					t.Fatal(err)
				}
				got, err := s.Range([]byte{0}, []byte{}, mvccview.RangeOptions{Rev: p.Revision})
				if err != nil {
					t.Fatalf("%s: %v", p.Name, err)
				}
				if got.Header.Revision != want.Header.Revision || got.Count != want.Count || len(got.KVs) != len(want.KVs) {
					t.Fatalf("%s (rev %d): header %d count %d kvs %d, etcd %d %d %d", p.Name, p.Revision, got.Header.Revision, got.Count, len(got.KVs), want.Header.Revision, want.Count, len(want.KVs))
				}
				for i, w := range want.KVs {
					g := got.KVs[i]
					gv := g.Value
					if len(gv) == 0 {
						gv = nil
					}
					if string(g.Key) != string(w.Key) || g.CreateRevision != w.CreateRevision || g.ModRevision != w.ModRevision ||
						g.Version != w.Version || g.Lease != w.Lease || !reflect.DeepEqual(gv, w.Value) {
						t.Fatalf("%s: kv %d: got %q c%d m%d v%d l%d, etcd %q c%d m%d v%d l%d", p.Name, i, g.Key, g.CreateRevision, g.ModRevision, g.Version, g.Lease,
							w.Key, w.CreateRevision, w.ModRevision, w.Version, w.Lease)
					}
				}
				var wh etcdHash
				if err := json.Unmarshal(p.HashKV, &wh); err != nil || len(wh) != 1 {
					t.Fatalf("%s: hashkv %s: %v", p.Name, p.HashKV, err)
				}
				h := replaytest.HashKV(t, s, p.Revision)
				if h.Hash != wh[0].HashKV.Hash || h.CompactRevision != wh[0].HashKV.CompactRevision {
					t.Errorf("%s (rev %d): hash %d compact %d, etcd %d %d", p.Name, p.Revision, h.Hash, h.CompactRevision, wh[0].HashKV.Hash, wh[0].HashKV.CompactRevision)
				}
				compared++
			}
			if compared < 4 {
				t.Errorf("compared %d points", compared)
			}
			t.Logf("etcd %s: %d revisions compared (range and hashkv), current %d, compacted at %d", v, compared, s.CurrentRev, s.CompactRev)
		})
	}
}

// TestKeyValueEncodingMatchesEtcd: re-encoding every key-bucket record etcd
// wrote gives back its bytes exactly (what HashKV over a rebuilt store needs).
func TestKeyValueEncodingMatchesEtcd(t *testing.T) {
	for _, v := range etcdtest.Versions {
		dir, _ := etcdtest.Generate(t, v, etcdtest.GenOptions{})
		db := replaytest.OpenDB(t, filepath.Join(dir, "member", "snap", "db"))
		n := 0
		src := &mvccview.BoltSource{DB: db}
		src.ForEach("key", func(k, val []byte) error {
			kv, err := mvccview.DecodeKeyValue(val)
			if err != nil {
				t.Fatal(err)
			}
			if got := mvccview.AppendKeyValue(nil, kv); !bytes.Equal(got, val) {
				t.Fatalf("etcd %s: record %x re-encodes to %x, etcd wrote %x", v, k, got, val)
			}
			n++
			return nil
		})
		if n < 300 {
			t.Errorf("etcd %s: only %d records", v, n)
		}
	}
}

// TestHashKVAtStreams: HashKV at the current revision, which reuses the
// CRC Open took of the records above the compaction, equals the CRC of
// "key" and every record HashedRecords hands out, at every compaction a
// caller may choose at or above the store's.
func TestHashKVAtStreams(t *testing.T) {
	s := replaytest.OpenStore(t, filepath.Join(etcdtest.SampleDir(t), "member", "snap", "db"))
	for _, c := range []int64{s.CompactRev, s.CompactRev + 1, s.CurrentRev / 2, s.CurrentRev} {
		for _, r := range []int64{s.CurrentRev, s.CurrentRev - 1, c} {
			if r < c {
				continue
			}
			h := crc32.New(crc32.MakeTable(crc32.Castagnoli))
			h.Write([]byte("key"))
			if err := s.HashedRecords(r, c, func(k, v []byte) error { h.Write(k); h.Write(v); return nil }); err != nil {
				t.Fatal(err)
			}
			got, err := s.HashKVAt(r, c)
			if err != nil {
				t.Fatal(err)
			}
			if got.Hash != h.Sum32() {
				t.Errorf("HashKVAt(%d, %d) = %d, the records it hashes give %d", r, c, got.Hash, h.Sum32())
			}
		}
	}
}

// TestLiveMatchesLiveEtcd: the keys Live yields from the key index alone
// are those etcd answered get "" --prefix with at the final revision, in
// its order, with its create and mod revisions and versions.
func TestLiveMatchesLiveEtcd(t *testing.T) {
	for _, v := range etcdtest.Versions {
		dir, rec := etcdtest.Generate(t, v, etcdtest.GenOptions{})
		s := replaytest.OpenStore(t, filepath.Join(dir, "member", "snap", "db"))
		var want etcdGet
		if err := json.Unmarshal(rec.Point(etcdtest.PointFinal).Get, &want); err != nil {
			t.Fatal(err)
		}
		i := 0
		for k := range s.Live() {
			if i >= len(want.KVs) {
				t.Fatalf("etcd %s: Live yields %q past etcd's %d keys", v, k.Key, len(want.KVs))
			}
			w := want.KVs[i]
			if k.Key != string(w.Key) || k.Created.Main != w.CreateRevision || k.Mod.Main != w.ModRevision || k.Version != w.Version {
				t.Errorf("etcd %s: key %d: Live %q c%d m%d v%d, etcd %q c%d m%d v%d", v, i, k.Key, k.Created.Main, k.Mod.Main, k.Version,
					w.Key, w.CreateRevision, w.ModRevision, w.Version)
			}
			i++
		}
		if i != len(want.KVs) {
			t.Errorf("etcd %s: Live yields %d keys, etcd %d", v, i, len(want.KVs))
		}
	}
}
