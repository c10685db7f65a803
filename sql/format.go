package sql

import (
	"strconv"
	"strings"
)

// Format turns a node back into SQL text that PostgreSQL (and Parse) reads
// as the same tree: expressions, queries, type names and FROM items. Nested
// operator expressions are parenthesized, so the text does not depend on
// operator precedence. A statement other than a query is formatted as its
// original Text when it has one.
func Format(n Node) string {
	var w formatter
	w.node(n)
	return w.String()
}

// FormatName quotes an identifier when PostgreSQL needs it quoted: when it
// is not all lower case letters, digits, '_' and '$' starting with a letter
// or '_', or when it is a reserved keyword.
func FormatName(s string) string {
	if s != "" && !reservedWords[s] {
		ok := true
		for i := 0; i < len(s); i++ {
			ch := s[i]
			if ch >= 'a' && ch <= 'z' || ch == '_' || i > 0 && (ch >= '0' && ch <= '9' || ch == '$') {
				continue
			}
			ok = false
			break
		}
		if ok {
			return s
		}
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// reservedWords are PostgreSQL's reserved keywords and the type/function
// name keywords that cannot be column names; identifiers spelled like them
// are quoted.
var reservedWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`all analyse analyze and any array as asc asymmetric both case cast
		check collate column constraint create current_catalog current_date current_role current_time
		current_timestamp current_user default deferrable desc distinct do else end except false fetch for
		foreign from grant group having in initially intersect into lateral leading limit localtime
		localtimestamp not null offset on only or order placing primary references returning select
		session_user some symmetric system_user table then to trailing true union unique user using
		variadic when where window with`) {
		m[w] = true
	}
	for w := range typeFuncNameWords {
		m[w] = true
	}
	return m
}()

// typeFuncNameWords are the keywords that may name a function or type but
// not a column: a function name spelled like one needs no quotes.
var typeFuncNameWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`authorization binary collation concurrently cross current_schema
		freeze full ilike inner is isnull join left like natural notnull outer overlaps right similar
		tablesample verbose`) {
		m[w] = true
	}
	return m
}()

// funcName writes a function name, quoted only when a function call needs
// it.
func (w *formatter) funcName(s string) {
	if typeFuncNameWords[s] {
		w.WriteString(s)
		return
	}
	w.name(s)
}

// quoteString is a standard SQL string literal.
func quoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

type formatter struct {
	strings.Builder
}

func (w *formatter) name(s string) { w.WriteString(FormatName(s)) }

func (w *formatter) names(parts []string) {
	for i, p := range parts {
		if i > 0 {
			w.WriteByte('.')
		}
		w.name(p)
	}
}

func (w *formatter) objectName(n ObjectName) {
	if n.Catalog != "" {
		w.name(n.Catalog)
		w.WriteByte('.')
	}
	if n.Schema != "" {
		w.name(n.Schema)
		w.WriteByte('.')
	}
	w.name(n.Name)
}

func (w *formatter) exprList(es []Expr) {
	for i, e := range es {
		if i > 0 {
			w.WriteString(", ")
		}
		w.node(e)
	}
}

// operand writes e, parenthesized when it is an operator expression.
func (w *formatter) operand(e Expr) {
	switch v := e.(type) {
	case *Binary, *Unary, *And, *Or, *IsNull, *IsBool, *IsDistinctFrom, *Between, *In,
		*InSubquery, *Quantified, *Collate:
		w.WriteByte('(')
		w.node(e)
		w.WriteByte(')')
	case *Literal:
		// A negative number as an operand: -1 would otherwise merge with a
		// preceding operator.
		if strings.HasPrefix(v.Value, "-") && v.Kind != LitString {
			w.WriteByte('(')
			w.node(e)
			w.WriteByte(')')
			return
		}
		w.node(e)
	default:
		w.node(e)
	}
}

func (w *formatter) opName(schema, op string) {
	if schema != "" {
		w.WriteString("OPERATOR(")
		w.name(schema)
		w.WriteByte('.')
		w.WriteString(op)
		w.WriteByte(')')
		return
	}
	w.WriteString(op)
}

