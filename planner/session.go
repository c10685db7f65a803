package planner

import (
	"strings"

	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/sql"
	"github.com/kappa-db/kappa/types"
)

const sessionUsage = "SESSION(relation [PARTITION BY columns], time column, gap)"

// planSession plans SESSION(rel [PARTITION BY cols], ts, gap): rel's rows
// with window_start and window_end of their session (exec.SessionWindow).
// The Flink form SESSION(TABLE rel PARTITION BY k, DESCRIPTOR(ts), gap)
// reaches here with TABLE blanked and PARTITION BY turned into a comma by
// the pre-parser, so the arguments are rel, the partition columns (each a
// column or a parenthesized list of them), the time column and the gap.
func (b *binder) planSession(t *sql.TableFunc) (*relation, error) {
	f := t.Func
	switch {
	case t.Lateral:
		return nil, b.errAt(t.Pos, pgerr.FeatureNotSupported, "LATERAL SESSION is not supported")
	case t.WithOrdinality:
		return nil, b.errAt(t.Pos, pgerr.FeatureNotSupported, "WITH ORDINALITY is not supported for SESSION")
	case f.Star || f.Distinct || f.Filter != nil || f.Over != nil || len(f.OrderBy) > 0 || f.ArgNames != nil:
		return nil, b.errAt(t.Pos, pgerr.SyntaxError, "invalid call of SESSION")
	case len(f.Args) < 3:
		return nil, b.errAt(t.Pos, pgerr.UndefinedFunction, "SESSION takes at least 3 arguments: %s", sessionUsage)
	}
	rel, tn, err := b.windowRelation(f.Args[0], "SESSION")
	if err != nil {
		return nil, err
	}
	colArg := func(a sql.Expr, what string) (*expr.ColRef, error) {
		if _, ok := a.(*sql.ColumnRef); !ok {
			return nil, b.errAt(a.Position(), pgerr.SyntaxError, "%s of SESSION must be a column of %s", what, tn.Name)
		}
		e, err := b.bindExpr(a, rel.scope, nil, "SESSION")
		if err != nil {
			return nil, err
		}
		c, ok := e.(*expr.ColRef)
		if !ok {
			return nil, b.errAt(a.Position(), pgerr.SyntaxError, "%s of SESSION must be a column of %s", what, tn.Name)
		}
		return c, nil
	}
	n := len(f.Args)
	if d, ok := f.Args[n-1].(*sql.FuncCall); ok && strings.EqualFold(d.Name, "descriptor") {
		return nil, b.errAt(d.Pos, pgerr.SyntaxError, "SESSION needs a gap after its time column: %s", sessionUsage)
	}
	tsArg := f.Args[n-2]
	if d, ok := tsArg.(*sql.FuncCall); ok && strings.EqualFold(d.Name, "descriptor") && len(d.Args) == 1 {
		tsArg = d.Args[0]
	}
	col, err := colArg(tsArg, "the time argument")
	if err != nil {
		return nil, err
	}
	if col.T.Kind != types.KindTimestamp && col.T.Kind != types.KindTimestampTZ {
		return nil, b.errAt(tsArg.Position(), pgerr.DatatypeMismatch, "the time column of SESSION must be a timestamp or timestamptz, not %s", col.T)
	}
	gap, err := b.windowSpan(f.Args[n-1], "session", true)
	if err != nil {
		return nil, err
	}
	w := &exec.SessionWindow{Input: rel.node, TimeCol: col.Idx, Gap: gap}
	for _, a := range f.Args[1 : n-2] {
		keys := []sql.Expr{a}
		if r, ok := a.(*sql.Row); ok && !r.Explicit {
			keys = r.Args
		}
		for _, k := range keys {
			c, err := colArg(k, "a partition key")
			if err != nil {
				return nil, err
			}
			w.PartitionBy = append(w.PartitionBy, c.Idx)
		}
	}
	cols := append([]column(nil), rel.scope.cols...)
	for _, nm := range []string{"window_start", "window_end"} {
		cols = append(cols, column{table: "session", name: nm, typ: col.T})
	}
	out := &relation{node: w, scope: &scope{cols: cols}}
	if t.Alias != nil {
		return out, b.applyAlias(out, t.Alias.Name, t.Alias, t.Pos)
	}
	return out, nil
}

// fuseSessions marks the aggregates of plan that run fused with the
// SESSION window below them (exec.Aggregate.Session): one accumulator per
// session instead of every row of a session re-emitted and recounted
// whenever the session grows.
func fuseSessions(n exec.Node) {
	for _, in := range exec.Inputs(n) {
		fuseSessions(*in)
	}
	if a, ok := n.(*exec.Aggregate); ok && !a.Session && sessionFusable(a) {
		a.Session = true
	}
}

// sessionFusable says a has a session aggregate's shape and its Project
// (if any) computes what the aggregates read from the window's input
// columns only: window_start and window_end are not known row by row.
func sessionFusable(a *exec.Aggregate) bool {
	sw, p, ok := exec.SessionAggregateShape(a)
	if !ok {
		return false
	}
	if p == nil {
		return true
	}
	nIn := len(sw.Input.Columns())
	group := map[int]bool{}
	for _, g := range a.GroupBy {
		group[g] = true
	}
	for i, e := range p.Exprs {
		if group[i] {
			continue
		}
		used := map[int]bool{}
		colRefs(e, used)
		for c := range used {
			if c >= nIn {
				return false
			}
		}
		if anyBound(e, func(x expr.Expr) bool { _, ok := x.(*exec.SubPlan); return ok }) {
			return false
		}
	}
	return true
}
