package repair_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/etcdscope/etcdscope/boltfmt"
	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/fixture"
	"github.com/etcdscope/etcdscope/mvccview"
	"github.com/etcdscope/etcdscope/repair"
	"github.com/etcdscope/etcdscope/walfmt"
)

// answers is what real etcd answers on a member: the kvs of get ""
// --prefix (keys, values, revisions, versions, leases), the users, the
// roles, and the members (id, name and peer URLs: client URLs are the
// ports the test's etcd listens on).
type answers struct {
	KVs     []map[string]any
	Users   string
	Roles   string
	Members []map[string]any
}

// etcdAnswers starts real etcd of version v on a copy of dir, as the
// workload's root user, and asks it.
func etcdAnswers(t *testing.T, v, dir string) answers {
	t.Helper()
	m := etcdtest.StartMember(t, etcdtest.Binaries(t, v), etcdtest.MemberOptions{DataDir: fixture.CopyDir(t, dir), Auth: "root:" + etcdtest.RootPassword})
	defer m.Stop(t)
	var a answers
	var get struct {
		KVs []map[string]any `json:"kvs"`
	}
	if err := json.Unmarshal(m.Ctl(t, "get", "", "--prefix", "-w", "json"), &get); err != nil {
		t.Fatal(err)
	}
	a.KVs = get.KVs
	a.Users, a.Roles = string(m.Ctl(t, "user", "list")), string(m.Ctl(t, "role", "list"))
	var ml struct {
		Members []map[string]any `json:"members"`
	}
	if err := json.Unmarshal(m.Ctl(t, "member", "list", "-w", "json"), &ml); err != nil {
		t.Fatal(err)
	}
	for _, mem := range ml.Members {
		delete(mem, "clientURLs")
		a.Members = append(a.Members, mem)
	}
	return a
}

// requireSameAnswers fails t unless etcd answers the same on both.
func requireSameAnswers(t *testing.T, v, want, got string) {
	t.Helper()
	w, g := etcdAnswers(t, v, want), etcdAnswers(t, v, got)
	if !reflect.DeepEqual(w.KVs, g.KVs) {
		t.Errorf("etcd %s answers get \"\" --prefix with %d kvs, the undamaged member with %d, or they differ", v, len(g.KVs), len(w.KVs))
	}
	if w.Users != g.Users || w.Roles != g.Roles {
		t.Errorf("users %q roles %q, the undamaged member's %q %q", g.Users, g.Roles, w.Users, w.Roles)
	}
	if !reflect.DeepEqual(w.Members, g.Members) {
		t.Errorf("members %v, the undamaged member's %v", g.Members, w.Members)
	}
	if len(w.KVs) == 0 || len(w.Members) == 0 {
		t.Errorf("the undamaged member answers %d kvs, %d members", len(w.KVs), len(w.Members))
	}
	t.Logf("etcd %s answers %d kvs, users %q, roles %q, %d members, as on the undamaged member", v, len(g.KVs), g.Users, g.Roles, len(g.Members))
}

