package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/etcdscope/etcdscope/internal/etcdrelease"
	"github.com/etcdscope/etcdscope/internal/etcdtest"
	"github.com/etcdscope/etcdscope/internal/fixture"
)

// jsonKeyRE is what a key of our JSON looks like: snake_case.
var jsonKeyRE = regexp.MustCompile(`^[a-z0-9]+(_[a-z0-9]+)*$`)

// checkJSONKeys decodes one JSON document token by token and reports every
// key that is not snake_case or that its object already has. Keys of
// objects under a "map" key (the values of a Go map: bucket names, key
// prefixes, request kinds) are data, not names, and are not checked for
// case.
func checkJSONKeys(doc []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	type frame struct {
		obj, wantKey, data bool // data: a map's keys, which are data
		seen               map[string]bool
		path, key          string
	}
	stack := []*frame{{}}
	var bad []string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return bad
		}
		if err != nil {
			return append(bad, "does not decode: "+err.Error())
		}
		top := stack[len(stack)-1]
		if k, ok := tok.(string); ok && top.obj && top.wantKey {
			if top.seen[k] {
				bad = append(bad, fmt.Sprintf("%s: key %q twice", top.path, k))
			}
			if !top.data && !jsonKeyRE.MatchString(k) {
				bad = append(bad, fmt.Sprintf("%s: key %q is not snake_case", top.path, k))
			}
			top.seen[k], top.key, top.wantKey = true, k, false
			continue
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			stack = append(stack, &frame{obj: tok == json.Delim('{'), wantKey: true, data: dataMapKeys[top.key],
				seen: map[string]bool{}, path: top.path + "." + top.key})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			top = stack[len(stack)-1]
		}
		top.wantKey = true // a value ended
	}
}

// dataMapKeys are the keys whose object value is a map from data (a name
// read from the input, a request kind) to a value.
var dataMapKeys = map[string]bool{
	"entry_types": true, "requests": true, "key_prefixes": true, "placed": true,
	"peers_have": true, "unsupported": true, "failed": true,
}

func TestCheckJSONKeys(t *testing.T) {
	for doc, want := range map[string]int{
		`{"a_b":1,"c":[{"d":2}]}`:                       0,
		`{"a":1,"a":2}`:                                 1,
		`{"NodeID":1}`:                                  1,
		`{"x":{"ConfState":{"AutoLeave":true}}}`:        2,
		`{"requests":{"lease-grant":{"count":1}}}`:      0,
		`{"s":"NotAKey","l":["NotAKey"],"o":{"k":"V"}}`: 0,
	} {
		if got := checkJSONKeys([]byte(doc)); len(got) != want {
			t.Errorf("%s: %v, want %d problems", doc, got, want)
		}
	}
}

// TestJSONKeysSnakeCase runs every command that has -w json on the sample
// (its data dir, its db, its WAL) and checks that every key of every
// document (every line, for the NDJSON of wal dump) is snake_case and not
// repeated in its object.
func TestJSONKeysSnakeCase(t *testing.T) {
	src := etcdtest.SampleDir(t)
	dir := fixture.CopyDir(t, src)
	db := filepath.Join(dir, "member", "snap", "db")
	walDir := filepath.Join(dir, "member", "wal")
	tmp := t.TempDir()
	cases := [][]string{
		{"version"},
		{"inspect", dir},
		{"wal", "dump", dir}, {"wal", "dump", "--values", "--raw", walDir}, {"wal", "verify", dir}, {"wal", "stats", dir},
		{"snap", "dump", dir},
		{"bolt", "info", db}, {"bolt", "check", db}, {"bolt", "pages", db}, {"bolt", "page", db, "0", "2", "3"}, {"bolt", "buckets", db},
		{"bolt", "keys", db, "members"}, {"bolt", "get", db, "meta", "consistent_index"},
		{"mvcc", "range", dir, "", "--prefix"}, {"mvcc", "history", dir, "/fill/00"}, {"mvcc", "hash", db}, {"mvcc", "meta", db},
		{"mvcc", "leases", db}, {"mvcc", "members", db}, {"mvcc", "auth", db},
		{"replay", dir, "--out", filepath.Join(tmp, "replayed")},
		{"compare", dir, src},
		{"repair", "rebuild", dir, "--dry-run", "--out", filepath.Join(tmp, "r1")},
		{"repair", "wal", dir, "--dry-run", "--out", filepath.Join(tmp, "r2")},
		{"repair", "bolt", dir, "--dry-run", "--out", filepath.Join(tmp, "r3")},
		{"repair", "salvage", dir, "--dry-run", "--out", filepath.Join(tmp, "r4")},
	}
	for _, args := range cases {
		name := args[0]
		if len(args) > 1 && !filepath.IsAbs(args[1]) {
			name += " " + args[1]
		}
		t.Run(name, func(t *testing.T) {
			out, errOut, code := run(t, append(args, "-w", "json")...)
			if code == ExitTrouble {
				t.Fatalf("%v: exit 2: %s", args, errOut)
			}
			docs := [][]byte{[]byte(out)}
			if args[0] == "wal" && args[1] == "dump" {
				docs = nil
				sc := bufio.NewScanner(strings.NewReader(out))
				sc.Buffer(nil, 16<<20)
				for sc.Scan() {
					docs = append(docs, bytes.Clone(sc.Bytes()))
				}
			}
			seen := map[string]bool{}
			for _, d := range docs {
				for _, p := range checkJSONKeys(d) {
					if !seen[p] {
						seen[p] = true
						t.Errorf("%v: %s", args, p)
					}
				}
			}
		})
	}
}

