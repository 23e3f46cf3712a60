package inspect_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/etcdscope/etcdscope/finding"
	"github.com/etcdscope/etcdscope/inspect"
	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/fixture"
)

// setConsistentIndex rewrites the db's meta/consistent_index in place (bbolt
// pages carry no checksum, so the db stays structurally sound): the state a
// member is in when its db lags, e.g. after losing a .snap.db it was sent.
func setConsistentIndex(t *testing.T, db string, from, to uint64) {
	t.Helper()
	img, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	old := binary.BigEndian.AppendUint64([]byte("consistent_index"), from)
	n := bytes.Count(img, old)
	if n == 0 {
		t.Fatalf("no consistent_index %d in %s", from, db)
	}
	img = bytes.ReplaceAll(img, old, binary.BigEndian.AppendUint64([]byte("consistent_index"), to))
	if err := os.WriteFile(db, img, 0o600); err != nil {
		t.Fatal(err)
	}
}

// memberCodes runs inspect.Member on dir, checks that dir is unchanged
// afterwards, and returns the codes found, the report and its JSON (for
// failure messages).
func memberCodes(t *testing.T, dir string) (map[string]bool, *inspect.Report, string) {
	t.Helper()
	defer etcdtest.RequireUnchanged(t, dir)()
	rep, err := inspect.Member(dir, inspect.Options{})
	if err != nil {
		t.Fatalf("inspect.Member: %v", err)
	}
	out, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]bool{}
	for _, f := range rep.Findings {
		codes[f.Code] = true
	}
	return codes, rep, string(out)
}

func TestMemberCleanRealMembers(t *testing.T) {
	for _, v := range etcdtest.Versions {
		t.Run(v, func(t *testing.T) {
			dir, _ := etcdtest.Generate(t, v, etcdtest.GenOptions{})
			codes, rep, out := memberCodes(t, dir)
			if rep.HasErrors() || len(codes) != 0 {
				t.Fatalf("errors %d, findings %v\n%s", rep.Summary.Errors, codes, out)
			}
		})
	}
}

// TestMemberSnapDBMissing: the db is behind the newest snapshot etcd would
// load, and the .snap.db that should replace it is not there. Member must
// say so, and real etcd must indeed refuse to start on such a dir.
func TestMemberSnapDBMissing(t *testing.T) {
	for _, v := range etcdtest.Versions {
		t.Run(v, func(t *testing.T) {
			clean, rec := etcdtest.Generate(t, v, etcdtest.GenOptions{})
			dir := fixture.CopyDir(t, clean)
			setConsistentIndex(t, filepath.Join(dir, "member", "snap", "db"), rec.RaftIndex, 50)
			codes, rep, out := memberCodes(t, dir)
			if !rep.HasErrors() || !codes["snapdb-missing"] {
				t.Fatalf("errors %d, findings %v\n%s", rep.Summary.Errors, codes, out)
			}
			msg, ok := etcdtest.StartFails(t, etcdtest.Binaries(t, v), dir, 20*time.Second)
			t.Logf("etcd %s on the same dir: refused=%v: %s", v, ok, msg)
			if !ok || !strings.Contains(msg, "failed to find database snapshot file") {
				t.Errorf("etcd %s did not fail as inspect predicted", v)
			}
		})
	}
}

// TestMemberDBBehindWAL: the db lags and the WAL no longer holds the
// entries after it (older segments purged, snapshot files gone).
func TestMemberDBBehindWAL(t *testing.T) {
	clean, rec := etcdtest.Generate(t, "3.6", etcdtest.GenOptions{})
	dir := fixture.CopyDir(t, clean)
	setConsistentIndex(t, filepath.Join(dir, "member", "snap", "db"), rec.RaftIndex, 50)
	segs := fixture.Segments(t, filepath.Join(dir, "member", "wal"))
	for _, s := range segs[:len(segs)-2] {
		os.Remove(s)
	}
	snaps, _ := filepath.Glob(filepath.Join(dir, "member", "snap", "*.snap"))
	for _, s := range snaps {
		os.Remove(s)
	}
	codes, rep, out := memberCodes(t, dir)
	if !rep.HasErrors() || !codes["db-behind-wal"] {
		t.Fatalf("errors %d, findings %v\n%s", rep.Summary.Errors, codes, out)
	}
	msg, refused := etcdtest.StartFails(t, etcdtest.Binaries(t, "3.6"), dir, 20*time.Second)
	t.Logf("etcd 3.6 on the same dir: refused=%v: %s", refused, msg)
	if !refused {
		t.Errorf("etcd started on a member whose db is behind its WAL")
	}
}

// TestMemberDBAheadOfWAL: the db has applied more than the WAL holds (the
// WAL lost its tail). etcd starts on such a member anyway, which is what
// makes it dangerous: the test pins that, as the finding's message says.
func TestMemberDBAheadOfWAL(t *testing.T) {
	clean, rec := etcdtest.Generate(t, "3.6", etcdtest.GenOptions{})
	dir := fixture.CopyDir(t, clean)
	setConsistentIndex(t, filepath.Join(dir, "member", "snap", "db"), rec.RaftIndex, rec.RaftIndex+1000)
	codes, rep, out := memberCodes(t, dir)
	if !rep.HasErrors() || !codes["db-ahead-of-wal"] {
		t.Fatalf("errors %d, findings %v\n%s", rep.Summary.Errors, codes, out)
	}
	msg, refused := etcdtest.StartFails(t, etcdtest.Binaries(t, "3.6"), dir, 8*time.Second)
	t.Logf("etcd 3.6 on the same dir: refused=%v: %s", refused, msg)
	if refused {
		t.Errorf("etcd 3.6 refused to start (%s); the finding's message says it starts", msg)
	}
}

