package planner

import (
	"strings"

	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/sql"
	"github.com/kappa-db/kappa/types"
)

// This file binds what client catalog queries need beyond the core
// binder: system relations by schema, subqueries evaluated per row
// (exec.SubPlan) where a correlation cannot become a join, arrays,
// set-returning functions, and field access on their composite results.

// outerScope is the query around a subquery planned as a SubPlan: its
// columns resolve there and become the SubPlan's arguments.
type outerScope struct {
	s      *scope
	parent *outerScope
	args   []expr.Expr
}

// resolveOuter resolves a column of an enclosing query: it returns an
// OuterRef valid inside the subquery, and adds the column to the SubPlan's
// arguments.
func (b *binder) resolveOuter(o *outerScope, ref *sql.ColumnRef) (expr.Expr, bool) {
	if o == nil {
		return nil, false
	}
	var arg expr.Expr
	if i, err := b.resolve(o.s, ref); err == nil {
		c := o.s.cols[i]
		arg = &expr.ColRef{Idx: i, T: c.typ, Name: c.name}
	} else {
		saved := b.outer
		b.outer = o.parent
		e, ok := b.resolveOuter(o.parent, ref)
		b.outer = saved
		if !ok {
			return nil, false
		}
		arg = e
	}
	for i, a := range o.args {
		if a.String() == arg.String() && a.Type() == arg.Type() {
			return &exec.OuterRef{Idx: i, T: arg.Type(), Name: ref.Names[len(ref.Names)-1]}, true
		}
	}
	o.args = append(o.args, arg)
	return &exec.OuterRef{Idx: len(o.args) - 1, T: arg.Type(), Name: ref.Names[len(ref.Names)-1]}, true
}

// subPlan plans q as a subquery evaluated per row of scope s.
func (b *binder) subPlan(q *sql.Select, s *scope, mode exec.SubPlanMode, pos int) (expr.Expr, error) {
	if s == nil {
		s = &scope{}
	}
	o := &outerScope{s: s, parent: b.outer}
	savedOuter, savedLast, savedPending, savedSRF := b.outer, b.lastSelect, b.pending, b.srf
	b.outer, b.pending, b.srf = o, nil, nil
	rel, err := b.planSelect(q, false)
	b.outer, b.lastSelect, b.pending, b.srf = savedOuter, savedLast, savedPending, savedSRF
	if err != nil {
		return nil, err
	}
	if mode != exec.SubExists && len(rel.node.Columns()) != 1 {
		return nil, b.errAt(pos, pgerr.SyntaxError, "subquery must return only one column")
	}
	node := rel.node
	if !b.forView {
		// A view's SubPlans become joins (decorrelate.go): no lookups
		// by the outer row.
		node = usePointLookups(pushDown(node), b.p.Catalog)
	}
	t := types.Bool
	switch mode {
	case exec.SubScalar:
		t = node.Columns()[0]
	case exec.SubArray:
		et := node.Columns()[0]
		if et.Kind == types.KindNull {
			et = types.Text
		}
		if et.Kind == types.KindArray {
			return nil, b.errAt(pos, pgerr.FeatureNotSupported, "ARRAY() of arrays is not supported")
		}
		t = types.ArrayOf(et)
	}
	return &exec.SubPlan{Plan: node, Args: o.args, Mode: mode, T: t}, nil
}

