package planner

import (
	"fmt"

	"github.com/kappa-db/kappa/exec"
	"strconv"
	"strings"

	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/sql"
	"github.com/kappa-db/kappa/types"
)

// binder binds one statement.
type binder struct {
	p *Planner
	// src is the text positions refer to (the string given to sql.Parse).
	src string
	// params holds the types of $1..$n, types.Unknown while not inferred.
	params []types.Type
	// reads collects the ids of stored relations the statement reads.
	reads map[uint64]bool
	// deps collects the objects the statement names directly.
	deps map[uint64]bool
	// ctes are the WITH queries in scope, innermost last.
	ctes []map[string]*sql.CTE
	// depth guards against views that (through a bug) refer to themselves.
	depth int
	// setOpLeaf is set while planning a simple SELECT that is a branch of a
	// UNION/INTERSECT/EXCEPT: its bare unknown literals (NULL, 'text') keep
	// their unknown type so that the set operation resolves them to the
	// other branch's type, as PostgreSQL does (planSimple clears it).
	setOpLeaf bool
	// lastSelect is what the SELECT just planned left for its ORDER BY.
	lastSelect *selectInfo
	// pending holds the scalar subqueries bound in the current SELECT: each
	// joins its relation onto the SELECT's input (attachPending).
	pending *[]func(exec.Node) exec.Node
	// pendingBase is the input attachPending joins them onto, before the
	// first: a correlated subquery reads its outer values from it, not
	// from the input the earlier subqueries already joined (which would
	// double the plan with every subquery).
	pendingBase exec.Node
	// lifted numbers the operands liftOperand made columns.
	lifted int
	// liftedExprs are their expressions over the SELECT's input, by the
	// hidden table name of their column.
	liftedExprs map[string]expr.Expr
	// winCols maps the window calls of the SELECT being bound (by exprKey)
	// to their columns (planner/window.go).
	winCols map[string]*expr.ColRef
	// sess is the session the statement is planned in (system catalogs).
	sess *Session
	// restricted, shared with the binders of the views a statement reads,
	// is set when it reads a relation only superusers may read (pg_authid,
	// with its password verifiers): Query.Restricted.
	restricted *bool
	// volatile, shared like restricted, says the statement reads a system
	// relation: its rows are made at plan time, so the plan is good for one
	// execution only.
	volatile *bool
	// forView is set while planning a materialized view: nothing that
	// only runs ad hoc (system catalogs, per-row subplans) may be used.
	forView bool
	// outer is the enclosing query of a subquery planned as a SubPlan.
	outer *outerScope
	// srf maps the set-returning calls of the SELECT list being bound to
	// their columns (sysbind.go).
	srf map[string]int
}

func (b *binder) errAt(pos int, code, format string, args ...any) *pgerr.Error {
	e := pgerr.New(code, format, args...)
	if pos >= 0 && pos <= len(b.src) {
		e.Position = sql.CharPos(b.src, pos)
	}
	return e
}

// postAgg is the binding context above an aggregation: group expressions
// and aggregate calls resolve to the Aggregate's output columns.
type postAgg struct {
	groupKeys map[string]int // exprKey → output column
	aggKeys   map[string]int
	aggScope  *scope
	// inScope is the scope below the aggregation; groupCols maps its
	// grouped columns to output columns, so `GROUP BY t.a` serves `a`.
	inScope   *scope
	groupCols map[int]int
	// sets are the grouping sets (GROUPING SETS, ROLLUP, CUBE) as lists of
	// group columns, and setCol the output column with the set's index;
	// nil for a plain GROUP BY.
	sets   [][]int
	setCol int
}

