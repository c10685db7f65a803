package types

import (
	"bytes"
	"encoding/binary"
	"math"

	"github.com/cockroachdb/apd/v3"
	"github.com/kappa-db/kappa/pgerr"
)

// Memcomparable key encoding. Every value starts with a marker byte so that
// NULL (keyNull) sorts after every non-NULL value (keyNotNull); the payload
// that follows depends only on the kind, never on the Type's OID, so an int4
// and an int8 holding the same number encode identically (joins and lookups
// may mix them). Every payload is prefix-free, which is what lets desc simply
// invert the bytes.
const (
	keyNotNull byte = 0x01
	keyNull    byte = 0x02

	// Array elements are each preceded by keyArrayElem; keyArrayEnd closes the
	// array so that a shorter array sorts before a longer one it prefixes.
	keyArrayEnd  byte = 0x00
	keyArrayElem byte = 0x01

	// Numeric classes, in sort order.
	keyNumNegInf byte = 0x01
	keyNumNeg    byte = 0x02
	keyNumZero   byte = 0x03
	keyNumPos    byte = 0x04
	keyNumPosInf byte = 0x05
	keyNumNaN    byte = 0x06
)

// AppendKey appends the memcomparable encoding of v to dst: for two values a
// and b of the same kind, bytes.Compare of their encodings has the sign of
// Compare(a, b). desc inverts the bytes, for descending key columns (NULL then
// sorts first, as PostgreSQL's DESC does by default).
//
// Two documented exceptions keep decoding exact: numerics are normalized
// (1.0 and 1.00 encode the same and decode as 1), and intervals append their
// three fields after the ordering prefix, so '1 mon' and '30 days' compare
// equal by Compare but their keys differ in the suffix.
func AppendKey(dst []byte, v Value, desc bool) []byte {
	start := len(dst)
	dst = appendKeyAsc(dst, v)
	if desc {
		for i := start; i < len(dst); i++ {
			dst[i] = ^dst[i]
		}
	}
	return dst
}

func appendKeyAsc(dst []byte, v Value) []byte {
	if v.K == KindNull {
		return append(dst, keyNull)
	}
	dst = append(dst, keyNotNull)
	switch v.K {
	case KindBool:
		if v.I != 0 {
			return append(dst, 1)
		}
		return append(dst, 0)
	case KindInt2, KindInt4, KindInt8, KindOid, KindDate, KindTime, KindTimestamp, KindTimestampTZ:
		return binary.BigEndian.AppendUint64(dst, uint64(v.I)^(1<<63))
	case KindFloat4, KindFloat8:
		return binary.BigEndian.AppendUint64(dst, floatKeyBits(v.F))
	case KindNumeric:
		return appendNumericKey(dst, v.D)
	case KindText, KindBytea, KindJSONB:
		return appendBytesKey(dst, v.S)
	case KindInterval:
		hi, lo := intervalKey(v)
		dst = binary.BigEndian.AppendUint64(dst, uint64(hi)^(1<<63))
		dst = binary.BigEndian.AppendUint64(dst, uint64(lo))
		dst = binary.BigEndian.AppendUint32(dst, uint32(v.Mon)^(1<<31))
		dst = binary.BigEndian.AppendUint32(dst, uint32(v.Day)^(1<<31))
		return binary.BigEndian.AppendUint64(dst, uint64(v.I)^(1<<63))
	case KindArray:
		for _, e := range v.Arr {
			dst = append(dst, keyArrayElem)
			dst = appendKeyAsc(dst, e)
		}
		return append(dst, keyArrayEnd)
	}
	panic("types: AppendKey of unknown kind " + v.K.String())
}

// floatKeyBits maps a float to a uint64 whose unsigned order is PostgreSQL's
// float order: -0 equals 0 and NaN sorts above +Infinity.
func floatKeyBits(f float64) uint64 {
	if math.IsNaN(f) {
		return math.MaxUint64
	}
	if f == 0 {
		f = 0 // folds -0
	}
	b := math.Float64bits(f)
	if b&(1<<63) != 0 {
		return ^b
	}
	return b | 1<<63
}

func floatFromKeyBits(b uint64) float64 {
	if b == math.MaxUint64 {
		return math.NaN()
	}
	if b&(1<<63) != 0 {
		return math.Float64frombits(b &^ (1 << 63))
	}
	return math.Float64frombits(^b)
}

