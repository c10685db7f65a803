package planner

import (
	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/expr"
)

// computedKeys makes equalities of join j's condition whose sides are
// expressions over one input each (ev.id % 10 = s.k, lower(a.s) =
// lower(b.s), a.x + 1 = b.y) into hash keys: each input gets its key
// expressions projected as extra columns below the join, and a projection
// above drops them again. Left in ON they would make the join compare every
// pair of rows, and a view keep them all. It returns j itself when there is
// no such equality.
func computedKeys(j *exec.Join) exec.Node {
	if j.On == nil || j.NullSafe {
		return j
	}
	nl, nr := len(j.Left.Columns()), len(j.Right.Columns())
	var lk, rk, residual []expr.Expr
	for _, c := range conjuncts(j.On) {
		l, r, ok := crossEquality(c, nl)
		if !ok {
			residual = append(residual, c)
			continue
		}
		lk = append(lk, l)
		rk = append(rk, remapCols(r, func(i int) int { return i - nl }))
	}
	if len(lk) == 0 {
		return j
	}
	nj := &exec.Join{
		Kind:      j.Kind,
		LeftKeys:  append([]int(nil), j.LeftKeys...),
		RightKeys: append([]int(nil), j.RightKeys...),
	}
	// A side's key that is a column of its input is used as it is; the
	// others are computed by a projection that appends them.
	var lextra, rextra []expr.Expr
	keyCol := func(e expr.Expr, n int, extra *[]expr.Expr) int {
		if c, ok := e.(*expr.ColRef); ok {
			return c.Idx
		}
		*extra = append(*extra, e)
		return n + len(*extra) - 1
	}
	for i := range lk {
		nj.LeftKeys = append(nj.LeftKeys, keyCol(lk[i], nl, &lextra))
		nj.RightKeys = append(nj.RightKeys, keyCol(rk[i], nr, &rextra))
	}
	withKeys := func(in exec.Node, extra []expr.Expr) exec.Node {
		if len(extra) == 0 {
			return in
		}
		var cols []expr.Expr
		for i, t := range in.Columns() {
			cols = append(cols, &expr.ColRef{Idx: i, T: t})
		}
		return &exec.Project{Input: in, Exprs: append(cols, extra...)}
	}
	nj.Left, nj.Right = withKeys(j.Left, lextra), withKeys(j.Right, rextra)
	// The right input's columns move len(lextra) places along in the new
	// join.
	k := len(lextra)
	shift := func(i int) int {
		if i < nl {
			return i
		}
		return i + k
	}
	nj.On = remapCols(andOf(residual), shift)
	if len(lextra) == 0 && len(rextra) == 0 {
		return nj
	}
	var out []expr.Expr
	for i, t := range j.Columns() {
		out = append(out, &expr.ColRef{Idx: shift(i), T: t})
	}
	return &exec.Project{Input: nj, Exprs: out}
}

// crossEquality reports whether c is `x = y` with x over the left input's
// columns only and y over the right's only (either way round), usable as a
// hash key: the = holds exactly when the keys are equal, and neither side
// is volatile or a subquery. It returns the left side first.
func crossEquality(c expr.Expr, nl int) (l, r expr.Expr, ok bool) {
	call, isCall := c.(*expr.Call)
	if !isCall || call.Fn.Name != "=" || len(call.Args) != 2 {
		return nil, nil, false
	}
	side := func(e expr.Expr) int { // 0: left, 1: right, -1: neither or both
		refs := map[int]bool{}
		colRefs(e, refs)
		if len(refs) == 0 || volatile(e) || exprHasSubPlanIn(e) {
			return -1
		}
		s := -1
		for i := range refs {
			is := 0
			if i >= nl {
				is = 1
			}
			if s >= 0 && s != is {
				return -1
			}
			s = is
		}
		return s
	}
	l, r = call.Args[0], call.Args[1]
	sl, sr := side(l), side(r)
	if sl == 1 && sr == 0 {
		l, r, sl, sr = r, l, sr, sl
	}
	if sl != 0 || sr != 1 || !sameKeyEncoding(l.Type().Kind, r.Type().Kind) || !keyEquality(call) {
		return nil, nil, false
	}
	return l, r, true
}
