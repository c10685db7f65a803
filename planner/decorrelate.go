package planner

import (
	"math"

	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/sql"
	"github.com/kappa-db/kappa/types"
)

// Decorrelation of subqueries planned per row. A subquery the binder could
// not turn into a join directly (a correlated scalar subquery without one
// aggregate, ORDER BY ... LIMIT inside a correlated subquery, EXISTS with a
// correlation that is not an equality, ARRAY(subquery), a correlation two
// levels deep) is first planned as an exec.SubPlan whose plan reads the
// outer row through exec.OuterRef. A materialized view cannot evaluate a
// query per row, so removeSubPlans rewrites every SubPlan into joins and
// aggregates, the classic way:
//
//	D   = SELECT DISTINCT <the SubPlan's arguments> FROM <the outer input>
//	R   = the subquery computed once per row of D: its plan with D pushed
//	      into it (applier.apply), each OuterRef becoming a column of D
//	RES = R grouped by D: count(*) and min(value) for a scalar subquery
//	      (more than one row raises 21000), array_agg(value) for ARRAY(),
//	      count(*) for EXISTS
//	out = <outer input> LEFT JOIN RES ON arguments IS NOT DISTINCT FROM D
//
// Pushing D into the plan: a leaf that reads no outer value is cross-joined
// with D (the equalities of the correlation then become the join's keys in
// pushDown); filters and projections carry D's columns through; an
// aggregate groups by them too (a global aggregate left-joins D first so
// that every outer value gets its row, count = 0); ORDER BY ... LIMIT
// becomes a per-D Top-N (GroupTopN) and window functions partition by D.
// Subqueries nested in the subquery are removed first, innermost first, so
// a correlation two levels deep is an argument of the inner SubPlan that is
// an OuterRef of the middle one.
//
// The same rewrite plans LATERAL subqueries in FROM, ad hoc and in views.

