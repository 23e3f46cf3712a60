package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/etcdscope/etcdscope/finding"
	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/fixture"
)

// run runs the command line in-process and returns stdout, stderr and the
// exit code.
func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), code
}

// badInputs makes in a new temporary dir, tmp, what a command given the
// wrong thing reads: notes, a text file (saying it is not notA), and
// emptyDir, an empty dir.
func badInputs(t *testing.T, notA string) (tmp, notes, emptyDir string) {
	t.Helper()
	tmp = t.TempDir()
	notes, emptyDir = filepath.Join(tmp, "notes.txt"), filepath.Join(tmp, "empty")
	if err := os.WriteFile(notes, []byte("hello, not "+notA+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(emptyDir, 0o755); err != nil {
		t.Fatal(err)
	}
	return tmp, notes, emptyDir
}

// checkTrouble runs each command line of cases, in a subtest by its name,
// and checks that it fails as a command that cannot do its job does: exit
// 2, one line on stderr that starts with "etcdscope: " and is no stack
// trace, nothing on stdout.
func checkTrouble(t *testing.T, cases map[string][]string) {
	t.Helper()
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			out, errOut, code := run(t, args...)
			if code != ExitTrouble {
				t.Errorf("exit %d, want 2 (stdout %q stderr %q)", code, out, errOut)
			}
			if strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "etcdscope: ") {
				t.Errorf("want one line on stderr, got %q", errOut)
			}
			if strings.Contains(errOut, "goroutine") || strings.Contains(errOut, "panic") {
				t.Errorf("stack trace on stderr: %q", errOut)
			}
			if out != "" {
				t.Errorf("stdout not empty: %q", out)
			}
		})
	}
}

func verifyJSON(t *testing.T, dir string) (*finding.Report, int) {
	t.Helper()
	return reportJSON(t, dir, "wal", "verify")
}

// reportJSON runs a checking command (args) with -w json on path and
// returns its findings and exit code; an exit 2 or a change to path fails
// the test.
func reportJSON(t *testing.T, path string, args ...string) (*finding.Report, int) {
	t.Helper()
	defer etcdtest.RequireUnchanged(t, path)()
	cmd := strings.Join(args, " ")
	out, errOut, code := run(t, slices.Concat(args, []string{"-w", "json", path})...)
	if code == ExitTrouble {
		t.Fatalf("%s exit 2: %s", cmd, errOut)
	}
	var rep finding.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%s -w json: %v\n%s", cmd, err, out)
	}
	return &rep, code
}

type dumpLine struct {
	Kind       string `json:"kind"`
	Segment    string `json:"segment"`
	Offset     int64  `json:"offset"`
	Type       string `json:"type"`
	CRCOK      bool   `json:"crc_ok"`
	Index      uint64 `json:"index"`
	Term       uint64 `json:"term"`
	EntryType  string `json:"entry_type"`
	Data       []byte `json:"data"`
	Superseded bool   `json:"superseded"`
}

func dumpJSON(t *testing.T, args ...string) []dumpLine {
	t.Helper()
	out, errOut, code := run(t, append([]string{"wal", "dump", "-w", "json"}, args...)...)
	if code != ExitOK {
		t.Fatalf("wal dump exit %d: %s", code, errOut)
	}
	return ndjson[dumpLine](t, out)
}

func TestWALVerifyCleanRealWAL(t *testing.T) {
	for _, v := range etcdtest.Versions {
		t.Run(v, func(t *testing.T) {
			dir, _ := etcdtest.Generate(t, v, etcdtest.GenOptions{})
			rep, code := verifyJSON(t, dir)
			if code != ExitOK || rep.Summary.Errors != 0 {
				t.Fatalf("clean WAL: exit %d, findings %+v", code, rep.Findings)
			}
		})
	}
}

// injection is one kind of damage put into a copy of a real WAL. It returns
// the segment it damaged and the offset the finding must carry.
type injection struct {
	code   string
	inject func(t *testing.T, walDir string) (seg string, off int64)
	midLog bool // records after the damage must still be listed by dump
}

func entryFrame(t *testing.T, path string, nth int) fixture.Frame {
	t.Helper()
	n := 0
	for _, f := range fixture.Frames(t, path) {
		if f.Type == 2 && f.Length > 40 {
			if n == nth {
				return f
			}
			n++
		}
	}
	t.Fatalf("%s: no entry frame #%d", path, nth)
	return fixture.Frame{}
}

