package etcdscope_test

// This test enforces the import rules of STYLE.md §3.1 in the manner of
// go/src/go/build/deps_test.go: depsRules is an allow-list lattice over
// every package of the module and the outside packages they use, and a
// non-test Go file may import only what its package's rules put below it.
// A package or an outside import the rules do not name fails the test, so
// a new edge (tui → repair, compare → replay/serve) is a change to the
// rules, made on purpose. Beside it, the test checks that library packages
// do not print, exit or log, and that test support is imported only by
// _test.go files.

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/etcdscope/etcdscope"

// depsRules is the lattice, lowest first. "a, b < c, d" means c and d may
// import a and b, and everything a and b may import; packages on one
// level may not import each other. Module packages are named by their
// path in the module; outside packages by their import path, where a
// trailing /... stands for every package below it; STD is the standard
// library; upper-case names are pseudo-packages that stand for the set
// below them. Rules end with a semicolon.
const depsRules = `
	# The findings type (CONTRACT.md's JSON), bytes shown as text and
	# annotated hex: small helpers of the standard library alone.
	STD < finding, internal/textfmt, internal/hexfmt;

	# JSON objects appended field by field, for streams and for the types
	# whose JSON is written by hand (walfmt's requests).
	STD < internal/jsonw;

	# The etcd releases the tests run and etcdscope version names; the
	# parallel in-order record encoder behind wal dump.
	STD < internal/etcdrelease, internal/ordered;

	# The decoders' one error machinery: each sentinel with its finding code
	# and severity, the input error that names a path, the read-only open.
	finding, internal/textfmt < internal/problem;

	# The one protobuf walker behind every hand-written decoder.
	STD, google.golang.org/protobuf/encoding/protowire < internal/pbwire;

	# All a format decoder may import: the standard library, protobuf's wire
	# layer and the small helpers above. The decoders decode walpb, snappb
	# and etcd's requests by hand rather than import etcd's server module.
	internal/problem, internal/hexfmt, internal/pbwire, internal/jsonw,
	google.golang.org/protobuf/encoding/protowire, go.etcd.io/raft/v3/raftpb
	< DECODER_DEPS;

	# The format decoders are siblings: none imports another.
	DECODER_DEPS < walfmt, snapfmt, boltfmt < FORMATS;

	# The paths of a member's files, from the argument given.
	internal/problem < internal/datadir;

	# The rules of the paths written (--out): never overlapping an input,
	# published without replacing, staging leftovers found again.
	STD, golang.org/x/sys/unix < internal/outpath;

	# Revisions, buckets, etcd's compare semantics and the read-only store,
	# over a Source interface that boltfmt and a bbolt adapter implement.
	FORMATS, go.etcd.io/bbolt < mvccview;

	# The replay engine: a raft node applying the WAL into a new bbolt db.
	mvccview, internal/outpath, go.etcd.io/bbolt, go.etcd.io/bbolt/errors, go.etcd.io/raft/v3, go.etcd.io/etcd/pkg/v3/adt
	< replay;

	# The member model (inspect: the whole-member check, the mapping from
	# the decoders' problems to findings, the checks a repair's output and
	# a served db must pass) and the comparison of members.
	replay, finding, internal/datadir
	< inspect, compare;

	# Only replay/serve speaks etcd's gRPC API; it checks the db it copies
	# to serve with inspect.
	inspect, google.golang.org/grpc/..., go.etcd.io/etcd/api/v3/...
	< replay/serve;

	# The repairs verify their outputs with inspect; the tui shows
	# inspect's findings. Neither imports the other, nor compare.
	inspect < repair;
	internal/textfmt, internal/hexfmt, charm.land/..., github.com/charmbracelet/... < tui/panes;
	inspect, tui/panes < tui;

	# The command line, over everything; nothing imports it but main.
	repair, tui, compare, replay/serve, internal/etcdrelease, internal/ordered,
	github.com/spf13/cobra, github.com/spf13/pflag, github.com/olekukonko/tablewriter/..., github.com/segmentio/asm/...
	< cmd/etcdscope/cli
	< cmd/etcdscope;

	# Test support, imported only by _test.go files: the etcd harness may
	# use etcd's client and server, the fixtures the decoders, the
	# benchmarks' shared package the harness.
	mvccview, internal/etcdrelease, go.etcd.io/etcd/api/v3/..., go.etcd.io/etcd/client/v3/..., go.etcd.io/etcd/server/v3/..., go.uber.org/zap/...
	< internal/etcdtest;
	mvccview < internal/fixture;
	internal/etcdtest < internal/bench;
	replay, internal/etcdtest < internal/replaytest;
`

