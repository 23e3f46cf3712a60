package cli

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.etcd.io/etcd/server/v3/etcdserver/api/snap"
	"go.uber.org/zap"

	"github.com/etcdscope/etcdscope/finding"
	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/fixture"
)

// snapDoc is the part of snap dump -w json the tests read.
type snapDoc struct {
	Dir   string `json:"dir"`
	Snaps []struct {
		Name      string `json:"name"`
		File      string `json:"file"`
		Term      uint64 `json:"term"`
		Index     uint64 `json:"index"`
		CRCOK     bool   `json:"crc_ok"`
		Loadable  bool   `json:"loadable"`
		Etcd      string `json:"etcd"`
		ConfState *struct {
			Voters   []string `json:"voters"`
			Learners []string `json:"learners"`
		} `json:"conf_state"`
		Store *struct {
			Members []struct {
				ID         string   `json:"id"`
				Name       string   `json:"name"`
				PeerURLs   []string `json:"peer_urls"`
				ClientURLs []string `json:"client_urls"`
				IsLearner  bool     `json:"is_learner"`
			} `json:"members"`
			ClusterVersion string `json:"cluster_version"`
		} `json:"store"`
	} `json:"snaps"`
	SnapDBs []struct {
		Name    string  `json:"name"`
		File    string  `json:"file"`
		Index   *uint64 `json:"index"`
		Bolt    bool    `json:"bolt"`
		Trailer string  `json:"trailer"`
	} `json:"snap_dbs"`
	DB        *struct{ Bolt bool } `json:"db"`
	Leftovers []struct {
		Name string `json:"name"`
		Kind string `json:"kind"`
	} `json:"leftovers"`
	Newest *struct {
		Name             string   `json:"name"`
		Index            uint64   `json:"index"`
		ConstrainedByWAL bool     `json:"constrained_by_wal"`
		WouldRename      []string `json:"would_rename"`
	} `json:"newest"`
	finding.Report
}

// snapDump runs snap dump -w json on path, checks that path is unchanged
// afterwards, and returns the document and exit code.
func snapDump(t *testing.T, path string, args ...string) (*snapDoc, int) {
	t.Helper()
	defer etcdtest.RequireUnchanged(t, path)()
	out, errOut, code := run(t, append(append([]string{"snap", "dump", "-w", "json"}, args...), path)...)
	if code == ExitTrouble {
		t.Fatalf("snap dump exit 2: %s", errOut)
	}
	var doc snapDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("snap dump -w json: %v\n%s", err, out)
	}
	if doc.Findings == nil {
		t.Errorf("findings is not a list: %s", out)
	}
	return &doc, code
}

func findCode(r *finding.Report, code, file string) *finding.Finding {
	for i, f := range r.Findings {
		if f.Code == code && f.File == file {
			return &r.Findings[i]
		}
	}
	return nil
}

