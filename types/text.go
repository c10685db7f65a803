package types

import (
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kappa-db/kappa/pgerr"
)

// AppendText appends PostgreSQL's text output of v (a value of type t) to dst,
// with the settings kappa always uses: DateStyle ISO, MDY; IntervalStyle
// postgres; extra_float_digits 1 (shortest round-trip floats). Timestamptz
// values are shown in loc (UTC when nil). NULL appends nothing: the wire
// protocol sends NULL as a length, not as text.
func AppendText(dst []byte, v Value, t Type, loc *time.Location) []byte {
	switch v.K {
	case KindNull:
		return dst
	case KindBool:
		if v.I != 0 {
			return append(dst, 't')
		}
		return append(dst, 'f')
	case KindInt2, KindInt4, KindInt8:
		return strconv.AppendInt(dst, v.I, 10)
	case KindOid:
		return strconv.AppendUint(dst, uint64(uint32(v.I)), 10)
	case KindFloat4:
		return appendFloat(dst, v.F, 32)
	case KindFloat8:
		return appendFloat(dst, v.F, 64)
	case KindNumeric:
		return appendNumericText(dst, v.D)
	case KindText, KindJSONB:
		return append(dst, v.S...)
	case KindBytea:
		return appendByteaHex(dst, v.S)
	case KindDate:
		return appendDateText(dst, v.I)
	case KindTime:
		return appendTimeOfDay(dst, v.I)
	case KindTimestamp:
		return appendTimestampText(dst, v.I, false, loc)
	case KindTimestampTZ:
		return appendTimestampText(dst, v.I, true, loc)
	case KindInterval:
		return appendIntervalText(dst, v)
	case KindArray:
		return appendArrayText(dst, v, elemType(t), loc)
	}
	panic("types: AppendText of unknown kind " + v.K.String())
}

// FormatText returns PostgreSQL's text output of v; see AppendText. NULL
// formats as the empty string.
func FormatText(v Value, t Type, loc *time.Location) string {
	var buf [64]byte
	return string(AppendText(buf[:0], v, t, loc))
}

// ParseText is PostgreSQL's input function for t, including the type
// modifier (varchar(n) length check, numeric(p,s) rounding, timestamp(p)
// precision). Timestamptz input without a zone is read in loc (UTC when nil).
// Errors are *pgerr.Error worded as PostgreSQL words them.
func ParseText(t Type, s string, loc *time.Location) (Value, error) {
	if loc == nil {
		loc = time.UTC
	}
	switch t.Kind {
	case KindNull:
		return NewText(s), nil
	case KindBool:
		b, ok := parseBool(s)
		if !ok {
			return Null, errSyntax("boolean", s)
		}
		return NewBool(b), nil
	case KindInt2:
		return parseInt(s, math.MinInt16, math.MaxInt16, KindInt2, "smallint")
	case KindInt4:
		return parseInt(s, math.MinInt32, math.MaxInt32, KindInt4, "integer")
	case KindInt8:
		return parseInt(s, math.MinInt64, math.MaxInt64, KindInt8, "bigint")
	case KindOid:
		v, err := parseInt(s, math.MinInt32, math.MaxUint32, KindOid, "oid")
		if err != nil {
			return Null, err
		}
		v.I = int64(uint32(v.I))
		return v, nil
	case KindFloat4:
		f, err := parseFloat(s, 32, "real")
		return NewFloat4(f), err
	case KindFloat8:
		f, err := parseFloat(s, 64, "double precision")
		return NewFloat8(f), err
	case KindNumeric:
		d, err := parseNumeric(s)
		if err != nil {
			return Null, err
		}
		if err := applyNumericTypmod(d, t.Mod); err != nil {
			return Null, err
		}
		return NewNumeric(d), nil
	case KindText:
		if err := checkUTF8(s); err != nil {
			return Null, err
		}
		out, err := applyCharTypmod(s, t, false)
		if err != nil {
			return Null, err
		}
		return NewText(out), nil
	case KindBytea:
		b, err := parseBytea(s)
		if err != nil {
			return Null, err
		}
		return Value{K: KindBytea, S: b}, nil
	case KindDate:
		d, err := parseDate(s, loc)
		if err != nil {
			return Null, err
		}
		return NewDate(d), nil
	case KindTime:
		us, err := parseTimeOfDay(s)
		if err != nil {
			return Null, err
		}
		return NewTime(roundTimeTypmod(us, t.Mod)), nil
	case KindTimestamp, KindTimestampTZ:
		us, err := parseTimestamp(s, t.Kind == KindTimestampTZ, loc)
		if err != nil {
			return Null, err
		}
		return Value{K: t.Kind, I: roundTimestampTypmod(us, t.Mod)}, nil
	case KindInterval:
		return parseInterval(s)
	case KindJSONB:
		if err := checkUTF8(s); err != nil {
			return Null, err
		}
		j, err := parseJSONB(s)
		if err != nil {
			return Null, err
		}
		return NewJSONB(j), nil
	case KindArray:
		return parseArrayText(s, t, loc)
	}
	return Null, pgerr.New(pgerr.FeatureNotSupported, "no input function for type %s", t)
}

