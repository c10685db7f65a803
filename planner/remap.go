package planner

import (
	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/expr"
)

// colRefs adds to set the input columns e reads.
func colRefs(e expr.Expr, set map[int]bool) {
	walkBound(e, func(x expr.Expr) {
		if c, ok := x.(*expr.ColRef); ok {
			set[c.Idx] = true
		}
	})
}

// walkBound calls fn for e and every expression below it.
// anyBound reports whether pred holds for e or any expression within it.
func anyBound(e expr.Expr, pred func(expr.Expr) bool) bool {
	found := false
	walkBound(e, func(x expr.Expr) {
		found = found || pred(x)
	})
	return found
}

func walkBound(e expr.Expr, fn func(expr.Expr)) {
	if e == nil {
		return
	}
	fn(e)
	for _, c := range children(e) {
		walkBound(c, fn)
	}
}

func children(e expr.Expr) []expr.Expr {
	switch x := e.(type) {
	case *expr.Call:
		return x.Args
	case *expr.And:
		return x.Args
	case *expr.Or:
		return x.Args
	case *expr.Not:
		return []expr.Expr{x.Arg}
	case *expr.IsNull:
		return []expr.Expr{x.Arg}
	case *expr.IsBool:
		return []expr.Expr{x.Arg}
	case *expr.IsDistinct:
		return []expr.Expr{x.L, x.R}
	case *expr.Case:
		var out []expr.Expr
		for _, w := range x.Whens {
			out = append(out, w.Cond, w.Then)
		}
		if x.Else != nil {
			out = append(out, x.Else)
		}
		return out
	case *expr.Coalesce:
		return x.Args
	case *expr.NullIf:
		return []expr.Expr{x.L, x.R}
	case *expr.Greatest:
		return x.Args
	case *expr.InList:
		return append([]expr.Expr{x.Arg}, x.List...)
	case *expr.ScalarArrayOp:
		return []expr.Expr{x.Arg, x.Array}
	case *expr.Cast:
		return []expr.Expr{x.Arg}
	case *expr.ArrayCtor:
		return x.Elems
	case *expr.Subscript:
		return []expr.Expr{x.Arr, x.Index}
	case *exec.SubPlan:
		return x.Args
	}
	return nil
}

// remapCols returns e with every column reference i replaced by f(i). The
// tree is rebuilt, not mutated: plans may share subtrees.
func remapCols(e expr.Expr, f func(int) int) expr.Expr {
	return rewriteExpr(e, func(x expr.Expr) expr.Expr {
		if c, ok := x.(*expr.ColRef); ok {
			return &expr.ColRef{Idx: f(c.Idx), T: c.T, Name: c.Name}
		}
		return nil
	})
}

// rewriteExpr returns e rebuilt bottom-up, with every node for which leaf
// returns non-nil replaced by that (leaf sees a node before its children,
// and a replaced node's children are not visited). The tree is rebuilt, not
// mutated: plans may share subtrees.
func rewriteExpr(e expr.Expr, leaf func(expr.Expr) expr.Expr) expr.Expr {
	if e == nil {
		return nil
	}
	if r := leaf(e); r != nil {
		return r
	}
	m := func(x expr.Expr) expr.Expr { return rewriteExpr(x, leaf) }
	ms := func(xs []expr.Expr) []expr.Expr {
		out := make([]expr.Expr, len(xs))
		for i, x := range xs {
			out[i] = m(x)
		}
		return out
	}
	switch x := e.(type) {
	case *expr.ColRef:
		return &expr.ColRef{Idx: x.Idx, T: x.T, Name: x.Name}
	case *expr.Call:
		return &expr.Call{Fn: x.Fn, Args: ms(x.Args)}
	case *expr.And:
		return &expr.And{Args: ms(x.Args)}
	case *expr.Or:
		return &expr.Or{Args: ms(x.Args)}
	case *expr.Not:
		return &expr.Not{Arg: m(x.Arg)}
	case *expr.IsNull:
		return &expr.IsNull{Arg: m(x.Arg), Negate: x.Negate}
	case *expr.IsBool:
		return &expr.IsBool{Arg: m(x.Arg), Want: x.Want, Negate: x.Negate}
	case *expr.IsDistinct:
		return &expr.IsDistinct{L: m(x.L), R: m(x.R), Negate: x.Negate, Cmp: x.Cmp}
	case *expr.Case:
		c := &expr.Case{T: x.T, Else: m(x.Else)}
		for _, w := range x.Whens {
			c.Whens = append(c.Whens, expr.When{Cond: m(w.Cond), Then: m(w.Then)})
		}
		return c
	case *expr.Coalesce:
		return &expr.Coalesce{Args: ms(x.Args), T: x.T}
	case *expr.NullIf:
		return &expr.NullIf{L: m(x.L), R: m(x.R), Eq: x.Eq}
	case *expr.Greatest:
		return &expr.Greatest{Args: ms(x.Args), T: x.T, Least: x.Least}
	case *expr.InList:
		return &expr.InList{Arg: m(x.Arg), List: ms(x.List), Negate: x.Negate, Eq: x.Eq}
	case *expr.ScalarArrayOp:
		return &expr.ScalarArrayOp{Arg: m(x.Arg), Array: m(x.Array), Cmp: x.Cmp, All: x.All}
	case *expr.Cast:
		return &expr.Cast{Arg: m(x.Arg), To: x.To, Explicit: x.Explicit}
	case *expr.ArrayCtor:
		return &expr.ArrayCtor{Elems: ms(x.Elems), T: x.T}
	case *expr.Subscript:
		return &expr.Subscript{Arr: m(x.Arr), Index: m(x.Index)}
	case *exec.SubPlan:
		return &exec.SubPlan{Plan: x.Plan, Args: ms(x.Args), Mode: x.Mode, T: x.T}
	}
	// Const, Param and anything without columns.
	return e
}

func andOf(es []expr.Expr) expr.Expr {
	switch len(es) {
	case 0:
		return nil
	case 1:
		return es[0]
	}
	return &expr.And{Args: es}
}
