package planner

import (
	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/expr"
)

// narrowJoinInputs gives each join of a view's plan, under a projection
// (and filters), only the input columns something reads: the projection,
// the filters, the join's keys and its condition. A join keeps both
// inputs' rows in its state, so columns nobody reads cost state bytes and
// encoding per row (Nexmark q7's bids carry url and extra to the join and
// back only to drop them). Joins elsewhere, and expressions of a kind
// whose column references this pass does not know, are left as they are.
func narrowJoinInputs(n exec.Node) exec.Node {
	for _, in := range exec.Inputs(n) {
		*in = narrowJoinInputs(*in)
	}
	p, ok := n.(*exec.Project)
	if !ok {
		return n
	}
	var filters []*exec.Filter
	below := p.Input
	for {
		f, ok := below.(*exec.Filter)
		if !ok {
			break
		}
		filters = append(filters, f)
		below = f.Input
	}
	j, ok := below.(*exec.Join)
	if !ok {
		return n
	}
	es := append([]expr.Expr(nil), p.Exprs...)
	for _, f := range filters {
		es = append(es, f.Pred)
	}
	onOK := j.On == nil || knownRefs(j.On)
	if !onOK {
		return n
	}
	for _, e := range es {
		if !knownRefs(e) {
			return n
		}
	}
	lt, rt := j.Left.Columns(), j.Right.Columns()
	nl := len(lt)
	used := map[int]bool{}
	names := map[int]string{}
	note := func(e expr.Expr) {
		walkBound(e, func(x expr.Expr) {
			if c, ok := x.(*expr.ColRef); ok {
				used[c.Idx] = true
				if c.Name != "" {
					names[c.Idx] = c.Name
				}
			}
		})
	}
	for _, e := range es {
		note(e)
	}
	note(j.On)
	for _, k := range j.LeftKeys {
		used[k] = true
	}
	for _, k := range j.RightKeys {
		used[nl+k] = true
	}
	// newIdx maps a column of the join's output to its place in the
	// narrowed output; keep lists the kept columns of each side.
	newIdx := make([]int, nl+len(rt))
	var keepL, keepR []int
	for i := range newIdx {
		if !used[i] {
			newIdx[i] = -1
			continue
		}
		if i < nl {
			newIdx[i] = len(keepL)
			keepL = append(keepL, i)
		} else {
			keepR = append(keepR, i-nl)
		}
	}
	if len(keepL) == nl && len(keepR) == len(rt) {
		return n
	}
	for _, r := range keepR {
		newIdx[nl+r] = len(keepL) + indexOf(keepR, r)
	}
	side := func(in exec.Node, keep []int, types int, base int) exec.Node {
		if len(keep) == types {
			return in
		}
		exprs := make([]expr.Expr, len(keep))
		ts := in.Columns()
		for i, c := range keep {
			exprs[i] = &expr.ColRef{Idx: c, T: ts[c], Name: names[base+c]}
		}
		return &exec.Project{Input: in, Exprs: exprs}
	}
	// Sides keep their own numbering only when nothing was dropped from
	// them; otherwise a side's column c becomes its position in keep.
	sideIdx := func(keep []int, c int) int { return indexOf(keep, c) }
	nj := exec.ShallowCopy(j).(*exec.Join)
	nj.Left = side(j.Left, keepL, nl, 0)
	nj.Right = side(j.Right, keepR, len(rt), nl)
	nj.LeftKeys = make([]int, len(j.LeftKeys))
	for i, k := range j.LeftKeys {
		nj.LeftKeys[i] = sideIdx(keepL, k)
	}
	nj.RightKeys = make([]int, len(j.RightKeys))
	for i, k := range j.RightKeys {
		nj.RightKeys[i] = sideIdx(keepR, k)
	}
	remap := func(i int) int { return newIdx[i] }
	nj.On = remapCols(j.On, remap)
	var top exec.Node = nj
	for i := len(filters) - 1; i >= 0; i-- {
		top = &exec.Filter{Input: top, Pred: remapCols(filters[i].Pred, remap)}
	}
	np := exec.ShallowCopy(p).(*exec.Project)
	np.Input = top
	np.Exprs = make([]expr.Expr, len(p.Exprs))
	for i, e := range p.Exprs {
		np.Exprs[i] = remapCols(e, remap)
	}
	return np
}