// repairWAL runs repair wal of the member at src into a new dir.
func repairWAL(t *testing.T, src string, peers []string) (*repair.WALResult, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	res, err := repair.WALPath(src, out, peers, repair.WALOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return res, out
}

// entryIn is an entry frame of the segment at path with room for damage:
// the first whose record holds at least 64 bytes.
func entryIn(t *testing.T, path string) fixture.Frame {
	t.Helper()
	for _, f := range fixture.Frames(t, path) {
		if f.Type == int64(walfmt.EntryType) && f.Length >= 64 {
			return f
		}
	}
	t.Fatalf("no entry of 64 bytes in %s", path)
	return fixture.Frame{}
}

// middleSegment is a segment neither first nor last.
func middleSegment(t *testing.T, dir string) string {
	t.Helper()
	segs := fixture.Segments(t, filepath.Join(dir, "member", "wal"))
	if len(segs) < 3 {
		t.Fatalf("%d segments, want 3 or more", len(segs))
	}
	return segs[len(segs)/2]
}

// TestWALFlipsABitBack: in a member etcd 3.6 wrote, one bit flipped in a
// record of a segment that is not the last (in an entry's data: a CRC
// mismatch; in the record's type tag: a record that does not decode) is
// flipped back: nothing is cut or lost, the plan names the bit, every
// segment of the output is byte for byte the one etcd wrote, and real
// etcd answers on the output as on the undamaged member. The input is
// unchanged.
func TestWALFlipsABitBack(t *testing.T) {
	gen, _ := etcdtest.Generate(t, "3.6", etcdtest.GenOptions{})
	for _, c := range []struct {
		name string
		code string
		at   func(t *testing.T, seg string, f fixture.Frame) int64
		bit  uint8
	}{
		{"entry data", "wal-crc-mismatch", func(t *testing.T, seg string, f fixture.Frame) int64 {
			data := fixture.DataOffset(t, seg, f)
			return data + (f.Offset+8+f.Length-data)/2
		}, 5},
		{"record type tag", "wal-bad-record", func(t *testing.T, seg string, f fixture.Frame) int64 {
			if b := fixture.ReadAt(t, seg, f.Offset+8, 1); b[0] != 0x08 {
				t.Fatalf("the record at %#x starts with %#x", f.Offset, b[0])
			}
			return f.Offset + 8
		}, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := fixture.CopyDir(t, gen)
			seg := middleSegment(t, src)
			f := entryIn(t, seg)
			off := c.at(t, seg, f)
			fixture.FlipBit(t, seg, off, uint(c.bit))
			defer etcdtest.RequireUnchanged(t, src)()

			res, out := repairWAL(t, src, nil)
			if res.Input() == nil || len(res.Input().Findings) == 0 || res.Input().Findings[0].Code != c.code {
				t.Errorf("the input's findings: %+v, want %s first", res.Input(), c.code)
			}
			want := repair.Flip{Segment: filepath.Base(seg), Offset: off, Bit: c.bit, Record: f.Offset, Type: "entry"}
			if len(res.Flipped) != 1 || res.Flipped[0].Index == 0 {
				t.Fatalf("flipped %+v, want one bit, of an entry", res.Flipped)
			}
			want.Index, want.Term = res.Flipped[0].Index, res.Flipped[0].Term
			if res.Flipped[0] != want || res.Cut != nil || len(res.Lost) != 0 || len(res.LostKeys) != 0 || res.DB != "kept" {
				t.Fatalf("plan: flipped %+v (want %+v), cut %+v, %d lost, %d keys lost, db %s", res.Flipped, want, res.Cut, len(res.Lost), len(res.LostKeys), res.DB)
			}
			requireSameSegments(t, filepath.Join(gen, "member", "wal"), filepath.Join(out, "member", "wal"))
			requireSameAnswers(t, "3.6", gen, out)
			t.Logf("flipped back bit %d of %s:%#x (entry %d term %d); every segment as etcd wrote it", want.Bit, want.Segment, want.Offset, want.Index, want.Term)
		})
	}
}

// requireSameSegments fails t unless the two WAL dirs hold the same
// segments, byte for byte.
func requireSameSegments(t *testing.T, want, got string) {
	t.Helper()
	names := func(dir string) []string {
		var n []string
		for _, p := range fixture.Segments(t, dir) {
			n = append(n, filepath.Base(p))
		}
		return n
	}
	if w, g := names(want), names(got); !slices.Equal(w, g) {
		t.Fatalf("segments %v, want %v", g, w)
	}
	for _, n := range names(want) {
		w, err := os.ReadFile(filepath.Join(want, n))
		if err != nil {
			t.Fatal(err)
		}
		g, err := os.ReadFile(filepath.Join(got, n))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(w, g) {
			i := 0
			for i < min(len(w), len(g)) && w[i] == g[i] {
				i++
			}
			t.Errorf("%s: %d bytes, etcd wrote %d; they differ from %#x", n, len(g), len(w), i)
		}
	}
}

