package types

import (
	"math"
	"math/bits"

	"github.com/cockroachdb/apd/v3"
)

// Hash returns a hash of v consistent with Equal: equal values hash equal,
// including numerics of different scale (1 and 1.00), intervals that
// flatten to the same length ('1 mon' and '30 days'), -0 and 0, and all
// NaNs. Integer kinds (int2/int4/int8/oid) hash alike, so a join key may
// mix them. Hash does not allocate.
func Hash(v Value, seed uint64) uint64 {
	h := seed ^ 0x243f6a8885a308d3
	return hashValue(h, &v)
}

const (
	hashMul1 = 0xa0761d6478bd642f
	hashMul2 = 0xe7037ed1a0b428db
)

func mix(h, x uint64) uint64 {
	hi, lo := bits.Mul64(h^x^hashMul1, x^hashMul2)
	return hi ^ lo
}

func hashString(h uint64, s string) uint64 {
	h = mix(h, uint64(len(s)))
	for len(s) >= 8 {
		h = mix(h, le64(s))
		s = s[8:]
	}
	var tail uint64
	for i := 0; i < len(s); i++ {
		tail |= uint64(s[i]) << (8 * i)
	}
	return mix(h, tail)
}

// le64 reads 8 bytes of s little-endian; the compiler merges the loads.
func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// Hash classes keep, say, the text 'a' and the bytea 'a' apart cheaply.
const (
	hashNull uint64 = iota + 1
	hashBool
	hashInt
	hashFloat
	hashNumeric
	hashText
	hashBytea
	hashJSON
	hashTime
	hashInterval
	hashArray
	hashDate
	hashTimeOfDay
)

func hashValue(h uint64, v *Value) uint64 {
	switch v.K {
	case KindNull:
		return mix(h, hashNull)
	case KindBool:
		return mix(mix(h, hashBool), uint64(v.I))
	case KindInt2, KindInt4, KindInt8, KindOid:
		return mix(mix(h, hashInt), uint64(v.I))
	case KindDate:
		return mix(mix(h, hashDate), uint64(v.I))
	case KindTime:
		return mix(mix(h, hashTimeOfDay), uint64(v.I))
	case KindTimestamp, KindTimestampTZ:
		return mix(mix(h, hashTime), uint64(v.I))
	case KindFloat4, KindFloat8:
		f := v.F
		var b uint64
		switch {
		case math.IsNaN(f):
			b = math.MaxUint64
		case f == 0:
			b = 0
		default:
			b = math.Float64bits(f)
		}
		return mix(mix(h, hashFloat), b)
	case KindNumeric:
		return hashNumericValue(mix(h, hashNumeric), v.D)
	case KindText:
		return hashString(mix(h, hashText), v.S)
	case KindBytea:
		return hashString(mix(h, hashBytea), v.S)
	case KindJSONB:
		return hashString(mix(h, hashJSON), v.S)
	case KindInterval:
		hi, lo := intervalKey(*v)
		return mix(mix(mix(h, hashInterval), uint64(hi)), uint64(lo))
	case KindArray:
		h = mix(mix(h, hashArray), uint64(len(v.Arr)))
		for i := range v.Arr {
			h = hashValue(h, &v.Arr[i])
		}
		return h
	}
	return mix(h, uint64(v.K)<<32)
}

// hashNumericValue hashes the normalized value: sign, coefficient without
// trailing zeros, and the exponent that goes with it.
func hashNumericValue(h uint64, d *apd.Decimal) uint64 {
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		return mix(h, 1)
	case apd.Infinite:
		if d.Negative {
			return mix(h, 2)
		}
		return mix(h, 3)
	}
	if d.Coeff.Sign() == 0 {
		return mix(h, 4)
	}
	if d.Negative {
		h = mix(h, 5)
	}
	exp := int64(d.Exponent)
	if d.Coeff.IsUint64() {
		c := d.Coeff.Uint64()
		for c%10 == 0 {
			c /= 10
			exp++
		}
		return mix(mix(h, c), uint64(exp))
	}
	var scratch [64]byte
	digits := d.Coeff.Append(scratch[:0], 10)
	if digits[0] == '-' {
		digits = digits[1:]
	}
	n := len(digits)
	for digits[n-1] == '0' {
		n--
		exp++
	}
	digits = digits[:n]
	if n <= 19 {
		var c uint64
		for _, ch := range digits {
			c = c*10 + uint64(ch-'0')
		}
		return mix(mix(h, c), uint64(exp))
	}
	return mix(hashString(h, string(digits)), uint64(exp))
}

// Equal reports SQL equality of two non-NULL values of the same kind (or
// of mixed number kinds): numerics by value, floats with NaN equal to NaN
// and -0 equal to 0, intervals by their flattened length, as PostgreSQL's =
// operators do. It is Compare(a, b) == 0 with fast paths.
func Equal(a, b Value) bool {
	if a.K == b.K {
		switch a.K {
		case KindBool, KindInt2, KindInt4, KindInt8, KindOid, KindDate, KindTime, KindTimestamp, KindTimestampTZ:
			return a.I == b.I
		case KindText, KindBytea, KindJSONB:
			return a.S == b.S
		case KindFloat4, KindFloat8:
			return a.F == b.F || (a.F != a.F && b.F != b.F)
		}
	}
	return Compare(a, b) == 0
}