// bindExtra binds the expressions the core binder leaves to this file
// (ok false: not one of them).
func (b *binder) bindExtra(e sql.Expr, s *scope, agg *postAgg, where string) (expr.Expr, bool, error) {
	switch x := e.(type) {
	case *sql.ArrayExpr:
		if len(x.Elems) == 0 {
			return nil, true, b.errAt(x.Pos, pgerr.IndeterminateDatatype, "cannot determine type of empty array").
				WithHint("Explicitly cast to the desired type, for example ARRAY[]::integer[].")
		}
		for _, el := range x.Elems {
			if _, nested := el.(*sql.ArrayExpr); nested {
				return nil, true, b.errAt(x.Pos, pgerr.FeatureNotSupported, "multidimensional arrays are not supported")
			}
		}
		args, t, err := b.bindCommon(x.Elems, s, agg, where, x.Pos, "ARRAY")
		if err != nil {
			return nil, true, err
		}
		if t.Kind == types.KindArray || types.ArrayOf(t).OID == 0 {
			return nil, true, b.errAt(x.Pos, pgerr.FeatureNotSupported, "arrays of %s are not supported", t)
		}
		return &expr.ArrayCtor{Elems: args, T: types.ArrayOf(t)}, true, nil
	case *sql.Subscript:
		if x.Slice {
			return nil, true, b.errAt(x.Pos, pgerr.FeatureNotSupported, "array slices are not supported yet")
		}
		arr, err := b.bindExpr(x.Arg, s, agg, where)
		if err != nil {
			return nil, true, err
		}
		idx, err := b.bindExpr(x.Index, s, agg, where)
		if err != nil {
			return nil, true, err
		}
		out, err := expr.NewSubscript(arr, idx)
		if err != nil {
			return nil, true, withPos(err, b, x.Pos)
		}
		return out, true, nil
	case *sql.FieldAccess:
		return b.bindFieldAccess(x, s, agg, where)
	case *sql.ArraySubquery:
		e, err := b.subPlan(x.Query, s, exec.SubArray, x.Pos)
		return e, true, err
	case *sql.Quantified:
		if x.Query != nil {
			left, err := b.liftOperand(x.Left, s, agg, where)
			if err != nil {
				return nil, true, err
			}
			e, err := b.quantifiedAsCounts(x, left)
			if err != nil {
				return nil, true, err
			}
			out, err := b.bindExpr(e, s, agg, where)
			return out, true, err
		}
		l, err := b.bindExpr(x.Left, s, agg, where)
		if err != nil {
			return nil, true, err
		}
		r, err := b.bindExpr(x.Array, s, agg, where)
		if err != nil {
			return nil, true, err
		}
		if p, ok := l.(*expr.Param); ok && p.T.Kind == types.KindNull && r.Type().Kind == types.KindArray {
			l, _ = b.coerce(l, r.Type().ElemType(), x.Pos, "")
		}
		if lc, ok := l.(*expr.Const); ok && lc.T.Kind == types.KindNull && r.Type().Kind == types.KindArray {
			if l, err = b.coerce(l, r.Type().ElemType(), x.Pos, ""); err != nil {
				return nil, true, err
			}
		}
		out, err := expr.NewScalarArrayOp(x.Op, l, r, x.All)
		if err != nil {
			return nil, true, withPos(err, b, x.Pos)
		}
		return out, true, nil
	}
	return nil, false, nil
}

// bindFieldAccess binds (composite).field: a field of a set-returning
// function's row, or a column a subquery produced from one ("name.field").
func (b *binder) bindFieldAccess(x *sql.FieldAccess, s *scope, agg *postAgg, where string) (expr.Expr, bool, error) {
	if x.Star {
		return nil, true, b.errAt(x.Pos, pgerr.FeatureNotSupported, "(composite).* is not supported yet")
	}
	switch a := x.Arg.(type) {
	case *sql.FuncCall:
		if i, ok := b.srf[exprKey(a)+"."+x.Field]; ok {
			c := s.cols[i]
			return &expr.ColRef{Idx: i, T: c.typ, Name: x.Field}, true, nil
		}
	case *sql.ColumnRef:
		names := append(append([]string(nil), a.Names[:len(a.Names)-1]...), a.Names[len(a.Names)-1]+"."+x.Field)
		e, err := b.bindExpr(&sql.ColumnRef{Pos: a.Pos, Names: names}, s, agg, where)
		if err == nil {
			return e, true, nil
		}
	}
	return nil, true, b.errAt(x.Pos, pgerr.FeatureNotSupported, "row values are not supported yet")
}