// TestWALStartsFromTheDB: on members of etcd 3.5, 3.6 and 3.7 whose WAL is
// damaged so that no single bit explains it (16 bytes of an entry's data
// overwritten mid-log) or whose last entry is torn (the file ends halfway
// through it), the cut is unavoidable but the db holds every entry up to
// its consistent index, past the damage: the output's WAL starts from a
// snapshot of the db there, nothing is lost, and real etcd of the same
// version answers get "" --prefix (keys, values, revisions, versions),
// user list, role list and member list on the output as on the undamaged
// member. The input is unchanged.
func TestWALStartsFromTheDB(t *testing.T) {
	for _, v := range etcdtest.Versions {
		for _, c := range []struct {
			name   string
			code   string
			damage func(t *testing.T, src string) (seg string, off int64)
		}{
			{"16 bytes overwritten mid-log", "wal-crc-mismatch", func(t *testing.T, src string) (string, int64) {
				seg := middleSegment(t, src)
				f := entryIn(t, seg)
				data := fixture.DataOffset(t, seg, f)
				at := data + (f.Offset+8+f.Length-data)/2 - 8
				b := fixture.ReadAt(t, seg, at, 16)
				for i := range b {
					b[i] ^= 0xa5
				}
				fixture.WriteAt(t, seg, at, b)
				return seg, f.Offset
			}},
			{"torn last entry", "wal-torn-tail", func(t *testing.T, src string) (string, int64) {
				segs := fixture.Segments(t, filepath.Join(src, "member", "wal"))
				seg := segs[len(segs)-1]
				var e fixture.Frame
				for _, f := range fixture.Frames(t, seg) {
					if f.Type == int64(walfmt.EntryType) {
						e = f
					}
				}
				fixture.Truncate(t, seg, e.Offset+8+e.Length/2)
				return seg, e.Offset
			}},
		} {
			t.Run(v+"/"+c.name, func(t *testing.T) {
				gen, _ := etcdtest.Generate(t, v, etcdtest.GenOptions{})
				src := fixture.CopyDir(t, gen)
				seg, off := c.damage(t, src)
				defer etcdtest.RequireUnchanged(t, src)()
				res, out := repairWAL(t, src, nil)
				if res.Cut == nil || res.Cut.Code != c.code || res.Cut.Segment != filepath.Base(seg) || res.Cut.Offset != off {
					t.Fatalf("cut %+v, want a %s at %s:%#x", res.Cut, c.code, filepath.Base(seg), off)
				}
				s := res.FromDB
				if s == nil || s.Index != res.ConsistentIndex || res.LastIndex < s.Index || res.Commit < s.Index {
					t.Fatalf("the WAL does not start from the db at its consistent index %d: from %+v, last %d, commit %d", res.ConsistentIndex, s, res.LastIndex, res.Commit)
				}
				if len(res.Flipped) != 0 || len(res.Lost) != 0 || len(res.LostKeys) != 0 || res.DB != "kept" {
					t.Fatalf("plan: flipped %v, lost %+v, keys lost %d, db %s; want nothing lost, the db kept", res.Flipped, res.Lost, len(res.LostKeys), res.DB)
				}
				requireSameAnswers(t, v, gen, out)
				t.Logf("cut at %s:%#x; the WAL starts from the db at index %d (term %d, %s written %v), %d entries after it, %d .snap files left out",
					res.Cut.Segment, res.Cut.Offset, s.Index, s.Term, s.Snap, s.Written, res.LastIndex-s.Index, len(res.DroppedSnaps))
			})
		}
	}
}