func TestSnapDumpRealEtcd(t *testing.T) {
	for _, v := range etcdtest.Versions {
		t.Run(v, func(t *testing.T) {
			dir, rec := etcdtest.Generate(t, v, etcdtest.GenOptions{})
			defer etcdtest.RequireUnchanged(t, dir)()
			doc, code := snapDump(t, dir)
			if code != ExitOK || doc.Summary.Errors != 0 || doc.Summary.Warnings != 0 {
				t.Fatalf("exit %d, findings:\n%s", code, findingsText(&doc.Report))
			}
			if len(doc.Snaps) < 3 || doc.DB == nil || !doc.DB.Bolt || doc.Dir != "member/snap" {
				t.Fatalf("dir %q, %d snaps, db %+v", doc.Dir, len(doc.Snaps), doc.DB)
			}
			var ml struct {
				Members []struct {
					ID         uint64   `json:"ID"`
					Name       string   `json:"name"`
					PeerURLs   []string `json:"peerURLs"`
					ClientURLs []string `json:"clientURLs"`
					IsLearner  bool     `json:"isLearner"`
				} `json:"members"`
			}
			if err := json.Unmarshal(rec.MemberList, &ml); err != nil || len(ml.Members) == 0 {
				t.Fatalf("member list %s: %v", rec.MemberList, err)
			}
			sort.Slice(ml.Members, func(i, j int) bool { return ml.Members[i].ID < ml.Members[j].ID })

			// etcd's own reader, on a copy, is the oracle.
			cp := fixture.CopyDir(t, filepath.Join(dir, "member", "snap"))
			var maxIndex uint64
			for _, s := range doc.Snaps {
				want, err := snap.Read(zap.NewNop(), filepath.Join(cp, s.Name))
				if err != nil {
					t.Fatalf("etcd snap.Read %s: %v", s.Name, err)
				}
				wm := want.GetMetadata()
				var voters []string
				for _, id := range wm.GetConfState().GetVoters() {
					voters = append(voters, fmt.Sprintf("%016x", id))
				}
				if s.Term != wm.GetTerm() || s.Index != wm.GetIndex() || s.ConfState == nil || !slices.Equal(s.ConfState.Voters, voters) ||
					len(s.ConfState.Learners) != len(wm.GetConfState().GetLearners()) || !s.CRCOK || !s.Loadable || s.File != "member/snap/"+s.Name {
					t.Errorf("%s: %+v, etcd reads term %d index %d voters %v", s.Name, s, wm.GetTerm(), wm.GetIndex(), voters)
				}
				maxIndex = max(maxIndex, s.Index)
				if s.Store == nil || len(s.Store.Members) != len(ml.Members) || !strings.HasPrefix(s.Store.ClusterVersion, v+".") {
					t.Fatalf("%s: store %+v, member list %+v", s.Name, s.Store, ml.Members)
				}
				for i, m := range s.Store.Members {
					r := ml.Members[i]
					if m.ID != fmt.Sprintf("%016x", r.ID) || m.Name != r.Name || !slices.Equal(m.PeerURLs, r.PeerURLs) ||
						!slices.Equal(m.ClientURLs, r.ClientURLs) || m.IsLearner != r.IsLearner {
						t.Errorf("%s: member %+v, member list %+v", s.Name, m, r)
					}
				}
			}
			if n := doc.Newest; n == nil || n.Index != maxIndex || !n.ConstrainedByWAL || len(n.WouldRename) != 0 {
				t.Errorf("newest %+v, want index %d constrained by the WAL", n, maxIndex)
			}
			for _, format := range []string{"simple", "table"} {
				if out, errOut, code := run(t, "snap", "dump", "-w", format, dir); code != ExitOK || !strings.Contains(out, "etcd would load member/snap/") {
					t.Errorf("-w %s: exit %d\n%s%s", format, code, out, errOut)
				}
			}
		})
	}
}

// TestSnapDumpSnapshotSave checks the SHA-256 trailer of real `etcdctl
// snapshot save` files, as a single file and as a .snap.db in a snap dir,
// and its mismatch after one flipped bit.
func TestSnapDumpSnapshotSave(t *testing.T) {
	for _, v := range etcdtest.Versions {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			dataDir, _ := etcdtest.Generate(t, v, etcdtest.GenOptions{})
			running := fixture.CopyDir(t, dataDir) // etcd changes what it runs on
			m := etcdtest.StartMember(t, etcdtest.Binaries(t, v), etcdtest.MemberOptions{DataDir: running, Auth: "root:" + etcdtest.RootPassword})
			saved := filepath.Join(t.TempDir(), "backup.db")
			m.Ctl(t, "snapshot", "save", saved)
			m.Stop(t)
			st, err := os.Stat(saved)
			if err != nil || st.Size()%512 != 32 {
				t.Fatalf("etcdctl snapshot save wrote %v (%v), want size %% 512 == 32", st, err)
			}

			doc, code := snapDump(t, saved)
			if code != ExitOK || len(doc.SnapDBs) != 1 || doc.SnapDBs[0].Trailer != "ok" || !doc.SnapDBs[0].Bolt ||
				doc.SnapDBs[0].File != "backup.db" || len(doc.Findings) != 0 {
				t.Fatalf("exit %d, %+v, findings:\n%s", code, doc.SnapDBs, findingsText(&doc.Report))
			}

			// In a snap dir, named as a leader-sent snapshot.
			withDB := fixture.CopyDir(t, dataDir)
			b, _ := os.ReadFile(saved)
			os.WriteFile(filepath.Join(withDB, "member", "snap", "00000000000001f4.snap.db"), b, 0o600)
			doc, code = snapDump(t, withDB)
			if code != ExitOK || len(doc.SnapDBs) != 1 || doc.SnapDBs[0].Index == nil || *doc.SnapDBs[0].Index != 500 ||
				doc.SnapDBs[0].Trailer != "ok" || doc.SnapDBs[0].File != "member/snap/00000000000001f4.snap.db" {
				t.Fatalf("exit %d, %+v", code, doc.SnapDBs)
			}

			// One flipped bit in the middle.
			damaged := filepath.Join(t.TempDir(), "backup.db")
			os.WriteFile(damaged, b, 0o600)
			fixture.FlipBit(t, damaged, st.Size()/2, 4)
			doc, code = snapDump(t, damaged)
			f := findCode(&doc.Report, "snapdb-sha-mismatch", "backup.db")
			if code != ExitFindings || f == nil || f.Severity != finding.Error || doc.SnapDBs[0].Trailer != "mismatch" {
				t.Fatalf("exit %d, findings:\n%s", code, findingsText(&doc.Report))
			}
		})
	}
}

