package planner

import (
	"fmt"

	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/sql"
)

// EXISTS and IN (subquery) in any position (under OR, inside CASE, in the
// SELECT list), or correlated by more than equalities, are rewritten into
// scalar count subqueries, which bind as joins (scalarSubquery and
// correlatedScalar):
//
//	EXISTS (q)  →  (SELECT count(*) FROM f WHERE w) > 0      -- never NULL
//	x IN (SELECT s FROM f WHERE w)  →
//	  CASE WHEN (SELECT count(*) FROM f WHERE w AND s = x) > 0 THEN true
//	       WHEN (SELECT count(*) FROM f WHERE w) = 0 THEN false
//	       WHEN x IS NULL OR (SELECT count(s) FROM f WHERE w) < (SELECT count(*) FROM f WHERE w) THEN NULL
//	       ELSE false END
//
// which is PostgreSQL's three-valued IN, so NOT IN stays exact too. The
// semi-join plans in subquery.go remain the fast path for top-level WHERE
// conjuncts correlated by equalities.

// x op ANY (q) and x op ALL (q) follow the same pattern (= ANY is IN, <> ALL
// is NOT IN):
//
//	x op ANY (q)  →  CASE WHEN (SELECT count(*) ... WHERE x op s) > 0 THEN true
//	                      WHEN (SELECT count(*) ... WHERE (x op s) IS NULL) > 0 THEN NULL
//	                      ELSE false END
//	x op ALL (q)  →  CASE WHEN (SELECT count(*) ... WHERE NOT (x op s)) > 0 THEN false
//	                      WHEN (SELECT count(*) ... WHERE (x op s) IS NULL) > 0 THEN NULL
//	                      ELSE true END
//
// so an empty q gives false for ANY and true for ALL, and NULLs make the
// result unknown only when nothing decides it, as in PostgreSQL.

// countSubquery is SELECT <agg> FROM q's FROM WHERE q's WHERE [AND extra],
// or, for a query with grouping, limits or set operations, the same over q
// as a derived table whose one column is named "__s".
func countSubquery(q *sql.Select, agg *sql.FuncCall, extra sql.Expr, pos int) *sql.Select {
	plain := q.SetOp == sql.SetOpNone && q.Values == nil && len(q.GroupBy) == 0 && q.Having == nil &&
		q.Limit == nil && q.Offset == nil && q.With == nil && !q.Distinct && len(q.DistinctOn) == 0 && !containsAggregateIn(q)
	out := &sql.Select{Pos: pos, Targets: []*sql.Target{{Pos: pos, Expr: agg}}}
	if plain {
		out.From = q.From
		out.Where = andAST(pos, q.Where, extra)
		return out
	}
	out.From = []sql.TableRef{&sql.Subquery{Pos: pos, Query: q, Alias: &sql.Alias{Name: "__sub", Columns: []string{"__s"}}}}
	out.Where = extra
	return out
}

func andAST(pos int, es ...sql.Expr) sql.Expr {
	var args []sql.Expr
	for _, e := range es {
		if e != nil {
			args = append(args, e)
		}
	}
	switch len(args) {
	case 0:
		return nil
	case 1:
		return args[0]
	}
	return &sql.And{Pos: pos, Args: args}
}

func countStar(pos int) *sql.FuncCall { return &sql.FuncCall{Pos: pos, Name: "count", Star: true} }

func intLit(pos int, v string) *sql.Literal {
	return &sql.Literal{Pos: pos, Kind: sql.LitInteger, Value: v}
}

// existsAsCount rewrites EXISTS (q).
func existsAsCount(x *sql.Exists) sql.Expr {
	return &sql.Binary{Pos: x.Pos, Op: ">", Left: &sql.ScalarSubquery{Pos: x.Pos, Query: countSubquery(x.Query, countStar(x.Pos), nil, x.Pos)}, Right: intLit(x.Pos, "0")}
}

// inAsCounts rewrites x [NOT] IN (q).
// inside, when not nil, stands for x.Arg inside the subqueries (a lifted
// operand: liftOperand).
func (b *binder) inAsCounts(x *sql.InSubquery, inside sql.Expr) (sql.Expr, error) {
	if inside == nil {
		inside = x.Arg
	}
	q := x.Query
	if _, isRow := x.Arg.(*sql.Row); isRow {
		return nil, b.errAt(x.Pos, pgerr.FeatureNotSupported, "row-valued IN (subquery) is not supported yet")
	}
	if len(q.Targets) != 1 {
		return nil, b.errAt(q.Pos, pgerr.SyntaxError, "subquery has too many columns")
	}
	var s sql.Expr
	if ref, ok := q.Targets[0].Expr.(*sql.ColumnRef); ok && ref.Star {
		return nil, b.errAt(q.Pos, pgerr.FeatureNotSupported, "IN (SELECT * ...) is not supported yet")
	}
	plain := countSubquery(q, countStar(x.Pos), nil, x.Pos).From[0]
	if _, derived := plain.(*sql.Subquery); derived {
		s = &sql.ColumnRef{Pos: x.Pos, Names: []string{"__sub", "__s"}}
	} else {
		s = q.Targets[0].Expr
	}
	p := x.Pos
	eq := &sql.Binary{Pos: p, Op: "=", Left: s, Right: inside}
	matches := &sql.ScalarSubquery{Pos: p, Query: countSubquery(q, countStar(p), eq, p)}
	rows := &sql.ScalarSubquery{Pos: p, Query: countSubquery(q, countStar(p), nil, p)}
	values := &sql.ScalarSubquery{Pos: p, Query: countSubquery(q, &sql.FuncCall{Pos: p, Name: "count", Args: []sql.Expr{s}}, nil, p)}
	in := &sql.Case{Pos: p,
		Whens: []*sql.When{
			{Pos: p, Cond: &sql.Binary{Pos: p, Op: ">", Left: matches, Right: intLit(p, "0")}, Result: &sql.Literal{Pos: p, Kind: sql.LitBool, Value: "true"}},
			{Pos: p, Cond: &sql.Binary{Pos: p, Op: "=", Left: rows, Right: intLit(p, "0")}, Result: &sql.Literal{Pos: p, Kind: sql.LitBool, Value: "false"}},
			{Pos: p, Cond: &sql.Or{Pos: p, Args: []sql.Expr{&sql.IsNull{Pos: p, Arg: x.Arg}, &sql.Binary{Pos: p, Op: "<", Left: values, Right: rows}}},
				Result: &sql.Literal{Pos: p, Kind: sql.LitNull}},
		},
		Else: &sql.Literal{Pos: p, Kind: sql.LitBool, Value: "false"},
	}
	if x.Not {
		return &sql.Unary{Pos: p, Op: "NOT", Operand: in}, nil
	}
	return in, nil
}

