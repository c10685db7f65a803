package expr

import (
	"fmt"
	"strconv"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/kappa-db/kappa/types"
)

// A tiny binder from pg_query's parse tree to expr nodes, for the tests
// only: it lets the testdata files hold real SQL expressions, parsed
// exactly as PostgreSQL parses them, so that the same lines can be sent to
// PostgreSQL to record the expected answers. The real binder is the
// planner's.

func parseExpr(sql string) (Expr, error) {
	tree, err := pg_query.Parse("SELECT " + sql)
	if err != nil {
		return nil, err
	}
	sel := tree.Stmts[0].Stmt.GetSelectStmt()
	if sel == nil || len(sel.TargetList) != 1 {
		return nil, fmt.Errorf("not a single-expression SELECT")
	}
	return bindNode(sel.TargetList[0].GetResTarget().Val)
}

func nodeName(ns []*pg_query.Node) string {
	var parts []string
	for _, n := range ns {
		parts = append(parts, n.GetString_().Sval)
	}
	if len(parts) > 1 && parts[0] == "pg_catalog" {
		parts = parts[1:]
	}
	return strings.Join(parts, ".")
}

func bindList(ns []*pg_query.Node) ([]Expr, error) {
	out := make([]Expr, len(ns))
	for i, n := range ns {
		e, err := bindNode(n)
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}

func bindTypeName(tn *pg_query.TypeName) (types.Type, error) {
	var mods []int32
	for _, m := range tn.Typmods {
		if c := m.GetAConst(); c != nil && c.GetIval() != nil {
			mods = append(mods, c.GetIval().Ival)
		}
	}
	name := nodeName(tn.Names)
	if name == "interval" {
		mods = nil // field restrictions (INTERVAL '1' DAY) are not modelled
	}
	if len(tn.ArrayBounds) > 0 {
		name += "[]"
	}
	return types.ParseTypeName(name, mods)
}

func bindNode(n *pg_query.Node) (Expr, error) {
	switch {
	case n.GetAConst() != nil:
		c := n.GetAConst()
		switch {
		case c.Isnull:
			return &Const{V: types.Null, T: types.Unknown}, nil
		case c.GetIval() != nil:
			return &Const{V: types.NewInt4(int64(c.GetIval().Ival)), T: types.Int4}, nil
		case c.GetFval() != nil:
			s := c.GetFval().Fval
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				if i == int64(int32(i)) { // -2147483648 arrives as a float
					return &Const{V: types.NewInt4(i), T: types.Int4}, nil
				}
				return &Const{V: types.NewInt8(i), T: types.Int8}, nil
			}
			v, err := types.ParseText(types.Numeric, s, nil)
			if err != nil {
				return nil, err
			}
			return &Const{V: v, T: types.Numeric}, nil
		case c.GetSval() != nil:
			return &Const{V: types.NewText(c.GetSval().Sval), T: types.Unknown}, nil
		case c.GetBoolval() != nil:
			return &Const{V: types.NewBool(c.GetBoolval().Boolval), T: types.Bool}, nil
		}
	case n.GetTypeCast() != nil:
		tc := n.GetTypeCast()
		arg, err := bindNode(tc.Arg)
		if err != nil {
			return nil, err
		}
		t, err := bindTypeName(tc.TypeName)
		if err != nil {
			return nil, err
		}
		return CastTo(arg, t)
	case n.GetAExpr() != nil:
		return bindAExpr(n.GetAExpr())
	case n.GetBoolExpr() != nil:
		b := n.GetBoolExpr()
		args, err := bindList(b.Args)
		if err != nil {
			return nil, err
		}
		switch b.Boolop {
		case pg_query.BoolExprType_AND_EXPR:
			return NewAnd(args...)
		case pg_query.BoolExprType_OR_EXPR:
			return NewOr(args...)
		}
		return NewNot(args[0])
	case n.GetNullTest() != nil:
		t := n.GetNullTest()
		arg, err := bindNode(t.Arg)
		if err != nil {
			return nil, err
		}
		return &IsNull{Arg: arg, Negate: t.Nulltesttype == pg_query.NullTestType_IS_NOT_NULL}, nil
	case n.GetBooleanTest() != nil:
		t := n.GetBooleanTest()
		arg, err := bindNode(t.Arg)
		if err != nil {
			return nil, err
		}
		switch t.Booltesttype {
		case pg_query.BoolTestType_IS_TRUE:
			return NewIsBool(arg, true, false)
		case pg_query.BoolTestType_IS_NOT_TRUE:
			return NewIsBool(arg, true, true)
		case pg_query.BoolTestType_IS_FALSE:
			return NewIsBool(arg, false, false)
		case pg_query.BoolTestType_IS_NOT_FALSE:
			return NewIsBool(arg, false, true)
		}
		a, err := CoerceBool(arg, "IS UNKNOWN")
		if err != nil {
			return nil, err
		}
		return &IsNull{Arg: a, Negate: t.Booltesttype == pg_query.BoolTestType_IS_NOT_UNKNOWN}, nil
	case n.GetCaseExpr() != nil:
		c := n.GetCaseExpr()
		var subject Expr
		if c.Arg != nil {
			var err error
			if subject, err = bindNode(c.Arg); err != nil {
				return nil, err
			}
		}
		var whens []When
		for _, w := range c.Args {
			cw := w.GetCaseWhen()
			cond, err := bindNode(cw.Expr)
			if err != nil {
				return nil, err
			}
			if subject != nil {
				if cond, err = BindOperator("=", subject, cond); err != nil {
					return nil, err
				}
			}
			then, err := bindNode(cw.Result)
			if err != nil {
				return nil, err
			}
			whens = append(whens, When{Cond: cond, Then: then})
		}
		var els Expr
		if c.Defresult != nil {
			var err error
			if els, err = bindNode(c.Defresult); err != nil {
				return nil, err
			}
		}
		return NewCase(whens, els)
	case n.GetCoalesceExpr() != nil:
		args, err := bindList(n.GetCoalesceExpr().Args)
		if err != nil {
			return nil, err
		}
		return NewCoalesce(args)
	case n.GetMinMaxExpr() != nil:
		m := n.GetMinMaxExpr()
		args, err := bindList(m.Args)
		if err != nil {
			return nil, err
		}
		return NewGreatest(args, m.Op == pg_query.MinMaxOp_IS_LEAST)
	case n.GetFuncCall() != nil:
		f := n.GetFuncCall()
		args, err := bindList(f.Args)
		if err != nil {
			return nil, err
		}
		return BindFunction(nodeName(f.Funcname), args)
	case n.GetAArrayExpr() != nil:
		elems, err := bindList(n.GetAArrayExpr().Elements)
		if err != nil {
			return nil, err
		}
		out, t, err := coerceAll("ARRAY", elems)
		if err != nil {
			return nil, err
		}
		return &testArray{elems: out, t: types.ArrayOf(t)}, nil
	case n.GetSqlvalueFunction() != nil:
		names := map[pg_query.SQLValueFunctionOp]string{
			pg_query.SQLValueFunctionOp_SVFOP_CURRENT_DATE:      "current_date",
			pg_query.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP: "current_timestamp",
			pg_query.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP:    "localtimestamp",
			pg_query.SQLValueFunctionOp_SVFOP_LOCALTIME:         "localtime",
		}
		name, ok := names[n.GetSqlvalueFunction().Op]
		if !ok {
			return nil, fmt.Errorf("unsupported SQL value function")
		}
		return BindFunction(name, nil)
	}
	return nil, fmt.Errorf("unsupported node %T", n.Node)
}