func (w *formatter) node(n Node) {
	switch v := n.(type) {
	case nil:
		w.WriteString("<nil>")
	case *ColumnRef:
		w.names(v.Names)
		if v.Star {
			if len(v.Names) > 0 {
				w.WriteByte('.')
			}
			w.WriteByte('*')
		}
	case *Literal:
		w.literal(v)
	case *TypedLiteral:
		w.typeName(v.Type, false)
		w.WriteByte(' ')
		w.WriteString(quoteString(v.Value))
		if v.Type.IntervalFields != "" {
			w.WriteByte(' ')
			w.WriteString(v.Type.IntervalFields)
			if len(v.Type.Typmods) > 0 {
				w.WriteString("(" + strconv.Itoa(int(v.Type.Typmods[0])) + ")")
			}
		}
	case *Param:
		w.WriteString("$" + strconv.Itoa(v.Number))
	case *Unary:
		if v.Op == "NOT" {
			w.WriteString("NOT ")
		} else {
			w.opName(v.Schema, v.Op)
			w.WriteByte(' ')
		}
		w.operand(v.Operand)
	case *Binary:
		w.operand(v.Left)
		w.WriteByte(' ')
		w.opName(v.Schema, v.Op)
		w.WriteByte(' ')
		w.operand(v.Right)
	case *And:
		w.boolList(v.Args, " AND ")
	case *Or:
		w.boolList(v.Args, " OR ")
	case *IsNull:
		w.operand(v.Arg)
		if v.Not {
			w.WriteString(" IS NOT NULL")
		} else {
			w.WriteString(" IS NULL")
		}
	case *IsBool:
		w.operand(v.Arg)
		w.WriteString(" IS ")
		if v.Not {
			w.WriteString("NOT ")
		}
		w.WriteString(v.Test.String())
	case *IsDistinctFrom:
		w.operand(v.Left)
		if v.Not {
			w.WriteString(" IS NOT DISTINCT FROM ")
		} else {
			w.WriteString(" IS DISTINCT FROM ")
		}
		w.operand(v.Right)
	case *Between:
		w.operand(v.Arg)
		if v.Not {
			w.WriteString(" NOT")
		}
		w.WriteString(" BETWEEN ")
		if v.Symmetric {
			w.WriteString("SYMMETRIC ")
		}
		w.operand(v.Low)
		w.WriteString(" AND ")
		w.operand(v.High)
	case *In:
		w.operand(v.Arg)
		if v.Not {
			w.WriteString(" NOT")
		}
		w.WriteString(" IN (")
		w.exprList(v.List)
		w.WriteByte(')')
	case *InSubquery:
		w.operand(v.Arg)
		if v.Not {
			w.WriteString(" NOT")
		}
		w.WriteString(" IN (")
		w.node(v.Query)
		w.WriteByte(')')
	case *Quantified:
		w.operand(v.Left)
		w.WriteByte(' ')
		w.opName(v.Schema, v.Op)
		if v.All {
			w.WriteString(" ALL (")
		} else {
			w.WriteString(" ANY (")
		}
		if v.Query != nil {
			w.node(v.Query)
		} else {
			w.node(v.Array)
		}
		w.WriteByte(')')
	case *Exists:
		w.WriteString("EXISTS (")
		w.node(v.Query)
		w.WriteByte(')')
	case *ScalarSubquery:
		w.WriteByte('(')
		w.node(v.Query)
		w.WriteByte(')')
	case *ArraySubquery:
		w.WriteString("ARRAY(")
		w.node(v.Query)
		w.WriteByte(')')
	case *Case:
		w.WriteString("CASE")
		if v.Operand != nil {
			w.WriteByte(' ')
			w.node(v.Operand)
		}
		for _, wh := range v.Whens {
			w.WriteString(" WHEN ")
			w.node(wh.Cond)
			w.WriteString(" THEN ")
			w.node(wh.Result)
		}
		if v.Else != nil {
			w.WriteString(" ELSE ")
			w.node(v.Else)
		}
		w.WriteString(" END")
	case *When:
		w.WriteString("WHEN ")
		w.node(v.Cond)
		w.WriteString(" THEN ")
		w.node(v.Result)
	case *Coalesce:
		w.WriteString("COALESCE(")
		w.exprList(v.Args)
		w.WriteByte(')')
	case *NullIf:
		w.WriteString("NULLIF(")
		w.node(v.Left)
		w.WriteString(", ")
		w.node(v.Right)
		w.WriteByte(')')
	case *Greatest:
		w.WriteString("GREATEST(")
		w.exprList(v.Args)
		w.WriteByte(')')
	case *Least:
		w.WriteString("LEAST(")
		w.exprList(v.Args)
		w.WriteByte(')')
	case *Cast:
		if v.Syntax == CastFunction {
			w.WriteString("CAST(")
			w.node(v.Arg)
			w.WriteString(" AS ")
			w.typeName(v.Type, true)
			w.WriteByte(')')
			return
		}
		switch v.Arg.(type) {
		case *ColumnRef, *FuncCall, *Param, *Cast, *ScalarSubquery, *Row, *ArrayExpr, *Case:
			w.node(v.Arg)
		case *Literal:
			w.operand(v.Arg)
		default:
			w.WriteByte('(')
			w.node(v.Arg)
			w.WriteByte(')')
		}
		w.WriteString("::")
		w.typeName(v.Type, true)
	case *FuncCall:
		w.funcCall(v)
	case *ArrayExpr:
		w.WriteString("ARRAY")
		w.arrayElems(v)
	case *Subscript:
		w.indirectionArg(v.Arg)
		w.WriteByte('[')
		if v.Index != nil {
			w.node(v.Index)
		}
		if v.Slice {
			w.WriteByte(':')
			if v.Upper != nil {
				w.node(v.Upper)
			}
		}
		w.WriteByte(']')
	case *FieldAccess:
		w.WriteByte('(')
		w.node(v.Arg)
		w.WriteString(").")
		if v.Star {
			w.WriteByte('*')
		} else {
			w.name(v.Field)
		}
	case *Row:
		if v.Explicit || len(v.Args) < 2 {
			w.WriteString("ROW")
		}
		w.WriteByte('(')
		w.exprList(v.Args)
		w.WriteByte(')')
	case *Collate:
		w.operand(v.Arg)
		w.WriteString(" COLLATE ")
		w.names(v.Collation)
	case *Default:
		w.WriteString("DEFAULT")
	case *GroupingSet:
		w.groupingSet(v)
	case *TypeName:
		w.typeName(v, true)
	case *Select:
		w.selectStmt(v)
	case *Target:
		w.target(v)
	case *TableName, *Subquery, *Join, *TableFunc:
		w.tableRef(v.(TableRef))
	case *OrderItem:
		w.orderItem(v)
	case *WindowDef:
		w.windowSpec(v)
	case *ObjectName:
		w.objectName(*v)
	case Statement:
		w.WriteString(v.Info().Text)
	default:
		w.WriteString("<?>")
	}
}

