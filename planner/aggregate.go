package planner

import (
	"slices"
	"strconv"

	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/sql"
	"github.com/kappa-db/kappa/types"
)

// planAggregate plans GROUP BY and the aggregates of a SELECT as
// Project(group exprs, aggregate args) → Aggregate, and returns the context
// in which the SELECT list, HAVING and ORDER BY are bound above it.
func (b *binder) planAggregate(sel *sql.Select, targets []*sql.Target, in *scope, node exec.Node) (exec.Node, *postAgg, error) {
	agg := &postAgg{groupKeys: map[string]int{}, aggKeys: map[string]int{}, inScope: in, groupCols: map[int]int{}}
	var pre []expr.Expr
	aggScope := &scope{}
	sets, err := b.expandGroupBy(sel.GroupBy)
	if err != nil {
		return nil, nil, err
	}
	// Each distinct grouping expression is one column; a grouping set is a
	// list of those columns.
	setCols := make([][]int, len(sets))
	for si, set := range sets {
		for _, g := range set {
			g = b.resolveGroupItem(g, targets, in)
			if containsAggregate(g) {
				return nil, nil, b.errAt(firstAggregatePos(g), pgerr.GroupingError, "aggregate functions are not allowed in GROUP BY")
			}
			k := exprKey(g)
			idx, dup := agg.groupKeys[k]
			if !dup {
				e, err := b.bindExpr(g, in, nil, "GROUP BY")
				if err != nil {
					return nil, nil, err
				}
				if c, ok := e.(*expr.Const); ok && c.T.Kind == types.KindNull {
					if e, err = b.coerce(e, types.Text, g.Position(), ""); err != nil {
						return nil, nil, err
					}
				}
				idx = len(pre)
				agg.groupKeys[k] = idx
				col := column{name: "?column?", typ: e.Type()}
				if ref, ok := e.(*expr.ColRef); ok {
					agg.groupCols[ref.Idx] = idx
					col = column{table: in.cols[ref.Idx].table, name: in.cols[ref.Idx].name, typ: e.Type(), origin: in.cols[ref.Idx].origin}
				}
				pre = append(pre, e)
				aggScope.cols = append(aggScope.cols, col)
			}
			if !slices.Contains(setCols[si], idx) {
				setCols[si] = append(setCols[si], idx)
			}
		}
	}
	nGroup := len(pre)
	groupBy := make([]int, nGroup)
	for i := range groupBy {
		groupBy[i] = i
	}
	var groupingSets [][]int
	nOut := nGroup // output columns before the aggregates
	if len(sets) > 1 {
		groupingSets = setCols
		agg.sets, agg.setCol = setCols, nGroup
		aggScope.cols = append(aggScope.cols, column{name: "?grouping set?", typ: types.Int4, hidden: true})
		nOut++
	}

	// Collect the aggregate calls of the SELECT list, HAVING and ORDER BY.
	var calls []*sql.FuncCall
	collect := func(e sql.Expr) error {
		var err error
		walkExpr(e, func(x sql.Expr) bool {
			if err != nil {
				return false
			}
			f, ok := isAggregateCall(x)
			if !ok {
				return true
			}
			for _, a := range f.Args {
				if containsAggregate(a) {
					err = b.errAt(firstAggregatePos(a), pgerr.GroupingError, "aggregate function calls cannot be nested")
				}
			}
			calls = append(calls, f)
			return false
		})
		return err
	}
	for _, t := range targets {
		if err := collect(t.Expr); err != nil {
			return nil, nil, err
		}
	}
	if sel.Having != nil {
		if err := collect(sel.Having); err != nil {
			return nil, nil, err
		}
	}
	for _, o := range sel.OrderBy {
		if err := collect(o.Expr); err != nil {
			return nil, nil, err
		}
	}
	var aggs []exec.AggCall
	for _, f := range calls {
		k := exprKey(f)
		if _, dup := agg.aggKeys[k]; dup {
			continue
		}
		call, args, err := b.bindAggregate(f, in)
		if err != nil {
			return nil, nil, err
		}
		call = placeAggregate(call, len(pre))
		pre = append(pre, args...)
		agg.aggKeys[k] = nOut + len(aggs)
		aggs = append(aggs, call)
		aggScope.cols = append(aggScope.cols, column{name: f.Name, typ: call.Type})
	}
	agg.aggScope = aggScope
	aggNode := &exec.Aggregate{Input: &exec.Project{Input: b.attachPending(node), Exprs: pre}, GroupBy: groupBy, Aggs: aggs,
		GroupingSets: groupingSets, Types: aggScope.types()}
	return aggNode, agg, nil
}

// resolveGroupItem turns `GROUP BY 1` and `GROUP BY alias` into the SELECT
// list expression they name, as PostgreSQL does.
func (b *binder) resolveGroupItem(g sql.Expr, targets []*sql.Target, in *scope) sql.Expr {
	if lit, ok := g.(*sql.Literal); ok && lit.Kind == sql.LitInteger {
		if n, err := strconv.Atoi(lit.Value); err == nil && n >= 1 && n <= len(targets) {
			return targets[n-1].Expr
		}
		return g
	}
	if ref, ok := g.(*sql.ColumnRef); ok && len(ref.Names) == 1 && !ref.Star {
		for _, c := range in.cols {
			if c.name == ref.Names[0] {
				return g // input columns win over output names
			}
		}
		for _, t := range targets {
			if t.Alias == ref.Names[0] {
				return t.Expr
			}
		}
	}
	return g
}