// TestWALTakesAPeersEntries: in a cluster of three etcd 3.6 members, one
// member is killed (SIGKILL) while its db lags its WAL (the backend
// commits only when forced), and its WAL is then damaged mid-log at an
// entry past the db's consistent index, so that no single bit explains
// it. Alone, repair wal cuts there, keeps the db, and the plan lists as
// lost exactly the entries from the damaged one to the last, and its loss
// exactly the keys and revisions lost: those of the healthy peer's db
// (real etcd's) that real etcd does not serve the same from the output,
// measured against the input db with its WAL applied past the damage;
// when the damaged entry's request does not decode, that reference stops
// before it and says so. With another member as --peer, the entries from
// the damaged one on come from the peer's log (the peer holds the last
// entry kept with the same term) and nothing is lost (Loss.None). The
// same damage below the consistent index makes the WAL start from the db,
// the member's own entries after it following. The inputs are unchanged.
func TestWALTakesAPeersEntries(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster of three etcd members")
	}
	// The backend commits when etcd takes a snapshot (every 100 entries)
	// and at no other time.
	ms := etcdtest.StartCluster(t, etcdtest.Binaries(t, "3.6"), 3, etcdtest.MemberOptions{SnapshotCount: 100, WALSegmentBytes: 16 << 10,
		ExtraArgs: []string{"--backend-batch-interval=10m", "--backend-batch-limit=1000000000"}})
	etcdtest.PutMany(t, ms[0].Client(t), "/peer", 390) // to index about 398, a snapshot at about 300
	time.Sleep(500 * time.Millisecond)                 // let the followers write what the leader committed
	victim := ms[2]
	if err := syscall.Kill(victim.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	victim.Stop(t)
	ms[0].Stop(t)
	ms[1].Stop(t)
	src, peer := fixture.CopyDir(t, victim.DataDir), fixture.CopyDir(t, ms[0].DataDir)
	below, undecodable := fixture.CopyDir(t, victim.DataDir), fixture.CopyDir(t, victim.DataDir)

	clean, _ := repairWAL(t, src, nil)
	ci, last := clean.ConsistentIndex, clean.LastIndex
	if clean.Cut != nil || last < ci+20 {
		t.Fatalf("the undamaged member: cut %+v, consistent index %d, last entry %d; want its db well behind its WAL", clean.Cut, ci, last)
	}
	d := (ci + last) / 2
	seg, f := entryAt(t, src, d)
	fixture.WriteAt(t, seg, f.End()-f.Pad-16, bytes.Repeat([]byte{0xa5}, 16))
	// The same damage below the consistent index: the WAL starts from the
	// db, and the member's own entries after it follow.
	bseg, bf := entryAt(t, below, ci-5)
	fixture.WriteAt(t, bseg, bf.End()-bf.Pad-16, bytes.Repeat([]byte{0xa5}, 16))
	// The same entry damaged where its request starts: it does not
	// decode, and the reference stops before it.
	useg, uf := entryAt(t, undecodable, d)
	fixture.WriteAt(t, useg, requestOffset(t, useg, uf), bytes.Repeat([]byte{0xa5}, 16))
	defer etcdtest.RequireUnchanged(t, src, peer, below, undecodable)()
	fromDB, _ := repairWAL(t, below, nil)
	if s := fromDB.FromDB; s == nil || s.Index != ci || len(fromDB.Lost) != 0 || fromDB.LastIndex != last ||
		!slices.Equal(fromDB.AfterCut, []repair.LogRange{{From: "wal", First: ci + 1, Last: last}}) {
		t.Fatalf("damage at %d, below the db: from the db %+v, lost %v, last %d, after the cut %+v; want the WAL from the db at %d, then entries %d to %d from the WAL",
			ci-5, fromDB.FromDB, fromDB.Lost, fromDB.LastIndex, fromDB.AfterCut, ci, ci+1, last)
	}

	alone, aloneOut := repairWAL(t, src, nil)
	var lost []uint64
	for _, l := range alone.Lost {
		lost = append(lost, l.Index)
	}
	var want []uint64
	for i := d; i <= last; i++ {
		want = append(want, i)
	}
	if alone.Cut == nil || alone.Cut.Offset != f.Offset || alone.FromDB != nil || alone.DB != "kept" || alone.LastIndex != d-1 || !slices.Equal(lost, want) {
		t.Fatalf("alone: cut %+v, from db %+v, db %s, last %d, lost %v; want a cut at %#x, the db kept, last %d, entries %d to %d lost",
			alone.Cut, alone.FromDB, alone.DB, alone.LastIndex, lost, f.Offset, d-1, d, last)
	}

	requireAloneLoss(t, alone, aloneOut, victim.Name, filepath.Join(peer, "member", "snap", "db"), d, last)

	u, _ := repairWAL(t, undecodable, nil)
	if l := u.Loss; len(u.Lost) != len(want) || l == nil || l.Entries != len(want) || len(l.Keys) != 0 || l.Revisions.Records != 0 ||
		!strings.Contains(l.Reference, fmt.Sprintf("applied to entry %d; it stops before entry %d", d-1, d)) {
		t.Errorf("entry %d's request damaged: lost %d entries, loss %+v; want %d entries, no key or record (the reference stops before it), and the reference saying so", d, len(u.Lost), l, len(want))
	} else {
		t.Logf("entry %d's request damaged: against %s", d, l.Reference)
	}

	with, out := repairWAL(t, src, []string{peer})
	if len(with.Lost) != 0 || with.LastIndex < last || len(with.AfterCut) == 0 || with.AfterCut[0] != (repair.LogRange{From: peer, First: d, Last: with.AfterCut[0].Last}) {
		t.Fatalf("with the peer: lost %v, last %d, after the cut %+v; want nothing lost, entries from %d on from the peer", with.Lost, with.LastIndex, with.AfterCut, d)
	}
	if with.Loss == nil || !with.Loss.None() {
		t.Errorf("with the peer, the loss is %+v; want none", with.Loss)
	}
	if _, err := os.Stat(filepath.Join(out, "member", "wal")); err != nil {
		t.Fatal(err)
	}
	t.Logf("db at %d, WAL to %d, entry %d damaged: alone %d entries lost; with the peer none, after the cut %+v, commit %d", ci, last, d, len(alone.Lost), with.AfterCut, with.Commit)
}