// setTimeBuckets marks every join of a view's plan for the time-bucketed
// layout of its forgetting sides.
func setTimeBuckets(n exec.Node) {
	if j, ok := n.(*exec.Join); ok {
		j.TimeBuckets = true
	}
	for _, in := range exec.Inputs(n) {
		setTimeBuckets(*in)
	}
}

// setJoinLookups makes, in each inner join of a view's plan, a side that
// is unique on its join keys (exec.UniqueOn: a keyed source, such as
// Nexmark's auctions joined on their id) the join's lookup table
// (exec.Join.Lookup): the other side's rows are then stored only until
// their partner comes.
//
// With hoist, the filters at the top of the lookup side move into the join
// (exec.Join.LookupFilter): the side then holds every row of the source,
// and a row of the other side whose partner the filter drops finds it and
// is not stored, instead of waiting for ever.
func setJoinLookups(n exec.Node, hoist bool) {
	if j, ok := n.(*exec.Join); ok && j.Kind == exec.JoinInner && !j.NullSafe && len(j.LeftKeys) > 0 {
		side := &j.Left
		switch {
		case exec.UniqueOn(j.Left, j.LeftKeys):
			j.Lookup = exec.LookupLeft
		case exec.UniqueOn(j.Right, j.RightKeys):
			j.Lookup, side = exec.LookupRight, &j.Right
		}
		if j.Lookup != exec.LookupNone && hoist {
			*side, j.LookupFilter = hoistFilters(*side)
		}
	}
	for _, in := range exec.Inputs(n) {
		setJoinLookups(*in, hoist)
	}
}

// hoistFilters takes the filters off the top of n: Filters, under a
// Project when every column they read is one the Project passes on. It
// returns n without them and their condition over n's columns (nil: none
// taken). Nodes are copied, not changed: plans may share subtrees.
func hoistFilters(n exec.Node) (exec.Node, expr.Expr) {
	switch x := n.(type) {
	case *exec.Filter:
		if !knownRefs(x.Pred) {
			return n, nil
		}
		in, p := hoistFilters(x.Input)
		if p == nil {
			return in, x.Pred
		}
		return in, andOf([]expr.Expr{p, x.Pred})
	case *exec.Project:
		if _, ok := x.Input.(*exec.Filter); !ok {
			return n, nil
		}
		in, p := hoistFilters(x.Input)
		if p == nil {
			return n, nil
		}
		// p reads the Filter's columns; each must be an output of x.
		out := map[int]int{}
		for i, e := range x.Exprs {
			if c, ok := e.(*expr.ColRef); ok {
				if _, dup := out[c.Idx]; !dup {
					out[c.Idx] = i
				}
			}
		}
		ok := true
		walkBound(p, func(e expr.Expr) {
			if c, isCol := e.(*expr.ColRef); isCol {
				if _, found := out[c.Idx]; !found {
					ok = false
				}
			}
		})
		if !ok {
			return n, nil
		}
		np := *x
		np.Input = in
		return &np, remapCols(p, func(i int) int { return out[i] })
	}
	return n, nil
}

func indexOf(xs []int, x int) int {
	for i, y := range xs {
		if y == x {
			return i
		}
	}
	return -1
}

// knownRefs reports whether every expression within e is of a kind whose
// column references walkBound and remapCols reach.
func knownRefs(e expr.Expr) bool {
	ok := true
	walkBound(e, func(x expr.Expr) {
		switch x.(type) {
		case *expr.ColRef, *expr.Const, *expr.Param, *expr.And, *expr.Or, *expr.Not, *expr.IsNull, *expr.IsBool,
			*expr.IsDistinct, *expr.Case, *expr.Coalesce, *expr.NullIf, *expr.Greatest, *expr.InList,
			*expr.ScalarArrayOp, *expr.Cast, *expr.Call, *expr.ArrayCtor, *expr.Subscript:
		default:
			ok = false
		}
	})
	return ok
}
