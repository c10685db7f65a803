package planner

import (
	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/sql"
	"github.com/kappa-db/kappa/types"
)

var joinKinds = map[sql.JoinKind]exec.JoinKind{
	sql.JoinInner: exec.JoinInner,
	sql.JoinCross: exec.JoinInner,
	sql.JoinLeft:  exec.JoinLeft,
	sql.JoinRight: exec.JoinRight,
	sql.JoinFull:  exec.JoinFull,
}

func crossJoin(l, r *relation, kind exec.JoinKind) *relation {
	sc := &scope{cols: append(append([]column(nil), l.scope.cols...), r.scope.cols...)}
	return &relation{node: &exec.Join{Left: l.node, Right: r.node, Kind: kind}, scope: sc}
}

// planJoin plans `left [kind] JOIN right ON ... | USING (...) | NATURAL`.
func (b *binder) planJoin(j *sql.Join) (*relation, error) {
	if j.Alias != nil {
		return nil, b.errAt(j.Pos, pgerr.FeatureNotSupported, "an alias on a JOIN is not supported yet")
	}
	left, err := b.planFromItem(j.Left)
	if err != nil {
		return nil, err
	}
	if t, ok := j.Right.(*sql.Subquery); ok && t.Lateral && (joinKinds[j.Kind] == exec.JoinInner || joinKinds[j.Kind] == exec.JoinLeft) {
		// (A RIGHT or FULL JOIN LATERAL may not read its left side: it
		// is planned as a plain subquery.)
		return b.planLateralJoin(j, left, t)
	}
	right, err := b.planFromItem(j.Right)
	if err != nil {
		return nil, err
	}
	kind := joinKinds[j.Kind]
	rel := crossJoin(left, right, kind)
	join := rel.node.(*exec.Join)
	nl := len(left.scope.cols)
	using := j.Using
	if j.Natural {
		for _, lc := range left.scope.cols {
			if lc.hidden {
				continue
			}
			for _, rc := range right.scope.cols {
				if !rc.hidden && rc.name == lc.name {
					using = append(using, lc.name)
				}
			}
		}
	}
	if j.On != nil {
		if containsAggregate(j.On) {
			return nil, b.errAt(firstAggregatePos(j.On), pgerr.GroupingError, "aggregate functions are not allowed in JOIN conditions")
		}
		on, err := b.bindExpr(j.On, rel.scope, nil, "JOIN conditions")
		if err != nil {
			return nil, err
		}
		if on, err = b.coerce(on, types.Bool, j.On.Position(), "argument of JOIN/ON"); err != nil {
			return nil, err
		}
		join.On = on
		splitJoinCondition(join, nl)
		return rel, nil
	}
	if len(using) == 0 {
		return rel, nil // CROSS JOIN, or NATURAL with no common column
	}
	// USING: equal columns, shown once. The output is the merged columns,
	// then the rest of the left, then the rest of the right; the
	// duplicates stay reachable as t.col.
	var conds []expr.Expr
	var merged []expr.Expr
	var mergedCols []column
	usedL, usedR := map[int]bool{}, map[int]bool{}
	for _, name := range using {
		li, ri := -1, -1
		for i, c := range left.scope.cols {
			if c.name == name && !c.hidden {
				if li >= 0 {
					return nil, b.errAt(j.Pos, pgerr.AmbiguousColumn, "common column name %q appears more than once in left table", name)
				}
				li = i
			}
		}
		for i, c := range right.scope.cols {
			if c.name == name && !c.hidden {
				if ri >= 0 {
					return nil, b.errAt(j.Pos, pgerr.AmbiguousColumn, "common column name %q appears more than once in right table", name)
				}
				ri = i
			}
		}
		if li < 0 {
			return nil, b.errAt(j.Pos, pgerr.UndefinedColumn, "column %q specified in USING clause does not exist in left table", name)
		}
		if ri < 0 {
			return nil, b.errAt(j.Pos, pgerr.UndefinedColumn, "column %q specified in USING clause does not exist in right table", name)
		}
		lc, rc := left.scope.cols[li], right.scope.cols[ri]
		l := expr.Expr(&expr.ColRef{Idx: li, T: lc.typ, Name: name})
		r := expr.Expr(&expr.ColRef{Idx: nl + ri, T: rc.typ, Name: name})
		eq, err := b.bindOperator("=", l, r, j.Pos)
		if err != nil {
			return nil, err
		}
		conds = append(conds, eq)
		usedL[li], usedR[ri] = true, true
		var out expr.Expr
		t := lc.typ
		switch kind {
		case exec.JoinRight:
			out, t = r, rc.typ
		case exec.JoinFull:
			ct, err := expr.CommonTypeIn("JOIN/USING", []types.Type{lc.typ, rc.typ})
			if err != nil {
				return nil, withPos(err, b, j.Pos)
			}
			lv, err := b.coerce(l, ct, j.Pos, "")
			if err != nil {
				return nil, err
			}
			rv, err := b.coerce(r, ct, j.Pos, "")
			if err != nil {
				return nil, err
			}
			out, t = &expr.Coalesce{Args: []expr.Expr{lv, rv}, T: ct}, ct
		default:
			out = l
		}
		merged = append(merged, out)
		col := column{name: name, typ: t}
		// PostgreSQL's merged column is the left (RIGHT JOIN: right)
		// column itself when no coercion was needed, so it keeps that
		// column's origin; FULL JOIN's COALESCE has none.
		if lc.typ.OID == rc.typ.OID {
			switch kind {
			case exec.JoinRight:
				col.origin = rc.origin
			case exec.JoinFull:
			default:
				col.origin = lc.origin
			}
		}
		mergedCols = append(mergedCols, col)
	}
	join.On = andOf(conds)
	splitJoinCondition(join, nl)
	exprs := append([]expr.Expr(nil), merged...)
	cols := append([]column(nil), mergedCols...)
	add := func(idx int, c column, hidden bool) {
		exprs = append(exprs, &expr.ColRef{Idx: idx, T: c.typ, Name: c.name})
		c.hidden = c.hidden || hidden
		cols = append(cols, c)
	}
	for i, c := range left.scope.cols {
		if !usedL[i] {
			add(i, c, false)
		}
	}
	for i, c := range right.scope.cols {
		if !usedR[i] {
			add(nl+i, c, false)
		}
	}
	for i, c := range left.scope.cols {
		if usedL[i] {
			add(i, c, true)
		}
	}
	for i, c := range right.scope.cols {
		if usedR[i] {
			add(nl+i, c, true)
		}
	}
	return &relation{node: &exec.Project{Input: join, Exprs: exprs}, scope: &scope{cols: cols}}, nil
}

