package types

import (
	"encoding/binary"
	"math"

	"github.com/cockroachdb/apd/v3"
	"github.com/kappa-db/kappa/pgerr"
)

// Binary format: PostgreSQL's send/recv functions. Integers are big-endian;
// dates, times and timestamps are already in PostgreSQL's units and epoch.

// numeric binary sign words.
const (
	numericPos  = 0x0000
	numericNeg  = 0x4000
	numericNaN  = 0xC000
	numericPInf = 0xD000
	numericNInf = 0xF000
)

// maxArrayElems bounds arrays decoded from the wire.
const maxArrayElems = 1 << 24

// AppendBinary appends the binary wire encoding of v (of type t) to dst.
// NULL has no binary encoding (the protocol sends length -1); it is an error
// here, as is a value of an unsupported kind.
func AppendBinary(dst []byte, v Value, t Type) ([]byte, error) {
	switch v.K {
	case KindNull:
		return dst, pgerr.New(pgerr.InternalError, "binary encoding of NULL")
	case KindBool:
		return append(dst, byte(v.I&1)), nil
	case KindInt2:
		return binary.BigEndian.AppendUint16(dst, uint16(v.I)), nil
	case KindInt4, KindDate, KindOid:
		return binary.BigEndian.AppendUint32(dst, uint32(v.I)), nil
	case KindInt8, KindTime, KindTimestamp, KindTimestampTZ:
		return binary.BigEndian.AppendUint64(dst, uint64(v.I)), nil
	case KindFloat4:
		if v.F != v.F {
			return binary.BigEndian.AppendUint32(dst, 0x7fc00000), nil // PostgreSQL's NaN bits
		}
		return binary.BigEndian.AppendUint32(dst, math.Float32bits(float32(v.F))), nil
	case KindFloat8:
		if v.F != v.F {
			return binary.BigEndian.AppendUint64(dst, 0x7ff8000000000000), nil
		}
		return binary.BigEndian.AppendUint64(dst, math.Float64bits(v.F)), nil
	case KindNumeric:
		return appendNumericBinary(dst, v.D), nil
	case KindText, KindBytea:
		return append(dst, v.S...), nil
	case KindJSONB:
		if t.OID == OidJSON {
			return append(dst, v.S...), nil
		}
		dst = append(dst, 1)
		return append(dst, v.S...), nil
	case KindInterval:
		dst = binary.BigEndian.AppendUint64(dst, uint64(v.I))
		dst = binary.BigEndian.AppendUint32(dst, uint32(v.Day))
		return binary.BigEndian.AppendUint32(dst, uint32(v.Mon)), nil
	case KindArray:
		return appendArrayBinary(dst, v, t)
	}
	return dst, pgerr.New(pgerr.FeatureNotSupported, "no binary output function for type %s", t)
}

