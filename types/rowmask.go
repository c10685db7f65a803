package types

import "encoding/binary"

// DecodeRowNeeded is DecodeRow for a reader that uses only some columns:
// a column i with need[i] false is skipped without allocating (a text value
// is not copied) and left NULL. need shorter than the row needs the rest.
func DecodeRowNeeded(src []byte, dst Row, need []bool) (Row, []byte, error) {
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
		if int(i) < len(need) && !need[i] {
			dst[i] = Value{}
			rest, err = skipRowValue(rest)
		} else {
			rest, err = decodeRowValue(rest, &dst[i], 0)
		}
		if err != nil {
			return dst[:i], src, err
		}
	}
	return dst, rest, nil
}

// skipRowValue returns src after one value written by AppendRowValue.
func skipRowValue(src []byte) ([]byte, error) {
	if len(src) == 0 {
		return src, errRowCorrupt("truncated")
	}
	switch Kind(src[0]) {
	case KindNull:
		return src[1:], nil
	case KindBool, KindInt2, KindInt4, KindInt8, KindOid, KindDate, KindTime, KindTimestamp, KindTimestampTZ:
		_, w := binary.Varint(src[1:])
		if w <= 0 {
			return src, errRowCorrupt("bad integer")
		}
		return src[1+w:], nil
	case KindText, KindBytea, KindJSONB:
		n, w := binary.Uvarint(src[1:])
		if w <= 0 || n > uint64(len(src)-1-w) {
			return src, errRowCorrupt("bad string length")
		}
		return src[1+w+int(n):], nil
	}
	// Everything else is rare in a skipped column: decode and drop it.
	var v Value
	return decodeRowValue(src, &v, 0)
}

// DecodeRowInto decodes the columns of an encoded row that a reader keeps
// straight into its own row layout (a projection of column references
// fused into a scan): column i goes to dst[at[i]], and is skipped without
// allocating where at[i] < 0 or i >= len(at). The columns after the last
// kept one are not looked at. A kept column the row lacks is set NULL;
// positions of dst that no column maps to are left as they are.
func DecodeRowInto(src []byte, dst Row, at []int) error {
	n, w := binary.Uvarint(src)
	if w <= 0 || n > uint64(len(src)) {
		return errRowCorrupt("bad column count")
	}
	rest := src[w:]
	last := len(at) - 1
	for last >= 0 && at[last] < 0 {
		last--
	}
	for i := 0; i <= last; i++ {
		j := at[i]
		if uint64(i) >= n {
			if j >= 0 {
				dst[j] = Value{}
			}
			continue
		}
		var err error
		if j < 0 {
			rest, err = skipRowValue(rest)
		} else {
			rest, err = decodeRowValue(rest, &dst[j], 0)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
