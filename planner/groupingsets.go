package planner

import (
	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/sql"
	"github.com/kappa-db/kappa/types"
)

// maxGroupingSets is PostgreSQL's limit.
const maxGroupingSets = 4096

// expandGroupBy turns a GROUP BY list into its grouping sets, as
// PostgreSQL does: each item gives a list of sets (a plain expression one
// set of itself, ROLLUP its prefixes, CUBE its subsets, GROUPING SETS the
// concatenation of its items' sets), and the list is their cross product.
// A plain GROUP BY is one set.
func (b *binder) expandGroupBy(items []sql.Expr) ([][]sql.Expr, error) {
	sets := [][]sql.Expr{nil}
	for _, it := range items {
		its, err := b.itemSets(it)
		if err != nil {
			return nil, err
		}
		if len(sets)*len(its) > maxGroupingSets {
			return nil, b.errAt(it.Position(), "54001", "too many grouping sets present (maximum %d)", maxGroupingSets)
		}
		var next [][]sql.Expr
		for _, s := range sets {
			for _, t := range its {
				next = append(next, append(append([]sql.Expr(nil), s...), t...))
			}
		}
		sets = next
	}
	return sets, nil
}

// itemSets expands one GROUP BY item.
func (b *binder) itemSets(it sql.Expr) ([][]sql.Expr, error) {
	if r, ok := it.(*sql.Row); ok && !r.Explicit {
		// `(a, b)` inside GROUPING SETS is one set of two columns.
		return [][]sql.Expr{flatSet(r)}, nil
	}
	gs, ok := it.(*sql.GroupingSet)
	if !ok {
		return [][]sql.Expr{{it}}, nil
	}
	switch gs.Kind {
	case sql.GroupingEmpty:
		return [][]sql.Expr{nil}, nil
	case sql.GroupingSimple:
		return [][]sql.Expr{flatSet(gs)}, nil
	case sql.GroupingRollup:
		var elems [][]sql.Expr
		for _, e := range gs.Items {
			elems = append(elems, flatSet(e))
		}
		out := make([][]sql.Expr, 0, len(elems)+1)
		for n := len(elems); n >= 0; n-- {
			var set []sql.Expr
			for _, e := range elems[:n] {
				set = append(set, e...)
			}
			out = append(out, set)
		}
		return out, nil
	case sql.GroupingCube:
		var elems [][]sql.Expr
		for _, e := range gs.Items {
			elems = append(elems, flatSet(e))
		}
		if len(elems) > 12 {
			return nil, b.errAt(gs.Pos, "54001", "CUBE is limited to 12 elements")
		}
		var out [][]sql.Expr
		for mask := (1 << len(elems)) - 1; mask >= 0; mask-- {
			var set []sql.Expr
			for i, e := range elems {
				if mask&(1<<(len(elems)-1-i)) != 0 {
					set = append(set, e...)
				}
			}
			out = append(out, set)
		}
		return out, nil
	}
	// GROUPING SETS (...): the concatenation of its items' sets.
	var out [][]sql.Expr
	for _, e := range gs.Items {
		s, err := b.itemSets(e)
		if err != nil {
			return nil, err
		}
		out = append(out, s...)
		if len(out) > maxGroupingSets {
			return nil, b.errAt(gs.Pos, "54001", "too many grouping sets present (maximum %d)", maxGroupingSets)
		}
	}
	return out, nil
}

// flatSet is the expressions of an element of ROLLUP or CUBE: one
// expression, or a parenthesized list.
func flatSet(e sql.Expr) []sql.Expr {
	if r, ok := e.(*sql.Row); ok && !r.Explicit {
		return r.Args
	}
	if gs, ok := e.(*sql.GroupingSet); ok {
		if gs.Kind == sql.GroupingEmpty {
			return nil
		}
		var out []sql.Expr
		for _, x := range gs.Items {
			out = append(out, flatSet(x)...)
		}
		return out
	}
	return []sql.Expr{e}
}

// bindGrouping binds grouping(a, b, ...): a bit per argument, the first
// the most significant, set when the row's grouping set leaves that
// argument out.
func (b *binder) bindGrouping(x *sql.FuncCall, agg *postAgg, where string) (expr.Expr, error) {
	if agg == nil {
		if where == "" || where == "SELECT" {
			return nil, b.errAt(x.Pos, pgerr.GroupingError, "arguments to GROUPING must be grouping expressions of the associated query level")
		}
		return nil, b.errAt(x.Pos, pgerr.GroupingError, "grouping operations are not allowed in %s", where)
	}
	if len(x.Args) == 0 || len(x.Args) > 31 {
		return nil, b.errAt(x.Pos, "54023", "GROUPING must have fewer than 32 arguments")
	}
	cols := make([]int, len(x.Args))
	for i, a := range x.Args {
		c, ok := agg.groupKeys[exprKey(a)]
		if !ok {
			if ref, isRef := a.(*sql.ColumnRef); isRef && !ref.Star {
				if in, err := b.resolve(agg.inScope, ref); err == nil {
					c, ok = agg.groupCols[in]
				}
			}
		}
		if !ok {
			return nil, b.errAt(a.Position(), pgerr.GroupingError, "arguments to GROUPING must be grouping expressions of the associated query level")
		}
		cols[i] = c
	}
	value := func(set []int) int64 {
		var v int64
		for _, c := range cols {
			v <<= 1
			in := false
			for _, s := range set {
				if s == c {
					in = true
				}
			}
			if !in {
				v |= 1
			}
		}
		return v
	}
	if agg.sets == nil {
		return &expr.Const{V: types.NewInt4(0), T: types.Int4}, nil
	}
	setRef := &expr.ColRef{Idx: agg.setCol, T: types.Int4}
	c := &expr.Case{T: types.Int4, Else: &expr.Const{V: types.Null, T: types.Int4}}
	for i, set := range agg.sets {
		cond, err := b.bindOperator("=", setRef, &expr.Const{V: types.NewInt4(int64(i)), T: types.Int4}, x.Pos)
		if err != nil {
			return nil, err
		}
		c.Whens = append(c.Whens, expr.When{Cond: cond, Then: &expr.Const{V: types.NewInt4(value(set)), T: types.Int4}})
	}
	return c, nil
}
