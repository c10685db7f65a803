package planner

import (
	"reflect"
	"strings"

	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/sql"
	"github.com/kappa-db/kappa/types"
)

// Window functions are planned after GROUP BY and HAVING, before the SELECT
// list: Project(the columns below, the partition, order and argument
// expressions) → one exec.Window per distinct (PARTITION BY, ORDER BY),
// stacked, each appending its calls' columns. The SELECT list and ORDER BY
// then bind each window call to its column (binder.winCols). A filter on a
// ranking function's result (`WHERE rn <= 3` around the subquery) turns its
// Window into a GroupTopN in pushDown (rankFilter).

// windowSpec is a resolved window: the OVER clause with the named window it
// refers to merged in.
type windowSpec struct {
	pos       int
	partition []sql.Expr
	order     []*sql.OrderItem
	frame     *sql.WindowFrame
}

// windowAggregates are the aggregates computed OVER a window.
var windowAggregates = map[string]bool{"count": true, "sum": true, "avg": true, "min": true, "max": true}

// windowCall is one distinct window function call of a SELECT.
type windowCall struct {
	f    *sql.FuncCall
	key  string
	spec *windowSpec
}

// isWindowCall reports whether e is a function call with OVER.
func isWindowCall(e sql.Expr) (*sql.FuncCall, bool) {
	f, ok := e.(*sql.FuncCall)
	return f, ok && f.Over != nil
}

// collectWindowCalls finds the window calls of the SELECT list and ORDER BY,
// refusing nested ones.
func (b *binder) collectWindowCalls(sel *sql.Select, targets []*sql.Target) ([]*sql.FuncCall, error) {
	var calls []*sql.FuncCall
	var err error
	visit := func(e sql.Expr) {
		walkExpr(e, func(x sql.Expr) bool {
			f, ok := isWindowCall(x)
			if !ok || err != nil {
				return err == nil
			}
			walkChildren(reflect.ValueOf(f), func(y sql.Expr) bool {
				if g, ok := isWindowCall(y); ok && err == nil {
					err = b.errAt(g.Pos, pgerr.WindowingError, "window function calls cannot be nested")
				}
				return err == nil
			})
			calls = append(calls, f)
			return false
		})
	}
	for _, t := range targets {
		visit(t.Expr)
	}
	for _, o := range sel.OrderBy {
		visit(o.Expr)
	}
	return calls, err
}

// resolveWindows checks the WINDOW clause and resolves a call's OVER.
func (b *binder) namedWindows(sel *sql.Select) (map[string]*sql.WindowDef, error) {
	named := map[string]*sql.WindowDef{}
	for _, w := range sel.Windows {
		if _, dup := named[w.Name]; dup {
			return nil, b.errAt(w.Pos, pgerr.WindowingError, "window %q is already defined", w.Name)
		}
		named[w.Name] = w
	}
	return named, nil
}

func (b *binder) resolveOver(over *sql.WindowDef, named map[string]*sql.WindowDef, depth int) (*windowSpec, error) {
	if depth > len(named)+1 {
		return nil, b.errAt(over.Pos, pgerr.WindowingError, "window %q refers to itself", over.RefName)
	}
	spec := &windowSpec{pos: over.Pos, partition: over.PartitionBy, order: over.OrderBy, frame: over.Frame}
	if over.RefName == "" {
		return spec, nil
	}
	ref, ok := named[over.RefName]
	if !ok {
		return nil, b.errAt(over.Pos, pgerr.UndefinedObject, "window %q does not exist", over.RefName)
	}
	base, err := b.resolveOver(ref, named, depth+1)
	if err != nil {
		return nil, err
	}
	switch {
	case len(over.PartitionBy) > 0:
		return nil, b.errAt(over.Pos, pgerr.WindowingError, "cannot override PARTITION BY clause of window %q", over.RefName)
	case len(over.OrderBy) > 0 && len(base.order) > 0:
		return nil, b.errAt(over.Pos, pgerr.WindowingError, "cannot override ORDER BY clause of window %q", over.RefName)
	case base.frame != nil:
		return nil, b.errAt(over.Pos, pgerr.WindowingError, "cannot copy window %q because it has a frame clause", over.RefName).
			WithHint("Omit the parentheses in this OVER clause.")
	}
	spec.partition = base.partition
	if len(base.order) > 0 {
		spec.order = base.order
	}
	return spec, nil
}