// indirectionArg writes the argument of a subscript: a column or function
// can be subscripted directly; anything else needs parentheses.
func (w *formatter) indirectionArg(e Expr) {
	switch e.(type) {
	case *ColumnRef, *Subscript, *Param:
		w.node(e)
	default:
		w.WriteByte('(')
		w.node(e)
		w.WriteByte(')')
	}
}

func (w *formatter) arrayElems(a *ArrayExpr) {
	w.WriteByte('[')
	for i, e := range a.Elems {
		if i > 0 {
			w.WriteString(", ")
		}
		if sub, ok := e.(*ArrayExpr); ok {
			w.arrayElems(sub)
			continue
		}
		w.node(e)
	}
	w.WriteByte(']')
}

func (w *formatter) boolList(args []Expr, sep string) {
	for i, a := range args {
		if i > 0 {
			w.WriteString(sep)
		}
		w.operand(a)
	}
}

func (w *formatter) literal(l *Literal) {
	switch l.Kind {
	case LitNull:
		w.WriteString("NULL")
	case LitString:
		w.WriteString(quoteString(l.Value))
	case LitBool:
		w.WriteString(strings.ToUpper(l.Value))
	case LitBitString:
		if l.Value != "" {
			w.WriteString(strings.ToUpper(l.Value[:1]) + quoteString(l.Value[1:]))
		}
	default:
		w.WriteString(l.Value)
	}
}

