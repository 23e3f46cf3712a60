package etcdscope_test

// These tests hold the shape issue 13 set for the code: commands stay thin
// and functions short. They read the source as text, like deps_test.go.

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	maxCLILines   = 3000 // non-test lines of cmd/etcdscope/cli
	maxFuncLines  = 120  // lines of any non-test function, but the test harness's
	harnessExempt = "internal/etcdtest"
)

// sourceFiles calls fn for every non-test Go file of the module outside
// testdata and hidden directories.
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

func TestCLIIsThin(t *testing.T) {
	lines := 0
	sourceFiles(t, func(p string, src []byte) {
		if filepath.Dir(p) == "cmd/etcdscope/cli" {
			lines += bytes.Count(src, []byte("\n"))
		}
	})
	if lines > maxCLILines {
		t.Errorf("cmd/etcdscope/cli has %d non-test lines, more than %d: move logic into the library packages", lines, maxCLILines)
	}
	t.Logf("cmd/etcdscope/cli: %d non-test lines", lines)
}

func TestFunctionsAreShort(t *testing.T) {
	longest, where := 0, ""
	sourceFiles(t, func(p string, src []byte) {
		if strings.HasPrefix(p, harnessExempt+"/") {
			return
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, p, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			start, end := fset.Position(fd.Pos()), fset.Position(fd.End())
			n := end.Line - start.Line + 1
			if n > maxFuncLines {
				t.Errorf("%s:%d: %s is %d lines, more than %d", p, start.Line, fd.Name.Name, n, maxFuncLines)
			}
			if n > longest {
				longest, where = n, p+" "+fd.Name.Name
			}
		}
	})
	t.Logf("longest function: %s, %d lines", where, longest)
}