// TestChecksSample: the committed sample member is sound to every check,
// which leaves it unchanged.
func TestChecksSample(t *testing.T) {
	dir := etcdtest.SampleDir(t)
	defer etcdtest.RequireUnchanged(t, dir)()
	rep, err := inspect.Member(dir, inspect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 0 || rep.Member == "" || rep.WAL == nil || rep.DB == nil || len(rep.Checked) != 5 {
		t.Errorf("inspect.Member on the sample: findings %v, member %q, checked %v", rep.Findings, rep.Member, rep.Checked)
	}
	for name, check := range map[string]func(string) (*finding.Report, error){
		"CheckWAL": inspect.CheckWAL,
		"CheckDB":  inspect.CheckDB,
		"CheckSnap": func(p string) (*finding.Report, error) {
			r, err := inspect.CheckSnap(p, inspect.SnapOptions{})
			if err != nil {
				return nil, err
			}
			if r.Choice.Loaded == nil || !r.WAL.Used {
				t.Errorf("CheckSnap: no .snap chosen against the WAL: %s", r.Note())
			}
			return &r.Report, nil
		},
	} {
		if r, err := check(dir); err != nil || len(r.Findings) != 0 {
			t.Errorf("%s: %v %v", name, r, err)
		}
	}
	if err := inspect.VerifyMember(dir); err != nil {
		t.Errorf("VerifyMember: %v", err)
	}
	if err := inspect.VerifyDB(filepath.Join(dir, "member", "snap", "db")); err != nil {
		t.Errorf("VerifyDB: %v", err)
	}
	if md := inspect.WALMetadata(dir); md == nil || fmt.Sprintf("%x", md.NodeID) != rep.Member || fmt.Sprintf("%x", md.ClusterID) != rep.Cluster {
		t.Errorf("WALMetadata: %+v, want member %s of cluster %s", md, rep.Member, rep.Cluster)
	}
	if md := inspect.WALMetadata(filepath.Join(dir, "member", "snap", "db")); md != nil {
		t.Errorf("WALMetadata of a lone db: %+v", md)
	}
}

// TestChecksDamage: a flipped bit in a WAL record and a zeroed leaf of the
// key bucket are found where they are, named relative to the path given,
// and make VerifyMember and VerifyDB refuse with a *VerifyError.
func TestChecksDamage(t *testing.T) {
	dir := fixture.CopyDir(t, etcdtest.SampleDir(t))
	seg, bad, db := fixture.DamageRecordAndPage(t, dir)
	defer etcdtest.RequireUnchanged(t, dir)()

	wal, err := inspect.CheckWAL(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(wal.Findings) != 1 || !wal.HasErrors() {
		t.Fatalf("CheckWAL: %+v", wal.Findings)
	}
	if f := wal.Findings[0]; f.Code != "wal-crc-mismatch" || f.File != "member/wal/"+filepath.Base(seg) || f.Offset == nil || *f.Offset != bad.Offset {
		t.Errorf("CheckWAL: %+v, want wal-crc-mismatch at %s:%#x", f, filepath.Base(seg), bad.Offset)
	}
	bolt, err := inspect.CheckDB(db)
	if err != nil {
		t.Fatal(err)
	}
	if len(bolt.Findings) == 0 || bolt.Findings[0].File != "db" || bolt.Findings[0].Page == nil || *bolt.Findings[0].Page != 49 {
		t.Errorf("CheckDB: %+v, want page 49 of db", bolt.Findings)
	}

	err = inspect.VerifyMember(dir)
	if ve, ok := errors.AsType[*inspect.VerifyError](err); !ok || ve.Check != "inspect" || len(ve.Findings) < 2 {
		t.Errorf("VerifyMember: %v", err)
	}
	err = inspect.VerifyDB(db)
	if ve, ok := errors.AsType[*inspect.VerifyError](err); !ok || ve.Check != "bolt check" || ve.Findings[0].Code != "bolt-page-invalid" {
		t.Errorf("VerifyDB: %v", err)
	}
}

// TestNotMember: Member refuses a directory that holds no member, and
// CheckDB one that holds no db.
func TestNotMember(t *testing.T) {
	if _, err := inspect.Member(t.TempDir(), inspect.Options{}); !errors.Is(err, inspect.ErrNotMember) {
		t.Errorf("Member on an empty dir: %v", err)
	}
	if _, err := inspect.CheckDB(t.TempDir()); !errors.Is(err, inspect.ErrNoDB) {
		t.Errorf("CheckDB on an empty dir: %v", err)
	}
}

// TestMemberDamagedNeverPanics: Member on copies of the sample member
// damaged at random (seeded: bytes flipped, 4 KiB blocks zeroed, in the db
// or a WAL segment) reports the damage as findings, never as an error or a
// panic, and leaves its input as it was.
func TestMemberDamagedNeverPanics(t *testing.T) {
	for i := range 32 {
		dir := fixture.CopyDir(t, etcdtest.SampleDir(t))
		fixture.DamageMember(t, rand.New(rand.NewPCG(11, uint64(i))), dir) // damage #i, whatever runs before it
		unchanged := etcdtest.RequireUnchanged(t, dir)
		rep, err := inspect.Member(dir, inspect.Options{})
		if err != nil {
			t.Errorf("damage #%d: %v", i, err)
		} else if len(rep.Findings) == 0 {
			t.Logf("damage #%d: no findings (the damage hit bytes nothing reads)", i)
		}
		unchanged()
	}
}
