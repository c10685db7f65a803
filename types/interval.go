package types

import (
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/kappa-db/kappa/pgerr"
)

// appendIntervalText is interval_out with IntervalStyle postgres:
// '1 year 2 mons 3 days 04:05:06.5', '-1 days +02:03:04'.
func appendIntervalText(dst []byte, v Value) []byte {
	year := int64(v.Mon) / 12
	mon := int64(v.Mon) % 12
	day := int64(v.Day)
	isZero, isBefore := true, false
	part := func(val int64, unit string) {
		if val == 0 {
			return
		}
		if !isZero {
			dst = append(dst, ' ')
		}
		if isBefore && val > 0 {
			dst = append(dst, '+')
		}
		dst = strconv.AppendInt(dst, val, 10)
		dst = append(dst, ' ')
		dst = append(dst, unit...)
		if val != 1 {
			dst = append(dst, 's')
		}
		isBefore = val < 0
		isZero = false
	}
	part(year, "year")
	part(mon, "mon")
	part(day, "day")
	us := v.I
	if isZero || us != 0 {
		if !isZero {
			dst = append(dst, ' ')
		}
		var mag uint64
		if us < 0 {
			dst = append(dst, '-')
			mag = uint64(-(us + 1)) + 1 // -MinInt64 overflows int64
		} else {
			if isBefore {
				dst = append(dst, '+')
			}
			mag = uint64(us)
		}
		h := mag / USPerHour
		rem := mag % USPerHour
		if h < 10 {
			dst = append(dst, '0')
		}
		dst = strconv.AppendUint(dst, h, 10)
		dst = append(dst, ':')
		dst = appendPadded(dst, int64(rem/USPerMinute), 2)
		dst = append(dst, ':')
		dst = appendSeconds(dst, int64(rem%USPerMinute))
	}
	return dst
}

// intervalAcc accumulates an interval while parsing; fractional units spill
// into smaller fields the way PostgreSQL's DecodeInterval does.
type intervalAcc struct {
	imon, iday int64
	ius        int64
	overflow   bool
}

// addMicros adds x microseconds, noting overflow of the int64 field.
func (a *intervalAcc) addMicros(x float64) {
	x = math.RoundToEven(x)
	if x >= 9223372036854775807 || x < -9223372036854775808 {
		a.overflow = true
		return
	}
	a.addMicrosInt(int64(x))
}

func (a *intervalAcc) addMicrosInt(x int64) {
	sum := a.ius + x
	if (x > 0 && sum < a.ius) || (x < 0 && sum > a.ius) {
		a.overflow = true
		return
	}
	a.ius = sum
}

func (a *intervalAcc) addMonths(v float64) {
	whole := math.Trunc(v)
	a.imon += int64(whole)
	a.addDaysFrac((v - whole) * 30)
}

// addDaysFrac adds fractional days: the whole part to days, the rest to time.
func (a *intervalAcc) addDaysFrac(v float64) {
	whole := math.Trunc(v)
	a.iday += int64(whole)
	a.addMicros((v - whole) * USPerDay)
}

// Unit bits: each unit may appear once, as in PostgreSQL's DecodeInterval.
const (
	unitMillennium = 1 << iota
	unitCentury
	unitDecade
	unitYear
	unitMonth
	unitWeek
	unitDay
	unitHour
	unitMinute
	unitSecond
	unitMillisecond
	unitMicrosecond
)

// addUnit adds val units and returns the unit's bit, or 0 for an unknown
// unit.
func (a *intervalAcc) addUnit(val float64, unit string) int {
	bit := unitBit(unit)
	switch bit {
	case unitMillennium:
		a.imon += int64(math.Trunc(val)) * 12000
		a.imon += int64(math.RoundToEven((val - math.Trunc(val)) * 12000))
	case unitCentury:
		a.imon += int64(math.Trunc(val)) * 1200
		a.imon += int64(math.RoundToEven((val - math.Trunc(val)) * 1200))
	case unitDecade:
		a.imon += int64(math.Trunc(val)) * 120
		a.imon += int64(math.RoundToEven((val - math.Trunc(val)) * 120))
	case unitYear:
		a.imon += int64(math.Trunc(val)) * 12
		a.imon += int64(math.RoundToEven((val - math.Trunc(val)) * 12))
	case unitMonth:
		a.addMonths(val)
	case unitWeek:
		a.addDaysFrac(val * 7)
	case unitDay:
		a.addDaysFrac(val)
	case unitHour:
		a.addMicros(val * USPerHour)
	case unitMinute:
		a.addMicros(val * USPerMinute)
	case unitSecond:
		a.addMicros(val * USPerSecond)
	case unitMillisecond:
		a.addMicros(val * 1000)
	case unitMicrosecond:
		a.addMicros(val)
	}
	return bit
}

