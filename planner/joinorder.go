package planner

import (
	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/sql"
)

// planFromOrdered plans a comma-separated FROM list, choosing the order in
// which its items are joined: after the first item, always one that a WHERE
// equality connects to the items already joined (so that pushDown can make
// it a keyed join), and only when none is left a cross join. Joining in the
// written order instead can build a cross product of millions of rows before
// the condition that connects them arrives (FROM t1, ..., t8 WHERE t_i.a =
// t8.a). The output keeps the written column order.
func (b *binder) planFromOrdered(from []sql.TableRef, where sql.Expr) (*relation, error) {
	if len(from) < 3 || where == nil {
		return b.planFrom(from)
	}
	items := make([]*relation, len(from))
	for i, f := range from {
		rel, err := b.planFromItem(f)
		if err != nil {
			return nil, err
		}
		items[i] = rel
	}
	// Which items each equality conjunct of WHERE connects.
	var edges [][2]int
	for _, c := range sqlConjuncts(where) {
		eq, ok := c.(*sql.Binary)
		if !ok || eq.Op != "=" {
			continue
		}
		l, r := b.itemOf(eq.Left, items), b.itemOf(eq.Right, items)
		if l >= 0 && r >= 0 && l != r {
			edges = append(edges, [2]int{l, r})
		}
	}
	joined := map[int]bool{0: true}
	order := []int{0}
	for len(order) < len(items) {
		next := -1
		for _, e := range edges {
			switch {
			case joined[e[0]] && !joined[e[1]]:
				next = e[1]
			case joined[e[1]] && !joined[e[0]]:
				next = e[0]
			}
			if next >= 0 {
				break
			}
		}
		if next < 0 {
			for i := range items {
				if !joined[i] {
					next = i
					break
				}
			}
		}
		joined[next] = true
		order = append(order, next)
	}
	rel := items[order[0]]
	for _, i := range order[1:] {
		rel = crossJoin(rel, items[i], exec.JoinInner)
	}
	inOrder := true
	for i, o := range order {
		inOrder = inOrder && i == o
	}
	if inOrder {
		return rel, nil
	}
	// Back to the written column order.
	start := make([]int, len(items)) // where item i's columns start in rel
	pos := 0
	for _, i := range order {
		start[i] = pos
		pos += len(items[i].scope.cols)
	}
	var exprs []expr.Expr
	var cols []column
	for i, it := range items {
		for j, c := range it.scope.cols {
			exprs = append(exprs, &expr.ColRef{Idx: start[i] + j, T: c.typ, Name: c.name})
			cols = append(cols, c)
		}
	}
	return &relation{node: &exec.Project{Input: rel.node, Exprs: exprs}, scope: &scope{cols: cols}}, nil
}

// itemOf returns the FROM item whose scope alone resolves every column e
// names, or -1 (several items, none, or not a plain expression of columns).
func (b *binder) itemOf(e sql.Expr, items []*relation) int {
	var refs []*sql.ColumnRef
	walkExpr(e, func(x sql.Expr) bool {
		if r, ok := x.(*sql.ColumnRef); ok {
			refs = append(refs, r)
		}
		return true
	})
	if len(refs) == 0 {
		return -1
	}
	found := -1
	for i, it := range items {
		all := true
		for _, r := range refs {
			if r.Star {
				return -1
			}
			saved := b.pending
			b.pending = nil
			_, err := b.resolve(it.scope, r)
			b.pending = saved
			if err != nil {
				all = false
				break
			}
		}
		if all {
			if found >= 0 {
				return -1 // ambiguous
			}
			found = i
		}
	}
	return found
}