// middle returns the segment, neither first nor last, with the most frames.
func middle(t *testing.T, walDir string) string {
	segs := fixture.Segments(t, walDir)
	if len(segs) < 3 {
		t.Fatalf("want at least 3 segments, got %d", len(segs))
	}
	best, n := "", 0
	for _, s := range segs[1 : len(segs)-1] {
		if k := len(fixture.Frames(t, s)); k > n {
			best, n = s, k
		}
	}
	return best
}

func last(t *testing.T, walDir string) string {
	segs := fixture.Segments(t, walDir)
	return segs[len(segs)-1]
}

var injections = map[string]injection{
	"crc-mismatch": {code: "wal-crc-mismatch", midLog: true, inject: func(t *testing.T, walDir string) (string, int64) {
		seg := middle(t, walDir)
		f := entryFrame(t, seg, 1)
		data := fixture.DataOffset(t, seg, f)
		fixture.FlipBit(t, seg, data+20, 3)
		return seg, f.Offset
	}},
	"crc-chain-break": {code: "wal-crc-chain-break", inject: func(t *testing.T, walDir string) (string, int64) {
		seg := middle(t, walDir)
		fr := fixture.Frames(t, seg)[0]
		if fr.Type != 4 {
			t.Fatalf("%s does not start with a crc record", seg)
		}
		// 08 04 10 <crc varint>: flip the lowest bit of the varint's first byte.
		fixture.FlipBit(t, seg, fr.Offset+8+3, 0)
		return seg, 0
	}},
	"torn-tail": {code: "wal-torn-tail", inject: func(t *testing.T, walDir string) (string, int64) {
		seg := last(t, walDir)
		frames := fixture.Frames(t, seg)
		lf := frames[len(frames)-1]
		fixture.Truncate(t, seg, lf.Offset+8+lf.Length/2)
		return seg, lf.Offset
	}},
	"garbage-after-end": {code: "wal-garbage-after-end", inject: func(t *testing.T, walDir string) (string, int64) {
		seg := last(t, walDir)
		frames := fixture.Frames(t, seg)
		end := frames[len(frames)-1].End()
		st, _ := os.Stat(seg)
		off := end + 100
		if off+16 > st.Size() {
			t.Fatalf("no preallocated tail to put garbage in (%d of %d)", end, st.Size())
		}
		fixture.WriteAt(t, seg, off, bytes.Repeat([]byte{0xab}, 16))
		return seg, off
	}},
	"nonzero-padding": {code: "wal-nonzero-padding", midLog: true, inject: func(t *testing.T, walDir string) (string, int64) {
		seg := middle(t, walDir)
		for _, f := range fixture.Frames(t, seg)[3:] {
			if f.Pad > 0 {
				off := f.Offset + 8 + f.Length
				fixture.WriteAt(t, seg, off+f.Pad-1, []byte{1})
				return seg, off
			}
		}
		t.Fatal("no padded frame")
		return "", 0
	}},
	"bad-length": {code: "wal-bad-length", midLog: true, inject: func(t *testing.T, walDir string) (string, int64) {
		seg := middle(t, walDir)
		f := entryFrame(t, seg, 1)
		fixture.PutUint64(t, seg, f.Offset, 0x00ffffffffffff00)
		return seg, f.Offset
	}},
	"sequence-gap": {code: "wal-sequence-gap", inject: func(t *testing.T, walDir string) (string, int64) {
		segs := fixture.Segments(t, walDir)
		mid := len(segs) / 2
		if mid == 0 || mid+1 >= len(segs) {
			t.Fatalf("want at least 3 segments, got %d", len(segs))
		}
		if err := os.Remove(segs[mid]); err != nil {
			t.Fatal(err)
		}
		return segs[mid+1], 0
	}},
}

func TestWALVerifyInjected(t *testing.T) {
	for _, v := range etcdtest.Versions {
		for name, inj := range injections {
			t.Run(v+"/"+name, func(t *testing.T) {
				clean, _ := etcdtest.Generate(t, v, etcdtest.GenOptions{})
				dir := fixture.CopyDir(t, clean)
				walDir := filepath.Join(dir, "member", "wal")
				seg, off := inj.inject(t, walDir)
				wantFile := "member/wal/" + filepath.Base(seg)

				rep, code := verifyJSON(t, dir)
				if code != ExitFindings {
					t.Errorf("exit %d, want %d", code, ExitFindings)
				}
				found := false
				for _, f := range rep.Findings {
					if f.Code == inj.code && f.File == wantFile && f.Offset != nil && *f.Offset == off {
						found = true
					}
				}
				if !found {
					t.Fatalf("no %s at %s:%#x; findings:\n%s", inj.code, wantFile, off, findingsText(rep))
				}
				if inj.midLog {
					// Records after the damage are still listed, with good CRCs.
					after := 0
					for _, l := range dumpJSON(t, dir) {
						if l.Kind == "record" && l.Segment == filepath.Base(seg) && l.Offset > off && l.CRCOK {
							after++
						}
					}
					if after == 0 {
						t.Errorf("no valid record listed after the damage at %#x", off)
					}
				}
			})
		}
	}
}