// appendNumericBinary writes ndigits, weight, sign, dscale and base-10000
// digits, as numeric_send does.
func appendNumericBinary(dst []byte, d *apd.Decimal) []byte {
	header := func(ndigits, weight int16, sign uint16, dscale int16) {
		dst = binary.BigEndian.AppendUint16(dst, uint16(ndigits))
		dst = binary.BigEndian.AppendUint16(dst, uint16(weight))
		dst = binary.BigEndian.AppendUint16(dst, sign)
		dst = binary.BigEndian.AppendUint16(dst, uint16(dscale))
	}
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		header(0, 0, numericNaN, 0)
		return dst
	case apd.Infinite:
		// PostgreSQL sends a display scale of 32 with infinities (the
		// NUMERIC_DSCALE of its special-value header).
		if d.Negative {
			header(0, 0, numericNInf, 32)
		} else {
			header(0, 0, numericPInf, 32)
		}
		return dst
	}
	dscale := NumericScale(d)
	var scratch [48]byte
	digits := d.Coeff.Append(scratch[:0], 10)
	if digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 1 && digits[0] == '0' {
		header(0, 0, numericPos, int16(dscale))
		return dst
	}
	sign := uint16(numericPos)
	if d.Negative {
		sign = numericNeg
	}
	// The value is digits × 10^exp. Split it at the decimal point, pad the
	// integer part on the left and the fraction on the right to whole
	// base-10000 groups.
	exp := int(d.Exponent)
	intLen := len(digits) + exp
	var intPart, fracPart []byte
	switch {
	case exp >= 0:
		intPart = append(intPart, digits...)
		for i := 0; i < exp; i++ {
			intPart = append(intPart, '0')
		}
	case intLen > 0:
		intPart, fracPart = digits[:intLen], digits[intLen:]
	default:
		for i := 0; i < -intLen; i++ {
			fracPart = append(fracPart, '0')
		}
		fracPart = append(fracPart, digits...)
	}
	lead := (4 - len(intPart)%4) % 4
	all := make([]byte, 0, lead+len(intPart)+len(fracPart)+3)
	for i := 0; i < lead; i++ {
		all = append(all, '0')
	}
	all = append(all, intPart...)
	all = append(all, fracPart...)
	for len(all)%4 != 0 {
		all = append(all, '0')
	}
	weight := (lead+len(intPart))/4 - 1
	groups := make([]uint16, 0, len(all)/4)
	for i := 0; i < len(all); i += 4 {
		groups = append(groups, uint16(all[i]-'0')*1000+uint16(all[i+1]-'0')*100+uint16(all[i+2]-'0')*10+uint16(all[i+3]-'0'))
	}
	// numeric_send's digits are stripped of leading and trailing zero groups.
	for len(groups) > 0 && groups[0] == 0 {
		groups = groups[1:]
		weight--
	}
	for len(groups) > 0 && groups[len(groups)-1] == 0 {
		groups = groups[:len(groups)-1]
	}
	header(int16(len(groups)), int16(weight), sign, int16(dscale))
	for _, g := range groups {
		dst = binary.BigEndian.AppendUint16(dst, g)
	}
	return dst
}

func appendArrayBinary(dst []byte, v Value, t Type) ([]byte, error) {
	et := elemType(t)
	if len(v.Arr) == 0 {
		dst = binary.BigEndian.AppendUint32(dst, 0)
		dst = binary.BigEndian.AppendUint32(dst, 0)
		return binary.BigEndian.AppendUint32(dst, et.OID), nil
	}
	hasNull := uint32(0)
	for _, e := range v.Arr {
		if e.K == KindNull {
			hasNull = 1
			break
		}
	}
	dst = binary.BigEndian.AppendUint32(dst, 1)
	dst = binary.BigEndian.AppendUint32(dst, hasNull)
	dst = binary.BigEndian.AppendUint32(dst, et.OID)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(v.Arr)))
	dst = binary.BigEndian.AppendUint32(dst, 1)
	for _, e := range v.Arr {
		if e.K == KindNull {
			dst = binary.BigEndian.AppendUint32(dst, math.MaxUint32)
			continue
		}
		at := len(dst)
		dst = append(dst, 0, 0, 0, 0)
		var err error
		if dst, err = AppendBinary(dst, e, et); err != nil {
			return dst, err
		}
		binary.BigEndian.PutUint32(dst[at:], uint32(len(dst)-at-4))
	}
	return dst, nil
}

