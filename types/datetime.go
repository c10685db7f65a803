package types

import (
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kappa-db/kappa/pgerr"
)

// Date and time representation follows PostgreSQL: dates are days and
// timestamps microseconds since 2000-01-01, on the proleptic Gregorian
// calendar; the extreme int values stand for ±infinity.
const (
	USPerSecond = 1000000
	USPerMinute = 60 * USPerSecond
	USPerHour   = 60 * USPerMinute
	USPerDay    = 24 * USPerHour

	// unixToPG is 2000-01-01 in Unix seconds.
	unixToPG = 946684800

	// DateNegInfinity and DateInfinity are PostgreSQL's DATEVAL_NOBEGIN/NOEND.
	DateNegInfinity = math.MinInt32
	DateInfinity    = math.MaxInt32
	// TimestampNegInfinity and TimestampInfinity are DT_NOBEGIN/DT_NOEND.
	TimestampNegInfinity = math.MinInt64
	TimestampInfinity    = math.MaxInt64

	// Valid ranges (PostgreSQL's DATETIME_MIN_JULIAN .. DATE_END_JULIAN and
	// MIN_TIMESTAMP .. END_TIMESTAMP): 4714-11-24 BC up to 5874898-01-01 for
	// dates and 294277-01-01 for timestamps, exclusive.
	minDate      = -2451545
	endDate      = 2147483494 - 2451545
	minTimestamp = -211813488000000000
	endTimestamp = 9223371331200000000
)

// TimestampFromTime returns t as microseconds since 2000-01-01 UTC.
func TimestampFromTime(t time.Time) int64 {
	return (t.Unix()-unixToPG)*USPerSecond + int64(t.Nanosecond()/1000)
}

// TimeFromTimestamp returns the UTC time of a timestamp in microseconds since
// 2000-01-01.
func TimeFromTimestamp(us int64) time.Time {
	sec, rem := floorDiv(us, USPerSecond)
	return time.Unix(sec+unixToPG, rem*1000).UTC()
}

// DateFromTime returns the date of t (in t's location) as days since
// 2000-01-01.
func DateFromTime(t time.Time) int64 {
	y, m, d := t.Date()
	return DaysFromCivil(int64(y), int(m), d)
}

// floorDiv returns the floored quotient and the non-negative remainder.
func floorDiv(a, b int64) (int64, int64) {
	q, r := a/b, a%b
	if r < 0 {
		q--
		r += b
	}
	return q, r
}