func findingsText(r *finding.Report) string {
	var b strings.Builder
	for _, f := range r.Findings {
		off := int64(-1)
		if f.Offset != nil {
			off = *f.Offset
		}
		fmt.Fprintf(&b, "%s %s %s %#x %s\n", f.Severity, f.Code, f.File, off, f.Message)
	}
	return b.String()
}

func TestWALBadInput(t *testing.T) {
	tmp, notWAL, emptyDir := badInputs(t, "a WAL")
	loop := filepath.Join(tmp, "loop")
	os.Symlink(loop, loop)
	cases := map[string][]string{
		"missing path":  {"wal", "verify", filepath.Join(tmp, "nope")},
		"dir w/o WAL":   {"wal", "dump", emptyDir},
		"not a WAL":     {"wal", "verify", notWAL},
		"unreadable":    {"wal", "stats", loop},
		"no argument":   {"wal", "verify"},
		"bad -w":        {"wal", "verify", "-w", "yaml", emptyDir},
		"unknown flag":  {"wal", "dump", "--bogus", emptyDir},
		"bad rec type":  {"wal", "dump", "--record-type", "entries", emptyDir},
		"unknown noun":  {"wall", "verify"},
		"bad index rng": {"wal", "dump", "--start-index", "9", "--end-index", "3", emptyDir},
	}
	checkTrouble(t, cases)
}

func TestWALCommandsLeaveInputUnchanged(t *testing.T) {
	dir := fixture.CopyDir(t, etcdtest.SampleDir(t))
	defer etcdtest.RequireUnchanged(t, dir)()
	for _, args := range [][]string{
		{"wal", "dump", dir},
		{"wal", "dump", "-w", "json", "--values", dir},
		{"wal", "dump", "-w", "table", "--raw", dir},
		{"wal", "verify", dir},
		{"wal", "stats", "-w", "json", dir},
		{"wal", "stats", "-w", "table", dir},
	} {
		if _, errOut, code := run(t, args...); code != ExitOK {
			t.Errorf("%v: exit %d: %s", args, code, errOut)
		}
	}
}

func TestWALDumpFilters(t *testing.T) {
	dir := etcdtest.SampleDir(t)
	all := dumpJSON(t, dir)
	var entries []dumpLine
	for _, l := range all {
		if l.Type == "entry" {
			entries = append(entries, l)
		}
	}
	if len(entries) < 100 {
		t.Fatalf("sample has %d entries", len(entries))
	}
	got := dumpJSON(t, "--start-index", "10", "--end-index", "19", dir)
	if len(got) != 10 || got[0].Index != 10 || got[9].Index != 19 {
		t.Errorf("--start-index 10 --end-index 19: %d lines, first %+v", len(got), got[0])
	}
	for _, l := range dumpJSON(t, "--request", "put", "--key", "/app/", dir) {
		if l.Type != "entry" {
			t.Errorf("non-entry record %+v with entry filters", l)
		}
	}
	if n := len(dumpJSON(t, "--request", "put", "--key", "/app/", dir)); n == 0 {
		t.Errorf("--request put --key /app/: nothing")
	}
	for _, l := range dumpJSON(t, "--record-type", "state", dir) {
		if l.Type != "state" {
			t.Errorf("--record-type state listed %+v", l)
		}
	}
	for _, l := range dumpJSON(t, "--entry-type", "confchange", dir) {
		if l.EntryType != "confchange" {
			t.Errorf("--entry-type confchange listed %+v", l)
		}
	}
}

func TestAppendBase64MatchesStdlib(t *testing.T) {
	for n := 0; n < 300; n++ {
		v := make([]byte, n)
		for i := range v {
			v[i] = byte(i*131 + n)
		}
		got := string(appendBase64([]byte("x"), v))
		want := "x" + base64.StdEncoding.EncodeToString(v)
		if got != want {
			t.Fatalf("len %d: %q, want %q", n, got, want)
		}
	}
}