// planTargetSRFs plans the set-returning function calls of a SELECT list
// (unnest(a), generate_series(...), information_schema._pg_expandarray(a))
// as a ProjectSet over the input, and returns the targets with each
// composite call expanded into one target per field.
func (b *binder) planTargetSRFs(targets []*sql.Target, node exec.Node, in *scope) (exec.Node, *scope, []*sql.Target, error) {
	var calls []*sql.FuncCall
	seen := map[string]bool{}
	for _, t := range targets {
		walkExpr(t.Expr, func(e sql.Expr) bool {
			if f, ok := e.(*sql.FuncCall); ok && f.Over == nil && expr.IsSetFunction(f.Name) && (f.Schema == "" || f.Schema == "pg_catalog" || f.Schema == "information_schema") {
				if k := exprKey(f); !seen[k] {
					seen[k] = true
					calls = append(calls, f)
				}
				return false
			}
			return true
		})
	}
	if len(calls) == 0 {
		return node, in, targets, nil
	}
	ps := &exec.ProjectSet{Input: node}
	out := &scope{cols: append([]column(nil), in.cols...)}
	if b.srf == nil {
		b.srf = map[string]int{}
	}
	multi := map[string][]string{}
	for _, f := range calls {
		call, err := b.bindSetCall(f, in)
		if err != nil {
			return nil, nil, nil, err
		}
		ps.Calls = append(ps.Calls, call)
		k := exprKey(f)
		for j, t := range call.Fn.Cols {
			name := call.Fn.ColNames[j]
			if len(call.Fn.Cols) == 1 {
				b.srf[k] = len(out.cols)
				name = f.Name
			} else {
				b.srf[k+"."+name] = len(out.cols)
				multi[k] = append(multi[k], name)
			}
			out.cols = append(out.cols, column{name: name, typ: t, hidden: true})
		}
	}
	var expanded []*sql.Target
	for _, t := range targets {
		f, ok := t.Expr.(*sql.FuncCall)
		fields := []string(nil)
		if ok {
			fields = multi[exprKey(f)]
		}
		if len(fields) == 0 {
			expanded = append(expanded, t)
			continue
		}
		base := t.Alias
		if base == "" {
			base = f.Name
		}
		for _, fld := range fields {
			expanded = append(expanded, &sql.Target{Pos: t.Pos, Expr: &sql.FieldAccess{Pos: t.Pos, Arg: f, Field: fld}, Alias: base + "." + fld})
		}
	}
	return ps, out, expanded, nil
}

// bindSetCall binds the arguments of a set-returning function call in s.
func (b *binder) bindSetCall(f *sql.FuncCall, s *scope) (exec.SetCall, error) {
	args := make([]expr.Expr, len(f.Args))
	ts := make([]types.Type, len(f.Args))
	for i, a := range f.Args {
		e, err := b.bindExpr(a, s, nil, "FROM")
		if err != nil {
			return exec.SetCall{}, err
		}
		args[i], ts[i] = e, e.Type()
	}
	fn, err := expr.LookupSetFunction(f.Name, ts)
	if err != nil {
		return exec.SetCall{}, withPos(err, b, f.Pos)
	}
	for i := range args {
		if args[i], err = b.coerce(args[i], fn.Args[i], f.Args[i].Position(), ""); err != nil {
			return exec.SetCall{}, err
		}
	}
	return exec.SetCall{Fn: fn, Args: args}, nil
}

// planSetFunc plans a set-returning function in FROM: generate_series(1, 3) AS g(i),
// unnest(a) WITH ORDINALITY. Its arguments may name enclosing queries'
// columns (inside a SubPlan) but not earlier FROM items.
func (b *binder) planSetFunc(t *sql.TableFunc) (*relation, error) {
	f := t.Func
	if !expr.IsSetFunction(f.Name) {
		return nil, b.errAt(t.Pos, pgerr.FeatureNotSupported, "function %s in FROM is not supported yet", f.Name)
	}
	call, err := b.bindSetCall(f, &scope{})
	if err != nil {
		if c := pgerr.Code(err); c == pgerr.UndefinedColumn || c == pgerr.UndefinedTable {
			return nil, b.errAt(t.Pos, pgerr.FeatureNotSupported, "a function in FROM that reads earlier FROM items (LATERAL) is not supported yet")
		}
		return nil, err
	}
	ps := &exec.ProjectSet{Input: &exec.Values{Rows: [][]expr.Expr{{}}}, Calls: []exec.SetCall{call}, Ordinality: t.WithOrdinality}
	name := f.Name
	if t.Alias != nil && t.Alias.Name != "" {
		name = t.Alias.Name
	}
	sc := &scope{}
	for j, ct := range call.Fn.Cols {
		cn := call.Fn.ColNames[j]
		if len(call.Fn.Cols) == 1 {
			// A scalar function's column takes the alias's name.
			cn = name
		}
		sc.cols = append(sc.cols, column{name: cn, typ: ct})
	}
	if t.WithOrdinality {
		sc.cols = append(sc.cols, column{name: "ordinality", typ: types.Int8})
	}
	rel := &relation{node: ps, scope: sc}
	return rel, b.applyAlias(rel, name, t.Alias, t.Pos)
}