// bindExpr binds an expression in scope s. agg is non-nil above an
// aggregation; where names the clause, for errors about aggregates.
func (b *binder) bindExpr(e sql.Expr, s *scope, agg *postAgg, where string) (expr.Expr, error) {
	if agg != nil {
		k := exprKey(e)
		if i, ok := agg.groupKeys[k]; ok {
			c := agg.aggScope.cols[i]
			return &expr.ColRef{Idx: i, T: c.typ, Name: c.name}, nil
		}
		if i, ok := agg.aggKeys[k]; ok {
			c := agg.aggScope.cols[i]
			return &expr.ColRef{Idx: i, T: c.typ, Name: c.name}, nil
		}
	}
	switch x := e.(type) {
	case *sql.ColumnRef:
		if x.Star {
			return nil, b.errAt(x.Pos, pgerr.SyntaxError, "* is not allowed here")
		}
		if agg != nil {
			i, err := b.resolve(agg.inScope, x)
			if err != nil {
				return nil, err
			}
			if o, ok := agg.groupCols[i]; ok {
				c := agg.aggScope.cols[o]
				return &expr.ColRef{Idx: o, T: c.typ, Name: c.name}, nil
			}
			return nil, b.errAt(x.Pos, pgerr.GroupingError, "column \"%s\" must appear in the GROUP BY clause or be used in an aggregate function", strings.Join(x.Names, "."))
		}
		i, err := b.resolve(s, x)
		if err != nil {
			if c := pgerr.Code(err); c == pgerr.UndefinedColumn || c == pgerr.UndefinedTable {
				if e, ok := b.resolveOuter(b.outer, x); ok {
					return e, nil
				}
			}
			return nil, err
		}
		return &expr.ColRef{Idx: i, T: s.cols[i].typ, Name: s.cols[i].name}, nil
	case *sql.Literal:
		return b.bindLiteral(x)
	case *sql.TypedLiteral:
		t, err := b.bindType(x.Type)
		if err != nil {
			return nil, err
		}
		v, err := types.ParseText(t, x.Value, nil)
		if err != nil {
			return nil, withPos(err, b, x.Pos)
		}
		return &expr.Const{V: v, T: t}, nil
	case *sql.Param:
		if x.Number < 1 || x.Number > 65535 {
			return nil, b.errAt(x.Pos, pgerr.UndefinedParameter, "there is no parameter $%d", x.Number)
		}
		for len(b.params) < x.Number {
			b.params = append(b.params, types.Unknown)
		}
		return &expr.Param{Idx: x.Number - 1, T: b.params[x.Number-1]}, nil
	case *sql.Unary:
		arg, err := b.bindExpr(x.Operand, s, agg, where)
		if err != nil {
			return nil, err
		}
		if x.Op == "NOT" {
			arg, err = b.coerce(arg, types.Bool, x.Pos, "argument of NOT")
			if err != nil {
				return nil, err
			}
			return &expr.Not{Arg: arg}, nil
		}
		fn, err := expr.LookupUnaryOperator(x.Op, arg.Type())
		if err != nil {
			return nil, withPos(err, b, x.Pos)
		}
		if arg, err = b.coerce(arg, fn.Args[0], x.Pos, ""); err != nil {
			return nil, err
		}
		return b.fold(&expr.Call{Fn: fn, Args: []expr.Expr{arg}}), nil
	case *sql.Binary:
		l, err := b.bindExpr(x.Left, s, agg, where)
		if err != nil {
			return nil, err
		}
		r, err := b.bindExpr(x.Right, s, agg, where)
		if err != nil {
			return nil, err
		}
		if l, r, err = b.prepareOperands(x.Schema, x.Op, l, r, x.Pos); err != nil {
			return nil, err
		}
		return b.bindOperator(x.Op, l, r, x.Pos)
	case *sql.And:
		args, err := b.bindBoolArgs(x.Args, s, agg, where, x.Pos, "AND")
		if err != nil {
			return nil, err
		}
		return &expr.And{Args: args}, nil
	case *sql.Or:
		args, err := b.bindBoolArgs(x.Args, s, agg, where, x.Pos, "OR")
		if err != nil {
			return nil, err
		}
		return &expr.Or{Args: args}, nil
	case *sql.IsNull:
		arg, err := b.bindExpr(x.Arg, s, agg, where)
		if err != nil {
			return nil, err
		}
		return &expr.IsNull{Arg: arg, Negate: x.Not}, nil
	case *sql.IsBool:
		arg, err := b.bindExpr(x.Arg, s, agg, where)
		if err != nil {
			return nil, err
		}
		if arg, err = b.coerce(arg, types.Bool, x.Pos, "argument of IS"); err != nil {
			return nil, err
		}
		if x.Test == sql.TestUnknown {
			return &expr.IsNull{Arg: arg, Negate: x.Not}, nil
		}
		return &expr.IsBool{Arg: arg, Want: x.Test == sql.TestTrue, Negate: x.Not}, nil
	case *sql.IsDistinctFrom:
		l, r, fn, err := b.bindComparison("=", x.Left, x.Right, s, agg, where, x.Pos)
		if err != nil {
			return nil, err
		}
		return &expr.IsDistinct{L: l, R: r, Negate: x.Not, Cmp: fn}, nil
	case *sql.Between:
		return b.bindBetween(x, s, agg, where)
	case *sql.In:
		return b.bindIn(x, s, agg, where)
	case *sql.Case:
		return b.bindCase(x, s, agg, where)
	case *sql.Coalesce:
		args, t, err := b.bindCommon(x.Args, s, agg, where, x.Pos, "COALESCE")
		if err != nil {
			return nil, err
		}
		return &expr.Coalesce{Args: args, T: t}, nil
	case *sql.NullIf:
		l, r, fn, err := b.bindComparison("=", x.Left, x.Right, s, agg, where, x.Pos)
		if err != nil {
			return nil, err
		}
		return &expr.NullIf{L: l, R: r, Eq: fn}, nil
	case *sql.Greatest:
		args, t, err := b.bindCommon(x.Args, s, agg, where, x.Pos, "GREATEST")
		if err != nil {
			return nil, err
		}
		return &expr.Greatest{Args: args, T: t}, nil
	case *sql.Least:
		args, t, err := b.bindCommon(x.Args, s, agg, where, x.Pos, "LEAST")
		if err != nil {
			return nil, err
		}
		return &expr.Greatest{Args: args, T: t, Least: true}, nil
	case *sql.Cast:
		arg, err := b.bindExpr(x.Arg, s, agg, where)
		if err != nil {
			return nil, err
		}
		t, err := b.bindType(x.Type)
		if err != nil {
			return nil, err
		}
		pos := x.Pos
		if _, lit := x.Arg.(*sql.Literal); lit {
			// PostgreSQL points at the literal that does not parse.
			pos = x.Arg.Position()
		}
		if e, ok, err := b.bindRegCast(arg, t, pos); ok {
			return e, err
		}
		return b.cast(arg, t, pos)
	case *sql.FuncCall:
		if b.forView && (x.Name == "current_user" || x.Name == "session_user") && len(x.Args) == 0 {
			// A dataflow has no session to take the role from.
			return nil, b.errAt(x.Pos, pgerr.FeatureNotSupported, "%s is not supported in a materialized view", x.Name)
		}
		return b.bindFunc(x, s, agg, where)
	case *sql.ScalarSubquery:
		e, err := b.scalarSubquery(x, s)
		if pgerr.Code(err) == pgerr.FeatureNotSupported {
			// A correlation the planner cannot turn into a join here:
			// evaluate the subquery per row (ad hoc), or decorrelate it
			// into joins once the view is planned (decorrelate.go).
			return b.subPlan(x.Query, s, exec.SubScalar, x.Pos)
		}
		return e, err
	case *sql.Exists:
		return b.bindExpr(existsAsCount(x), s, agg, where)
	case *sql.InSubquery:
		arg, err := b.liftOperand(x.Arg, s, agg, where)
		if err != nil {
			return nil, err
		}
		e, err := b.inAsCounts(x, arg)
		if err != nil {
			return nil, err
		}
		return b.bindExpr(e, s, agg, where)
	case *sql.Collate:
		// Only the "C"/default collations exist: comparisons are bytewise.
		return b.bindExpr(x.Arg, s, agg, where)
	case *sql.Row:
		if len(x.Args) == 1 && !x.Explicit {
			return b.bindExpr(x.Args[0], s, agg, where)
		}
	}
	if out, ok, err := b.bindExtra(e, s, agg, where); ok {
		return out, err
	}
	return nil, b.errAt(e.Position(), pgerr.FeatureNotSupported, "%s not supported yet", describeNode(e))
}

