package etcdtest

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// StartFails starts real etcd on an existing data dir (which it may
// change: give it a copy) and reports whether etcd exits within timeout,
// with the reason it logged. When etcd is still running after timeout it
// is stopped (only that process) and failed is false.
func StartFails(tb testing.TB, bins Bins, dataDir string, timeout time.Duration) (reason string, failed bool) {
	tb.Helper()
	ports, err := freePorts(2)
	if err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
	m := &Member{
		Bins:      bins,
		Opts:      MemberOptions{Name: "etcdscope", DataDir: dataDir, SnapshotCount: 100},
		Name:      "etcdscope",
		DataDir:   dataDir,
		LogPath:   filepath.Join(tb.TempDir(), "etcd.log"),
		ClientURL: "http://127.0.0.1:" + strconv.Itoa(ports[0]),
		PeerURL:   "http://127.0.0.1:" + strconv.Itoa(ports[1]),
	}
	if err := m.start(); err != nil {
		tb.Fatalf("etcdtest: starting etcd %s: %v", bins.Version, err)
	}
	select {
	case <-m.done:
		return failureReason(m.logTail()), true
	case <-time.After(timeout):
		m.Stop(tb)
		return fmt.Sprintf("still running after %v", timeout), false
	}
}

var logMsg = regexp.MustCompile(`"msg":"([^"]*)"(?:,.*?"error":"([^"]*)")?`)

// failureReason picks the last panic or fatal message (with its error)
// from etcd's JSON log.
func failureReason(log string) string {
	lines := strings.Split(strings.TrimSpace(log), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := lines[i]
		if !strings.Contains(l, `"level":"panic"`) && !strings.Contains(l, `"level":"fatal"`) {
			continue
		}
		if m := logMsg.FindStringSubmatch(l); m != nil {
			if m[2] != "" {
				return m[1] + ": " + m[2]
			}
			return m[1]
		}
		return l
	}
	if n := len(lines); n > 0 {
		return lines[n-1]
	}
	return "no log"
}
