package types

import (
	"strconv"
	"strings"
	"time"

	"github.com/kappa-db/kappa/pgerr"
)

// Arrays are one-dimensional with lower bound 1; multidimensional arrays and
// explicit bounds are rejected on input.

// Array type OIDs (pg_type.dat typarray of each element type).
const (
	OidBoolArray        uint32 = 1000
	OidByteaArray       uint32 = 1001
	OidCharArray        uint32 = 1002
	OidNameArray        uint32 = 1003
	OidInt2Array        uint32 = 1005
	OidInt4Array        uint32 = 1007
	OidRegprocArray     uint32 = 1008
	OidTextArray        uint32 = 1009
	OidBpcharArray      uint32 = 1014
	OidVarcharArray     uint32 = 1015
	OidInt8Array        uint32 = 1016
	OidFloat4Array      uint32 = 1021
	OidFloat8Array      uint32 = 1022
	OidOidArray         uint32 = 1028
	OidTimestampArray   uint32 = 1115
	OidDateArray        uint32 = 1182
	OidTimeArray        uint32 = 1183
	OidTimestampTZArray uint32 = 1185
	OidIntervalArray    uint32 = 1187
	OidNumericArray     uint32 = 1231
	OidJSONArray        uint32 = 199
	OidRegclassArray    uint32 = 2210
	OidRegtypeArray     uint32 = 2211
	OidJSONBArray       uint32 = 3807
)

// arrayOIDs maps an element OID to its array OID.
var arrayOIDs = map[uint32]uint32{
	OidBool: OidBoolArray, OidBytea: OidByteaArray, OidChar: OidCharArray, OidName: OidNameArray,
	OidInt2: OidInt2Array, OidInt4: OidInt4Array, OidRegproc: OidRegprocArray, OidText: OidTextArray,
	OidBpchar: OidBpcharArray, OidVarchar: OidVarcharArray, OidInt8: OidInt8Array,
	OidFloat4: OidFloat4Array, OidFloat8: OidFloat8Array, OidOid: OidOidArray,
	OidTimestamp: OidTimestampArray, OidDate: OidDateArray, OidTime: OidTimeArray,
	OidTimestampTZ: OidTimestampTZArray, OidInterval: OidIntervalArray, OidNumeric: OidNumericArray,
	OidJSON: OidJSONArray, OidRegclass: OidRegclassArray, OidRegtype: OidRegtypeArray,
	OidJSONB: OidJSONBArray,
}

// ArrayOf returns the array type whose elements are elem (keeping elem's
// typmod, which PostgreSQL applies to each element).
func ArrayOf(elem Type) Type {
	return Type{Kind: KindArray, OID: arrayOIDs[elem.OID], Mod: elem.Mod, Elem: elem.Kind, ElemOID: elem.OID}
}

// ElemType returns the element type of an array type.
func (t Type) ElemType() Type { return elemType(t) }

func elemType(t Type) Type {
	if t.ElemOID == 0 {
		e := ByKind(t.Elem)
		e.Mod = t.Mod
		return e
	}
	return Type{Kind: t.Elem, OID: t.ElemOID, Mod: t.Mod}
}

// appendArrayText is array_out for one dimension: '{1,2,NULL}', quoting
// elements that are empty, contain syntax characters or whitespace, or spell
// NULL.
func appendArrayText(dst []byte, v Value, et Type, loc *time.Location) []byte {
	dst = append(dst, '{')
	var scratch []byte
	for i, e := range v.Arr {
		if i > 0 {
			dst = append(dst, ',')
		}
		if e.K == KindNull {
			dst = append(dst, "NULL"...)
			continue
		}
		scratch = AppendText(scratch[:0], e, et, loc)
		if !arrayElemNeedsQuotes(scratch) {
			dst = append(dst, scratch...)
			continue
		}
		dst = append(dst, '"')
		for _, c := range scratch {
			if c == '"' || c == '\\' {
				dst = append(dst, '\\')
			}
			dst = append(dst, c)
		}
		dst = append(dst, '"')
	}
	return append(dst, '}')
}

func arrayElemNeedsQuotes(s []byte) bool {
	if len(s) == 0 || (len(s) == 4 && strings.EqualFold(string(s), "null")) {
		return true
	}
	for _, c := range s {
		switch c {
		case '{', '}', ',', '"', '\\', ' ', '\t', '\n', '\r', '\v', '\f':
			return true
		}
	}
	return false
}

func errMalformedArray(s, detail string) error {
	return pgerr.New(pgerr.InvalidTextRepresentation, "malformed array literal: \"%s\"", s).WithDetail("%s", detail)
}