// planWindows plans the window calls of a SELECT over node, whose columns
// are cur (agg is the aggregation below, if any). It returns the new node,
// the scope above it (cur's columns, then hidden ones) and the column of
// each call, by exprKey.
func (b *binder) planWindows(sel *sql.Select, targets []*sql.Target, cur *scope, agg *postAgg, node exec.Node) (exec.Node, *scope, map[string]*expr.ColRef, error) {
	fcalls, err := b.collectWindowCalls(sel, targets)
	if err != nil || len(fcalls) == 0 {
		return node, cur, nil, err
	}
	named, err := b.namedWindows(sel)
	if err != nil {
		return nil, nil, nil, err
	}
	var calls []windowCall
	seen := map[string]bool{}
	for _, f := range fcalls {
		k := exprKey(f)
		if seen[k] {
			continue
		}
		seen[k] = true
		var spec *windowSpec
		if f.Over.Name != "" {
			w, ok := named[f.Over.Name]
			if !ok {
				return nil, nil, nil, b.errAt(f.Over.Pos, pgerr.UndefinedObject, "window %q does not exist", f.Over.Name)
			}
			spec, err = b.resolveOver(w, named, 0)
		} else {
			spec, err = b.resolveOver(f.Over, named, 0)
		}
		if err != nil {
			return nil, nil, nil, err
		}
		calls = append(calls, windowCall{f: f, key: k, spec: spec})
	}

	wp := &windowPlanner{b: b, cur: cur, agg: agg, preKeys: map[string]int{}}
	wp.sc = &scope{cols: append([]column(nil), cur.cols...)}
	for i, c := range cur.cols {
		wp.pre = append(wp.pre, &expr.ColRef{Idx: i, T: c.typ, Name: c.name})
	}
	add := wp.add
	type group struct {
		partition []int
		order     []exec.SortKey
		calls     []exec.WindowCall
		keys      []string
	}
	var groups []*group
	byWindow := map[string]*group{}
	for _, c := range calls {
		var part []int
		for _, e := range c.spec.partition {
			i, err := add(e)
			if err != nil {
				return nil, nil, nil, err
			}
			part = append(part, i)
		}
		var order []exec.SortKey
		for _, item := range c.spec.order {
			if item.Dir == sql.SortUsing {
				return nil, nil, nil, b.errAt(item.Pos, pgerr.FeatureNotSupported, "ORDER BY ... USING is not supported")
			}
			i, err := add(item.Expr)
			if err != nil {
				return nil, nil, nil, err
			}
			k := exec.SortKey{Col: i, Desc: item.Dir == sql.SortDesc}
			k.NullsFirst = k.Desc
			switch item.Nulls {
			case sql.NullsFirst:
				k.NullsFirst = true
			case sql.NullsLast:
				k.NullsFirst = false
			}
			order = append(order, k)
		}
		call, err := wp.bindCall(c, order)
		if err != nil {
			return nil, nil, nil, err
		}
		var sb strings.Builder
		writeKey(&sb, reflect.ValueOf(sql.WindowDef{PartitionBy: c.spec.partition, OrderBy: c.spec.order}))
		wk := sb.String()
		g := byWindow[wk]
		if g == nil {
			g = &group{partition: part, order: order}
			byWindow[wk] = g
			groups = append(groups, g)
		}
		g.calls = append(g.calls, call)
		g.keys = append(g.keys, c.key)
	}

	node = b.attachPending(node)
	if len(wp.pre) > len(cur.cols) {
		node = &exec.Project{Input: node, Exprs: wp.pre}
	}
	cols := map[string]*expr.ColRef{}
	for _, g := range groups {
		base := len(node.Columns())
		node = &exec.Window{Input: node, PartitionBy: g.partition, OrderBy: g.order, Calls: g.calls}
		for j, call := range g.calls {
			cols[g.keys[j]] = &expr.ColRef{Idx: base + j, T: call.Type}
			wp.hide(call.Type)
		}
	}
	return node, wp.sc, cols, nil
}

