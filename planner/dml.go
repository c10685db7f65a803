package planner

import (
	"github.com/kappa-db/kappa/catalog"
	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/sql"
	"github.com/kappa-db/kappa/types"
)

// Insert is a planned INSERT: Plan produces whole rows of Table, in its
// column order, already coerced to the column types.
type Insert struct {
	Table  *catalog.Object
	Plan   exec.Node
	Params []types.Type
	Reads  []uint64
	// DependsOn are the relations the query (INSERT ... SELECT) names.
	DependsOn []uint64
	// Restricted: as Query.Restricted.
	Restricted bool
}

func (b *binder) targetTable(t *sql.TableName, verb string) (*catalog.Object, error) {
	if t.Schema != "" && t.Schema != "public" {
		return nil, b.errAt(t.Pos, pgerr.UndefinedTable, "relation \"%s.%s\" does not exist", t.Schema, t.Name)
	}
	o, ok := b.p.Catalog.Lookup(t.Name)
	if !ok {
		return nil, b.errAt(t.Pos, pgerr.UndefinedTable, "relation %q does not exist", t.Name)
	}
	if o.Kind != catalog.KindTable {
		return nil, b.errAt(t.Pos, pgerr.WrongObjectType, "cannot %s %s %q", verb, o.Kind, o.Name).
			WithDetail("Only tables accept writes; a %s is computed from them.", o.Kind)
	}
	return o, nil
}

// defaultExpr binds column i's DEFAULT (NULL when it has none). The
// expression is bound from the table's CREATE TABLE text, where it was
// written.
func (b *binder) defaultExpr(t *catalog.Object, i int) (expr.Expr, error) {
	c := t.Columns[i]
	if !c.HasDefault {
		return &expr.Const{V: types.Null, T: c.Type}, nil
	}
	stmts, err := sql.Parse(t.CreateSQL)
	if err != nil {
		return nil, err
	}
	ct, ok := stmts[0].(*sql.CreateTable)
	if !ok || i >= len(ct.Columns) || ct.Columns[i].Default == nil {
		return nil, pgerr.New(pgerr.DataCorrupted, "default of column %q of %q not found in its definition", c.Name, t.Name)
	}
	inner := &binder{p: b.p, src: t.CreateSQL, reads: map[uint64]bool{}, deps: map[uint64]bool{}}
	e, err := inner.bindExpr(ct.Columns[i].Default, &scope{}, nil, "DEFAULT expressions")
	if err != nil {
		return nil, err
	}
	return inner.assign(e, c, ct.Columns[i].Default.Position())
}

