package expr

import (
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cockroachdb/apd/v3"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/types"
)

const usPerDay = types.USPerDay

var (
	errDateRange     = pgerr.New(pgerr.DatetimeFieldOverflow, "date out of range")
	errTSRange       = pgerr.New(pgerr.DatetimeFieldOverflow, "timestamp out of range")
	errIntervalRange = pgerr.New(pgerr.DatetimeFieldOverflow, "interval out of range")
)

// Valid ranges, as in package types: dates from 4714-11-24 BC, timestamps
// before 294277-01-01.
const (
	minDateDays = -2451545
	endDateDays = 2147483494 - 2451545
	minTSUS     = -211813488000000000
	endTSUS     = 9223371331200000000
)

func tsInfinite(us int64) bool {
	return us == types.TimestampInfinity || us == types.TimestampNegInfinity
}

func dateInfinite(d int64) bool { return d == types.DateInfinity || d == types.DateNegInfinity }

func checkTS(us int64) (int64, error) {
	if us < minTSUS || us >= endTSUS {
		return 0, errTSRange
	}
	return us, nil
}

func floorDiv64(a, b int64) (int64, int64) {
	q, r := a/b, a%b
	if r < 0 {
		q--
		r += b
	}
	return q, r
}

func isLeap(y int64) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysInMonth(y int64, m int) int {
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

// addMonths is the month step of timestamp + interval: move the calendar
// month, clamping the day to the month's end.
func addMonths(us int64, months int32) int64 {
	days, tod := floorDiv64(us, usPerDay)
	y, m, d := types.CivilFromDays(days)
	total := y*12 + int64(m-1) + int64(months)
	ny, nm := floorDiv64(total, 12)
	y, m = ny, int(nm)+1
	d = min(d, daysInMonth(y, m))
	return types.DaysFromCivil(y, m, d)*usPerDay + tod
}

// tsPlusInterval is timestamp_pl_interval: months (end-of-month clamped),
// then days, then microseconds.
func tsPlusInterval(us int64, iv types.Value) (int64, error) {
	if tsInfinite(us) {
		return us, nil
	}
	if iv.Mon != 0 {
		us = addMonths(us, iv.Mon)
		if _, err := checkTS(us); err != nil {
			return 0, err
		}
	}
	us += int64(iv.Day) * usPerDay
	if _, err := checkTS(us); err != nil {
		return 0, err
	}
	r := us + iv.I
	if (iv.I > 0 && r < us) || (iv.I < 0 && r > us) {
		return 0, errTSRange
	}
	return checkTS(r)
}

// tstzPlusInterval is timestamptz_pl_interval: the month and day steps
// happen on the wall clock of loc.
func tstzPlusInterval(us int64, iv types.Value, loc *time.Location) (int64, error) {
	if tsInfinite(us) {
		return us, nil
	}
	if iv.Mon != 0 {
		us = localToUTC(addMonths(utcToLocal(us, loc), iv.Mon), loc)
		if _, err := checkTS(us); err != nil {
			return 0, err
		}
	}
	if iv.Day != 0 {
		us = localToUTC(utcToLocal(us, loc)+int64(iv.Day)*usPerDay, loc)
		if _, err := checkTS(us); err != nil {
			return 0, err
		}
	}
	r := us + iv.I
	if (iv.I > 0 && r < us) || (iv.I < 0 && r > us) {
		return 0, errTSRange
	}
	return checkTS(r)
}

func negInterval(iv types.Value) (types.Value, error) {
	if iv.Mon == math.MinInt32 || iv.Day == math.MinInt32 || iv.I == math.MinInt64 {
		return types.Null, errIntervalRange
	}
	return types.NewInterval(-iv.Mon, -iv.Day, -iv.I), nil
}

func addInterval(a, b types.Value) (types.Value, error) {
	mon := int64(a.Mon) + int64(b.Mon)
	day := int64(a.Day) + int64(b.Day)
	us := a.I + b.I
	if mon != int64(int32(mon)) || day != int64(int32(day)) || (b.I > 0 && us < a.I) || (b.I < 0 && us > a.I) {
		return types.Null, errIntervalRange
	}
	return types.NewInterval(int32(mon), int32(day), us), nil
}

// justifyHours moves whole days out of the time part, keeping signs
// consistent (interval_justify_hours).
func justifyHours(iv types.Value) (types.Value, error) {
	whole := iv.I / usPerDay
	t := iv.I - whole*usPerDay
	day := int64(iv.Day) + whole
	if day > 0 && t < 0 {
		t += usPerDay
		day--
	} else if day < 0 && t > 0 {
		t -= usPerDay
		day++
	}
	if day != int64(int32(day)) {
		return types.Null, errIntervalRange
	}
	return types.NewInterval(iv.Mon, int32(day), t), nil
}

func justifyDays(iv types.Value) (types.Value, error) {
	whole := int64(iv.Day) / 30
	day := int64(iv.Day) - whole*30
	mon := int64(iv.Mon) + whole
	if mon > 0 && day < 0 {
		day += 30
		mon--
	} else if mon < 0 && day > 0 {
		day -= 30
		mon++
	}
	if mon != int64(int32(mon)) {
		return types.Null, errIntervalRange
	}
	return types.NewInterval(int32(mon), int32(day), iv.I), nil
}

func justifyInterval(iv types.Value) (types.Value, error) {
	whole := iv.I / usPerDay
	t := iv.I - whole*usPerDay
	day := int64(iv.Day) + whole
	wm := day / 30
	day -= wm * 30
	mon := int64(iv.Mon) + wm
	if mon > 0 && (day < 0 || (day == 0 && t < 0)) {
		day += 30
		mon--
	} else if mon < 0 && (day > 0 || (day == 0 && t > 0)) {
		day -= 30
		mon++
	}
	if day > 0 && t < 0 {
		t += usPerDay
		day--
	} else if day < 0 && t > 0 {
		t -= usPerDay
		day++
	}
	if mon != int64(int32(mon)) || day != int64(int32(day)) {
		return types.Null, errIntervalRange
	}
	return types.NewInterval(int32(mon), int32(day), t), nil
}

func tsround(x float64) float64 { return math.RoundToEven(x*1e6) / 1e6 }

func fitsInt32(f float64) bool {
	return !math.IsNaN(f) && f >= math.MinInt32 && f < -float64(math.MinInt32)
}
func fitsInt64(f float64) bool {
	return !math.IsNaN(f) && f >= math.MinInt64 && f < -float64(math.MinInt64)
}

// intervalMul is interval_mul: fractional months and days cascade down to
// days and seconds.
func intervalMul(iv types.Value, factor float64) (types.Value, error) {
	rm := float64(iv.Mon) * factor
	if !fitsInt32(rm) {
		return types.Null, errIntervalRange
	}
	rd := float64(iv.Day) * factor
	if !fitsInt32(rd) {
		return types.Null, errIntervalRange
	}
	mon, day := int32(rm), int32(rd)
	monthRemDays := tsround((float64(iv.Mon)*factor - float64(mon)) * 30)
	secRem := tsround((float64(iv.Day)*factor - float64(day) + monthRemDays - math.Trunc(monthRemDays)) * 86400)
	d := int64(day)
	if math.Abs(secRem) >= 86400 {
		d += int64(secRem / 86400)
		secRem -= math.Trunc(secRem/86400) * 86400
	}
	d += int64(monthRemDays)
	if d != int64(int32(d)) {
		return types.Null, errIntervalRange
	}
	t := math.RoundToEven(float64(iv.I)*factor + secRem*1e6)
	if !fitsInt64(t) {
		return types.Null, errIntervalRange
	}
	return types.NewInterval(mon, int32(d), int64(t)), nil
}

func intervalDiv(iv types.Value, factor float64) (types.Value, error) {
	if factor == 0 {
		return types.Null, errDivByZero
	}
	rm := float64(iv.Mon) / factor
	rd := float64(iv.Day) / factor
	if !fitsInt32(rm) || !fitsInt32(rd) {
		return types.Null, errIntervalRange
	}
	mon, day := int32(rm), int32(rd)
	monthRemDays := tsround((rm - float64(mon)) * 30)
	secRem := tsround((rd - float64(day) + monthRemDays - math.Trunc(monthRemDays)) * 86400)
	d := int64(day)
	if math.Abs(secRem) >= 86400 {
		d += int64(secRem / 86400)
		secRem -= math.Trunc(secRem/86400) * 86400
	}
	d += int64(monthRemDays)
	if d != int64(int32(d)) {
		return types.Null, errIntervalRange
	}
	t := math.RoundToEven(float64(iv.I)/factor + secRem*1e6)
	if !fitsInt64(t) {
		return types.Null, errIntervalRange
	}
	return types.NewInterval(mon, int32(d), int64(t)), nil
}

func dateVal(d int64) (types.Value, error) {
	if d < minDateDays || d >= endDateDays {
		return types.Null, errDateRange
	}
	return types.NewDate(d), nil
}

func tsVal(us int64, err error) (types.Value, error) {
	if err != nil {
		return types.Null, err
	}
	return types.NewTimestamp(us), nil
}

func tstzVal(us int64, err error) (types.Value, error) {
	if err != nil {
		return types.Null, err
	}
	return types.NewTimestampTZ(us), nil
}

func dateToTS(d int64) (int64, error) {
	if dateInfinite(d) {
		return dateToTimestampUS(d), nil
	}
	return checkTS(d * usPerDay)
}

func tsDiff(a, b int64) (types.Value, error) {
	if tsInfinite(a) || tsInfinite(b) {
		return types.Null, pgerr.New(pgerr.DatetimeFieldOverflow, "cannot subtract infinite timestamps")
	}
	d := a - b
	if (b < 0 && d < a) || (b > 0 && d > a) {
		return types.Null, errIntervalRange
	}
	return justifyHours(types.NewInterval(0, 0, d))
}

func timeVal(us int64) types.Value {
	_, r := floorDiv64(us, usPerDay)
	return types.NewTime(r)
}

// Calendar fields of a timestamp (on its own wall clock).
type tmFields struct {
	year            int64 // astronomical: 0 is 1 BC
	mon, mday       int
	hour, min, sec  int
	fsec            int64 // microseconds within the second
	days            int64 // days since 2000-01-01
	usInSecondOfDay int64
}

func splitTS(us int64) tmFields {
	days, tod := floorDiv64(us, usPerDay)
	y, m, d := types.CivilFromDays(days)
	return tmFields{
		year: y, mon: m, mday: d,
		hour: int(tod / types.USPerHour), min: int(tod / types.USPerMinute % 60),
		sec: int(tod / types.USPerSecond % 60), fsec: tod % types.USPerSecond,
		days: days, usInSecondOfDay: tod,
	}
}

func (f tmFields) join() int64 {
	return types.DaysFromCivil(f.year, f.mon, f.mday)*usPerDay +
		int64(f.hour)*types.USPerHour + int64(f.min)*types.USPerMinute + int64(f.sec)*types.USPerSecond + f.fsec
}

// Units of date_trunc / extract / date_part.
const (
	unitMicrosecond = iota + 1
	unitMillisecond
	unitSecond
	unitMinute
	unitHour
	unitDay
	unitWeek
	unitMonth
	unitQuarter
	unitYear
	unitDecade
	unitCentury
	unitMillennium
	unitDow
	unitIsodow
	unitDoy
	unitEpoch
	unitIsoyear
	unitJulian
	unitTimezone
	unitTimezoneHour
	unitTimezoneMinute
)

var unitNames = map[string]int{
	"microsecond": unitMicrosecond, "microseconds": unitMicrosecond, "us": unitMicrosecond, "usec": unitMicrosecond, "usecs": unitMicrosecond, "useconds": unitMicrosecond, "usecond": unitMicrosecond,
	"millisecond": unitMillisecond, "milliseconds": unitMillisecond, "ms": unitMillisecond, "msec": unitMillisecond, "msecs": unitMillisecond, "mseconds": unitMillisecond, "msecond": unitMillisecond,
	"second": unitSecond, "seconds": unitSecond, "s": unitSecond, "sec": unitSecond, "secs": unitSecond,
	"minute": unitMinute, "minutes": unitMinute, "m": unitMinute, "min": unitMinute, "mins": unitMinute,
	"hour": unitHour, "hours": unitHour, "h": unitHour, "hr": unitHour, "hrs": unitHour,
	"day": unitDay, "days": unitDay, "d": unitDay,
	"week": unitWeek, "weeks": unitWeek, "w": unitWeek,
	"month": unitMonth, "months": unitMonth, "mon": unitMonth, "mons": unitMonth,
	"quarter": unitQuarter, "qtr": unitQuarter,
	"year": unitYear, "years": unitYear, "y": unitYear, "yr": unitYear, "yrs": unitYear,
	"decade": unitDecade, "decades": unitDecade, "dec": unitDecade, "decs": unitDecade,
	"century": unitCentury, "centuries": unitCentury, "c": unitCentury, "cent": unitCentury,
	"millennium": unitMillennium, "millennia": unitMillennium, "mil": unitMillennium, "mils": unitMillennium, "millenniums": unitMillennium,
	"dow": unitDow, "isodow": unitIsodow, "doy": unitDoy, "epoch": unitEpoch, "isoyear": unitIsoyear,
	"julian": unitJulian, "j": unitJulian,
	"timezone": unitTimezone, "timezone_h": unitTimezoneHour, "timezone_hour": unitTimezoneHour,
	"timezone_m": unitTimezoneMinute, "timezone_minute": unitTimezoneMinute,
}

func parseUnit(s string, t types.Type) (int, error) {
	u, ok := unitNames[strings.ToLower(strings.TrimSpace(s))]
	if !ok {
		return 0, pgerr.New(pgerr.InvalidParameterValue, "unit \"%s\" not recognized for type %s", strings.ToLower(s), t)
	}
	return u, nil
}

func errUnitNotSupported(s string, t types.Type) *pgerr.Error {
	return pgerr.New(pgerr.FeatureNotSupported, "unit \"%s\" not supported for type %s", strings.ToLower(s), t)
}

// isoWeek returns the ISO 8601 week number and week-year of a date.
func isoWeek(days int64) (week int, year int64) {
	// Thursday of this date's week decides the ISO year.
	dow := isoDow(days) // 1..7
	thu := days - int64(dow) + 4
	y, _, _ := types.CivilFromDays(thu)
	jan1 := types.DaysFromCivil(y, 1, 1)
	return int((thu-jan1)/7) + 1, y
}

// isoDow is the ISO day of week, Monday 1 .. Sunday 7 (2000-01-01 was a
// Saturday).
func isoDow(days int64) int {
	_, r := floorDiv64(days+5, 7) // 0 = Monday
	return int(r) + 1
}

// truncTS truncates wall-clock microseconds to a unit (timestamp_trunc).
func truncTS(us int64, unit int, unitName string, t types.Type) (int64, error) {
	if tsInfinite(us) {
		return us, nil
	}
	f := splitTS(us)
	switch unit {
	case unitWeek:
		d := f.days - int64(isoDow(f.days)-1)
		return d * usPerDay, nil
	case unitMillennium:
		if f.year > 0 {
			f.year = ((f.year+999)/1000)*1000 - 999
		} else {
			f.year = -((999-(f.year-1))/1000)*1000 + 1
		}
		f.mon, f.mday = 1, 1
	case unitCentury:
		if f.year > 0 {
			f.year = ((f.year+99)/100)*100 - 99
		} else {
			f.year = -((99-(f.year-1))/100)*100 + 1
		}
		f.mon, f.mday = 1, 1
	case unitDecade:
		if f.year > 0 {
			f.year = (f.year / 10) * 10
		} else {
			f.year = -((8 - (f.year - 1)) / 10) * 10
		}
		f.mon, f.mday = 1, 1
	case unitYear:
		f.mon, f.mday = 1, 1
	case unitQuarter:
		f.mon, f.mday = 3*((f.mon-1)/3)+1, 1
	case unitMonth:
		f.mday = 1
	case unitDay, unitHour, unitMinute, unitSecond, unitMillisecond, unitMicrosecond:
	default:
		return 0, errUnitNotSupported(unitName, t)
	}
	switch unit {
	case unitMicrosecond:
		return us, nil
	case unitMillisecond:
		f.fsec = f.fsec / 1000 * 1000
	default:
		f.fsec = 0
		if unit != unitSecond {
			f.sec = 0
			if unit != unitMinute {
				f.min = 0
				if unit != unitHour {
					f.hour = 0
				}
			}
		}
	}
	return checkTS(f.join())
}

func truncInterval(iv types.Value, unit int, unitName string) (types.Value, error) {
	year := int64(iv.Mon) / 12
	mon := int64(iv.Mon) % 12
	day := int64(iv.Day)
	t := iv.I
	hour := t / types.USPerHour
	t -= hour * types.USPerHour
	minute := t / types.USPerMinute
	t -= minute * types.USPerMinute
	sec := t / types.USPerSecond
	fsec := t - sec*types.USPerSecond
	switch unit {
	case unitMillennium:
		year = year / 1000 * 1000
		fallthrough
	case unitCentury:
		year = year / 100 * 100
		fallthrough
	case unitDecade:
		year = year / 10 * 10
		fallthrough
	case unitYear:
		mon = 0
		fallthrough
	case unitQuarter:
		mon = 3 * (mon / 3)
		fallthrough
	case unitMonth:
		day = 0
		fallthrough
	case unitDay:
		hour = 0
		fallthrough
	case unitHour:
		minute = 0
		fallthrough
	case unitMinute:
		sec = 0
		fallthrough
	case unitSecond:
		fsec = 0
	case unitMillisecond:
		fsec = fsec / 1000 * 1000
	case unitMicrosecond:
	default:
		return types.Null, errUnitNotSupported(unitName, types.Interval)
	}
	return types.NewInterval(int32(year*12+mon), int32(day),
		((hour*60+minute)*60+sec)*types.USPerSecond+fsec), nil
}

// scaled is an exact decimal coeff × 10^-scale: extract's numeric results,
// which date_part turns into float8.
type scaled struct {
	coeff int64
	scale int32
	dec   *apd.Decimal // when not representable as coeff (julian)
}

func (s scaled) numeric() types.Value {
	if s.dec != nil {
		return types.NewNumeric(s.dec)
	}
	return types.NewNumeric(apd.New(s.coeff, -s.scale))
}

func (s scaled) float() types.Value {
	if s.dec != nil {
		f, _ := s.dec.Float64()
		return f8(f)
	}
	if s.scale == 0 {
		return f8(float64(s.coeff))
	}
	return f8(float64(s.coeff) / math.Pow10(int(s.scale)))
}

func whole(i int64) scaled { return scaled{coeff: i} }

// Julian day number of 2000-01-01.
const julian2000 = 2451545

// extractTS computes extract(unit from timestamp[tz]); f is on the wall
// clock, utcUS the absolute instant, tzOff the zone offset in seconds east.
func extractTS(unit int, unitName string, t types.Type, f tmFields, utcUS int64, tzOff int64) (scaled, error) {
	secUS := int64(f.sec)*types.USPerSecond + f.fsec
	year := f.year
	if year <= 0 {
		year-- // no year 0: 1 BC is -1
	}
	switch unit {
	case unitMicrosecond:
		return whole(secUS), nil
	case unitMillisecond:
		return scaled{coeff: secUS, scale: 3}.div1000(), nil
	case unitSecond:
		return scaled{coeff: secUS, scale: 6}, nil
	case unitMinute:
		return whole(int64(f.min)), nil
	case unitHour:
		return whole(int64(f.hour)), nil
	case unitDay:
		return whole(int64(f.mday)), nil
	case unitMonth:
		return whole(int64(f.mon)), nil
	case unitQuarter:
		return whole(int64((f.mon-1)/3 + 1)), nil
	case unitWeek:
		w, _ := isoWeek(f.days)
		return whole(int64(w)), nil
	case unitYear:
		return whole(year), nil
	case unitDecade:
		if f.year >= 0 {
			return whole(f.year / 10), nil
		}
		return whole(-((8 - (f.year - 1)) / 10)), nil
	case unitCentury:
		if f.year > 0 {
			return whole((f.year + 99) / 100), nil
		}
		return whole(-((99 - (f.year - 1)) / 100)), nil
	case unitMillennium:
		if f.year > 0 {
			return whole((f.year + 999) / 1000), nil
		}
		return whole(-((999 - (f.year - 1)) / 1000)), nil
	case unitDow:
		return whole(int64(isoDow(f.days) % 7)), nil
	case unitIsodow:
		return whole(int64(isoDow(f.days))), nil
	case unitDoy:
		return whole(f.days - types.DaysFromCivil(f.year, 1, 1) + 1), nil
	case unitIsoyear:
		_, y := isoWeek(f.days)
		if y <= 0 {
			y--
		}
		return whole(y), nil
	case unitEpoch:
		return scaled{coeff: utcUS + 946684800*types.USPerSecond, scale: 6}, nil
	case unitJulian:
		d := apd.New(f.days+julian2000, 0)
		if f.usInSecondOfDay != 0 {
			frac, err := decDiv(apd.New(f.usInSecondOfDay, 0), apd.New(usPerDay, 0))
			if err != nil {
				return scaled{}, err
			}
			if _, err := exactCtx.Add(d, d, frac); err != nil {
				return scaled{}, errNumOverflow
			}
		}
		return scaled{dec: d}, nil
	case unitTimezone, unitTimezoneHour, unitTimezoneMinute:
		if t.Kind != types.KindTimestampTZ {
			return scaled{}, errUnitNotSupported(unitName, t)
		}
		switch unit {
		case unitTimezone:
			return whole(tzOff), nil
		case unitTimezoneHour:
			return whole(tzOff / 3600), nil
		}
		return whole(tzOff / 60 % 60), nil
	}
	return scaled{}, errUnitNotSupported(unitName, t)
}

// div1000 turns µs into milliseconds with three decimals: the same digits.
func (s scaled) div1000() scaled { return s }

func extractDate(unit int, unitName string, d int64) (scaled, error) {
	switch unit {
	case unitDay, unitMonth, unitQuarter, unitWeek, unitYear, unitDecade, unitCentury, unitMillennium,
		unitDow, unitIsodow, unitDoy, unitIsoyear:
		return extractTS(unit, unitName, types.Date, splitTS(d*usPerDay), d*usPerDay, 0)
	case unitJulian:
		return whole(d + julian2000), nil
	case unitEpoch:
		return whole((d + 10957) * 86400), nil
	}
	return scaled{}, errUnitNotSupported(unitName, types.Date)
}

func extractTime(unit int, unitName string, us int64) (scaled, error) {
	f := splitTS(us)
	switch unit {
	case unitMicrosecond, unitMillisecond, unitSecond, unitMinute, unitHour:
		return extractTS(unit, unitName, types.Time, f, us, 0)
	case unitEpoch:
		return scaled{coeff: us, scale: 6}, nil
	}
	return scaled{}, errUnitNotSupported(unitName, types.Time)
}

func extractInterval(unit int, unitName string, iv types.Value) (scaled, error) {
	year := int64(iv.Mon) / 12
	mon := int64(iv.Mon) % 12
	t := iv.I
	hour := t / types.USPerHour
	t -= hour * types.USPerHour
	minute := t / types.USPerMinute
	t -= minute * types.USPerMinute
	switch unit {
	case unitMicrosecond:
		return whole(t), nil
	case unitMillisecond:
		return scaled{coeff: t, scale: 3}, nil
	case unitSecond:
		return scaled{coeff: t, scale: 6}, nil
	case unitMinute:
		return whole(minute), nil
	case unitHour:
		return whole(hour), nil
	case unitDay:
		return whole(int64(iv.Day)), nil
	case unitMonth:
		return whole(mon), nil
	case unitQuarter:
		return whole(mon/3 + 1), nil
	case unitYear:
		return whole(year), nil
	case unitDecade:
		return whole(year / 10), nil
	case unitCentury:
		return whole(year / 100), nil
	case unitMillennium:
		return whole(year / 1000), nil
	case unitEpoch:
		// PostgreSQL counts a year as 365.25 days, in quarter days.
		secs := (1461*year + 120*mon + 4*int64(iv.Day)) * (86400 / 4)
		return scaled{coeff: secs*types.USPerSecond + iv.I, scale: 6}, nil
	}
	return scaled{}, errUnitNotSupported(unitName, types.Interval)
}

// extractFn builds extract (numeric) or date_part (float8) for one source
// type.
func extractFn(t types.Type, numeric bool) eval2Fn {
	return func(ctx *EvalContext, u, v types.Value) (types.Value, error) {
		unit, err := parseUnit(u.S, t)
		if err != nil {
			return types.Null, err
		}
		var s scaled
		switch t.Kind {
		case types.KindTimestamp:
			if tsInfinite(v.I) {
				return infinitePart(unit, u.S, t, v.I > 0, numeric)
			}
			s, err = extractTS(unit, u.S, t, splitTS(v.I), v.I, 0)
		case types.KindTimestampTZ:
			if tsInfinite(v.I) {
				return infinitePart(unit, u.S, t, v.I > 0, numeric)
			}
			loc := ctx.loc()
			_, off := types.TimeFromTimestamp(v.I).In(loc).Zone()
			s, err = extractTS(unit, u.S, t, splitTS(v.I+int64(off)*types.USPerSecond), v.I, int64(off))
		case types.KindDate:
			if dateInfinite(v.I) {
				return infinitePart(unit, u.S, t, v.I > 0, numeric)
			}
			s, err = extractDate(unit, u.S, v.I)
		case types.KindTime:
			s, err = extractTime(unit, u.S, v.I)
		case types.KindInterval:
			s, err = extractInterval(unit, u.S, v)
		}
		if err != nil {
			return types.Null, err
		}
		if numeric {
			return s.numeric(), nil
		}
		return s.float(), nil
	}
}

// infinitePart is extract of ±infinity: ±Infinity for the units that grow
// without bound, NULL for the others.
func infinitePart(unit int, unitName string, t types.Type, pos bool, numeric bool) (types.Value, error) {
	switch unit {
	case unitYear, unitDecade, unitCentury, unitMillennium, unitJulian, unitIsoyear, unitEpoch:
		if numeric {
			d := newDec()
			d.Form, d.Negative = apd.Infinite, !pos
			return types.NewNumeric(d), nil
		}
		return f8(math.Inf(map[bool]int{true: 1, false: -1}[pos])), nil
	case unitTimezone, unitTimezoneHour, unitTimezoneMinute:
		if t.Kind != types.KindTimestampTZ {
			return types.Null, errUnitNotSupported(unitName, t)
		}
	}
	if t.Kind == types.KindDate {
		switch unit {
		case unitMicrosecond, unitMillisecond, unitSecond, unitMinute, unitHour:
			return types.Null, errUnitNotSupported(unitName, t)
		}
	}
	return types.Null, nil
}

// Time zones named in AT TIME ZONE / timezone(): IANA names, cached.
var zoneCache sync.Map // lower-case name → *time.Location

func lookupZone(name string) (*time.Location, error) {
	key := strings.ToLower(name)
	if l, ok := zoneCache.Load(key); ok {
		return l.(*time.Location), nil
	}
	loc, err := parseZone(name)
	if err != nil {
		return nil, err
	}
	zoneCache.Store(key, loc)
	return loc, nil
}

func parseZone(name string) (*time.Location, error) {
	if name == "" || strings.EqualFold(name, "local") {
		// LoadLocation would read these as UTC and the server's zone.
		return nil, pgerr.New(pgerr.InvalidParameterValue, "time zone \"%s\" not recognized", name)
	}
	switch strings.ToLower(name) {
	case "utc", "gmt", "z", "zulu", "etc/utc", "universal":
		return time.UTC, nil
	}
	// A numeric offset is POSIX-style: positive is west of Greenwich. So is
	// an abbreviation followed by one (UTC+3 is three hours west).
	if off, ok := parseOffset(name); ok {
		return time.FixedZone(name, -off), nil
	}
	if i := strings.IndexAny(name, "+-0123456789"); i >= 3 && isLetters(name[:i]) {
		if off, ok := parseOffset(name[i:]); ok {
			return time.FixedZone(name, -off), nil
		}
	}
	// PostgreSQL matches zone names case-insensitively; the zone database
	// is case-sensitive, so try the usual capitalisations.
	for _, n := range []string{name, capitalizeZone(name), strings.ToUpper(name)} {
		if loc, err := time.LoadLocation(n); err == nil {
			return loc, nil
		}
	}
	return nil, pgerr.New(pgerr.InvalidParameterValue, "time zone \"%s\" not recognized", name)
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// capitalizeZone turns "america/new_york" into "America/New_York".
func capitalizeZone(s string) string {
	b := []byte(strings.ToLower(s))
	up := true
	for i, c := range b {
		if up && c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
		up = c == '/' || c == '_' || c == '-'
	}
	return string(b)
}

// parseOffset reads [+-]hh[:mm[:ss]] as seconds.
func parseOffset(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	sign := 1
	switch s[0] {
	case '+':
		s = s[1:]
	case '-':
		sign, s = -1, s[1:]
	}
	parts := strings.Split(s, ":")
	if len(parts) > 3 || parts[0] == "" {
		return 0, false
	}
	mult := []int{3600, 60, 1}
	total := 0
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return 0, false
		}
		total += n * mult[i]
	}
	return sign * total, true
}

