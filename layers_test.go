package redline

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLayers: the root package reaches the node and connection layers only through
// the engine (internal/cluster), as docs/DESIGN.md says: none of its files imports
// internal/node or internal/conn.
func TestLayers(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasSuffix(p, "/internal/node") || strings.HasSuffix(p, "/internal/conn") {
				t.Errorf("%s imports %s: the root package goes through internal/cluster", f, p)
			}
		}
	}
}
