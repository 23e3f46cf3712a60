package snapfmt_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.etcd.io/etcd/server/v3/etcdserver/api/snap"
	"go.etcd.io/etcd/server/v3/storage/wal"
	"go.uber.org/zap"

	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/fixture"
	"github.com/etcdscope/etcdscope/snapfmt"
)

// recordedMember is one member of `etcdctl member list -w json`.
type recordedMember struct {
	ID         uint64   `json:"ID"`
	Name       string   `json:"name"`
	PeerURLs   []string `json:"peerURLs"`
	ClientURLs []string `json:"clientURLs"`
	IsLearner  bool     `json:"isLearner"`
}

func recordedMembers(t *testing.T, rec *etcdtest.Recording) []recordedMember {
	t.Helper()
	var ml struct {
		Members []recordedMember `json:"members"`
	}
	if err := json.Unmarshal(rec.MemberList, &ml); err != nil || len(ml.Members) == 0 {
		t.Fatalf("recorded member list %s: %v", rec.MemberList, err)
	}
	sort.Slice(ml.Members, func(i, j int) bool { return ml.Members[i].ID < ml.Members[j].ID })
	return ml.Members
}

func nonNil(s []uint64) []uint64 {
	if s == nil {
		return []uint64{}
	}
	return s
}

// TestFilesMatchEtcd decodes the .snap files real etcd wrote and compares
// each with what etcd's own snap.Read returns for a copy of it (snap.Read
// itself does not rename, but nothing of etcd's is run on the original).
func TestFilesMatchEtcd(t *testing.T) {
	for _, v := range etcdtest.Versions {
		t.Run(v, func(t *testing.T) {
			dataDir, rec := etcdtest.Generate(t, v, etcdtest.GenOptions{})
			snapDir := filepath.Join(dataDir, "member", "snap")
			unchanged := etcdtest.RequireUnchanged(t, dataDir)
			d, err := snapfmt.ReadDir(snapDir, snapfmt.Options{})
			unchanged()
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Snaps) < 3 {
				t.Fatalf("%d .snap files, want at least 3", len(d.Snaps))
			}
			if p := d.Problems(); len(p) > 0 {
				t.Errorf("problems in a clean snap dir: %v", p)
			}
			if d.DB == nil || !d.DB.Bolt {
				t.Errorf("member/snap/db not recognised as bbolt: %+v", d.DB)
			}
			members := recordedMembers(t, rec)
			cp := fixture.CopyDir(t, snapDir)
			for _, f := range d.Snaps {
				want, err := snap.Read(zap.NewNop(), filepath.Join(cp, f.Name))
				if err != nil {
					t.Fatalf("etcd snap.Read %s: %v", f.Name, err)
				}
				if !f.Loadable() || f.Snapshot == nil {
					t.Fatalf("%s: not loadable: %v", f.Name, f.Problems)
				}
				m, wm := f.Snapshot.Metadata, want.GetMetadata()
				if m.Term != wm.GetTerm() || m.Index != wm.GetIndex() {
					t.Errorf("%s: term %d index %d, etcd says %d %d", f.Name, m.Term, m.Index, wm.GetTerm(), wm.GetIndex())
				}
				cs, wcs := m.ConfState, wm.GetConfState()
				if !slices.Equal(nonNil(cs.Voters), nonNil(wcs.GetVoters())) || !slices.Equal(nonNil(cs.Learners), nonNil(wcs.GetLearners())) ||
					!slices.Equal(nonNil(cs.VotersOutgoing), nonNil(wcs.GetVotersOutgoing())) || !slices.Equal(nonNil(cs.LearnersNext), nonNil(wcs.GetLearnersNext())) ||
					cs.AutoLeave != wcs.GetAutoLeave() {
					t.Errorf("%s: conf state %+v, etcd says %v", f.Name, cs, wcs)
				}
				if len(cs.Voters) == 0 {
					t.Errorf("%s: no voters", f.Name)
				}
				if !bytes.Equal(f.Snapshot.Data, want.GetData()) {
					t.Errorf("%s: %d data bytes differ from etcd's %d", f.Name, len(f.Snapshot.Data), len(want.GetData()))
				}

				st := f.Store
				if st == nil {
					t.Fatalf("%s: no store summary", f.Name)
				}
				if !strings.HasPrefix(st.ClusterVersion, v+".") {
					t.Errorf("%s: cluster version %q, want %s.x", f.Name, st.ClusterVersion, v)
				}
				if len(st.Members) != len(members) {
					t.Fatalf("%s: %d members in the v2 store, %d in member list", f.Name, len(st.Members), len(members))
				}
				for i, sm := range st.Members {
					rm := members[i]
					if sm.ID != rm.ID || sm.Name != rm.Name || !slices.Equal(sm.PeerURLs, rm.PeerURLs) ||
						!slices.Equal(sm.ClientURLs, rm.ClientURLs) || sm.IsLearner != rm.IsLearner {
						t.Errorf("%s: member %+v, member list says %+v", f.Name, sm, rm)
					}
				}
				if st.V2Content || len(st.Removed) != 0 || st.Nodes == 0 {
					t.Errorf("%s: store summary %+v", f.Name, st)
				}
			}
		})
	}
}