func unitBit(unit string) int {
	switch unit {
	case "millennium", "millenniums", "millennia", "mil", "mils":
		return unitMillennium
	case "century", "centuries", "cent", "c":
		return unitCentury
	case "decade", "decades", "dec", "decs":
		return unitDecade
	case "year", "years", "y", "yr", "yrs":
		return unitYear
	case "month", "months", "mon", "mons":
		return unitMonth
	case "week", "weeks", "w":
		return unitWeek
	case "day", "days", "d":
		return unitDay
	case "hour", "hours", "h", "hr", "hrs":
		return unitHour
	case "minute", "minutes", "m", "min", "mins":
		return unitMinute
	case "second", "seconds", "s", "sec", "secs":
		return unitSecond
	case "millisecond", "milliseconds", "ms", "msec", "msecs", "millisecon":
		return unitMillisecond
	case "microsecond", "microseconds", "us", "usec", "usecs":
		return unitMicrosecond
	}
	return 0
}

// errIntervalFieldOverflow is SQLSTATE interval_field_overflow.
const errIntervalFieldOverflow = "22015"

func errIntervalSyntax(s string) error {
	return pgerr.New(pgerr.InvalidDatetimeFormat, "invalid input syntax for type interval: \"%s\"", s)
}

func errIntervalRange(s string) error {
	return pgerr.New(errIntervalFieldOverflow, "interval field value out of range: \"%s\"", s)
}

// parseInterval is interval_in: PostgreSQL's verbose format ('1 year 2
// months', '@ 1 day ago', '-1 day +02:03:04'), bare times ('01:02:03'), bare
// numbers (seconds), SQL-standard year-month ('1-2') and ISO 8601 ('P1DT2H').
func parseInterval(s string) (Value, error) {
	t := strings.ToLower(trimSpace(s))
	if t == "" {
		return Null, errIntervalSyntax(s)
	}
	if t[0] == 'p' {
		return parseISOInterval(s, t[1:])
	}
	var acc intervalAcc
	toks, ok := splitInterval(t)
	if !ok || len(toks) == 0 {
		return Null, errIntervalSyntax(s)
	}
	ago := false
	seen := 0
	for i := 0; i < len(toks); i++ {
		tok := toks[i]
		switch {
		case tok == "@":
			if i != 0 {
				return Null, errIntervalSyntax(s)
			}
		case tok == "ago":
			if i != len(toks)-1 || ago {
				return Null, errIntervalSyntax(s)
			}
			ago = true
		case strings.Contains(tok, ":"):
			us, ok, overflow := parseIntervalTime(tok)
			if overflow {
				return Null, errIntervalRange(s)
			}
			if !ok || seen&(unitHour|unitMinute|unitSecond) != 0 {
				return Null, errIntervalSyntax(s)
			}
			seen |= unitHour | unitMinute | unitSecond
			acc.addMicrosInt(us)
		case isNumberStart(tok[0]):
			num, unit := splitNumberUnit(tok)
			if unit == "" && i+1 < len(toks) && isUnitWord(toks[i+1]) {
				unit = toks[i+1]
				i++
			}
			if unit == "" && strings.Count(num[1:], "-") == 1 && !strings.Contains(num, ".") {
				// SQL-standard year-month: '1-2'.
				neg := num[0] == '-'
				body := strings.TrimLeft(num, "+-")
				ys, ms, _ := strings.Cut(body, "-")
				y, err1 := strconv.ParseInt(ys, 10, 32)
				m, err2 := strconv.ParseInt(ms, 10, 32)
				if err1 != nil || err2 != nil || m > 11 {
					return Null, errIntervalRange(s)
				}
				total := y*12 + m
				if neg {
					total = -total
				}
				acc.imon += total
				continue
			}
			val, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return Null, errIntervalSyntax(s)
			}
			if math.Abs(val) > 1e18 {
				return Null, errIntervalRange(s)
			}
			if unit == "" {
				// A bare number is seconds, or days when a time follows.
				if i+1 < len(toks) && strings.Contains(toks[i+1], ":") {
					unit = "day"
				} else {
					unit = "second"
				}
			}
			if bit := unitBit(unit); bit == 0 || seen&bit != 0 {
				return Null, errIntervalSyntax(s)
			} else {
				seen |= bit
			}
			acc.addUnit(val, unit)
		default:
			return Null, errIntervalSyntax(s)
		}
	}
	return finishInterval(&acc, ago, s)
}

func finishInterval(acc *intervalAcc, neg bool, s string) (Value, error) {
	if acc.overflow || acc.imon > math.MaxInt32 || acc.imon < math.MinInt32 || acc.iday > math.MaxInt32 || acc.iday < math.MinInt32 {
		return Null, errIntervalRange(s)
	}
	v := NewInterval(int32(acc.imon), int32(acc.iday), acc.ius)
	if neg {
		v.Mon, v.Day, v.I = -v.Mon, -v.Day, -v.I
	}
	return v, nil
}

