package exec

import (
	"reflect"
	"slices"

	"github.com/kappa-db/kappa/expr"
)

// AggShare says that an Aggregate of a plan computes what an earlier one
// of the same plan computes, up to the order of its group columns: the two
// group the same rows (the same stateless subtree over the same relations)
// by the same columns and compute the same aggregates. A dataflow or query
// then runs the earlier one only and hands its output to both consumers
// (graph.go: a tap), so the later one keeps no state and its input is not
// read twice. Nexmark q5 counts bids per (window, auction) twice, once
// grouped by window_start, auction and once by auction, window_start.
type AggShare struct {
	// Of is the position, among the plan's Aggregates in pre-order (left
	// before right, as Inputs walks), of the one whose output this one
	// takes; -1 when it computes its own.
	Of int
	// Cols maps this Aggregate's output columns to the shared one's:
	// column i is column Cols[i] there.
	Cols []int
}

// SharedAggregates returns, for each Aggregate of plan in pre-order, the
// earlier Aggregate it shares, if any (Of -1 otherwise). EXPLAIN shows it and
// the dataflow builds it, so a view's plan fingerprint says whether its
// state holds one copy or two.
func SharedAggregates(plan Node) []AggShare {
	var aggs []*Aggregate
	var walk func(n Node)
	walk = func(n Node) {
		if a, ok := n.(*Aggregate); ok {
			aggs = append(aggs, a)
		}
		for _, in := range Inputs(n) {
			walk(*in)
		}
	}
	walk(plan)
	out := make([]AggShare, len(aggs))
	for i, a := range aggs {
		out[i].Of = -1
		for j := range i {
			if out[j].Of >= 0 {
				continue // share with the first of equal ones
			}
			if cols, ok := sameAggregate(aggs[j], a); ok {
				out[i] = AggShare{Of: j, Cols: cols}
				break
			}
		}
	}
	return out
}

// sameAggregate says whether b computes what a computes up to the order of
// its group columns, and how b's output columns map to a's.
func sameAggregate(a, b *Aggregate) ([]int, bool) {
	if a.Session || b.Session || a.GroupingSets != nil || b.GroupingSets != nil ||
		a.EmitOnWindowClose != b.EmitOnWindowClose || a.InputAppendOnly != b.InputAppendOnly ||
		len(a.GroupBy) != len(b.GroupBy) || len(a.Aggs) != len(b.Aggs) || len(a.Types) != len(b.Types) ||
		len(a.Types) != len(a.GroupBy)+len(a.Aggs) {
		return nil, false
	}
	// Each input, seen through a projection: the rows below it and, per
	// input column, the expression over them that makes it.
	xa, da := underProject(a.Input)
	xb, db := underProject(b.Input)
	if !samePlan(xa, xb) {
		return nil, false
	}
	sameCol := func(ca, cb int) bool {
		return ca >= 0 && cb >= 0 && ca < len(da) && cb < len(db) && sameExpr(da[ca], db[cb])
	}
	for i, c := range a.GroupBy {
		for _, d := range a.GroupBy[:i] {
			if c == d || c < 0 || c >= len(da) || sameExpr(da[c], da[d]) {
				return nil, false // a column twice: which one b's is would be a guess
			}
		}
	}
	cols := make([]int, len(b.Types))
	for i, c := range b.GroupBy {
		k := slices.IndexFunc(a.GroupBy, func(ca int) bool { return sameCol(ca, c) })
		if k < 0 || slices.Contains(cols[:i], k) {
			return nil, false
		}
		cols[i] = k
	}
	for j := range a.Aggs {
		ca, cb := &a.Aggs[j], &b.Aggs[j]
		if ca.Func != cb.Func || ca.Distinct != cb.Distinct || ca.HasFilter != cb.HasFilter ||
			!reflect.DeepEqual(ca.Type, cb.Type) || !reflect.DeepEqual(ca.Fraction, cb.Fraction) ||
			len(ca.Args) != len(cb.Args) || len(ca.OrderBy) != len(cb.OrderBy) {
			return nil, false
		}
		if (ca.Arg < 0) != (cb.Arg < 0) || (ca.Arg >= 0 && !sameCol(ca.Arg, cb.Arg)) {
			return nil, false
		}
		if ca.HasFilter && !sameCol(ca.FilterCol, cb.FilterCol) {
			return nil, false
		}
		for k := range ca.Args {
			if !sameCol(ca.Args[k], cb.Args[k]) {
				return nil, false
			}
		}
		for k, o := range ca.OrderBy {
			p := cb.OrderBy[k]
			if o.Desc != p.Desc || o.NullsFirst != p.NullsFirst || !sameCol(o.Col, p.Col) {
				return nil, false
			}
		}
		cols[len(b.GroupBy)+j] = len(a.GroupBy) + j
	}
	for i, k := range cols {
		if !reflect.DeepEqual(b.Types[i], a.Types[k]) {
			return nil, false
		}
	}
	return cols, true
}