// windowPlanner builds the projection below a SELECT's windows: the columns
// below them (cur), then every other expression a window needs, each once.
type windowPlanner struct {
	b       *binder
	cur     *scope
	agg     *postAgg
	pre     []expr.Expr
	sc      *scope
	preKeys map[string]int
}

func (wp *windowPlanner) hide(t types.Type) {
	wp.sc.cols = append(wp.sc.cols, column{table: "\x00window", name: "?window?", typ: t, hidden: true})
}

// addBound adds a bound expression as a column (a column reference is
// already one) and returns its index.
func (wp *windowPlanner) addBound(e expr.Expr) int {
	if c, ok := e.(*expr.ColRef); ok {
		return c.Idx
	}
	wp.pre = append(wp.pre, e)
	wp.hide(e.Type())
	return len(wp.pre) - 1
}

func (wp *windowPlanner) bind(e sql.Expr) (expr.Expr, error) {
	return wp.b.bindExpr(e, wp.cur, wp.agg, "window functions")
}

// add binds e (an untyped NULL as text) and adds it as a column.
func (wp *windowPlanner) add(e sql.Expr) (int, error) {
	k := exprKey(e)
	if i, ok := wp.preKeys[k]; ok {
		return i, nil
	}
	x, err := wp.bind(e)
	if err != nil {
		return 0, err
	}
	if c, ok := x.(*expr.Const); ok && c.T.Kind == types.KindNull {
		if x, err = wp.b.coerce(x, types.Text, e.Position(), ""); err != nil {
			return 0, err
		}
	}
	i := wp.addBound(x)
	wp.preKeys[k] = i
	return i, nil
}