// checkUTF8 rejects invalid UTF-8 as PostgreSQL does for every string that
// reaches a server with a UTF8 database encoding.
func checkUTF8(s string) error {
	if utf8.ValidString(s) {
		return nil
	}
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && w == 1 {
			return pgerr.New(errCharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\": 0x%02x", s[i])
		}
		i += w
	}
	return nil
}

// errCharacterNotInRepertoire is SQLSTATE character_not_in_repertoire.
const errCharacterNotInRepertoire = "22021"

func errSyntax(typ, s string) *pgerr.Error {
	return pgerr.New(pgerr.InvalidTextRepresentation, "invalid input syntax for type %s: \"%s\"", typ, s)
}

func errOutOfRange(typ, s string) *pgerr.Error {
	return pgerr.New(pgerr.NumericValueOutOfRange, "value \"%s\" is out of range for type %s", s, typ)
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func trimSpace(s string) string {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// parseBool accepts what PostgreSQL's boolin does: unambiguous prefixes of
// true/false/yes/no, on/off (at least two letters), 1/0, ignoring case and
// surrounding whitespace.
func parseBool(s string) (bool, bool) {
	s = strings.ToLower(trimSpace(s))
	if s == "" {
		return false, false
	}
	prefix := func(word string, min int) bool {
		return len(s) >= min && len(s) <= len(word) && word[:len(s)] == s
	}
	switch {
	case prefix("true", 1), prefix("yes", 1), prefix("on", 2), s == "1":
		return true, true
	case prefix("false", 1), prefix("no", 1), prefix("off", 2), s == "0":
		return false, true
	}
	return false, false
}

// parseInt is PostgreSQL 15's pg_strtoint: optional whitespace and sign,
// decimal digits only.
func parseInt(s string, lo, hi int64, k Kind, typ string) (Value, error) {
	t := trimSpace(s)
	neg := false
	if len(t) > 0 && (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-'
		t = t[1:]
	}
	if t == "" {
		return Null, errSyntax(typ, s)
	}
	var u uint64
	overflow := false
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c < '0' || c > '9' {
			return Null, errSyntax(typ, s)
		}
		if u > (math.MaxUint64-9)/10 {
			overflow = true
			continue
		}
		u = u*10 + uint64(c-'0')
	}
	var n int64
	switch {
	case overflow:
		return Null, errOutOfRange(typ, s)
	case neg:
		if u > 1<<63 {
			return Null, errOutOfRange(typ, s)
		}
		n = -int64(u)
	default:
		if u > math.MaxInt64 {
			return Null, errOutOfRange(typ, s)
		}
		n = int64(u)
	}
	if n < lo || n > hi {
		return Null, errOutOfRange(typ, s)
	}
	return Value{K: k, I: n}, nil
}

// parseFloat is float8in/float4in: decimal notation, NaN and Infinity in any
// case, surrounding whitespace. Overflow and underflow to zero are out of
// range, as with strtod's ERANGE.
func parseFloat(s string, bitSize int, typ string) (float64, error) {
	t := trimSpace(s)
	switch strings.ToLower(t) {
	case "nan", "+nan", "-nan":
		return math.NaN(), nil
	case "infinity", "+infinity", "inf", "+inf":
		return math.Inf(1), nil
	case "-infinity", "-inf":
		return math.Inf(-1), nil
	}
	if t == "" {
		return 0, errSyntax(typ, s)
	}
	if body := strings.TrimLeft(t, "+-"); len(body) > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') {
		// strtod reads C99 hexadecimal floats too.
		hex := t
		if !strings.ContainsAny(hex, "pP") {
			hex += "p0"
		}
		f, err := strconv.ParseFloat(hex, bitSize)
		if err != nil || strings.Contains(hex, "_") {
			return 0, errSyntax(typ, s)
		}
		return f, nil
	}
	nonzero, digits := false, false
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c >= '1' && c <= '9':
			nonzero, digits = true, true
		case c == '0':
			digits = true
		case c == 'e' || c == 'E':
			if !digits {
				return 0, errSyntax(typ, s)
			}
			// Digits of the exponent do not make the mantissa nonzero.
			for j := i + 1; j < len(t); j++ {
				if c := t[j]; !(c >= '0' && c <= '9' || (j == i+1 && (c == '+' || c == '-'))) {
					return 0, errSyntax(typ, s)
				}
			}
			i = len(t)
		case c == '.' || ((c == '+' || c == '-') && i == 0):
		default:
			return 0, errSyntax(typ, s)
		}
	}
	if !digits {
		return 0, errSyntax(typ, s)
	}
	f, err := strconv.ParseFloat(t, bitSize)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, pgerr.New(pgerr.NumericValueOutOfRange, "\"%s\" is out of range for type %s", s, typ)
		}
		return 0, errSyntax(typ, s)
	}
	if f == 0 && nonzero {
		return 0, pgerr.New(pgerr.NumericValueOutOfRange, "\"%s\" is out of range for type %s", s, typ)
	}
	return f, nil
}

