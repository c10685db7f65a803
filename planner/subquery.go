package planner

import (
	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/sql"
	"github.com/kappa-db/kappa/types"
)

// Subqueries are decorrelated into joins, so that views over them are
// maintained like any other join:
//
//   - EXISTS (SELECT ... FROM f WHERE inner = outer AND rest) is a semi-join
//     of the outer rows with SELECT DISTINCT inner, true FROM f WHERE rest, on
//     inner = outer; NOT EXISTS is the anti-join (a left join whose marker
//     column is NULL).
//   - x IN (SELECT s FROM f WHERE w) is EXISTS (... WHERE w AND s = x).
//   - x NOT IN (SELECT s ...) (uncorrelated) keeps PostgreSQL's NULL rules: a
//     row passes when the subquery is empty, or when x is not NULL, matches
//     nothing, and the subquery has no NULL.
//   - An uncorrelated scalar subquery is a cross join with a one-row
//     aggregate of it (count(*), min(col)) that raises 21000 when it has more
//     than one row.
//
// IN, EXISTS and their negations are handled as top-level conjuncts of WHERE
// (where NULL and false mean the same); elsewhere they are not supported yet.

// planWhereSubqueries joins the subquery conjuncts of where into rel and
// returns the rest of where.
func (b *binder) planWhereSubqueries(rel *relation, where sql.Expr) (*relation, sql.Expr, error) {
	var rest []sql.Expr
	for _, c := range sqlConjuncts(where) {
		var next *relation
		var err error
		handled := true
		switch x := c.(type) {
		case *sql.Exists:
			next, err = b.semiJoin(rel, x.Query, nil, false, x.Pos)
		case *sql.Unary:
			if e, ok := x.Operand.(*sql.Exists); ok && x.Op == "NOT" {
				next, err = b.semiJoin(rel, e.Query, nil, true, e.Pos)
			} else {
				handled = false
			}
		case *sql.Quantified:
			if _, isRow := x.Left.(*sql.Row); !isRow && x.Query != nil && x.Schema == "" && x.Op == "=" && !x.All {
				next, err = b.semiJoin(rel, x.Query, x.Left, false, x.Pos) // = ANY is IN
			} else {
				handled = false
			}
		case *sql.InSubquery:
			if _, isRow := x.Arg.(*sql.Row); isRow {
				return nil, nil, b.errAt(x.Pos, pgerr.FeatureNotSupported, "row-valued IN (subquery) is not supported yet")
			}
			if x.Not {
				next, err = b.notIn(rel, x)
			} else {
				next, err = b.semiJoin(rel, x.Query, x.Arg, false, x.Pos)
			}
		default:
			handled = false
		}
		if err != nil {
			// A correlation the semi-join cannot key on (x.b < t.b): bind
			// the conjunct as an expression instead (subexpr.go).
			if c := pgerr.Code(err); c != pgerr.FeatureNotSupported && c != pgerr.UndefinedColumn && c != pgerr.UndefinedTable {
				return nil, nil, err
			}
			handled = false
		}
		if handled {
			rel = next
		} else {
			rest = append(rest, c)
		}
	}
	switch len(rest) {
	case 0:
		return rel, nil, nil
	case 1:
		return rel, rest[0], nil
	}
	return rel, &sql.And{Pos: where.Position(), Args: rest}, nil
}

func sqlConjuncts(e sql.Expr) []sql.Expr {
	if a, ok := e.(*sql.And); ok {
		var out []sql.Expr
		for _, x := range a.Args {
			out = append(out, sqlConjuncts(x)...)
		}
		return out
	}
	return []sql.Expr{e}
}

// correlation is one `inner = outer` conjunct of a subquery's WHERE.
type correlation struct {
	inner, outer sql.Expr
	pos          int
}

