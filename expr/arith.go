package expr

import (
	"math"

	"github.com/cockroachdb/apd/v3"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/types"
)

// Errors shared by the arithmetic operators, worded as PostgreSQL's.
var (
	errDivByZero     = pgerr.New(pgerr.DivisionByZero, "division by zero")
	errInt2Range     = pgerr.New(pgerr.NumericValueOutOfRange, "smallint out of range")
	errInt4Range     = pgerr.New(pgerr.NumericValueOutOfRange, "integer out of range")
	errInt8Range     = pgerr.New(pgerr.NumericValueOutOfRange, "bigint out of range")
	errFloatOverflow = pgerr.New(pgerr.NumericValueOutOfRange, "value out of range: overflow")
	errFloatUnder    = pgerr.New(pgerr.NumericValueOutOfRange, "value out of range: underflow")
	errNumOverflow   = pgerr.New(pgerr.NumericValueOutOfRange, "value overflows numeric format")
)

// intRange checks an int2/int4 result computed in int64.
func intRange(k types.Kind, r int64) (types.Value, error) {
	switch k {
	case types.KindInt2:
		if r < math.MinInt16 || r > math.MaxInt16 {
			return types.Null, errInt2Range
		}
	case types.KindInt4:
		if r < math.MinInt32 || r > math.MaxInt32 {
			return types.Null, errInt4Range
		}
	}
	return types.Value{K: k, I: r}, nil
}

func intAdd(k types.Kind) eval2Fn {
	if k == types.KindInt8 {
		return func(_ *EvalContext, a, b types.Value) (types.Value, error) {
			r := a.I + b.I
			if (a.I >= 0) == (b.I >= 0) && (r >= 0) != (a.I >= 0) {
				return types.Null, errInt8Range
			}
			return types.Value{K: k, I: r}, nil
		}
	}
	return func(_ *EvalContext, a, b types.Value) (types.Value, error) { return intRange(k, a.I+b.I) }
}

func intSub(k types.Kind) eval2Fn {
	if k == types.KindInt8 {
		return func(_ *EvalContext, a, b types.Value) (types.Value, error) {
			r := a.I - b.I
			if (a.I >= 0) != (b.I >= 0) && (r >= 0) != (a.I >= 0) {
				return types.Null, errInt8Range
			}
			return types.Value{K: k, I: r}, nil
		}
	}
	return func(_ *EvalContext, a, b types.Value) (types.Value, error) { return intRange(k, a.I-b.I) }
}

func mulInt64(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	r := a * b
	if r/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return 0, false
	}
	return r, true
}

func intMul(k types.Kind) eval2Fn {
	if k == types.KindInt8 {
		return func(_ *EvalContext, a, b types.Value) (types.Value, error) {
			r, ok := mulInt64(a.I, b.I)
			if !ok {
				return types.Null, errInt8Range
			}
			return types.Value{K: k, I: r}, nil
		}
	}
	return func(_ *EvalContext, a, b types.Value) (types.Value, error) { return intRange(k, a.I*b.I) }
}

func intDiv(k types.Kind) eval2Fn {
	return func(_ *EvalContext, a, b types.Value) (types.Value, error) {
		if b.I == 0 {
			return types.Null, errDivByZero
		}
		if b.I == -1 {
			if k == types.KindInt8 && a.I == math.MinInt64 {
				return types.Null, errInt8Range
			}
			return intRange(k, -a.I)
		}
		return types.Value{K: k, I: a.I / b.I}, nil
	}
}

func intMod(k types.Kind) eval2Fn {
	return func(_ *EvalContext, a, b types.Value) (types.Value, error) {
		if b.I == 0 {
			return types.Null, errDivByZero
		}
		if b.I == -1 {
			return types.Value{K: k, I: 0}, nil
		}
		return types.Value{K: k, I: a.I % b.I}, nil
	}
}

func intNeg(k types.Kind) eval1Fn {
	return func(_ *EvalContext, a types.Value) (types.Value, error) {
		if k == types.KindInt8 && a.I == math.MinInt64 {
			return types.Null, errInt8Range
		}
		return intRange(k, -a.I)
	}
}

func intAbs(k types.Kind) eval1Fn {
	neg := intNeg(k)
	return func(ctx *EvalContext, a types.Value) (types.Value, error) {
		if a.I < 0 {
			return neg(ctx, a)
		}
		return a, nil
	}
}

func identity(_ *EvalContext, a types.Value) (types.Value, error) { return a, nil }