// splitJoinCondition moves `left col = right col` conjuncts of join.On into
// its keys, and conjuncts over one side only below the join where that keeps
// the meaning: for an inner join always; for an outer join only on its
// NULL-supplying side (filtering the preserved side in ON would drop rows
// that must still appear NULL-extended).
func splitJoinCondition(j *exec.Join, nl int) {
	var residual []expr.Expr
	for _, c := range conjuncts(j.On) {
		if !distribute(j, c, nl, true) {
			residual = append(residual, c)
		}
	}
	j.On = andOf(residual)
}

// distribute places conjunct c of a join's condition (inON) or of a WHERE
// above it, and reports whether it did.
func distribute(j *exec.Join, c expr.Expr, nl int, inON bool) bool {
	refs := map[int]bool{}
	colRefs(c, refs)
	onlyLeft, onlyRight := true, true
	for i := range refs {
		if i < nl {
			onlyRight = false
		} else {
			onlyLeft = false
		}
	}
	if len(refs) == 0 {
		return false
	}
	pushLeft := j.Kind == exec.JoinInner || (inON && j.Kind == exec.JoinRight) || (!inON && j.Kind == exec.JoinLeft)
	pushRight := j.Kind == exec.JoinInner || (inON && j.Kind == exec.JoinLeft) || (!inON && j.Kind == exec.JoinRight)
	switch {
	case onlyLeft && pushLeft:
		j.Left = &exec.Filter{Input: j.Left, Pred: c}
		return true
	case onlyRight && pushRight:
		j.Right = &exec.Filter{Input: j.Right, Pred: remapCols(c, func(i int) int { return i - nl })}
		return true
	}
	// A key: left column = right column, in ON (any kind) or in a WHERE
	// over an inner join.
	if !inON && j.Kind != exec.JoinInner {
		return false
	}
	if j.NullSafe {
		// Its keys match NULL with NULL; an equality does not.
		return false
	}
	_, _, isEq := crossEquality(c, nl)
	_, isInterval := exec.IntervalConjunct(c, nl)
	if (isEq || isInterval) && !inON {
		// An equality of expressions over each input: into ON, where
		// computedKeys makes it a key. A bound between the sides' times
		// (an interval join): into ON, where the join may use it to forget
		// rows (exec.JoinIntervalOf).
		if j.On == nil {
			j.On = c
		} else {
			j.On = andOf(append(conjuncts(j.On), c))
		}
		return true
	}
	call, ok := c.(*expr.Call)
	if !ok || call.Fn.Name != "=" || len(call.Args) != 2 {
		return false
	}
	l, lok := call.Args[0].(*expr.ColRef)
	r, rok := call.Args[1].(*expr.ColRef)
	if !lok || !rok {
		return false
	}
	if l.Idx >= nl {
		l, r = r, l
	}
	if l.Idx >= nl || r.Idx < nl || !sameKeyEncoding(l.T.Kind, r.T.Kind) || !keyEquality(call) {
		return false
	}
	j.LeftKeys = append(j.LeftKeys, l.Idx)
	j.RightKeys = append(j.RightKeys, r.Idx-nl)
	return true
}

