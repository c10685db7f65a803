package planner

import (
	"math"
	"strconv"

	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/sql"
	"github.com/kappa-db/kappa/types"
)

// aggregateNames are the aggregates the engine computes incrementally.
var aggregateNames = map[string]bool{
	"count": true, "sum": true, "avg": true, "min": true, "max": true,
	"bool_and": true, "bool_or": true, "every": true, "string_agg": true, "array_agg": true,
	"stddev": true, "stddev_samp": true, "stddev_pop": true, "variance": true, "var_samp": true,
	"var_pop": true, "percentile_cont": true, "percentile_disc": true, "mode": true,
	"approx_count_distinct": true, "approx_percentile": true,
}

// knownAggregates are aggregates PostgreSQL has that kappa does not compute
// yet: they get a clear 0A000 rather than "function does not exist".
var knownAggregates = map[string]bool{
	"json_agg": true, "jsonb_agg": true, "bit_and": true, "bit_or": true, "bit_xor": true,
	"json_object_agg": true, "jsonb_object_agg": true, "covar_pop": true, "covar_samp": true,
	"corr": true, "regr_slope": true, "regr_intercept": true, "regr_count": true,
}

// orderedSetAggregates take WITHIN GROUP (ORDER BY ...).
var orderedSetAggregates = map[string]bool{
	"percentile_cont": true, "percentile_disc": true, "mode": true, "approx_percentile": true,
}

// placeAggregate shifts the input columns of call, numbered from 0 in the
// expressions bindAggregate returned, to where those expressions start.
func placeAggregate(call exec.AggCall, base int) exec.AggCall {
	if call.Arg >= 0 {
		call.Arg += base
	}
	args := make([]int, len(call.Args))
	for i, a := range call.Args {
		args[i] = a + base
	}
	call.Args = args
	if call.HasFilter {
		call.FilterCol += base
	}
	keys := make([]exec.SortKey, len(call.OrderBy))
	for i, k := range call.OrderBy {
		k.Col += base
		keys[i] = k
	}
	call.OrderBy = keys
	return call
}

