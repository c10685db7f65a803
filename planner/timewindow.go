package planner

import (
	"strings"

	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/sql"
	"github.com/kappa-db/kappa/types"
)

// planTableFunc plans a function in FROM. The windowing functions are
// TUMBLE(rel, ts, size [, offset]) and HOP(rel, ts, slide, size
// [, offset]): rel's rows with window_start and window_end added (HOP: one
// row per window). The Flink form TABLE(TUMBLE(TABLE rel, DESCRIPTOR(ts),
// size)) reaches here with TABLE blanked by the pre-parser.
func (b *binder) planTableFunc(t *sql.TableFunc) (*relation, error) {
	f := t.Func
	name := strings.ToLower(f.Name)
	if name == "session" {
		return b.planSession(t)
	}
	if name != "tumble" && name != "hop" {
		return b.planSetFunc(t) // generate_series, unnest... (sysbind.go)
	}
	switch {
	case t.Lateral:
		return nil, b.errAt(t.Pos, pgerr.FeatureNotSupported, "LATERAL %s is not supported", strings.ToUpper(name))
	case t.WithOrdinality:
		return nil, b.errAt(t.Pos, pgerr.FeatureNotSupported, "WITH ORDINALITY is not supported for %s", strings.ToUpper(name))
	case f.Star || f.Distinct || f.Filter != nil || f.Over != nil || len(f.OrderBy) > 0 || f.ArgNames != nil:
		return nil, b.errAt(t.Pos, pgerr.SyntaxError, "invalid call of %s", strings.ToUpper(name))
	}
	nInt := 1 // TUMBLE: size; HOP: slide, size
	if name == "hop" {
		nInt = 2
	}
	if len(f.Args) != 2+nInt && len(f.Args) != 3+nInt {
		usage := "TUMBLE(relation, time column, size [, offset])"
		if name == "hop" {
			usage = "HOP(relation, time column, slide, size [, offset])"
		}
		return nil, b.errAt(t.Pos, pgerr.UndefinedFunction, "%s takes %d or %d arguments: %s", strings.ToUpper(name), 2+nInt, 3+nInt, usage)
	}
	// The relation.
	rel, tn, err := b.windowRelation(f.Args[0], strings.ToUpper(name))
	if err != nil {
		return nil, err
	}
	// The time column, plain or as DESCRIPTOR(col).
	tsArg := f.Args[1]
	if d, ok := tsArg.(*sql.FuncCall); ok && strings.EqualFold(d.Name, "descriptor") && len(d.Args) == 1 {
		tsArg = d.Args[0]
	}
	if _, ok := tsArg.(*sql.ColumnRef); !ok {
		return nil, b.errAt(tsArg.Position(), pgerr.SyntaxError, "the second argument of %s must be a column of %s", strings.ToUpper(name), tn.Name)
	}
	ts, err := b.bindExpr(tsArg, rel.scope, nil, strings.ToUpper(name))
	if err != nil {
		return nil, err
	}
	col, ok := ts.(*expr.ColRef)
	if !ok || (col.T.Kind != types.KindTimestamp && col.T.Kind != types.KindTimestampTZ) {
		return nil, b.errAt(tsArg.Position(), pgerr.DatatypeMismatch, "the time column of %s must be a timestamp or timestamptz, not %s", strings.ToUpper(name), ts.Type())
	}
	var spans []int64
	for _, a := range f.Args[2:] {
		us, err := b.windowSpan(a, name, len(spans) < nInt)
		if err != nil {
			return nil, err
		}
		spans = append(spans, us)
	}
	w := &exec.TimeWindow{Input: rel.node, TimeCol: col.Idx, Size: spans[0], Slide: spans[0]}
	if name == "hop" {
		w.Slide, w.Size = spans[0], spans[1]
	}
	if len(spans) > nInt {
		w.Offset = spans[nInt]
	}
	// Windows align to 1970-01-01 (plus the offset), as in Flink and
	// RisingWave; timestamps count from 2000-01-01.
	w.Offset = (w.Offset - unixEpochUS) % w.Slide
	cols := append([]column(nil), rel.scope.cols...)
	for _, n := range []string{"window_start", "window_end"} {
		cols = append(cols, column{table: name, name: n, typ: col.T})
	}
	out := &relation{node: w, scope: &scope{cols: cols}}
	if t.Alias != nil {
		return out, b.applyAlias(out, t.Alias.Name, t.Alias, t.Pos)
	}
	return out, nil
}

// windowSpan evaluates a window's size, slide or offset: a constant
// interval of days, hours and smaller units (months have no fixed length).
func (b *binder) windowSpan(a sql.Expr, fn string, positive bool) (int64, error) {
	e, err := b.bindExpr(a, &scope{}, nil, strings.ToUpper(fn))
	if err != nil {
		return 0, err
	}
	if e, err = b.coerce(e, types.Interval, a.Position(), strings.ToUpper(fn)); err != nil {
		return 0, err
	}
	e = b.fold(e)
	if !expr.IsConst(e) {
		return 0, b.errAt(a.Position(), pgerr.FeatureNotSupported, "the window sizes of %s must be constant intervals", strings.ToUpper(fn))
	}
	v, err := e.Eval(&expr.EvalContext{}, nil)
	if err != nil {
		return 0, withPos(err, b, a.Position())
	}
	if v.IsNull() {
		return 0, b.errAt(a.Position(), pgerr.InvalidParameterValue, "the window sizes of %s must not be NULL", strings.ToUpper(fn))
	}
	if v.Mon != 0 {
		return 0, b.errAt(a.Position(), pgerr.FeatureNotSupported, "windows of months or years are not supported: a month has no fixed length")
	}
	us := int64(v.Day)*types.USPerDay + v.I
	if positive && us <= 0 {
		return 0, b.errAt(a.Position(), pgerr.InvalidParameterValue, "the window size and slide of %s must be positive", strings.ToUpper(fn))
	}
	return us, nil
}

// unixEpochUS is 1970-01-01 in µs since 2000-01-01.
const unixEpochUS = -946684800 * 1000000

// markAppendOnlyInputs sets InputAppendOnly on the aggregates of a view's
// final plan whose input only ever inserts: their min and max then keep no
// per-value counts (exec/agg.go).
func markAppendOnlyInputs(n exec.Node) {
	if a, ok := n.(*exec.Aggregate); ok {
		a.InputAppendOnly = exec.AppendOnly(a.Input)
	}
	for _, in := range exec.Inputs(n) {
		markAppendOnlyInputs(*in)
	}
}

// windowRelation plans the first argument of a window table function
// (TUMBLE, HOP, SESSION): the name of a table, source or view, which the
// function's columns are then bound against.
func (b *binder) windowRelation(arg sql.Expr, fn string) (*relation, *sql.TableName, error) {
	ref, ok := arg.(*sql.ColumnRef)
	if !ok || ref.Star || len(ref.Names) > 2 {
		return nil, nil, b.errAt(arg.Position(), pgerr.SyntaxError, "the first argument of %s must name a table, source or view", fn)
	}
	tn := &sql.TableName{ObjectName: sql.ObjectName{Pos: ref.Pos, Name: ref.Names[len(ref.Names)-1]}}
	if len(ref.Names) == 2 {
		tn.Schema = ref.Names[0]
	}
	rel, err := b.planTableName(tn)
	if err != nil {
		return nil, nil, err
	}
	if err := b.applyAlias(rel, tn.Name, nil, tn.Pos); err != nil {
		return nil, nil, err
	}
	return rel, tn, nil
}