// removeSubPlans returns n with every SubPlan in its expressions replaced by
// joins and aggregates.
func removeSubPlans(n exec.Node) (exec.Node, error) {
	switch x := n.(type) {
	case *exec.Filter:
		in, err := removeSubPlans(x.Input)
		if err != nil {
			return nil, err
		}
		if !exprHasSubPlanIn(x.Pred) {
			return &exec.Filter{Input: in, Pred: x.Pred}, nil
		}
		joined, exprs, err := joinSubPlans(in, []expr.Expr{x.Pred})
		if err != nil {
			return nil, err
		}
		return &exec.Project{Input: &exec.Filter{Input: joined, Pred: exprs[0]}, Exprs: colRefsOf(in.Columns(), 0)}, nil
	case *exec.Project:
		in, err := removeSubPlans(x.Input)
		if err != nil {
			return nil, err
		}
		has := false
		for _, e := range x.Exprs {
			has = has || exprHasSubPlanIn(e)
		}
		if !has {
			return &exec.Project{Input: in, Exprs: x.Exprs}, nil
		}
		joined, exprs, err := joinSubPlans(in, x.Exprs)
		if err != nil {
			return nil, err
		}
		return &exec.Project{Input: joined, Exprs: exprs}, nil
	case *exec.Values:
		for _, row := range x.Rows {
			for _, e := range row {
				if exprHasSubPlanIn(e) {
					return nil, pgerr.New(pgerr.FeatureNotSupported, "this subquery is not supported in a materialized view yet")
				}
			}
		}
		return x, nil
	case *exec.Scan:
		return x, nil
	case *exec.Join:
		if exprHasSubPlanIn(x.On) {
			return nil, pgerr.New(pgerr.FeatureNotSupported, "a correlated subquery in a join condition is not supported in a materialized view yet")
		}
	case *exec.ProjectSet:
		for _, call := range x.Calls {
			for _, a := range call.Args {
				if exprHasSubPlanIn(a) {
					return nil, pgerr.New(pgerr.FeatureNotSupported, "a subquery in a set-returning function's arguments is not supported in a materialized view yet")
				}
			}
		}
	}
	// Other nodes: only their inputs are rewritten (a SubPlan left in their
	// expressions is refused by the dataflow, exec.SubPlan.Eval).
	c := exec.ShallowCopy(n)
	for _, in := range exec.Inputs(c) {
		var err error
		if *in, err = removeSubPlans(*in); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// exprHasSubPlanIn reports whether e holds a SubPlan.
func exprHasSubPlanIn(e expr.Expr) bool {
	return anyBound(e, func(x expr.Expr) bool { _, ok := x.(*exec.SubPlan); return ok })
}

func hasOuterRef(e expr.Expr) bool {
	return anyBound(e, func(x expr.Expr) bool { _, ok := x.(*exec.OuterRef); return ok })
}

func colRefsOf(ts []types.Type, base int) []expr.Expr {
	out := make([]expr.Expr, len(ts))
	for i, t := range ts {
		out[i] = &expr.ColRef{Idx: base + i, T: t}
	}
	return out
}

func seq(from, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = from + i
	}
	return out
}

// joinSubPlans joins the results of the SubPlans in exprs onto in (whose
// columns stay first) and returns the joined input and exprs with each
// SubPlan replaced by a reference to its result.
func joinSubPlans(in exec.Node, exprs []expr.Expr) (exec.Node, []expr.Expr, error) {
	cur := in
	repl := map[*exec.SubPlan]expr.Expr{}
	var failed error
	var visit func(e expr.Expr)
	visit = func(e expr.Expr) {
		walkBound(e, func(x expr.Expr) {
			sp, ok := x.(*exec.SubPlan)
			if !ok || failed != nil || repl[sp] != nil {
				return
			}
			for _, a := range sp.Args {
				if exprHasSubPlanIn(a) {
					failed = pgerr.New(pgerr.FeatureNotSupported, "a subquery whose correlation is itself a subquery is not supported in a materialized view yet")
					return
				}
			}
			next, value, err := joinSubPlan(in, cur, sp)
			if err != nil {
				failed = err
				return
			}
			cur, repl[sp] = next, value
		})
	}
	for _, e := range exprs {
		visit(e)
	}
	if failed != nil {
		return nil, nil, failed
	}
	out := make([]expr.Expr, len(exprs))
	for i, e := range exprs {
		out[i] = rewriteExpr(e, func(x expr.Expr) expr.Expr {
			if sp, ok := x.(*exec.SubPlan); ok {
				return repl[sp]
			}
			return nil
		})
	}
	return cur, out, nil
}

// joinSubPlan joins sp's result onto cur (in with results of earlier
// SubPlans appended; sp's arguments are over in's columns).
func joinSubPlan(in, cur exec.Node, sp *exec.SubPlan) (exec.Node, expr.Expr, error) {
	plan, err := removeSubPlans(sp.Plan)
	if err != nil {
		return nil, nil, err
	}
	k := len(sp.Args)
	dtypes := make([]types.Type, k)
	for i, a := range sp.Args {
		dtypes[i] = a.Type()
		if !equalityIsIdentity(dtypes[i].Kind) && dtypes[i].Kind != types.KindInterval {
			return nil, nil, pgerr.New(pgerr.FeatureNotSupported, "a subquery correlated on a value of type %s is not supported in a materialized view yet", dtypes[i])
		}
	}
	a := &applier{k: k, dtypes: dtypes, d: func() exec.Node {
		return &exec.Aggregate{Input: &exec.Project{Input: cloneNode(in), Exprs: sp.Args}, GroupBy: seq(0, k), Types: dtypes}
	}}
	// The order of ARRAY(SELECT ... ORDER BY ...) is array_agg's.
	var order []exec.SortKey
	if sp.Mode == exec.SubArray {
		switch x := plan.(type) {
		case *exec.Sort:
			order, plan = x.Keys, x.Input
		case *exec.Limit:
			if s, ok := x.Input.(*exec.Sort); ok {
				order = s.Keys
				c := *s
				c.Keep = 0
				l := *x
				l.Input = &c
				plan = &l
			}
		}
	}
	r, err := a.apply(plan)
	if err != nil {
		return nil, nil, err
	}
	vt := r.Columns()[k]
	var res exec.Node
	var value func(base int) expr.Expr
	switch sp.Mode {
	case exec.SubScalar:
		if vt.Kind == types.KindJSONB || vt.Kind == types.KindArray {
			// No min() for these: the rows themselves, each with its
			// D's row count (more than one row raises 21000 anyway).
			rcols := r.Columns()
			counts := &exec.Aggregate{Input: &exec.Project{Input: cloneNode(r), Exprs: colRefsOf(dtypes, 0)}, GroupBy: seq(0, k),
				Aggs: []exec.AggCall{{Func: exec.AggCountStar, Arg: -1, Type: types.Int8}}, Types: append(append([]types.Type(nil), dtypes...), types.Int8)}
			j := &exec.Join{Left: r, Right: counts, Kind: exec.JoinInner, LeftKeys: seq(0, k), RightKeys: seq(0, k), NullSafe: true}
			n := len(rcols) + k
			res = &exec.Project{Input: j, Exprs: append(colRefsOf(dtypes, 0), &expr.ColRef{Idx: n, T: types.Int8}, &expr.ColRef{Idx: k, T: vt})}
		} else {
			res = &exec.Aggregate{Input: r, GroupBy: seq(0, k),
				Aggs:  []exec.AggCall{{Func: exec.AggCountStar, Arg: -1, Type: types.Int8}, {Func: exec.AggMin, Arg: k, Type: vt}},
				Types: append(append([]types.Type(nil), dtypes...), types.Int8, vt)}
		}
		value = func(base int) expr.Expr {
			return &expr.Call{Fn: oneRowCheck(vt), Args: []expr.Expr{&expr.ColRef{Idx: base, T: types.Int8}, &expr.ColRef{Idx: base + 1, T: vt}}}
		}
	case exec.SubExists:
		res = &exec.Aggregate{Input: r, GroupBy: seq(0, k),
			Aggs:  []exec.AggCall{{Func: exec.AggCountStar, Arg: -1, Type: types.Int8}},
			Types: append(append([]types.Type(nil), dtypes...), types.Int8)}
		value = func(base int) expr.Expr {
			return &expr.IsNull{Arg: &expr.ColRef{Idx: base, T: types.Int8}, Negate: true}
		}
	case exec.SubArray:
		keys := make([]exec.SortKey, len(order))
		for i, o := range order {
			o.Col += k
			keys[i] = o
		}
		at := sp.T
		res = &exec.Aggregate{Input: r, GroupBy: seq(0, k),
			Aggs:  []exec.AggCall{{Func: exec.AggArrayAgg, Arg: k, Type: at, OrderBy: keys}},
			Types: append(append([]types.Type(nil), dtypes...), at)}
		value = func(base int) expr.Expr {
			return &expr.Coalesce{Args: []expr.Expr{&expr.ColRef{Idx: base, T: at}, &expr.Const{V: types.NewArray([]types.Value{}), T: at}}, T: at}
		}
	default:
		return nil, nil, pgerr.New(pgerr.FeatureNotSupported, "this subquery is not supported in a materialized view yet")
	}
	curCols := cur.Columns()
	w := len(curCols)
	ext := &exec.Project{Input: cur, Exprs: append(colRefsOf(curCols, 0), sp.Args...)}
	j := &exec.Join{Left: ext, Right: res, Kind: exec.JoinLeft, LeftKeys: seq(w, k), RightKeys: seq(0, k), NullSafe: true}
	return j, value(w + k + k), nil
}

// applier computes a plan once per row of D, the distinct values of the
// outer row a subquery reads (k columns, which its OuterRefs number).
type applier struct {
	k      int
	dtypes []types.Type
	// d returns a new copy of D's plan (a plan is a tree: every use needs
	// its own nodes).
	d func() exec.Node
}

// shift moves column i of a node's input to k+i and turns OuterRef j into
// column j (D's columns come first).
func (a *applier) shift(e expr.Expr, by int) expr.Expr {
	return a.remap(e, func(i int) int { return i + by })
}

func (a *applier) remap(e expr.Expr, f func(int) int) expr.Expr {
	return a.remapOuter(e, f, 0)
}

// remapOuter maps column i to f(i) and OuterRef j to column outerBase+j.
func (a *applier) remapOuter(e expr.Expr, f func(int) int, outerBase int) expr.Expr {
	if e == nil {
		return nil
	}
	return rewriteExpr(e, func(x expr.Expr) expr.Expr {
		switch c := x.(type) {
		case *expr.ColRef:
			return &expr.ColRef{Idx: f(c.Idx), T: c.T, Name: c.Name}
		case *exec.OuterRef:
			return &expr.ColRef{Idx: outerBase + c.Idx, T: c.T, Name: c.Name}
		}
		return nil
	})
}

// nodeHasOuter reports whether any expression of n's plan reads the outer
// row.
func nodeHasOuter(n exec.Node) bool {
	found := false
	check := func(es ...expr.Expr) {
		for _, e := range es {
			if !found && hasOuterRef(e) {
				found = true
			}
		}
	}
	var walk func(n exec.Node)
	walk = func(n exec.Node) {
		if found {
			return
		}
		switch x := n.(type) {
		case *exec.Scan:
			check(x.KeyPrefix...)
		case *exec.Values:
			for _, r := range x.Rows {
				check(r...)
			}
		case *exec.Filter:
			check(x.Pred)
			walk(x.Input)
		case *exec.Project:
			check(x.Exprs...)
			walk(x.Input)
		case *exec.Aggregate:
			walk(x.Input)
		case *exec.Join:
			check(x.On)
			walk(x.Left)
			walk(x.Right)
		case *exec.Union:
			walk(x.Left)
			walk(x.Right)
		case *exec.SetOp:
			walk(x.Left)
			walk(x.Right)
		case *exec.Sort:
			walk(x.Input)
		case *exec.Limit:
			check(x.Limit, x.Offset)
			walk(x.Input)
		case *exec.Window:
			for _, c := range x.Calls {
				check(c.Frame.Start.Offset, c.Frame.End.Offset)
			}
			walk(x.Input)
		case *exec.GroupTopN:
			walk(x.Input)
		case *exec.TimeWindow:
			walk(x.Input)
		case *exec.ProjectSet:
			for _, c := range x.Calls {
				check(c.Args...)
			}
			walk(x.Input)
		default:
			found = true // unknown: assume it does, and fail in apply
		}
	}
	walk(n)
	return found
}

// apply returns a plan of D's columns followed by n's, with n computed for
// every row of D.
func (a *applier) apply(n exec.Node) (exec.Node, error) {
	k := a.k
	if k == 0 {
		// Nothing correlated: the plan is the same for the one outer row.
		return n, nil
	}
	dRefs := colRefsOf(a.dtypes, 0)
	if _, values := n.(*exec.Values); !values && !nodeHasOuter(n) {
		return &exec.Join{Left: a.d(), Right: n, Kind: exec.JoinInner}, nil
	}
	switch x := n.(type) {
	case *exec.Filter:
		in, err := a.apply(x.Input)
		if err != nil {
			return nil, err
		}
		return &exec.Filter{Input: in, Pred: a.shift(x.Pred, k)}, nil
	case *exec.Project:
		in, err := a.apply(x.Input)
		if err != nil {
			return nil, err
		}
		exprs := append([]expr.Expr(nil), dRefs...)
		for _, e := range x.Exprs {
			exprs = append(exprs, a.shift(e, k))
		}
		return &exec.Project{Input: in, Exprs: exprs}, nil
	case *exec.Values:
		// One projection of D per row (SELECT with no FROM; a dataflow's
		// leaves are relations, so not a join with the VALUES).
		var out exec.Node
		for _, row := range x.Rows {
			exprs := append([]expr.Expr(nil), dRefs...)
			for _, e := range row {
				exprs = append(exprs, a.shift(e, k))
			}
			var p exec.Node = &exec.Project{Input: a.d(), Exprs: exprs}
			if out == nil {
				out = p
			} else {
				out = &exec.Union{Left: out, Right: p}
			}
		}
		if out == nil {
			return nil, pgerr.New(pgerr.FeatureNotSupported, "an empty VALUES in a correlated subquery is not supported yet")
		}
		return out, nil
	case *exec.Aggregate:
		if x.GroupingSets != nil {
			return nil, pgerr.New(pgerr.FeatureNotSupported, "GROUPING SETS in a correlated subquery is not supported in a materialized view yet")
		}
		in, err := a.apply(x.Input)
		if err != nil {
			return nil, err
		}
		outTypes := append(append([]types.Type(nil), a.dtypes...), x.Types...)
		if len(x.GroupBy) > 0 {
			groupBy := seq(0, k)
			for _, g := range x.GroupBy {
				groupBy = append(groupBy, g+k)
			}
			aggs := make([]exec.AggCall, len(x.Aggs))
			for i, c := range x.Aggs {
				aggs[i] = placeAggregate(c, k)
			}
			return &exec.Aggregate{Input: in, GroupBy: groupBy, Aggs: aggs, Types: outTypes}, nil
		}
		// A global aggregate has a row for every outer value, also for one
		// no input row has: D LEFT JOIN the input, every aggregate reading
		// only the rows that matched (a marker column that is never NULL
		// in them).
		inCols := in.Columns()
		m := len(inCols) - k
		marked := &exec.Project{Input: in, Exprs: append(colRefsOf(inCols, 0), &expr.Const{V: types.NewBool(true), T: types.Bool})}
		j := &exec.Join{Left: a.d(), Right: marked, Kind: exec.JoinLeft, LeftKeys: seq(0, k), RightKeys: seq(0, k), NullSafe: true}
		marker := 2*k + m
		aggs := make([]exec.AggCall, len(x.Aggs))
		for i, c := range x.Aggs {
			c = placeAggregate(c, 2*k)
			if !c.HasFilter {
				// (A FILTER column of a row no input matched is NULL:
				// not true.)
				c.HasFilter, c.FilterCol = true, marker
			}
			aggs[i] = c
		}
		return &exec.Aggregate{Input: j, GroupBy: seq(0, k), Aggs: aggs, Types: outTypes}, nil
	case *exec.Join:
		return a.applyJoin(x)
	case *exec.Union:
		l, err := a.apply(x.Left)
		if err != nil {
			return nil, err
		}
		r, err := a.apply(x.Right)
		if err != nil {
			return nil, err
		}
		return &exec.Union{Left: l, Right: r}, nil
	case *exec.SetOp:
		l, err := a.apply(x.Left)
		if err != nil {
			return nil, err
		}
		r, err := a.apply(x.Right)
		if err != nil {
			return nil, err
		}
		return &exec.SetOp{Left: l, Right: r, Kind: x.Kind, All: x.All}, nil
	case *exec.Sort:
		in, err := a.apply(x.Input)
		if err != nil {
			return nil, err
		}
		keep := 0
		if x.Keep > 0 {
			keep = x.Keep + k
		}
		return &exec.Sort{Input: in, Keys: shiftKeys(x.Keys, k), Keep: keep}, nil
	case *exec.Limit:
		return a.applyLimit(x)
	case *exec.Window:
		in, err := a.apply(x.Input)
		if err != nil {
			return nil, err
		}
		calls := make([]exec.WindowCall, len(x.Calls))
		for i, c := range x.Calls {
			c.Args = shiftInts(c.Args, k)
			calls[i] = c
		}
		return &exec.Window{Input: in, PartitionBy: append(seq(0, k), shiftInts(x.PartitionBy, k)...), OrderBy: shiftKeys(x.OrderBy, k), Calls: calls}, nil
	case *exec.GroupTopN:
		in, err := a.apply(x.Input)
		if err != nil {
			return nil, err
		}
		return &exec.GroupTopN{Input: in, PartitionBy: append(seq(0, k), shiftInts(x.PartitionBy, k)...), OrderBy: shiftKeys(x.OrderBy, k),
			Func: x.Func, Lo: x.Lo, Hi: x.Hi}, nil
	case *exec.ProjectSet:
		in, err := a.apply(x.Input)
		if err != nil {
			return nil, err
		}
		calls := make([]exec.SetCall, len(x.Calls))
		for i, c := range x.Calls {
			args := make([]expr.Expr, len(c.Args))
			for j, e := range c.Args {
				args[j] = a.shift(e, k)
			}
			calls[i] = exec.SetCall{Fn: c.Fn, Args: args}
		}
		return &exec.ProjectSet{Input: in, Calls: calls, Ordinality: x.Ordinality}, nil
	}
	return nil, pgerr.New(pgerr.FeatureNotSupported, "this correlated subquery is not supported in a materialized view yet")
}

func shiftInts(xs []int, by int) []int {
	out := make([]int, len(xs))
	for i, x := range xs {
		out[i] = x + by
	}
	return out
}

func shiftKeys(keys []exec.SortKey, by int) []exec.SortKey {
	out := make([]exec.SortKey, len(keys))
	for i, key := range keys {
		key.Col += by
		out[i] = key
	}
	return out
}

// applyJoin pushes D into a join: into the side that reads the outer row
// when the other side's rows do not depend on it, else into both sides,
// matched on D's columns.
func (a *applier) applyJoin(x *exec.Join) (exec.Node, error) {
	k := a.k
	nl := len(x.Left.Columns())
	lo, ro := nodeHasOuter(x.Left), nodeHasOuter(x.Right)
	if !ro && (x.Kind == exec.JoinInner || x.Kind == exec.JoinLeft) {
		l, err := a.apply(x.Left)
		if err != nil {
			return nil, err
		}
		return &exec.Join{Left: l, Right: x.Right, Kind: x.Kind, LeftKeys: shiftInts(x.LeftKeys, k),
			RightKeys: append([]int(nil), x.RightKeys...), On: a.shift(x.On, k), NullSafe: x.NullSafe}, nil
	}
	if !lo && !hasOuterRef(x.On) && (x.Kind == exec.JoinInner || x.Kind == exec.JoinRight) {
		r, err := a.apply(x.Right)
		if err != nil {
			return nil, err
		}
		on := a.remap(x.On, func(i int) int {
			if i < nl {
				return i
			}
			return i + k
		})
		j := &exec.Join{Left: x.Left, Right: r, Kind: x.Kind, LeftKeys: append([]int(nil), x.LeftKeys...),
			RightKeys: shiftInts(x.RightKeys, k), On: on, NullSafe: x.NullSafe}
		cols := j.Columns()
		// D first, then the left columns, then the right ones.
		exprs := colRefsOf(cols[nl:nl+k], nl)
		exprs = append(exprs, colRefsOf(cols[:nl], 0)...)
		exprs = append(exprs, colRefsOf(cols[nl+k:], nl+k)...)
		return &exec.Project{Input: j, Exprs: exprs}, nil
	}
	l, err := a.apply(x.Left)
	if err != nil {
		return nil, err
	}
	r, err := a.apply(x.Right)
	if err != nil {
		return nil, err
	}
	// The joined row: D, left, D, right.
	f := func(i int) int {
		if i < nl {
			return k + i
		}
		return 2*k + i
	}
	var conds []expr.Expr
	lt, rt := x.Left.Columns(), x.Right.Columns()
	for i := range x.LeftKeys {
		lc := &expr.ColRef{Idx: k + x.LeftKeys[i], T: lt[x.LeftKeys[i]]}
		rc := &expr.ColRef{Idx: 2*k + nl + x.RightKeys[i], T: rt[x.RightKeys[i]]}
		fn, err := expr.LookupOperator("=", lc.T, rc.T)
		if err != nil {
			return nil, err
		}
		if x.NullSafe {
			conds = append(conds, &expr.IsDistinct{L: lc, R: rc, Negate: true, Cmp: fn})
		} else {
			conds = append(conds, &expr.Call{Fn: fn, Args: []expr.Expr{lc, rc}})
		}
	}
	if x.On != nil {
		conds = append(conds, a.remapOuter(x.On, f, 0))
	}
	j := &exec.Join{Left: l, Right: r, Kind: x.Kind, LeftKeys: seq(0, k), RightKeys: seq(0, k), On: andOf(conds), NullSafe: true}
	cols := j.Columns()
	exprs := colRefsOf(cols[:k+nl], 0)
	exprs = append(exprs, colRefsOf(cols[2*k+nl:], 2*k+nl)...)
	return &exec.Project{Input: j, Exprs: exprs}, nil
}

// applyLimit makes ORDER BY ... LIMIT n OFFSET m a Top-N per row of D.
func (a *applier) applyLimit(x *exec.Limit) (exec.Node, error) {
	k := a.k
	for _, e := range []expr.Expr{x.Limit, x.Offset} {
		if e != nil && !expr.IsConst(e) {
			return nil, pgerr.New(pgerr.FeatureNotSupported, "LIMIT and OFFSET inside a correlated subquery must be constants")
		}
	}
	count := func(e expr.Expr, def int64) (int64, error) {
		if e == nil {
			return def, nil
		}
		v, err := e.Eval(&expr.EvalContext{}, nil)
		if err != nil {
			return 0, err
		}
		if v.IsNull() {
			return def, nil
		}
		if v.I < 0 {
			return 0, pgerr.New("2201W", "LIMIT must not be negative")
		}
		return v.I, nil
	}
	limit, err := count(x.Limit, -1)
	if err != nil {
		return nil, err
	}
	offset, err := count(x.Offset, 0)
	if err != nil {
		return nil, err
	}
	input := x.Input
	var keys []exec.SortKey
	keep := 0
	if s, ok := input.(*exec.Sort); ok {
		input, keys, keep = s.Input, s.Keys, s.Keep
	}
	in, err := a.apply(input)
	if err != nil {
		return nil, err
	}
	inCols := in.Columns()
	if keep == 0 {
		keep = len(inCols) - k
	}
	keys = shiftKeys(keys, k)
	if len(keys) == 0 {
		// No order: any rows will do; take them in the order of all
		// columns, so the choice is the same every time.
		for i := k; i < len(inCols); i++ {
			keys = append(keys, exec.SortKey{Col: i})
		}
	}
	var top exec.Node
	if limit >= 0 {
		if limit == 0 {
			return &exec.Filter{Input: &exec.Project{Input: in, Exprs: colRefsOf(inCols[:k+keep], 0)},
				Pred: &expr.Const{V: types.NewBool(false), T: types.Bool}}, nil
		}
		hi := offset + limit
		if hi < offset {
			hi = math.MaxInt64
		}
		top = &exec.GroupTopN{Input: in, PartitionBy: seq(0, k), OrderBy: keys, Func: exec.WinRowNumber, Lo: offset + 1, Hi: hi}
	} else {
		w := &exec.Window{Input: in, PartitionBy: seq(0, k), OrderBy: keys,
			Calls: []exec.WindowCall{{Func: exec.WinRowNumber, Type: types.Int8}}}
		gt, err := expr.LookupOperator(">", types.Int8, types.Int8)
		if err != nil {
			return nil, err
		}
		top = &exec.Filter{Input: w, Pred: &expr.Call{Fn: gt, Args: []expr.Expr{&expr.ColRef{Idx: len(inCols), T: types.Int8}, &expr.Const{V: types.NewInt8(offset), T: types.Int8}}}}
	}
	return &exec.Project{Input: top, Exprs: colRefsOf(inCols[:k+keep], 0)}, nil
}

// cloneNode copies a plan tree's nodes (expressions are immutable and
// shared), so that one subtree can appear twice in a plan that later
// passes rewrite in place.
func cloneNode(n exec.Node) exec.Node {
	c := exec.ShallowCopy(n)
	for _, in := range exec.Inputs(c) {
		*in = cloneNode(*in)
	}
	if j, ok := c.(*exec.Join); ok {
		// Passes rewrite a join's keys in place.
		j.LeftKeys = append([]int(nil), j.LeftKeys...)
		j.RightKeys = append([]int(nil), j.RightKeys...)
	}
	return c
}

// lateralJoin joins left with a LATERAL subquery: the subquery is planned
// with left's columns as its outer row, then computed once per distinct
// value of the columns it reads (applier) and joined back on them. The
// result is a Join whose left columns are left's (then the values read,
// hidden) and whose right columns are those values again (hidden) and the
// subquery's; kind is inner or left.
func (b *binder) lateralJoin(left *relation, t *sql.Subquery, kind exec.JoinKind) (*relation, error) {
	o := &outerScope{s: left.scope, parent: b.outer}
	savedOuter, savedLast, savedPending, savedSRF := b.outer, b.lastSelect, b.pending, b.srf
	b.outer, b.pending, b.srf = o, nil, nil
	sub, err := b.planSelect(t.Query, false)
	b.outer, b.lastSelect, b.pending, b.srf = savedOuter, savedLast, savedPending, savedSRF
	if err != nil {
		return nil, err
	}
	name := ""
	if t.Alias != nil {
		name = t.Alias.Name
	}
	if err := b.applyAlias(sub, name, t.Alias, t.Pos); err != nil {
		return nil, err
	}
	plan, err := removeSubPlans(sub.node)
	if err != nil {
		return nil, err
	}
	sub.node = plan
	k := len(o.args)
	if k == 0 {
		return crossJoin(left, sub, kind), nil
	}
	dtypes := make([]types.Type, k)
	for i, a := range o.args {
		dtypes[i] = a.Type()
		if !equalityIsIdentity(dtypes[i].Kind) && dtypes[i].Kind != types.KindInterval {
			return nil, b.errAt(t.Pos, pgerr.FeatureNotSupported, "a LATERAL subquery reading a value of type %s is not supported yet", dtypes[i])
		}
	}
	a := &applier{k: k, dtypes: dtypes, d: func() exec.Node {
		return &exec.Aggregate{Input: &exec.Project{Input: cloneNode(left.node), Exprs: o.args}, GroupBy: seq(0, k), Types: dtypes}
	}}
	r, err := a.apply(plan)
	if err != nil {
		return nil, pgerr.As(err).WithPosition(sql.CharPos(b.src, t.Pos))
	}
	lcols := left.node.Columns()
	w := len(lcols)
	ext := &exec.Project{Input: left.node, Exprs: append(colRefsOf(lcols, 0), o.args...)}
	j := &exec.Join{Left: ext, Right: r, Kind: kind, LeftKeys: seq(w, k), RightKeys: seq(0, k), NullSafe: true}
	cols := append([]column(nil), left.scope.cols...)
	for range 2 {
		for _, t := range dtypes {
			cols = append(cols, column{name: "?lateral?", typ: t, hidden: true})
		}
	}
	cols = append(cols, sub.scope.cols...)
	return &relation{node: j, scope: &scope{cols: cols}}, nil
}