// typeName writes t; withFields adds an interval's fields (a typed literal
// writes them after the string instead).
func (w *formatter) typeName(t *TypeName, withFields bool) {
	if t.Setof {
		w.WriteString("SETOF ")
	}
	if len(t.Names) == 1 {
		w.WriteString(typeNameSQL(t.Name))
	} else {
		w.names(t.Names)
	}
	if t.PctType {
		w.WriteString("%TYPE")
	}
	mods := t.Typmods
	if t.IntervalFields != "" {
		if !withFields {
			mods = nil
		} else {
			w.WriteString(" " + t.IntervalFields)
		}
	}
	if len(mods) > 0 {
		w.WriteByte('(')
		for i, m := range mods {
			if i > 0 {
				w.WriteString(", ")
			}
			w.WriteString(strconv.Itoa(int(m)))
		}
		w.WriteByte(')')
	}
	for _, b := range t.ArrayBounds {
		if b < 0 {
			w.WriteString("[]")
		} else {
			w.WriteString("[" + strconv.Itoa(int(b)) + "]")
		}
	}
}

// typeNameSQL writes a one-part type name. The grammar maps SQL keywords
// to names that are valid type names themselves (INTEGER → int4), except
// that a one-part "char" is PostgreSQL's internal one-byte type, which must
// stay quoted to read back the same.
func typeNameSQL(name string) string {
	if name == "char" {
		return `"char"`
	}
	return FormatName(name)
}

func (w *formatter) funcCall(f *FuncCall) {
	if f.Keyword != "" {
		w.WriteString(f.Keyword)
		if len(f.Args) > 0 {
			w.WriteByte('(')
			w.exprList(f.Args)
			w.WriteByte(')')
		}
		return
	}
	if f.Schema != "" {
		w.name(f.Schema)
		w.WriteByte('.')
	}
	w.funcName(f.Name)
	w.WriteByte('(')
	if f.Star {
		w.WriteByte('*')
	}
	if f.Distinct {
		w.WriteString("DISTINCT ")
	}
	for i, a := range f.Args {
		if i > 0 {
			w.WriteString(", ")
		}
		if f.Variadic && i == len(f.Args)-1 {
			w.WriteString("VARIADIC ")
		}
		if f.ArgNames != nil && f.ArgNames[i] != "" {
			w.name(f.ArgNames[i])
			w.WriteString(" => ")
		}
		w.node(a)
	}
	if len(f.OrderBy) > 0 {
		w.WriteString(" ORDER BY ")
		w.orderList(f.OrderBy)
	}
	w.WriteByte(')')
	if len(f.WithinGroup) > 0 {
		w.WriteString(" WITHIN GROUP (ORDER BY ")
		w.orderList(f.WithinGroup)
		w.WriteByte(')')
	}
	if f.Filter != nil {
		w.WriteString(" FILTER (WHERE ")
		w.node(f.Filter)
		w.WriteByte(')')
	}
	if f.Over != nil {
		w.WriteString(" OVER ")
		if f.Over.Name != "" {
			w.name(f.Over.Name)
		} else {
			w.windowSpec(f.Over)
		}
	}
}

func (w *formatter) orderList(items []*OrderItem) {
	for i, o := range items {
		if i > 0 {
			w.WriteString(", ")
		}
		w.orderItem(o)
	}
}

func (w *formatter) orderItem(o *OrderItem) {
	w.node(o.Expr)
	switch o.Dir {
	case SortAsc:
		w.WriteString(" ASC")
	case SortDesc:
		w.WriteString(" DESC")
	case SortUsing:
		w.WriteString(" USING " + o.UsingOp)
	}
	switch o.Nulls {
	case NullsFirst:
		w.WriteString(" NULLS FIRST")
	case NullsLast:
		w.WriteString(" NULLS LAST")
	}
}