// TestEveryCommandHasExamples walks the whole command tree: every command
// has an Examples section, and every example line is a command line the
// tree parses (the command or one under it, with flags it has and the
// arguments it takes).
func TestEveryCommandHasExamples(t *testing.T) {
	root := NewRootCommand()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Example == "" {
			t.Errorf("%s has no examples (cli/examples.go)", c.CommandPath())
		}
		for _, line := range strings.Split(c.Example, "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			checkExampleLine(t, c, line)
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
	for path := range examples {
		if _, _, err := root.Find(strings.Fields(path)[1:]); err != nil {
			t.Errorf("examples has %q, which is no command", path)
		}
	}
}

func checkExampleLine(t *testing.T, c *cobra.Command, line string) {
	t.Helper()
	for _, shell := range []string{" | ", " > "} {
		line, _, _ = strings.Cut(line, shell)
	}
	args := strings.Fields(line)
	if args[0] != "etcdscope" {
		t.Errorf("%s: example %q does not start with etcdscope", c.CommandPath(), line)
		return
	}
	root := NewRootCommand()
	cmd, rest, err := root.Find(args[1:])
	if err != nil || !strings.HasPrefix(cmd.CommandPath()+" ", c.CommandPath()+" ") {
		t.Errorf("%s: example %q finds %v (%v)", c.CommandPath(), line, cmd.CommandPath(), err)
		return
	}
	if err := cmd.ParseFlags(rest); err != nil {
		t.Errorf("%s: example %q: %v", c.CommandPath(), line, err)
		return
	}
	if cmd.Args != nil {
		if err := cmd.Args(cmd, cmd.Flags().Args()); err != nil {
			t.Errorf("%s: example %q: %v", c.CommandPath(), line, err)
		}
	}
}

// TestUnknownSubcommand checks that every command with subcommands refuses
// an unknown one with exit 2 and a suggestion, rather than printing its
// help and exiting 0.
func TestUnknownSubcommand(t *testing.T) {
	var parents []*cobra.Command
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.HasSubCommands() {
			parents = append(parents, c)
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(NewRootCommand())
	if len(parents) < 6 {
		t.Fatalf("%d parent commands", len(parents))
	}
	for _, p := range parents {
		path := strings.Fields(p.CommandPath())[1:]
		name := p.Commands()[0].Name()
		typo := name[1:2] + name[:1] + name[2:] // two letters swapped
		for arg, want := range map[string]string{"bogus": "unknown command \"bogus\"", typo: fmt.Sprintf("did you mean %q", name)} {
			out, errOut, code := run(t, append(path, arg)...)
			if code != ExitTrouble || !strings.Contains(errOut, want) || out != "" || strings.Count(errOut, "\n") != 1 {
				t.Errorf("%s %s: exit %d, stdout %q, stderr %q; want exit 2 and %q", p.CommandPath(), arg, code, out, errOut, want)
			}
		}
		if _, _, code := run(t, path...); code != ExitOK {
			t.Errorf("%s: exit %d; want its help, exit 0", p.CommandPath(), code)
		}
	}
}

// TestBadFlagValues checks that every enumerated flag refuses a value it
// does not know with exit 2, the valid values and the nearest one.
func TestBadFlagValues(t *testing.T) {
	dir := etcdtest.SampleDir(t)
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"wal", "dump", "--request", "puts", dir}, []string{`did you mean "put"?`, "lease-grant"}},
		{[]string{"wal", "dump", "--request", "put,txnn", dir}, []string{`"txnn"`, `did you mean "txn"?`}},
		{[]string{"wal", "dump", "--record-type", "entries", dir}, []string{`did you mean "entry"?`, "crc, metadata, snapshot, state, entry"}},
		{[]string{"wal", "dump", "--entry-type", "normall", dir}, []string{`did you mean "normal"?`, "confchangev2"}},
		{[]string{"mvcc", "meta", "-w", "jsn", dir}, []string{`did you mean "json"?`, "simple, table, json"}},
		{[]string{"-w", "tabel", "wal", "stats", dir}, []string{`did you mean "table"?`}},
		{[]string{"mvcc", "range", dir, "/app/", "--prefx"}, []string{"unknown flag: --prefx", `did you mean "--prefix"?`}},
	} {
		out, errOut, code := run(t, c.args...)
		if code != ExitTrouble || out != "" || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and one line", c.args, code, out, errOut)
		}
		for _, w := range c.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%v: stderr %q lacks %q", c.args, errOut, w)
			}
		}
	}
}

