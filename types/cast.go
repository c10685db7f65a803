package types

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/apd/v3"
	"github.com/kappa-db/kappa/pgerr"
)

// Cast converts v from type from to type to with PostgreSQL's cast rules.
// explicit selects explicit-cast semantics (CAST, ::), where a too-long
// varchar(n)/char(n) value is truncated; otherwise assignment semantics
// apply and it is an error (22001). Timestamptz conversions use loc (UTC when
// nil). NULL casts to NULL. Casting to or from text uses the types' I/O
// functions, so any type converts to text and text converts to any type.
func Cast(v Value, from, to Type, explicit bool, loc *time.Location) (Value, error) {
	if v.K == KindNull {
		return Null, nil
	}
	if loc == nil {
		loc = time.UTC
	}
	// An untyped literal (or any text reaching a non-text type) goes through
	// the target's input function.
	if v.K == KindText && to.Kind != KindText && to.Kind != KindNull {
		return castFromText(v.S, from, to, loc)
	}
	switch to.Kind {
	case KindNull:
		return v, nil
	case KindText:
		return castToText(v, from, to, explicit, loc)
	case KindBool:
		switch v.K {
		case KindBool:
			return v, nil
		case KindInt4:
			return NewBool(v.I != 0), nil
		}
	case KindInt2, KindInt4, KindInt8, KindOid:
		return castToInt(v, to.Kind)
	case KindFloat4, KindFloat8:
		return castToFloat(v, to.Kind)
	case KindNumeric:
		return castToNumeric(v, to)
	case KindBytea:
		if v.K == KindBytea {
			return v, nil
		}
	case KindDate:
		switch v.K {
		case KindDate:
			return v, nil
		case KindTimestamp:
			return NewDate(timestampToDate(v.I)), nil
		case KindTimestampTZ:
			if v.I == TimestampNegInfinity || v.I == TimestampInfinity {
				return NewDate(timestampToDate(v.I)), nil
			}
			return NewDate(timestampToDate(v.I + int64(zoneOffset(v.I, loc))*USPerSecond)), nil
		}
	case KindTime:
		switch v.K {
		case KindTime:
			return NewTime(roundTimeTypmod(v.I, to.Mod)), nil
		case KindTimestamp, KindTimestampTZ:
			if v.I == TimestampNegInfinity || v.I == TimestampInfinity {
				return Null, nil // timestamp_time returns NULL for infinities
			}
			us := v.I
			if v.K == KindTimestampTZ {
				us += int64(zoneOffset(v.I, loc)) * USPerSecond
			}
			_, tod := floorDiv(us, USPerDay)
			return NewTime(roundTimeTypmod(tod, to.Mod)), nil
		case KindInterval:
			_, tod := floorDiv(v.I, USPerDay)
			return NewTime(tod), nil
		}
	case KindTimestamp, KindTimestampTZ:
		us, err := castToTimestamp(v, to.Kind, loc)
		if err != nil {
			return Null, err
		}
		return Value{K: to.Kind, I: roundTimestampTypmod(us, to.Mod)}, nil
	case KindInterval:
		switch v.K {
		case KindInterval:
			return v, nil
		case KindTime:
			return NewInterval(0, 0, v.I), nil
		}
	case KindJSONB:
		if v.K == KindJSONB {
			return v, nil
		}
	case KindArray:
		if v.K == KindArray {
			fe, te := elemType(from), elemType(to)
			out := make([]Value, len(v.Arr))
			for i, e := range v.Arr {
				c, err := Cast(e, fe, te, explicit, loc)
				if err != nil {
					return Null, err
				}
				out[i] = c
			}
			return NewArray(out), nil
		}
	}
	return Null, errCannotCast(from, to)
}

func errCannotCast(from, to Type) error {
	return pgerr.New(pgerr.CannotCoerce, "cannot cast type %s to %s", from, to)
}

// CanCast reports whether Cast can convert values of type from to type to
// (it may still fail for particular values).
func CanCast(from, to Type) bool {
	f, t := from.Kind, to.Kind
	if f == KindNull || t == KindNull || f == KindText || t == KindText || f == t {
		if f == KindArray && t == KindArray {
			return CanCast(elemType(from), elemType(to))
		}
		return true
	}
	switch t {
	case KindBool:
		return f == KindInt4
	case KindInt2, KindInt4, KindInt8:
		return isNumberKind(f) || (f == KindBool && t == KindInt4) || f == KindOid
	case KindOid:
		return f == KindInt2 || f == KindInt4 || f == KindInt8
	case KindFloat4, KindFloat8, KindNumeric:
		return isNumberKind(f)
	case KindDate:
		return f == KindTimestamp || f == KindTimestampTZ
	case KindTime:
		return f == KindTimestamp || f == KindTimestampTZ || f == KindInterval
	case KindTimestamp, KindTimestampTZ:
		return f == KindDate || f == KindTimestamp || f == KindTimestampTZ
	case KindInterval:
		return f == KindTime
	}
	return false
}