// windowSpec writes `(refname PARTITION BY ... ORDER BY ... frame)`.
func (w *formatter) windowSpec(d *WindowDef) {
	w.WriteByte('(')
	sep := ""
	if d.RefName != "" {
		w.name(d.RefName)
		sep = " "
	}
	if len(d.PartitionBy) > 0 {
		w.WriteString(sep + "PARTITION BY ")
		w.exprList(d.PartitionBy)
		sep = " "
	}
	if len(d.OrderBy) > 0 {
		w.WriteString(sep + "ORDER BY ")
		w.orderList(d.OrderBy)
		sep = " "
	}
	if f := d.Frame; f != nil {
		w.WriteString(sep + f.Mode.String() + " BETWEEN ")
		w.frameBound(f.Start)
		w.WriteString(" AND ")
		w.frameBound(f.End)
		if f.Exclude != ExcludeNoOthers {
			w.WriteString(" " + f.Exclude.String())
		}
	}
	w.WriteByte(')')
}

func (w *formatter) frameBound(b FrameBound) {
	if b.Offset != nil {
		w.operand(b.Offset)
		w.WriteByte(' ')
	}
	w.WriteString(b.Kind.String())
}

func (w *formatter) groupingSet(g *GroupingSet) {
	switch g.Kind {
	case GroupingEmpty:
		w.WriteString("()")
		return
	case GroupingRollup:
		w.WriteString("ROLLUP")
	case GroupingCube:
		w.WriteString("CUBE")
	case GroupingSets:
		w.WriteString("GROUPING SETS")
	}
	w.WriteByte('(')
	w.exprList(g.Items)
	w.WriteByte(')')
}

func (w *formatter) target(t *Target) {
	w.node(t.Expr)
	if t.Alias != "" {
		w.WriteString(" AS ")
		w.name(t.Alias)
	}
}

func (w *formatter) alias(a *Alias) {
	if a == nil {
		return
	}
	w.WriteString(" AS ")
	w.name(a.Name)
	if len(a.Columns) > 0 {
		w.WriteByte('(')
		for i, c := range a.Columns {
			if i > 0 {
				w.WriteString(", ")
			}
			w.name(c)
		}
		w.WriteByte(')')
	}
}

func (w *formatter) tableRef(t TableRef) {
	switch v := t.(type) {
	case *TableName:
		if v.Only {
			w.WriteString("ONLY ")
		}
		w.objectName(v.ObjectName)
		w.alias(v.Alias)
	case *Subquery:
		if v.Lateral {
			w.WriteString("LATERAL ")
		}
		w.WriteByte('(')
		w.node(v.Query)
		w.WriteByte(')')
		w.alias(v.Alias)
	case *TableFunc:
		if v.Lateral {
			w.WriteString("LATERAL ")
		}
		w.node(v.Func)
		if v.WithOrdinality {
			w.WriteString(" WITH ORDINALITY")
		}
		w.alias(v.Alias)
	case *Join:
		if v.Alias != nil {
			w.WriteByte('(')
		}
		w.joinOperand(v.Left)
		switch {
		case v.Kind == JoinCross:
			w.WriteString(" CROSS JOIN ")
		case v.Natural:
			w.WriteString(" NATURAL " + v.Kind.String() + " JOIN ")
		default:
			w.WriteString(" " + v.Kind.String() + " JOIN ")
		}
		w.joinOperand(v.Right)
		if v.On != nil {
			w.WriteString(" ON ")
			w.node(v.On)
		}
		if len(v.Using) > 0 {
			w.WriteString(" USING (")
			for i, c := range v.Using {
				if i > 0 {
					w.WriteString(", ")
				}
				w.name(c)
			}
			w.WriteByte(')')
			if v.UsingAlias != "" {
				w.WriteString(" AS ")
				w.name(v.UsingAlias)
			}
		}
		if v.Alias != nil {
			w.WriteByte(')')
			w.alias(v.Alias)
		}
	}
}

// joinOperand parenthesizes a nested join on the right-hand side so that
// the tree reads back the same.
func (w *formatter) joinOperand(t TableRef) {
	if j, ok := t.(*Join); ok && j.Alias == nil {
		w.WriteByte('(')
		w.tableRef(t)
		w.WriteByte(')')
		return
	}
	w.tableRef(t)
}