// requireAloneLoss fails t unless the loss of the alone repair (res, its
// output at out) lists exactly the keys and the revisions it loses: the
// difference between the state at the last index as the healthy peer has
// it (its db at peerDB, which real etcd wrote, read with mvccview) and the
// state real etcd serves from out (started on a copy of it as a cluster of
// its own: it applies its whole log, and adds only conf changes), keys
// whose create or mod revision or version differ, and the peer's records
// above the revision etcd serves. The reference says it is the input
// with its WAL applied past the damage, entry d's values unknown.
func requireAloneLoss(t *testing.T, res *repair.WALResult, out, name, peerDB string, d, last uint64) {
	t.Helper()
	rev, served := servedByEtcd(t, out, name)
	peerCI, peerKeys, peerRecs := readDB(t, peerDB, rev+1)
	// The peer's db is at the last index, or past it by entries that
	// change nothing (the empty entry of a leader elected after the kill).
	if peerCI < last || !emptyEntries(t, filepath.Dir(filepath.Dir(peerDB)), last+1, peerCI) {
		t.Fatalf("the peer's db is at %d, the last index %d: not the state at the last index", peerCI, last)
	}
	wantKeys := []repair.KeyDiff{}
	i, j := 0, 0
	for i < len(peerKeys) || j < len(served) {
		switch {
		case j == len(served) || i < len(peerKeys) && peerKeys[i].key < served[j].key:
			wantKeys = append(wantKeys, repair.KeyDiff{Key: []byte(peerKeys[i].key), Before: &peerKeys[i].st})
			i++
		case i == len(peerKeys) || served[j].key < peerKeys[i].key:
			wantKeys = append(wantKeys, repair.KeyDiff{Key: []byte(served[j].key), After: &served[j].st})
			j++
		default:
			if peerKeys[i].st != served[j].st {
				wantKeys = append(wantKeys, repair.KeyDiff{Key: []byte(peerKeys[i].key), Before: &peerKeys[i].st, After: &served[j].st})
			}
			i++
			j++
		}
	}
	l := res.Loss
	if l == nil {
		t.Fatal("alone: no loss")
	}
	if len(wantKeys) == 0 || len(peerRecs) == 0 {
		t.Fatalf("the peer's db holds %d records above revision %d, %d keys differ: the test wants a loss", len(peerRecs), rev, len(wantKeys))
	}
	if !reflect.DeepEqual(l.Keys, wantKeys) {
		got, _ := json.Marshal(l.Keys)
		want, _ := json.Marshal(wantKeys)
		t.Errorf("alone: %d keys lost or different, the truth %d:\n got %s\nwant %s", len(l.Keys), len(wantKeys), got, want)
	}
	if l.Revisions.Records != int64(len(peerRecs)) {
		t.Errorf("alone: %d records lost (%+v), the truth %d, revisions %d to %d", l.Revisions.Records, l.Revisions.Ranges, len(peerRecs), peerRecs[0], peerRecs[len(peerRecs)-1])
	}
	if l.Entries != int(last-d+1) || l.Serves == nil || l.Serves.Revision != rev {
		t.Errorf("alone: %d entries lost, serves %+v; want %d entries, revision %d as etcd serves", l.Entries, l.Serves, last-d+1, rev)
	}
	if want := fmt.Sprintf("entry %d's values are not known", d); !strings.Contains(l.Reference, "past the damage") || !strings.Contains(l.Reference, want) {
		t.Errorf("alone: the reference is %q; want the input db with its WAL applied past the damage, %q", l.Reference, want)
	}
	t.Logf("alone: against %s: %d records lost (%+v), %d keys; etcd serves revision %d from the output, the peer is at %d", l.Reference, l.Revisions.Records, l.Revisions.Ranges, len(l.Keys), rev, peerCI)
}