// appendBytesKey escapes 0x00 as 0x00 0xFF and terminates with 0x00 0x01, so
// the encoding is prefix-free and orders like the raw bytes.
func appendBytesKey(dst []byte, s string) []byte {
	for {
		i := indexByte(s, 0)
		if i < 0 {
			break
		}
		dst = append(dst, s[:i]...)
		dst = append(dst, 0x00, 0xFF)
		s = s[i+1:]
	}
	dst = append(dst, s...)
	return append(dst, 0x00, 0x01)
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// appendNumericKey encodes a finite nonzero decimal as its class, the
// adjusted exponent E (value = 0.d1d2...dn × 10^E, trailing zeros stripped)
// and the digits packed two per byte as d1*10+d2+1, then a 0x00 terminator.
// Negative numbers invert exponent and digit bytes so larger magnitudes sort
// first.
func appendNumericKey(dst []byte, d *apd.Decimal) []byte {
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		return append(dst, keyNumNaN)
	case apd.Infinite:
		if d.Negative {
			return append(dst, keyNumNegInf)
		}
		return append(dst, keyNumPosInf)
	}
	if d.Coeff.Sign() == 0 {
		return append(dst, keyNumZero)
	}
	var scratch [40]byte
	digits := d.Coeff.Append(scratch[:0], 10)
	if digits[0] == '-' {
		digits = digits[1:]
	}
	n := len(digits)
	for n > 1 && digits[n-1] == '0' {
		n--
	}
	exp := int64(d.Exponent) + int64(len(digits))
	digits = digits[:n]
	var mask byte
	if d.Negative {
		dst = append(dst, keyNumNeg)
		mask = 0xFF
	} else {
		dst = append(dst, keyNumPos)
	}
	var eb [8]byte
	binary.BigEndian.PutUint64(eb[:], uint64(exp)^(1<<63))
	for _, b := range eb {
		dst = append(dst, b^mask)
	}
	for i := 0; i < len(digits); i += 2 {
		hi := digits[i] - '0'
		var lo byte
		if i+1 < len(digits) {
			lo = digits[i+1] - '0'
		}
		dst = append(dst, (hi*10+lo+1)^mask)
	}
	return append(dst, 0x00^mask)
}

// keyReader reads a key whose bytes may be inverted (descending columns).
type keyReader struct {
	src  []byte
	mask byte
}

func errKeyCorrupt(what string) error {
	return pgerr.New(pgerr.DataCorrupted, "corrupt key encoding: %s", what)
}

func (r *keyReader) byte1() (byte, error) {
	if len(r.src) == 0 {
		return 0, errKeyCorrupt("truncated")
	}
	b := r.src[0] ^ r.mask
	r.src = r.src[1:]
	return b, nil
}

func (r *keyReader) uint64be() (uint64, error) {
	if len(r.src) < 8 {
		return 0, errKeyCorrupt("truncated")
	}
	u := binary.BigEndian.Uint64(r.src)
	r.src = r.src[8:]
	if r.mask != 0 {
		u = ^u
	}
	return u, nil
}

func (r *keyReader) uint32be() (uint32, error) {
	if len(r.src) < 4 {
		return 0, errKeyCorrupt("truncated")
	}
	u := binary.BigEndian.Uint32(r.src)
	r.src = r.src[4:]
	if r.mask != 0 {
		u = ^u
	}
	return u, nil
}

// DecodeKey decodes one value of type t written by AppendKey with the same
// desc, and returns the rest of src. Numerics decode normalized (see
// AppendKey).
func DecodeKey(src []byte, t Type, desc bool) (Value, []byte, error) {
	r := keyReader{src: src}
	if desc {
		r.mask = 0xFF
	}
	v, err := r.value(t.Kind, t.Elem)
	if err != nil {
		return Null, src, err
	}
	return v, r.src, nil
}