// appendFloat prints the shortest decimal that round-trips, laid out as
// PostgreSQL 12+ does: exponent notation when the decimal exponent is below
// -4 or at least the type's digits (15 for float8, 6 for float4), with a
// sign and at least two exponent digits.
func appendFloat(dst []byte, f float64, bitSize int) []byte {
	if bitSize == 32 {
		f = float64(float32(f))
	}
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0"...)
		}
		return append(dst, '0')
	}
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, bitSize)
	if mag := math.Abs(f); (bitSize == 64 && mag >= 1<<53) || (bitSize == 32 && mag >= 1<<24) {
		// PostgreSQL's Ryu excludes the rounding interval's bounds: a
		// shortest string that lies exactly halfway to a neighbour (only
		// possible for large integers) gets more digits.
		nd := 0
		for _, c := range e {
			if c == 'e' {
				break
			}
			if c >= '0' && c <= '9' {
				nd++
			}
		}
		for prec := nd; prec <= 17 && onRoundingBound(e, f, bitSize); prec++ {
			e = strconv.AppendFloat(buf[:0], f, 'e', prec, bitSize)
		}
	}
	neg := e[0] == '-'
	if neg {
		e = e[1:]
	}
	// e is d[.ddd]e±XX
	ei := strings.IndexByte(string(e), 'e')
	mant, expPart := e[:ei], e[ei+1:]
	exp, _ := strconv.Atoi(string(expPart))
	var digs [24]byte
	nd := 0
	for _, c := range mant {
		if c != '.' {
			digs[nd] = c
			nd++
		}
	}
	prec := 15
	if bitSize == 32 {
		prec = 6
	}
	if neg {
		dst = append(dst, '-')
	}
	if exp < -4 || exp >= prec {
		dst = append(dst, digs[0])
		if nd > 1 {
			dst = append(dst, '.')
			dst = append(dst, digs[1:nd]...)
		}
		dst = append(dst, 'e')
		if exp < 0 {
			dst = append(dst, '-')
			exp = -exp
		} else {
			dst = append(dst, '+')
		}
		if exp < 10 {
			dst = append(dst, '0')
		}
		return strconv.AppendInt(dst, int64(exp), 10)
	}
	if exp < 0 {
		dst = append(dst, '0', '.')
		for i := -1; i > exp; i-- {
			dst = append(dst, '0')
		}
		return append(dst, digs[:nd]...)
	}
	// exp+1 digits before the point.
	if nd <= exp+1 {
		dst = append(dst, digs[:nd]...)
		for i := nd; i <= exp; i++ {
			dst = append(dst, '0')
		}
		return dst
	}
	dst = append(dst, digs[:exp+1]...)
	dst = append(dst, '.')
	return append(dst, digs[exp+1:nd]...)
}