// checkFloat applies float8's overflow and underflow checks: an infinite
// result from finite inputs overflowed, a zero result from non-zero inputs
// underflowed (when zeroOK is false).
func checkFloat(k types.Kind, r float64, infOK bool, zeroOK bool) (types.Value, error) {
	if math.IsInf(r, 0) && !infOK {
		return types.Null, errFloatOverflow
	}
	if r == 0 && !zeroOK {
		return types.Null, errFloatUnder
	}
	return types.Value{K: k, F: r}, nil
}

// floatOp computes in float32 for float4 so results round as PostgreSQL's
// float4 operators do.
func floatRound(k types.Kind, r float64) float64 {
	if k == types.KindFloat4 {
		return float64(float32(r))
	}
	return r
}

func floatAdd(k types.Kind) eval2Fn {
	return func(_ *EvalContext, a, b types.Value) (types.Value, error) {
		r := floatRound(k, a.F+b.F)
		return checkFloat(k, r, math.IsInf(a.F, 0) || math.IsInf(b.F, 0), true)
	}
}

func floatSub(k types.Kind) eval2Fn {
	return func(_ *EvalContext, a, b types.Value) (types.Value, error) {
		r := floatRound(k, a.F-b.F)
		return checkFloat(k, r, math.IsInf(a.F, 0) || math.IsInf(b.F, 0), true)
	}
}

func floatMul(k types.Kind) eval2Fn {
	return func(_ *EvalContext, a, b types.Value) (types.Value, error) {
		r := floatRound(k, a.F*b.F)
		return checkFloat(k, r, math.IsInf(a.F, 0) || math.IsInf(b.F, 0), a.F == 0 || b.F == 0)
	}
}

func floatDiv(k types.Kind) eval2Fn {
	return func(_ *EvalContext, a, b types.Value) (types.Value, error) {
		if b.F == 0 && !math.IsNaN(a.F) {
			return types.Null, errDivByZero
		}
		r := floatRound(k, a.F/b.F)
		return checkFloat(k, r, math.IsInf(a.F, 0), a.F == 0 || math.IsInf(b.F, 0))
	}
}

func floatNeg(k types.Kind) eval1Fn {
	return func(_ *EvalContext, a types.Value) (types.Value, error) { return types.Value{K: k, F: -a.F}, nil }
}

func floatAbs(k types.Kind) eval1Fn {
	return func(_ *EvalContext, a types.Value) (types.Value, error) {
		return types.Value{K: k, F: math.Abs(a.F)}, nil
	}
}

// Numeric arithmetic. exactCtx performs add/sub/mul without rounding;
// traps are off so that Infinity - Infinity yields NaN as in PostgreSQL.
var exactCtx = apd.Context{
	Precision:   0,
	MaxExponent: apd.MaxExponent,
	MinExponent: apd.MinExponent,
	Rounding:    apd.RoundHalfUp,
}

// wideCtx is for operations that need a precision (remainder, rounding).
var wideCtx = apd.Context{
	Precision:   4000,
	MaxExponent: apd.MaxExponent,
	MinExponent: apd.MinExponent,
	Rounding:    apd.RoundHalfUp,
}

func numVal(d *apd.Decimal) types.Value { return types.Value{K: types.KindNumeric, D: d} }

// numFinish normalizes a numeric result: no positive exponents (PostgreSQL
// has no negative display scale) and no negative zero.
func numFinish(d *apd.Decimal) (types.Value, error) {
	if d.Form == apd.Finite {
		if d.Exponent > 0 {
			if _, err := wideCtx.Quantize(d, d, 0); err != nil {
				return types.Null, errNumOverflow
			}
		}
		if d.Coeff.Sign() == 0 {
			d.Negative = false
		}
	} else if d.Form == apd.NaNSignaling {
		d.Form = apd.NaN
	}
	if d.Form == apd.NaN {
		d.Negative = false
	}
	return numVal(d), nil
}

func numAdd(_ *EvalContext, a, b types.Value) (types.Value, error) {
	d := new(apd.Decimal)
	if _, err := exactCtx.Add(d, a.D, b.D); err != nil {
		return types.Null, errNumOverflow
	}
	return numFinish(d)
}

func numSub(_ *EvalContext, a, b types.Value) (types.Value, error) {
	d := new(apd.Decimal)
	if _, err := exactCtx.Sub(d, a.D, b.D); err != nil {
		return types.Null, errNumOverflow
	}
	return numFinish(d)
}

func numMul(_ *EvalContext, a, b types.Value) (types.Value, error) {
	d := new(apd.Decimal)
	if _, err := exactCtx.Mul(d, a.D, b.D); err != nil {
		return types.Null, errNumOverflow
	}
	return numFinish(d)
}

func isNaN(d *apd.Decimal) bool { return d.Form == apd.NaN || d.Form == apd.NaNSignaling }

