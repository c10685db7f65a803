package expr

import (
	"math"
	"math/rand/v2"

	"github.com/cockroachdb/apd/v3"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/types"
)

// SQLSTATEs of the math functions that pgerr does not name.
const (
	codeInvalidLogArg   = "2201E" // invalid_argument_for_logarithm
	codeInvalidPowerArg = "2201F" // invalid_argument_for_power_function
)

var (
	errSqrtNeg    = pgerr.New(codeInvalidPowerArg, "cannot take square root of a negative number")
	errLogZero    = pgerr.New(codeInvalidLogArg, "cannot take logarithm of zero")
	errLogNeg     = pgerr.New(codeInvalidLogArg, "cannot take logarithm of a negative number")
	errPowZeroNeg = pgerr.New(codeInvalidPowerArg, "zero raised to a negative power is undefined")
	errPowNegFrac = pgerr.New(codeInvalidPowerArg, "a negative number raised to a non-integer power yields a complex result")
)

func f8(f float64) types.Value { return types.Value{K: types.KindFloat8, F: f} }

// f8Fn lifts a float function that cannot fail.
func f8Fn(f func(float64) float64) eval1Fn {
	return func(_ *EvalContext, a types.Value) (types.Value, error) { return f8(f(a.F)), nil }
}

func dpow(_ *EvalContext, a, b types.Value) (types.Value, error) {
	x, y := a.F, b.F
	if math.IsNaN(x) {
		if y == 0 {
			return f8(1), nil
		}
		return f8(math.NaN()), nil
	}
	if math.IsNaN(y) {
		if x == 1 {
			return f8(1), nil
		}
		return f8(math.NaN()), nil
	}
	if x == 0 && y < 0 {
		return types.Null, errPowZeroNeg
	}
	if x < 0 && y != math.Floor(y) && !math.IsInf(y, 0) {
		return types.Null, errPowNegFrac
	}
	r := math.Pow(x, y)
	if math.IsInf(r, 0) && !math.IsInf(x, 0) && !math.IsInf(y, 0) {
		return types.Null, errFloatOverflow
	}
	if r == 0 && x != 0 && !math.IsInf(y, 0) && !math.IsInf(x, 0) {
		return types.Null, errFloatUnder
	}
	return f8(r), nil
}

func dsqrt(_ *EvalContext, a types.Value) (types.Value, error) {
	if a.F < 0 {
		return types.Null, errSqrtNeg
	}
	return f8(math.Sqrt(a.F)), nil
}

func dexp(_ *EvalContext, a types.Value) (types.Value, error) {
	r := math.Exp(a.F)
	if math.IsInf(r, 0) && !math.IsInf(a.F, 0) {
		return types.Null, errFloatOverflow
	}
	if r == 0 && !math.IsInf(a.F, 0) {
		return types.Null, errFloatUnder
	}
	return f8(r), nil
}

func dlog(f func(float64) float64) eval1Fn {
	return func(_ *EvalContext, a types.Value) (types.Value, error) {
		switch {
		case a.F == 0:
			return types.Null, errLogZero
		case a.F < 0:
			return types.Null, errLogNeg
		}
		return f8(f(a.F)), nil
	}
}

// Numeric functions.

func newDec() *apd.Decimal { return new(apd.Decimal) }

func numRound(_ *EvalContext, a, b types.Value) (types.Value, error) {
	if a.D.Form != apd.Finite {
		return a, nil
	}
	s := clampScale(b.I)
	d := newDec()
	if err := types.RoundNumeric(d, a.D, s); err != nil {
		return types.Null, err
	}
	return numFinish(d)
}

func clampScale(s int64) int32 {
	return int32(max(min(s, 1000), -1000))
}

func numTrunc(_ *EvalContext, a, b types.Value) (types.Value, error) {
	if a.D.Form != apd.Finite {
		return a, nil
	}
	s := clampScale(b.I)
	d := newDec()
	if -a.D.Exponent <= s {
		if err := types.RoundNumeric(d, a.D, s); err != nil { // only pads
			return types.Null, err
		}
		return numFinish(d)
	}
	ctx := wideCtx
	ctx.Rounding = apd.RoundDown
	if _, err := ctx.Quantize(d, a.D, -s); err != nil {
		return types.Null, errNumOverflow
	}
	return numFinish(d)
}