func bindAExpr(a *pg_query.A_Expr) (Expr, error) {
	name := nodeName(a.Name)
	var l Expr
	if a.Lexpr != nil {
		var err error
		if l, err = bindNode(a.Lexpr); err != nil {
			return nil, err
		}
	}
	switch a.Kind {
	case pg_query.A_Expr_Kind_AEXPR_IN:
		list, err := bindList(a.Rexpr.GetList().Items)
		if err != nil {
			return nil, err
		}
		return NewInList(l, list, name == "<>")
	case pg_query.A_Expr_Kind_AEXPR_BETWEEN, pg_query.A_Expr_Kind_AEXPR_NOT_BETWEEN:
		bounds, err := bindList(a.Rexpr.GetList().Items)
		if err != nil {
			return nil, err
		}
		if a.Kind == pg_query.A_Expr_Kind_AEXPR_BETWEEN {
			lo, err := BindOperator(">=", l, bounds[0])
			if err != nil {
				return nil, err
			}
			hi, err := BindOperator("<=", l, bounds[1])
			if err != nil {
				return nil, err
			}
			return NewAnd(lo, hi)
		}
		lo, err := BindOperator("<", l, bounds[0])
		if err != nil {
			return nil, err
		}
		hi, err := BindOperator(">", l, bounds[1])
		if err != nil {
			return nil, err
		}
		return NewOr(lo, hi)
	}
	r, err := bindNode(a.Rexpr)
	if err != nil {
		return nil, err
	}
	switch a.Kind {
	case pg_query.A_Expr_Kind_AEXPR_OP, pg_query.A_Expr_Kind_AEXPR_LIKE, pg_query.A_Expr_Kind_AEXPR_ILIKE, pg_query.A_Expr_Kind_AEXPR_SIMILAR:
		if l == nil {
			return BindUnaryOperator(name, r)
		}
		return BindOperator(name, l, r)
	case pg_query.A_Expr_Kind_AEXPR_OP_ANY:
		return NewScalarArrayOp(name, l, r, false)
	case pg_query.A_Expr_Kind_AEXPR_OP_ALL:
		return NewScalarArrayOp(name, l, r, true)
	case pg_query.A_Expr_Kind_AEXPR_DISTINCT:
		return NewIsDistinct(l, r, false)
	case pg_query.A_Expr_Kind_AEXPR_NOT_DISTINCT:
		return NewIsDistinct(l, r, true)
	case pg_query.A_Expr_Kind_AEXPR_NULLIF:
		return NewNullIf(l, r)
	}
	return nil, fmt.Errorf("unsupported A_Expr kind %v", a.Kind)
}

// testArray is ARRAY[...] for the tests (kappa's planner has its own).
type testArray struct {
	elems []Expr
	t     types.Type
}

func (a *testArray) Type() types.Type { return a.t }
func (a *testArray) String() string   { return joinExprs("ARRAY[", a.elems, ", ", "]") }
func (a *testArray) Eval(ctx *EvalContext, row types.Row) (types.Value, error) {
	vs := make([]types.Value, len(a.elems))
	for i, e := range a.elems {
		v, err := e.Eval(ctx, row)
		if err != nil {
			return types.Null, err
		}
		vs[i] = v
	}
	return types.NewArray(vs), nil
}