func numDiv(_ *EvalContext, a, b types.Value) (types.Value, error) {
	d, err := decDiv(a.D, b.D)
	if err != nil {
		return types.Null, err
	}
	return numFinish(d)
}

// decDiv divides with PostgreSQL's result scale (select_div_scale),
// rounding half away from zero.
func decDiv(x, y *apd.Decimal) (*apd.Decimal, error) {
	d := new(apd.Decimal)
	switch {
	case isNaN(x) || isNaN(y):
		d.Form = apd.NaN
		return d, nil
	case y.Form == apd.Finite && y.Coeff.Sign() == 0:
		return nil, errDivByZero
	case x.Form == apd.Infinite && y.Form == apd.Infinite:
		d.Form = apd.NaN
		return d, nil
	case x.Form == apd.Infinite:
		d.Form = apd.Infinite
		d.Negative = x.Negative != y.Negative
		return d, nil
	case y.Form == apd.Infinite:
		return d, nil
	}
	rscale := selectDivScale(x, y)
	return quoScale(x, y, rscale)
}

// quoScale computes x/y rounded half away from zero to rscale digits: the
// quotient is first truncated at a precision beyond rscale, which cannot
// move it across a rounding boundary.
func quoScale(x, y *apd.Decimal, rscale int) (*apd.Decimal, error) {
	d := new(apd.Decimal)
	intDigits := adjExp(x) - adjExp(y) + 2
	if intDigits < 1 {
		intDigits = 1
	}
	ctx := exactCtx
	ctx.Precision = uint32(intDigits + rscale + 3)
	ctx.Rounding = apd.RoundDown
	if _, err := ctx.Quo(d, x, y); err != nil {
		return nil, errNumOverflow
	}
	if err := types.RoundNumeric(d, d, int32(rscale)); err != nil {
		return nil, err
	}
	return d, nil
}

// adjExp is the decimal exponent of x's leading digit (0 for zero).
func adjExp(x *apd.Decimal) int {
	if x.Form != apd.Finite || x.Coeff.Sign() == 0 {
		return 0
	}
	return int(x.Exponent) + int(x.NumDigits()) - 1
}

func dscale(x *apd.Decimal) int { return int(types.NumericScale(x)) }

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// nbase describes x in PostgreSQL's base-10000 representation: the weight
// of the first digit, the first two digits and the digit count (trailing
// zero digits stripped).
func nbase(x *apd.Decimal) (weight, d0, d1, ndigits int) {
	if x.Form != apd.Finite || x.Coeff.Sign() == 0 {
		return 0, 0, 0, 0
	}
	var scratch [64]byte
	s := x.Coeff.Append(scratch[:0], 10)
	nd := len(s)
	e := int(x.Exponent)
	adj := e + nd - 1
	weight = floorDiv(adj, 4)
	digitAt := func(p int) int { // decimal digit at position 10^p
		i := p - e
		if i < 0 || i >= nd {
			return 0
		}
		return int(s[nd-1-i] - '0')
	}
	group := func(w int) int {
		g := 0
		for p := 4*w + 3; p >= 4*w; p-- {
			g = g*10 + digitAt(p)
		}
		return g
	}
	d0, d1 = group(weight), group(weight-1)
	tz := 0
	for tz < nd-1 && s[nd-1-tz] == '0' {
		tz++
	}
	low := floorDiv(e+tz, 4)
	ndigits = weight - low + 1
	return weight, d0, d1, ndigits
}

// selectDivScale is PostgreSQL's select_div_scale: at least 16 significant
// digits, and no fewer decimals than either input shows.
func selectDivScale(x, y *apd.Decimal) int {
	w1, f1, _, _ := nbase(x)
	w2, f2, _, _ := nbase(y)
	qweight := w1 - w2
	if f1 <= f2 {
		qweight--
	}
	rscale := 16 - qweight*4
	rscale = max(rscale, dscale(x), dscale(y), 0)
	return min(rscale, 1000)
}

func numMod(_ *EvalContext, a, b types.Value) (types.Value, error) {
	x, y := a.D, b.D
	d := new(apd.Decimal)
	switch {
	case isNaN(x) || isNaN(y):
		d.Form = apd.NaN
		return numVal(d), nil
	case y.Form == apd.Finite && y.Coeff.Sign() == 0:
		return types.Null, errDivByZero
	case x.Form == apd.Infinite:
		d.Form = apd.NaN
		return numVal(d), nil
	case y.Form == apd.Infinite:
		d.Set(x)
		return numVal(d), nil
	}
	if _, err := wideCtx.Rem(d, x, y); err != nil {
		return types.Null, errNumOverflow
	}
	return numFinish(d)
}

func numNeg(_ *EvalContext, a types.Value) (types.Value, error) {
	d := new(apd.Decimal)
	d.Neg(a.D)
	return numFinish(d)
}