// equalityIsIdentity reports whether SQL = on a kind means equal storage
// keys (floats: -0 = 0 and NaN = NaN hold in both; intervals do not, since
// '1 mon' = '30 days' but their keys differ).
func equalityIsIdentity(k types.Kind) bool {
	switch k {
	case types.KindInterval, types.KindJSONB, types.KindArray, types.KindNull:
		return false
	}
	return true
}

// keyEquality reports whether the = call eq holds exactly when its sides'
// storage keys are equal, so that it can be a hash join key or a key
// lookup: not for kinds with equal values of different keys, and not for
// bpchar's =, which ignores the padding stored with each value.
func keyEquality(eq *expr.Call) bool {
	if !equalityIsIdentity(eq.Args[0].Type().Kind) {
		return false
	}
	for _, t := range eq.Fn.Args {
		if t.OID == types.OidBpchar {
			return false
		}
	}
	return true
}

func onlyColRefs(es []expr.Expr) bool {
	for _, e := range es {
		if _, ok := e.(*expr.ColRef); !ok {
			return false
		}
	}
	return true
}

// pushDown distributes WHERE conjuncts that sit directly on joins into them
// (keys, or filters below the join), all the way down the plan.
func pushDown(n exec.Node) exec.Node {
	switch x := n.(type) {
	case *exec.Filter:
		// A filter passes through a projection that only renames or
		// reorders columns (the one planFromOrdered adds).
		if p, ok := x.Input.(*exec.Project); ok && onlyColRefs(p.Exprs) {
			pred := remapCols(x.Pred, func(i int) int { return p.Exprs[i].(*expr.ColRef).Idx })
			p.Input = pushDown(&exec.Filter{Input: p.Input, Pred: pred})
			return p
		}
		x.Input = pushDown(x.Input)
		if w, ok := x.Input.(*exec.Window); ok {
			return rankFilter(x, w)
		}
		j, ok := x.Input.(*exec.Join)
		if !ok {
			return x
		}
		nl := len(j.Left.Columns())
		var rest []expr.Expr
		for _, c := range conjuncts(x.Pred) {
			if !distribute(j, c, nl, false) {
				rest = append(rest, c)
			}
		}
		j.Left, j.Right = pushDown(j.Left), pushDown(j.Right)
		if len(rest) == 0 {
			return computedKeys(j)
		}
		x.Pred = andOf(rest)
		x.Input = computedKeys(j)
		return x
	case *exec.Join:
		x.Left, x.Right = pushDown(x.Left), pushDown(x.Right)
		return computedKeys(x)
	}
	for _, in := range exec.Inputs(n) {
		*in = pushDown(*in)
	}
	return n
}

// planLateralJoin plans `left [INNER | LEFT] JOIN LATERAL (...) ON cond`.
func (b *binder) planLateralJoin(j *sql.Join, left *relation, t *sql.Subquery) (*relation, error) {
	kind := joinKinds[j.Kind]
	if j.Natural || len(j.Using) > 0 {
		return nil, b.errAt(j.Pos, pgerr.FeatureNotSupported, "USING and NATURAL with LATERAL are not supported yet")
	}
	rel, err := b.lateralJoin(left, t, kind)
	if err != nil || j.On == nil {
		return rel, err
	}
	if containsAggregate(j.On) {
		return nil, b.errAt(firstAggregatePos(j.On), pgerr.GroupingError, "aggregate functions are not allowed in JOIN conditions")
	}
	on, err := b.bindExpr(j.On, rel.scope, nil, "JOIN conditions")
	if err != nil {
		return nil, err
	}
	if on, err = b.coerce(on, types.Bool, j.On.Position(), "argument of JOIN/ON"); err != nil {
		return nil, err
	}
	join := rel.node.(*exec.Join)
	if join.On != nil {
		on = &expr.And{Args: []expr.Expr{join.On, on}}
	}
	join.On = on
	splitJoinCondition(join, len(join.Left.Columns())) // (filters only: its keys are null-safe)
	return rel, nil
}