// splitCorrelated sorts the conjuncts of a subquery's WHERE into those over
// the subquery's own FROM (rest) and equalities with the outer query.
func (b *binder) splitCorrelated(q *sql.Select, outer *scope) ([]correlation, []sql.Expr, error) {
	inner, err := b.planFrom(q.From)
	if err != nil {
		return nil, nil, err
	}
	// Trial binds: no parameter types inferred, no scalar subqueries
	// attached.
	bindsIn := func(e sql.Expr, s *scope) bool {
		saved, savedPending := len(b.params), b.pending
		b.pending = nil
		_, err := b.bindExpr(e, s, nil, "WHERE")
		b.params, b.pending = b.params[:saved], savedPending
		return err == nil
	}
	var corr []correlation
	var rest []sql.Expr
	if q.Where == nil {
		return nil, nil, nil
	}
	for _, c := range sqlConjuncts(q.Where) {
		if bindsIn(c, inner.scope) {
			rest = append(rest, c)
			continue
		}
		eq, ok := c.(*sql.Binary)
		if ok && eq.Op == "=" && eq.Schema == "" {
			if bindsIn(eq.Left, inner.scope) && !bindsIn(eq.Right, inner.scope) && bindsIn(eq.Right, outer) {
				corr = append(corr, correlation{inner: eq.Left, outer: eq.Right, pos: eq.Pos})
				continue
			}
			if bindsIn(eq.Right, inner.scope) && !bindsIn(eq.Left, inner.scope) && bindsIn(eq.Left, outer) {
				corr = append(corr, correlation{inner: eq.Right, outer: eq.Left, pos: eq.Pos})
				continue
			}
		}
		if bindsIn(c, &scope{cols: append(append([]column(nil), inner.scope.cols...), outer.cols...)}) {
			return nil, nil, b.errAt(c.Position(), pgerr.FeatureNotSupported, "a correlated subquery is supported only with equalities between its columns and the outer query's")
		}
		// Not bindable at all: report the real error.
		_, err := b.bindExpr(c, inner.scope, nil, "WHERE")
		return nil, nil, err
	}
	return corr, rest, nil
}

// semiJoin joins rel with the rows of q (EXISTS), or keeps the rows of rel
// that have none (anti). arg, when set, is the left side of IN: it must
// equal q's single output column.
func (b *binder) semiJoin(rel *relation, q *sql.Select, arg sql.Expr, anti bool, pos int) (*relation, error) {
	if q.SetOp != sql.SetOpNone || q.Values != nil || len(q.GroupBy) > 0 || q.Having != nil || q.Limit != nil || q.Offset != nil || q.With != nil || containsAggregateIn(q) {
		// Not a plain SELECT: planned as is, so only uncorrelated.
		return b.semiJoinGeneral(rel, q, arg, anti, pos)
	}
	corr, rest, err := b.splitCorrelated(q, rel.scope)
	if err != nil {
		return nil, err
	}
	if arg != nil {
		if len(q.Targets) != 1 {
			return nil, b.errAt(q.Pos, pgerr.SyntaxError, "subquery has too many columns")
		}
		if ref, ok := q.Targets[0].Expr.(*sql.ColumnRef); ok && ref.Star {
			return nil, b.errAt(q.Pos, pgerr.FeatureNotSupported, "IN (SELECT * ...) is not supported yet")
		}
		corr = append(corr, correlation{inner: q.Targets[0].Expr, outer: arg, pos: pos})
	}
	// SELECT DISTINCT inner..., true FROM f WHERE rest
	sub := &sql.Select{Pos: q.Pos, Distinct: true, From: q.From}
	for _, c := range corr {
		sub.Targets = append(sub.Targets, &sql.Target{Pos: c.pos, Expr: c.inner})
	}
	sub.Targets = append(sub.Targets, &sql.Target{Pos: q.Pos, Expr: &sql.Literal{Pos: q.Pos, Kind: sql.LitBool, Value: "true"}})
	switch len(rest) {
	case 0:
	case 1:
		sub.Where = rest[0]
	default:
		sub.Where = &sql.And{Pos: q.Pos, Args: rest}
	}
	saved := b.lastSelect
	s, err := b.planSelect(sub, false)
	b.lastSelect = saved
	if err != nil {
		return nil, err
	}
	return b.attachSemi(rel, s, corr, anti)
}

// semiJoinGeneral handles an uncorrelated subquery of any shape by
// planning it as is (correlated references then fail to resolve).
func (b *binder) semiJoinGeneral(rel *relation, q *sql.Select, arg sql.Expr, anti bool, pos int) (*relation, error) {
	saved := b.lastSelect
	s, err := b.planSelect(q, false)
	b.lastSelect = saved
	if err != nil {
		return nil, err
	}
	var corr []correlation
	n := len(s.scope.cols)
	var keep []expr.Expr
	if arg != nil {
		if n != 1 {
			return nil, b.errAt(q.Pos, pgerr.SyntaxError, "subquery has too many columns")
		}
		keep = append(keep, &expr.ColRef{Idx: 0, T: s.scope.cols[0].typ})
		corr = append(corr, correlation{outer: arg, pos: pos})
	}
	keep = append(keep, &expr.Const{V: types.NewBool(true), T: types.Bool})
	cols := []column{}
	for _, e := range keep {
		cols = append(cols, column{name: "?column?", typ: e.Type()})
	}
	all := make([]int, len(keep))
	for i := range all {
		all[i] = i
	}
	proj := &exec.Project{Input: s.node, Exprs: keep}
	distinct := &relation{node: &exec.Aggregate{Input: proj, GroupBy: all, Types: (&scope{cols: cols}).types()}, scope: &scope{cols: cols}}
	return b.attachSemi(rel, distinct, corr, anti)
}