// bindWindowCall binds one window function: its kind, arguments (as input
// columns), result type and frame.
func (wp *windowPlanner) bindCall(c windowCall, order []exec.SortKey) (exec.WindowCall, error) {
	b, addBound := wp.b, wp.addBound
	f := c.f
	call := exec.WindowCall{}
	if f.Schema != "" && f.Schema != "pg_catalog" {
		return call, b.errAt(f.Pos, pgerr.UndefinedFunction, "function %s.%s does not exist", f.Schema, f.Name)
	}
	isAgg := aggregateNames[f.Name] || knownAggregates[f.Name]
	switch {
	case isAgg && !windowAggregates[f.Name]:
		return call, b.errAt(f.Pos, pgerr.FeatureNotSupported, "aggregate %s is not supported as a window function yet", f.Name)
	case f.Distinct:
		return call, b.errAt(f.Pos, pgerr.FeatureNotSupported, "DISTINCT is not implemented for window functions")
	case len(f.OrderBy) > 0:
		return call, b.errAt(f.Pos, pgerr.FeatureNotSupported, "aggregate ORDER BY is not implemented for window functions")
	case f.Filter != nil && !isAgg:
		return call, b.errAt(f.Pos, pgerr.FeatureNotSupported, "FILTER is not implemented for non-aggregate window functions")
	case f.Star && f.Name != "count":
		return call, b.errAt(f.Pos, pgerr.WrongObjectType, "%s(*) specified, but %s is not an aggregate function", f.Name, f.Name)
	}
	// Bind the arguments to know their types; they become input columns.
	args := make([]expr.Expr, len(f.Args))
	argTypes := make([]types.Type, len(f.Args))
	for i, a := range f.Args {
		x, err := wp.bind(a)
		if err != nil {
			return call, err
		}
		args[i], argTypes[i] = x, x.Type()
	}
	noFunc := func() error {
		return b.errAt(f.Pos, pgerr.UndefinedFunction, "function %s(%s) does not exist", f.Name, typeNames(argTypes)).
			WithHint("No function matches the given name and argument types. You might need to add explicit type casts.")
	}
	// column adds argument i, coerced to t (unless t is anyType), as a
	// column.
	column := func(i int, t types.Type) (int, error) {
		x := args[i]
		if t.Kind == types.KindNull {
			if x.Type().Kind != types.KindNull {
				return addBound(x), nil
			}
			t = types.Text
		}
		x, err := b.coerce(x, t, f.Args[i].Position(), "")
		if err != nil {
			return 0, err
		}
		return addBound(x), nil
	}
	anyType := types.Type{Kind: types.KindNull}
	nargs := func(lo, hi int) error {
		if len(f.Args) < lo || len(f.Args) > hi {
			return noFunc()
		}
		return nil
	}
	var err error
	switch f.Name {
	case "row_number", "rank", "dense_rank", "percent_rank", "cume_dist":
		if err := nargs(0, 0); err != nil {
			return call, err
		}
		call.Func = map[string]exec.WindowFunc{"row_number": exec.WinRowNumber, "rank": exec.WinRank,
			"dense_rank": exec.WinDenseRank, "percent_rank": exec.WinPercentRank, "cume_dist": exec.WinCumeDist}[f.Name]
		call.Type = types.Int8
		if call.Func == exec.WinPercentRank || call.Func == exec.WinCumeDist {
			call.Type = types.Float8
		}
	case "ntile":
		if err := nargs(1, 1); err != nil {
			return call, err
		}
		call.Func, call.Type = exec.WinNtile, types.Int4
		a, err := column(0, types.Int4)
		if err != nil {
			return call, err
		}
		call.Args = []int{a}
	case "lag", "lead":
		if err := nargs(1, 3); err != nil {
			return call, err
		}
		call.Func = exec.WinLag
		if f.Name == "lead" {
			call.Func = exec.WinLead
		}
		t := argTypes[0]
		if len(args) == 3 {
			// lag(anycompatible, integer, anycompatible)
			if t, err = expr.CommonType([]types.Type{argTypes[0], argTypes[2]}); err != nil {
				return call, withPos(err, b, f.Args[2].Position())
			}
		}
		if t.Kind == types.KindNull {
			t = types.Text
		}
		call.Type = t
		v, err := column(0, t)
		if err != nil {
			return call, err
		}
		call.Args = []int{v}
		if len(args) > 1 {
			o, err := column(1, types.Int4)
			if err != nil {
				return call, err
			}
			call.Args = append(call.Args, o)
		}
		if len(args) > 2 {
			d, err := column(2, t)
			if err != nil {
				return call, err
			}
			call.Args = append(call.Args, d)
		}
	case "first_value", "last_value", "nth_value":
		call.Func = map[string]exec.WindowFunc{"first_value": exec.WinFirstValue, "last_value": exec.WinLastValue, "nth_value": exec.WinNthValue}[f.Name]
		want := 1
		if call.Func == exec.WinNthValue {
			want = 2
		}
		if err := nargs(want, want); err != nil {
			return call, err
		}
		v, err := column(0, anyType)
		if err != nil {
			return call, err
		}
		call.Type = args[0].Type()
		if call.Type.Kind == types.KindNull {
			call.Type = types.Text
		}
		call.Args = []int{v}
		if want == 2 {
			n, err := column(1, types.Int4)
			if err != nil {
				return call, err
			}
			call.Args = append(call.Args, n)
		}
	case "count", "sum", "avg", "min", "max":
		if err := wp.bindAggregate(f, &call, args, argTypes, noFunc); err != nil {
			return call, err
		}
	default:
		if _, lerr := expr.LookupFunction(f.Name, argTypes); lerr == nil {
			return call, b.errAt(f.Pos, pgerr.WrongObjectType, "OVER specified, but %s is not a window function nor an aggregate function", f.Name)
		}
		return call, noFunc()
	}
	if call.Frame, err = wp.bindFrame(c.spec, order); err != nil {
		return call, err
	}
	return call, nil
}