// underProject sees through a projection of deterministic expressions:
// the node below it and, per column of n, the expression over that node's
// rows that makes it (a column reference for n itself).
func underProject(n Node) (Node, []expr.Expr) {
	if p, ok := n.(*Project); ok && sameExprs(p.Exprs, p.Exprs) {
		return p.Input, p.Exprs
	}
	ts := n.Columns()
	defs := make([]expr.Expr, len(ts))
	for i, t := range ts {
		defs[i] = &expr.ColRef{Idx: i, T: t}
	}
	return n, defs
}

// samePlan says a and b are stateless subtrees (scans, filters,
// projections, TUMBLE and HOP) that make the same rows: the same relations,
// the same deterministic expressions.
func samePlan(a, b Node) bool {
	switch x := a.(type) {
	case *Scan:
		y, ok := b.(*Scan)
		return ok && x.Kind == y.Kind && x.Rel == y.Rel && x.PointGet == y.PointGet &&
			reflect.DeepEqual(x.Types, y.Types) && reflect.DeepEqual(x.Watermark, y.Watermark) &&
			len(x.KeyPrefix) == len(y.KeyPrefix) && sameExprs(x.KeyPrefix, y.KeyPrefix)
	case *Filter:
		y, ok := b.(*Filter)
		return ok && sameExprs([]expr.Expr{x.Pred}, []expr.Expr{y.Pred}) && samePlan(x.Input, y.Input)
	case *Project:
		y, ok := b.(*Project)
		return ok && len(x.Exprs) == len(y.Exprs) && sameExprs(x.Exprs, y.Exprs) && samePlan(x.Input, y.Input)
	case *TimeWindow:
		y, ok := b.(*TimeWindow)
		return ok && x.TimeCol == y.TimeCol && x.Size == y.Size && x.Slide == y.Slide && x.Offset == y.Offset &&
			samePlan(x.Input, y.Input)
	}
	return false
}

// sameExprs says the expressions are deterministic and equal (sameExpr).
func sameExprs(a, b []expr.Expr) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !deterministic(a[i]) || !sameExpr(a[i], b[i]) {
			return false
		}
	}
	return true
}