// attachSemi joins rel with s (its columns: one per correlation, then a
// true marker) on outer_i = s.i. The added columns are hidden.
func (b *binder) attachSemi(rel *relation, s *relation, corr []correlation, anti bool) (*relation, error) {
	nl := len(rel.scope.cols)
	kind := exec.JoinInner
	if anti {
		kind = exec.JoinLeft
	}
	joined := crossJoin(rel, s, kind)
	for i := nl; i < len(joined.scope.cols); i++ {
		joined.scope.cols[i].hidden = true
		joined.scope.cols[i].table = ""
	}
	j := joined.node.(*exec.Join)
	var conds []expr.Expr
	for i, c := range corr {
		o, err := b.bindExpr(c.outer, rel.scope, nil, "WHERE")
		if err != nil {
			return nil, err
		}
		in := &expr.ColRef{Idx: nl + i, T: s.scope.cols[i].typ}
		eq, err := b.bindOperator("=", o, in, c.pos)
		if err != nil {
			return nil, err
		}
		conds = append(conds, eq)
	}
	j.On = andOf(conds)
	splitJoinCondition(j, nl)
	if !anti {
		return joined, nil
	}
	marker := &expr.ColRef{Idx: len(joined.scope.cols) - 1, T: types.Bool}
	joined.node = &exec.Filter{Input: joined.node, Pred: &expr.IsNull{Arg: marker}}
	return joined, nil
}

// notIn plans x NOT IN (uncorrelated subquery).
func (b *binder) notIn(rel *relation, x *sql.InSubquery) (*relation, error) {
	saved := b.lastSelect
	s, err := b.planSelect(x.Query, false)
	b.lastSelect = saved
	if err != nil {
		return nil, pgerr.As(err)
	}
	if len(s.scope.cols) != 1 {
		return nil, b.errAt(x.Query.Pos, pgerr.SyntaxError, "subquery has too many columns")
	}
	st := s.scope.cols[0].typ
	// counts: count(*), count(s) over the subquery: one row.
	counts := &exec.Aggregate{Input: &exec.Project{Input: s.node, Exprs: []expr.Expr{&expr.ColRef{Idx: 0, T: st}}},
		Aggs:  []exec.AggCall{{Func: exec.AggCountStar, Arg: -1, Type: types.Int8}, {Func: exec.AggCount, Arg: 0, Type: types.Int8}},
		Types: []types.Type{types.Int8, types.Int8}}
	// distinct values of the subquery, with a marker.
	proj := &exec.Project{Input: s.node, Exprs: []expr.Expr{&expr.ColRef{Idx: 0, T: st}, &expr.Const{V: types.NewBool(true), T: types.Bool}}}
	distinct := &relation{node: &exec.Aggregate{Input: proj, GroupBy: []int{0, 1}, Types: []types.Type{st, types.Bool}},
		scope: &scope{cols: []column{{name: "?column?", typ: st}, {name: "?column?", typ: types.Bool}}}}
	nl := len(rel.scope.cols)
	arg, err := b.bindExpr(x.Arg, rel.scope, nil, "WHERE")
	if err != nil {
		return nil, err
	}
	left := crossJoin(rel, distinct, exec.JoinLeft)
	eq, err := b.bindOperator("=", arg, &expr.ColRef{Idx: nl, T: st}, x.Pos)
	if err != nil {
		return nil, err
	}
	lj := left.node.(*exec.Join)
	lj.On = eq
	splitJoinCondition(lj, nl)
	withCounts := crossJoin(left, &relation{node: counts, scope: &scope{cols: []column{{name: "n", typ: types.Int8}, {name: "nn", typ: types.Int8}}}}, exec.JoinInner)
	for i := nl; i < len(withCounts.scope.cols); i++ {
		withCounts.scope.cols[i].hidden = true
		withCounts.scope.cols[i].table = ""
	}
	marker := &expr.ColRef{Idx: nl + 1, T: types.Bool}
	n := &expr.ColRef{Idx: nl + 2, T: types.Int8}
	nn := &expr.ColRef{Idx: nl + 3, T: types.Int8}
	eqFn, err := expr.LookupOperator("=", types.Int8, types.Int8)
	if err != nil {
		return nil, err
	}
	zero := &expr.Const{V: types.NewInt8(0), T: types.Int8}
	empty := &expr.Call{Fn: eqFn, Args: []expr.Expr{n, zero}}
	noNulls := &expr.Call{Fn: eqFn, Args: []expr.Expr{n, nn}}
	// The argument is evaluated over the left input's columns, which keep
	// their positions in the joined row.
	pass := &expr.Or{Args: []expr.Expr{empty, &expr.And{Args: []expr.Expr{
		&expr.IsNull{Arg: marker}, &expr.IsNull{Arg: arg, Negate: true}, noNulls}}}}
	withCounts.node = &exec.Filter{Input: withCounts.node, Pred: pass}
	return withCounts, nil
}

