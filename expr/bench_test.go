package expr

import (
	"testing"

	"github.com/kappa-db/kappa/types"
)

// arithExpr builds (#0 + #1) * 2 > #2 AND #3 / 2.5 < 100 over an int8 and
// float8 row, bound as the planner would.
func arithExpr(tb testing.TB) Expr {
	tb.Helper()
	a := &ColRef{Idx: 0, T: types.Int8, Name: "a"}
	b := &ColRef{Idx: 1, T: types.Int4, Name: "b"}
	c := &ColRef{Idx: 2, T: types.Int8, Name: "c"}
	f := &ColRef{Idx: 3, T: types.Float8, Name: "f"}
	must := func(e Expr, err error) Expr {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
		return e
	}
	sum := must(BindOperator("+", a, b))
	prod := must(BindOperator("*", sum, &Const{V: types.NewInt4(2), T: types.Int4}))
	gt := must(BindOperator(">", prod, c))
	div := must(BindOperator("/", f, &Const{V: types.NewFloat8(2.5), T: types.Float8}))
	lt := must(BindOperator("<", div, &Const{V: types.NewInt4(100), T: types.Int4}))
	return Fold(must(NewAnd(gt, lt)), nil)
}

var arithRow = types.Row{types.NewInt8(20), types.NewInt4(22), types.NewInt8(80), types.NewFloat8(99.5)}

func TestEvalArithDoesNotAllocate(t *testing.T) {
	e := arithExpr(t)
	ctx := &EvalContext{}
	v, err := e.Eval(ctx, arithRow)
	if err != nil || !v.Bool() {
		t.Fatalf("%s = %v, %v; want true", e, v, err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := e.Eval(ctx, arithRow); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%s: %v allocations per Eval, want 0", e, allocs)
	}
}

func BenchmarkEvalArith(b *testing.B) {
	e := arithExpr(b)
	ctx := &EvalContext{}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Eval(ctx, arithRow); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEvalLike(b *testing.B) {
	col := &ColRef{Idx: 0, T: types.Text, Name: "s"}
	e, err := BindOperator("~~", col, &Const{V: types.NewText("%needle%"), T: types.Unknown})
	if err != nil {
		b.Fatal(err)
	}
	row := types.Row{types.NewText("a haystack with a needle somewhere in the middle")}
	ctx := &EvalContext{}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Eval(ctx, row); err != nil {
			b.Fatal(err)
		}
	}
}