func isNumberKind(k Kind) bool {
	switch k {
	case KindInt2, KindInt4, KindInt8, KindFloat4, KindFloat8, KindNumeric:
		return true
	}
	return false
}

func castFromText(s string, from, to Type, loc *time.Location) (Value, error) {
	if from.OID == OidBpchar {
		s = strings.TrimRight(s, " ")
	}
	return ParseText(to, s, loc)
}

func castToText(v Value, from, to Type, explicit bool, loc *time.Location) (Value, error) {
	var s string
	switch v.K {
	case KindText:
		s = v.S
		if from.OID == OidBpchar && to.OID != OidBpchar {
			s = strings.TrimRight(s, " ")
		}
	case KindBool:
		// bool's cast to text spells the words out, unlike boolout.
		if v.I != 0 {
			s = "true"
		} else {
			s = "false"
		}
	default:
		s = FormatText(v, from, loc)
	}
	out, err := applyCharTypmod(s, to, explicit)
	if err != nil {
		return Null, err
	}
	return NewText(out), nil
}

func intRangeError(k Kind) error {
	switch k {
	case KindInt2:
		return pgerr.New(pgerr.NumericValueOutOfRange, "smallint out of range")
	case KindInt4:
		return pgerr.New(pgerr.NumericValueOutOfRange, "integer out of range")
	case KindOid:
		return pgerr.New(pgerr.NumericValueOutOfRange, "OID out of range")
	}
	return pgerr.New(pgerr.NumericValueOutOfRange, "bigint out of range")
}

func intFits(i int64, k Kind) bool {
	switch k {
	case KindInt2:
		return i >= math.MinInt16 && i <= math.MaxInt16
	case KindInt4:
		return i >= math.MinInt32 && i <= math.MaxInt32
	case KindOid:
		return i >= 0 && i <= math.MaxUint32
	}
	return true
}

func castToInt(v Value, k Kind) (Value, error) {
	var i int64
	switch v.K {
	case KindInt2, KindInt4, KindInt8, KindOid, KindBool:
		i = v.I
		if v.K == KindBool && k != KindInt4 {
			return Null, errCannotCast(ByKind(v.K), ByKind(k))
		}
		if k == KindOid && v.K != KindOid {
			// int4 → oid reinterprets negative values, as PostgreSQL does.
			if v.K == KindInt4 || v.K == KindInt2 {
				return NewOid(uint32(int32(i))), nil
			}
		}
	case KindFloat4, KindFloat8:
		f := math.RoundToEven(v.F)
		// float64(math.MaxInt64) rounds up to 2^63, so compare with < 2^63.
		if math.IsNaN(f) || f < -9223372036854775808.0 || f >= 9223372036854775808.0 {
			return Null, intRangeError(k)
		}
		i = int64(f)
	case KindNumeric:
		d := v.D
		switch d.Form {
		case apd.NaN, apd.NaNSignaling:
			return Null, pgerr.New(pgerr.FeatureNotSupported, "cannot convert NaN to %s", intTypeName(k))
		case apd.Infinite:
			return Null, pgerr.New(pgerr.FeatureNotSupported, "cannot convert infinity to %s", intTypeName(k))
		}
		var r apd.Decimal
		if err := RoundNumeric(&r, d, 0); err != nil {
			return Null, intRangeError(k)
		}
		n, err := r.Int64()
		if err != nil {
			return Null, intRangeError(k)
		}
		i = n
	default:
		return Null, errCannotCast(ByKind(v.K), ByKind(k))
	}
	if v.K == KindOid && k == KindInt4 {
		// oid → int4 is a binary-coercible reinterpretation in PostgreSQL.
		return NewInt4(int64(int32(uint32(i)))), nil
	}
	if !intFits(i, k) {
		return Null, intRangeError(k)
	}
	return Value{K: k, I: i}, nil
}