// ParseBinary decodes the binary wire encoding of a value of type t. The
// result does not alias b.
func ParseBinary(t Type, b []byte) (Value, error) {
	// PostgreSQL's receive functions read past the end of a short value
	// (a protocol violation) and leave bytes over in a long one (which
	// the caller reports as a bad binary format).
	need := func(n int) error {
		switch {
		case len(b) < n:
			return pgerr.New(pgerr.ProtocolViolation, "insufficient data left in message")
		case len(b) > n:
			return pgerr.New(pgerr.InvalidBinaryRepresent, "incorrect binary data format")
		}
		return nil
	}
	switch t.Kind {
	case KindBool:
		if err := need(1); err != nil {
			return Null, err
		}
		return NewBool(b[0] != 0), nil
	case KindInt2:
		if err := need(2); err != nil {
			return Null, err
		}
		return NewInt2(int64(int16(binary.BigEndian.Uint16(b)))), nil
	case KindInt4:
		if err := need(4); err != nil {
			return Null, err
		}
		return NewInt4(int64(int32(binary.BigEndian.Uint32(b)))), nil
	case KindOid:
		if err := need(4); err != nil {
			return Null, err
		}
		return NewOid(binary.BigEndian.Uint32(b)), nil
	case KindDate:
		if err := need(4); err != nil {
			return Null, err
		}
		return NewDate(int64(int32(binary.BigEndian.Uint32(b)))), nil
	case KindInt8, KindTime, KindTimestamp, KindTimestampTZ:
		if err := need(8); err != nil {
			return Null, err
		}
		v := Value{K: t.Kind, I: int64(binary.BigEndian.Uint64(b))}
		if t.Kind == KindTime && (v.I < 0 || v.I > USPerDay) {
			return Null, pgerr.New(pgerr.InvalidBinaryRepresent, "time out of range")
		}
		return v, nil
	case KindFloat4:
		if err := need(4); err != nil {
			return Null, err
		}
		return NewFloat4(float64(math.Float32frombits(binary.BigEndian.Uint32(b)))), nil
	case KindFloat8:
		if err := need(8); err != nil {
			return Null, err
		}
		return NewFloat8(math.Float64frombits(binary.BigEndian.Uint64(b))), nil
	case KindNumeric:
		d, err := parseNumericBinary(b)
		if err != nil {
			return Null, err
		}
		if err := applyNumericTypmod(d, t.Mod); err != nil {
			return Null, err
		}
		return NewNumeric(d), nil
	case KindText:
		if err := checkUTF8(string(b)); err != nil {
			return Null, err
		}
		s, err := applyCharTypmod(string(b), t, false)
		if err != nil {
			return Null, err
		}
		return NewText(s), nil
	case KindBytea:
		return NewBytea(b), nil
	case KindJSONB:
		if t.OID != OidJSON {
			if len(b) == 0 || b[0] != 1 {
				return Null, pgerr.New(pgerr.InvalidBinaryRepresent, "unsupported jsonb version number %d", firstByte(b))
			}
			b = b[1:]
		}
		j, err := parseJSONB(string(b))
		if err != nil {
			return Null, err
		}
		return NewJSONB(j), nil
	case KindInterval:
		if err := need(16); err != nil {
			return Null, err
		}
		return NewInterval(int32(binary.BigEndian.Uint32(b[12:])), int32(binary.BigEndian.Uint32(b[8:])),
			int64(binary.BigEndian.Uint64(b))), nil
	case KindArray:
		return parseArrayBinary(t, b)
	}
	return Null, pgerr.New(pgerr.FeatureNotSupported, "no binary input function for type %s", t)
}

func firstByte(b []byte) int {
	if len(b) == 0 {
		return -1
	}
	return int(b[0])
}