// ColumnDefaults binds every column's DEFAULT (COPY fills unlisted columns
// with them).
func (p *Planner) ColumnDefaults(t *catalog.Object) ([]expr.Expr, error) {
	b := p.newBinder(t.CreateSQL, nil)
	out := make([]expr.Expr, len(t.Columns))
	for i := range t.Columns {
		e, err := b.defaultExpr(t, i)
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}

// PlanInsert plans INSERT INTO t [(cols)] VALUES ... | query.
func (p *Planner) PlanInsert(src string, ins *sql.Insert, params []types.Type) (*Insert, error) {
	b := p.newBinder(src, params)
	if ins.OnConflict != nil {
		return nil, b.errAt(ins.OnConflict.Pos, pgerr.FeatureNotSupported, "ON CONFLICT is not supported yet")
	}
	if len(ins.Returning) > 0 {
		return nil, b.errAt(ins.Returning[0].Pos, pgerr.FeatureNotSupported, "RETURNING is not supported yet")
	}
	if ins.With != nil {
		return nil, b.errAt(ins.With.Pos, pgerr.FeatureNotSupported, "WITH in INSERT is not supported yet")
	}
	t, err := b.targetTable(ins.Table, "insert into")
	if err != nil {
		return nil, err
	}
	// target[i] is the table column the i-th source column fills.
	var target []int
	if len(ins.Columns) == 0 {
		for i := range t.Columns {
			target = append(target, i)
		}
	} else {
		seen := map[int]bool{}
		for _, name := range ins.Columns {
			i := t.ColumnIndex(name)
			if i < 0 {
				return nil, b.errAt(ins.Table.Pos, pgerr.UndefinedColumn, "column %q of relation %q does not exist", name, t.Name)
			}
			if seen[i] {
				return nil, b.errAt(ins.Table.Pos, pgerr.DuplicateColumn, "column %q specified more than once", name)
			}
			seen[i] = true
			target = append(target, i)
		}
	}
	fill := func(vals []expr.Expr) ([]expr.Expr, error) {
		row := make([]expr.Expr, len(t.Columns))
		for i, v := range vals {
			row[target[i]] = v
		}
		for i := range t.Columns {
			if row[i] == nil {
				d, err := b.defaultExpr(t, i)
				if err != nil {
					return nil, err
				}
				row[i] = d
			}
		}
		return row, nil
	}
	var plan exec.Node
	src0 := ins.Source
	switch {
	case src0 == nil:
		row, err := fill(nil)
		if err != nil {
			return nil, err
		}
		plan = &exec.Values{Rows: [][]expr.Expr{row}, Types: t.Types()}
	case src0.Values != nil && len(src0.OrderBy) == 0 && src0.Limit == nil && src0.Offset == nil && src0.With == nil:
		// VALUES binds straight to the column types, so $n and 'literals'
		// take the column's type, as in PostgreSQL.
		rows := make([][]expr.Expr, len(src0.Values))
		for r, vals := range src0.Values {
			if len(vals) > len(target) {
				return nil, b.errAt(vals[len(target)].Position(), pgerr.SyntaxError, "INSERT has more expressions than target columns")
			}
			if len(vals) < len(target) && len(ins.Columns) > 0 {
				return nil, b.errAt(vals[len(vals)-1].Position(), pgerr.SyntaxError, "INSERT has more target columns than expressions")
			}
			bound := make([]expr.Expr, len(vals))
			for i, v := range vals {
				col := t.Columns[target[i]]
				if _, isDefault := v.(*sql.Default); isDefault {
					d, err := b.defaultExpr(t, target[i])
					if err != nil {
						return nil, err
					}
					bound[i] = d
					continue
				}
				e, err := b.bindExpr(v, &scope{}, nil, "VALUES")
				if err != nil {
					return nil, err
				}
				if bound[i], err = b.assign(e, col, v.Position()); err != nil {
					return nil, err
				}
			}
			var err error
			if rows[r], err = fill(bound); err != nil {
				return nil, err
			}
		}
		plan = &exec.Values{Rows: rows, Types: t.Types()}
	default:
		rel, err := b.planSelect(src0, false)
		if err != nil {
			return nil, err
		}
		n := len(rel.node.Columns())
		if n > len(target) {
			return nil, b.errAt(src0.Pos, pgerr.SyntaxError, "INSERT has more expressions than target columns")
		}
		vals := make([]expr.Expr, n)
		for i, ct := range rel.node.Columns() {
			col := t.Columns[target[i]]
			if vals[i], err = b.assign(&expr.ColRef{Idx: i, T: ct, Name: rel.scope.cols[i].name}, col, src0.Pos); err != nil {
				return nil, err
			}
		}
		row, err := fill(vals)
		if err != nil {
			return nil, err
		}
		plan = &exec.Project{Input: rel.node, Exprs: row}
	}
	q := b.finish(&relation{node: plan, scope: &scope{cols: make([]column, len(t.Columns))}})
	return &Insert{Table: t, Plan: plan, Params: q.Params, Reads: q.Reads, DependsOn: q.DependsOn, Restricted: q.Restricted}, nil
}

// assign coerces a value for storing in column c (assignment cast).
func (b *binder) assign(e expr.Expr, c catalog.Column, pos int) (expr.Expr, error) {
	if p, ok := e.(*expr.Param); ok && p.T.Kind == types.KindNull {
		b.params[p.Idx] = c.Type
		return &expr.Param{Idx: p.Idx, T: c.Type}, nil
	}
	if e.Type() == c.Type {
		return e, nil
	}
	out, err := expr.Coerce(e, c.Type)
	if err != nil {
		if pgerr.Code(err) == pgerr.DatatypeMismatch || pgerr.Code(err) == pgerr.CannotCoerce {
			return nil, b.errAt(pos, pgerr.DatatypeMismatch, "column %q is of type %s but expression is of type %s", c.Name, c.Type, e.Type()).
				WithHint("You will need to rewrite or cast the expression.")
		}
		return nil, withPos(err, b, pos)
	}
	return out, nil
}

// Update is a planned UPDATE or DELETE: rows of Table for which Where holds
// (nil: all) are retracted and, for UPDATE, replaced by Set applied to them.
type Update struct {
	Table *catalog.Object
	Where expr.Expr
	// KeyPrefix, when set, holds the values Where fixes for the leading
	// primary key columns: only rows under that key prefix are read.
	KeyPrefix []expr.Expr
	Set       map[int]expr.Expr // column → new value, bound over the old row
	Params    []types.Type
	// DependsOn are the relations the statement's subqueries name.
	DependsOn []uint64
	// ReadsColumns says the WHERE or a SET value reads columns (which
	// needs SELECT on the table besides UPDATE or DELETE).
	ReadsColumns bool
}

func (b *binder) tableScope(t *catalog.Object, alias string) *scope {
	name := t.Name
	if alias != "" {
		name = alias
	}
	sc := &scope{}
	for _, c := range t.Columns {
		sc.cols = append(sc.cols, column{table: name, name: c.Name, typ: c.Type})
	}
	return sc
}

func (b *binder) bindWhere(w sql.Expr, sc *scope) (expr.Expr, error) {
	if w == nil {
		return nil, nil
	}
	if containsAggregate(w) {
		return nil, b.errAt(firstAggregatePos(w), pgerr.GroupingError, "aggregate functions are not allowed in WHERE")
	}
	pred, err := b.bindExpr(w, sc, nil, "WHERE")
	if err != nil {
		return nil, err
	}
	return b.coerce(pred, types.Bool, w.Position(), "argument of WHERE")
}

// PlanUpdate plans UPDATE.
func (p *Planner) PlanUpdate(src string, u *sql.Update, params []types.Type) (*Update, error) {
	b := p.newBinder(src, params)
	if len(u.From) > 0 || u.With != nil || len(u.Returning) > 0 {
		return nil, b.errAt(u.Pos, pgerr.FeatureNotSupported, "UPDATE with FROM, WITH or RETURNING is not supported yet")
	}
	t, err := b.targetTable(u.Table, "update")
	if err != nil {
		return nil, err
	}
	if t.Watermark != nil {
		return nil, b.errAt(u.Table.Pos, pgerr.FeatureNotSupported, "cannot update table %q: it has a WATERMARK, so it is append-only", t.Name).
			WithDetail("Rows behind the watermark are final; views over the table close their windows.")
	}
	alias := ""
	if u.Table.Alias != nil {
		alias = u.Table.Alias.Name
	}
	sc := b.tableScope(t, alias)
	out := &Update{Table: t, Set: map[int]expr.Expr{}}
	if out.Where, err = b.bindWhere(u.Where, sc); err != nil {
		return nil, err
	}
	out.KeyPrefix = keyPrefix(out.Where, t.PrimaryKey)
	for _, a := range u.Set {
		i := t.ColumnIndex(a.Column)
		if i < 0 {
			return nil, b.errAt(a.Pos, pgerr.UndefinedColumn, "column %q of relation %q does not exist", a.Column, t.Name)
		}
		if _, dup := out.Set[i]; dup {
			return nil, b.errAt(a.Pos, pgerr.SyntaxError, "multiple assignments to same column %q", a.Column)
		}
		var e expr.Expr
		if _, isDefault := a.Value.(*sql.Default); isDefault {
			e, err = b.defaultExpr(t, i)
		} else {
			if containsAggregate(a.Value) {
				return nil, b.errAt(firstAggregatePos(a.Value), pgerr.GroupingError, "aggregate functions are not allowed in UPDATE")
			}
			e, err = b.bindExpr(a.Value, sc, nil, "UPDATE")
			if err == nil {
				e, err = b.assign(e, t.Columns[i], a.Value.Position())
			}
		}
		if err != nil {
			return nil, err
		}
		out.Set[i] = e
	}
	fin := b.finish(&relation{node: &exec.Values{}, scope: &scope{}})
	out.Params, out.DependsOn = fin.Params, fin.DependsOn
	out.ReadsColumns = readsColumns(u.Where)
	for _, a := range u.Set {
		out.ReadsColumns = out.ReadsColumns || readsColumns(a.Value)
	}
	return out, nil
}

// PlanDelete plans DELETE.
func (p *Planner) PlanDelete(src string, d *sql.Delete, params []types.Type) (*Update, error) {
	b := p.newBinder(src, params)
	if len(d.Using) > 0 || d.With != nil || len(d.Returning) > 0 {
		return nil, b.errAt(d.Pos, pgerr.FeatureNotSupported, "DELETE with USING, WITH or RETURNING is not supported yet")
	}
	t, err := b.targetTable(d.Table, "delete from")
	if err != nil {
		return nil, err
	}
	if t.Watermark != nil {
		return nil, b.errAt(d.Table.Pos, pgerr.FeatureNotSupported, "cannot delete from table %q: it has a WATERMARK, so it is append-only", t.Name).
			WithDetail("Rows behind the watermark are final; views over the table close their windows.")
	}
	alias := ""
	if d.Table.Alias != nil {
		alias = d.Table.Alias.Name
	}
	out := &Update{Table: t}
	if out.Where, err = b.bindWhere(d.Where, b.tableScope(t, alias)); err != nil {
		return nil, err
	}
	out.KeyPrefix = keyPrefix(out.Where, t.PrimaryKey)
	fin := b.finish(&relation{node: &exec.Values{}, scope: &scope{}})
	out.Params, out.DependsOn = fin.Params, fin.DependsOn
	out.ReadsColumns = readsColumns(d.Where)
	return out, nil
}

// BindDefault binds a column DEFAULT given as SQL text, checking it is a
// constant expression of the column's type (CREATE TABLE).
func (p *Planner) BindDefault(src string, e sql.Expr, t types.Type) error {
	b := p.newBinder(src, nil)
	x, err := b.bindExpr(e, &scope{}, nil, "DEFAULT expressions")
	if err != nil {
		return err
	}
	_, err = b.assign(x, catalog.Column{Name: "default", Type: t}, e.Position())
	return err
}

// BindType resolves a type name for DDL.
func (p *Planner) BindType(src string, tn *sql.TypeName) (types.Type, error) {
	return p.newBinder(src, nil).bindType(tn)
}

// readsColumns reports whether e names a column anywhere (subqueries
// included, which makes it conservative).
func readsColumns(e sql.Expr) bool {
	if e == nil {
		return false
	}
	found := false
	sql.Walk(e, func(n sql.Node) bool {
		if _, ok := n.(*sql.ColumnRef); ok {
			found = true
		}
		return !found
	})
	return found
}
