package sql

import (
	"reflect"
	"sort"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/kappa-db/kappa/pgerr"
)

// converter turns pg_query's protobuf nodes into kappa's AST. text and toks
// are the user's original text and its tokens: locations in the tree are
// byte offsets into text.
type converter struct {
	text string
	toks []token
	// stmtPos is the offset of the statement being converted: the
	// position of errors about nodes that have no location of their own.
	stmtPos int
}

// unsupported is the 0A000 error for a construct kappa does not support, at
// byte offset pos (-1: none).
func (c *converter) unsupported(pos int, format string, args ...any) *pgerr.Error {
	e := pgerr.New(pgerr.FeatureNotSupported, format, args...)
	if pos < 0 {
		pos = c.stmtPos
	}
	if pos >= 0 {
		e = e.WithPosition(CharPos(c.text, pos))
	}
	return e
}

// nodeName is the PostgreSQL node name of n ("AlterTableStmt").
func nodeName(n *pg.Node) string {
	if n == nil || n.Node == nil {
		return "<nil>"
	}
	name := reflect.TypeOf(n.Node).Elem().Name()
	return strings.TrimPrefix(name, "Node_")
}

// nodeLocation is the Location field of n's message when it has one, else
// -1.
func nodeLocation(n *pg.Node) int {
	if n == nil || n.Node == nil {
		return -1
	}
	v := reflect.ValueOf(n.Node).Elem()
	if v.NumField() != 1 {
		return -1
	}
	m := v.Field(0)
	if m.Kind() != reflect.Pointer || m.IsNil() {
		return -1
	}
	f := m.Elem().FieldByName("Location")
	if !f.IsValid() || f.Kind() != reflect.Int32 {
		return -1
	}
	return int(f.Int())
}

// loc turns a pg_query location (-1 when unknown) into a Pos.
func loc(l int32) int { return int(l) }

// strs returns the String values of a list of String nodes.
func (c *converter) strs(nodes []*pg.Node) ([]string, error) {
	if len(nodes) == 0 {
		return nil, nil
	}
	out := make([]string, 0, len(nodes))
	for _, n := range nodes {
		s, ok := n.Node.(*pg.Node_String_)
		if !ok {
			return nil, c.unsupported(nodeLocation(n), "unexpected %s in a name list", nodeName(n))
		}
		out = append(out, s.String_.Sval)
	}
	return out, nil
}

// opName splits an operator name list ([pg_catalog, ~]) into schema and
// name.
func (c *converter) opName(nodes []*pg.Node) (schema, op string, err error) {
	names, err := c.strs(nodes)
	if err != nil {
		return "", "", err
	}
	switch len(names) {
	case 1:
		return "", names[0], nil
	case 2:
		return names[0], names[1], nil
	}
	return "", "", c.unsupported(-1, "operator name %s is not supported", strings.Join(names, "."))
}