func intTypeName(k Kind) string {
	switch k {
	case KindInt2:
		return "smallint"
	case KindInt4:
		return "integer"
	}
	return "bigint"
}

func castToFloat(v Value, k Kind) (Value, error) {
	var f float64
	switch v.K {
	case KindInt2, KindInt4, KindInt8, KindOid:
		f = float64(v.I)
	case KindFloat4, KindFloat8:
		f = v.F
	case KindNumeric:
		d := v.D
		switch d.Form {
		case apd.NaN, apd.NaNSignaling:
			f = math.NaN()
		case apd.Infinite:
			f = math.Inf(1)
			if d.Negative {
				f = math.Inf(-1)
			}
		default:
			var err error
			f, err = strconv.ParseFloat(d.Text('e'), 64)
			if err == nil && k == KindFloat4 && (math.IsInf(float64(float32(f)), 0) || float32(f) == 0 && f != 0) {
				err = strconv.ErrRange
			}
			if err == nil && f == 0 && d.Coeff.Sign() != 0 {
				err = strconv.ErrRange // underflow
			}
			if err != nil {
				// numeric_float8 goes through float8in on the numeric's text.
				return Null, pgerr.New(pgerr.NumericValueOutOfRange, "\"%s\" is out of range for type %s",
					appendNumericText(nil, d), ByKind(k))
			}
		}
	default:
		return Null, errCannotCast(ByKind(v.K), ByKind(k))
	}
	if k == KindFloat4 {
		f32 := float32(f)
		if math.IsInf(float64(f32), 0) && !math.IsInf(f, 0) {
			return Null, pgerr.New(pgerr.NumericValueOutOfRange, "value out of range: overflow")
		}
		if f32 == 0 && f != 0 {
			return Null, pgerr.New(pgerr.NumericValueOutOfRange, "value out of range: underflow")
		}
		return NewFloat4(float64(f32)), nil
	}
	return NewFloat8(f), nil
}

func castToNumeric(v Value, to Type) (Value, error) {
	d := new(apd.Decimal)
	switch v.K {
	case KindInt2, KindInt4, KindInt8, KindOid:
		d.SetInt64(v.I)
	case KindFloat4, KindFloat8:
		switch {
		case math.IsNaN(v.F):
			d.Form = apd.NaN
		case math.IsInf(v.F, 0):
			d.Form, d.Negative = apd.Infinite, v.F < 0
		default:
			// float8_numeric prints DBL_DIG (FLT_DIG for real) significant
			// digits and reads them back, so 0.1::float8 becomes 0.1.
			prec := 15
			if v.K == KindFloat4 {
				prec = 6
			}
			if _, _, err := d.SetString(strconv.FormatFloat(v.F, 'g', prec, 64)); err != nil {
				return Null, pgerr.Wrap(err, pgerr.InternalError, "convert float to numeric")
			}
			fixNegativeZero(d)
			normalizeExponent(d)
		}
	case KindNumeric:
		d.Set(v.D)
	default:
		return Null, errCannotCast(ByKind(v.K), to)
	}
	if err := applyNumericTypmod(d, to.Mod); err != nil {
		return Null, err
	}
	return NewNumeric(d), nil
}

func timestampToDate(us int64) int64 {
	switch us {
	case TimestampNegInfinity:
		return DateNegInfinity
	case TimestampInfinity:
		return DateInfinity
	}
	d, _ := floorDiv(us, USPerDay)
	return d
}

func castToTimestamp(v Value, k Kind, loc *time.Location) (int64, error) {
	switch v.K {
	case KindDate:
		switch v.I {
		case DateNegInfinity:
			return TimestampNegInfinity, nil
		case DateInfinity:
			return TimestampInfinity, nil
		}
		if v.I >= endTimestamp/USPerDay || v.I < minTimestamp/USPerDay {
			return 0, pgerr.New(pgerr.DatetimeFieldOverflow, "date out of range for timestamp")
		}
		us := v.I * USPerDay
		if k == KindTimestampTZ {
			us = localToUTC(us, loc)
		}
		return us, nil
	case KindTimestamp, KindTimestampTZ:
		if v.I == TimestampNegInfinity || v.I == TimestampInfinity || v.K == k {
			return v.I, nil
		}
		if k == KindTimestampTZ {
			return localToUTC(v.I, loc), nil
		}
		return v.I + int64(zoneOffset(v.I, loc))*USPerSecond, nil
	}
	return 0, errCannotCast(ByKind(v.K), ByKind(k))
}