// bindWindowAggregate binds count/sum/avg/min/max OVER: result types as
// for GROUP BY aggregates; FILTER (WHERE c) becomes CASE WHEN c THEN x END.
func (wp *windowPlanner) bindAggregate(f *sql.FuncCall, call *exec.WindowCall, args []expr.Expr, argTypes []types.Type, noFunc func() error) error {
	b := wp.b
	if f.Star {
		call.Func, call.Type = exec.WinCountStar, types.Int8
		if f.Filter == nil {
			return nil
		}
		args = []expr.Expr{&expr.Const{V: types.NewInt4(1), T: types.Int4}}
		argTypes = []types.Type{types.Int4}
		call.Func = exec.WinCount
	}
	if len(args) != 1 {
		return noFunc()
	}
	x := args[0]
	t := argTypes[0]
	if t.Kind == types.KindNull && f.Name != "count" {
		var err error
		if x, err = b.coerce(x, types.Text, f.Args[0].Position(), ""); err != nil {
			return err
		}
		t = types.Text
	}
	switch f.Name {
	case "count":
		if call.Func != exec.WinCount {
			call.Func = exec.WinCount
		}
		call.Type = types.Int8
	case "sum":
		call.Func = exec.WinSum
		var ok bool
		if call.Type, ok = sumType(t); !ok {
			return noFunc()
		}
	case "avg":
		call.Func = exec.WinAvg
		var ok bool
		if call.Type, ok = avgType(t); !ok {
			return noFunc()
		}
	case "min", "max":
		call.Func = exec.WinMin
		if f.Name == "max" {
			call.Func = exec.WinMax
		}
		if !minMaxArg(t) {
			return noFunc()
		}
		call.Type = t
	}
	if f.Filter != nil {
		cond, err := wp.bind(f.Filter)
		if err != nil {
			return err
		}
		if cond, err = b.coerce(cond, types.Bool, f.Filter.Position(), "argument of FILTER"); err != nil {
			return err
		}
		if x, err = expr.NewCase([]expr.When{{Cond: cond, Then: x}}, nil); err != nil {
			return withPos(err, b, f.Pos)
		}
	}
	call.Args = []int{wp.addBound(x)}
	return nil
}

// bindFrame binds a call's frame (the default one when the window has none).
func (wp *windowPlanner) bindFrame(spec *windowSpec, order []exec.SortKey) (exec.WindowFrame, error) {
	b := wp.b
	fr := exec.WindowFrame{Mode: exec.FrameRange, Start: exec.FrameBound{Kind: exec.BoundUnboundedPreceding}, End: exec.FrameBound{Kind: exec.BoundCurrentRow}}
	sf := spec.frame
	if sf == nil {
		return fr, nil
	}
	mode := "RANGE"
	switch sf.Mode {
	case sql.FrameGroups:
		if len(order) == 0 {
			return fr, b.errAt(spec.pos, pgerr.WindowingError, "GROUPS mode requires an ORDER BY clause")
		}
		fr.Mode, mode = exec.FrameGroups, "GROUPS"
	case sql.FrameRows:
		fr.Mode, mode = exec.FrameRows, "ROWS"
	}
	switch sf.Exclude {
	case sql.ExcludeCurrentRow:
		fr.Exclude = exec.ExcludeCurrentRow
	case sql.ExcludeGroup:
		fr.Exclude = exec.ExcludeGroup
	case sql.ExcludeTies:
		fr.Exclude = exec.ExcludeTies
	}
	bind := func(sb sql.FrameBound, start bool) (exec.FrameBound, error) {
		out := exec.FrameBound{Kind: exec.FrameBoundKind(sb.Kind)}
		if sb.Kind != sql.BoundPreceding && sb.Kind != sql.BoundFollowing {
			return out, nil
		}
		var verr error
		walkExpr(sb.Offset, func(x sql.Expr) bool {
			if _, ok := x.(*sql.ColumnRef); ok && verr == nil {
				verr = b.errAt(x.Position(), pgerr.InvalidColumnReference, "argument of %s must not contain variables", mode)
			}
			return verr == nil
		})
		if verr != nil {
			return out, verr
		}
		off, err := b.bindExpr(sb.Offset, &scope{}, nil, mode)
		if err != nil {
			return out, err
		}
		if fr.Mode != exec.FrameRange {
			out.Offset, err = b.coerce(off, types.Int8, sb.Offset.Position(), "argument of "+mode)
			return out, err
		}
		if len(order) != 1 {
			return out, b.errAt(spec.pos, pgerr.WindowingError, "RANGE with offset PRECEDING/FOLLOWING requires exactly one ORDER BY column")
		}
		return out, wp.bindRangeOffset(&out, off, order[0], sb)
	}
	var err error
	if fr.Start, err = bind(sf.Start, true); err != nil {
		return fr, err
	}
	if fr.End, err = bind(sf.End, false); err != nil {
		return fr, err
	}
	return fr, nil
}