func makeDate(y, m, d int64) (int64, error) {
	bad := func() error {
		return pgerr.New(pgerr.DatetimeFieldOverflow, "date field value out of range: %d-%02d-%02d", y, m, d)
	}
	if y == 0 || m < 1 || m > 12 || d < 1 {
		return 0, bad()
	}
	ay := y
	if y < 0 {
		ay = y + 1
	}
	if d > int64(daysInMonth(ay, int(m))) {
		return 0, bad()
	}
	days := types.DaysFromCivil(ay, int(m), int(d))
	if days < minDateDays || days >= endDateDays {
		return 0, pgerr.New(pgerr.DatetimeFieldOverflow, "date out of range: %d-%02d-%02d", y, m, d)
	}
	return days, nil
}

func makeTimestamp(args []types.Value) (int64, error) {
	days, err := makeDate(args[0].I, args[1].I, args[2].I)
	if err != nil {
		return 0, err
	}
	h, mi, sec := args[3].I, args[4].I, args[5].F
	if h < 0 || h > 24 || mi < 0 || mi > 59 || sec < 0 || sec > 60 || math.IsNaN(sec) ||
		(h == 24 && (mi != 0 || sec != 0)) {
		return 0, pgerr.New(pgerr.DatetimeFieldOverflow, "time field value out of range: %d:%02d:%s", h, mi,
			strconv.FormatFloat(sec, 'f', -1, 64)).WithPosition(0)
	}
	us := int64(math.RoundToEven(sec * 1e6))
	return checkTS(days*usPerDay + h*types.USPerHour + mi*types.USPerMinute + us)
}