// sameExpr says a and b compute the same value from the same row: the same
// tree of the same functions, columns and constants (column names, which
// only EXPLAIN shows, aside). It knows the expressions deterministic knows.
func sameExpr(a, b expr.Expr) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	switch x := a.(type) {
	case *expr.ColRef:
		y, ok := b.(*expr.ColRef)
		return ok && x.Idx == y.Idx && reflect.DeepEqual(x.T, y.T)
	case *expr.Const:
		y, ok := b.(*expr.Const)
		return ok && reflect.DeepEqual(x.T, y.T) && reflect.DeepEqual(x.V, y.V)
	case *expr.Param:
		y, ok := b.(*expr.Param)
		return ok && x.Idx == y.Idx && reflect.DeepEqual(x.T, y.T)
	case *expr.Call:
		y, ok := b.(*expr.Call)
		return ok && sameFunc(x.Fn, y.Fn) && sameExprList(x.Args, y.Args)
	case *expr.And:
		y, ok := b.(*expr.And)
		return ok && sameExprList(x.Args, y.Args)
	case *expr.Or:
		y, ok := b.(*expr.Or)
		return ok && sameExprList(x.Args, y.Args)
	case *expr.Not:
		y, ok := b.(*expr.Not)
		return ok && sameExpr(x.Arg, y.Arg)
	case *expr.IsNull:
		y, ok := b.(*expr.IsNull)
		return ok && x.Negate == y.Negate && sameExpr(x.Arg, y.Arg)
	case *expr.IsBool:
		y, ok := b.(*expr.IsBool)
		return ok && x.Want == y.Want && x.Negate == y.Negate && sameExpr(x.Arg, y.Arg)
	case *expr.IsDistinct:
		y, ok := b.(*expr.IsDistinct)
		return ok && x.Negate == y.Negate && sameFunc(x.Cmp, y.Cmp) && sameExpr(x.L, y.L) && sameExpr(x.R, y.R)
	case *expr.Case:
		y, ok := b.(*expr.Case)
		if !ok || len(x.Whens) != len(y.Whens) || !reflect.DeepEqual(x.T, y.T) || !sameExpr(x.Else, y.Else) {
			return false
		}
		for i, w := range x.Whens {
			if !sameExpr(w.Cond, y.Whens[i].Cond) || !sameExpr(w.Then, y.Whens[i].Then) {
				return false
			}
		}
		return true
	case *expr.Coalesce:
		y, ok := b.(*expr.Coalesce)
		return ok && reflect.DeepEqual(x.T, y.T) && sameExprList(x.Args, y.Args)
	case *expr.NullIf:
		y, ok := b.(*expr.NullIf)
		return ok && sameFunc(x.Eq, y.Eq) && sameExpr(x.L, y.L) && sameExpr(x.R, y.R)
	case *expr.Greatest:
		y, ok := b.(*expr.Greatest)
		return ok && x.Least == y.Least && reflect.DeepEqual(x.T, y.T) && sameExprList(x.Args, y.Args)
	case *expr.InList:
		y, ok := b.(*expr.InList)
		return ok && x.Negate == y.Negate && sameFunc(x.Eq, y.Eq) && sameExpr(x.Arg, y.Arg) && sameExprList(x.List, y.List)
	case *expr.ScalarArrayOp:
		y, ok := b.(*expr.ScalarArrayOp)
		return ok && x.All == y.All && sameFunc(x.Cmp, y.Cmp) && sameExpr(x.Arg, y.Arg) && sameExpr(x.Array, y.Array)
	case *expr.Cast:
		y, ok := b.(*expr.Cast)
		return ok && x.Explicit == y.Explicit && reflect.DeepEqual(x.To, y.To) && sameExpr(x.Arg, y.Arg)
	}
	return false
}

func sameExprList(a, b []expr.Expr) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameExpr(a[i], b[i]) {
			return false
		}
	}
	return true
}

// sameFunc says f and g are one function: the same overload (the planner
// may make a function value per call site), with the same code.
func sameFunc(f, g *expr.Func) bool {
	if f == g {
		return true
	}
	if f == nil || g == nil || f.Volatile || g.Volatile {
		return false
	}
	code := func(fn any) uintptr {
		v := reflect.ValueOf(fn)
		if v.IsNil() {
			return 0
		}
		return v.Pointer()
	}
	return f.Name == g.Name && f.Variadic == g.Variadic && f.Strict == g.Strict &&
		reflect.DeepEqual(f.Args, g.Args) && reflect.DeepEqual(f.Ret, g.Ret) &&
		code(f.Eval) == code(g.Eval) && code(f.Eval1) == code(g.Eval1) && code(f.Eval2) == code(g.Eval2)
}

// deterministic says e is made of expressions it knows, with no volatile
// call (random(), a subquery).
func deterministic(e expr.Expr) bool {
	switch x := e.(type) {
	case *expr.ColRef, *expr.Const, *expr.Param:
		return true
	case *expr.Call:
		if x.Fn == nil || x.Fn.Volatile {
			return false
		}
	}
	kids, ok := exprKids(e)
	if !ok {
		return false
	}
	for _, k := range kids {
		if !deterministic(k) {
			return false
		}
	}
	return true
}
