package planner

import (
	"strconv"

	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/sql"
)

// DISTINCT ON (d, ...) keeps the first row of each group of equal d in the
// query's ORDER BY: a per-partition Top-1, which is what GroupTopN keeps
// (row_number() OVER (PARTITION BY d ORDER BY ...) = 1), maintained
// incrementally like any per-group Top-N. The outputs are projected with
// the DISTINCT ON and ORDER BY expressions they lack as hidden columns; the
// GroupTopN partitions by the one and sorts by the other; the final ORDER BY
// and LIMIT sort by the same hidden columns and drop them.

// distinctOnPlan is what planSimple leaves for planOrderLimit: the sort keys
// of the ORDER BY over the GroupTopN's columns, and how many of those
// columns are the query's outputs.
type distinctOnPlan struct {
	top   exec.Node // the GroupTopN
	keys  []exec.SortKey
	nOuts int
}

// planDistinctOn plans DISTINCT ON over the projection of outs (exprs, over
// node in scope cur). It returns the projection of the outputs of the first
// row of each group.
func (b *binder) planDistinctOn(sel *sql.Select, outs []output, exprs []expr.Expr, node exec.Node, cur *scope, agg *postAgg, win map[string]*expr.ColRef) (exec.Node, *distinctOnPlan, error) {
	n := len(exprs)
	ext := append([]expr.Expr(nil), exprs...)
	var extraAST []sql.Expr // the hidden columns' expressions, to name each once
	// column finds the column an item names, as PostgreSQL does for ORDER
	// BY: an output position, an output name, an output's expression, or
	// else an expression over the FROM, added as a hidden column.
	column := func(e sql.Expr, clause string) (int, error) {
		if lit, ok := e.(*sql.Literal); ok && lit.Kind == sql.LitInteger {
			i, err := strconv.Atoi(lit.Value)
			if err != nil || i < 1 || i > n {
				return 0, b.errAt(lit.Pos, pgerr.InvalidColumnReference, "%s position %s is not in select list", clause, lit.Value)
			}
			return i - 1, nil
		}
		if ref, ok := e.(*sql.ColumnRef); ok && len(ref.Names) == 1 && !ref.Star {
			found := -1
			for i, o := range outs {
				if o.name != ref.Names[0] {
					continue
				}
				if found >= 0 && exprKey(outs[found].ast) != exprKey(o.ast) {
					return 0, b.errAt(ref.Pos, pgerr.AmbiguousColumn, "%s %q is ambiguous", clause, ref.Names[0])
				}
				if found < 0 {
					found = i
				}
			}
			if found >= 0 {
				return found, nil
			}
		}
		k := exprKey(e)
		for i, o := range outs {
			if exprKey(o.ast) == k {
				return i, nil
			}
		}
		for i := n; i < len(ext); i++ {
			if exprKey(extraAST[i-n]) == k {
				return i, nil
			}
		}
		savedWin := b.winCols
		b.winCols = win
		x, err := b.bindExpr(e, cur, agg, clause)
		b.winCols = savedWin
		if err != nil {
			return 0, err
		}
		ext = append(ext, x)
		extraAST = append(extraAST, e)
		return len(ext) - 1, nil
	}
	var part []int
	inPart := map[int]bool{}
	for _, d := range sel.DistinctOn {
		c, err := column(d, "DISTINCT ON")
		if err != nil {
			return nil, nil, err
		}
		if !inPart[c] {
			part = append(part, c)
			inPart[c] = true
		}
	}
	var keys []exec.SortKey
	skipped := false
	for _, item := range sel.OrderBy {
		if item.Dir == sql.SortUsing {
			return nil, nil, b.errAt(item.Pos, pgerr.FeatureNotSupported, "ORDER BY ... USING is not supported")
		}
		c, err := column(item.Expr, "ORDER BY")
		if err != nil {
			return nil, nil, err
		}
		// PostgreSQL: the DISTINCT ON expressions must lead the ORDER BY.
		if !inPart[c] {
			skipped = true
		} else if skipped {
			return nil, nil, b.errAt(sel.DistinctOn[0].Position(), pgerr.InvalidColumnReference, "SELECT DISTINCT ON expressions must match initial ORDER BY expressions")
		}
		k := exec.SortKey{Col: c, Desc: item.Dir == sql.SortDesc}
		k.NullsFirst = k.Desc
		switch item.Nulls {
		case sql.NullsFirst:
			k.NullsFirst = true
		case sql.NullsLast:
			k.NullsFirst = false
		}
		keys = append(keys, k)
	}
	top := &exec.GroupTopN{
		Input:       &exec.Project{Input: b.attachPending(node), Exprs: ext},
		PartitionBy: part, OrderBy: keys, Func: exec.WinRowNumber, Lo: 1, Hi: 1,
	}
	cols := top.Columns()
	outExprs := make([]expr.Expr, n)
	for i := range outExprs {
		outExprs[i] = &expr.ColRef{Idx: i, T: cols[i]}
	}
	return &exec.Project{Input: top, Exprs: outExprs}, &distinctOnPlan{top: top, keys: keys, nOuts: n}, nil
}

// planDistinctOnOrderLimit is planOrderLimit for DISTINCT ON: it sorts the
// GroupTopN's rows by the ORDER BY already bound to its columns and keeps
// the outputs.
func (b *binder) planDistinctOnOrderLimit(sel *sql.Select, rel *relation, d *distinctOnPlan, forView bool) (*relation, error) {
	if sel.Limit == nil && sel.Offset == nil && (forView || len(d.keys) == 0) {
		return rel, nil
	}
	node := rel.node
	if len(d.keys) > 0 && !(forView && sel.Limit == nil && sel.Offset == nil) {
		node = &exec.Sort{Input: d.top, Keys: d.keys, Keep: d.nOuts}
	}
	node, err := b.limit(sel, node)
	if err != nil {
		return nil, err
	}
	return &relation{node: node, scope: rel.scope}, nil
}