func dateBin(stride types.Value, src, origin int64) (int64, error) {
	if tsInfinite(src) {
		return src, nil
	}
	if tsInfinite(origin) {
		return 0, pgerr.New(pgerr.DatetimeFieldOverflow, "origin out of range")
	}
	if stride.Mon != 0 {
		return 0, pgerr.New(pgerr.FeatureNotSupported, "timestamps cannot be binned into intervals containing months or years")
	}
	strideUS, ok := mulInt64(int64(stride.Day), usPerDay)
	if ok {
		s := strideUS + stride.I
		ok = !((stride.I > 0 && s < strideUS) || (stride.I < 0 && s > strideUS))
		strideUS = s
	}
	if !ok {
		return 0, errIntervalRange
	}
	if strideUS <= 0 {
		return 0, pgerr.New(pgerr.DatetimeFieldOverflow, "stride must be greater than zero")
	}
	diff := src - origin
	if (origin < 0 && diff < src) || (origin > 0 && diff > src) {
		return 0, errIntervalRange
	}
	mod := diff % strideUS
	r := origin + (diff - mod)
	if mod < 0 {
		r -= strideUS
	}
	return checkTS(r)
}

func toTimestamp(_ *EvalContext, a types.Value) (types.Value, error) {
	s := a.F
	switch {
	case math.IsNaN(s):
		return types.Null, pgerr.New(pgerr.DatetimeFieldOverflow, "timestamp cannot be NaN")
	case math.IsInf(s, 1):
		return types.NewTimestampTZ(types.TimestampInfinity), nil
	case math.IsInf(s, -1):
		return types.NewTimestampTZ(types.TimestampNegInfinity), nil
	}
	const unixEpochDays = 10957
	if s < float64(86400)*float64(minDateDays+unixEpochDays) || s >= float64(86400)*float64(int64(endTSUS/usPerDay)+unixEpochDays) {
		return types.Null, pgerr.New(pgerr.DatetimeFieldOverflow, "timestamp out of range: \"%s\"", strconv.FormatFloat(s, 'g', -1, 64))
	}
	s -= unixEpochDays * 86400
	return types.NewTimestampTZ(int64(math.RoundToEven(s * 1e6))), nil
}