// numIntegral is ceil or floor of a numeric. Not Quantize with a directed
// rounding: apd's Quantize drops a coefficient shorter than the digits it
// removes to zero without rounding, so floor(-0.01) came out 0, not -1.
func numIntegral(rounding apd.Rounder) eval1Fn {
	return func(_ *EvalContext, a types.Value) (types.Value, error) {
		if a.D.Form != apd.Finite {
			return a, nil
		}
		d := newDec()
		var err error
		if rounding == apd.RoundFloor {
			_, err = wideCtx.Floor(d, a.D)
		} else {
			_, err = wideCtx.Ceil(d, a.D)
		}
		if err != nil {
			return types.Null, errNumOverflow
		}
		return numFinish(d)
	}
}

func numSign(_ *EvalContext, a types.Value) (types.Value, error) {
	switch {
	case isNaN(a.D):
		return a, nil
	case a.D.Form == apd.Finite && a.D.Coeff.Sign() == 0:
		return types.NewNumericInt(0), nil
	case a.D.Negative:
		return types.NewNumericInt(-1), nil
	}
	return types.NewNumericInt(1), nil
}

// numWithScale runs an apd function at a precision enough for rscale digits
// after the point given the result's estimated decimal weight, then rounds
// to rscale as PostgreSQL does.
func numWithScale(rweight, rscale int, f func(ctx *apd.Context, d *apd.Decimal) error) (types.Value, error) {
	ctx := exactCtx
	ctx.Precision = uint32(max(rweight+1, 1) + rscale + 8)
	ctx.Rounding = apd.RoundHalfEven
	d := newDec()
	if err := f(&ctx, d); err != nil {
		return types.Null, err
	}
	if d.Form != apd.Finite {
		return numFinish(d)
	}
	if err := types.RoundNumeric(d, d, int32(rscale)); err != nil {
		return types.Null, err
	}
	return numFinish(d)
}

func clampRscale(r int) int { return min(max(r, 0), 1000) }

func numSqrt(_ *EvalContext, a types.Value) (types.Value, error) {
	x := a.D
	switch {
	case isNaN(x):
		return a, nil
	case x.Negative && !(x.Form == apd.Finite && x.Coeff.Sign() == 0):
		return types.Null, errSqrtNeg
	case x.Form == apd.Infinite:
		return a, nil
	}
	w, _, _, _ := nbase(x)
	sweight := (w+1)*4/2 - 1
	rscale := clampRscale(max(16-sweight, dscale(x)))
	return numWithScale(adjExp(x)/2+1, rscale, func(ctx *apd.Context, d *apd.Decimal) error {
		_, err := ctx.Sqrt(d, x)
		return err
	})
}

func numExp(_ *EvalContext, a types.Value) (types.Value, error) {
	x := a.D
	switch {
	case isNaN(x):
		return a, nil
	case x.Form == apd.Infinite:
		if x.Negative {
			return types.NewNumericInt(0), nil
		}
		return a, nil
	}
	v, _ := x.Float64()
	val := v * 0.434294481903252
	val = max(min(val, 2000), -2000)
	rscale := clampRscale(max(16-int(val), dscale(x)))
	return numWithScale(int(val), rscale, func(ctx *apd.Context, d *apd.Decimal) error {
		if _, err := ctx.Exp(d, x); err != nil {
			return errNumOverflow
		}
		return nil
	})
}

// estimateLnDweight is PostgreSQL's estimate_ln_dweight: the decimal weight
// of ln(x), for choosing result scales.
func estimateLnDweight(x *apd.Decimal) int {
	if x.Negative || x.Form != apd.Finite || x.Coeff.Sign() == 0 {
		return 0
	}
	lo, hi := apd.New(9, -1), apd.New(11, -1)
	if x.Cmp(lo) >= 0 && x.Cmp(hi) <= 0 {
		var y apd.Decimal
		one := apd.New(1, 0)
		if _, err := exactCtx.Sub(&y, x, one); err != nil || y.Coeff.Sign() == 0 {
			return 0
		}
		w, d0, _, _ := nbase(&y)
		return w*4 + int(math.Log10(float64(d0)))
	}
	w, d0, d1, nd := nbase(x)
	digits := d0
	dweight := w * 4
	if nd > 1 {
		digits = digits*10000 + d1
		dweight -= 4
	}
	lnv := math.Log(float64(digits)) + float64(dweight)*2.302585092994046
	return int(math.Log10(math.Abs(lnv)))
}

func checkLogArg(x *apd.Decimal) error {
	switch {
	case x.Form == apd.Finite && x.Coeff.Sign() == 0:
		return errLogZero
	case x.Negative:
		return errLogNeg
	}
	return nil
}