// bindRangeOffset binds a RANGE frame's offset for the ORDER BY column key:
// the offset's type follows PostgreSQL's in_range functions (the column's
// numeric type, or interval for dates and times), and Target computes the
// bound's value from [column value, offset].
func (wp *windowPlanner) bindRangeOffset(out *exec.FrameBound, off expr.Expr, key exec.SortKey, sb sql.FrameBound) error {
	b := wp.b
	colT := wp.pre[key.Col].Type()
	var offT types.Type
	switch colT.Kind {
	case types.KindInt2, types.KindInt4, types.KindInt8:
		offT = types.Int8
	case types.KindFloat4, types.KindFloat8:
		offT = types.Float8
	case types.KindNumeric:
		offT = types.Numeric
	case types.KindDate, types.KindTimestamp, types.KindTimestampTZ, types.KindTime, types.KindInterval:
		offT = types.Interval
	}
	if offT.Kind == types.KindNull {
		return b.errAt(sb.Offset.Position(), pgerr.FeatureNotSupported,
			"RANGE with offset PRECEDING/FOLLOWING is not supported for column type %s", colT)
	}
	ok := true
	if off.Type().Kind != types.KindNull && off.Type().Kind != offT.Kind {
		// An integer offset for a numeric or float column is fine; others
		// have no in_range function.
		_, cerr := expr.Coerce(off, offT)
		ok = cerr == nil && (offT.Kind != types.KindInt8 || isIntKind(off.Type().Kind))
	}
	if !ok {
		return b.errAt(sb.Offset.Position(), pgerr.FeatureNotSupported,
			"RANGE with offset PRECEDING/FOLLOWING is not supported for column type %s and offset type %s", colT, off.Type())
	}
	var err error
	if out.Offset, err = b.coerce(off, offT, sb.Offset.Position(), ""); err != nil {
		return err
	}
	// PRECEDING moves toward the start of the order: down when ascending.
	op := "-"
	if (sb.Kind == sql.BoundFollowing) != key.Desc {
		op = "+"
	}
	if out.Target, err = expr.BindOperator(op, &expr.ColRef{Idx: 0, T: colT}, &expr.ColRef{Idx: 1, T: offT}); err != nil {
		return withPos(err, b, sb.Offset.Position())
	}
	return nil
}

func isIntKind(k types.Kind) bool {
	return k == types.KindInt2 || k == types.KindInt4 || k == types.KindInt8
}

// bindWindowRef binds a window call in the SELECT list or ORDER BY to its
// column; anywhere else a window call is an error.
func (b *binder) bindWindowRef(x *sql.FuncCall, where string) (expr.Expr, error) {
	if c, ok := b.winCols[exprKey(x)]; ok {
		return &expr.ColRef{Idx: c.Idx, T: c.T, Name: x.Name}, nil
	}
	if where == "aggregate arguments" {
		return nil, b.errAt(x.Pos, pgerr.GroupingError, "aggregate function calls cannot contain window function calls")
	}
	if where == "" {
		where = "this context"
	}
	return nil, b.errAt(x.Pos, pgerr.WindowingError, "window functions are not allowed in %s", where)
}

