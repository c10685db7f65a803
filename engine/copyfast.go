package engine

import (
	"encoding/binary"
	"math"
	"unicode/utf8"

	"github.com/kappa-db/kappa/catalog"
	"github.com/kappa-db/kappa/types"
)

// copyFast encodes COPY lines straight into change records for the common
// case: every column listed in table order, no primary key, and columns of
// smallint, integer, bigint and text only. A line it cannot take (a NULL, an
// integer with spaces or out of range, invalid UTF-8) goes through the
// general path, which parses values with types.ParseText and reports
// errors; the records are byte for byte the same (TestCopyFastMatches).
type copyFast struct {
	kinds  []types.Kind
	lo, hi []int64 // an integer column's range
}

// newCopyFast returns the fast encoder for COPY into t of columns target
// with defaults (nil when some column is not listed), or nil.
func newCopyFast(t *catalog.Object, target []int, defaults bool) *copyFast {
	if defaults || len(t.PrimaryKey) > 0 || len(target) != len(t.Columns) || len(t.Columns) >= 0x80 {
		return nil
	}
	f := &copyFast{}
	for i, c := range t.Columns {
		if target[i] != i {
			return nil
		}
		lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
		switch {
		case c.Type.Kind == types.KindInt2:
			lo, hi = math.MinInt16, math.MaxInt16
		case c.Type.Kind == types.KindInt4:
			lo, hi = math.MinInt32, math.MaxInt32
		case c.Type.Kind == types.KindInt8:
		case c.Type.Kind == types.KindText && c.Type.OID == types.Text.OID:
		default:
			return nil
		}
		f.kinds = append(f.kinds, c.Type.Kind)
		f.lo, f.hi = append(f.lo, lo), append(f.hi, hi)
	}
	return f
}

// appendRecord appends the insert record of one line's fields to dst, as
// exec.AppendChange(dst, 1, 0, row) would; ok false means the line needs the
// general path (dst is then garbage past its old length).
func (f *copyFast) appendRecord(dst []byte, fields [][]byte) (_ []byte, ok bool) {
	if len(fields) != len(f.kinds) {
		return dst, false
	}
	// Weight +1, row id 0, the column count (fewer than 0x80: one byte).
	dst = append(dst, 2, 0, byte(len(f.kinds)))
	for i, fl := range fields {
		if fl == nil {
			return dst, false
		}
		switch k := f.kinds[i]; k {
		case types.KindText:
			if !utf8.Valid(fl) {
				return dst, false
			}
			if len(fl) < 0x80 {
				dst = append(dst, byte(k), byte(len(fl)))
			} else {
				dst = binary.AppendUvarint(append(dst, byte(k)), uint64(len(fl)))
			}
			dst = append(dst, fl...)
		default:
			v, ok := parsePlainInt(fl, f.lo[i], f.hi[i])
			if !ok {
				return dst, false
			}
			dst = binary.AppendVarint(append(dst, byte(k)), v)
		}
	}
	return dst, true
}

// parsePlainInt parses an optional sign and 1 to 18 digits within [lo, hi];
// anything else (spaces, longer numbers) is left to types.ParseText.
func parsePlainInt(b []byte, lo, hi int64) (int64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, n >= lo && n <= hi
}

// addFast adds one line through f; false means it needs the general path.
func (ins *inserter) addFast(f *copyFast, fields [][]byte) bool {
	start := len(ins.buf)
	if cap(ins.buf)-start < 256 {
		ins.buf = make([]byte, 0, 64<<10)
		start = 0
	}
	buf, ok := f.appendRecord(ins.buf, fields)
	if !ok {
		return false
	}
	ins.buf = buf
	ins.addRecord(buf[start:len(buf):len(buf)])
	return true
}