// snapDataOffsets finds, by a minimal parse independent of snapfmt, the
// offset of a .snap's data field and of the v2 store JSON inside it.
func snapDataOffsets(t *testing.T, path string) (data, store, storeLen int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, n := binary.Uvarint(b[1:]) // after the 0x08 crc tag
	i := 1 + n
	_, n = binary.Uvarint(b[i+1:]) // after the 0x12 data tag
	data = int64(i + 1 + n)
	l, n := binary.Uvarint(b[data+1:]) // after the 0x0a store tag
	return data, data + 1 + int64(n), int64(l)
}

func TestSnapDumpDamaged(t *testing.T) {
	const oldest, newest = "0000000000000002-0000000000000065.snap", "0000000000000002-000000000000012f.snap"
	type want struct {
		code     string
		file     string
		exit     int
		severity finding.Severity
	}
	type damage func(t *testing.T, snapDir string) (off int64, msg string) // off -1: not checked
	// flipStore flips a bit of the byte 1/nth into the v2 store JSON of the
	// .snap name, where the finding's offset must be, and whose message
	// must say msg.
	flipStore := func(name string, nth int64, bit uint, msg string) damage {
		return func(t *testing.T, snapDir string) (int64, string) {
			p := filepath.Join(snapDir, name)
			_, j, l := snapDataOffsets(t, p)
			fixture.FlipBit(t, p, j+l/nth, bit)
			return j + l/nth, msg
		}
	}
	cases := map[string]struct {
		damage damage
		want   []want
		check  func(t *testing.T, doc *snapDoc)
	}{
		"flipped-byte": {
			damage: flipStore(oldest, 2, 6, "offset is that of the damaged byte"),
			want:   []want{{"snap-crc-mismatch", "member/snap/" + oldest, ExitFindings, finding.Error}},
		},
		"two-flipped-bytes": {
			damage: func(t *testing.T, snapDir string) (int64, string) {
				p := filepath.Join(snapDir, oldest)
				d, j, l := snapDataOffsets(t, p)
				fixture.FlipBit(t, p, j+10, 1)
				fixture.FlipBit(t, p, j+l-10, 1)
				return d, "offset is the start of the data field"
			},
			want: []want{{"snap-crc-mismatch", "member/snap/" + oldest, ExitFindings, finding.Error}},
		},
		"newest-damaged": {
			damage: flipStore(newest, 3, 0, "one flipped bit (bit 0)"),
			want:   []want{{"snap-crc-mismatch", "member/snap/" + newest, ExitFindings, finding.Error}},
			check: func(t *testing.T, doc *snapDoc) {
				if n := doc.Newest; n == nil || n.Name != "0000000000000002-00000000000000ca.snap" ||
					!slices.Equal(n.WouldRename, []string{"member/snap/" + newest}) {
					t.Errorf("newest %+v: want the one before, and the damaged one renamed", n)
				}
			},
		},
		"truncated": {
			damage: func(t *testing.T, snapDir string) (int64, string) {
				fixture.Truncate(t, filepath.Join(snapDir, oldest), 2000)
				return -1, "runs past the end"
			},
			want: []want{{"snap-undecodable", "member/snap/" + oldest, ExitFindings, finding.Error}},
		},
		"leftovers": {
			damage: func(t *testing.T, snapDir string) (int64, string) {
				b, _ := os.ReadFile(filepath.Join(snapDir, oldest))
				os.WriteFile(filepath.Join(snapDir, oldest+".broken"), b[:len(b)-5], 0o644)
				os.WriteFile(filepath.Join(snapDir, "tmp123"), []byte("half a db"), 0o600)
				return -1, ""
			},
			want: []want{
				{"snap-leftover", "member/snap/" + oldest + ".broken", ExitOK, finding.Warning},
				{"snap-leftover", "member/snap/tmp123", ExitOK, finding.Warning},
			},
			check: func(t *testing.T, doc *snapDoc) {
				if len(doc.Leftovers) != 2 || doc.Leftovers[0].Kind != "broken" || doc.Leftovers[1].Kind != "tmp" || doc.Summary.Warnings != 2 {
					t.Errorf("leftovers %+v", doc.Leftovers)
				}
			},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := fixture.CopyDir(t, etcdtest.SampleDir(t))
			off, msg := c.damage(t, filepath.Join(dir, "member", "snap"))
			defer etcdtest.RequireUnchanged(t, dir)()
			doc, code := snapDump(t, dir)
			if code != c.want[0].exit {
				t.Errorf("exit %d, want %d", code, c.want[0].exit)
			}
			if len(doc.Findings) != len(c.want) && c.want[0].code != "snap-crc-mismatch" {
				t.Errorf("%d findings, want %d:\n%s", len(doc.Findings), len(c.want), findingsText(&doc.Report))
			}
			for _, w := range c.want {
				f := findCode(&doc.Report, w.code, w.file)
				if f == nil || f.Severity != w.severity {
					t.Fatalf("no %s %s at %s; findings:\n%s", w.severity, w.code, w.file, findingsText(&doc.Report))
				}
				if off >= 0 && (f.Offset == nil || *f.Offset != off) {
					t.Errorf("%s at offset %v, want %#x: %s", w.code, f.Offset, off, f.Message)
				}
				if !strings.Contains(f.Message, msg) {
					t.Errorf("message %q lacks %q", f.Message, msg)
				}
			}
			if c.check != nil {
				c.check(t, doc)
			}
			// The other formats agree on the exit code.
			for _, format := range []string{"simple", "table"} {
				if _, errOut, code := run(t, "snap", "dump", "-w", format, dir); code != c.want[0].exit {
					t.Errorf("-w %s: exit %d: %s", format, code, errOut)
				}
			}
		})
	}
}