// quantifiedAsCounts rewrites x op ANY|ALL (q); inside stands for x.Left
// inside the subqueries.
func (b *binder) quantifiedAsCounts(x *sql.Quantified, inside sql.Expr) (sql.Expr, error) {
	p := x.Pos
	if x.Schema == "" && ((x.Op == "=" && !x.All) || (x.Op == "<>" && x.All)) {
		return b.inAsCounts(&sql.InSubquery{Pos: p, Arg: x.Left, Query: x.Query, Not: x.All}, inside)
	}
	if _, isRow := x.Left.(*sql.Row); isRow {
		return nil, b.errAt(p, pgerr.FeatureNotSupported, "row-valued %s (subquery) is not supported yet", quantifier(x))
	}
	q := x.Query
	if len(q.Targets) != 1 {
		return nil, b.errAt(q.Pos, pgerr.SyntaxError, "subquery has too many columns")
	}
	if ref, ok := q.Targets[0].Expr.(*sql.ColumnRef); ok && ref.Star {
		return nil, b.errAt(q.Pos, pgerr.FeatureNotSupported, "%s (SELECT * ...) is not supported yet", quantifier(x))
	}
	var s sql.Expr = q.Targets[0].Expr
	if _, derived := countSubquery(q, countStar(p), nil, p).From[0].(*sql.Subquery); derived {
		s = &sql.ColumnRef{Pos: p, Names: []string{"__sub", "__s"}}
	}
	cmp := &sql.Binary{Pos: p, Op: x.Op, Schema: x.Schema, Left: inside, Right: s}
	decide := sql.Expr(cmp)
	decided, other := "true", "false"
	if x.All {
		decide = &sql.Unary{Pos: p, Op: "NOT", Operand: cmp}
		decided, other = "false", "true"
	}
	count := func(w sql.Expr) sql.Expr {
		return &sql.Binary{Pos: p, Op: ">", Left: &sql.ScalarSubquery{Pos: p, Query: countSubquery(q, countStar(p), w, p)}, Right: intLit(p, "0")}
	}
	return &sql.Case{Pos: p,
		Whens: []*sql.When{
			{Pos: p, Cond: count(decide), Result: &sql.Literal{Pos: p, Kind: sql.LitBool, Value: decided}},
			{Pos: p, Cond: count(&sql.IsNull{Pos: p, Arg: cmp}), Result: &sql.Literal{Pos: p, Kind: sql.LitNull}},
		},
		Else: &sql.Literal{Pos: p, Kind: sql.LitBool, Value: other},
	}, nil
}

func quantifier(x *sql.Quantified) string {
	if x.All {
		return x.Op + " ALL"
	}
	return x.Op + " ANY"
}

// liftOperand makes the left operand of IN or op ANY|ALL a hidden column of
// scope s, computed by a projection the SELECT's input goes through, and
// returns a reference to it. The rewrites above move the operand into
// subqueries, where a column of the subquery's own FROM with the same name
// would capture it (x IN (SELECT ... FROM t c WHERE ...) with x a column of
// both); the reference cannot be captured. Where no projection can be added
// (no FROM being bound, above an aggregation) the operand stays as is.
func (b *binder) liftOperand(e sql.Expr, s *scope, agg *postAgg, where string) (sql.Expr, error) {
	if b.pending == nil || s == nil {
		return e, nil
	}
	hasColumn := false
	walkExpr(e, func(x sql.Expr) bool {
		if _, ok := x.(*sql.ColumnRef); ok {
			hasColumn = true
		}
		return !hasColumn
	})
	if !hasColumn || containsSubquery(e) {
		return e, nil
	}
	bound, err := b.bindExpr(e, s, agg, where)
	if err != nil {
		return nil, err
	}
	b.lifted++
	table := fmt.Sprintf("?lifted%d?", b.lifted)
	if b.liftedExprs == nil {
		b.liftedExprs = map[string]expr.Expr{}
	}
	b.liftedExprs[table] = bound
	s.cols = append(s.cols, column{table: table, name: "v", typ: bound.Type(), hidden: true})
	*b.pending = append(*b.pending, func(node exec.Node) exec.Node {
		return &exec.Project{Input: node, Exprs: append(colRefsOf(node.Columns(), 0), bound)}
	})
	return &sql.ColumnRef{Pos: e.Position(), Names: []string{table, "v"}}, nil
}