func (w *formatter) selectStmt(s *Select) {
	if s.With != nil {
		w.WriteString("WITH ")
		if s.With.Recursive {
			w.WriteString("RECURSIVE ")
		}
		for i, c := range s.With.CTEs {
			if i > 0 {
				w.WriteString(", ")
			}
			w.name(c.Name)
			if len(c.Columns) > 0 {
				w.WriteByte('(')
				for j, col := range c.Columns {
					if j > 0 {
						w.WriteString(", ")
					}
					w.name(col)
				}
				w.WriteByte(')')
			}
			w.WriteString(" AS ")
			if c.Materialized != MaterializeDefault {
				w.WriteString(c.Materialized.String() + " ")
			}
			w.WriteByte('(')
			w.selectStmt(c.Query)
			w.WriteByte(')')
		}
		w.WriteByte(' ')
	}
	switch {
	case s.SetOp != SetOpNone:
		w.setOperand(s.Left)
		w.WriteString(" " + s.SetOp.String() + " ")
		if s.SetAll {
			w.WriteString("ALL ")
		}
		w.setOperand(s.Right)
	case s.Values != nil:
		w.WriteString("VALUES ")
		for i, row := range s.Values {
			if i > 0 {
				w.WriteString(", ")
			}
			w.WriteByte('(')
			w.exprList(row)
			w.WriteByte(')')
		}
	default:
		w.WriteString("SELECT")
		if s.Distinct {
			w.WriteString(" DISTINCT")
			if len(s.DistinctOn) > 0 {
				w.WriteString(" ON (")
				w.exprList(s.DistinctOn)
				w.WriteByte(')')
			}
		}
		for i, t := range s.Targets {
			if i > 0 {
				w.WriteByte(',')
			}
			w.WriteByte(' ')
			w.target(t)
		}
		if len(s.From) > 0 {
			w.WriteString(" FROM ")
			for i, t := range s.From {
				if i > 0 {
					w.WriteString(", ")
				}
				w.tableRef(t)
			}
		}
		if s.Where != nil {
			w.WriteString(" WHERE ")
			w.node(s.Where)
		}
		if len(s.GroupBy) > 0 {
			w.WriteString(" GROUP BY ")
			if s.GroupByDistinct {
				w.WriteString("DISTINCT ")
			}
			w.exprList(s.GroupBy)
		}
		if s.Having != nil {
			w.WriteString(" HAVING ")
			w.node(s.Having)
		}
		if len(s.Windows) > 0 {
			w.WriteString(" WINDOW ")
			for i, d := range s.Windows {
				if i > 0 {
					w.WriteString(", ")
				}
				w.name(d.Name)
				w.WriteString(" AS ")
				w.windowSpec(d)
			}
		}
	}
	if len(s.OrderBy) > 0 {
		w.WriteString(" ORDER BY ")
		w.orderList(s.OrderBy)
	}
	if s.LimitWithTies && s.Limit != nil {
		if s.Offset != nil {
			w.WriteString(" OFFSET ")
			w.node(s.Offset)
			w.WriteString(" ROWS")
		}
		w.WriteString(" FETCH FIRST ")
		w.operand(s.Limit)
		w.WriteString(" ROWS WITH TIES")
	} else {
		if s.Limit != nil {
			w.WriteString(" LIMIT ")
			w.node(s.Limit)
		} else if s.LimitAll {
			w.WriteString(" LIMIT ALL")
		}
		if s.Offset != nil {
			w.WriteString(" OFFSET ")
			w.node(s.Offset)
		}
	}
	for _, l := range s.Locking {
		w.WriteString(" " + l)
	}
	if s.EmitOnWindowClose {
		w.WriteString(" EMIT ON WINDOW CLOSE")
	}
}

// setOperand parenthesizes an operand of a set operation when it has
// clauses that would otherwise bind to the whole operation.
func (w *formatter) setOperand(s *Select) {
	if s.SetOp != SetOpNone || len(s.OrderBy) > 0 || s.Limit != nil || s.Offset != nil || s.LimitAll || s.With != nil || len(s.Locking) > 0 {
		w.WriteByte('(')
		w.selectStmt(s)
		w.WriteByte(')')
		return
	}
	w.selectStmt(s)
}
