package planner

import (
	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/sql"
)

// planFromOrdered plans a comma-separated FROM list, choosing the order in
// which its items are joined: items that WHERE equalities connect are joined
// to each other first (so that pushDown makes them keyed joins), and only
// then are the unconnected groups cross-joined. Joining in the
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
	// Items that equalities connect form components. Each component is
	// joined on its keys first (in an order where every item connects to
	// those before it); the components, which nothing connects, are then
	// cross-joined. So no intermediate result is larger than the answer
	// needs (a cross product with an item that a key would later narrow).
	placed := map[int]bool{}
	var order []int
	var rel *relation
	for first := range items {
		if placed[first] {
			continue
		}
		placed[first] = true
		comp := items[first]
		order = append(order, first)
		inComp := map[int]bool{first: true}
		for grew := true; grew; {
			grew = false
			for _, e := range edges {
				next := -1
				switch {
				case inComp[e[0]] && !placed[e[1]]:
					next = e[1]
				case inComp[e[1]] && !placed[e[0]]:
					next = e[0]
				}
				if next < 0 {
					continue
				}
				placed[next], inComp[next], grew = true, true, true
				order = append(order, next)
				comp = crossJoin(comp, items[next], exec.JoinInner)
			}
		}
		if rel == nil {
			rel = comp
		} else {
			rel = crossJoin(rel, comp, exec.JoinInner)
		}
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