func (c *converter) exprs(nodes []*pg.Node) ([]Expr, error) {
	if len(nodes) == 0 {
		return nil, nil
	}
	out := make([]Expr, 0, len(nodes))
	for _, n := range nodes {
		e, err := c.expr(n)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// optExpr converts n, which may be nil.
func (c *converter) optExpr(n *pg.Node) (Expr, error) {
	if n == nil || n.Node == nil {
		return nil, nil
	}
	return c.expr(n)
}

// subquery converts the SelectStmt of a SubLink.
func (c *converter) subquery(n *pg.Node) (*Select, error) {
	s := n.GetSelectStmt()
	if s == nil {
		return nil, c.unsupported(nodeLocation(n), "subquery of kind %s is not supported", nodeName(n))
	}
	return c.selectStmt(s)
}

// expr converts an expression node.
func (c *converter) expr(n *pg.Node) (Expr, error) {
	switch v := n.Node.(type) {
	case *pg.Node_ColumnRef:
		return c.columnRef(v.ColumnRef)
	case *pg.Node_AConst:
		return c.constant(v.AConst), nil
	case *pg.Node_ParamRef:
		return &Param{Pos: loc(v.ParamRef.Location), Number: int(v.ParamRef.Number)}, nil
	case *pg.Node_AExpr:
		return c.aExpr(v.AExpr)
	case *pg.Node_BoolExpr:
		return c.boolExpr(v.BoolExpr)
	case *pg.Node_SubLink:
		return c.subLink(v.SubLink)
	case *pg.Node_FuncCall:
		return c.funcCall(v.FuncCall)
	case *pg.Node_TypeCast:
		return c.typeCast(v.TypeCast)
	case *pg.Node_CaseExpr:
		return c.caseExpr(v.CaseExpr)
	case *pg.Node_NullTest:
		arg, err := c.expr(v.NullTest.Arg)
		if err != nil {
			return nil, err
		}
		return &IsNull{Pos: loc(v.NullTest.Location), Arg: arg, Not: v.NullTest.Nulltesttype == pg.NullTestType_IS_NOT_NULL}, nil
	case *pg.Node_BooleanTest:
		arg, err := c.expr(v.BooleanTest.Arg)
		if err != nil {
			return nil, err
		}
		b := &IsBool{Pos: loc(v.BooleanTest.Location), Arg: arg}
		switch v.BooleanTest.Booltesttype {
		case pg.BoolTestType_IS_TRUE:
			b.Test = TestTrue
		case pg.BoolTestType_IS_NOT_TRUE:
			b.Test, b.Not = TestTrue, true
		case pg.BoolTestType_IS_FALSE:
			b.Test = TestFalse
		case pg.BoolTestType_IS_NOT_FALSE:
			b.Test, b.Not = TestFalse, true
		case pg.BoolTestType_IS_UNKNOWN:
			b.Test = TestUnknown
		case pg.BoolTestType_IS_NOT_UNKNOWN:
			b.Test, b.Not = TestUnknown, true
		}
		return b, nil
	case *pg.Node_CoalesceExpr:
		args, err := c.exprs(v.CoalesceExpr.Args)
		if err != nil {
			return nil, err
		}
		return &Coalesce{Pos: loc(v.CoalesceExpr.Location), Args: args}, nil
	case *pg.Node_MinMaxExpr:
		args, err := c.exprs(v.MinMaxExpr.Args)
		if err != nil {
			return nil, err
		}
		if v.MinMaxExpr.Op == pg.MinMaxOp_IS_LEAST {
			return &Least{Pos: loc(v.MinMaxExpr.Location), Args: args}, nil
		}
		return &Greatest{Pos: loc(v.MinMaxExpr.Location), Args: args}, nil
	case *pg.Node_SqlvalueFunction:
		return c.sqlValueFunction(v.SqlvalueFunction), nil
	case *pg.Node_RowExpr:
		args, err := c.exprs(v.RowExpr.Args)
		if err != nil {
			return nil, err
		}
		return &Row{Pos: loc(v.RowExpr.Location), Args: args, Explicit: v.RowExpr.RowFormat == pg.CoercionForm_COERCE_EXPLICIT_CALL}, nil
	case *pg.Node_AArrayExpr:
		elems, err := c.exprs(v.AArrayExpr.Elements)
		if err != nil {
			return nil, err
		}
		return &ArrayExpr{Pos: loc(v.AArrayExpr.Location), Elems: elems}, nil
	case *pg.Node_CollateClause:
		arg, err := c.expr(v.CollateClause.Arg)
		if err != nil {
			return nil, err
		}
		names, err := c.strs(v.CollateClause.Collname)
		if err != nil {
			return nil, err
		}
		return &Collate{Pos: loc(v.CollateClause.Location), Arg: arg, Collation: names}, nil
	case *pg.Node_AIndirection:
		return c.indirection(v.AIndirection)
	case *pg.Node_GroupingFunc:
		args, err := c.exprs(v.GroupingFunc.Args)
		if err != nil {
			return nil, err
		}
		return &FuncCall{Pos: loc(v.GroupingFunc.Location), Name: "grouping", Args: args}, nil
	case *pg.Node_SetToDefault:
		return &Default{Pos: loc(v.SetToDefault.Location)}, nil
	case *pg.Node_GroupingSet:
		return c.groupingSet(v.GroupingSet)
	}
	return nil, c.unsupported(nodeLocation(n), "expression not supported: %s", nodeName(n))
}

func (c *converter) columnRef(r *pg.ColumnRef) (Expr, error) {
	ref := &ColumnRef{Pos: loc(r.Location)}
	for i, f := range r.Fields {
		switch v := f.Node.(type) {
		case *pg.Node_String_:
			ref.Names = append(ref.Names, v.String_.Sval)
		case *pg.Node_AStar:
			if i != len(r.Fields)-1 {
				return nil, c.unsupported(ref.Pos, "improper use of \"*\"")
			}
			ref.Star = true
		default:
			return nil, c.unsupported(ref.Pos, "column reference element %s is not supported", nodeName(f))
		}
	}
	return ref, nil
}

func (c *converter) constant(k *pg.A_Const) *Literal {
	l := &Literal{Pos: loc(k.Location)}
	if k.Isnull {
		return l
	}
	switch v := k.Val.(type) {
	case *pg.A_Const_Ival:
		l.Kind, l.Value = LitInteger, strconv.FormatInt(int64(v.Ival.GetIval()), 10)
	case *pg.A_Const_Fval:
		l.Kind, l.Value = LitNumeric, v.Fval.GetFval()
	case *pg.A_Const_Boolval:
		l.Kind, l.Value = LitBool, strconv.FormatBool(v.Boolval.GetBoolval())
	case *pg.A_Const_Sval:
		l.Kind, l.Value = LitString, v.Sval.GetSval()
	case *pg.A_Const_Bsval:
		l.Kind, l.Value = LitBitString, v.Bsval.GetBsval()
	default:
		// An A_Const without a value other than NULL: PostgreSQL's
		// grammar never builds one.
		panic("sql: A_Const without a value")
	}
	return l
}

func (c *converter) aExpr(a *pg.A_Expr) (Expr, error) {
	pos := loc(a.Location)
	left, err := c.optExpr(a.Lexpr)
	if err != nil {
		return nil, err
	}
	switch a.Kind {
	case pg.A_Expr_Kind_AEXPR_OP, pg.A_Expr_Kind_AEXPR_LIKE, pg.A_Expr_Kind_AEXPR_ILIKE, pg.A_Expr_Kind_AEXPR_SIMILAR:
		schema, op, err := c.opName(a.Name)
		if err != nil {
			return nil, err
		}
		right, err := c.expr(a.Rexpr)
		if err != nil {
			return nil, err
		}
		if left == nil {
			return &Unary{Pos: pos, Op: op, Schema: schema, Operand: right}, nil
		}
		return &Binary{Pos: pos, Op: op, Schema: schema, Left: left, Right: right}, nil
	case pg.A_Expr_Kind_AEXPR_OP_ANY, pg.A_Expr_Kind_AEXPR_OP_ALL:
		schema, op, err := c.opName(a.Name)
		if err != nil {
			return nil, err
		}
		right, err := c.expr(a.Rexpr)
		if err != nil {
			return nil, err
		}
		return &Quantified{Pos: pos, Op: op, Schema: schema, All: a.Kind == pg.A_Expr_Kind_AEXPR_OP_ALL, Left: left, Array: right}, nil
	case pg.A_Expr_Kind_AEXPR_DISTINCT, pg.A_Expr_Kind_AEXPR_NOT_DISTINCT:
		right, err := c.expr(a.Rexpr)
		if err != nil {
			return nil, err
		}
		return &IsDistinctFrom{Pos: pos, Left: left, Right: right, Not: a.Kind == pg.A_Expr_Kind_AEXPR_NOT_DISTINCT}, nil
	case pg.A_Expr_Kind_AEXPR_NULLIF:
		right, err := c.expr(a.Rexpr)
		if err != nil {
			return nil, err
		}
		return &NullIf{Pos: pos, Left: left, Right: right}, nil
	case pg.A_Expr_Kind_AEXPR_IN:
		_, op, err := c.opName(a.Name)
		if err != nil {
			return nil, err
		}
		list, err := c.exprs(a.Rexpr.GetList().GetItems())
		if err != nil {
			return nil, err
		}
		return &In{Pos: pos, Arg: left, List: list, Not: op == "<>"}, nil
	case pg.A_Expr_Kind_AEXPR_BETWEEN, pg.A_Expr_Kind_AEXPR_NOT_BETWEEN,
		pg.A_Expr_Kind_AEXPR_BETWEEN_SYM, pg.A_Expr_Kind_AEXPR_NOT_BETWEEN_SYM:
		bounds, err := c.exprs(a.Rexpr.GetList().GetItems())
		if err != nil {
			return nil, err
		}
		if len(bounds) != 2 {
			return nil, c.unsupported(pos, "BETWEEN needs two bounds")
		}
		return &Between{
			Pos: pos, Arg: left, Low: bounds[0], High: bounds[1],
			Not:       a.Kind == pg.A_Expr_Kind_AEXPR_NOT_BETWEEN || a.Kind == pg.A_Expr_Kind_AEXPR_NOT_BETWEEN_SYM,
			Symmetric: a.Kind == pg.A_Expr_Kind_AEXPR_BETWEEN_SYM || a.Kind == pg.A_Expr_Kind_AEXPR_NOT_BETWEEN_SYM,
		}, nil
	}
	return nil, c.unsupported(pos, "expression not supported: A_Expr %s", a.Kind)
}

func (c *converter) boolExpr(b *pg.BoolExpr) (Expr, error) {
	pos := loc(b.Location)
	if b.Boolop == pg.BoolExprType_NOT_EXPR && len(b.Args) == 1 {
		// x NOT IN (subquery) is NOT over an IN sublink at the same
		// location.
		if sl := b.Args[0].GetSubLink(); sl != nil && sl.SubLinkType == pg.SubLinkType_ANY_SUBLINK &&
			len(sl.OperName) == 0 && sl.Location == b.Location {
			e, err := c.subLink(sl)
			if err != nil {
				return nil, err
			}
			e.(*InSubquery).Not = true
			return e, nil
		}
	}
	args, err := c.exprs(b.Args)
	if err != nil {
		return nil, err
	}
	switch b.Boolop {
	case pg.BoolExprType_AND_EXPR:
		return &And{Pos: pos, Args: args}, nil
	case pg.BoolExprType_OR_EXPR:
		return &Or{Pos: pos, Args: args}, nil
	case pg.BoolExprType_NOT_EXPR:
		if len(args) == 1 {
			return &Unary{Pos: pos, Op: "NOT", Operand: args[0]}, nil
		}
	}
	return nil, c.unsupported(pos, "expression not supported: BoolExpr %s", b.Boolop)
}

func (c *converter) subLink(s *pg.SubLink) (Expr, error) {
	pos := loc(s.Location)
	q, err := c.subquery(s.Subselect)
	if err != nil {
		return nil, err
	}
	switch s.SubLinkType {
	case pg.SubLinkType_EXISTS_SUBLINK:
		return &Exists{Pos: pos, Query: q}, nil
	case pg.SubLinkType_EXPR_SUBLINK:
		return &ScalarSubquery{Pos: pos, Query: q}, nil
	case pg.SubLinkType_ARRAY_SUBLINK:
		return &ArraySubquery{Pos: pos, Query: q}, nil
	case pg.SubLinkType_ANY_SUBLINK, pg.SubLinkType_ALL_SUBLINK:
		left, err := c.expr(s.Testexpr)
		if err != nil {
			return nil, err
		}
		if len(s.OperName) == 0 {
			return &InSubquery{Pos: pos, Arg: left, Query: q}, nil
		}
		schema, op, err := c.opName(s.OperName)
		if err != nil {
			return nil, err
		}
		return &Quantified{Pos: pos, Op: op, Schema: schema, All: s.SubLinkType == pg.SubLinkType_ALL_SUBLINK, Left: left, Query: q}, nil
	}
	return nil, c.unsupported(pos, "subquery expression not supported: %s", s.SubLinkType)
}

func (c *converter) funcCall(f *pg.FuncCall) (Expr, error) {
	pos := loc(f.Location)
	names, err := c.strs(f.Funcname)
	if err != nil {
		return nil, err
	}
	fc := &FuncCall{Pos: pos, Star: f.AggStar, Distinct: f.AggDistinct, Variadic: f.FuncVariadic}
	switch len(names) {
	case 1:
		fc.Name = names[0]
	case 2:
		fc.Schema, fc.Name = names[0], names[1]
	default:
		return nil, c.unsupported(pos, "cross-database references are not implemented: %s", strings.Join(names, "."))
	}
	for i, a := range f.Args {
		if na := a.GetNamedArgExpr(); na != nil {
			if fc.ArgNames == nil {
				fc.ArgNames = make([]string, len(f.Args))
			}
			fc.ArgNames[i] = na.Name
			a = na.Arg
		}
		e, err := c.expr(a)
		if err != nil {
			return nil, err
		}
		fc.Args = append(fc.Args, e)
	}
	order, err := c.sortList(f.AggOrder)
	if err != nil {
		return nil, err
	}
	if f.AggWithinGroup {
		fc.WithinGroup = order
	} else {
		fc.OrderBy = order
	}
	if fc.Filter, err = c.optExpr(f.AggFilter); err != nil {
		return nil, err
	}
	if f.Over != nil {
		if fc.Over, err = c.windowDef(f.Over); err != nil {
			return nil, err
		}
	}
	return fc, nil
}

func (c *converter) sqlValueFunction(s *pg.SQLValueFunction) Expr {
	fc := &FuncCall{Pos: loc(s.Location)}
	precision := false
	switch s.Op {
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_DATE:
		fc.Keyword, fc.Name = "CURRENT_DATE", "current_date"
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_TIME:
		fc.Keyword, fc.Name = "CURRENT_TIME", "current_time"
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_TIME_N:
		fc.Keyword, fc.Name, precision = "CURRENT_TIME", "current_time", true
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP:
		fc.Keyword, fc.Name = "CURRENT_TIMESTAMP", "current_timestamp"
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP_N:
		fc.Keyword, fc.Name, precision = "CURRENT_TIMESTAMP", "current_timestamp", true
	case pg.SQLValueFunctionOp_SVFOP_LOCALTIME:
		fc.Keyword, fc.Name = "LOCALTIME", "localtime"
	case pg.SQLValueFunctionOp_SVFOP_LOCALTIME_N:
		fc.Keyword, fc.Name, precision = "LOCALTIME", "localtime", true
	case pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP:
		fc.Keyword, fc.Name = "LOCALTIMESTAMP", "localtimestamp"
	case pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP_N:
		fc.Keyword, fc.Name, precision = "LOCALTIMESTAMP", "localtimestamp", true
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_ROLE:
		fc.Keyword, fc.Name = "CURRENT_ROLE", "current_user"
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_USER:
		fc.Keyword, fc.Name = "CURRENT_USER", "current_user"
	case pg.SQLValueFunctionOp_SVFOP_USER:
		fc.Keyword, fc.Name = "USER", "current_user"
	case pg.SQLValueFunctionOp_SVFOP_SESSION_USER:
		fc.Keyword, fc.Name = "SESSION_USER", "session_user"
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_CATALOG:
		fc.Keyword, fc.Name = "CURRENT_CATALOG", "current_database"
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_SCHEMA:
		fc.Keyword, fc.Name = "CURRENT_SCHEMA", "current_schema"
	}
	if precision {
		fc.Args = []Expr{&Literal{Pos: -1, Kind: LitInteger, Value: strconv.Itoa(int(s.Typmod))}}
	}
	return fc
}

func (c *converter) typeCast(t *pg.TypeCast) (Expr, error) {
	typ, err := c.typeName(t.TypeName)
	if err != nil {
		return nil, err
	}
	// DATE '2024-01-01': a string constant whose type name comes first.
	if k := t.Arg.GetAConst(); k != nil && !k.Isnull && t.TypeName.Location >= 0 && t.TypeName.Location < k.Location {
		if sv, ok := k.Val.(*pg.A_Const_Sval); ok {
			return &TypedLiteral{Pos: typ.Pos, Type: typ, Value: sv.Sval.GetSval()}, nil
		}
	}
	arg, err := c.expr(t.Arg)
	if err != nil {
		return nil, err
	}
	cast := &Cast{Pos: loc(t.Location), Arg: arg, Type: typ, Syntax: CastFunction}
	if p := cast.Pos; p >= 0 && p+2 <= len(c.text) && c.text[p:p+2] == "::" {
		cast.Syntax = CastColons
	}
	return cast, nil
}

func (c *converter) caseExpr(k *pg.CaseExpr) (Expr, error) {
	ce := &Case{Pos: loc(k.Location)}
	var err error
	if ce.Operand, err = c.optExpr(k.Arg); err != nil {
		return nil, err
	}
	for _, w := range k.Args {
		cw := w.GetCaseWhen()
		if cw == nil {
			return nil, c.unsupported(ce.Pos, "unexpected %s in CASE", nodeName(w))
		}
		cond, err := c.expr(cw.Expr)
		if err != nil {
			return nil, err
		}
		res, err := c.expr(cw.Result)
		if err != nil {
			return nil, err
		}
		ce.Whens = append(ce.Whens, &When{Pos: loc(cw.Location), Cond: cond, Result: res})
	}
	if ce.Else, err = c.optExpr(k.Defresult); err != nil {
		return nil, err
	}
	return ce, nil
}

func (c *converter) indirection(ind *pg.A_Indirection) (Expr, error) {
	e, err := c.expr(ind.Arg)
	if err != nil {
		return nil, err
	}
	for _, n := range ind.Indirection {
		pos := e.Position()
		switch v := n.Node.(type) {
		case *pg.Node_AIndices:
			s := &Subscript{Pos: pos, Arg: e, Slice: v.AIndices.IsSlice}
			if s.Index, err = c.optExpr(v.AIndices.Lidx); err != nil {
				return nil, err
			}
			if s.Upper, err = c.optExpr(v.AIndices.Uidx); err != nil {
				return nil, err
			}
			if !s.Slice {
				// PostgreSQL puts a plain subscript in Uidx.
				s.Index, s.Upper = s.Upper, nil
			}
			e = s
		case *pg.Node_String_:
			e = &FieldAccess{Pos: pos, Arg: e, Field: v.String_.Sval}
		case *pg.Node_AStar:
			e = &FieldAccess{Pos: pos, Arg: e, Star: true}
		default:
			return nil, c.unsupported(pos, "indirection %s is not supported", nodeName(n))
		}
	}
	return e, nil
}

func (c *converter) groupingSet(g *pg.GroupingSet) (Expr, error) {
	items, err := c.exprs(g.Content)
	if err != nil {
		return nil, err
	}
	gs := &GroupingSet{Pos: loc(g.Location), Items: items}
	switch g.Kind {
	case pg.GroupingSetKind_GROUPING_SET_EMPTY:
		gs.Kind = GroupingEmpty
	case pg.GroupingSetKind_GROUPING_SET_SIMPLE:
		gs.Kind = GroupingSimple
	case pg.GroupingSetKind_GROUPING_SET_ROLLUP:
		gs.Kind = GroupingRollup
	case pg.GroupingSetKind_GROUPING_SET_CUBE:
		gs.Kind = GroupingCube
	case pg.GroupingSetKind_GROUPING_SET_SETS:
		gs.Kind = GroupingSets
	}
	return gs, nil
}

// Frame option bits of PostgreSQL's WindowDef.frameOptions (parsenodes.h).
const (
	frameNonDefault             = 0x00001
	frameRange                  = 0x00002
	frameRows                   = 0x00004
	frameGroups                 = 0x00008
	frameStartUnboundedPreced   = 0x00020
	frameEndUnboundedPreceding  = 0x00040
	frameStartUnboundedFollow   = 0x00080
	frameEndUnboundedFollowing  = 0x00100
	frameStartCurrentRow        = 0x00200
	frameEndCurrentRow          = 0x00400
	frameStartOffsetPreceding   = 0x00800
	frameEndOffsetPreceding     = 0x01000
	frameStartOffsetFollowing   = 0x02000
	frameEndOffsetFollowing     = 0x04000
	frameExcludeCurrentRow      = 0x08000
	frameExcludeGroup           = 0x10000
	frameExcludeTies            = 0x20000
	frameDefaultOptions         = frameRange | frameStartUnboundedPreced | frameEndCurrentRow
	frameOptionsUnusedByDefault = frameNonDefault
)

func (c *converter) windowDef(w *pg.WindowDef) (*WindowDef, error) {
	wd := &WindowDef{Pos: loc(w.Location), Name: w.Name, RefName: w.Refname}
	var err error
	if wd.PartitionBy, err = c.exprs(w.PartitionClause); err != nil {
		return nil, err
	}
	if wd.OrderBy, err = c.sortList(w.OrderClause); err != nil {
		return nil, err
	}
	o := w.FrameOptions
	if o&frameNonDefault == 0 {
		return wd, nil
	}
	f := &WindowFrame{}
	switch {
	case o&frameRows != 0:
		f.Mode = FrameRows
	case o&frameGroups != 0:
		f.Mode = FrameGroups
	default:
		f.Mode = FrameRange
	}
	switch {
	case o&frameStartUnboundedPreced != 0:
		f.Start.Kind = BoundUnboundedPreceding
	case o&frameStartUnboundedFollow != 0:
		f.Start.Kind = BoundUnboundedFollowing
	case o&frameStartCurrentRow != 0:
		f.Start.Kind = BoundCurrentRow
	case o&frameStartOffsetPreceding != 0:
		f.Start.Kind = BoundPreceding
	case o&frameStartOffsetFollowing != 0:
		f.Start.Kind = BoundFollowing
	}
	switch {
	case o&frameEndUnboundedPreceding != 0:
		f.End.Kind = BoundUnboundedPreceding
	case o&frameEndUnboundedFollowing != 0:
		f.End.Kind = BoundUnboundedFollowing
	case o&frameEndCurrentRow != 0:
		f.End.Kind = BoundCurrentRow
	case o&frameEndOffsetPreceding != 0:
		f.End.Kind = BoundPreceding
	case o&frameEndOffsetFollowing != 0:
		f.End.Kind = BoundFollowing
	default:
		f.End.Kind = BoundCurrentRow
	}
	switch {
	case o&frameExcludeCurrentRow != 0:
		f.Exclude = ExcludeCurrentRow
	case o&frameExcludeGroup != 0:
		f.Exclude = ExcludeGroup
	case o&frameExcludeTies != 0:
		f.Exclude = ExcludeTies
	}
	if f.Start.Offset, err = c.optExpr(w.StartOffset); err != nil {
		return nil, err
	}
	if f.End.Offset, err = c.optExpr(w.EndOffset); err != nil {
		return nil, err
	}
	wd.Frame = f
	return wd, nil
}

func (c *converter) sortList(nodes []*pg.Node) ([]*OrderItem, error) {
	if len(nodes) == 0 {
		return nil, nil
	}
	out := make([]*OrderItem, 0, len(nodes))
	for _, n := range nodes {
		sb := n.GetSortBy()
		if sb == nil {
			return nil, c.unsupported(nodeLocation(n), "unexpected %s in ORDER BY", nodeName(n))
		}
		e, err := c.expr(sb.Node)
		if err != nil {
			return nil, err
		}
		item := &OrderItem{Pos: e.Position(), Expr: e}
		switch sb.SortbyDir {
		case pg.SortByDir_SORTBY_ASC:
			item.Dir = SortAsc
		case pg.SortByDir_SORTBY_DESC:
			item.Dir = SortDesc
		case pg.SortByDir_SORTBY_USING:
			item.Dir = SortUsing
			_, op, err := c.opName(sb.UseOp)
			if err != nil {
				return nil, err
			}
			item.UsingOp = op
		}
		switch sb.SortbyNulls {
		case pg.SortByNulls_SORTBY_NULLS_FIRST:
			item.Nulls = NullsFirst
		case pg.SortByNulls_SORTBY_NULLS_LAST:
			item.Nulls = NullsLast
		}
		out = append(out, item)
	}
	return out, nil
}

// Interval field masks of PostgreSQL's interval typmod (datetime.h).
const (
	intervalMonth     = 1 << 1
	intervalYear      = 1 << 2
	intervalDay       = 1 << 3
	intervalHour      = 1 << 10
	intervalMinute    = 1 << 11
	intervalSecond    = 1 << 12
	intervalFullRange = 0x7FFF
)

var intervalFieldNames = map[int32]string{
	intervalYear:                 "YEAR",
	intervalMonth:                "MONTH",
	intervalDay:                  "DAY",
	intervalHour:                 "HOUR",
	intervalMinute:               "MINUTE",
	intervalSecond:               "SECOND",
	intervalYear | intervalMonth: "YEAR TO MONTH",
	intervalDay | intervalHour:   "DAY TO HOUR",
	intervalDay | intervalHour | intervalMinute:                  "DAY TO MINUTE",
	intervalDay | intervalHour | intervalMinute | intervalSecond: "DAY TO SECOND",
	intervalHour | intervalMinute:                                "HOUR TO MINUTE",
	intervalHour | intervalMinute | intervalSecond:               "HOUR TO SECOND",
	intervalMinute | intervalSecond:                              "MINUTE TO SECOND",
}

func (c *converter) typeName(t *pg.TypeName) (*TypeName, error) {
	pos := loc(t.Location)
	names, err := c.strs(t.Names)
	if err != nil {
		return nil, err
	}
	if len(names) > 1 && names[0] == "pg_catalog" {
		names = names[1:]
	}
	if len(names) == 0 {
		return nil, c.unsupported(pos, "type name without a name")
	}
	tn := &TypeName{Pos: pos, Names: names, Name: names[len(names)-1], PctType: t.PctType, Setof: t.Setof}
	for _, m := range t.Typmods {
		k := m.GetAConst()
		iv, ok := k.GetVal().(*pg.A_Const_Ival)
		if k == nil || !ok {
			return nil, c.unsupported(nodeLocation(m), "type modifiers must be simple constants")
		}
		tn.Typmods = append(tn.Typmods, iv.Ival.GetIval())
	}
	if tn.Name == "interval" && len(tn.Typmods) > 0 {
		mask := tn.Typmods[0]
		if mask != intervalFullRange {
			name, ok := intervalFieldNames[mask]
			if !ok {
				return nil, c.unsupported(pos, "invalid interval type modifier")
			}
			tn.IntervalFields = name
		}
		tn.Typmods = tn.Typmods[1:]
		if len(tn.Typmods) == 0 {
			tn.Typmods = nil
		}
	}
	for _, b := range t.ArrayBounds {
		iv := b.GetInteger()
		if iv == nil {
			return nil, c.unsupported(pos, "array bounds must be integers")
		}
		tn.ArrayBounds = append(tn.ArrayBounds, iv.Ival)
	}
	return tn, nil
}

// lastTokenAtOrBefore returns the index of the last token starting at or
// before off, or -1.
func (c *converter) lastTokenAtOrBefore(off int) int {
	return sort.Search(len(c.toks), func(i int) bool { return c.toks[i].start > off }) - 1
}

// keywordBefore returns the start of the nearest token of kind kind at or
// before byte off, or -1.
func (c *converter) keywordBefore(off int, kinds ...pg.Token) int {
	for i := c.lastTokenAtOrBefore(off); i >= 0; i-- {
		for _, k := range kinds {
			if c.toks[i].kind == k {
				return c.toks[i].start
			}
		}
	}
	return -1
}