// TestMVCCGetIsRange checks the alias etcdctl users type.
func TestMVCCGetIsRange(t *testing.T) {
	dir := etcdtest.SampleDir(t)
	want, _, code := run(t, "mvcc", "range", dir, "/app/", "--prefix", "-w", "json")
	got, errOut, code2 := run(t, "mvcc", "get", dir, "/app/", "--prefix", "-w", "json")
	if code != ExitOK || code2 != ExitOK || got != want || !strings.Contains(got, `"kvs"`) {
		t.Errorf("mvcc get: exit %d %s\n%s\nmvcc range: exit %d\n%s", code2, errOut, got, code, want)
	}
}

func TestVersion(t *testing.T) {
	text, _, code := run(t, "version")
	flag, _, code2 := run(t, "--version")
	if code != ExitOK || code2 != ExitOK || text != flag {
		t.Errorf("version (exit %d):\n%s--version (exit %d):\n%s", code, text, code2, flag)
	}
	for _, w := range append([]string{"etcdscope version: (devel)", "Go version: " + runtime.Version()}, etcdrelease.Tested...) {
		if !strings.Contains(text, w) {
			t.Errorf("version lacks %q:\n%s", w, text)
		}
	}
	out, _, _ := run(t, "version", "-w", "json")
	var v struct {
		Version string   `json:"etcdscope_version"`
		Go      string   `json:"go_version"`
		Etcd    []string `json:"etcd_versions_tested"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.Go != runtime.Version() || !slices.Equal(v.Etcd, etcdrelease.Tested) || v.Version == "" {
		t.Errorf("version -w json: %v %+v", err, v)
	}
}

func TestServeListenForms(t *testing.T) {
	for _, c := range []struct {
		listen        string
		tls, insecure bool
		scheme, addr  string // "" for a usage error
	}{
		{"127.0.0.1:23790", false, false, "http", "127.0.0.1:23790"},
		{"http://127.0.0.1:23790", false, false, "http", "127.0.0.1:23790"},
		{"http://localhost:23790/", false, false, "http", "localhost:23790"},
		{"https://10.0.0.1:2379", true, false, "https", "10.0.0.1:2379"},
		{"10.0.0.1:2379", true, false, "https", "10.0.0.1:2379"},
		{"http://[::1]:23790", false, false, "http", "[::1]:23790"},
		{"http://10.0.0.1:2379", false, true, "http", "10.0.0.1:2379"},
		{"http://10.0.0.1:2379", false, false, "", ""},    // not loopback, no TLS
		{"https://127.0.0.1:23790", false, false, "", ""}, // https without a certificate
		{"http://127.0.0.1:23790", true, false, "", ""},   // TLS on, http asked
		{"unix:///tmp/sock", false, false, "", ""},
		{"127.0.0.1", false, false, "", ""},
	} {
		scheme, addr, err := checkListen(c.listen, c.tls, c.insecure)
		if scheme != c.scheme || addr != c.addr || (err != nil) != (c.addr == "") || err != nil && !errors.As(err, new(usageError)) {
			t.Errorf("checkListen(%q, tls %v, insecure %v) = %q, %q, %v; want %q, %q", c.listen, c.tls, c.insecure, scheme, addr, err, c.scheme, c.addr)
		}
	}
}

// TestServeListenURL serves on --listen http://host:port, the form serve
// prints.
func TestServeListenURL(t *testing.T) {
	db := filepath.Join(etcdtest.SampleDir(t), "member", "snap", "db")
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut lockedBuffer
	done := make(chan int, 1)
	go func() { done <- Main(ctx, []string{"serve", "--db", db, "--listen", "http://" + addr}, &out, &errOut) }()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not answer on %s: %s", addr, errOut.String())
		}
	}
	cancel()
	if code := <-done; code != ExitOK || !strings.Contains(errOut.String(), "on http://"+addr) {
		t.Errorf("exit %d: %s", code, errOut.String())
	}
}

// jsonAt returns the values at path in doc: names separated by dots, "*"
// for every element of an array.
func jsonAt(doc any, path string) []any {
	if path == "" {
		return []any{doc}
	}
	name, rest, _ := strings.Cut(path, ".")
	var out []any
	switch d := doc.(type) {
	case map[string]any:
		if v, ok := d[name]; ok {
			out = append(out, jsonAt(v, rest)...)
		}
	case []any:
		if name == "*" {
			for _, v := range d {
				out = append(out, jsonAt(v, rest)...)
			}
		}
	}
	return out
}

var hexIDRE = regexp.MustCompile(`^[0-9a-f]{16}$`)

// TestJSONIDsHex checks that member, cluster and lease ids in our own
// JSON are 16-digit lower-case hex strings, as etcd's logs and etcdctl
// member list print them (jq 1.6 rounds 64-bit numbers).
func TestJSONIDsHex(t *testing.T) {
	dir := etcdtest.SampleDir(t)
	tmp := t.TempDir()
	for _, c := range []struct {
		args  []string
		paths []string
	}{
		{[]string{"wal", "dump", dir, "--record-type", "metadata,state,snapshot"}, []string{"node_id", "cluster_id", "vote", "conf_state.voters.*"}},
		{[]string{"wal", "dump", dir, "--request", "lease-grant,lease-revoke,put,cluster-member-attr-set,confchange"},
			[]string{"request.lease_grant.id", "request.lease_revoke.id", "request.put.lease", "request.cluster_member_attr_set.member_id", "request.node_id", "request.member.id"}},
		{[]string{"wal", "stats", dir}, []string{"metadata.node_id", "metadata.cluster_id", "hard_state.vote", "snapshots.*.conf_state.voters.*"}},
		{[]string{"mvcc", "leases", dir}, []string{"leases.*.id"}},
		{[]string{"mvcc", "members", dir}, []string{"members.*.id"}},
		{[]string{"mvcc", "history", dir, "/lease/kept-1"}, []string{"records.*.lease"}},
		{[]string{"replay", dir, "--out", filepath.Join(tmp, "replayed")}, []string{"node_id", "cluster_id"}},
		{[]string{"repair", "rebuild", dir, "--dry-run", "--out", filepath.Join(tmp, "rebuilt")}, []string{"replay.node_id", "replay.cluster_id"}},
		{[]string{"inspect", dir}, []string{"member_id", "cluster_id"}},
		{[]string{"snap", "dump", dir}, []string{"snaps.*.conf_state.voters.*", "snaps.*.store.members.*.id"}},
		{[]string{"compare", dir, fixture.CopyDir(t, dir)}, []string{"members.*.id", "members.*.cluster_id"}},
	} {
		out, errOut, code := run(t, append(c.args, "-w", "json")...)
		if code == ExitTrouble {
			t.Fatalf("%v: %s", c.args, errOut)
		}
		var docs []any
		dec := json.NewDecoder(strings.NewReader(out))
		for dec.More() {
			var d any
			if err := dec.Decode(&d); err != nil {
				t.Fatalf("%v: %v", c.args, err)
			}
			docs = append(docs, d)
		}
		for _, p := range c.paths {
			n := 0
			for _, d := range docs {
				for _, v := range jsonAt(d, p) {
					if s, ok := v.(string); !ok || !hexIDRE.MatchString(s) {
						t.Errorf("%v: %s is %#v, want 16 hex digits", c.args, p, v)
					}
					n++
				}
			}
			if n == 0 {
				t.Errorf("%v: no %s", c.args, p)
			}
		}
	}
}