func describeNode(e sql.Expr) string {
	switch e.(type) {
	case *sql.ArraySubquery, *sql.Quantified:
		return "subqueries in expressions are"
	case *sql.ArrayExpr, *sql.Subscript:
		return "arrays are"
	case *sql.Row, *sql.FieldAccess:
		return "row values are"
	case *sql.Default:
		return "DEFAULT in this position is"
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", e), "*sql.") + " is"
}

func withPos(err error, b *binder, pos int) error {
	pe := pgerr.As(err)
	if pe.Position == 0 && pos >= 0 {
		pe = pe.WithPosition(sql.CharPos(b.src, pos))
	}
	return pe
}

func (b *binder) bindLiteral(x *sql.Literal) (expr.Expr, error) {
	switch x.Kind {
	case sql.LitNull:
		return &expr.Const{V: types.Null, T: types.Unknown}, nil
	case sql.LitBool:
		return &expr.Const{V: types.NewBool(x.Value == "true"), T: types.Bool}, nil
	case sql.LitString:
		return &expr.Const{V: types.NewText(x.Value), T: types.Unknown}, nil
	case sql.LitInteger, sql.LitNumeric:
		if i, err := strconv.ParseInt(x.Value, 10, 64); err == nil {
			if i >= -1<<31 && i < 1<<31 {
				return &expr.Const{V: types.NewInt4(i), T: types.Int4}, nil
			}
			return &expr.Const{V: types.NewInt8(i), T: types.Int8}, nil
		}
		v, err := types.ParseText(types.Numeric, x.Value, nil)
		if err != nil {
			return nil, withPos(err, b, x.Pos)
		}
		return &expr.Const{V: v, T: types.Numeric}, nil
	case sql.LitBitString:
		return nil, b.errAt(x.Pos, pgerr.FeatureNotSupported, "bit strings are not supported")
	}
	return nil, b.errAt(x.Pos, pgerr.InternalError, "unknown literal kind %d", x.Kind)
}

// bindType resolves a type name.
func (b *binder) bindType(tn *sql.TypeName) (types.Type, error) {
	if tn.Setof || tn.PctType {
		return types.Type{}, b.errAt(tn.Pos, pgerr.FeatureNotSupported, "%%TYPE and SETOF are not supported")
	}
	name := tn.Name
	if len(tn.ArrayBounds) > 0 {
		name += "[]"
	}
	t, err := types.ParseTypeName(name, tn.Typmods)
	if err != nil {
		return types.Type{}, withPos(err, b, tn.Pos)
	}
	return t, nil
}

// coerce converts e to type t implicitly (and infers an untyped parameter).
func (b *binder) coerce(e expr.Expr, t types.Type, pos int, what string) (expr.Expr, error) {
	if p, ok := e.(*expr.Param); ok && p.T.Kind == types.KindNull {
		b.params[p.Idx] = t
		return &expr.Param{Idx: p.Idx, T: t}, nil
	}
	// Same kind, nothing to enforce: a relabel, except that bpchar to
	// another string type strips the padding (PostgreSQL's rtrim1), which
	// is how c = 'x' and c || 'y' see char(n) values without their blanks.
	from := e.Type()
	if from == t || (from.Kind == t.Kind && t.Kind != types.KindNull && t.Mod < 0 &&
		(from.OID != types.OidBpchar || t.OID == types.OidBpchar)) {
		return e, nil
	}
	out, err := expr.Coerce(e, t)
	if err != nil {
		if what != "" && pgerr.Code(err) == pgerr.DatatypeMismatch {
			return nil, b.errAt(pos, pgerr.DatatypeMismatch, "%s must be type %s, not type %s", what, t, e.Type())
		}
		return nil, withPos(err, b, pos)
	}
	return out, nil
}

// cast is an explicit cast.
func (b *binder) cast(e expr.Expr, t types.Type, pos int) (expr.Expr, error) {
	if p, ok := e.(*expr.Param); ok && p.T.Kind == types.KindNull {
		b.params[p.Idx] = t
		return &expr.Param{Idx: p.Idx, T: t}, nil
	}
	out, err := expr.CastTo(e, t)
	if err != nil {
		return nil, withPos(err, b, pos)
	}
	return out, nil
}

func (b *binder) fold(e expr.Expr) expr.Expr {
	return expr.Fold(e, &expr.EvalContext{})
}

func (b *binder) bindOperator(op string, l, r expr.Expr, pos int) (expr.Expr, error) {
	// An untyped parameter takes the other side's type, as in PostgreSQL.
	if p, ok := l.(*expr.Param); ok && p.T.Kind == types.KindNull && r.Type().Kind != types.KindNull {
		l, _ = b.coerce(l, r.Type(), pos, "")
	}
	if p, ok := r.(*expr.Param); ok && p.T.Kind == types.KindNull && l.Type().Kind != types.KindNull {
		r, _ = b.coerce(r, l.Type(), pos, "")
	}
	fn, err := expr.LookupOperator(op, l.Type(), r.Type())
	if err != nil {
		return nil, withPos(err, b, pos)
	}
	if l, err = b.coerce(l, fn.Args[0], pos, ""); err != nil {
		return nil, err
	}
	if r, err = b.coerce(r, fn.Args[1], pos, ""); err != nil {
		return nil, err
	}
	return b.fold(&expr.Call{Fn: fn, Args: []expr.Expr{l, r}}), nil
}

func (b *binder) bindComparison(op string, le, re sql.Expr, s *scope, agg *postAgg, where string, pos int) (expr.Expr, expr.Expr, *expr.Func, error) {
	l, err := b.bindExpr(le, s, agg, where)
	if err != nil {
		return nil, nil, nil, err
	}
	r, err := b.bindExpr(re, s, agg, where)
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := b.bindOperator(op, l, r, pos)
	if err != nil {
		return nil, nil, nil, err
	}
	call, ok := c.(*expr.Call)
	if !ok {
		// Folded to a constant: rebind without folding.
		fn, err := expr.LookupOperator(op, l.Type(), r.Type())
		if err != nil {
			return nil, nil, nil, withPos(err, b, pos)
		}
		l, _ = b.coerce(l, fn.Args[0], pos, "")
		r, _ = b.coerce(r, fn.Args[1], pos, "")
		return l, r, fn, nil
	}
	return call.Args[0], call.Args[1], call.Fn, nil
}

func (b *binder) bindBoolArgs(in []sql.Expr, s *scope, agg *postAgg, where string, pos int, what string) ([]expr.Expr, error) {
	out := make([]expr.Expr, len(in))
	for i, a := range in {
		e, err := b.bindExpr(a, s, agg, where)
		if err != nil {
			return nil, err
		}
		if out[i], err = b.coerce(e, types.Bool, a.Position(), "argument of "+what); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// bindCommon binds expressions that must share one type (COALESCE, CASE
// results, GREATEST).
func (b *binder) bindCommon(in []sql.Expr, s *scope, agg *postAgg, where string, pos int, what string) ([]expr.Expr, types.Type, error) {
	out := make([]expr.Expr, len(in))
	ts := make([]types.Type, 0, len(in))
	for i, a := range in {
		e, err := b.bindExpr(a, s, agg, where)
		if err != nil {
			return nil, types.Type{}, err
		}
		out[i] = e
		if _, isParam := e.(*expr.Param); !isParam || e.Type().Kind != types.KindNull {
			ts = append(ts, e.Type())
		}
	}
	t, err := expr.CommonTypeIn(what, ts)
	if err != nil {
		return nil, t, withPos(err, b, pos)
	}
	if t.Kind == types.KindNull {
		t = types.Text
	}
	for i, e := range out {
		if out[i], err = b.coerce(e, t, in[i].Position(), ""); err != nil {
			return nil, t, err
		}
	}
	return out, t, nil
}

func (b *binder) bindBetween(x *sql.Between, s *scope, agg *postAgg, where string) (expr.Expr, error) {
	mk := func(lo, hi sql.Expr) (expr.Expr, error) {
		ge, err := b.bindExpr(&sql.Binary{Pos: x.Pos, Op: ">=", Left: x.Arg, Right: lo}, s, agg, where)
		if err != nil {
			return nil, err
		}
		le, err := b.bindExpr(&sql.Binary{Pos: x.Pos, Op: "<=", Left: x.Arg, Right: hi}, s, agg, where)
		if err != nil {
			return nil, err
		}
		return &expr.And{Args: []expr.Expr{ge, le}}, nil
	}
	e, err := mk(x.Low, x.High)
	if err != nil {
		return nil, err
	}
	if x.Symmetric {
		e2, err := mk(x.High, x.Low)
		if err != nil {
			return nil, err
		}
		e = &expr.Or{Args: []expr.Expr{e, e2}}
	}
	if x.Not {
		e = &expr.Not{Arg: e}
	}
	return e, nil
}

func (b *binder) bindIn(x *sql.In, s *scope, agg *postAgg, where string) (expr.Expr, error) {
	all := append([]sql.Expr{x.Arg}, x.List...)
	args, t, err := b.bindCommon(all, s, agg, where, x.Pos, "IN")
	if err != nil {
		return nil, err
	}
	fn, err := expr.LookupOperator("=", t, t)
	if err != nil {
		return nil, withPos(err, b, x.Pos)
	}
	return &expr.InList{Arg: args[0], List: args[1:], Negate: x.Not, Eq: fn}, nil
}

func (b *binder) bindCase(x *sql.Case, s *scope, agg *postAgg, where string) (expr.Expr, error) {
	results := make([]sql.Expr, 0, len(x.Whens)+1)
	for _, w := range x.Whens {
		results = append(results, w.Result)
	}
	if x.Else != nil {
		results = append(results, x.Else)
	}
	vals, t, err := b.bindCommon(results, s, agg, where, x.Pos, "CASE")
	if err != nil {
		return nil, err
	}
	c := &expr.Case{T: t}
	for i, w := range x.Whens {
		var cond expr.Expr
		if x.Operand != nil {
			cond, err = b.bindExpr(&sql.Binary{Pos: w.Pos, Op: "=", Left: x.Operand, Right: w.Cond}, s, agg, where)
		} else {
			cond, err = b.bindExpr(w.Cond, s, agg, where)
			if err == nil {
				cond, err = b.coerce(cond, types.Bool, w.Cond.Position(), "argument of CASE/WHEN")
			}
		}
		if err != nil {
			return nil, err
		}
		c.Whens = append(c.Whens, expr.When{Cond: cond, Then: vals[i]})
	}
	if x.Else != nil {
		c.Else = vals[len(vals)-1]
	} else {
		c.Else = &expr.Const{V: types.Null, T: t}
	}
	return c, nil
}

func (b *binder) bindFunc(x *sql.FuncCall, s *scope, agg *postAgg, where string) (expr.Expr, error) {
	if x.Name == "grouping" && x.Schema == "" && x.Over == nil {
		return b.bindGrouping(x, agg, where)
	}
	if _, ok := isAggregateCall(x); ok {
		if knownAggregates[x.Name] {
			return nil, b.errAt(x.Pos, pgerr.FeatureNotSupported, "aggregate %s is not supported yet", x.Name)
		}
		if where == "" {
			where = "this context"
		}
		return nil, b.errAt(x.Pos, pgerr.GroupingError, "aggregate functions are not allowed in %s", where)
	}
	if x.Over != nil {
		return b.bindWindowRef(x, where)
	}
	if x.Distinct || x.Star || len(x.OrderBy) > 0 || x.Filter != nil || len(x.WithinGroup) > 0 {
		return nil, b.errAt(x.Pos, pgerr.WrongObjectType, "%s is not an aggregate function", x.Name)
	}
	if expr.IsSetFunction(x.Name) {
		if i, ok := b.srf[exprKey(x)]; ok && s != nil && i < len(s.cols) {
			return &expr.ColRef{Idx: i, T: s.cols[i].typ, Name: x.Name}, nil
		}
		return nil, b.errAt(x.Pos, pgerr.FeatureNotSupported, "set-returning function %s is not supported in this position", x.Name)
	}
	args := make([]expr.Expr, len(x.Args))
	ts := make([]types.Type, len(x.Args))
	for i, a := range x.Args {
		e, err := b.bindExpr(a, s, agg, where)
		if err != nil {
			return nil, err
		}
		args[i], ts[i] = e, e.Type()
	}
	if e, ok, err := b.bindSysFunc(x, args); ok {
		return e, err
	}
	fn, err := expr.LookupFunction(x.Name, ts)
	if err != nil {
		return nil, withPos(err, b, x.Pos)
	}
	for i := range args {
		t := fn.Ret
		switch {
		case i < len(fn.Args):
			t = fn.Args[i]
		case fn.Variadic && len(fn.Args) > 0:
			t = fn.Args[len(fn.Args)-1]
		}
		if args[i], err = b.coerce(args[i], t, x.Args[i].Position(), ""); err != nil {
			return nil, err
		}
	}
	return b.fold(&expr.Call{Fn: fn, Args: args}), nil
}
