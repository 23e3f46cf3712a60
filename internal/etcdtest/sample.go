package etcdtest

import (
	"path/filepath"
	"testing"
)

// SampleVersion is the etcd version that wrote the committed sample.
const SampleVersion = "3.6"

// SampleDir returns the committed sample data dir, testdata/sample: a
// small data dir written by etcd SampleVersion running the workload with
// 16 KiB WAL segments. Tests must not modify it; copy it with CopyTree.
// Regenerate it with
//
//	go test ./internal/etcdtest -run TestRegenerateSample -regen-sample
func SampleDir(tb testing.TB) string {
	tb.Helper()
	return filepath.Join(RepoRoot(tb), "testdata", "sample")
}

// SampleRecordingPath returns testdata/sample.recording.json, the recording
// of the committed sample.
func SampleRecordingPath(tb testing.TB) string {
	tb.Helper()
	return filepath.Join(RepoRoot(tb), "testdata", "sample.recording.json")
}

// SampleRecording loads the recording of the committed sample.
func SampleRecording(tb testing.TB) *Recording {
	tb.Helper()
	rec, err := LoadRecording(SampleRecordingPath(tb))
	if err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
	return rec
}
