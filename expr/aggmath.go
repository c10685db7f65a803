package expr

import (
	"math"

	"github.com/cockroachdb/apd/v3"
	"github.com/kappa-db/kappa/types"
)

// The final steps of aggregates whose arithmetic must give PostgreSQL's
// digits: the aggregate operator keeps exact sums, these turn them into the
// result.

// NumericVariance is PostgreSQL's numeric_stddev_internal: the variance
// (or, with stddev, its square root) of n values whose exact sum is sumX and
// sum of squares sumX2. sumX must carry the display scale of the inputs
// (the largest of their scales). sample divides by n-1, else by n. ok is
// false when the result is NULL (no values, or one value for a sample).
func NumericVariance(n int64, sumX, sumX2 *apd.Decimal, sample, stddev bool) (types.Value, bool, error) {
	if n == 0 || (sample && n == 1) {
		return types.Null, false, nil
	}
	rscale := 2 * dscale(sumX)
	vN := apd.New(n, 0)
	// numerator = n*sumX2 - sumX*sumX, exact; its display scale is rscale.
	sq := new(apd.Decimal)
	if _, err := exactCtx.Mul(sq, sumX, sumX); err != nil {
		return types.Null, false, errNumOverflow
	}
	nx2 := new(apd.Decimal)
	if _, err := exactCtx.Mul(nx2, vN, sumX2); err != nil {
		return types.Null, false, errNumOverflow
	}
	num := new(apd.Decimal)
	if _, err := exactCtx.Sub(num, nx2, sq); err != nil {
		return types.Null, false, errNumOverflow
	}
	if num.Sign() <= 0 {
		return types.NewNumericInt(0), true, nil
	}
	if err := types.RoundNumeric(num, num, int32(rscale)); err != nil {
		return types.Null, false, err
	}
	den := apd.New(n, 0)
	if sample {
		den = apd.New(n*(n-1), 0)
	} else {
		if _, err := exactCtx.Mul(den, vN, vN); err != nil {
			return types.Null, false, errNumOverflow
		}
	}
	rs := selectDivScale(num, den)
	v, err := quoScale(num, den, rs)
	if err != nil {
		return types.Null, false, err
	}
	if stddev {
		// sqrt of the rounded variance, rounded to the same scale: computed
		// truncated beyond the scale, so the final rounding is exact.
		ctx := exactCtx
		ctx.Precision = uint32(max(adjExp(v)/2+2, 1) + rs + 8)
		ctx.Rounding = apd.RoundDown
		r := new(apd.Decimal)
		if _, err := ctx.Sqrt(r, v); err != nil {
			return types.Null, false, errNumOverflow
		}
		if err := types.RoundNumeric(r, r, int32(rs)); err != nil {
			return types.Null, false, err
		}
		v = r
	}
	out, err := numFinish(v)
	return out, err == nil, err
}

// FloatVariance is PostgreSQL's float8_var_samp/var_pop/stddev_samp/
// stddev_pop over n float8 values whose exact sum and sum of squares are
// sumX and sumX2: PostgreSQL's running Sxx, computed exactly and rounded
// once, then divided (and rooted) in float8 as PostgreSQL does.
func FloatVariance(n int64, sumX, sumX2 *apd.Decimal, sample, stddev bool) (types.Value, bool) {
	if n == 0 || (sample && n == 1) {
		return types.Null, false
	}
	// Sxx = sumX2 - sumX^2/n = (n*sumX2 - sumX^2) / n
	sq := new(apd.Decimal)
	_, _ = exactCtx.Mul(sq, sumX, sumX)
	nx2 := new(apd.Decimal)
	_, _ = exactCtx.Mul(nx2, apd.New(n, 0), sumX2)
	num := new(apd.Decimal)
	_, _ = exactCtx.Sub(num, nx2, sq)
	sxx := 0.0
	if num.Sign() > 0 {
		ctx := exactCtx
		ctx.Precision = 40
		q := new(apd.Decimal)
		_, _ = ctx.Quo(q, num, apd.New(n, 0))
		sxx, _ = q.Float64()
	}
	d := float64(n)
	if sample {
		d = float64(n - 1)
	}
	r := sxx / d
	if stddev {
		r = math.Sqrt(r)
	}
	return types.NewFloat8(r), true
}