func TestSnapDumpSingleFile(t *testing.T) {
	p := filepath.Join(etcdtest.SampleDir(t), "member", "snap", "0000000000000002-00000000000000ca.snap")
	doc, code := snapDump(t, p)
	if code != ExitOK || len(doc.Snaps) != 1 || doc.Snaps[0].File != "0000000000000002-00000000000000ca.snap" || doc.Snaps[0].Index != 202 ||
		doc.Newest == nil || doc.Newest.ConstrainedByWAL {
		t.Errorf("exit %d, %+v", code, doc)
	}
	// A snap dir holding nothing but leftovers is still a snap dir.
	snapDir := filepath.Join(t.TempDir(), "snap")
	os.Mkdir(snapDir, 0o755)
	os.WriteFile(filepath.Join(snapDir, "tmp1"), nil, 0o600)
	doc, code = snapDump(t, snapDir)
	if code != ExitOK || len(doc.Leftovers) != 1 || doc.Leftovers[0].Name != "tmp1" || doc.Newest != nil {
		t.Errorf("exit %d, %+v", code, doc)
	}
}

func TestSnapDumpBadInput(t *testing.T) {
	tmp, notSnap, emptyDir := badInputs(t, "a snapshot")
	wal := filepath.Join(etcdtest.SampleDir(t), "member", "wal", "0000000000000000-0000000000000000.wal")
	cases := map[string][]string{
		"missing path": {"snap", "dump", filepath.Join(tmp, "nope")},
		"not a snap":   {"snap", "dump", notSnap},
		"empty dir":    {"snap", "dump", emptyDir},
		"a wal file":   {"snap", "dump", wal},
		"no argument":  {"snap", "dump"},
		"bad -w":       {"snap", "dump", "-w", "yaml", etcdtest.SampleDir(t)},
	}
	checkTrouble(t, cases)
	if _, errOut, _ := run(t, "snap", "dump", filepath.Join(tmp, "nope")); !strings.Contains(errOut, filepath.Join(tmp, "nope")) {
		t.Errorf("the message does not name the path: %q", errOut)
	}
}