// emptyEntries reports whether every entry from index from to index to
// (the last written of each) in the WAL of the member dir at dir is a
// normal entry without data: what a new leader appends, which changes no
// state.
func emptyEntries(t *testing.T, dir string, from, to uint64) bool {
	t.Helper()
	files, err := walfmt.OpenPath(filepath.Join(dir, "wal"))
	if err != nil {
		t.Fatal(err)
	}
	defer files.Close()
	empty := map[uint64]bool{}
	r := walfmt.NewReader(files.Segments, walfmt.Options{})
	for f, err := r.Next(); err == nil; f, err = r.Next() {
		if e := f.Entry; e != nil && f.Trusted() && e.Index >= from && e.Index <= to {
			empty[e.Index] = e.Type == walfmt.EntryNormal && len(e.Data) == 0
		}
	}
	for i := from; i <= to; i++ {
		if !empty[i] {
			return false
		}
	}
	return true
}

// keyAt is a live key's state.
type keyAt struct {
	key string
	st  repair.KeyState
}

// servedByEtcd starts real etcd 3.6 on a copy of the member dir at dir as
// a cluster of its own (--force-new-cluster) and returns the revision and
// the keys (their revisions and versions) that get "" --prefix answers.
func servedByEtcd(t *testing.T, dir, name string) (int64, []keyAt) {
	t.Helper()
	m := etcdtest.StartMember(t, etcdtest.Binaries(t, "3.6"), etcdtest.MemberOptions{Name: name, DataDir: fixture.CopyDir(t, dir), ExtraArgs: []string{"--force-new-cluster"}})
	defer m.Stop(t)
	var get struct {
		Header struct {
			Revision int64 `json:"revision"`
		} `json:"header"`
		KVs []struct {
			Key            []byte `json:"key"`
			CreateRevision int64  `json:"create_revision"`
			ModRevision    int64  `json:"mod_revision"`
			Version        int64  `json:"version"`
		} `json:"kvs"`
	}
	if err := json.Unmarshal(m.Ctl(t, "get", "", "--prefix", "-w", "json"), &get); err != nil {
		t.Fatal(err)
	}
	var keys []keyAt
	for _, kv := range get.KVs {
		keys = append(keys, keyAt{string(kv.Key), repair.KeyState{CreateRevision: kv.CreateRevision, ModRevision: kv.ModRevision, Version: kv.Version}})
	}
	return get.Header.Revision, keys
}