func isNumberStart(c byte) bool { return isDigit(c) || c == '-' || c == '+' || c == '.' }

func isUnitWord(s string) bool {
	return unitBit(s) != 0
}

// splitInterval splits on whitespace and between a number and a following
// unit or sign ('1day', '2 days+3 hours' is not accepted by PostgreSQL
// either).
func splitInterval(s string) ([]string, bool) {
	var toks []string
	i := 0
	for i < len(s) {
		c := s[i]
		if isSpace(c) || c == ',' {
			i++
			continue
		}
		start := i
		switch {
		case c == '@':
			i++
		case isNumberStart(c):
			i++
			for i < len(s) && (isDigit(s[i]) || s[i] == '.' || s[i] == ':' || s[i] == '-') {
				i++
			}
			// A unit glued to the number: '1day', '10min'.
			for i < len(s) && isAlpha(s[i]) {
				i++
			}
		case isAlpha(c):
			for i < len(s) && isAlpha(s[i]) {
				i++
			}
		default:
			return nil, false
		}
		toks = append(toks, s[start:i])
	}
	return toks, true
}

// splitNumberUnit separates '10min' into '10' and 'min'.
func splitNumberUnit(tok string) (string, string) {
	i := len(tok)
	for i > 0 && isAlpha(tok[i-1]) {
		i--
	}
	return tok[:i], tok[i:]
}

// parseIntervalTime reads [-]H:M[:S[.frac]] or M:S.frac as microseconds;
// overflow reports a value beyond the int64 microsecond field.
func parseIntervalTime(tok string) (us int64, ok, overflow bool) {
	neg := false
	if tok[0] == '-' || tok[0] == '+' {
		neg = tok[0] == '-'
		tok = tok[1:]
	}
	parts := strings.Split(tok, ":")
	var h, m, secUS int64
	var err error
	parseSec := func(p string) bool {
		whole, frac, _ := strings.Cut(p, ".")
		if whole == "" && frac == "" {
			return false
		}
		var sec int64
		if whole != "" {
			if sec, err = strconv.ParseInt(whole, 10, 64); err != nil || sec > 60 {
				return false
			}
		}
		fus, ok := fractionMicros(frac)
		secUS = sec*USPerSecond + fus
		return ok
	}
	switch {
	case len(parts) == 2 && strings.Contains(parts[1], "."): // MM:SS.frac
		if m, err = strconv.ParseInt(parts[0], 10, 64); err != nil || !parseSec(parts[1]) {
			return 0, false, false
		}
	case len(parts) == 2 || len(parts) == 3:
		if h, err = strconv.ParseInt(parts[0], 10, 64); err != nil {
			return 0, false, err != nil && errors.Is(err, strconv.ErrRange)
		}
		if m, err = strconv.ParseInt(parts[1], 10, 64); err != nil {
			return 0, false, false
		}
		if m > 59 {
			return 0, false, true
		}
		if len(parts) == 3 && !parseSec(parts[2]) {
			return 0, false, false
		}
	default:
		return 0, false, false
	}
	if m > 59 && h != 0 {
		return 0, false, false
	}
	rest := m*USPerMinute + secUS
	if h > (math.MaxInt64-rest)/USPerHour {
		return 0, false, true
	}
	us = h*USPerHour + rest
	if neg {
		us = -us
	}
	return us, true, false
}

// parseISOInterval reads the ISO 8601 "format with designators":
// P[nY][nM][nW][nD][T[nH][nM][nS]].
func parseISOInterval(orig, s string) (Value, error) {
	var acc intervalAcc
	inTime := false
	if s == "" {
		return Null, errIntervalSyntax(orig)
	}
	for len(s) > 0 {
		if s[0] == 't' {
			if inTime {
				return Null, errIntervalSyntax(orig)
			}
			inTime = true
			s = s[1:]
			continue
		}
		i := 0
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
		for i < len(s) && (isDigit(s[i]) || s[i] == '.') {
			i++
		}
		if i == 0 || i >= len(s) {
			return Null, errIntervalSyntax(orig)
		}
		val, err := strconv.ParseFloat(s[:i], 64)
		if err != nil {
			return Null, errIntervalSyntax(orig)
		}
		var unit string
		switch d := s[i]; {
		case d == 'y' && !inTime:
			unit = "year"
		case d == 'm' && !inTime:
			unit = "month"
		case d == 'w' && !inTime:
			unit = "week"
		case d == 'd' && !inTime:
			unit = "day"
		case d == 'h' && inTime:
			unit = "hour"
		case d == 'm' && inTime:
			unit = "minute"
		case d == 's' && inTime:
			unit = "second"
		default:
			return Null, errIntervalSyntax(orig)
		}
		acc.addUnit(val, unit)
		s = s[i+1:]
	}
	return finishInterval(&acc, false, orig)
}
