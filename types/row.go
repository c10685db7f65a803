package types

import (
	"encoding/binary"
	"math"

	"github.com/cockroachdb/apd/v3"
	"github.com/kappa-db/kappa/pgerr"
)

// Row encoding: a uvarint column count, then per value its Kind byte and a
// kind-specific payload (zigzag varints for integers, 8 raw bytes for floats,
// length-prefixed bytes for strings). It is self-describing so log records
// and stored rows decode without a schema, and not ordered (use AppendKey for
// that).

// Numeric payload flags.
const (
	rowNumNeg     = 1 << 0
	rowNumNaN     = 1 << 1
	rowNumInf     = 1 << 2
	rowNumBigCoef = 1 << 3 // coefficient does not fit a uint64: length-prefixed big-endian bytes
)

// AppendRow appends the encoding of row to dst.
func AppendRow(dst []byte, row Row) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(row)))
	for i := range row {
		dst = appendRowValue(dst, &row[i])
	}
	return dst
}

// AppendRowValue appends the self-describing encoding of one value.
func AppendRowValue(dst []byte, v Value) []byte { return appendRowValue(dst, &v) }

func appendRowValue(dst []byte, v *Value) []byte {
	dst = append(dst, byte(v.K))
	switch v.K {
	case KindNull:
	case KindBool, KindInt2, KindInt4, KindInt8, KindOid, KindDate, KindTime, KindTimestamp, KindTimestampTZ:
		dst = binary.AppendVarint(dst, v.I)
	case KindFloat4, KindFloat8:
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v.F))
	case KindNumeric:
		dst = appendRowNumeric(dst, v.D)
	case KindText, KindBytea, KindJSONB:
		dst = binary.AppendUvarint(dst, uint64(len(v.S)))
		dst = append(dst, v.S...)
	case KindInterval:
		dst = binary.AppendVarint(dst, int64(v.Mon))
		dst = binary.AppendVarint(dst, int64(v.Day))
		dst = binary.AppendVarint(dst, v.I)
	case KindArray:
		dst = binary.AppendUvarint(dst, uint64(len(v.Arr)))
		for i := range v.Arr {
			dst = appendRowValue(dst, &v.Arr[i])
		}
	default:
		panic("types: AppendRow of unknown kind " + v.K.String())
	}
	return dst
}

func appendRowNumeric(dst []byte, d *apd.Decimal) []byte {
	var flags byte
	if d.Negative {
		flags |= rowNumNeg
	}
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		return append(dst, flags|rowNumNaN)
	case apd.Infinite:
		return append(dst, flags|rowNumInf)
	}
	if d.Coeff.IsUint64() {
		dst = append(dst, flags)
		dst = binary.AppendVarint(dst, int64(d.Exponent))
		return binary.AppendUvarint(dst, d.Coeff.Uint64())
	}
	var abs apd.BigInt
	abs.Abs(&d.Coeff)
	b := abs.Bytes()
	dst = append(dst, flags|rowNumBigCoef)
	dst = binary.AppendVarint(dst, int64(d.Exponent))
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

func errRowCorrupt(what string) error {
	return pgerr.New(pgerr.DataCorrupted, "corrupt row encoding: %s", what)
}

// DecodeRow decodes one row written by AppendRow, appending its values to
// dst[:0], and returns the row and the rest of src. Strings are copied, so
// the row does not alias src.
func DecodeRow(src []byte, dst Row) (Row, []byte, error) {
	n, w := binary.Uvarint(src)
	if w <= 0 || n > uint64(len(src)) {
		return dst[:0], src, errRowCorrupt("bad column count")
	}
	rest := src[w:]
	dst = dst[:0]
	if cap(dst) < int(n) {
		dst = make(Row, 0, n)
	}
	for i := uint64(0); i < n; i++ {
		dst = dst[:i+1]
		var err error
		rest, err = decodeRowValue(rest, &dst[i], 0)
		if err != nil {
			return dst[:i], src, err
		}
	}
	return dst, rest, nil
}