// planSchemaName resolves a qualified or system relation name; ok false
// means it names a user relation (public or unqualified).
func (b *binder) planSchemaName(t *sql.TableName) (*relation, bool, error) {
	if t.Catalog != "" && t.Catalog != b.sess.database() {
		return nil, true, b.errAt(t.Pos, pgerr.FeatureNotSupported, "cross-database references are not implemented: %s.%s.%s", t.Catalog, t.Schema, t.Name)
	}
	switch t.Schema {
	case "", "pg_catalog", "information_schema", "kappa_catalog":
		if r, ok := lookupSystem(t.Schema, t.Name); ok {
			rel, err := b.planSystem(r, t.Pos)
			return rel, true, err
		}
		if t.Schema != "" {
			return nil, true, b.errAt(t.Pos, pgerr.UndefinedTable, "relation \"%s.%s\" does not exist", t.Schema, t.Name)
		}
	case "public":
	default:
		return nil, true, b.errAt(t.Pos, pgerr.UndefinedTable, "relation \"%s.%s\" does not exist", t.Schema, t.Name)
	}
	return nil, false, nil
}

// prepareOperands accepts OPERATOR(pg_catalog.op) (and refuses other
// schemas), and compares reg* values as the OIDs they are.
func (b *binder) prepareOperands(schema, op string, l, r expr.Expr, pos int) (expr.Expr, expr.Expr, error) {
	if schema != "" && schema != "pg_catalog" {
		return nil, nil, b.errAt(pos, pgerr.UndefinedFunction, "operator does not exist: %s.%s", schema, op)
	}
	asOid := func(e, other expr.Expr) (expr.Expr, error) {
		t := e.Type()
		if isRegType(t) {
			return &expr.Cast{Arg: e, To: types.Oid}, nil
		}
		if c, ok := e.(*expr.Const); ok && t.Kind == types.KindNull && isRegType(other.Type()) {
			// 'name' = regclass_column: the literal is a name of that type.
			v, _, err := b.bindRegCast(c, other.Type(), pos)
			if err != nil {
				return nil, err
			}
			return &expr.Cast{Arg: v, To: types.Oid}, nil
		}
		return e, nil
	}
	l2, err := asOid(l, r)
	if err != nil {
		return nil, nil, err
	}
	r2, err := asOid(r, l)
	if err != nil {
		return nil, nil, err
	}
	return l2, r2, nil
}

// regTypes are the OID alias types whose values print as names.
func isRegType(t types.Type) bool {
	switch t.OID {
	case types.OidRegclass, types.OidRegtype, types.OidRegproc, oidRegnamespace, oidRegrole:
		return true
	}
	return false
}

const (
	oidRegnamespace = types.OidRegnamespace
	oidRegrole      = types.OidRegrole
)

// bindRegCast binds casts to and from regclass, regtype, regproc,
// regnamespace and regrole: names become OIDs through the catalog (at plan
// time for constants), and OIDs print as names.
func (b *binder) bindRegCast(arg expr.Expr, to types.Type, pos int) (expr.Expr, bool, error) {
	from := arg.Type()
	switch {
	case isRegType(to) && (from.Kind == types.KindText || from.Kind == types.KindNull):
		fn := b.regIn(to)
		if c, ok := arg.(*expr.Const); ok {
			if c.V.IsNull() {
				return &expr.Const{V: types.Null, T: to}, true, nil
			}
			v, err := fn.Eval(nil, []types.Value{c.V})
			if err != nil {
				return nil, true, withPos(err, b, pos)
			}
			return &expr.Const{V: v, T: to}, true, nil
		}
		if from.Kind == types.KindNull {
			arg = &expr.Cast{Arg: arg, To: types.Text}
		}
		return &expr.Call{Fn: fn, Args: []expr.Expr{arg}}, true, nil
	case isRegType(from) && to.Kind == types.KindText:
		return &expr.Call{Fn: b.regOut(from, to), Args: []expr.Expr{arg}}, true, nil
	case isRegType(to) && (from.Kind == types.KindOid || from.Kind == types.KindInt4 || from.Kind == types.KindInt8 || from.Kind == types.KindInt2):
		if from.Kind != types.KindOid {
			c, err := expr.CastTo(arg, types.Oid)
			if err != nil {
				return nil, true, withPos(err, b, pos)
			}
			arg = c
		}
		return &expr.Cast{Arg: arg, To: to, Explicit: true}, true, nil
	case isRegType(from) && to.Kind == types.KindOid:
		return &expr.Cast{Arg: arg, To: to, Explicit: true}, true, nil
	}
	return nil, false, nil
}