// readDB reads the db at path (real etcd's): its consistent index, the
// keys live at its revision (the empty key of a revision bump aside), in
// key order, and the main revision of each record of its key bucket from
// revision from on.
func readDB(t *testing.T, path string, from int64) (uint64, []keyAt, []int64) {
	t.Helper()
	db, err := boltfmt.Open(path, boltfmt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := mvccview.Open(&mvccview.BoltSource{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	var keys []keyAt
	for k := range s.Live() {
		if k.Key != "" {
			keys = append(keys, keyAt{k.Key, repair.KeyState{CreateRevision: k.Created.Main, ModRevision: k.Mod.Main, Version: k.Version}})
		}
	}
	var recs []int64
	if err := s.Events(from, []byte{}, []byte{}, func(e mvccview.Event) error {
		recs = append(recs, e.Rev.Main)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return s.Meta.ConsistentIndex, keys, recs
}

// requestOffset is where the data of the entry of the record f of the
// segment at path starts (raftpb.Entry field 4: the request).
func requestOffset(t *testing.T, path string, f fixture.Frame) int64 {
	t.Helper()
	at := fixture.DataOffset(t, path, f)
	b := fixture.ReadAt(t, path, at, f.Offset+8+f.Length-at)
	for i := 0; i < len(b); {
		tag := b[i]
		i++
		_, k := binary.Uvarint(b[i:])
		if k <= 0 {
			break
		}
		i += k
		if tag == 0x22 { // data: its length read
			return at + int64(i)
		}
	}
	t.Fatalf("no entry data in the record at %s:%#x", path, f.Offset)
	return 0
}

// entryAt is the segment and frame of the entry of the given index in the
// WAL of the member at dir.
func entryAt(t *testing.T, dir string, index uint64) (string, fixture.Frame) {
	t.Helper()
	files, err := walfmt.OpenPath(filepath.Join(dir, "member", "wal"))
	if err != nil {
		t.Fatal(err)
	}
	defer files.Close()
	r := walfmt.NewReader(files.Segments, walfmt.Options{})
	for {
		f, err := r.Next()
		if err != nil {
			t.Fatalf("no entry %d: %v", index, err)
		}
		if f.Entry != nil && f.Entry.Index == index {
			return f.Segment.Path, fixture.Frame{Offset: f.Offset, Length: f.Length, Pad: f.Pad, Type: int64(f.Record.Type)}
		}
	}
}

// TestWALFromTheDBThenItsOwnEntries: a single etcd 3.6 member killed
// (SIGKILL) while its db lags its WAL, whose WAL is then damaged below the
// db's consistent index (and one bit flipped above it): the output's WAL
// starts from the db, the member's own entries after it follow (the bit
// flipped back) with the input's commit, nothing is lost,
// and real etcd, applying those entries on start, answers as on the
// undamaged member.
func TestWALFromTheDBThenItsOwnEntries(t *testing.T) {
	m := etcdtest.StartMember(t, etcdtest.Binaries(t, "3.6"), etcdtest.MemberOptions{SnapshotCount: 100, WALSegmentBytes: 16 << 10,
		ExtraArgs: []string{"--backend-batch-interval=10m", "--backend-batch-limit=1000000000"}})
	etcdtest.PutMany(t, m.Client(t), "/own", 190) // to index about 195, a snapshot at about 100
	if err := syscall.Kill(m.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	m.Stop(t)
	gen := fixture.CopyDir(t, m.DataDir)
	clean, _ := repairWAL(t, gen, nil)
	ci, last := clean.ConsistentIndex, clean.LastIndex
	if clean.Cut != nil || ci < 10 || last < ci+20 {
		t.Fatalf("the undamaged member: cut %+v, consistent index %d, last entry %d; want its db well behind its WAL", clean.Cut, ci, last)
	}
	src := fixture.CopyDir(t, gen)
	seg, f := entryAt(t, src, ci-5)
	fixture.WriteAt(t, seg, f.End()-f.Pad-16, bytes.Repeat([]byte{0xa5}, 16))
	fseg, ff := entryAt(t, src, ci+10) // one bit of an entry after the db's: flipped back
	fixture.FlipBit(t, fseg, ff.End()-ff.Pad-1, 4)
	defer etcdtest.RequireUnchanged(t, src)()
	res, out := repairWAL(t, src, nil)
	if len(res.Flipped) != 1 || res.Flipped[0].Index != ci+10 {
		t.Errorf("flipped %+v, want the bit of entry %d", res.Flipped, ci+10)
	}
	if s := res.FromDB; s == nil || s.Index != ci || len(res.Lost) != 0 || res.LastIndex != last || res.Commit != clean.Commit ||
		!slices.Equal(res.AfterCut, []repair.LogRange{{From: "wal", First: ci + 1, Last: last}}) {
		t.Fatalf("from the db %+v, lost %v, last %d, commit %d, after the cut %+v; want the WAL from the db at %d, then entries %d to %d from the WAL, committed as in the input",
			res.FromDB, res.Lost, res.LastIndex, res.Commit, res.AfterCut, ci, ci+1, last)
	}
	requireSameAnswers(t, "3.6", gen, out)
	t.Logf("db at %d, WAL to %d (commit %d), entry %d damaged: the WAL starts from the db (%s written %v), entries %d to %d follow", ci, last, res.Commit, ci-5, res.FromDB.Snap, res.FromDB.Written, ci+1, last)
}