func parseNumericBinary(b []byte) (*apd.Decimal, error) {
	if len(b) < 8 {
		return nil, pgerr.New(pgerr.InvalidBinaryRepresent, "insufficient data left in message")
	}
	ndigits := int(binary.BigEndian.Uint16(b))
	weight := int(int16(binary.BigEndian.Uint16(b[2:])))
	sign := binary.BigEndian.Uint16(b[4:])
	dscale := int(int16(binary.BigEndian.Uint16(b[6:])))
	b = b[8:]
	if len(b) != 2*ndigits {
		return nil, pgerr.New(pgerr.InvalidBinaryRepresent, "insufficient data left in message")
	}
	d := new(apd.Decimal)
	switch sign {
	case numericNaN:
		d.Form = apd.NaN
		return d, nil
	case numericPInf:
		d.Form = apd.Infinite
		return d, nil
	case numericNInf:
		d.Form, d.Negative = apd.Infinite, true
		return d, nil
	case numericPos, numericNeg:
	default:
		return nil, pgerr.New(pgerr.InvalidBinaryRepresent, "invalid sign in external \"numeric\" value")
	}
	if dscale < 0 || dscale > numericMaxScale {
		return nil, pgerr.New(pgerr.InvalidBinaryRepresent, "invalid scale in external \"numeric\" value")
	}
	digits := make([]byte, 0, 4*ndigits+dscale)
	for i := 0; i < ndigits; i++ {
		g := binary.BigEndian.Uint16(b[2*i:])
		if g >= 10000 {
			return nil, pgerr.New(pgerr.InvalidBinaryRepresent, "invalid digit in external \"numeric\" value")
		}
		digits = append(digits, byte('0'+g/1000), byte('0'+g/100%10), byte('0'+g/10%10), byte('0'+g%10))
	}
	// digits × 10^(4*(weight+1-ndigits)), then rescaled to dscale digits
	// after the point (truncating digits beyond dscale, as numeric_recv
	// rounds; the sender never sends them).
	exp := 4 * (weight + 1 - ndigits)
	if exp > numericMaxWeightDigits || exp < -numericMaxScale-4*ndigits {
		return nil, pgerr.New(pgerr.InvalidBinaryRepresent, "invalid weight in external \"numeric\" value")
	}
	if len(digits) == 0 {
		digits = append(digits, '0')
	}
	if _, ok := d.Coeff.SetString(string(digits), 10); !ok {
		return nil, pgerr.New(pgerr.InvalidBinaryRepresent, "invalid digit in external \"numeric\" value")
	}
	// Rescale to exactly dscale digits after the point; digits beyond dscale
	// are truncated, as numeric_recv's trunc_var does.
	target := -dscale
	switch {
	case exp > target:
		var mul apd.BigInt
		mul.Exp(apd.NewBigInt(10), apd.NewBigInt(int64(exp-target)), nil)
		d.Coeff.Mul(&d.Coeff, &mul)
	case exp < target:
		var div apd.BigInt
		div.Exp(apd.NewBigInt(10), apd.NewBigInt(int64(target-exp)), nil)
		d.Coeff.Quo(&d.Coeff, &div)
	}
	d.Exponent = int32(target)
	d.Negative = sign == numericNeg
	fixNegativeZero(d)
	return d, nil
}

func parseArrayBinary(t Type, b []byte) (Value, error) {
	et := elemType(t)
	rd := func(n int) ([]byte, error) {
		if len(b) < n {
			return nil, pgerr.New(pgerr.InvalidBinaryRepresent, "insufficient data left in message")
		}
		r := b[:n]
		b = b[n:]
		return r, nil
	}
	hdr, err := rd(12)
	if err != nil {
		return Null, err
	}
	ndim := int32(binary.BigEndian.Uint32(hdr))
	elemOID := binary.BigEndian.Uint32(hdr[8:])
	if ndim == 0 {
		return NewArray([]Value{}), nil
	}
	if ndim != 1 {
		if ndim < 0 || ndim > 6 {
			return Null, pgerr.New(pgerr.InvalidBinaryRepresent, "invalid number of dimensions: %d", ndim)
		}
		return Null, pgerr.New(pgerr.FeatureNotSupported, "multidimensional arrays are not supported")
	}
	if et.OID != 0 && elemOID != et.OID && !(et.Kind == KindText && (elemOID == OidText || elemOID == OidVarchar || elemOID == OidBpchar || elemOID == OidName)) {
		return Null, pgerr.New(pgerr.DatatypeMismatch, "binary data has array element type %d instead of expected %d", elemOID, et.OID)
	}
	dim, err := rd(8)
	if err != nil {
		return Null, err
	}
	n := int32(binary.BigEndian.Uint32(dim))
	if n < 0 || n > maxArrayElems {
		return Null, pgerr.New(pgerr.ProgramLimitExceeded, "array size exceeds the maximum allowed (%d)", maxArrayElems)
	}
	arr := make([]Value, 0, min(int(n), len(b)/4+1))
	for i := int32(0); i < n; i++ {
		lb, err := rd(4)
		if err != nil {
			return Null, err
		}
		l := int32(binary.BigEndian.Uint32(lb))
		if l == -1 {
			arr = append(arr, Null)
			continue
		}
		if l < 0 {
			return Null, pgerr.New(pgerr.InvalidBinaryRepresent, "insufficient data left in message")
		}
		eb, err := rd(int(l))
		if err != nil {
			return Null, err
		}
		e, err := ParseBinary(et, eb)
		if err != nil {
			return Null, err
		}
		arr = append(arr, e)
	}
	if len(b) != 0 {
		return Null, pgerr.New(pgerr.InvalidBinaryRepresent, "incorrect binary data format in array")
	}
	return NewArray(arr), nil
}
