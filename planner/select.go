package planner

import (
	"strconv"

	"github.com/kappa-db/kappa/catalog"
	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/sql"
	"github.com/kappa-db/kappa/types"
)

// relation is a planned query: its plan and the scope of its output.
type relation struct {
	node  exec.Node
	scope *scope
}

// planSelect plans a query. forView is set when the result feeds a
// materialized view (ORDER BY is then meaningless and LIMIT unsupported).
func (b *binder) planSelect(sel *sql.Select, forView bool) (*relation, error) {
	b.depth++
	defer func() { b.depth-- }()
	if b.depth > 64 {
		return nil, b.errAt(sel.Pos, pgerr.ProgramLimitExceeded, "views nested too deeply")
	}
	if sel.With != nil {
		if sel.With.Recursive {
			return nil, b.errAt(sel.With.Pos, pgerr.FeatureNotSupported, "WITH RECURSIVE is not supported yet")
		}
		m := map[string]*sql.CTE{}
		for _, c := range sel.With.CTEs {
			if _, dup := m[c.Name]; dup {
				return nil, b.errAt(c.Pos, pgerr.DuplicateAlias, "WITH query name %q specified more than once", c.Name)
			}
			m[c.Name] = c
		}
		b.ctes = append(b.ctes, m)
		defer func() { b.ctes = b.ctes[:len(b.ctes)-1] }()
	}

	if len(sel.Locking) > 0 {
		return nil, b.errAt(sel.Pos, pgerr.FeatureNotSupported, "%s is not supported", sel.Locking[0])
	}
	var rel *relation
	var err error
	switch {
	case sel.SetOp != sql.SetOpNone:
		rel, err = b.planSetOp(sel)
		b.lastSelect = nil
	case sel.Values != nil:
		rel, err = b.planValues(sel.Values)
	default:
		rel, err = b.planSimple(sel)
	}
	if err != nil {
		return nil, err
	}
	return b.planOrderLimit(sel, rel, forView)
}

// planFrom plans the FROM clause: one item, or a cross join of several
// (WHERE's equalities become its keys in pushDown).
func (b *binder) planFrom(from []sql.TableRef) (*relation, error) {
	if len(from) == 0 {
		return &relation{node: &exec.Values{Rows: [][]expr.Expr{{}}}, scope: &scope{}}, nil
	}
	rel, err := b.planFromItem(from[0])
	if err != nil {
		return nil, err
	}
	for _, item := range from[1:] {
		if t, ok := item.(*sql.Subquery); ok && t.Lateral {
			if rel, err = b.lateralJoin(rel, t, exec.JoinInner); err != nil {
				return nil, err
			}
			continue
		}
		right, err := b.planFromItem(item)
		if err != nil {
			return nil, err
		}
		rel = crossJoin(rel, right, exec.JoinInner)
	}
	return rel, nil
}

func (b *binder) planFromItem(item sql.TableRef) (*relation, error) {
	switch t := item.(type) {
	case *sql.TableName:
		rel, err := b.planTableName(t)
		if err != nil {
			return nil, err
		}
		return rel, b.applyAlias(rel, t.Name, t.Alias, t.Pos)
	case *sql.Subquery:
		// LATERAL first in FROM has nothing to its left to read.
		rel, err := b.planSelect(t.Query, false)
		if err != nil {
			return nil, err
		}
		if t.Alias == nil {
			return rel, b.applyAlias(rel, "", nil, t.Pos)
		}
		return rel, b.applyAlias(rel, t.Alias.Name, t.Alias, t.Pos)
	case *sql.Join:
		return b.planJoin(t)
	case *sql.TableFunc:
		return b.planTableFunc(t)
	}
	return nil, b.errAt(item.Position(), pgerr.FeatureNotSupported, "this FROM item is not supported")
}

func (b *binder) applyAlias(rel *relation, name string, alias *sql.Alias, pos int) error {
	if alias != nil && alias.Name != "" {
		name = alias.Name
	}
	cols := make([]column, len(rel.scope.cols))
	copy(cols, rel.scope.cols)
	if alias != nil {
		if len(alias.Columns) > len(cols) {
			return b.errAt(pos, pgerr.InvalidColumnReference, "table %q has %d columns available but %d columns specified", name, len(cols), len(alias.Columns))
		}
		for i, c := range alias.Columns {
			cols[i].name = c
		}
	}
	for i := range cols {
		cols[i].table = name
	}
	rel.scope = &scope{cols: cols}
	return nil
}

