package tui_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/tui"
)

// TestSmoke runs the whole program, as a terminal would (bubbletea's
// renderer, its input loop, the commands on their own goroutines), over
// the sample data dir as Open opens it: every tab comes up, with what its
// loader read after the first screen, ] moves between them, q quits.
func TestSmoke(t *testing.T) {
	dir := etcdtest.SampleDir(t)
	defer etcdtest.RequireUnchanged(t, dir)()
	src, closer, err := tui.Open(dir, tui.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
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
	for _, want := range []string{"Snapshot files: 4", "Pages 0..", "Keys at revision 337", "verdict: etcd 3.6 starts"} {
		tm.Type("]")
		see(want)
	}
	tm.Type("q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
}
