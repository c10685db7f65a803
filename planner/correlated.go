package planner

import (
	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/sql"
	"github.com/kappa-db/kappa/types"
)

// correlatedScalar decorrelates a scalar subquery of the form
//
//	(SELECT agg(...) FROM f WHERE w)   -- w may name columns of the outer query
//
// into joins. With o the outer columns w names:
//
//	D   = SELECT DISTINCT o FROM <the outer input>
//	RES = SELECT D.*, agg(...) FROM D LEFT JOIN (f with a marker) ON w GROUP BY D.*
//	out = <outer input> JOIN RES ON o IS NOT DISTINCT FROM D.*
//
// count(*) counts the marker, so an outer row no inner row matches gets 0
// (and the other aggregates NULL), as PostgreSQL computes it. It reports ok
// = false when the subquery is not of that form, so the caller gives its
// own error.
func (b *binder) correlatedScalar(x *sql.ScalarSubquery, s *scope) (expr.Expr, bool, error) {
	q := x.Query
	if q.SetOp != sql.SetOpNone || q.Values != nil || len(q.GroupBy) > 0 || q.Having != nil || q.Limit != nil ||
		q.Offset != nil || q.With != nil || q.Distinct || len(q.Targets) != 1 || q.Where == nil {
		return nil, false, nil
	}
	call, ok := q.Targets[0].Expr.(*sql.FuncCall)
	if !ok {
		return nil, false, nil
	}
	if b.forView && containsSubquery(q.Where) {
		// Its subquery would be a SubPlan in the join's condition, which
		// a view cannot decorrelate; as a SubPlan of its own, the whole
		// subquery can be (decorrelate.go).
		return nil, false, nil
	}
	if _, isAgg := isAggregateCall(call); !isAgg {
		return nil, false, nil
	}
	inner, err := b.planFrom(q.From)
	if err != nil {
		return nil, false, nil
	}
	// The outer columns w names: those it cannot resolve inside.
	var outer []int
	seen := map[int]bool{}
	unresolved := false
	walkExpr(q.Where, func(e sql.Expr) bool {
		ref, ok := e.(*sql.ColumnRef)
		if !ok || ref.Star {
			return true
		}
		if _, err := b.resolve(inner.scope, ref); err == nil {
			return true
		}
		i, err := b.resolve(s, ref)
		if err != nil {
			unresolved = true
			return false
		}
		if !seen[i] {
			seen[i] = true
			outer = append(outer, i)
		}
		return true
	})
	if unresolved || len(outer) == 0 {
		return nil, false, nil
	}
	k := len(outer)
	// D's columns, named like the outer ones. Where an inner column has
	// the same name, the inner one wins an unqualified reference (SQL's
	// rule), so the outer copy answers only qualified ones.
	innerNames := map[string]bool{}
	for _, c := range inner.scope.cols {
		innerNames[c.name] = true
	}
	dcols := make([]column, k)
	for i, o := range outer {
		dcols[i] = s.cols[o]
		dcols[i].hidden = innerNames[dcols[i].name]
	}
	// The inner side with a marker column that is never NULL.
	innerExprs := make([]expr.Expr, 0, len(inner.scope.cols)+1)
	for i, c := range inner.scope.cols {
		innerExprs = append(innerExprs, &expr.ColRef{Idx: i, T: c.typ, Name: c.name})
	}
	innerExprs = append(innerExprs, &expr.Const{V: types.NewBool(true), T: types.Bool})
	innerNode := &exec.Project{Input: inner.node, Exprs: innerExprs}
	combined := &scope{cols: append(append([]column(nil), dcols...), inner.scope.cols...)}
	combined.cols = append(combined.cols, column{name: "?marker?", typ: types.Bool, hidden: true})
	marker := len(combined.cols) - 1
	if containsAggregate(q.Where) {
		return nil, true, b.errAt(firstAggregatePos(q.Where), pgerr.GroupingError, "aggregate functions are not allowed in WHERE")
	}
	savedPending := b.pending
	b.pending = nil
	on, err := b.bindExpr(q.Where, combined, nil, "WHERE")
	if err == nil {
		on, err = b.coerce(on, types.Bool, q.Where.Position(), "argument of WHERE")
	}
	var agg exec.AggCall
	var args []expr.Expr
	if err == nil {
		agg, args, err = b.bindAggregate(call, combined)
	}
	b.pending = savedPending
	if err != nil {
		return nil, true, err
	}
	if agg.Func == exec.AggCountStar {
		// count(*) counts the rows the left join matched: its marker.
		agg.Func, agg.Arg = exec.AggCount, len(args)
		args = append(args, &expr.ColRef{Idx: marker, T: types.Bool})
	}
	if agg.Type.Kind == types.KindJSONB || agg.Type.Kind == types.KindArray {
		return nil, true, b.errAt(x.Pos, pgerr.FeatureNotSupported, "a scalar subquery of type %s is not supported yet", agg.Type)
	}
	idx := len(s.cols)
	for _, c := range dcols {
		s.cols = append(s.cols, column{name: c.name, typ: c.typ, hidden: true})
	}
	s.cols = append(s.cols, column{name: call.Name, typ: agg.Type, hidden: true})
	*b.pending = append(*b.pending, func(node exec.Node) exec.Node {
		// D: the distinct outer values, from the same input.
		dexprs := make([]expr.Expr, k)
		groupBy := make([]int, k)
		fromBase := b.pendingBase != nil
		for i, o := range outer {
			dexprs[i] = &expr.ColRef{Idx: o, T: s.cols[o].typ}
			groupBy[i] = i
			if b.pendingBase != nil && o >= len(b.pendingBase.Columns()) {
				// A lifted operand (subexpr.go) is its expression over
				// the base; any other later column is only in node.
				if e, ok := b.liftedExprs[s.cols[o].table]; ok {
					dexprs[i] = e
				} else {
					fromBase = false
				}
			}
		}
		if !fromBase {
			for i, o := range outer {
				dexprs[i] = &expr.ColRef{Idx: o, T: s.cols[o].typ}
			}
		}
		dtypes := make([]types.Type, k)
		for i, c := range dcols {
			dtypes[i] = c.typ
		}
		base := node
		if fromBase {
			base = cloneNode(b.pendingBase)
		}
		d := &exec.Aggregate{Input: &exec.Project{Input: base, Exprs: dexprs}, GroupBy: groupBy, Types: dtypes}
		j := &exec.Join{Left: d, Right: innerNode, Kind: exec.JoinLeft, On: on}
		splitJoinCondition(j, k)
		var pre []expr.Expr
		for i, c := range dcols {
			pre = append(pre, &expr.ColRef{Idx: i, T: c.typ})
		}
		a := placeAggregate(agg, k)
		pre = append(pre, args...)
		res := &exec.Aggregate{Input: &exec.Project{Input: j, Exprs: pre}, GroupBy: groupBy, Aggs: []exec.AggCall{a},
			Types: append(append([]types.Type(nil), dtypes...), agg.Type)}
		back := &exec.Join{Left: node, Right: res, Kind: exec.JoinInner, NullSafe: true}
		back.LeftKeys = append(back.LeftKeys, outer...)
		back.RightKeys = append(back.RightKeys, groupBy...)
		return back
	})
	return &expr.ColRef{Idx: idx + k, T: agg.Type, Name: call.Name}, true, nil
}

// containsSubquery reports whether e has a subquery in it.
func containsSubquery(e sql.Expr) bool {
	found := false
	walkExpr(e, func(x sql.Expr) bool {
		switch x.(type) {
		case *sql.ScalarSubquery, *sql.Exists, *sql.InSubquery, *sql.ArraySubquery:
			found = true
		case *sql.Quantified:
			found = found || x.(*sql.Quantified).Query != nil
		}
		return !found
	})
	return found
}