// planTableName plans a reference to a CTE, table, view or materialized view.
func (b *binder) planTableName(t *sql.TableName) (*relation, error) {
	if t.Schema == "" {
		for i := len(b.ctes) - 1; i >= 0; i-- {
			if c, ok := b.ctes[i][t.Name]; ok {
				// Non-recursive CTEs are inlined at each reference. A CTE
				// sees the outer WITHs and the CTEs written before it in
				// its own WITH.
				earlier := map[string]*sql.CTE{}
				for name, d := range b.ctes[i] {
					if d.Pos < c.Pos {
						earlier[name] = d
					}
				}
				saved := b.ctes
				b.ctes = append(b.ctes[:i:i], earlier)
				rel, err := b.planSelect(c.Query, false)
				b.ctes = saved
				if err != nil {
					return nil, err
				}
				for j, name := range c.Columns {
					if j < len(rel.scope.cols) {
						rel.scope.cols[j].name = name
					}
				}
				return rel, nil
			}
		}
	}
	if rel, ok, err := b.planSchemaName(t); ok {
		return rel, err
	}
	o, ok := b.p.Catalog.Lookup(t.Name)
	if !ok {
		return nil, b.errAt(t.Pos, pgerr.UndefinedTable, "relation %q does not exist", t.Name)
	}
	return b.planObject(o, t.Pos)
}

func (b *binder) planObject(o *catalog.Object, pos int) (*relation, error) {
	b.deps[o.ID] = true
	sc := &scope{}
	for i, c := range o.Columns {
		sc.cols = append(sc.cols, column{table: o.Name, name: c.Name, typ: c.Type, origin: origin{relOID(o.ID), int16(i + 1)}})
	}
	switch o.Kind {
	case catalog.KindTable:
		b.reads[o.ID] = true
		return &relation{node: &exec.Scan{Kind: exec.ScanTable, Rel: o.ID, Name: o.Name, Types: o.Types(), Watermark: scanWatermark(o)}, scope: sc}, nil
	case catalog.KindSource:
		if b.p.Feed == nil {
			return nil, b.errAt(pos, pgerr.FeatureNotSupported, "sources cannot be read here")
		}
		f, err := b.p.Feed(o)
		if err != nil {
			return nil, withPos(err, b, pos)
		}
		b.reads[o.ID] = true
		scan := &exec.Scan{Kind: exec.ScanSource, Rel: o.ID, Name: o.Name, Types: o.Types(), Feed: f, Watermark: scanWatermark(o)}
		if kf, ok := f.(exec.KeyedFeed); ok {
			scan.Unique = kf.Key()
		}
		return &relation{node: scan, scope: sc}, nil
	case catalog.KindMaterializedView:
		if !b.forView {
			b.reads[o.ID] = true
			return &relation{node: &exec.Scan{Kind: exec.ScanView, Rel: o.ID, Name: o.Name, Types: o.Types()}, scope: sc}, nil
		}
		// A materialized view over a materialized view computes the inner
		// one's query itself, from the same inputs: the result is the
		// same, and its dataflow needs no change stream of the inner
		// view's rows (which kappa does not keep). The inner view stays a
		// dependency, so it cannot be dropped or replaced from under it.
		fallthrough
	case catalog.KindView:
		sel, err := parseQuery(o.Query)
		if err != nil {
			return nil, err
		}
		// A view's query is bound in its own text, with no outer CTEs.
		inner := &binder{p: b.p, src: o.Query, reads: b.reads, deps: map[uint64]bool{}, depth: b.depth, sess: b.sess, forView: b.forView, restricted: b.restricted, volatile: b.volatile}
		rel, err := inner.planSelect(sel, o.Kind == catalog.KindMaterializedView)
		if err != nil {
			return nil, pgerr.As(err).WithDetail("in view %q", o.Name).WithPosition(0)
		}
		for i := range rel.scope.cols {
			if i < len(o.Columns) {
				rel.scope.cols[i].name = o.Columns[i].Name
				// PostgreSQL names the view's column, not the one
				// underneath.
				rel.scope.cols[i].origin = origin{relOID(o.ID), int16(i + 1)}
			}
		}
		if o.EmitOnWindowClose && b.forView {
			// The inner view's windows appear as they close, here too.
			if err := inner.planEmitOnWindowClose(rel.node, 0); err != nil {
				return nil, pgerr.As(err).WithDetail("in view %q", o.Name).WithPosition(0)
			}
		}
		return rel, nil
	}
	return nil, b.errAt(pos, pgerr.WrongObjectType, "%q is a %s", o.Name, o.Kind)
}

