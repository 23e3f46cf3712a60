package etcdscope_test

// These tests hold the shape issue 13 set for the code: commands stay thin
// and functions short. They read the source as text, like deps_test.go.

import (
	"bytes"
	"go/ast"
	"path"
	"strings"
	"testing"
)

const (
	maxCLILines   = 3000 // non-test lines of cmd/etcdscope/cli
	maxFuncLines  = 120  // lines of any non-test function, but the test harness's
	harnessExempt = "internal/etcdtest"
)

func TestCLIIsThin(t *testing.T) {
	lines := 0
	sourceFiles(t, func(p string, src []byte) {
		if path.Dir(p) == "cmd/etcdscope/cli" {
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
	for _, pf := range loadFiles(t) {
		if strings.HasPrefix(pf.path, harnessExempt+"/") {
			continue
		}
		for _, d := range pf.file.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			start, end := pf.fset.Position(fd.Pos()), pf.fset.Position(fd.End())
			n := end.Line - start.Line + 1
			if n > maxFuncLines {
				t.Errorf("%s:%d: %s is %d lines, more than %d", pf.path, start.Line, fd.Name.Name, n, maxFuncLines)
			}
			if n > longest {
				longest, where = n, pf.path+" "+fd.Name.Name
			}
		}
	}
	t.Logf("longest function: %s, %d lines", where, longest)
}
