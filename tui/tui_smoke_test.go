package tui_test

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/tui"
	"github.com/etcdscope/etcdscope/tui/panes"
)

// TestSmoke runs the whole program, as a terminal would (bubbletea's
// renderer, its input loop, the commands on their own goroutines), over
// the sample member: every tab comes up, ] moves between them, q quits.
func TestSmoke(t *testing.T) {
	member := filepath.Join(etcdtest.SampleDir(t), "member")
	defer etcdtest.RequireUnchanged(t, member)()
	var src tui.Sources
	wal, c1, err := tui.OpenWAL(filepath.Join(member, "wal"))
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	db := filepath.Join(member, "snap", "db")
	bolt, c2, err := tui.OpenBolt(db)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	mv, c3, err := tui.OpenMVCC(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	snaps, err := tui.SnapItems(filepath.Join(member, "snap"))
	if err != nil {
		t.Fatal(err)
	}
	src = tui.Sources{WAL: wal, Bolt: bolt, MVCC: mv, Snap: snaps}
	src.LoadFindings = func() ([]panes.Item, error) { return tui.FindingItems(wal, bolt, snaps) }
	m, err := tui.New(src)
	if err != nil {
		t.Fatal(err)
	}
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 30))
	see := func(what string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(what)) },
			teatest.WithDuration(10*time.Second))
	}
	see("Records of 0000000000000000-0000000000000000.wal")
	for _, want := range []string{"Snapshot files", "Pages 0..", "Keys at revision", "Findings: 0"} {
		tm.Type("]")
		see(want)
	}
	tm.Type("q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
}