func numAbs(_ *EvalContext, a types.Value) (types.Value, error) {
	d := new(apd.Decimal)
	d.Abs(a.D)
	return numFinish(d)
}

// Bitwise integer operators.
func intBit(k types.Kind, op byte) eval2Fn {
	return func(_ *EvalContext, a, b types.Value) (types.Value, error) {
		var r int64
		switch op {
		case '&':
			r = a.I & b.I
		case '|':
			r = a.I | b.I
		case '#':
			r = a.I ^ b.I
		}
		return types.Value{K: k, I: r}, nil
	}
}

// intShift shifts by an int4 amount, with C's wrap-around of the amount as
// PostgreSQL (on x86) does.
func intShift(k types.Kind, left bool) eval2Fn {
	bits := int64(64)
	switch k {
	case types.KindInt2, types.KindInt4:
		bits = 32
	}
	return func(_ *EvalContext, a, b types.Value) (types.Value, error) {
		n := uint(b.I & (bits - 1))
		var r int64
		if bits == 32 {
			x := int32(a.I)
			if left {
				x <<= n
			} else {
				x >>= n
			}
			r = int64(x)
			if k == types.KindInt2 {
				r = int64(int16(r))
			}
		} else if left {
			r = a.I << n
		} else {
			r = a.I >> n
		}
		return types.Value{K: k, I: r}, nil
	}
}

func registerArith() {
	for _, t := range []types.Type{types.Int2, types.Int4, types.Int8} {
		k := t.Kind
		addBinary("+", t, t, t, intAdd(k))
		addBinary("-", t, t, t, intSub(k))
		addBinary("*", t, t, t, intMul(k))
		addBinary("/", t, t, t, intDiv(k))
		addBinary("%", t, t, t, intMod(k))
		addUnary("-", t, t, intNeg(k))
		addUnary("+", t, t, identity)
		addUnary("@", t, t, intAbs(k))
		addBinary("&", t, t, t, intBit(k, '&'))
		addBinary("|", t, t, t, intBit(k, '|'))
		addBinary("#", t, t, t, intBit(k, '#'))
		addBinary("<<", t, types.Int4, t, intShift(k, true))
		addBinary(">>", t, types.Int4, t, intShift(k, false))
		addUnary("~", t, t, func(_ *EvalContext, a types.Value) (types.Value, error) {
			return types.Value{K: k, I: ^a.I}, nil
		})
		addFunc1("abs", t, t, intAbs(k))
		addFunc2("mod", t, t, t, intMod(k))
	}
	for _, t := range []types.Type{types.Float4, types.Float8} {
		k := t.Kind
		addBinary("+", t, t, t, floatAdd(k))
		addBinary("-", t, t, t, floatSub(k))
		addBinary("*", t, t, t, floatMul(k))
		addBinary("/", t, t, t, floatDiv(k))
		addUnary("-", t, t, floatNeg(k))
		addUnary("+", t, t, identity)
		addUnary("@", t, t, floatAbs(k))
		addFunc1("abs", t, t, floatAbs(k))
	}
	// PostgreSQL's cross-type operators (int24pl, float48mul, ...): they
	// compute in the wider type, and their presence steers resolution (int4
	// + float4 is float8 + float4 there, so the result is double precision).
	ints := []types.Type{types.Int2, types.Int4, types.Int8}
	for i, l := range ints {
		for j, r := range ints {
			if i == j {
				continue
			}
			w := ints[max(i, j)]
			k := w.Kind
			addBinary("+", l, r, w, intAdd(k))
			addBinary("-", l, r, w, intSub(k))
			addBinary("*", l, r, w, intMul(k))
			addBinary("/", l, r, w, intDiv(k))
		}
	}
	for _, p := range [][2]types.Type{{types.Float4, types.Float8}, {types.Float8, types.Float4}} {
		k := types.KindFloat8
		addBinary("+", p[0], p[1], types.Float8, floatAdd(k))
		addBinary("-", p[0], p[1], types.Float8, floatSub(k))
		addBinary("*", p[0], p[1], types.Float8, floatMul(k))
		addBinary("/", p[0], p[1], types.Float8, floatDiv(k))
	}
	n := types.Numeric
	addBinary("+", n, n, n, numAdd)
	addBinary("-", n, n, n, numSub)
	addBinary("*", n, n, n, numMul)
	addBinary("/", n, n, n, numDiv)
	addBinary("%", n, n, n, numMod)
	addUnary("-", n, n, numNeg)
	addUnary("+", n, n, identity)
	addUnary("@", n, n, numAbs)
	addFunc1("abs", n, n, numAbs)
	addFunc2("mod", n, n, n, numMod)
}