func (r *keyReader) value(k, elem Kind) (Value, error) {
	m, err := r.byte1()
	if err != nil {
		return Null, err
	}
	switch m {
	case keyNull:
		return Null, nil
	case keyNotNull:
	default:
		return Null, errKeyCorrupt("bad null marker")
	}
	switch k {
	case KindBool:
		b, err := r.byte1()
		if err != nil {
			return Null, err
		}
		if b > 1 {
			return Null, errKeyCorrupt("bad bool")
		}
		return Value{K: KindBool, I: int64(b)}, nil
	case KindInt2, KindInt4, KindInt8, KindOid, KindDate, KindTime, KindTimestamp, KindTimestampTZ:
		u, err := r.uint64be()
		if err != nil {
			return Null, err
		}
		return Value{K: k, I: int64(u ^ (1 << 63))}, nil
	case KindFloat4, KindFloat8:
		u, err := r.uint64be()
		if err != nil {
			return Null, err
		}
		return Value{K: k, F: floatFromKeyBits(u)}, nil
	case KindNumeric:
		d, err := r.numeric()
		if err != nil {
			return Null, err
		}
		return NewNumeric(d), nil
	case KindText, KindBytea, KindJSONB:
		s, err := r.bytes()
		if err != nil {
			return Null, err
		}
		return Value{K: k, S: s}, nil
	case KindInterval:
		if _, err := r.uint64be(); err != nil {
			return Null, err
		}
		if _, err := r.uint64be(); err != nil {
			return Null, err
		}
		mon, err := r.uint32be()
		if err != nil {
			return Null, err
		}
		day, err := r.uint32be()
		if err != nil {
			return Null, err
		}
		us, err := r.uint64be()
		if err != nil {
			return Null, err
		}
		return NewInterval(int32(mon^(1<<31)), int32(day^(1<<31)), int64(us^(1<<63))), nil
	case KindArray:
		if elem == KindArray || elem == KindNull {
			return Null, errKeyCorrupt("array of " + elem.String())
		}
		arr := []Value{}
		for {
			b, err := r.byte1()
			if err != nil {
				return Null, err
			}
			if b == keyArrayEnd {
				return NewArray(arr), nil
			}
			if b != keyArrayElem {
				return Null, errKeyCorrupt("bad array element marker")
			}
			e, err := r.value(elem, KindNull)
			if err != nil {
				return Null, err
			}
			arr = append(arr, e)
		}
	}
	return Null, errKeyCorrupt("unknown kind " + k.String())
}

func (r *keyReader) bytes() (string, error) {
	if r.mask == 0 {
		// Ascending keys without escaped zeros are the string itself.
		if i := bytes.IndexByte(r.src, 0); i >= 0 && i+1 < len(r.src) && r.src[i+1] == 0x01 {
			s := string(r.src[:i])
			r.src = r.src[i+2:]
			return s, nil
		}
	}
	buf := make([]byte, 0, 16)
	for i := 0; i < len(r.src); i++ {
		b := r.src[i] ^ r.mask
		if b != 0 {
			buf = append(buf, b)
			continue
		}
		if i+1 >= len(r.src) {
			break
		}
		switch r.src[i+1] ^ r.mask {
		case 0x01:
			r.src = r.src[i+2:]
			return string(buf), nil
		case 0xFF:
			buf = append(buf, 0)
			i++
		default:
			return "", errKeyCorrupt("bad string escape")
		}
	}
	return "", errKeyCorrupt("unterminated string")
}

func (r *keyReader) numeric() (*apd.Decimal, error) {
	class, err := r.byte1()
	if err != nil {
		return nil, err
	}
	d := new(apd.Decimal)
	switch class {
	case keyNumNaN:
		d.Form = apd.NaN
		return d, nil
	case keyNumNegInf:
		d.Form, d.Negative = apd.Infinite, true
		return d, nil
	case keyNumPosInf:
		d.Form = apd.Infinite
		return d, nil
	case keyNumZero:
		return d, nil
	case keyNumPos, keyNumNeg:
	default:
		return nil, errKeyCorrupt("bad numeric class")
	}
	neg := class == keyNumNeg
	var inv byte
	if neg {
		inv = 0xFF
	}
	u, err := r.uint64be()
	if err != nil {
		return nil, err
	}
	if neg {
		u = ^u
	}
	exp := int64(u ^ (1 << 63))
	var scratch [40]byte
	digits := scratch[:0]
	for {
		b, err := r.byte1()
		if err != nil {
			return nil, err
		}
		b ^= inv
		if b == 0 {
			break
		}
		if b > 100 {
			return nil, errKeyCorrupt("bad numeric digit")
		}
		b--
		digits = append(digits, '0'+b/10, '0'+b%10)
	}
	if len(digits) > 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
	}
	if len(digits) == 0 {
		return nil, errKeyCorrupt("numeric without digits")
	}
	e := exp - int64(len(digits))
	if e < math.MinInt32 || e > math.MaxInt32 {
		return nil, errKeyCorrupt("numeric exponent out of range")
	}
	if len(digits) <= 19 {
		var c uint64
		for _, ch := range digits {
			c = c*10 + uint64(ch-'0')
		}
		d.Coeff.SetUint64(c)
	} else if _, ok := d.Coeff.SetString(string(digits), 10); !ok {
		return nil, errKeyCorrupt("bad numeric digits")
	}
	d.Exponent = int32(e)
	d.Negative = neg
	return d, nil
}
