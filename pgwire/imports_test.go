package pgwire

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports enforces doc.go's rule: pgwire's non-test code imports no kappa
// package but pgerr, so the protocol layer cannot grow a dependency on the
// engine it serves.
func TestImports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	const kappa = "github.com/kappa-db/kappa/"
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(path, kappa) && path != kappa+"pgerr" {
				t.Errorf("%s imports %s; pgwire may import only pgerr from kappa", file, path)
			}
		}
	}
}
