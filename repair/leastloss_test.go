package repair_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/etcdscope/etcdscope/inspect"
	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/fixture"
	"github.com/etcdscope/etcdscope/repair"
)

// TestLeastLoss is issue 14's acceptance, on members real etcd 3.5, 3.6
// and 3.7 wrote (the WAL runs from index 1, the db is at its last index),
// for every damage etcdtest.Damages applies:
//
//   - inspect's verdict is what real etcd of that version does when it is
//     started on a copy (etcdtest.Boot): the outcome, its message, and for
//     self-repairs the files it changes;
//   - repair auto writes a member on which real etcd starts and serves
//     exactly what the undamaged member serves: get "" --prefix, HashKV at
//     three revisions above the compaction, the users and their logins,
//     the roles, the leases and the members; and its plan says it loses
//     nothing;
//   - a flipped bit is flipped back: the WAL is byte for byte etcd's;
//   - no input changes.
func TestLeastLoss(t *testing.T) {
	for _, v := range etcdtest.Versions {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			bins := etcdtest.Binaries(t, v)
			gen, rec := etcdtest.Generate(t, v, etcdtest.GenOptions{})
			revs := []int64{rec.CompactRevision + 1, (rec.CompactRevision + rec.Revision) / 2, rec.Revision}
			want := referenceAnswers(t, bins, gen, revs)
			baseline := etcdtest.Boot(t, bins, fixture.CopyDir(t, gen), time.Minute)
			for _, d := range etcdtest.Damages() {
				t.Run(d.Name, func(t *testing.T) {
					src := fixture.CopyDir(t, gen)
					info := d.Apply(t, src)
					t.Logf("damage: %s %s", info.File, info.Detail)
					booted := etcdtest.Boot(t, bins, fixture.CopyDir(t, src), time.Minute)
					defer etcdtest.RequireUnchanged(t, src)()

					rep, err := inspect.Member(src, inspect.Options{})
					if err != nil {
						t.Fatal(err)
					}
					if rep.Verdict.EtcdVersion != v {
						t.Errorf("verdict for etcd %s, the member was written by %s", rep.Verdict.EtcdVersion, v)
					}
					checkVerdict(t, rep.Verdict, booted, baseline)

					out := filepath.Join(t.TempDir(), "repaired")
					res, err := repair.Auto(src, out, repair.AutoOptions{})
					if err != nil {
						t.Fatalf("repair auto: %v", err)
					}
					if res.Detail == nil || !res.Detail.None() {
						t.Errorf("repair auto (%s) %s", res.Repair, res.Loss)
					}
					t.Logf("verdict: %s: %s; etcd: healthy %v, exited %v %s; repair auto: %s, %s",
						rep.Verdict.Outcome, rep.Verdict.Message, booted.Healthy, booted.Exited, booted.Message, res.Repair, res.Loss)
					got := servedAnswers(t, bins, out, revs)
					for _, diff := range diffAnswers(want, got) {
						t.Errorf("after repair auto (%s): %s", res.Repair, diff)
					}
					if d.Name == "wal-bitflip-mid" {
						sameWAL(t, gen, out)
					}
				})
			}
		})
	}
}

// referenceAnswers is what real etcd serves of the undamaged member.
func referenceAnswers(t *testing.T, bins etcdtest.Bins, gen string, revs []int64) servedState {
	t.Helper()
	return servedAnswers(t, bins, gen, revs)
}

// servedAnswers starts real etcd on a copy of dir and asks what it serves.
func servedAnswers(t *testing.T, bins etcdtest.Bins, dir string, revs []int64) servedState {
	t.Helper()
	m := etcdtest.StartMember(t, bins, etcdtest.MemberOptions{DataDir: fixture.CopyDir(t, dir), Auth: "root:" + etcdtest.RootPassword})
	defer m.Stop(t)
	return serveAnswers(t, m, revs)
}

// checkVerdict compares a verdict with what real etcd did.
func checkVerdict(t *testing.T, v *inspect.Verdict, booted, baseline etcdtest.BootResult) {
	t.Helper()
	extra := booted.Extra(baseline)
	switch v.Outcome {
	case inspect.Refuses:
		if !booted.Exited {
			t.Errorf("verdict refuses (%s), but etcd %s", v.Message, booted)
		} else if !strings.Contains(digits(booted.Message), digits(v.Message)) {
			t.Errorf("verdict message %q, etcd said %q", v.Message, booted.Message)
		}
	case inspect.Damages:
		wroteOver := booted.Exited && slices.Contains(booted.Rewritten, "member/snap/db")
		if !wroteOver && !(booted.Healthy && booted.AfterWrites != "") {
			t.Errorf("verdict damages (%s), but etcd %s", v.Message, booted)
		}
	case inspect.Starts, inspect.SelfRepairs:
		if !booted.Healthy || booted.AfterWrites != "" {
			t.Errorf("verdict %s, but etcd %s", v.Outcome, booted)
		}
		changed := slices.Concat(booted.Created, booted.Removed, booted.Shrunk, booted.Grown, booted.Rewritten, booted.ZeroFilled)
		for _, c := range v.Changes {
			for _, f := range filesIn(c) {
				if !slices.Contains(changed, f) {
					t.Errorf("verdict change %q: etcd did not change %s (it changed %v)", c, f, changed)
				}
			}
		}
		if v.Outcome == inspect.Starts {
			if n := len(extra.Created) + len(extra.Removed) + len(extra.Shrunk) + len(extra.ZeroFilled); n > 0 {
				t.Errorf("verdict starts, but etcd changed files: %s", extra)
			}
		} else if len(v.Changes) == 0 {
			t.Errorf("verdict self-repairs with no changes")
		}
	default:
		t.Errorf("verdict %s: etcd %s", v.Outcome, booted)
	}
}

var digitRun = regexp.MustCompile(`[0-9]+`)

// digits is s with every run of decimal digits as #: a page or pgid that
// bbolt picks at random does not make a message differ.
func digits(s string) string { return digitRun.ReplaceAllString(s, "#") }

var memberPath = regexp.MustCompile(`member/[^ ,()]+`)

// filesIn are the member files a change names; a .broken copy is named
// after the file it copies.
func filesIn(change string) []string {
	out := memberPath.FindAllString(change, -1)
	if i := strings.Index(change, " to "); strings.HasPrefix(change, "renames ") && i > 0 {
		name := strings.Fields(change[i+4:])[0]
		out = append(out, "member/snap/"+name)
	}
	if strings.Contains(change, "(a copy is kept as ") {
		name := strings.TrimSuffix(strings.Fields(change[strings.Index(change, "(a copy is kept as ")+19:])[0], ")")
		out = append(out, "member/wal/"+name)
	}
	return out
}

// sameWAL requires out's WAL to be byte for byte the undamaged one's.
func sameWAL(t *testing.T, gen, out string) {
	t.Helper()
	want, _ := filepath.Glob(filepath.Join(gen, "member", "wal", "*.wal"))
	got, _ := filepath.Glob(filepath.Join(out, "member", "wal", "*.wal"))
	if len(want) != len(got) {
		t.Fatalf("%d segments, want %d", len(got), len(want))
	}
	for i := range want {
		a, err := os.ReadFile(want[i])
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(got[i])
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(want[i]) != filepath.Base(got[i]) || !bytes.Equal(a, b) {
			t.Errorf("segment %s differs from etcd's %s", got[i], want[i])
		}
	}
}