// bindAggregate checks an aggregate call and binds the expressions it reads
// from its input: its arguments, its ORDER BY (inside the call or WITHIN
// GROUP) and its FILTER. The call's columns number those expressions from 0.
func (b *binder) bindAggregate(f *sql.FuncCall, in *scope) (exec.AggCall, []expr.Expr, error) {
	fail := func(err error) (exec.AggCall, []expr.Expr, error) { return exec.AggCall{}, nil, err }
	if knownAggregates[f.Name] {
		return fail(b.errAt(f.Pos, pgerr.FeatureNotSupported, "aggregate %s is not supported yet", f.Name))
	}
	ordered := orderedSetAggregates[f.Name]
	if len(f.WithinGroup) > 0 && !ordered {
		return fail(b.errAt(f.Pos, pgerr.UndefinedFunction, "function %s does not exist", f.Name).
			WithHint("WITHIN GROUP is specified, but %s is not an ordered-set aggregate.", f.Name))
	}
	if ordered && len(f.WithinGroup) == 0 {
		return fail(b.errAt(f.Pos, pgerr.UndefinedFunction, "function %s does not exist", f.Name).
			WithHint("WITHIN GROUP is required for ordered-set aggregate %s.", f.Name))
	}
	if ordered && f.Distinct {
		return fail(b.errAt(f.Pos, pgerr.SyntaxError, "cannot use DISTINCT with WITHIN GROUP"))
	}
	if ordered && len(f.OrderBy) > 0 {
		return fail(b.errAt(f.Pos, pgerr.SyntaxError, "cannot use multiple ORDER BY clauses with WITHIN GROUP"))
	}
	var exprs []expr.Expr
	add := func(e expr.Expr) int {
		exprs = append(exprs, e)
		return len(exprs) - 1
	}
	call := exec.AggCall{Arg: -1}
	if f.Filter != nil {
		if containsAggregate(f.Filter) {
			return fail(b.errAt(firstAggregatePos(f.Filter), pgerr.GroupingError, "aggregate functions are not allowed in FILTER"))
		}
		e, err := b.bindExpr(f.Filter, in, nil, "FILTER")
		if err == nil {
			e, err = b.coerce(e, types.Bool, f.Filter.Position(), "argument of FILTER")
		}
		if err != nil {
			return fail(err)
		}
		call.HasFilter, call.FilterCol = true, add(e)
	}
	if f.Star {
		if f.Distinct {
			return fail(b.errAt(f.Pos, pgerr.SyntaxError, "syntax error at or near \")\""))
		}
		if f.Name != "count" {
			return fail(b.errAt(f.Pos, pgerr.WrongObjectType, "%s(*) specified, but %s is not an aggregate function", f.Name, f.Name))
		}
		call.Func, call.Type = exec.AggCountStar, types.Int8
		return call, exprs, nil
	}
	if ordered {
		return b.bindOrderedSet(f, in, call, exprs)
	}
	nargs := 1
	if f.Name == "string_agg" {
		nargs = 2
	}
	if len(f.Args) != nargs {
		return fail(b.errAt(f.Pos, pgerr.UndefinedFunction, "function %s with %d arguments does not exist", f.Name, len(f.Args)))
	}
	args := make([]expr.Expr, len(f.Args))
	for i, a := range f.Args {
		if containsAggregate(a) {
			return fail(b.errAt(firstAggregatePos(a), pgerr.GroupingError, "aggregate function calls cannot be nested"))
		}
		e, err := b.bindExpr(a, in, nil, "aggregate arguments")
		if err != nil {
			return fail(err)
		}
		args[i] = e
	}
	t := args[0].Type()
	if t.Kind == types.KindNull && f.Name == "array_agg" {
		return fail(b.errAt(f.Pos, pgerr.AmbiguousFunction, "function array_agg(unknown) is not unique").
			WithHint("Could not choose a best candidate function. You might need to add explicit type casts."))
	}
	if t.Kind == types.KindNull && f.Name != "count" && f.Name != "approx_count_distinct" {
		target := types.Text
		if f.Name == "bool_and" || f.Name == "bool_or" || f.Name == "every" {
			target = types.Bool
		}
		var err error
		if args[0], err = b.coerce(args[0], target, f.Args[0].Position(), ""); err != nil {
			return fail(err)
		}
		t = target
	}
	noFunc := func() error {
		sig := t.String()
		for _, a := range args[1:] {
			sig += ", " + a.Type().String()
		}
		return b.errAt(f.Pos, pgerr.UndefinedFunction, "function %s(%s) does not exist", f.Name, sig).
			WithHint("No function matches the given name and argument types. You might need to add explicit type casts.")
	}
	// DISTINCT changes nothing for min, max, bool_and and bool_or.
	call.Distinct = f.Distinct
	switch f.Name {
	case "count":
		call.Func, call.Type = exec.AggCount, types.Int8
	case "approx_count_distinct":
		call.Func, call.Type, call.Distinct = exec.AggApproxCountDistinct, types.Int8, false
	case "sum":
		call.Func = exec.AggSum
		var ok bool
		if call.Type, ok = sumType(t); !ok {
			return fail(noFunc())
		}
	case "avg":
		call.Func = exec.AggAvg
		var ok bool
		if call.Type, ok = avgType(t); !ok {
			return fail(noFunc())
		}
	case "min", "max":
		call.Func, call.Distinct = exec.AggMin, false
		if f.Name == "max" {
			call.Func = exec.AggMax
		}
		if !minMaxArg(t) {
			return fail(noFunc())
		}
		call.Type = t
	case "bool_and", "every", "bool_or":
		call.Func, call.Type, call.Distinct = exec.AggBoolAnd, types.Bool, false
		if f.Name == "bool_or" {
			call.Func = exec.AggBoolOr
		}
		if t.Kind != types.KindBool {
			return fail(noFunc())
		}
	case "stddev", "stddev_samp", "stddev_pop", "variance", "var_samp", "var_pop":
		call.Func = map[string]exec.AggFunc{"stddev": exec.AggStddevSamp, "stddev_samp": exec.AggStddevSamp,
			"stddev_pop": exec.AggStddevPop, "variance": exec.AggVarSamp, "var_samp": exec.AggVarSamp,
			"var_pop": exec.AggVarPop}[f.Name]
		switch t.Kind {
		case types.KindInt2, types.KindInt4, types.KindInt8, types.KindNumeric:
			call.Type = types.Numeric
		case types.KindFloat4, types.KindFloat8:
			call.Type = types.Float8
		default:
			return fail(noFunc())
		}
	case "string_agg":
		call.Func = exec.AggStringAgg
		st := args[1].Type()
		switch {
		case t.Kind == types.KindText && (st.Kind == types.KindText || st.Kind == types.KindNull):
			call.Type = types.Text
		case t.Kind == types.KindBytea && (st.Kind == types.KindBytea || st.Kind == types.KindNull):
			call.Type = types.Bytea
		default:
			return fail(noFunc())
		}
		var err error
		if args[1], err = b.coerce(args[1], call.Type, f.Args[1].Position(), ""); err != nil {
			return fail(err)
		}
	case "array_agg":
		call.Func = exec.AggArrayAgg
		if t.Kind == types.KindArray {
			return fail(b.errAt(f.Pos, pgerr.FeatureNotSupported, "array_agg of arrays is not supported yet"))
		}
		call.Type = types.ArrayOf(t)
		if call.Type.OID == 0 {
			return fail(noFunc())
		}
	default:
		return fail(b.errAt(f.Pos, pgerr.FeatureNotSupported, "aggregate %s is not supported yet", f.Name))
	}
	argCols := make([]int, len(args))
	for i, a := range args {
		argCols[i] = add(a)
	}
	call.Arg, call.Args = argCols[0], argCols[1:]
	// ORDER BY inside the call orders string_agg's and array_agg's
	// elements; the other aggregates do not depend on order.
	for _, item := range f.OrderBy {
		if item.Dir == sql.SortUsing {
			return fail(b.errAt(item.Pos, pgerr.FeatureNotSupported, "ORDER BY ... USING is not supported"))
		}
		if containsAggregate(item.Expr) {
			return fail(b.errAt(firstAggregatePos(item.Expr), pgerr.GroupingError, "aggregate function calls cannot be nested"))
		}
		if f.Distinct {
			inArgs := false
			for _, a := range f.Args {
				if exprKey(a) == exprKey(item.Expr) {
					inArgs = true
				}
			}
			if !inArgs {
				return fail(b.errAt(item.Expr.Position(), pgerr.InvalidColumnReference, "in an aggregate with DISTINCT, ORDER BY expressions must appear in argument list"))
			}
		}
		e, err := b.bindExpr(item.Expr, in, nil, "aggregate ORDER BY")
		if err != nil {
			return fail(err)
		}
		if call.Func == exec.AggStringAgg || call.Func == exec.AggArrayAgg {
			call.OrderBy = append(call.OrderBy, sortKey(item, add(e)))
		}
	}
	return call, exprs, nil
}

