package expr

import (
	"strings"
	"time"

	"github.com/kappa-db/kappa/types"
)

var (
	valTrue  = types.Value{K: types.KindBool, I: 1}
	valFalse = types.Value{K: types.KindBool}
)

func boolVal(b bool) types.Value {
	if b {
		return valTrue
	}
	return valFalse
}

// cmpOps are the six comparison operators and how each reads a three-way
// comparison result.
var cmpOps = []struct {
	op   string
	test func(c int) bool
}{
	{"=", func(c int) bool { return c == 0 }},
	{"<>", func(c int) bool { return c != 0 }},
	{"<", func(c int) bool { return c < 0 }},
	{"<=", func(c int) bool { return c <= 0 }},
	{">", func(c int) bool { return c > 0 }},
	{">=", func(c int) bool { return c >= 0 }},
}

// addComparisons registers the six operators for l × r with a three-way
// comparison function.
func addComparisons(l, r types.Type, cmp func(ctx *EvalContext, a, b types.Value) int) {
	for _, o := range cmpOps {
		test := o.test
		addBinary(o.op, l, r, types.Bool, func(ctx *EvalContext, a, b types.Value) (types.Value, error) {
			return boolVal(test(cmp(ctx, a, b))), nil
		})
	}
}

func compareValues(_ *EvalContext, a, b types.Value) int { return types.Compare(a, b) }

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Cross-type date/time comparisons convert to the wider type as PostgreSQL's
// date_cmp_timestamp and timestamp_cmp_timestamptz do; an infinite date is
// an infinite timestamp.
func dateToTimestampUS(days int64) int64 {
	switch days {
	case types.DateInfinity:
		return types.TimestampInfinity
	case types.DateNegInfinity:
		return types.TimestampNegInfinity
	}
	return days * types.USPerDay
}

// localToUTC interprets a timestamp without time zone in loc, resolving
// DST transitions as PostgreSQL's DetermineTimeZoneOffset does: a wall-clock
// time skipped by a spring-forward transition takes the offset from before
// it, one repeated by a fall-back transition the offset from after it.
func localToUTC(w int64, loc *time.Location) int64 {
	if w == types.TimestampInfinity || w == types.TimestampNegInfinity || loc == time.UTC {
		return w
	}
	offAt := func(u int64) int64 {
		_, off := types.TimeFromTimestamp(u).In(loc).Zone()
		return int64(off) * types.USPerSecond
	}
	offB, offA := offAt(w-types.USPerDay), offAt(w+types.USPerDay)
	if offB == offA {
		return w - offB
	}
	bt, at := w-offB, w-offA
	bBefore, aBefore := offAt(bt) == offB, offAt(at) == offB
	switch {
	case bBefore && aBefore:
		return bt
	case !bBefore && !aBefore:
		return at
	case bt > at:
		return bt
	}
	return at
}

// utcToLocal is the wall-clock time in loc of a timestamptz.
func utcToLocal(us int64, loc *time.Location) int64 {
	if us == types.TimestampInfinity || us == types.TimestampNegInfinity || loc == time.UTC {
		return us
	}
	_, off := types.TimeFromTimestamp(us).In(loc).Zone()
	return us + int64(off)*types.USPerSecond
}

func registerCompare() {
	ints := []types.Type{types.Int2, types.Int4, types.Int8}
	for _, l := range ints {
		for _, r := range ints {
			addComparisons(l, r, func(_ *EvalContext, a, b types.Value) int { return cmpInt64(a.I, b.I) })
		}
	}
	floats := []types.Type{types.Float4, types.Float8}
	for _, l := range floats {
		for _, r := range floats {
			addComparisons(l, r, compareValues)
		}
	}
	for _, t := range []types.Type{types.Bool, types.Numeric, types.Text, types.Bytea, types.Date,
		types.Time, types.Timestamp, types.TimestampTZ, types.Interval, types.JSONB, types.Oid} {
		addComparisons(t, t, compareValues)
	}
	// bpchar's own operators (bpchareq, ...) ignore the padding; they win
	// for char(n) against char(n), unknown or varchar, as in PostgreSQL.
	addComparisons(types.Bpchar, types.Bpchar, func(_ *EvalContext, a, b types.Value) int {
		return strings.Compare(strings.TrimRight(a.S, " "), strings.TrimRight(b.S, " "))
	})
	d, ts, tz := types.Date, types.Timestamp, types.TimestampTZ
	addComparisons(d, ts, func(_ *EvalContext, a, b types.Value) int {
		return cmpInt64(dateToTimestampUS(a.I), b.I)
	})
	addComparisons(ts, d, func(_ *EvalContext, a, b types.Value) int {
		return cmpInt64(a.I, dateToTimestampUS(b.I))
	})
	addComparisons(d, tz, func(ctx *EvalContext, a, b types.Value) int {
		return cmpInt64(localToUTC(dateToTimestampUS(a.I), ctx.loc()), b.I)
	})
	addComparisons(tz, d, func(ctx *EvalContext, a, b types.Value) int {
		return cmpInt64(a.I, localToUTC(dateToTimestampUS(b.I), ctx.loc()))
	})
	addComparisons(ts, tz, func(ctx *EvalContext, a, b types.Value) int {
		return cmpInt64(localToUTC(a.I, ctx.loc()), b.I)
	})
	addComparisons(tz, ts, func(ctx *EvalContext, a, b types.Value) int {
		return cmpInt64(a.I, localToUTC(b.I, ctx.loc()))
	})
}

// arrayComparison returns the comparison operator for two arrays of one
// element type (array_eq, array_lt...): element by element, NULL elements
// equal to each other and greater than the rest, a shorter prefix first.
func arrayComparison(op string, l, r types.Type) *Func {
	if l.Kind != types.KindArray || !sameType(l, r) {
		return nil
	}
	for _, o := range cmpOps {
		if o.op != op {
			continue
		}
		test := o.test
		f := func(_ *EvalContext, a, b types.Value) (types.Value, error) {
			return boolVal(test(types.Compare(a, b))), nil
		}
		return &Func{Name: op, Args: []types.Type{l, r}, Ret: types.Bool, Strict: true, op: true, Eval2: f, Eval: wrap2(f)}
	}
	return nil
}