// onRoundingBound reports whether the decimal dec is exactly halfway between
// f and one of its neighbours at the given precision.
func onRoundingBound(dec []byte, f float64, bitSize int) bool {
	x, _, err := big.ParseFloat(string(dec), 10, 300, big.ToNearestEven)
	if err != nil {
		return false
	}
	var up, down float64
	if bitSize == 32 {
		up = float64(math.Nextafter32(float32(f), float32(math.Inf(1))))
		down = float64(math.Nextafter32(float32(f), float32(math.Inf(-1))))
	} else {
		up, down = math.Nextafter(f, math.Inf(1)), math.Nextafter(f, math.Inf(-1))
	}
	for _, n := range []float64{up, down} {
		if math.IsInf(n, 0) {
			continue
		}
		mid := new(big.Float).SetPrec(300).SetFloat64(f)
		mid.Add(mid, new(big.Float).SetPrec(300).SetFloat64(n))
		mid.Quo(mid, big.NewFloat(2))
		if x.Cmp(mid) == 0 {
			return true
		}
	}
	return false
}

const hexDigits = "0123456789abcdef"

func appendByteaHex(dst []byte, s string) []byte {
	dst = append(dst, '\\', 'x')
	for i := 0; i < len(s); i++ {
		dst = append(dst, hexDigits[s[i]>>4], hexDigits[s[i]&15])
	}
	return dst
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// parseBytea is byteain: "\x" hex (whitespace between digit pairs allowed)
// or the escape format (\\ for a backslash, \ooo octal, other bytes as is).
func parseBytea(s string) (string, error) {
	if len(s) >= 2 && s[0] == '\\' && (s[1] == 'x' || s[1] == 'X') {
		out := make([]byte, 0, (len(s)-2)/2)
		for i := 2; i < len(s); {
			c := s[i]
			if isSpace(c) {
				i++
				continue
			}
			hi, ok := unhex(c)
			if !ok {
				return "", invalidHexDigit(s[i:])
			}
			if i+1 >= len(s) {
				return "", pgerr.New(pgerr.InvalidParameterValue, "invalid hexadecimal data: odd number of digits")
			}
			lo, ok := unhex(s[i+1])
			if !ok {
				if isSpace(s[i+1]) {
					return "", pgerr.New(pgerr.InvalidParameterValue, "invalid hexadecimal data: odd number of digits")
				}
				return "", invalidHexDigit(s[i+1:])
			}
			out = append(out, hi<<4|lo)
			i += 2
		}
		return string(out), nil
	}
	if strings.IndexByte(s, '\\') < 0 {
		return s, nil
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		switch {
		case i+1 < len(s) && s[i+1] == '\\':
			out = append(out, '\\')
			i += 2
		case i+3 < len(s) && s[i+1] >= '0' && s[i+1] <= '3' && isOctal(s[i+2]) && isOctal(s[i+3]):
			out = append(out, (s[i+1]-'0')<<6|(s[i+2]-'0')<<3|(s[i+3]-'0'))
			i += 4
		default:
			return "", pgerr.New(pgerr.InvalidTextRepresentation, "invalid input syntax for type bytea")
		}
	}
	return string(out), nil
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

func invalidHexDigit(s string) error {
	r, _ := utf8.DecodeRuneInString(s)
	return pgerr.New(pgerr.InvalidParameterValue, "invalid hexadecimal digit: \"%c\"", r)
}

// applyCharTypmod enforces varchar(n)/char(n) (and name's 63-byte limit).
// Input and assignment reject a value longer than n unless the excess is all
// spaces; explicit casts truncate. char(n) is blank-padded to n.
func applyCharTypmod(s string, t Type, explicit bool) (string, error) {
	switch t.OID {
	case OidName:
		if len(s) > 63 {
			s = s[:63]
			for !utf8.ValidString(s) && len(s) > 0 {
				s = s[:len(s)-1]
			}
		}
		return s, nil
	case OidVarchar, OidBpchar:
	default:
		return s, nil
	}
	if t.Mod < 4 {
		return s, nil
	}
	n := int(t.Mod - 4)
	length := utf8.RuneCountInString(s)
	if length > n {
		cut := runeOffset(s, n)
		if !explicit && strings.Trim(s[cut:], " ") != "" {
			return "", pgerr.New(pgerr.StringDataRightTruncation, "value too long for type %s", t)
		}
		s = s[:cut]
		length = n
	}
	if t.OID == OidBpchar && length < n {
		s += strings.Repeat(" ", n-length)
	}
	return s, nil
}

// runeOffset is the byte offset of the n-th character of s.
func runeOffset(s string, n int) int {
	i := 0
	for off := range s {
		if i == n {
			return off
		}
		i++
	}
	return len(s)
}