func numLn(_ *EvalContext, a types.Value) (types.Value, error) {
	x := a.D
	if isNaN(x) {
		return a, nil
	}
	if err := checkLogArg(x); err != nil {
		return types.Null, err
	}
	if x.Form == apd.Infinite {
		return a, nil
	}
	dw := estimateLnDweight(x)
	rscale := clampRscale(max(16-dw, dscale(x)))
	return numWithScale(dw, rscale, func(ctx *apd.Context, d *apd.Decimal) error {
		_, err := ctx.Ln(d, x)
		return err
	})
}

func numLog(_ *EvalContext, a, b types.Value) (types.Value, error) {
	base, x := a.D, b.D
	if isNaN(base) || isNaN(x) {
		d := newDec()
		d.Form = apd.NaN
		return numVal(d), nil
	}
	if err := checkLogArg(base); err != nil {
		return types.Null, err
	}
	if err := checkLogArg(x); err != nil {
		return types.Null, err
	}
	if base.Form == apd.Finite && base.Cmp(apd.New(1, 0)) == 0 {
		return types.Null, errDivByZero
	}
	dw := estimateLnDweight(x) - estimateLnDweight(base)
	rscale := clampRscale(max(16-dw, dscale(base), dscale(x)))
	return numWithScale(dw, rscale, func(ctx *apd.Context, d *apd.Decimal) error {
		wide := *ctx
		wide.Precision += 10
		var lb, lx apd.Decimal
		if _, err := wide.Ln(&lb, base); err != nil {
			return err
		}
		if _, err := wide.Ln(&lx, x); err != nil {
			return err
		}
		_, err := ctx.Quo(d, &lx, &lb)
		return err
	})
}

func numLog10(ctx *EvalContext, a types.Value) (types.Value, error) {
	return numLog(ctx, types.NewNumericInt(10), a)
}

func isIntegral(x *apd.Decimal) bool {
	if x.Form != apd.Finite {
		return false
	}
	if x.Exponent >= 0 {
		return true
	}
	var frac, ip apd.Decimal
	x.Modf(&ip, &frac)
	return frac.Coeff.Sign() == 0
}

func numPow(_ *EvalContext, a, b types.Value) (types.Value, error) {
	x, y := a.D, b.D
	one := apd.New(1, 0)
	switch {
	case isNaN(x):
		if y.Form == apd.Finite && y.Coeff.Sign() == 0 {
			return types.NewNumeric(apd.New(1, 0)), nil
		}
		return a, nil
	case isNaN(y):
		if x.Form == apd.Finite && x.Cmp(one) == 0 {
			return types.NewNumeric(apd.New(1, 0)), nil
		}
		return b, nil
	}
	xZero := x.Form == apd.Finite && x.Coeff.Sign() == 0
	if xZero && y.Negative {
		return types.Null, errPowZeroNeg
	}
	if x.Negative && !xZero && x.Form == apd.Finite && y.Form == apd.Finite && !isIntegral(y) {
		return types.Null, errPowNegFrac
	}
	if x.Form != apd.Finite || y.Form != apd.Finite {
		xf, _ := x.Float64()
		yf, _ := y.Float64()
		r := math.Pow(xf, yf)
		d := newDec()
		switch {
		case math.IsInf(r, 0):
			d.Form = apd.Infinite
			d.Negative = r < 0
		case math.IsNaN(r):
			d.Form = apd.NaN
		default:
			d.SetFloat64(r)
		}
		return numFinish(d)
	}
	if isIntegral(y) && y.Cmp(apd.New(math.MaxInt32, 0)) <= 0 && y.Cmp(apd.New(math.MinInt32, 0)) >= 0 {
		// power_var_int: an integer exponent gets 16 digits after the point
		// (or the base's scale), whatever the result's magnitude.
		rscale := clampRscale(max(16, dscale(x)))
		if xZero {
			d := newDec()
			if y.Coeff.Sign() == 0 {
				d.SetInt64(1)
			}
			if err := types.RoundNumeric(d, d, int32(rscale)); err != nil {
				return types.Null, err
			}
			return numFinish(d)
		}
		xf, _ := x.Float64()
		yf, _ := y.Float64()
		w := int(yf * math.Log10(math.Abs(xf)))
		return numWithScale(max(w, 0), rscale, func(ctx *apd.Context, d *apd.Decimal) error {
			if _, err := ctx.Pow(d, x, y); err != nil {
				return errNumOverflow
			}
			return nil
		})
	}
	// Decimal weight of the result: y * log10|x|.
	var val float64
	if !xZero {
		xf, _ := x.Float64()
		yf, _ := y.Float64()
		val = yf * math.Log10(math.Abs(xf))
	}
	val = max(min(val, 4000), -4000)
	rscale := clampRscale(max(16-int(val), dscale(x), dscale(y)))
	if xZero {
		d := newDec()
		if y.Coeff.Sign() == 0 {
			d.SetInt64(1)
		}
		if err := types.RoundNumeric(d, d, int32(rscale)); err != nil {
			return types.Null, err
		}
		return numFinish(d)
	}
	return numWithScale(int(val), rscale, func(ctx *apd.Context, d *apd.Decimal) error {
		if _, err := ctx.Pow(d, x, y); err != nil {
			return errNumOverflow
		}
		return nil
	})
}