// snapLayout finds the data field and the JSON inside a .snap file by a
// minimal parse of its own, independent of snapfmt: crc tag and varint,
// data tag and length, then the raftpb.Snapshot's data tag and length.
func snapLayout(t *testing.T, path string) (dataOff, jsonOff, jsonLen int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != 0x08 {
		t.Fatalf("%s does not start with a crc field", path)
	}
	_, n := binary.Uvarint(b[1:])
	i := 1 + n
	if b[i] != 0x12 {
		t.Fatalf("%s: no data field at %d", path, i)
	}
	_, n = binary.Uvarint(b[i+1:])
	dataOff = int64(i + 1 + n)
	if b[dataOff] != 0x0a {
		t.Fatalf("%s: raftpb.Snapshot does not start with its data", path)
	}
	l, n := binary.Uvarint(b[dataOff+1:])
	return dataOff, dataOff + 1 + int64(n), int64(l)
}

// TestChoiceMatchesEtcd damages copies of a real snap dir and checks that
// NewestAvailable picks the snapshot etcd's LoadNewestAvailable loads, and
// names the files it renames to .broken, on another copy.
func TestChoiceMatchesEtcd(t *testing.T) {
	clean, _ := etcdtest.Generate(t, etcdtest.SampleVersion, etcdtest.GenOptions{})
	snaps := func(dir string) []string {
		m, _ := filepath.Glob(filepath.Join(dir, "member", "snap", "*.snap"))
		sort.Strings(m)
		return m
	}
	flip := func(t *testing.T, p string) {
		_, j, l := snapLayout(t, p)
		fixture.FlipBit(t, p, j+l/3, 2)
	}
	cases := map[string]func(t *testing.T, dir string){
		"clean":            func(t *testing.T, dir string) {},
		"newest-crc":       func(t *testing.T, dir string) { s := snaps(dir); flip(t, s[len(s)-1]) },
		"newest-truncated": func(t *testing.T, dir string) { s := snaps(dir); fixture.Truncate(t, s[len(s)-1], 100) },
		"newest-empty":     func(t *testing.T, dir string) { s := snaps(dir); fixture.Truncate(t, s[len(s)-1], 0) },
		"two-broken": func(t *testing.T, dir string) {
			s := snaps(dir)
			flip(t, s[len(s)-1])
			fixture.Truncate(t, s[len(s)-2], 50)
		},
		"all-broken": func(t *testing.T, dir string) {
			for _, p := range snaps(dir) {
				flip(t, p)
			}
		},
		"orphan": func(t *testing.T, dir string) {
			// A snapshot newer than any WAL record, as a crash between
			// writing the .snap and its WAL record leaves: it reads, but
			// must be skipped.
			s := snaps(dir)
			f, err := snapfmt.OpenFile(s[len(s)-1], snapfmt.Options{})
			if err != nil {
				t.Fatal(err)
			}
			o := *f.Snapshot
			o.Metadata.Index += 1000
			data := snapfmt.AppendSnapshot(nil, o)
			b := snapfmt.AppendEnvelope(nil, crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)), data)
			name := snapfmt.SnapName(o.Metadata.Term, o.Metadata.Index)
			if err := os.WriteFile(filepath.Join(dir, "member", "snap", name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, damage := range cases {
		t.Run(name, func(t *testing.T) {
			dir := fixture.CopyDir(t, clean)
			damage(t, dir)
			lg := zap.NewNop()

			walSnaps, err := wal.ValidSnapshotEntries(lg, filepath.Join(fixture.CopyDir(t, dir), "member", "wal"))
			if err != nil {
				t.Fatal(err)
			}
			ids := []snapfmt.SnapshotID{}
			for _, w := range walSnaps {
				ids = append(ids, snapfmt.SnapshotID{Term: w.GetTerm(), Index: w.GetIndex()})
			}

			unchanged := etcdtest.RequireUnchanged(t, dir)
			d, err := snapfmt.ReadDir(filepath.Join(dir, "member", "snap"), snapfmt.Options{})
			unchanged()
			if err != nil {
				t.Fatal(err)
			}
			got := snapfmt.NewestAvailable(d.Snaps, ids)

			theirs := filepath.Join(fixture.CopyDir(t, dir), "member", "snap")
			want, err := snap.New(lg, theirs).LoadNewestAvailable(walSnaps)
			switch {
			case errors.Is(err, snap.ErrNoSnapshot):
				if got.Loaded != nil {
					t.Errorf("etcd finds no snapshot, NewestAvailable picks %s", got.Loaded.Name)
				}
			case err != nil:
				t.Fatal(err)
			case got.Loaded == nil:
				t.Errorf("etcd loads index %d, NewestAvailable picks none", want.GetMetadata().GetIndex())
			case got.Loaded.ID() != (snapfmt.SnapshotID{Term: want.GetMetadata().GetTerm(), Index: want.GetMetadata().GetIndex()}):
				t.Errorf("NewestAvailable picks %s, etcd loads term %d index %d", got.Loaded.Name, want.GetMetadata().GetTerm(), want.GetMetadata().GetIndex())
			}
			broken, _ := filepath.Glob(filepath.Join(theirs, "*.broken"))
			var wantRenamed, gotRenamed []string
			for _, b := range broken {
				wantRenamed = append(wantRenamed, strings.TrimSuffix(filepath.Base(b), ".broken"))
			}
			for _, f := range got.Renamed() {
				gotRenamed = append(gotRenamed, f.Name)
			}
			sort.Strings(wantRenamed)
			sort.Strings(gotRenamed)
			if !slices.Equal(wantRenamed, gotRenamed) {
				t.Errorf("etcd renames %v to .broken, Renamed says %v", wantRenamed, gotRenamed)
			}
		})
	}
}