// testOnly packages exist for tests and may be imported only by _test.go files.
var testOnly = []string{
	module + "/internal/etcdtest",
	module + "/internal/fixture",
	module + "/internal/bench",
	module + "/internal/replaytest",
}

// depsGraph is depsRules parsed: for each name, the names right below it.
type depsGraph map[string][]string

func parseDepsRules(t *testing.T, rules string) depsGraph {
	t.Helper()
	g := depsGraph{}
	var text strings.Builder
	for line := range strings.Lines(rules) {
		line, _, _ = strings.Cut(line, "#")
		text.WriteString(line + " ")
	}
	for rule := range strings.SplitSeq(text.String(), ";") {
		if strings.TrimSpace(rule) == "" {
			continue
		}
		var below []string
		for level := range strings.SplitSeq(rule, "<") {
			var names []string
			for n := range strings.SplitSeq(level, ",") {
				if n = strings.TrimSpace(n); n != "" {
					names = append(names, n)
				}
			}
			if len(names) == 0 {
				t.Fatalf("depsRules: an empty level in %q", strings.Join(strings.Fields(rule), " "))
			}
			for _, n := range names {
				if _, ok := g[n]; ok && len(below) > 0 {
					t.Fatalf("depsRules: %s is placed twice, or named before its rule", n)
				}
				if len(below) > 0 || g[n] == nil {
					g[n] = append([]string{}, below...)
				}
			}
			below = names
		}
	}
	for n, bs := range g {
		for _, b := range bs {
			if _, ok := g[b]; !ok {
				t.Fatalf("depsRules: %s is above %s, which no rule places", n, b)
			}
		}
	}
	return g
}

// allowed is every name below n, n excluded; it fails on a cycle.
func (g depsGraph) allowed(t *testing.T, n string) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	var walk func(n string, path []string)
	walk = func(n string, path []string) {
		for _, b := range g[n] {
			if slices.Contains(path, b) {
				t.Fatalf("depsRules: a cycle through %s", strings.Join(append(path, b), " < "))
			}
			if !seen[b] {
				seen[b] = true
				walk(b, append(path, b))
			}
		}
	}
	walk(n, []string{n})
	return seen
}

// node is the name the rules give an import path: the package's path in
// the module, STD, or the outside path or pattern that covers it ("" when
// none does).
func (g depsGraph) node(imp string) string {
	switch {
	case imp == module:
		return "."
	case strings.HasPrefix(imp, module+"/"):
		return strings.TrimPrefix(imp, module+"/")
	case isStd(imp):
		return "STD"
	}
	if _, ok := g[imp]; ok {
		return imp
	}
	for n := range g {
		if p, ok := strings.CutSuffix(n, "/..."); ok && (imp == p || strings.HasPrefix(imp, p+"/")) {
			return n
		}
	}
	return ""
}

type pkgFile struct {
	pkg     string // import path
	path    string
	imports []string
	file    *ast.File
	fset    *token.FileSet
}

func loadFiles(t *testing.T) []pkgFile {
	var out []pkgFile
	sourceFiles(t, func(p string, src []byte) {
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, p, src, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		pf := pkgFile{pkg: module, path: p, file: f, fset: fset}
		if dir := path.Dir(p); dir != "." {
			pf.pkg = module + "/" + dir
		}
		for _, imp := range f.Imports {
			s, _ := strconv.Unquote(imp.Path.Value)
			pf.imports = append(pf.imports, s)
		}
		out = append(out, pf)
	})
	return out
}

// sourceFiles calls fn for every non-test Go file of the module outside
// testdata and hidden directories, with its slash-separated path.
func sourceFiles(t *testing.T, fn func(path string, src []byte)) {
	t.Helper()
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fn(filepath.ToSlash(p), src)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func isStd(imp string) bool {
	first := strings.SplitN(imp, "/", 2)[0]
	return !strings.Contains(first, ".")
}

func hasPrefixAny(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if s == p || strings.HasPrefix(s, strings.TrimSuffix(p, "/")+"/") {
			return true
		}
	}
	return false
}

func under(pkg, dir string) bool {
	return pkg == module+"/"+dir || strings.HasPrefix(pkg, module+"/"+dir+"/")
}

