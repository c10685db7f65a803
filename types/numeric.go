package types

import (
	"strings"

	"github.com/cockroachdb/apd/v3"
	"github.com/kappa-db/kappa/pgerr"
)

// Limits of PostgreSQL's numeric: 131072 digits before the decimal point and
// 16383 after it.
const (
	numericMaxWeightDigits = 131072
	numericMaxScale        = 16383
)

// NumericTypmod returns the type modifier of numeric(p,s).
func NumericTypmod(precision, scale int32) int32 { return (precision<<16 | scale&0xffff) + 4 }

// numericTypmodParts returns (precision, scale, ok) of a numeric typmod.
func numericTypmodParts(mod int32) (int32, int32, bool) {
	if mod < 4 {
		return 0, 0, false
	}
	m := mod - 4
	return (m >> 16) & 0xffff, int32(int16(m & 0xffff)), true
}

// parseNumeric is numeric_in without a typmod: decimal notation with an
// optional exponent, NaN and ±Infinity, surrounding whitespace.
func parseNumeric(s string) (*apd.Decimal, error) {
	t := trimSpace(s)
	d := new(apd.Decimal)
	switch strings.ToLower(t) {
	case "nan":
		d.Form = apd.NaN
		return d, nil
	case "infinity", "+infinity", "inf", "+inf":
		d.Form = apd.Infinite
		return d, nil
	case "-infinity", "-inf":
		d.Form, d.Negative = apd.Infinite, true
		return d, nil
	}
	if !isDecimalLiteral(t) {
		return nil, errSyntax("numeric", s)
	}
	if _, _, err := d.SetString(t); err != nil {
		// The literal is well formed, so apd refused its exponent.
		return nil, pgerr.New(pgerr.NumericValueOutOfRange, "value overflows numeric format")
	}
	if err := checkNumericRange(d); err != nil {
		return nil, pgerr.New(pgerr.NumericValueOutOfRange, "value overflows numeric format")
	}
	fixNegativeZero(d)
	normalizeExponent(d)
	return d, nil
}

// normalizeExponent rewrites a positive exponent into the coefficient:
// PostgreSQL's numeric has no negative display scale, so 1e2 is 100 and 0e1
// is 0.
func normalizeExponent(d *apd.Decimal) {
	if d.Form != apd.Finite || d.Exponent <= 0 {
		return
	}
	if d.Coeff.Sign() != 0 {
		var mul apd.BigInt
		mul.Exp(apd.NewBigInt(10), apd.NewBigInt(int64(d.Exponent)), nil)
		d.Coeff.Mul(&d.Coeff, &mul)
	}
	d.Exponent = 0
}

// isDecimalLiteral reports whether s is [+-]digits[.digits][e[+-]digits] with
// at least one mantissa digit.
func isDecimalLiteral(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start || i-start > 9 {
			return false
		}
	}
	return i == len(s)
}

// checkNumericRange rejects finite values PostgreSQL's numeric cannot hold.
func checkNumericRange(d *apd.Decimal) error {
	if d.Form != apd.Finite || d.Coeff.Sign() == 0 {
		if d.Form == apd.Finite && -int64(d.Exponent) > numericMaxScale {
			d.Exponent = -numericMaxScale
		}
		return nil
	}
	nd := int64(d.NumDigits())
	if int64(d.Exponent)+nd > numericMaxWeightDigits || -int64(d.Exponent) > numericMaxScale {
		return pgerr.New(pgerr.NumericValueOutOfRange, "value overflows numeric format")
	}
	return nil
}

// fixNegativeZero clears the sign of a zero: PostgreSQL has no -0 numeric.
func fixNegativeZero(d *apd.Decimal) {
	if d.Form == apd.Finite && d.Negative && d.Coeff.Sign() == 0 {
		d.Negative = false
	}
}

// roundHalfAwayContext rounds as PostgreSQL's numeric does.
var roundHalfAwayContext = apd.Context{
	Precision:   0,
	MaxExponent: apd.MaxExponent,
	MinExponent: apd.MinExponent,
	Rounding:    apd.RoundHalfUp,
}

// RoundNumeric sets d to x rounded (half away from zero) to scale digits
// after the decimal point.
func RoundNumeric(d, x *apd.Decimal, scale int32) error {
	if x.Form != apd.Finite {
		d.Set(x)
		return nil
	}
	if -x.Exponent <= scale {
		// Rounding never lengthens: keep the value, raising the display scale
		// only when asked for more digits.
		d.Set(x)
		if -d.Exponent < scale {
			var mul apd.BigInt
			mul.Exp(apd.NewBigInt(10), apd.NewBigInt(int64(scale+d.Exponent)), nil)
			d.Coeff.Mul(&d.Coeff, &mul)
			d.Exponent = -scale
		}
		return nil
	}
	ctx := roundHalfAwayContext
	ctx.Precision = uint32(x.NumDigits()) + 1
	if _, err := ctx.Quantize(d, x, -scale); err != nil {
		return pgerr.New(pgerr.NumericValueOutOfRange, "value overflows numeric format")
	}
	fixNegativeZero(d)
	return nil
}

// applyNumericTypmod rounds d in place to numeric(p,s) and checks that it
// fits, with PostgreSQL's error.
func applyNumericTypmod(d *apd.Decimal, mod int32) error {
	p, s, ok := numericTypmodParts(mod)
	if !ok {
		return nil
	}
	maxDigits := p - s
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		return nil
	case apd.Infinite:
		return pgerr.New(pgerr.NumericValueOutOfRange, "numeric field overflow").
			WithDetail("A field with precision %d, scale %d cannot hold an infinite value.", p, s)
	}
	if err := RoundNumeric(d, d, s); err != nil {
		return err
	}
	if d.Coeff.Sign() != 0 {
		intDigits := int64(d.NumDigits()) + int64(d.Exponent)
		if intDigits > int64(maxDigits) {
			e := pgerr.New(pgerr.NumericValueOutOfRange, "numeric field overflow")
			if maxDigits > 0 {
				return e.WithDetail("A field with precision %d, scale %d must round to an absolute value less than 10^%d.", p, s, maxDigits)
			}
			return e.WithDetail("A field with precision %d, scale %d must round to an absolute value less than 1.", p, s)
		}
	}
	return nil
}

// appendNumericText is numeric_out: plain notation with the value's scale.
func appendNumericText(dst []byte, d *apd.Decimal) []byte {
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		return append(dst, "NaN"...)
	case apd.Infinite:
		if d.Negative {
			return append(dst, "-Infinity"...)
		}
		return append(dst, "Infinity"...)
	}
	if d.Coeff.Sign() == 0 && (d.Negative || d.Exponent > 0) {
		var z apd.Decimal
		z.Set(d)
		z.Negative = false
		z.Exponent = min(z.Exponent, 0)
		return z.Append(dst, 'f')
	}
	return d.Append(dst, 'f')
}

// NumericScale returns PostgreSQL's display scale of d (digits after the
// decimal point).
func NumericScale(d *apd.Decimal) int32 {
	if d.Form != apd.Finite || d.Exponent >= 0 {
		return 0
	}
	return -d.Exponent
}
