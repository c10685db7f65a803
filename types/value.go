package types

import (
	"math"
	"strings"

	"github.com/cockroachdb/apd/v3"
)

// Value is one SQL value. Which fields are meaningful depends on K:
//
//	KindNull                 none (SQL NULL)
//	KindBool                 I (0 or 1)
//	KindInt2/Int4/Int8/Oid   I
//	KindFloat4/Float8        F
//	KindNumeric              D (never nil); NaN is D.Form == apd.NaN
//	KindText/Bytea/JSONB     S (bytea holds raw bytes; jsonb its canonical text)
//	KindDate                 I = days since 2000-01-01 (PostgreSQL's epoch)
//	KindTime                 I = microseconds since midnight
//	KindTimestamp(TZ)        I = microseconds since 2000-01-01 00:00:00 (UTC for TZ)
//	KindInterval             Mon months, Day days, I microseconds
//	KindArray                Arr elements (each a Value of the element kind or NULL)
//
// PostgreSQL's epoch (2000-01-01) is used so that the binary wire format is a
// copy, not a conversion.
type Value struct {
	K   Kind
	Mon int32
	Day int32
	I   int64
	F   float64
	S   string
	D   *apd.Decimal
	Arr []Value
}

// Row is one tuple. Operators pass rows by slice; a Row handed to a consumer
// must not be modified by the producer afterwards.
type Row []Value

// Null is the SQL NULL.
var Null = Value{}

// Constructors.
func NewBool(b bool) Value {
	if b {
		return Value{K: KindBool, I: 1}
	}
	return Value{K: KindBool}
}
func NewInt2(i int64) Value           { return Value{K: KindInt2, I: i} }
func NewInt4(i int64) Value           { return Value{K: KindInt4, I: i} }
func NewInt8(i int64) Value           { return Value{K: KindInt8, I: i} }
func NewFloat4(f float64) Value       { return Value{K: KindFloat4, F: float64(float32(f))} }
func NewFloat8(f float64) Value       { return Value{K: KindFloat8, F: f} }
func NewNumeric(d *apd.Decimal) Value { return Value{K: KindNumeric, D: d} }
func NewText(s string) Value          { return Value{K: KindText, S: s} }
func NewBytea(b []byte) Value         { return Value{K: KindBytea, S: string(b)} }
func NewJSONB(canonical string) Value { return Value{K: KindJSONB, S: canonical} }
func NewDate(days int64) Value        { return Value{K: KindDate, I: days} }
func NewTime(us int64) Value          { return Value{K: KindTime, I: us} }
func NewTimestamp(us int64) Value     { return Value{K: KindTimestamp, I: us} }
func NewTimestampTZ(us int64) Value   { return Value{K: KindTimestampTZ, I: us} }
func NewOid(o uint32) Value           { return Value{K: KindOid, I: int64(o)} }
func NewArray(elems []Value) Value    { return Value{K: KindArray, Arr: elems} }
func NewInterval(mon, day int32, us int64) Value {
	return Value{K: KindInterval, Mon: mon, Day: day, I: us}
}

// NewNumericInt returns the numeric value of i.
func NewNumericInt(i int64) Value { return NewNumeric(apd.New(i, 0)) }

// IsNull reports whether v is SQL NULL.
func (v Value) IsNull() bool { return v.K == KindNull }

// Bool returns a boolean value's truth (false for NULL).
func (v Value) Bool() bool { return v.K == KindBool && v.I != 0 }

// intervalMicros flattens an interval the way PostgreSQL compares them:
// a month is 30 days and a day 24 hours.
func intervalKey(v Value) (hi int64, lo int64) {
	const usPerDay = 86400 * 1000000
	days := int64(v.Mon)*30 + int64(v.Day)
	// total = days*usPerDay + I; keep as (days + I/usPerDay, I%usPerDay) to avoid overflow.
	d := days + v.I/usPerDay
	r := v.I % usPerDay
	if r < 0 {
		r += usPerDay
		d--
	}
	return d, r
}

// Compare orders two values of the same kind: -1, 0 or +1. NULL sorts after
// everything (and equals NULL here: this is an ordering, not SQL equality).
// Values of different number kinds are compared by value.
func Compare(a, b Value) int {
	if a.K == KindNull || b.K == KindNull {
		switch {
		case a.K == b.K:
			return 0
		case a.K == KindNull:
			return 1
		default:
			return -1
		}
	}
	if a.K != b.K {
		return compareMixed(a, b)
	}
	switch a.K {
	case KindBool, KindInt2, KindInt4, KindInt8, KindOid, KindDate, KindTime, KindTimestamp, KindTimestampTZ:
		return cmpInt(a.I, b.I)
	case KindFloat4, KindFloat8:
		return cmpFloat(a.F, b.F)
	case KindNumeric:
		return cmpDecimal(a.D, b.D)
	case KindText, KindBytea, KindJSONB:
		return strings.Compare(a.S, b.S)
	case KindInterval:
		ah, al := intervalKey(a)
		bh, bl := intervalKey(b)
		if c := cmpInt(ah, bh); c != 0 {
			return c
		}
		return cmpInt(al, bl)
	case KindArray:
		n := min(len(a.Arr), len(b.Arr))
		for i := 0; i < n; i++ {
			if c := Compare(a.Arr[i], b.Arr[i]); c != 0 {
				return c
			}
		}
		return cmpInt(int64(len(a.Arr)), int64(len(b.Arr)))
	}
	return 0
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// cmpFloat orders floats as PostgreSQL does: NaN is greater than every other
// value and equal to itself.
func cmpFloat(a, b float64) int {
	an, bn := math.IsNaN(a), math.IsNaN(b)
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// cmpDecimal orders numerics; NaN sorts above all other values as in PostgreSQL.
func cmpDecimal(a, b *apd.Decimal) int {
	an, bn := a.Form == apd.NaN, b.Form == apd.NaN
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	}
	return a.Cmp(b)
}

func isIntKind(k Kind) bool { return k == KindInt2 || k == KindInt4 || k == KindInt8 || k == KindOid }

func compareMixed(a, b Value) int {
	switch {
	case isIntKind(a.K) && isIntKind(b.K):
		return cmpInt(a.I, b.I)
	case (a.K == KindFloat4 || a.K == KindFloat8) && (b.K == KindFloat4 || b.K == KindFloat8):
		return cmpFloat(a.F, b.F)
	case a.K == KindTimestamp && b.K == KindTimestampTZ, a.K == KindTimestampTZ && b.K == KindTimestamp:
		return cmpInt(a.I, b.I)
	}
	// Fall back to numeric comparison for mixed number kinds.
	if da, ok := toDecimal(a); ok {
		if db, ok := toDecimal(b); ok {
			return cmpDecimal(da, db)
		}
	}
	return cmpInt(int64(a.K), int64(b.K))
}

func toDecimal(v Value) (*apd.Decimal, bool) {
	switch v.K {
	case KindInt2, KindInt4, KindInt8, KindOid:
		return apd.New(v.I, 0), true
	case KindNumeric:
		return v.D, true
	case KindFloat4, KindFloat8:
		d := new(apd.Decimal)
		if _, err := d.SetFloat64(v.F); err != nil {
			return nil, false
		}
		return d, true
	}
	return nil, false
}

// CompareRows orders rows lexicographically.
func CompareRows(a, b Row) int {
	for i := range a {
		if c := Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}

// Clone returns a copy of r that shares no slice with it.
func (r Row) Clone() Row {
	c := make(Row, len(r))
	copy(c, r)
	return c
}