// parseArrayText is array_in for one dimension.
func parseArrayText(s string, t Type, loc *time.Location) (Value, error) {
	et := elemType(t)
	p := trimSpace(s)
	wantLen := -1
	if p != "" && p[0] == '[' {
		// Explicit bounds "[1:n]=": only lower bound 1 is representable.
		var err error
		if p, wantLen, err = parseArrayBounds(p, s); err != nil {
			return Null, err
		}
	}
	if p == "" || p[0] != '{' {
		return Null, errMalformedArray(s, "Array value must start with \"{\" or dimension information.")
	}
	v, err := parseArrayBody(p, s, et, loc)
	if err == nil && wantLen >= 0 && len(v.Arr) != wantLen {
		return Null, errMalformedArray(s, "Specified array dimensions do not match array contents.")
	}
	return v, err
}

// parseArrayBounds reads "[lb:ub]=" and returns the rest and ub-lb+1.
func parseArrayBounds(p, s string) (string, int, error) {
	end := strings.IndexByte(p, ']')
	if end < 0 {
		return "", 0, errMalformedArray(s, "Missing \"]\" after array dimensions.")
	}
	lbs, ubs, ok := strings.Cut(p[1:end], ":")
	lb, err1 := strconv.Atoi(strings.TrimSpace(lbs))
	ub, err2 := strconv.Atoi(strings.TrimSpace(ubs))
	if !ok || err1 != nil || err2 != nil {
		return "", 0, errMalformedArray(s, "\"[\" must introduce explicitly-specified array dimensions.")
	}
	rest := trimSpace(p[end+1:])
	if rest == "" {
		return "", 0, errMalformedArray(s, "Missing \"=\" after array dimensions.")
	}
	if rest[0] == '[' {
		return "", 0, pgerr.New(pgerr.FeatureNotSupported, "multidimensional arrays are not supported")
	}
	if rest[0] != '=' {
		return "", 0, errMalformedArray(s, "Missing \"=\" after array dimensions.")
	}
	if ub < lb {
		return "", 0, errMalformedArray(s, "Specified array dimensions do not match array contents.")
	}
	if lb != 1 {
		return "", 0, pgerr.New(pgerr.FeatureNotSupported, "array lower bounds other than 1 are not supported")
	}
	return trimSpace(rest[1:]), ub - lb + 1, nil
}

func parseArrayBody(p, s string, et Type, loc *time.Location) (Value, error) {
	p = p[1:]
	elems := []Value{}
	i := 0
	skip := func() {
		for i < len(p) && isSpace(p[i]) {
			i++
		}
	}
	skip()
	if i < len(p) && p[i] == '}' {
		i++
		skip()
		if i != len(p) {
			return Null, errMalformedArray(s, "Junk after closing right brace.")
		}
		return NewArray(elems), nil
	}
	var buf []byte
	for {
		skip()
		if i >= len(p) {
			return Null, errMalformedArray(s, "Unexpected end of input.")
		}
		if p[i] == '{' {
			return Null, pgerr.New(pgerr.FeatureNotSupported, "multidimensional arrays are not supported")
		}
		buf = buf[:0]
		quoted := false
		if p[i] == '"' {
			quoted = true
			i++
			closed := false
			for i < len(p) {
				c := p[i]
				if c == '\\' && i+1 < len(p) {
					buf = append(buf, p[i+1])
					i += 2
					continue
				}
				if c == '"' {
					i++
					closed = true
					break
				}
				buf = append(buf, c)
				i++
			}
			if !closed {
				return Null, errMalformedArray(s, "Unexpected end of input.")
			}
			skip()
		} else {
			// Unquoted: up to , or }, trailing whitespace dropped, backslash
			// escapes honoured.
			lastNonSpace := 0
			for i < len(p) && p[i] != ',' && p[i] != '}' {
				c := p[i]
				switch {
				case c == '\\' && i+1 < len(p):
					buf = append(buf, p[i+1])
					lastNonSpace = len(buf)
					i += 2
					continue
				case c == '"' || c == '{':
					return Null, errMalformedArray(s, "Unexpected \""+string(c)+"\" character.")
				}
				buf = append(buf, c)
				if !isSpace(c) {
					lastNonSpace = len(buf)
				}
				i++
			}
			buf = buf[:lastNonSpace]
			if len(buf) == 0 {
				return Null, errMalformedArray(s, "Unexpected \""+string(p[min(i, len(p)-1)])+"\" character.")
			}
		}
		if !quoted && strings.EqualFold(string(buf), "null") {
			elems = append(elems, Null)
		} else {
			e, err := ParseText(et, string(buf), loc)
			if err != nil {
				return Null, err
			}
			elems = append(elems, e)
		}
		if i >= len(p) {
			return Null, errMalformedArray(s, "Unexpected end of input.")
		}
		switch p[i] {
		case ',':
			i++
		case '}':
			i++
			skip()
			if i != len(p) {
				return Null, errMalformedArray(s, "Junk after closing right brace.")
			}
			return NewArray(elems), nil
		default:
			return Null, errMalformedArray(s, "Unexpected array element.")
		}
	}
}
