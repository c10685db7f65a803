package planner

import (
	"strings"

	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/types"
)

// clockFuncs are the functions that read the statement clock as a
// timestamptz: a temporal filter may compare a row with them.
var clockFuncs = map[string]bool{"now": true, "current_timestamp": true, "transaction_timestamp": true, "statement_timestamp": true}

// clockReaders are every function that reads the clock: in a
// materialized view they are refused outside temporal filters, since a
// view computed at one time would disagree with itself later.
var clockReaders = map[string]bool{"now": true, "current_timestamp": true, "transaction_timestamp": true,
	"statement_timestamp": true, "clock_timestamp": true, "current_date": true, "localtimestamp": true,
	"localtime": true, "current_time": true, "timeofday": true}

// temporalFilters turns the conjuncts of a view's filters that compare a
// row's time with now() into TemporalFilters (Materialize's temporal
// filters): `ts > now() - INTERVAL '1 hour'` keeps a row until an hour
// after ts, and `ts <= now()` holds it back until ts. Each such conjunct
// is `e op now() ± c` (either way round; BETWEEN arrives as two), op one of
// <, <=, >, >=, =, with e free of the clock and c a constant interval of
// fixed length. Any other use of the clock in a view is refused.
func (b *binder) temporalFilters(n exec.Node) (exec.Node, error) {
	if err := mapInputs(n, b.temporalFilters); err != nil {
		return nil, err
	}
	f, ok := n.(*exec.Filter)
	if !ok {
		return n, b.refuseClock(n)
	}
	var rest []expr.Expr
	var bounds []exec.TemporalBound
	for _, c := range conjuncts(f.Pred) {
		bs, ok := temporalBounds(c)
		if !ok {
			rest = append(rest, c)
			continue
		}
		bounds = append(bounds, bs...)
	}
	if len(bounds) == 0 {
		return n, b.refuseClock(n)
	}
	var in exec.Node = f.Input
	if len(rest) > 0 {
		in = &exec.Filter{Input: f.Input, Pred: andOf(rest)}
		if err := b.refuseClock(in); err != nil {
			return nil, err
		}
	}
	return &exec.TemporalFilter{Input: in, Bounds: bounds}, nil
}

// refuseClock fails when n's own expressions read the clock.
func (b *binder) refuseClock(n exec.Node) error {
	var es []expr.Expr
	switch x := n.(type) {
	case *exec.Filter:
		es = []expr.Expr{x.Pred}
	case *exec.Project:
		es = x.Exprs
	case *exec.Join:
		es = []expr.Expr{x.On}
	case *exec.ProjectSet:
		for _, c := range x.Calls {
			es = append(es, c.Args...)
		}
	case *exec.Limit:
		es = []expr.Expr{x.Limit, x.Offset}
	case *exec.Values:
		for _, r := range x.Rows {
			es = append(es, r...)
		}
	}
	// proctime() is the epoch's time, fixed for a row once it is
	// processed: over an input that never retracts, no row needs it again.
	p, isProject := n.(*exec.Project)
	proctimeOK := isProject && exec.AppendOnly(p.Input)
	for _, e := range es {
		if !proctimeOK && usesFunc(e, "proctime") {
			return b.errAt(max(strings.Index(strings.ToLower(b.src), "proctime"), 0), pgerr.FeatureNotSupported,
				"proctime() in a materialized view is only supported in the select list over an append-only input (sources through filters, projections, windows, unions and inner joins)").
				WithHint("A row retracted later would get another processing time than it was inserted with.")
		}
		name := ""
		walkBound(e, func(x expr.Expr) {
			if c, ok := x.(*expr.Call); ok && clockReaders[c.Fn.Name] && name == "" {
				name = c.Fn.Name
			}
		})
		if name != "" {
			pos := strings.Index(strings.ToLower(b.src), name)
			return b.errAt(max(pos, 0), pgerr.FeatureNotSupported,
				"%s() in a materialized view is only supported in a temporal filter: WHERE ts > now() - INTERVAL '1 hour' (also >=, <, <=, BETWEEN)", name).
				WithHint("Compare a column with now() plus or minus a constant interval, in WHERE, with AND between such conditions.")
		}
	}
	return nil
}

// temporalBounds solves one conjunct `e op now() ± c` for now().
func temporalBounds(c expr.Expr) ([]exec.TemporalBound, bool) {
	call, ok := c.(*expr.Call)
	if !ok || len(call.Args) != 2 {
		return nil, false
	}
	op := call.Fn.Name
	flip := map[string]string{"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "="}
	if _, ok := flip[op]; !ok {
		return nil, false
	}
	e, clock := call.Args[0], call.Args[1]
	off, ok := clockOffset(clock)
	if !ok {
		e, clock = clock, e
		if off, ok = clockOffset(clock); !ok {
			return nil, false
		}
		op = flip[op]
	}
	if readsClock(e) {
		return nil, false
	}
	switch e.Type().Kind {
	case types.KindTimestampTZ, types.KindTimestamp, types.KindDate:
	default:
		return nil, false
	}
	// e op now + off, as a bound on now.
	switch op {
	case ">": // now < e - off
		return []exec.TemporalBound{{Expr: e, Until: true, Offset: -off}}, true
	case ">=": // now < e - off + 1
		return []exec.TemporalBound{{Expr: e, Until: true, Offset: -off + 1}}, true
	case "<": // now >= e - off + 1
		return []exec.TemporalBound{{Expr: e, Offset: -off + 1}}, true
	case "<=": // now >= e - off
		return []exec.TemporalBound{{Expr: e, Offset: -off}}, true
	default: // =: now in [e - off, e - off + 1)
		return []exec.TemporalBound{{Expr: e, Offset: -off}, {Expr: e, Until: true, Offset: -off + 1}}, true
	}
}

// clockOffset recognises now() ± c, c a constant interval without months,
// and returns c in µs.
func clockOffset(e expr.Expr) (int64, bool) {
	c, ok := e.(*expr.Call)
	if !ok {
		return 0, false
	}
	if len(c.Args) == 0 {
		return 0, clockFuncs[c.Fn.Name]
	}
	if len(c.Args) != 2 || (c.Fn.Name != "+" && c.Fn.Name != "-") {
		return 0, false
	}
	clock, iv := c.Args[0], c.Args[1]
	if c.Fn.Name == "+" && !readsClock(clock) {
		clock, iv = iv, clock
	}
	base, ok := clockOffset(clock)
	if !ok || !expr.IsConst(iv) || iv.Type().Kind != types.KindInterval {
		return 0, false
	}
	v, err := iv.Eval(&expr.EvalContext{}, nil)
	if err != nil || v.IsNull() || v.Mon != 0 {
		return 0, false
	}
	us := int64(v.Day)*types.USPerDay + v.I
	if c.Fn.Name == "-" {
		us = -us
	}
	return base + us, true
}

func readsClock(e expr.Expr) bool {
	return anyBound(e, func(x expr.Expr) bool { c, ok := x.(*expr.Call); return ok && clockReaders[c.Fn.Name] })
}

// mapInputs replaces each input of n by f of it.
func mapInputs(n exec.Node, f func(exec.Node) (exec.Node, error)) error {
	for _, in := range exec.Inputs(n) {
		x, err := f(*in)
		if err != nil {
			return err
		}
		*in = x
	}
	return nil
}

func usesFunc(e expr.Expr, name string) bool {
	return anyBound(e, func(x expr.Expr) bool { c, ok := x.(*expr.Call); return ok && c.Fn.Name == name })
}