// age is PostgreSQL's symbolic difference of two wall-clock timestamps:
// field by field, borrowing from the month lengths of the later operand.
func age(a, b int64) (types.Value, error) {
	if tsInfinite(a) || tsInfinite(b) {
		return types.Null, pgerr.New(pgerr.DatetimeFieldOverflow, "cannot subtract infinite timestamps")
	}
	f1, f2 := splitTS(a), splitTS(b)
	fsec := f1.fsec - f2.fsec
	sec := int64(f1.sec - f2.sec)
	mi := int64(f1.min - f2.min)
	hour := int64(f1.hour - f2.hour)
	mday := int64(f1.mday - f2.mday)
	mon := int64(f1.mon - f2.mon)
	year := f1.year - f2.year
	neg := a < b
	if neg {
		fsec, sec, mi, hour, mday, mon, year = -fsec, -sec, -mi, -hour, -mday, -mon, -year
	}
	for fsec < 0 {
		fsec += types.USPerSecond
		sec--
	}
	for sec < 0 {
		sec += 60
		mi--
	}
	for mi < 0 {
		mi += 60
		hour--
	}
	for hour < 0 {
		hour += 24
		mday--
	}
	for mday < 0 {
		if neg {
			mday += int64(daysInMonth(f1.year, f1.mon))
		} else {
			mday += int64(daysInMonth(f2.year, f2.mon))
		}
		mon--
	}
	for mon < 0 {
		mon += 12
		year--
	}
	if neg {
		fsec, sec, mi, hour, mday, mon, year = -fsec, -sec, -mi, -hour, -mday, -mon, -year
	}
	months := year*12 + mon
	if months != int64(int32(months)) {
		return types.Null, errIntervalRange
	}
	return types.NewInterval(int32(months), int32(mday), ((hour*60+mi)*60+sec)*types.USPerSecond+fsec), nil
}