func parseQuery(text string) (*sql.Select, error) {
	stmts, err := sql.Parse(text)
	if err != nil {
		return nil, err
	}
	if len(stmts) != 1 {
		return nil, pgerr.New(pgerr.InternalError, "stored query has %d statements", len(stmts))
	}
	sel, ok := stmts[0].(*sql.Select)
	if !ok {
		return nil, pgerr.New(pgerr.InternalError, "stored query is a %T", stmts[0])
	}
	return sel, nil
}

func (b *binder) planValues(rows [][]sql.Expr) (*relation, error) {
	n := len(rows[0])
	bound := make([][]expr.Expr, len(rows))
	for i, r := range rows {
		if len(r) != n {
			return nil, b.errAt(r[0].Position(), pgerr.SyntaxError, "VALUES lists must all be the same length")
		}
		bound[i] = make([]expr.Expr, n)
		for j, e := range r {
			x, err := b.bindExpr(e, &scope{}, nil, "VALUES")
			if err != nil {
				return nil, err
			}
			bound[i][j] = x
		}
	}
	sc := &scope{}
	ts := make([]types.Type, n)
	for j := 0; j < n; j++ {
		col := make([]types.Type, 0, len(rows))
		for i := range rows {
			if _, p := bound[i][j].(*expr.Param); !p || bound[i][j].Type().Kind != types.KindNull {
				col = append(col, bound[i][j].Type())
			}
		}
		t, err := expr.CommonType(col)
		if err != nil {
			return nil, withPos(err, b, rows[0][j].Position())
		}
		if t.Kind == types.KindNull {
			t = types.Text
		}
		for i := range rows {
			if bound[i][j], err = b.coerce(bound[i][j], t, rows[i][j].Position(), ""); err != nil {
				return nil, err
			}
		}
		ts[j] = t
		sc.cols = append(sc.cols, column{table: "*VALUES*", name: "column" + strconv.Itoa(j+1), typ: t})
	}
	return &relation{node: &exec.Values{Rows: bound, Types: ts}, scope: sc}, nil
}

// output is one planned output column of a SELECT list.
type output struct {
	name string
	e    expr.Expr
	ast  sql.Expr
}