func typeNames(ts []types.Type) string {
	s := ""
	for i, t := range ts {
		if i > 0 {
			s += ", "
		}
		s += t.String()
	}
	return s
}

// rankFilter plans a filter above a Window. Conjuncts that read only
// partition columns filter whole partitions, so they go below the window.
// When the window computes one ranking function and the filter bounds its
// result from above (`rn <= 3`, `rn < 4`, `rn = 1`, `rank BETWEEN 2 AND
// 5`), the window becomes a GroupTopN that reads only each partition's top.
func rankFilter(f *exec.Filter, w *exec.Window) exec.Node {
	var node exec.Node = w
	nIn := len(w.Input.Columns())
	part := map[int]bool{}
	for _, c := range w.PartitionBy {
		part[c] = true
	}
	var below, rest, ranks []expr.Expr
	lo, hi, bounded := int64(1), int64(0), false
	ranking := len(w.Calls) == 1 && w.Calls[0].Func <= exec.WinDenseRank
	for _, c := range conjuncts(f.Pred) {
		cols := map[int]bool{}
		colRefs(c, cols)
		onlyPart := len(cols) > 0
		for col := range cols {
			onlyPart = onlyPart && part[col]
		}
		if onlyPart && !volatile(c) {
			below = append(below, c)
			continue
		}
		if ranking {
			if l, h, ok := rankBound(c, nIn); ok {
				lo = max(lo, l)
				if h != nil {
					if !bounded || *h < hi {
						hi = *h
					}
					bounded = true
				}
				ranks = append(ranks, c)
				continue
			}
		}
		rest = append(rest, c)
	}
	if len(below) > 0 {
		w.Input = pushDown(&exec.Filter{Input: w.Input, Pred: andOf(below)})
	}
	if ranking && bounded {
		// GroupTopN applies the bounds (each one exactly), so they leave
		// the filter.
		node = &exec.GroupTopN{Input: w.Input, PartitionBy: w.PartitionBy, OrderBy: w.OrderBy, Func: w.Calls[0].Func, Lo: lo, Hi: hi}
	} else {
		rest = append(rest, ranks...)
	}
	if len(rest) == 0 {
		return node
	}
	return &exec.Filter{Input: node, Pred: andOf(rest)}
}

// rankBound recognises `col op const` or `const op col` on the ranking
// column col and returns the range of ranks it allows (hi nil: no upper
// bound).
func rankBound(c expr.Expr, col int) (lo int64, hi *int64, ok bool) {
	call, isCall := c.(*expr.Call)
	if !isCall || !call.Fn.IsOperator() || len(call.Args) != 2 {
		return 0, nil, false
	}
	op := call.Fn.Name
	l, r := call.Args[0], call.Args[1]
	if _, isCol := r.(*expr.ColRef); isCol {
		l, r = r, l
		op = map[string]string{"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "="}[op]
	}
	ref, isCol := l.(*expr.ColRef)
	k, isConst := r.(*expr.Const)
	if !isCol || ref.Idx != col || !isConst || k.V.IsNull() || !isIntKind(k.V.K) {
		return 0, nil, false
	}
	v := k.V.I
	switch op {
	case "<=":
		return 1, &v, true
	case "<":
		v--
		return 1, &v, true
	case "=":
		return v, &v, true
	case ">=":
		return v, nil, true
	case ">":
		return v + 1, nil, true
	}
	return 0, nil, false
}

// volatile reports whether e calls a volatile function (random()), which
// must see every row.
func volatile(e expr.Expr) bool {
	return anyBound(e, func(x expr.Expr) bool { c, ok := x.(*expr.Call); return ok && c.Fn.Volatile })
}