func sortKey(item *sql.OrderItem, col int) exec.SortKey {
	k := exec.SortKey{Col: col, Desc: item.Dir == sql.SortDesc}
	k.NullsFirst = k.Desc
	switch item.Nulls {
	case sql.NullsFirst:
		k.NullsFirst = true
	case sql.NullsLast:
		k.NullsFirst = false
	}
	return k
}

// bindOrderedSet binds percentile_cont, percentile_disc, mode and
// approx_percentile: a constant fraction (or array of fractions) and one
// WITHIN GROUP (ORDER BY x).
func (b *binder) bindOrderedSet(f *sql.FuncCall, in *scope, call exec.AggCall, exprs []expr.Expr) (exec.AggCall, []expr.Expr, error) {
	fail := func(err error) (exec.AggCall, []expr.Expr, error) { return exec.AggCall{}, nil, err }
	wantArgs := 1
	if f.Name == "mode" {
		wantArgs = 0
	}
	if len(f.WithinGroup) != 1 || len(f.Args) != wantArgs {
		return fail(b.errAt(f.Pos, pgerr.UndefinedFunction, "function %s with %d direct and %d ordered arguments does not exist", f.Name, len(f.Args), len(f.WithinGroup)))
	}
	item := f.WithinGroup[0]
	if item.Dir == sql.SortUsing {
		return fail(b.errAt(item.Pos, pgerr.FeatureNotSupported, "ORDER BY ... USING is not supported"))
	}
	if containsAggregate(item.Expr) {
		return fail(b.errAt(firstAggregatePos(item.Expr), pgerr.GroupingError, "aggregate function calls cannot be nested"))
	}
	x, err := b.bindExpr(item.Expr, in, nil, "aggregate ORDER BY")
	if err != nil {
		return fail(err)
	}
	xt := x.Type()
	if xt.Kind == types.KindNull {
		xt = types.Text
		if f.Name == "percentile_cont" || f.Name == "approx_percentile" {
			xt = types.Float8
		}
		if x, err = b.coerce(x, xt, item.Expr.Position(), ""); err != nil {
			return fail(err)
		}
	}
	switch f.Name {
	case "mode":
		call.Func, call.Type = exec.AggMode, xt
	case "percentile_disc":
		call.Func, call.Type = exec.AggPercentileDisc, xt
	case "percentile_cont", "approx_percentile":
		call.Func = exec.AggPercentileCont
		if f.Name == "approx_percentile" {
			call.Func = exec.AggApproxPercentile
		}
		call.Type = types.Float8
		if xt.Kind == types.KindInterval && f.Name == "percentile_cont" {
			call.Type = types.Interval
			break
		}
		c, err := expr.Coerce(x, types.Float8)
		if err != nil {
			return fail(b.errAt(f.Pos, pgerr.UndefinedFunction, "function %s(double precision ORDER BY %s) does not exist", f.Name, xt).
				WithHint("No function matches the given name and argument types. You might need to add explicit type casts."))
		}
		x = c
	}
	if xt.Kind == types.KindArray && call.Func != exec.AggPercentileCont && call.Func != exec.AggApproxPercentile {
		return fail(b.errAt(f.Pos, pgerr.FeatureNotSupported, "%s over arrays is not supported yet", f.Name))
	}
	call.OrderBy = []exec.SortKey{sortKey(item, len(exprs))}
	exprs = append(exprs, x)
	if f.Name == "mode" {
		return call, exprs, nil
	}
	// The fraction: a constant float8 or float8[].
	a := f.Args[0]
	fr, err := b.bindExpr(a, &scope{}, nil, "aggregate arguments")
	if err != nil {
		if pgerr.Code(err) == pgerr.UndefinedColumn {
			return fail(b.errAt(a.Position(), pgerr.FeatureNotSupported, "the fraction of %s must be a constant", f.Name))
		}
		return fail(err)
	}
	ft := types.Float8
	if fr.Type().Kind == types.KindArray {
		ft = types.ArrayOf(types.Float8)
	}
	if fr, err = b.coerce(fr, ft, a.Position(), ""); err != nil {
		return fail(err)
	}
	fr = b.fold(fr)
	cst, ok := fr.(*expr.Const)
	if !ok {
		return fail(b.errAt(a.Position(), pgerr.FeatureNotSupported, "the fraction of %s must be a constant", f.Name))
	}
	fracs := []types.Value{cst.V}
	if cst.V.K == types.KindArray {
		fracs = cst.V.Arr
		if call.Func != exec.AggApproxPercentile {
			call.Type = types.ArrayOf(call.Type)
		} else {
			call.Type = types.ArrayOf(types.Float8)
		}
	}
	for _, v := range fracs {
		if !v.IsNull() && (v.F < 0 || v.F > 1 || math.IsNaN(v.F)) {
			return fail(b.errAt(a.Position(), pgerr.NumericValueOutOfRange, "percentile value %s is not between 0 and 1", strconv.FormatFloat(v.F, 'g', -1, 64)))
		}
	}
	call.Fraction = cst.V
	return call, exprs, nil
}

// sumType is sum's result type for an argument of type t, as PostgreSQL's
// overloads give it (the same for sum as an aggregate and OVER a window).
func sumType(t types.Type) (types.Type, bool) {
	switch t.Kind {
	case types.KindInt2, types.KindInt4:
		return types.Int8, true
	case types.KindInt8, types.KindNumeric:
		return types.Numeric, true
	case types.KindFloat4:
		return types.Float4, true
	case types.KindFloat8:
		return types.Float8, true
	case types.KindInterval:
		return types.Interval, true
	}
	return types.Type{}, false
}

// avgType is avg's result type for an argument of type t.
func avgType(t types.Type) (types.Type, bool) {
	switch t.Kind {
	case types.KindInt2, types.KindInt4, types.KindInt8, types.KindNumeric:
		return types.Numeric, true
	case types.KindFloat4, types.KindFloat8:
		return types.Float8, true
	case types.KindInterval:
		return types.Interval, true
	}
	return types.Type{}, false
}

// minMaxArg says whether min and max take an argument of type t (they
// return it).
func minMaxArg(t types.Type) bool {
	return t.Kind != types.KindJSONB
}