// planSimple plans SELECT ... FROM ... WHERE ... GROUP BY ... HAVING.
func (b *binder) planSimple(sel *sql.Select) (*relation, error) {
	leaf := b.setOpLeaf
	b.setOpLeaf = false
	rel, err := b.planFromOrdered(sel.From, sel.Where)
	if err != nil {
		return nil, err
	}
	pending := []func(exec.Node) exec.Node{}
	savedPending := b.pending
	b.pending = &pending
	defer func() { b.pending = savedPending }()
	where := sel.Where
	if where != nil {
		if rel, where, err = b.planWhereSubqueries(rel, where); err != nil {
			return nil, err
		}
	}
	in := rel.scope
	node := rel.node
	if where != nil {
		if containsAggregate(where) {
			return nil, b.errAt(firstAggregatePos(where), pgerr.GroupingError, "aggregate functions are not allowed in WHERE")
		}
		pred, err := b.bindExpr(where, in, nil, "WHERE")
		if err != nil {
			return nil, err
		}
		if pred, err = b.coerce(pred, types.Bool, where.Position(), "argument of WHERE"); err != nil {
			return nil, err
		}
		node = &exec.Filter{Input: b.attachPending(node), Pred: pred}
	}
	targets, err := b.expandTargets(sel.Targets, in)
	if err != nil {
		return nil, err
	}
	savedSRF := b.srf
	defer func() { b.srf = savedSRF }()
	b.srf = nil
	if node, in, targets, err = b.planTargetSRFs(targets, node, in); err != nil {
		return nil, err
	}
	hasAgg := len(sel.GroupBy) > 0 || sel.Having != nil
	for _, t := range targets {
		if containsAggregate(t.Expr) {
			hasAgg = true
		}
	}
	for _, o := range sel.OrderBy {
		if containsAggregate(o.Expr) {
			hasAgg = true
		}
	}

	var agg *postAgg
	cur := in
	if hasAgg {
		node, agg, err = b.planAggregate(sel, targets, in, node)
		if err != nil {
			return nil, err
		}
		cur = agg.aggScope
		if sel.Having != nil {
			pred, err := b.bindExpr(sel.Having, cur, agg, "HAVING")
			if err != nil {
				return nil, err
			}
			if pred, err = b.coerce(pred, types.Bool, sel.Having.Position(), "argument of HAVING"); err != nil {
				return nil, err
			}
			node = &exec.Filter{Input: b.attachPending(node), Pred: pred}
		}
	}

	node, cur, winCols, err := b.planWindows(sel, targets, cur, agg, node)
	if err != nil {
		return nil, err
	}
	savedWin := b.winCols
	b.winCols = winCols
	defer func() { b.winCols = savedWin }()

	outs := make([]output, len(targets))
	for i, t := range targets {
		e, err := b.bindExpr(t.Expr, cur, agg, "SELECT")
		if err != nil {
			return nil, err
		}
		if c, ok := e.(*expr.Const); ok && c.T.Kind == types.KindNull && !(leaf && !sel.Distinct && len(sel.DistinctOn) == 0) {
			// An untyped literal in the select list is text, except in a
			// set operation's branch, where the set operation resolves it.
			if e, err = b.coerce(e, types.Text, t.Pos, ""); err != nil {
				return nil, err
			}
		}
		name := t.Alias
		if name == "" {
			name = sql.DefaultColumnName(t.Expr)
		}
		outs[i] = output{name: name, e: e, ast: t.Expr}
	}
	exprs := make([]expr.Expr, len(outs))
	sc := &scope{}
	for i, o := range outs {
		exprs[i] = o.e
		col := column{name: o.name, typ: o.e.Type()}
		if ref, ok := o.e.(*expr.ColRef); ok && ref.Idx < len(cur.cols) {
			col.origin = cur.cols[ref.Idx].origin
		}
		sc.cols = append(sc.cols, col)
	}
	if len(sel.DistinctOn) > 0 {
		top, d, err := b.planDistinctOn(sel, outs, exprs, node, cur, agg, winCols)
		if err != nil {
			return nil, err
		}
		b.lastSelect = &selectInfo{outs: outs, in: cur, agg: agg, projected: top, distinct: true, win: winCols, distinctOn: d}
		return &relation{node: top, scope: sc}, nil
	}
	rel = &relation{node: &exec.Project{Input: b.attachPending(node), Exprs: exprs}, scope: sc}
	if sel.Distinct {
		all := make([]int, len(exprs))
		for i := range all {
			all[i] = i
		}
		rel.node = &exec.Aggregate{Input: rel.node, GroupBy: all, Types: sc.types()}
	}
	// Keep what ORDER BY needs to see the pre-projection scope.
	b.lastSelect = &selectInfo{outs: outs, in: cur, agg: agg, projected: rel.node, distinct: sel.Distinct, win: winCols}
	return rel, nil
}

func firstAggregatePos(e sql.Expr) int {
	pos := e.Position()
	walkExpr(e, func(x sql.Expr) bool {
		if f, ok := isAggregateCall(x); ok {
			pos = f.Pos
			return false
		}
		return true
	})
	return pos
}

// expandTargets expands * and t.* into column references.
func (b *binder) expandTargets(targets []*sql.Target, in *scope) ([]*sql.Target, error) {
	var out []*sql.Target
	for _, t := range targets {
		ref, ok := t.Expr.(*sql.ColumnRef)
		if !ok || !ref.Star {
			out = append(out, t)
			continue
		}
		qual := ""
		if len(ref.Names) > 0 {
			qual = ref.Names[len(ref.Names)-1]
		}
		n := 0
		for _, c := range in.cols {
			if qual != "" && c.table != qual {
				continue
			}
			if qual == "" && c.hidden {
				continue
			}
			names := []string{c.name}
			if c.table != "" {
				names = []string{c.table, c.name}
			}
			out = append(out, &sql.Target{Pos: t.Pos, Expr: &sql.ColumnRef{Pos: ref.Pos, Names: names}, Alias: c.name})
			n++
		}
		if qual != "" && n == 0 {
			return nil, b.errAt(ref.Pos, pgerr.UndefinedTable, "missing FROM-clause entry for table %q", qual)
		}
		if qual == "" && len(in.cols) == 0 {
			return nil, b.errAt(ref.Pos, pgerr.SyntaxError, "SELECT * with no tables specified is not valid")
		}
	}
	return out, nil
}