// DaysFromCivil returns days since 2000-01-01 of a proleptic Gregorian date
// (astronomical year numbering: 0 is 1 BC).
func DaysFromCivil(y int64, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era, _ := floorDiv(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := int64((153*mp+2)/5 + d - 1)
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468 - 10957
}

// CivilFromDays is the inverse of DaysFromCivil.
func CivilFromDays(days int64) (y int64, m, d int) {
	z := days + 10957 + 719468
	era, _ := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	m = int(mp + 3)
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

func isLeap(y int64) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y int64, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func appendPadded(dst []byte, n int64, width int) []byte {
	var buf [20]byte
	s := strconv.AppendInt(buf[:0], n, 10)
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// appendYMD appends YYYY-MM-DD and reports whether the year is BC.
func appendYMD(dst []byte, days int64) ([]byte, bool) {
	y, m, d := CivilFromDays(days)
	bc := y <= 0
	if bc {
		y = 1 - y
	}
	dst = appendPadded(dst, y, 4)
	dst = append(dst, '-')
	dst = appendPadded(dst, int64(m), 2)
	dst = append(dst, '-')
	return appendPadded(dst, int64(d), 2), bc
}

func appendDateText(dst []byte, days int64) []byte {
	switch days {
	case DateNegInfinity:
		return append(dst, "-infinity"...)
	case DateInfinity:
		return append(dst, "infinity"...)
	}
	dst, bc := appendYMD(dst, days)
	if bc {
		dst = append(dst, " BC"...)
	}
	return dst
}

// appendTimeOfDay appends HH:MM:SS[.ffffff] with trailing zeros trimmed.
func appendTimeOfDay(dst []byte, us int64) []byte {
	h := us / USPerHour
	us -= h * USPerHour
	m := us / USPerMinute
	us -= m * USPerMinute
	dst = appendPadded(dst, h, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, m, 2)
	dst = append(dst, ':')
	return appendSeconds(dst, us)
}

// appendSeconds appends SS[.ffffff] of a non-negative microsecond count
// below one minute.
func appendSeconds(dst []byte, us int64) []byte {
	dst = appendPadded(dst, us/USPerSecond, 2)
	frac := us % USPerSecond
	if frac == 0 {
		return dst
	}
	var buf [6]byte
	for i := 5; i >= 0; i-- {
		buf[i] = byte('0' + frac%10)
		frac /= 10
	}
	n := 6
	for n > 0 && buf[n-1] == '0' {
		n--
	}
	dst = append(dst, '.')
	return append(dst, buf[:n]...)
}

func appendTimestampText(dst []byte, us int64, tz bool, loc *time.Location) []byte {
	switch us {
	case TimestampNegInfinity:
		return append(dst, "-infinity"...)
	case TimestampInfinity:
		return append(dst, "infinity"...)
	}
	off := 0
	if tz {
		off = zoneOffset(us, loc)
		us += int64(off) * USPerSecond
	}
	days, tod := floorDiv(us, USPerDay)
	dst, bc := appendYMD(dst, days)
	dst = append(dst, ' ')
	dst = appendTimeOfDay(dst, tod)
	if tz {
		dst = appendZoneOffset(dst, off)
	}
	if bc {
		dst = append(dst, " BC"...)
	}
	return dst
}

// zoneOffset returns loc's UTC offset in seconds at the instant us.
func zoneOffset(us int64, loc *time.Location) int {
	if loc == nil || loc == time.UTC {
		return 0
	}
	sec, _ := floorDiv(us, USPerSecond)
	_, off := time.Unix(sec+unixToPG, 0).In(loc).Zone()
	return off
}

// appendZoneOffset appends +HH, +HH:MM or +HH:MM:SS as PostgreSQL prints it.
func appendZoneOffset(dst []byte, off int) []byte {
	if off < 0 {
		dst = append(dst, '-')
		off = -off
	} else {
		dst = append(dst, '+')
	}
	dst = appendPadded(dst, int64(off/3600), 2)
	if rem := off % 3600; rem != 0 {
		dst = append(dst, ':')
		dst = appendPadded(dst, int64(rem/60), 2)
		if rem%60 != 0 {
			dst = append(dst, ':')
			dst = appendPadded(dst, int64(rem%60), 2)
		}
	}
	return dst
}

// Typmod rounding of time and timestamp precision (timestamp(p)): half away
// from zero, as AdjustTimestampForTypmod does.
var precisionScale = [...]int64{1000000, 100000, 10000, 1000, 100, 10, 1}

func roundMicros(us int64, mod int32) int64 {
	if mod < 0 || mod >= 6 {
		return us
	}
	sc := precisionScale[mod]
	if us >= 0 {
		return (us + sc/2) / sc * sc
	}
	return -((-us + sc/2) / sc * sc)
}

func roundTimestampTypmod(us int64, mod int32) int64 {
	if us == TimestampNegInfinity || us == TimestampInfinity {
		return us
	}
	return roundMicros(us, mod)
}

func roundTimeTypmod(us int64, mod int32) int64 { return roundMicros(us, mod) }

// dtField is one field of a date/time string, as PostgreSQL's ParseDateTime
// splits it.
type dtField struct {
	kind dtKind
	s    string // lower-cased for words
	orig string
}

type dtKind uint8

const (
	dtNumber dtKind = iota // digits, maybe with a fraction
	dtDate                 // 2024-01-02, 01/02/2024, 2024.01.02, jan-02-2024
	dtTime                 // 03:04:05.5
	dtZone                 // +02, -05:30, +0530
	dtWord                 // month, BC, zone name, special word
)

// splitDateTime splits s into fields, or returns false when it contains a
// character no date/time can contain.
func splitDateTime(s string) ([]dtField, bool) {
	var fields []dtField
	i := 0
	for i < len(s) {
		c := s[i]
		start := i
		switch {
		case isSpace(c) || c == ',':
			i++
			continue
		case isDigit(c):
			for i < len(s) && isDigit(s[i]) {
				i++
			}
			switch {
			case i < len(s) && s[i] == ':':
				for i < len(s) && (isDigit(s[i]) || s[i] == ':' || s[i] == '.') {
					i++
				}
				fields = append(fields, dtField{kind: dtTime, s: s[start:i]})
			case i < len(s) && (s[i] == '-' || s[i] == '/' || s[i] == '.'):
				delim := s[i]
				j := i + 1
				for j < len(s) && isDigit(s[j]) {
					j++
				}
				if delim == '.' && (j >= len(s) || s[j] != '.') {
					// A number with a fraction, not a dotted date.
					fields = append(fields, dtField{kind: dtNumber, s: s[start:j]})
					i = j
					continue
				}
				i = consumeDateParts(s, i, delim)
				fields = append(fields, dtField{kind: dtDate, s: strings.ToLower(s[start:i])})
			default:
				fields = append(fields, dtField{kind: dtNumber, s: s[start:i]})
			}
		case c == '+' || c == '-':
			i++
			if i < len(s) && isDigit(s[i]) {
				for i < len(s) && (isDigit(s[i]) || s[i] == ':') {
					i++
				}
				fields = append(fields, dtField{kind: dtZone, s: s[start:i]})
			} else if i < len(s) && isAlpha(s[i]) {
				for i < len(s) && (isAlpha(s[i]) || s[i] == '/' || s[i] == '_') {
					i++
				}
				fields = append(fields, dtField{kind: dtWord, s: strings.ToLower(s[start:i]), orig: s[start:i]})
			} else {
				return nil, false
			}
		case isAlpha(c):
			for i < len(s) && (isAlpha(s[i]) || s[i] == '/' || s[i] == '_') {
				i++
			}
			// "jan-02-2024" and "2-jan-2024" style dates.
			if i < len(s) && (s[i] == '-' || s[i] == '/') && i+1 < len(s) && isDigit(s[i+1]) && monthNumber(strings.ToLower(s[start:i])) > 0 {
				i = consumeDateParts(s, i, s[i])
				fields = append(fields, dtField{kind: dtDate, s: strings.ToLower(s[start:i])})
				continue
			}
			// A zone name may carry an offset (Etc/GMT+2 is not supported).
			fields = append(fields, dtField{kind: dtWord, s: strings.ToLower(s[start:i]), orig: s[start:i]})
		case c == '.' && i+1 < len(s) && isDigit(s[i+1]):
			i++
			for i < len(s) && isDigit(s[i]) {
				i++
			}
			fields = append(fields, dtField{kind: dtNumber, s: s[start:i]})
		default:
			return nil, false
		}
	}
	return fields, true
}

// consumeDateParts consumes delimiter-separated parts, each all digits or
// all letters, starting at the delimiter s[i]; it returns the end offset.
func consumeDateParts(s string, i int, delim byte) int {
	for i < len(s) && s[i] == delim {
		j := i + 1
		switch {
		case j < len(s) && isDigit(s[j]):
			for j < len(s) && isDigit(s[j]) {
				j++
			}
		case j < len(s) && isAlpha(s[j]):
			for j < len(s) && isAlpha(s[j]) {
				j++
			}
		default:
			return i
		}
		i = j
	}
	return i
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

var monthNames = [...]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
var monthFull = [...]string{"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"}
var dayNames = [...]string{"sun", "mon", "tue", "tues", "wed", "wednes", "thu", "thur", "thurs", "fri", "sat", "sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

func monthNumber(w string) int {
	for i, n := range monthNames {
		if w == n || w == monthFull[i] || (i == 8 && w == "sept") {
			return i + 1
		}
	}
	return 0
}

func isDayName(w string) bool {
	for _, n := range dayNames {
		if w == n {
			return true
		}
	}
	return false
}

// zoneAbbrevs are the common abbreviations of PostgreSQL's Default set.
var zoneAbbrevs = map[string]int{
	"utc": 0, "gmt": 0, "z": 0, "zulu": 0, "ut": 0,
	"est": -5 * 3600, "edt": -4 * 3600, "cst": -6 * 3600, "cdt": -5 * 3600,
	"mst": -7 * 3600, "mdt": -6 * 3600, "pst": -8 * 3600, "pdt": -7 * 3600,
	"akst": -9 * 3600, "akdt": -8 * 3600, "hst": -10 * 3600,
	"cet": 3600, "cest": 2 * 3600, "met": 3600, "mest": 2 * 3600,
	"eet": 2 * 3600, "eest": 3 * 3600, "wet": 0, "west": 3600,
	"bst": 3600, "msk": 3 * 3600, "jst": 9 * 3600, "kst": 9 * 3600,
	"aest": 10 * 3600, "aedt": 11 * 3600, "nzst": 12 * 3600, "nzdt": 13 * 3600,
}

// dateTime is the result of decoding a date/time string.
type dateTime struct {
	year           int64 // astronomical after BC adjustment
	month, day     int
	hasDate        bool
	hour, min, sec int
	us             int64 // fraction of the second
	hasTime        bool
	zoneOff        int // seconds east of UTC
	zoneLoc        *time.Location
	hasZone        bool
	special        string // "epoch", "infinity", "-infinity", "now", "today", ...
	badZone        string // the unknown zone name, for dtBadZone
}

// dtError distinguishes bad syntax (22007) from an out-of-range field (22008).
type dtError uint8

const (
	dtOK dtError = iota
	dtBadFormat
	dtFieldOverflow
	dtZoneOverflow // a numeric zone offset beyond ±15:59:59
	dtBadZone      // a zone name that is not in the time zone database
)

// decodeDateTime interprets the fields of a date, time or timestamp.
func decodeDateTime(s string) (dateTime, dtError) {
	var dt dateTime
	fields, ok := splitDateTime(s)
	if !ok || len(fields) == 0 {
		return dt, dtBadFormat
	}
	bc, pm, am := false, false, false
	yearSet, monthSet, daySet := false, false, false
	var pendingNumbers []string
	for _, f := range fields {
		switch f.kind {
		case dtDate:
			if dt.hasDate {
				return dt, dtBadFormat
			}
			if e := decodeDateField(&dt, f.s); e != dtOK {
				return dt, e
			}
			yearSet, monthSet, daySet = true, true, true
		case dtTime:
			if dt.hasTime {
				return dt, dtBadFormat
			}
			if e := decodeTimeField(&dt, f.s); e != dtOK {
				return dt, e
			}
		case dtZone:
			if dt.hasZone {
				return dt, dtBadFormat
			}
			off, e := parseZoneOffset(f.s)
			if e != dtOK {
				return dt, e
			}
			dt.zoneOff, dt.hasZone = off, true
		case dtNumber:
			pendingNumbers = append(pendingNumbers, f.s)
		case dtWord:
			w := f.s
			switch {
			case w == "bc":
				bc = true
			case w == "ad":
			case w == "am":
				am = true
			case w == "pm":
				pm = true
			case w == "t":
				// ISO 8601 date/time separator.
			case w == "epoch" || w == "infinity" || w == "-infinity" || w == "+infinity" ||
				w == "now" || w == "today" || w == "tomorrow" || w == "yesterday" || w == "allballs":
				if dt.special != "" {
					return dt, dtBadFormat
				}
				dt.special = strings.TrimPrefix(w, "+")
			case monthNumber(w) > 0:
				if monthSet {
					return dt, dtBadFormat
				}
				dt.month, monthSet = monthNumber(w), true
			case isDayName(w):
			default:
				if dt.hasZone {
					return dt, dtBadFormat
				}
				if off, ok := zoneAbbrevs[w]; ok {
					dt.zoneOff, dt.hasZone = off, true
					break
				}
				loc, err := loadLocation(f.orig)
				if err != nil {
					if strings.Contains(w, "/") {
						dt.badZone = w
						return dt, dtBadZone
					}
					return dt, dtBadFormat
				}
				dt.zoneLoc, dt.hasZone = loc, true
			}
		}
	}
	// Loose numbers: an 8-digit YYYYMMDD, a 6-digit HHMMSS after a date, or
	// the day and year around a month name.
	if !dt.hasDate && !monthSet && len(pendingNumbers) >= 3 && len(pendingNumbers[0]) >= 3 &&
		!strings.Contains(pendingNumbers[0]+pendingNumbers[1]+pendingNumbers[2], ".") {
		// "2023 01 02": year, month, day as separate fields.
		y, err := strconv.ParseInt(pendingNumbers[0], 10, 64)
		if err != nil || y > math.MaxInt32 {
			return dt, dtFieldOverflow
		}
		m, _ := strconv.Atoi(pendingNumbers[1])
		d, _ := strconv.Atoi(pendingNumbers[2])
		dt.year, dt.month, dt.day, dt.hasDate = y, m, d, true
		yearSet, monthSet, daySet = true, true, true
		pendingNumbers = pendingNumbers[3:]
	}
	for _, n := range pendingNumbers {
		switch {
		case !dt.hasDate && !monthSet && len(n) == 8 && !strings.Contains(n, "."):
			y, _ := strconv.ParseInt(n[:4], 10, 64)
			m, _ := strconv.Atoi(n[4:6])
			d, _ := strconv.Atoi(n[6:])
			dt.year, dt.month, dt.day, dt.hasDate = y, m, d, true
			yearSet, monthSet, daySet = true, true, true
		case dt.hasDate && !dt.hasTime && (len(n) == 6 || len(n) == 4) && !strings.Contains(n, "."):
			h, _ := strconv.Atoi(n[:2])
			m, _ := strconv.Atoi(n[2:4])
			sec := 0
			if len(n) == 6 {
				sec, _ = strconv.Atoi(n[4:])
			}
			dt.hour, dt.min, dt.sec, dt.hasTime = h, m, sec, true
		case monthSet && !daySet && len(n) <= 2 && !strings.Contains(n, "."):
			dt.day, _ = strconv.Atoi(n)
			daySet = true
		case monthSet && !yearSet && !strings.Contains(n, "."):
			y, err := strconv.ParseInt(n, 10, 64)
			if err != nil || y > math.MaxInt32 {
				return dt, dtFieldOverflow
			}
			if len(n) <= 2 {
				y = adjustTwoDigitYear(y)
			}
			dt.year = y
			yearSet = true
		default:
			return dt, dtBadFormat
		}
	}
	if monthSet && !dt.hasDate {
		if !daySet || !yearSet {
			return dt, dtBadFormat
		}
		dt.hasDate = true
	}
	if dt.special != "" {
		if dt.hasDate || dt.hasTime {
			if dt.special != "today" && dt.special != "tomorrow" && dt.special != "yesterday" || dt.hasDate {
				return dt, dtBadFormat
			}
		}
		return dt, dtOK
	}
	if bc {
		if !dt.hasDate || dt.year <= 0 {
			return dt, dtFieldOverflow
		}
		dt.year = 1 - dt.year
	} else if dt.hasDate && dt.year == 0 {
		return dt, dtFieldOverflow
	}
	if am || pm {
		if !dt.hasTime || dt.hour > 12 || dt.hour < 0 {
			return dt, dtFieldOverflow
		}
		if pm && dt.hour < 12 {
			dt.hour += 12
		} else if am && dt.hour == 12 {
			dt.hour = 0
		}
	}
	if dt.hasDate {
		if dt.month < 1 || dt.month > 12 || dt.day < 1 || dt.day > daysIn(dt.year, dt.month) {
			return dt, dtFieldOverflow
		}
	}
	return dt, dtOK
}

// loadLocation resolves an IANA zone name; PostgreSQL matches names case
// insensitively, so a lower-cased UTC spelling is tried too.
func loadLocation(name string) (*time.Location, error) {
	if strings.EqualFold(name, "utc") {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err == nil {
		return loc, nil
	}
	if canon, ok := zoneNamesFolded()[strings.ToLower(name)]; ok {
		return time.LoadLocation(canon)
	}
	return nil, err
}

var (
	zoneNamesOnce sync.Once
	zoneNames     map[string]string
)

// zoneNamesFolded maps lower-cased IANA zone names to their spelling, read
// once from the system zoneinfo directory (names in the embedded tzdata of
// a binary without one resolve only in their exact case).
func zoneNamesFolded() map[string]string {
	zoneNamesOnce.Do(func() {
		zoneNames = map[string]string{}
		for _, dir := range []string{os.Getenv("ZONEINFO"), "/usr/share/zoneinfo", "/usr/share/lib/zoneinfo", "/usr/lib/locale/TZ"} {
			if dir == "" {
				continue
			}
			_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return nil
				}
				rel, err := filepath.Rel(dir, path)
				if err != nil || !isAlpha(rel[0]) {
					return nil
				}
				if _, dup := zoneNames[strings.ToLower(rel)]; !dup {
					zoneNames[strings.ToLower(rel)] = rel
				}
				return nil
			})
			if len(zoneNames) > 0 {
				return
			}
		}
	})
	return zoneNames
}

func adjustTwoDigitYear(y int64) int64 {
	if y < 70 {
		return y + 2000
	}
	return y + 1900
}

// decodeDateField reads Y-M-D, M/D/Y (DateStyle MDY), Y.M.D or a date with a
// month name.
func decodeDateField(dt *dateTime, s string) dtError {
	var delim byte
	for i := 0; i < len(s); i++ {
		if s[i] == '-' || s[i] == '/' || s[i] == '.' {
			delim = s[i]
			break
		}
	}
	parts := strings.Split(s, string(delim))
	if len(parts) != 3 {
		return dtBadFormat
	}
	for _, p := range parts {
		if p == "" {
			return dtBadFormat
		}
	}
	num := func(p string) (int64, bool) {
		n, err := strconv.ParseInt(p, 10, 64)
		return n, err == nil && n <= math.MaxInt32
	}
	var y int64
	var m, d int
	var yStr string
	switch {
	case monthNumber(parts[0]) > 0: // jan-02-2024
		m = monthNumber(parts[0])
		dd, ok1 := num(parts[1])
		yy, ok2 := num(parts[2])
		if !ok1 || !ok2 {
			return dtBadFormat
		}
		d, y, yStr = int(dd), yy, parts[2]
	case monthNumber(parts[1]) > 0: // 02-jan-2024 or 2024-jan-02
		m = monthNumber(parts[1])
		a, ok1 := num(parts[0])
		b, ok2 := num(parts[2])
		if !ok1 || !ok2 {
			return dtBadFormat
		}
		if len(parts[0]) > 2 {
			y, d, yStr = a, int(b), parts[0]
		} else {
			d, y, yStr = int(a), b, parts[2]
		}
	default:
		a, ok1 := num(parts[0])
		b, ok2 := num(parts[1])
		c, ok3 := num(parts[2])
		if !ok1 || !ok2 || !ok3 {
			return dtBadFormat
		}
		if len(parts[0]) > 2 {
			y, m, d, yStr = a, int(b), int(c), parts[0]
		} else {
			m, d, y, yStr = int(a), int(b), c, parts[2]
		}
	}
	if len(yStr) <= 2 {
		y = adjustTwoDigitYear(y)
	}
	dt.year, dt.month, dt.day, dt.hasDate = y, m, d, true
	return dtOK
}

// decodeTimeField reads H:M[:S[.frac]]. PostgreSQL rounds the fraction to
// microseconds.
func decodeTimeField(dt *dateTime, s string) dtError {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return dtBadFormat
	}
	h, err1 := strconv.Atoi(parts[0])
	if err1 != nil || strings.Contains(parts[0], ".") || parts[1] == "" {
		return dtBadFormat
	}
	var m int
	var sec int
	var us int64
	secPart := ""
	if len(parts) == 2 {
		// H:M, or M:S.frac when the second part has a fraction.
		if i := strings.IndexByte(parts[1], '.'); i >= 0 {
			return dtBadFormat
		}
	} else {
		secPart = parts[2]
	}
	mm, err := strconv.Atoi(parts[1])
	if err != nil {
		return dtBadFormat
	}
	m = mm
	if secPart != "" {
		whole, frac, _ := strings.Cut(secPart, ".")
		if whole == "" {
			return dtBadFormat
		}
		sec, err = strconv.Atoi(whole)
		if err != nil {
			return dtBadFormat
		}
		if frac != "" {
			var ok bool
			us, ok = fractionMicros(frac)
			if !ok {
				return dtBadFormat
			}
		}
	} else if len(parts) == 3 {
		return dtBadFormat
	}
	if h < 0 || m < 0 || m > 59 || sec < 0 || sec > 60 {
		return dtFieldOverflow
	}
	dt.hour, dt.min, dt.sec, dt.us, dt.hasTime = h, m, sec, us, true
	return dtOK
}

// fractionMicros converts the digits after a decimal point to microseconds,
// rounding half to even on the seventh digit as rint does.
func fractionMicros(frac string) (int64, bool) {
	var us int64
	for i := 0; i < len(frac); i++ {
		if !isDigit(frac[i]) {
			return 0, false
		}
	}
	for i := 0; i < 6; i++ {
		us *= 10
		if i < len(frac) {
			us += int64(frac[i] - '0')
		}
	}
	if len(frac) > 6 {
		rest := frac[6:]
		switch {
		case rest[0] > '5':
			us++
		case rest[0] == '5':
			if strings.TrimRight(rest[1:], "0") != "" || us%2 == 1 {
				us++
			}
		}
	}
	return us, true
}

// parseZoneOffset reads +HH, +HH:MM, +HH:MM:SS, +HHMM or +HHMMSS.
func parseZoneOffset(s string) (int, dtError) {
	sign := 1
	if s[0] == '-' {
		sign = -1
	}
	s = s[1:]
	var h, m, sec int
	var err error
	if strings.Contains(s, ":") {
		parts := strings.Split(s, ":")
		if len(parts) > 3 {
			return 0, dtBadFormat
		}
		vals := [3]int{}
		for i, p := range parts {
			if p == "" || len(p) > 2 && i > 0 {
				return 0, dtBadFormat
			}
			if vals[i], err = strconv.Atoi(p); err != nil {
				return 0, dtBadFormat
			}
		}
		h, m, sec = vals[0], vals[1], vals[2]
	} else {
		switch len(s) {
		case 1, 2:
			h, _ = strconv.Atoi(s)
		case 3, 4:
			h, _ = strconv.Atoi(s[:len(s)-2])
			m, _ = strconv.Atoi(s[len(s)-2:])
		case 5, 6:
			h, _ = strconv.Atoi(s[:len(s)-4])
			m, _ = strconv.Atoi(s[len(s)-4 : len(s)-2])
			sec, _ = strconv.Atoi(s[len(s)-2:])
		default:
			return 0, dtBadFormat
		}
	}
	if m > 59 || sec > 59 {
		return 0, dtFieldOverflow
	}
	if h > 15 {
		return 0, dtZoneOverflow
	}
	return sign * (h*3600 + m*60 + sec), dtOK
}

// dtDecodeErr reports a decodeDateTime failure.
func dtDecodeErr(dt dateTime, e dtError, typ, s string) error {
	if e == dtBadZone {
		return pgerr.New(pgerr.InvalidParameterValue, "time zone \"%s\" not recognized", dt.badZone)
	}
	return dtErr(e, typ, s)
}

func dtErr(e dtError, typ, s string) error {
	switch e {
	case dtFieldOverflow:
		return pgerr.New(pgerr.DatetimeFieldOverflow, "date/time field value out of range: \"%s\"", s)
	case dtZoneOverflow:
		return pgerr.New("22009", "time zone displacement out of range: \"%s\"", s)
	}
	return pgerr.New(pgerr.InvalidDatetimeFormat, "invalid input syntax for type %s: \"%s\"", typ, s)
}

// now is the clock used for 'now', 'today' and friends; tests replace it.
var now = time.Now

func parseDate(s string, loc *time.Location) (int64, error) {
	dt, e := decodeDateTime(s)
	if e != dtOK {
		return 0, dtDecodeErr(dt, e, "date", s)
	}
	switch dt.special {
	case "epoch":
		return DaysFromCivil(1970, 1, 1), nil
	case "infinity":
		return DateInfinity, nil
	case "-infinity":
		return DateNegInfinity, nil
	case "now", "today":
		return DateFromTime(now().In(loc)), nil
	case "tomorrow":
		return DateFromTime(now().In(loc)) + 1, nil
	case "yesterday":
		return DateFromTime(now().In(loc)) - 1, nil
	case "allballs":
		return 0, dtErr(dtBadFormat, "date", s)
	}
	if !dt.hasDate {
		return 0, dtErr(dtBadFormat, "date", s)
	}
	days := DaysFromCivil(dt.year, dt.month, dt.day)
	if days < minDate || days >= endDate {
		return 0, pgerr.New(pgerr.DatetimeFieldOverflow, "date out of range: \"%s\"", s)
	}
	return days, nil
}

func parseTimeOfDay(s string) (int64, error) {
	dt, e := decodeDateTime(s)
	if e != dtOK {
		return 0, dtDecodeErr(dt, e, "time", s)
	}
	switch dt.special {
	case "allballs":
		return 0, nil
	case "now":
		t := now().UTC()
		return int64(t.Hour())*USPerHour + int64(t.Minute())*USPerMinute + int64(t.Second())*USPerSecond + int64(t.Nanosecond()/1000), nil
	case "":
	default:
		return 0, dtErr(dtBadFormat, "time", s)
	}
	if !dt.hasTime {
		return 0, dtErr(dtBadFormat, "time", s)
	}
	us := int64(dt.hour)*USPerHour + int64(dt.min)*USPerMinute + int64(dt.sec)*USPerSecond + dt.us
	if dt.hour > 24 || us > USPerDay {
		return 0, dtErr(dtFieldOverflow, "time", s)
	}
	return us, nil
}

// parseTimestamp reads a timestamp; for timestamptz the zone in the string
// (or loc) converts local time to UTC, for timestamp any zone is ignored as
// PostgreSQL does.
func parseTimestamp(s string, tz bool, loc *time.Location) (int64, error) {
	typ := "timestamp"
	if tz {
		typ = "timestamp with time zone"
	}
	dt, e := decodeDateTime(s)
	if e != dtOK {
		return 0, dtDecodeErr(dt, e, typ, s)
	}
	var days int64
	switch dt.special {
	case "epoch":
		return -unixToPG * USPerSecond, nil
	case "infinity":
		return TimestampInfinity, nil
	case "-infinity":
		return TimestampNegInfinity, nil
	case "now":
		t := now()
		if !tz {
			t = t.In(loc)
			days = DateFromTime(t)
			return days*USPerDay + int64(t.Hour())*USPerHour + int64(t.Minute())*USPerMinute + int64(t.Second())*USPerSecond + int64(t.Nanosecond()/1000), nil
		}
		return TimestampFromTime(t), nil
	case "today", "tomorrow", "yesterday":
		days = DateFromTime(now().In(loc))
		switch dt.special {
		case "tomorrow":
			days++
		case "yesterday":
			days--
		}
		dt.year, dt.month, dt.day = CivilFromDays(days)
		dt.hasDate = true
	case "":
	default:
		return 0, dtErr(dtBadFormat, typ, s)
	}
	if !dt.hasDate {
		return 0, dtErr(dtBadFormat, typ, s)
	}
	if dt.hour > 24 || (dt.hour == 24 && (dt.min != 0 || dt.sec != 0 || dt.us != 0)) {
		return 0, dtErr(dtFieldOverflow, typ, s)
	}
	days = DaysFromCivil(dt.year, dt.month, dt.day)
	local := days*USPerDay + int64(dt.hour)*USPerHour + int64(dt.min)*USPerMinute + int64(dt.sec)*USPerSecond + dt.us
	us := local
	if tz {
		switch {
		case dt.zoneLoc != nil:
			us = localToUTC(local, dt.zoneLoc)
		case dt.hasZone:
			us = local - int64(dt.zoneOff)*USPerSecond
		default:
			us = localToUTC(local, loc)
		}
	}
	if days < minDate-1 || days > endDate || us < minTimestamp || us >= endTimestamp {
		return 0, pgerr.New(pgerr.DatetimeFieldOverflow, "timestamp out of range: \"%s\"", s)
	}
	return us, nil
}

// localToUTC converts a wall-clock time in loc to UTC. A wall time that a
// DST transition skips or repeats resolves as PostgreSQL's
// DetermineTimeZoneOffset does: to the later of the two candidate instants
// (standard time in both the spring-forward gap and the fall-back overlap).
func localToUTC(local int64, loc *time.Location) int64 {
	if loc == time.UTC {
		return local
	}
	sec, _ := floorDiv(local, USPerSecond)
	offsetAt := func(unixSec int64) int64 {
		_, off := time.Unix(unixSec, 0).In(loc).Zone()
		return int64(off)
	}
	wall := sec + unixToPG
	// Offsets a day either side bracket any single transition.
	before, after := offsetAt(wall-86400), offsetAt(wall+86400)
	u1, u2 := wall-before, wall-after
	ok1, ok2 := offsetAt(u1) == before, offsetAt(u2) == after
	switch {
	case before == after:
		// No transition nearby (or two that cancel): trust the direct guess.
		off := offsetAt(wall - before)
		if offsetAt(wall-off) == off {
			return local - off*USPerSecond
		}
		return local - before*USPerSecond
	case ok1 && !ok2:
		return local - before*USPerSecond
	case ok2 && !ok1:
		return local - after*USPerSecond
	}
	return local - min(before, after)*USPerSecond
}
