package planner

import (
	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/sql"
	"github.com/kappa-db/kappa/types"
)

var setOpNames = map[sql.SetOpKind]string{sql.SetOpUnion: "UNION", sql.SetOpIntersect: "INTERSECT", sql.SetOpExcept: "EXCEPT"}

// planSetOp plans UNION / INTERSECT / EXCEPT [ALL]. Columns are matched by
// position, take the left side's names, and are converted to a common type
// per column as PostgreSQL does.
func (b *binder) planSetOp(sel *sql.Select) (*relation, error) {
	name := setOpNames[sel.SetOp]
	b.setOpLeaf = isSimpleSelect(sel.Left)
	left, err := b.planSelect(sel.Left, false)
	b.setOpLeaf = false
	if err != nil {
		return nil, err
	}
	b.setOpLeaf = isSimpleSelect(sel.Right)
	right, err := b.planSelect(sel.Right, false)
	b.setOpLeaf = false
	if err != nil {
		return nil, err
	}
	lt, rt := left.node.Columns(), right.node.Columns()
	if len(lt) != len(rt) {
		return nil, b.errAt(sel.Right.Pos, pgerr.SyntaxError, "each %s query must have the same number of columns", name)
	}
	sc := &scope{}
	var lx, rx []expr.Expr
	convert := false
	for i := range lt {
		ts := []types.Type{}
		for _, t := range []types.Type{lt[i], rt[i]} {
			if t.Kind != types.KindNull {
				ts = append(ts, t)
			}
		}
		t, err := expr.CommonTypeIn(name, ts)
		if err != nil {
			return nil, withPos(err, b, sel.Right.Pos)
		}
		if t.Kind == types.KindNull {
			t = types.Text
		}
		l, err := b.coerce(&expr.ColRef{Idx: i, T: lt[i]}, t, sel.Pos, "")
		if err != nil {
			return nil, err
		}
		r, err := b.coerce(&expr.ColRef{Idx: i, T: rt[i]}, t, sel.Right.Pos, "")
		if err != nil {
			return nil, err
		}
		convert = convert || lt[i] != t || rt[i] != t
		lx, rx = append(lx, l), append(rx, r)
		sc.cols = append(sc.cols, column{name: left.scope.cols[i].name, typ: t})
	}
	ln, rn := left.node, right.node
	if convert {
		ln = &exec.Project{Input: ln, Exprs: lx}
		rn = &exec.Project{Input: rn, Exprs: rx}
	}
	var n exec.Node
	switch sel.SetOp {
	case sql.SetOpUnion:
		n = &exec.Union{Left: ln, Right: rn}
		if !sel.SetAll {
			all := make([]int, len(lt))
			for i := range all {
				all[i] = i
			}
			n = &exec.Aggregate{Input: n, GroupBy: all, Types: sc.types()}
		}
	case sql.SetOpIntersect:
		n = &exec.SetOp{Left: ln, Right: rn, Kind: exec.SetIntersect, All: sel.SetAll}
	case sql.SetOpExcept:
		n = &exec.SetOp{Left: ln, Right: rn, Kind: exec.SetExcept, All: sel.SetAll}
	}
	return &relation{node: n, scope: sc}, nil
}

// isSimpleSelect reports whether a set operation's branch is a plain
// SELECT ... FROM ..., whose unknown literals the set operation resolves
// (PostgreSQL's leaf queries analyzed without resolve_unknowns).
func isSimpleSelect(sel *sql.Select) bool {
	return sel.SetOp == sql.SetOpNone && sel.Values == nil
}
