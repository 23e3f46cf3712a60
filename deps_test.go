package etcdscope_test

// This test enforces the import rules of STYLE.md §3.1, in the manner of
// go/src/go/build/deps_test.go: it parses the imports of every non-test Go
// file and fails when a package imports what its layer may not.

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/etcdscope/etcdscope"

// formatAllowed is all a format decoder (walfmt, snapfmt, boltfmt) may
// import besides the standard library: protowire, raftpb, the error
// machinery the decoders share and the findings type whose severity it
// uses.
var formatAllowed = []string{
	"google.golang.org/protobuf/encoding/protowire",
	"go.etcd.io/raft/v3/raftpb",
	module + "/internal/problem",
	module + "/finding",
}

// leafAllowed is all the packages the format decoders import from this
// module may import besides the standard library, so that importing them
// never pulls more into a decoder.
var leafAllowed = map[string][]string{
	"internal/problem": {module + "/finding", module + "/internal/textfmt"},
	"internal/textfmt": nil,
	"finding":          nil,
}

// uiOnly are the libraries only cmd (and, for the charm ones, tui) may use.
var uiOnly = []string{
	"github.com/spf13/cobra",
	"github.com/spf13/pflag",
	"github.com/olekukonko/tablewriter",
	"github.com/charmbracelet/",
	"charm.land/",
}

// testOnly packages exist for tests and may be imported only by _test.go files.
var testOnly = []string{
	module + "/internal/etcdtest",
	module + "/internal/fixture",
	module + "/internal/benchutil",
	module + "/internal/replaytest",
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
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			return err
		}
		full, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			return err
		}
		pf := pkgFile{pkg: module, path: p, file: full, fset: fset}
		if dir := filepath.ToSlash(filepath.Dir(p)); dir != "." {
			pf.pkg = module + "/" + dir
		}
		for _, imp := range f.Imports {
			s, _ := strconv.Unquote(imp.Path.Value)
			pf.imports = append(pf.imports, s)
		}
		out = append(out, pf)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
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
	formats := []string{"walfmt", "snapfmt", "boltfmt"}
	for _, f := range files {
		isCmd := under(f.pkg, "cmd")
		isTUI := under(f.pkg, "tui")
		isTestSupport := hasPrefixAny(f.pkg, testOnly)
		for _, imp := range f.imports {
			switch {
			case strings.HasPrefix(imp, module+"/cmd") && !isCmd:
				t.Errorf("%s imports %s: nothing imports cmd", f.path, imp)
			case hasPrefixAny(imp, testOnly) && !isTestSupport:
				t.Errorf("%s imports %s, which only _test.go files may import", f.path, imp)
			case hasPrefixAny(imp, uiOnly) && !isCmd:
				if !(isTUI && (strings.HasPrefix(imp, "github.com/charmbracelet/") || strings.HasPrefix(imp, "charm.land/"))) {
					t.Errorf("%s imports %s: only cmd may use CLI and table libraries (tui: charm only)", f.path, imp)
				}
			case strings.HasPrefix(imp, "go.etcd.io/etcd/server/") && !isTestSupport:
				t.Errorf("%s imports %s: library code must not import etcd's server module", f.path, imp)
			case strings.HasPrefix(imp, "google.golang.org/grpc") || strings.HasPrefix(imp, "go.etcd.io/etcd/api/"):
				if !isCmd && !isTestSupport && !under(f.pkg, "replay/serve") {
					t.Errorf("%s imports %s: only replay/serve may import grpc and etcd api", f.path, imp)
				}
			}
		}
		for _, fm := range formats {
			if !under(f.pkg, fm) {
				continue
			}
			for _, imp := range f.imports {
				if !isStd(imp) && !hasPrefixAny(imp, formatAllowed) {
					t.Errorf("%s imports %s: format decoders import only the standard library, protowire, raftpb, internal/problem and finding", f.path, imp)
				}
			}
		}
		if allowed, ok := leafAllowed[strings.TrimPrefix(f.pkg, module+"/")]; ok {
			for _, imp := range f.imports {
				if !isStd(imp) && !slices.Contains(allowed, imp) {
					t.Errorf("%s imports %s: the format decoders import this package, so it imports only the standard library and %v", f.path, imp, allowed)
				}
			}
		}
		if !isCmd && !isTestSupport {
			checkNoOutput(t, f)
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