func TestImportRules(t *testing.T) {
	files := loadFiles(t)
	if len(files) == 0 {
		t.Fatal("no Go files found")
	}
	g := parseDepsRules(t, depsRules)
	pkgs := map[string]bool{}
	for _, f := range files {
		pkg := g.node(f.pkg)
		pkgs[pkg] = true
		if _, ok := g[pkg]; !ok {
			t.Errorf("%s: package %s is in no rule of depsRules: place it in the lattice", f.path, pkg)
			continue
		}
		allowed := g.allowed(t, pkg)
		isTestSupport := hasPrefixAny(f.pkg, testOnly)
		for _, imp := range f.imports {
			n := g.node(imp)
			switch {
			case hasPrefixAny(imp, testOnly) && !isTestSupport:
				t.Errorf("%s imports %s, which only _test.go files may import", f.path, imp)
			case n == "":
				t.Errorf("%s imports %s, which no rule of depsRules names", f.path, imp)
			case !allowed[n]:
				t.Errorf("%s imports %s: depsRules does not allow %s to import %s", f.path, imp, pkg, n)
			}
		}
		if !under(f.pkg, "cmd") && !isTestSupport {
			checkNoOutput(t, f)
		}
	}
	for n := range g {
		if first, _, _ := strings.Cut(n, "/"); !strings.Contains(first, ".") && n != strings.ToUpper(n) && !pkgs[n] {
			t.Errorf("depsRules names %s, which is no package of the module", n)
		}
	}
}

// TestDepsRulesRefuse pins edges the lattice must not allow: a change to
// depsRules that allows one of them fails here.
func TestDepsRulesRefuse(t *testing.T) {
	g := parseDepsRules(t, depsRules)
	for _, e := range [][2]string{
		{"tui", "repair"}, {"repair", "tui"}, {"compare", "replay/serve"}, {"compare", "repair"},
		{"inspect", "repair"}, {"inspect", "compare"}, {"inspect", "tui"}, {"replay", "inspect"},
		{"mvccview", "replay"}, {"walfmt", "snapfmt"}, {"snapfmt", "boltfmt"}, {"boltfmt", "walfmt"},
		{"walfmt", "mvccview"}, {"walfmt", "internal/datadir"}, {"internal/problem", "walfmt"}, {"finding", "internal/problem"}, {"tui", "replay/serve"},
		{"tui", "github.com/spf13/cobra"}, {"repair", "charm.land/..."}, {"inspect", "github.com/olekukonko/tablewriter"},
		{"replay", "google.golang.org/grpc/..."}, {"mvccview", "go.etcd.io/etcd/server/v3/..."},
		{"tui", "cmd/etcdscope/cli"}, {"repair", "internal/etcdtest"},
	} {
		if g.allowed(t, e[0])[e[1]] {
			t.Errorf("depsRules allows %s to import %s", e[0], e[1])
		}
	}
	for _, e := range [][2]string{{"repair", "inspect"}, {"tui", "inspect"}, {"inspect", "mvccview"}, {"compare", "replay"}, {"walfmt", "STD"}, {"walfmt", "internal/problem"}, {"boltfmt", "finding"}} {
		if !g.allowed(t, e[0])[e[1]] {
			t.Errorf("depsRules does not allow %s to import %s", e[0], e[1])
		}
	}
}

func imports(f pkgFile, path string) bool {
	for _, imp := range f.imports {
		if imp == path {
			return true
		}
	}
	return false
}

// checkNoOutput fails for a library file that writes to stdout or stderr,
// exits or logs.
func checkNoOutput(t *testing.T, f pkgFile) {
	ast.Inspect(f.file, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		id, ok := sel.X.(*ast.Ident)
		if !ok {
			return true
		}
		bad := ""
		switch {
		case id.Name == "os" && imports(f, "os") && (sel.Sel.Name == "Stdout" || sel.Sel.Name == "Stderr" || sel.Sel.Name == "Exit"):
			bad = "os." + sel.Sel.Name
		case id.Name == "log" && imports(f, "log"):
			bad = "log." + sel.Sel.Name
		case id.Name == "fmt" && imports(f, "fmt") && strings.HasPrefix(sel.Sel.Name, "Print"):
			bad = "fmt." + sel.Sel.Name
		}
		if bad != "" {
			t.Errorf("%s: %s: library packages do not print, exit or log", f.fset.Position(sel.Pos()), bad)
		}
		return true
	})
}