// localNow is the statement time on the session's wall clock.
func localNow(ctx *EvalContext) int64 { return utcToLocal(ctx.Now, ctx.loc()) }

func registerDatetime() {
	d, ts, tz, iv, tm := types.Date, types.Timestamp, types.TimestampTZ, types.Interval, types.Time
	i4, f, t := types.Int4, types.Float8, types.Text

	addBinary("+", d, i4, d, func(_ *EvalContext, a, b types.Value) (types.Value, error) {
		if dateInfinite(a.I) {
			return a, nil
		}
		return dateVal(a.I + b.I)
	})
	addBinary("+", i4, d, d, func(_ *EvalContext, a, b types.Value) (types.Value, error) {
		if dateInfinite(b.I) {
			return b, nil
		}
		return dateVal(a.I + b.I)
	})
	addBinary("-", d, i4, d, func(_ *EvalContext, a, b types.Value) (types.Value, error) {
		if dateInfinite(a.I) {
			return a, nil
		}
		return dateVal(a.I - b.I)
	})
	addBinary("-", d, d, i4, func(_ *EvalContext, a, b types.Value) (types.Value, error) {
		if dateInfinite(a.I) || dateInfinite(b.I) {
			return types.Null, pgerr.New(pgerr.DatetimeFieldOverflow, "cannot subtract infinite dates")
		}
		return int4Val(a.I - b.I), nil
	})
	addBinary("+", d, iv, ts, func(_ *EvalContext, a, b types.Value) (types.Value, error) {
		us, err := dateToTS(a.I)
		if err != nil {
			return types.Null, err
		}
		return tsVal(tsPlusInterval(us, b))
	})
	addBinary("+", iv, d, ts, func(_ *EvalContext, a, b types.Value) (types.Value, error) {
		us, err := dateToTS(b.I)
		if err != nil {
			return types.Null, err
		}
		return tsVal(tsPlusInterval(us, a))
	})
	addBinary("-", d, iv, ts, func(_ *EvalContext, a, b types.Value) (types.Value, error) {
		us, err := dateToTS(a.I)
		if err != nil {
			return types.Null, err
		}
		n, err := negInterval(b)
		if err != nil {
			return types.Null, err
		}
		return tsVal(tsPlusInterval(us, n))
	})
	addBinary("+", d, tm, ts, func(_ *EvalContext, a, b types.Value) (types.Value, error) {
		us, err := dateToTS(a.I)
		if err != nil || tsInfinite(us) {
			return tsVal(us, err)
		}
		return tsVal(checkTS(us + b.I))
	})
	addBinary("+", tm, d, ts, func(_ *EvalContext, a, b types.Value) (types.Value, error) {
		us, err := dateToTS(b.I)
		if err != nil || tsInfinite(us) {
			return tsVal(us, err)
		}
		return tsVal(checkTS(us + a.I))
	})
	addBinary("+", ts, iv, ts, func(_ *EvalContext, a, b types.Value) (types.Value, error) {
		return tsVal(tsPlusInterval(a.I, b))
	})
	addBinary("+", iv, ts, ts, func(_ *EvalContext, a, b types.Value) (types.Value, error) {
		return tsVal(tsPlusInterval(b.I, a))
	})
	addBinary("-", ts, iv, ts, func(_ *EvalContext, a, b types.Value) (types.Value, error) {
		n, err := negInterval(b)
		if err != nil {
			return types.Null, err
		}
		return tsVal(tsPlusInterval(a.I, n))
	})
	addBinary("+", tz, iv, tz, func(ctx *EvalContext, a, b types.Value) (types.Value, error) {
		return tstzVal(tstzPlusInterval(a.I, b, ctx.loc()))
	})
	addBinary("+", iv, tz, tz, func(ctx *EvalContext, a, b types.Value) (types.Value, error) {
		return tstzVal(tstzPlusInterval(b.I, a, ctx.loc()))
	})
	addBinary("-", tz, iv, tz, func(ctx *EvalContext, a, b types.Value) (types.Value, error) {
		n, err := negInterval(b)
		if err != nil {
			return types.Null, err
		}
		return tstzVal(tstzPlusInterval(a.I, n, ctx.loc()))
	})
	addBinary("-", ts, ts, iv, func(_ *EvalContext, a, b types.Value) (types.Value, error) { return tsDiff(a.I, b.I) })
	addBinary("-", tz, tz, iv, func(_ *EvalContext, a, b types.Value) (types.Value, error) { return tsDiff(a.I, b.I) })
	addBinary("+", iv, iv, iv, func(_ *EvalContext, a, b types.Value) (types.Value, error) { return addInterval(a, b) })
	addBinary("-", iv, iv, iv, func(_ *EvalContext, a, b types.Value) (types.Value, error) {
		n, err := negInterval(b)
		if err != nil {
			return types.Null, err
		}
		return addInterval(a, n)
	})
	addUnary("-", iv, iv, func(_ *EvalContext, a types.Value) (types.Value, error) { return negInterval(a) })
	addUnary("+", iv, iv, identity)
	addBinary("*", iv, f, iv, func(_ *EvalContext, a, b types.Value) (types.Value, error) { return intervalMul(a, b.F) })
	addBinary("*", f, iv, iv, func(_ *EvalContext, a, b types.Value) (types.Value, error) { return intervalMul(b, a.F) })
	addBinary("/", iv, f, iv, func(_ *EvalContext, a, b types.Value) (types.Value, error) { return intervalDiv(a, b.F) })
	addBinary("+", tm, iv, tm, func(_ *EvalContext, a, b types.Value) (types.Value, error) { return timeVal(a.I + b.I%usPerDay), nil })
	addBinary("+", iv, tm, tm, func(_ *EvalContext, a, b types.Value) (types.Value, error) { return timeVal(b.I + a.I%usPerDay), nil })
	addBinary("-", tm, iv, tm, func(_ *EvalContext, a, b types.Value) (types.Value, error) { return timeVal(a.I - b.I%usPerDay), nil })
	addBinary("-", tm, tm, iv, func(_ *EvalContext, a, b types.Value) (types.Value, error) {
		return types.NewInterval(0, 0, a.I-b.I), nil
	})

	// The statement clock. These are stable in PostgreSQL; they are marked
	// volatile here so that plans (and materialized views) never freeze them.
	stmtNow := func(ctx *EvalContext) (types.Value, error) { return types.NewTimestampTZ(ctx.Now), nil }
	for _, n := range []string{"now", "current_timestamp", "transaction_timestamp", "statement_timestamp"} {
		addFunc0(n, tz, stmtNow).Volatile = true
	}
	// proctime() is Flink's processing time: in a materialized view over
	// an append-only input, the time of the epoch that processes the row
	// (the planner refuses it elsewhere in views); ad hoc, now().
	addFunc0("proctime", tz, stmtNow).Volatile = true
	addFunc0("clock_timestamp", tz, func(*EvalContext) (types.Value, error) {
		return types.NewTimestampTZ(types.TimestampFromTime(time.Now())), nil
	}).Volatile = true
	addFunc0("current_date", d, func(ctx *EvalContext) (types.Value, error) {
		days, _ := floorDiv64(localNow(ctx), usPerDay)
		return types.NewDate(days), nil
	}).Volatile = true
	addFunc0("localtimestamp", ts, func(ctx *EvalContext) (types.Value, error) {
		return types.NewTimestamp(localNow(ctx)), nil
	}).Volatile = true
	addFunc0("localtime", tm, func(ctx *EvalContext) (types.Value, error) {
		return timeVal(localNow(ctx)), nil
	}).Volatile = true

	addFunc2("date_trunc", t, ts, ts, func(_ *EvalContext, u, v types.Value) (types.Value, error) {
		unit, err := parseUnit(u.S, ts)
		if err != nil {
			return types.Null, err
		}
		return tsVal(truncTS(v.I, unit, u.S, ts))
	})
	addFunc2("date_trunc", t, tz, tz, func(ctx *EvalContext, u, v types.Value) (types.Value, error) {
		unit, err := parseUnit(u.S, tz)
		if err != nil {
			return types.Null, err
		}
		if tsInfinite(v.I) {
			return v, nil
		}
		loc := ctx.loc()
		local := utcToLocal(v.I, loc)
		r, err := truncTS(local, unit, u.S, tz)
		if err != nil {
			return types.Null, err
		}
		if unit <= unitHour {
			// Below a day the zone offset is kept, not redetermined.
			return tstzVal(checkTS(r - (local - v.I)))
		}
		return tstzVal(checkTS(localToUTC(r, loc)))
	})
	addFunc2("date_trunc", t, iv, iv, func(_ *EvalContext, u, v types.Value) (types.Value, error) {
		unit, err := parseUnit(u.S, iv)
		if err != nil {
			return types.Null, err
		}
		return truncInterval(v, unit, u.S)
	})
	for _, src := range []types.Type{ts, tz, d, tm, iv} {
		addFunc2("extract", t, src, types.Numeric, extractFn(src, true))
		addFunc2("date_part", t, src, f, extractFn(src, false))
	}
	addFunc("make_date", []types.Type{i4, i4, i4}, d, func(_ *EvalContext, args []types.Value) (types.Value, error) {
		days, err := makeDate(args[0].I, args[1].I, args[2].I)
		if err != nil {
			return types.Null, err
		}
		return types.NewDate(days), nil
	})
	addFunc("make_timestamp", []types.Type{i4, i4, i4, i4, i4, f}, ts, func(_ *EvalContext, args []types.Value) (types.Value, error) {
		return tsVal(makeTimestamp(args))
	})
	addFunc("make_timestamptz", []types.Type{i4, i4, i4, i4, i4, f}, tz, func(ctx *EvalContext, args []types.Value) (types.Value, error) {
		us, err := makeTimestamp(args)
		if err != nil {
			return types.Null, err
		}
		return tstzVal(checkTS(localToUTC(us, ctx.loc())))
	})
	addFunc("date_bin", []types.Type{iv, ts, ts}, ts, func(_ *EvalContext, args []types.Value) (types.Value, error) {
		return tsVal(dateBin(args[0], args[1].I, args[2].I))
	})
	addFunc("date_bin", []types.Type{iv, tz, tz}, tz, func(_ *EvalContext, args []types.Value) (types.Value, error) {
		return tstzVal(dateBin(args[0], args[1].I, args[2].I))
	})
	addFunc1("to_timestamp", f, tz, toTimestamp)
	addFunc1("justify_days", iv, iv, func(_ *EvalContext, a types.Value) (types.Value, error) { return justifyDays(a) })
	addFunc1("justify_hours", iv, iv, func(_ *EvalContext, a types.Value) (types.Value, error) { return justifyHours(a) })
	addFunc1("justify_interval", iv, iv, func(_ *EvalContext, a types.Value) (types.Value, error) { return justifyInterval(a) })
	addFunc2("timezone", t, ts, tz, func(_ *EvalContext, z, v types.Value) (types.Value, error) {
		loc, err := lookupZone(z.S)
		if err != nil {
			return types.Null, err
		}
		return tstzVal(checkTS(localToUTC(v.I, loc)))
	})
	addFunc2("timezone", t, tz, ts, func(_ *EvalContext, z, v types.Value) (types.Value, error) {
		loc, err := lookupZone(z.S)
		if err != nil {
			return types.Null, err
		}
		return tsVal(checkTS(utcToLocal(v.I, loc)))
	})
	addFunc2("age", ts, ts, iv, func(_ *EvalContext, a, b types.Value) (types.Value, error) { return age(a.I, b.I) })
	addFunc2("age", tz, tz, iv, func(ctx *EvalContext, a, b types.Value) (types.Value, error) {
		loc := ctx.loc()
		return age(utcToLocal(a.I, loc), utcToLocal(b.I, loc))
	})
	addFunc1("age", ts, iv, func(ctx *EvalContext, a types.Value) (types.Value, error) {
		days, _ := floorDiv64(localNow(ctx), usPerDay)
		return age(days*usPerDay, a.I)
	}).Volatile = true
	addFunc1("age", tz, iv, func(ctx *EvalContext, a types.Value) (types.Value, error) {
		days, _ := floorDiv64(localNow(ctx), usPerDay)
		return age(days*usPerDay, utcToLocal(a.I, ctx.loc()))
	}).Volatile = true
	addFunc1("isfinite", d, types.Bool, func(_ *EvalContext, a types.Value) (types.Value, error) { return boolVal(!dateInfinite(a.I)), nil })
	addFunc1("isfinite", ts, types.Bool, func(_ *EvalContext, a types.Value) (types.Value, error) { return boolVal(!tsInfinite(a.I)), nil })
	addFunc1("isfinite", tz, types.Bool, func(_ *EvalContext, a types.Value) (types.Value, error) { return boolVal(!tsInfinite(a.I)), nil })
	addFunc1("isfinite", iv, types.Bool, func(_ *EvalContext, a types.Value) (types.Value, error) { return valTrue, nil })
}
