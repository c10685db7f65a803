package exec

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestInputsKnowsEveryNode: every type of this package with a planNode
// method is known to Inputs and ShallowCopy, so that the planner's passes,
// which walk plans through them, never meet a node they cannot descend.
func TestInputsKnowsEveryNode(t *testing.T) {
	nodes := []Node{&Scan{}, &Values{}, &Filter{}, &Project{}, &ProjectSet{}, &Aggregate{}, &Sort{},
		&Limit{}, &Window{}, &GroupTopN{}, &TimeWindow{}, &SessionWindow{}, &TemporalFilter{},
		&Join{}, &Union{}, &SetOp{}}
	var listed []string
	for _, n := range nodes {
		listed = append(listed, reflect.TypeOf(n).Elem().Name())
		ins := Inputs(n)
		for _, in := range ins {
			if *in != nil {
				t.Errorf("%T: an input of a zero node is not nil", n)
			}
		}
		c := ShallowCopy(n)
		if reflect.TypeOf(c) != reflect.TypeOf(n) || c == n {
			t.Errorf("ShallowCopy(%T) = %T (same pointer: %v)", n, c, c == n)
		}
		if len(Inputs(c)) != len(ins) {
			t.Errorf("%T: the copy has %d inputs, the node %d", n, len(Inputs(c)), len(ins))
		}
	}
	var declared []string
	fset := token.NewFileSet()
	ents, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, e.Name(), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Name.Name != "planNode" || fd.Recv == nil {
				continue
			}
			if star, ok := fd.Recv.List[0].Type.(*ast.StarExpr); ok {
				if id, ok := star.X.(*ast.Ident); ok {
					declared = append(declared, id.Name)
				}
			}
		}
	}
	slices.Sort(listed)
	slices.Sort(declared)
	if !slices.Equal(listed, declared) {
		t.Fatalf("plan node types %v, but Inputs and ShallowCopy are tested for %v: add the new ones to both and to this test", declared, listed)
	}
}