func numDivTrunc(_ *EvalContext, a, b types.Value) (types.Value, error) {
	x, y := a.D, b.D
	if y.Form == apd.Finite && y.Coeff.Sign() == 0 {
		return types.Null, errDivByZero
	}
	d := newDec()
	if isNaN(x) || isNaN(y) {
		d.Form = apd.NaN
		return numVal(d), nil
	}
	if _, err := wideCtx.QuoInteger(d, x, y); err != nil {
		return types.Null, errNumOverflow
	}
	return numFinish(d)
}

func registerMath() {
	f, n, i4 := types.Float8, types.Numeric, types.Int4
	addFunc1("ceil", f, f, f8Fn(math.Ceil))
	addFunc1("ceiling", f, f, f8Fn(math.Ceil))
	addFunc1("floor", f, f, f8Fn(math.Floor))
	addFunc1("round", f, f, f8Fn(math.RoundToEven))
	addFunc1("trunc", f, f, f8Fn(math.Trunc))
	addFunc1("sign", f, f, f8Fn(func(x float64) float64 {
		switch {
		case x > 0:
			return 1
		case x < 0:
			return -1
		}
		return 0 * x
	}))
	addFunc1("ceil", n, n, numIntegral(apd.RoundCeiling))
	addFunc1("ceiling", n, n, numIntegral(apd.RoundCeiling))
	addFunc1("floor", n, n, numIntegral(apd.RoundFloor))
	addFunc1("round", n, n, func(ctx *EvalContext, a types.Value) (types.Value, error) {
		return numRound(ctx, a, types.NewInt4(0))
	})
	addFunc2("round", n, i4, n, numRound)
	addFunc1("trunc", n, n, func(ctx *EvalContext, a types.Value) (types.Value, error) {
		return numTrunc(ctx, a, types.NewInt4(0))
	})
	addFunc2("trunc", n, i4, n, numTrunc)
	addFunc1("sign", n, n, numSign)
	addFunc2("div", n, n, n, numDivTrunc)

	addFunc2("power", f, f, f, dpow)
	addFunc2("pow", f, f, f, dpow)
	addBinary("^", f, f, f, dpow)
	addFunc2("power", n, n, n, numPow)
	addFunc2("pow", n, n, n, numPow)
	addBinary("^", n, n, n, numPow)

	addFunc1("sqrt", f, f, dsqrt)
	addUnary("|/", f, f, dsqrt)
	addFunc1("sqrt", n, n, numSqrt)
	addFunc1("cbrt", f, f, f8Fn(math.Cbrt))
	addUnary("||/", f, f, f8Fn(math.Cbrt))
	addFunc1("exp", f, f, dexp)
	addFunc1("exp", n, n, numExp)
	addFunc1("ln", f, f, dlog(math.Log))
	addFunc1("ln", n, n, numLn)
	addFunc1("log", f, f, dlog(math.Log10))
	addFunc1("log10", f, f, dlog(math.Log10))
	addFunc1("log", n, n, numLog10)
	addFunc1("log10", n, n, numLog10)
	addFunc2("log", n, n, n, numLog)
	addFunc1("degrees", f, f, f8Fn(func(x float64) float64 { return x * (180 / math.Pi) }))
	addFunc1("radians", f, f, f8Fn(func(x float64) float64 { return x * (math.Pi / 180) }))
	for name, fn := range map[string]func(float64) float64{
		"sin": math.Sin, "cos": math.Cos, "tan": math.Tan, "asin": math.Asin, "acos": math.Acos,
		"atan": math.Atan, "sinh": math.Sinh, "cosh": math.Cosh, "tanh": math.Tanh,
	} {
		addFunc1(name, f, f, f8Fn(fn))
	}
	addFunc2("atan2", f, f, f, func(_ *EvalContext, a, b types.Value) (types.Value, error) {
		return f8(math.Atan2(a.F, b.F)), nil
	})
	addFunc0("pi", f, func(*EvalContext) (types.Value, error) { return f8(math.Pi), nil })
	addFunc0("random", f, func(*EvalContext) (types.Value, error) { return f8(rand.Float64()), nil }).Volatile = true
}
