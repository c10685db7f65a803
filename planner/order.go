package planner

import (
	"strconv"

	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/sql"
	"github.com/kappa-db/kappa/types"
)

// selectInfo is what planSimple leaves for ORDER BY: the bound SELECT list
// and the scope below it, so that ORDER BY may sort by expressions that are
// not selected.
type selectInfo struct {
	outs      []output
	in        *scope
	agg       *postAgg
	projected exec.Node
	distinct  bool
	win       map[string]*expr.ColRef // window calls' columns
	// distinctOn is set for SELECT DISTINCT ON, whose ORDER BY is bound
	// already (planDistinctOn).
	distinctOn *distinctOnPlan
}

func (b *binder) planOrderLimit(sel *sql.Select, rel *relation, forView bool) (*relation, error) {
	info := b.lastSelect
	b.lastSelect = nil
	// Scalar subqueries in ORDER BY are not supported: their relation would
	// have to join below the projection that is already planned.
	savedPending := b.pending
	b.pending = nil
	defer func() { b.pending = savedPending }()
	if sel.Values != nil {
		info = nil
	}
	if info != nil && info.distinctOn != nil {
		return b.planDistinctOnOrderLimit(sel, rel, info.distinctOn, forView)
	}
	if len(sel.OrderBy) == 0 && sel.Limit == nil && sel.Offset == nil {
		return rel, nil
	}
	if forView && sel.Limit == nil && sel.Offset == nil {
		// A view is a set: without LIMIT its ORDER BY has no effect on what
		// it stores. With LIMIT it is a Top-N, maintained incrementally.
		return rel, nil
	}
	node := rel.node
	ncols := len(rel.scope.cols)
	var keys []exec.SortKey
	var hidden []expr.Expr
	for _, item := range sel.OrderBy {
		if item.Dir == sql.SortUsing {
			return nil, b.errAt(item.Pos, pgerr.FeatureNotSupported, "ORDER BY ... USING is not supported")
		}
		col, err := b.orderColumn(item.Expr, rel, info, ncols, &hidden)
		if err != nil {
			return nil, err
		}
		k := exec.SortKey{Col: col, Desc: item.Dir == sql.SortDesc}
		k.NullsFirst = k.Desc
		switch item.Nulls {
		case sql.NullsFirst:
			k.NullsFirst = true
		case sql.NullsLast:
			k.NullsFirst = false
		}
		keys = append(keys, k)
	}
	keep := 0
	if len(hidden) > 0 {
		p := info.projected.(*exec.Project)
		node = &exec.Project{Input: b.attachPending(p.Input), Exprs: append(append([]expr.Expr(nil), p.Exprs...), hidden...)}
		keep = ncols
	}
	if len(keys) > 0 {
		node = &exec.Sort{Input: node, Keys: keys, Keep: keep}
	}
	node, err := b.limit(sel, node)
	if err != nil {
		return nil, err
	}
	return &relation{node: node, scope: rel.scope}, nil
}

// limit puts sel's LIMIT and OFFSET, if any, on node.
func (b *binder) limit(sel *sql.Select, node exec.Node) (exec.Node, error) {
	if sel.Limit == nil && sel.Offset == nil {
		return node, nil
	}
	l := &exec.Limit{Input: node}
	var err error
	if sel.Limit != nil {
		if l.Limit, err = b.bindCount(sel.Limit, "LIMIT"); err != nil {
			return nil, err
		}
	}
	if sel.Offset != nil {
		if l.Offset, err = b.bindCount(sel.Offset, "OFFSET"); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func (b *binder) bindCount(e sql.Expr, what string) (expr.Expr, error) {
	x, err := b.bindExpr(e, &scope{}, nil, what)
	if err != nil {
		return nil, err
	}
	return b.coerce(x, types.Int8, e.Position(), "argument of "+what)
}

// orderColumn finds (or adds, as a hidden column) the column an ORDER BY
// item sorts by.
func (b *binder) orderColumn(e sql.Expr, rel *relation, info *selectInfo, ncols int, hidden *[]expr.Expr) (int, error) {
	if lit, ok := e.(*sql.Literal); ok && lit.Kind == sql.LitInteger {
		n, err := strconv.Atoi(lit.Value)
		if err != nil || n < 1 || n > ncols {
			return 0, b.errAt(lit.Pos, pgerr.InvalidColumnReference, "ORDER BY position %s is not in select list", lit.Value)
		}
		return n - 1, nil
	}
	if ref, ok := e.(*sql.ColumnRef); ok && len(ref.Names) == 1 && !ref.Star {
		found := -1
		for i, c := range rel.scope.cols[:ncols] {
			if c.name == ref.Names[0] {
				if found >= 0 && (info == nil || exprKey(info.outs[found].ast) != exprKey(info.outs[i].ast)) {
					return 0, b.errAt(ref.Pos, pgerr.AmbiguousColumn, "ORDER BY %q is ambiguous", ref.Names[0])
				}
				if found < 0 {
					found = i
				}
			}
		}
		if found >= 0 {
			return found, nil
		}
	}
	if info == nil {
		return 0, b.errAt(e.Position(), pgerr.FeatureNotSupported, "ORDER BY over this query must name an output column")
	}
	k := exprKey(e)
	for i, o := range info.outs {
		if exprKey(o.ast) == k {
			return i, nil
		}
	}
	if info.distinct {
		return 0, b.errAt(e.Position(), pgerr.InvalidColumnReference, "for SELECT DISTINCT, ORDER BY expressions must appear in select list")
	}
	savedWin := b.winCols
	b.winCols = info.win
	x, err := b.bindExpr(e, info.in, info.agg, "ORDER BY")
	b.winCols = savedWin
	if err != nil {
		return 0, err
	}
	*hidden = append(*hidden, x)
	return ncols + len(*hidden) - 1, nil
}