func containsAggregateIn(q *sql.Select) bool {
	for _, t := range q.Targets {
		if containsAggregate(t.Expr) {
			return true
		}
	}
	return false
}

// scalarSubquery binds an uncorrelated (SELECT ...) used as a value: the
// subquery becomes a one-row relation cross-joined into the current FROM
// (b.pending), and the expression is a reference to its column.
func (b *binder) scalarSubquery(x *sql.ScalarSubquery, s *scope) (expr.Expr, error) {
	if s == nil || b.pending == nil {
		return nil, b.errAt(x.Pos, pgerr.FeatureNotSupported, "a subquery is not supported in this position yet")
	}
	saved := b.lastSelect
	sub, err := b.planSelect(x.Query, false)
	b.lastSelect = saved
	if err != nil {
		if c := pgerr.Code(err); c == pgerr.UndefinedColumn || c == pgerr.UndefinedTable {
			if e, ok, cerr := b.correlatedScalar(x, s); ok {
				// A name it cannot resolve is a correlation deeper than
				// the one it handles: left to a SubPlan.
				if c := pgerr.Code(cerr); cerr == nil || (c != pgerr.UndefinedColumn && c != pgerr.UndefinedTable) {
					return e, cerr
				}
			}
			// Most likely a reference to the outer query.
			return nil, b.errAt(x.Pos, pgerr.FeatureNotSupported, "correlated scalar subqueries are not supported yet").
				WithDetail("Inside the subquery: %s.", pgerr.As(err).Message)
		}
		return nil, err
	}
	if len(sub.scope.cols) != 1 {
		return nil, b.errAt(x.Pos, pgerr.SyntaxError, "subquery must return only one column")
	}
	t := sub.scope.cols[0].typ
	if t.Kind == types.KindJSONB {
		return nil, b.errAt(x.Pos, pgerr.FeatureNotSupported, "a scalar subquery of type %s is not supported yet", t)
	}
	agg := &exec.Aggregate{Input: sub.node,
		Aggs:  []exec.AggCall{{Func: exec.AggCountStar, Arg: -1, Type: types.Int8}, {Func: exec.AggMin, Arg: 0, Type: t}},
		Types: []types.Type{types.Int8, t}}
	check := &expr.Call{Fn: oneRowCheck(t), Args: []expr.Expr{&expr.ColRef{Idx: 0, T: types.Int8}, &expr.ColRef{Idx: 1, T: t}}}
	one := &exec.Project{Input: agg, Exprs: []expr.Expr{check}}
	idx := len(s.cols)
	s.cols = append(s.cols, column{name: "?column?", typ: t, hidden: true})
	*b.pending = append(*b.pending, func(node exec.Node) exec.Node {
		return &exec.Join{Left: node, Right: one, Kind: exec.JoinInner}
	})
	return &expr.ColRef{Idx: idx, T: t}, nil
}

// oneRowCheck is the function a scalar subquery's value goes through: it
// raises PostgreSQL's 21000 when the subquery had more than one row.
func oneRowCheck(t types.Type) *expr.Func {
	return &expr.Func{Name: "scalar_subquery", Args: []types.Type{types.Int8, t}, Ret: t, Volatile: true,
		Eval: func(_ *expr.EvalContext, args []types.Value) (types.Value, error) {
			if args[0].I > 1 {
				return types.Null, pgerr.New(pgerr.CardinalityViolation, "more than one row returned by a subquery used as an expression")
			}
			return args[1], nil
		}}
}

// attachPending joins the scalar subqueries bound since the last call onto
// node (their columns are already at the end of the scope).
func (b *binder) attachPending(node exec.Node) exec.Node {
	if b.pending == nil {
		return node
	}
	saved := b.pendingBase
	b.pendingBase = node
	for _, attach := range *b.pending {
		node = attach(node)
	}
	b.pendingBase = saved
	*b.pending = (*b.pending)[:0]
	return node
}