// outputRegNames makes the reg* columns of a query's result print as names,
// as PostgreSQL's output functions do.
func (b *binder) outputRegNames(rel *relation) {
	cs := rel.node.Columns()
	need := false
	for _, t := range cs {
		need = need || isRegType(t)
	}
	if !need {
		return
	}
	rel.node = b.regNamesBelowSort(rel.node)
	for i := range rel.scope.cols {
		if i < len(cs) && isRegType(cs[i]) {
			rel.scope.cols[i].typ = types.Text
		}
	}
}

// regNamesBelowSort converts n's reg* columns to names under its Limit and
// Sort (which ad hoc execution expects at the top), keeping the OIDs as
// hidden columns for the sort, as PostgreSQL orders reg* values by OID.
func (b *binder) regNamesBelowSort(n exec.Node) exec.Node {
	switch x := n.(type) {
	case *exec.Limit:
		c := *x
		c.Input = b.regNamesBelowSort(x.Input)
		return &c
	case *exec.Sort:
		in := x.Input.Columns()
		visible := len(in)
		if x.Keep > 0 {
			visible = x.Keep
		}
		exprs := make([]expr.Expr, len(in))
		extra := map[int]int{}
		for i, t := range in {
			exprs[i] = &expr.ColRef{Idx: i, T: t}
			if isRegType(t) {
				exprs[i] = &expr.Call{Fn: b.regOut(t, types.Text), Args: []expr.Expr{exprs[i]}}
				extra[i] = len(in) + len(extra)
			}
		}
		for i := range in {
			if j, ok := extra[i]; ok {
				for len(exprs) <= j {
					exprs = append(exprs, nil)
				}
				exprs[j] = &expr.ColRef{Idx: i, T: in[i]}
			}
		}
		c := *x
		c.Input = &exec.Project{Input: x.Input, Exprs: exprs}
		c.Keys = append([]exec.SortKey(nil), x.Keys...)
		for k, key := range c.Keys {
			if j, ok := extra[key.Col]; ok {
				c.Keys[k].Col = j
			}
		}
		c.Keep = visible
		return &c
	}
	cs := n.Columns()
	exprs := make([]expr.Expr, len(cs))
	for i, t := range cs {
		var e expr.Expr = &expr.ColRef{Idx: i, T: t}
		if isRegType(t) {
			e = &expr.Call{Fn: b.regOut(t, types.Text), Args: []expr.Expr{e}}
		}
		exprs[i] = e
	}
	return &exec.Project{Input: n, Exprs: exprs}
}

// qualifiedParts splits "schema.name" (with optional double quotes).
func qualifiedParts(s string) (schema, name string) {
	s = strings.TrimSpace(s)
	parts := splitQualified(s)
	if len(parts) == 2 {
		return parts[0], parts[1]
	}
	if len(parts) == 1 {
		return "", parts[0]
	}
	return "", s
}

func splitQualified(s string) []string {
	var parts []string
	var cur strings.Builder
	quoted := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			if quoted && i+1 < len(s) && s[i+1] == '"' {
				cur.WriteByte('"')
				i++
			} else {
				quoted = !quoted
			}
		case c == '.' && !quoted:
			parts = append(parts, cur.String())
			cur.Reset()
		case !quoted:
			cur.WriteString(strings.ToLower(string(c)))
		default:
			cur.WriteByte(c)
		}
	}
	return append(parts, cur.String())
}