// DecodeRowValue decodes one value written by AppendRowValue.
func DecodeRowValue(src []byte) (Value, []byte, error) {
	var v Value
	rest, err := decodeRowValue(src, &v, 0)
	return v, rest, err
}

const maxRowNesting = 8

func decodeRowValue(src []byte, v *Value, depth int) ([]byte, error) {
	if len(src) == 0 {
		return src, errRowCorrupt("truncated")
	}
	k := Kind(src[0])
	src = src[1:]
	*v = Value{K: k}
	switch k {
	case KindNull:
		return src, nil
	case KindBool, KindInt2, KindInt4, KindInt8, KindOid, KindDate, KindTime, KindTimestamp, KindTimestampTZ:
		i, w := binary.Varint(src)
		if w <= 0 {
			return src, errRowCorrupt("bad integer")
		}
		v.I = i
		return src[w:], nil
	case KindFloat4, KindFloat8:
		if len(src) < 8 {
			return src, errRowCorrupt("truncated float")
		}
		v.F = math.Float64frombits(binary.LittleEndian.Uint64(src))
		return src[8:], nil
	case KindNumeric:
		return decodeRowNumeric(src, v)
	case KindText, KindBytea, KindJSONB:
		n, w := binary.Uvarint(src)
		if w <= 0 || n > uint64(len(src)-w) {
			return src, errRowCorrupt("bad string length")
		}
		v.S = string(src[w : w+int(n)])
		return src[w+int(n):], nil
	case KindInterval:
		mon, w1 := binary.Varint(src)
		if w1 <= 0 {
			return src, errRowCorrupt("bad interval")
		}
		day, w2 := binary.Varint(src[w1:])
		if w2 <= 0 {
			return src, errRowCorrupt("bad interval")
		}
		us, w3 := binary.Varint(src[w1+w2:])
		if w3 <= 0 || mon != int64(int32(mon)) || day != int64(int32(day)) {
			return src, errRowCorrupt("bad interval")
		}
		v.Mon, v.Day, v.I = int32(mon), int32(day), us
		return src[w1+w2+w3:], nil
	case KindArray:
		if depth >= maxRowNesting {
			return src, errRowCorrupt("arrays nested too deeply")
		}
		n, w := binary.Uvarint(src)
		if w <= 0 || n > uint64(len(src)-w) {
			return src, errRowCorrupt("bad array length")
		}
		src = src[w:]
		arr := make([]Value, n)
		for i := range arr {
			var err error
			if src, err = decodeRowValue(src, &arr[i], depth+1); err != nil {
				return src, err
			}
		}
		v.Arr = arr
		return src, nil
	}
	return src, errRowCorrupt("unknown kind")
}

func decodeRowNumeric(src []byte, v *Value) ([]byte, error) {
	if len(src) == 0 {
		return src, errRowCorrupt("truncated numeric")
	}
	flags := src[0]
	src = src[1:]
	d := new(apd.Decimal)
	d.Negative = flags&rowNumNeg != 0
	v.D = d
	switch {
	case flags&rowNumNaN != 0:
		d.Form = apd.NaN
		return src, nil
	case flags&rowNumInf != 0:
		d.Form = apd.Infinite
		return src, nil
	}
	e, w := binary.Varint(src)
	if w <= 0 || e != int64(int32(e)) {
		return src, errRowCorrupt("bad numeric exponent")
	}
	d.Exponent = int32(e)
	src = src[w:]
	if flags&rowNumBigCoef == 0 {
		c, w := binary.Uvarint(src)
		if w <= 0 {
			return src, errRowCorrupt("bad numeric coefficient")
		}
		d.Coeff.SetUint64(c)
		return src[w:], nil
	}
	n, w := binary.Uvarint(src)
	if w <= 0 || n > uint64(len(src)-w) {
		return src, errRowCorrupt("bad numeric coefficient length")
	}
	d.Coeff.SetBytes(src[w : w+int(n)])
	return src[w+int(n):], nil
}
