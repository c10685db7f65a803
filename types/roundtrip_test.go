package types

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/apd/v3"
)

func num(s string) Value {
	d, _, err := apd.NewFromString(s)
	if err != nil {
		panic(err)
	}
	return NewNumeric(d)
}

type typedValue struct {
	t Type
	v Value
}

// edgeValues has the awkward values of every kind.
func edgeValues() []typedValue {
	var out []typedValue
	add := func(t Type, vs ...Value) {
		for _, v := range vs {
			out = append(out, typedValue{t, v})
		}
	}
	add(Bool, NewBool(false), NewBool(true))
	add(Int2, NewInt2(math.MinInt16), NewInt2(-1), NewInt2(0), NewInt2(math.MaxInt16))
	add(Int4, NewInt4(math.MinInt32), NewInt4(0), NewInt4(42), NewInt4(math.MaxInt32))
	add(Int8, NewInt8(math.MinInt64), NewInt8(-1), NewInt8(0), NewInt8(math.MaxInt64))
	add(Oid, NewOid(0), NewOid(math.MaxUint32))
	add(Float4, NewFloat4(0), NewFloat4(math.Copysign(0, -1)), NewFloat4(math.NaN()), NewFloat4(math.Inf(1)),
		NewFloat4(math.Inf(-1)), NewFloat4(math.MaxFloat32), NewFloat4(math.SmallestNonzeroFloat32), NewFloat4(0.1), NewFloat4(-3.5e-7))
	add(Float8, NewFloat8(0), NewFloat8(math.Copysign(0, -1)), NewFloat8(math.NaN()), NewFloat8(math.Inf(1)),
		NewFloat8(math.Inf(-1)), NewFloat8(math.MaxFloat64), NewFloat8(math.SmallestNonzeroFloat64), NewFloat8(0.1),
		NewFloat8(-1e300), NewFloat8(123456789012345678), NewFloat8(1e-5))
	add(Numeric, num("0"), num("0.00"), num("1.50"), num("-1.50"), num("NaN"), num("Infinity"), num("-Infinity"),
		num("123456789012345678901234567890.123456789012345678901234567890"), num("-0.000000000000000000000000001"),
		num("1e100"), num("99999999999999999999"), num("10000"), num("0.0001"), num("12345.6789"))
	add(Text, NewText(""), NewText("a"), NewText("a\x00b"), NewText("\x00"), NewText("héllo, \"world\"\n"), NewText("NULL"))
	add(Varchar, NewText("x y"))
	add(Bytea, NewBytea(nil), NewBytea([]byte{0, 1, 0xff}), NewBytea([]byte("\\x")))
	add(Date, NewDate(0), NewDate(-1), NewDate(DaysFromCivil(2024, 2, 29)), NewDate(DaysFromCivil(-43, 3, 15)),
		NewDate(DateInfinity), NewDate(DateNegInfinity), NewDate(minDate), NewDate(endDate-1))
	add(Time, NewTime(0), NewTime(USPerDay), NewTime(USPerDay-1), NewTime(12*USPerHour+1))
	add(Timestamp, NewTimestamp(0), NewTimestamp(-1), NewTimestamp(TimestampInfinity), NewTimestamp(TimestampNegInfinity),
		NewTimestamp(minTimestamp), NewTimestamp(endTimestamp-1), NewTimestamp(DaysFromCivil(2024, 2, 29)*USPerDay+123456))
	add(TimestampTZ, NewTimestampTZ(0), NewTimestampTZ(-123456789), NewTimestampTZ(TimestampInfinity), NewTimestampTZ(minTimestamp))
	add(Interval, NewInterval(0, 0, 0), NewInterval(14, 3, 4*USPerHour+5*USPerMinute+6500000), NewInterval(-14, -3, -1),
		NewInterval(0, -1, 2*USPerHour), NewInterval(1, 0, 0), NewInterval(0, 30, 0), NewInterval(math.MaxInt32, math.MaxInt32, math.MaxInt64),
		NewInterval(math.MinInt32, math.MinInt32, math.MinInt64+1))
	add(JSONB, NewJSONB(`{"a": [1, 2.50, null], "bb": {"c": "x\n"}}`), NewJSONB(`"s"`), NewJSONB(`[]`))
	add(ArrayOf(Int4), NewArray([]Value{}), NewArray([]Value{NewInt4(1), Null, NewInt4(-3)}))
	add(ArrayOf(Text), NewArray([]Value{NewText(""), NewText("a b"), NewText("NULL"), Null, NewText(`"\`)}))
	add(ArrayOf(Numeric), NewArray([]Value{num("1.5"), num("NaN")}))
	add(ArrayOf(Interval), NewArray([]Value{NewInterval(1, 2, 3)}))
	return out
}

// sameValue reports exact identity (not SQL equality): same kind and fields,
// numerics with the same scale, float bits up to NaN payloads.
func sameValue(a, b Value) bool {
	if a.K != b.K {
		return false
	}
	switch a.K {
	case KindFloat4, KindFloat8:
		if math.IsNaN(a.F) {
			return math.IsNaN(b.F)
		}
		return math.Float64bits(a.F) == math.Float64bits(b.F)
	case KindNumeric:
		return a.D.Form == b.D.Form && a.D.Negative == b.D.Negative && (a.D.Form != apd.Finite || a.D.Cmp(b.D) == 0 && NumericScale(a.D) == NumericScale(b.D))
	case KindArray:
		if len(a.Arr) != len(b.Arr) {
			return false
		}
		for i := range a.Arr {
			if !sameValue(a.Arr[i], b.Arr[i]) {
				return false
			}
		}
		return true
	}
	return a.I == b.I && a.Mon == b.Mon && a.Day == b.Day && a.S == b.S
}

func TestTextRoundTrip(t *testing.T) {
	for _, loc := range []*time.Location{time.UTC, mustLoc(t, "America/New_York"), mustLoc(t, "Asia/Kolkata")} {
		for _, tv := range edgeValues() {
			s := FormatText(tv.v, tv.t, loc)
			back, err := ParseText(tv.t, s, loc)
			if err != nil {
				t.Errorf("%s %q (%s): %v", tv.t, s, loc, err)
				continue
			}
			want := tv.v
			if tv.v.K == KindNumeric && tv.v.D.Form == apd.Finite && tv.v.D.Exponent > 0 {
				want = num(s) // 1e100 prints in full; the scale stays 0
			}
			if !sameValue(back, want) {
				t.Errorf("%s %q (%s): read back %+v, want %+v", tv.t, s, loc, back, want)
			}
		}
	}
}

func mustLoc(t *testing.T, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("no tzdata: %v", err)
	}
	return loc
}

func TestBinaryRoundTrip(t *testing.T) {
	for _, tv := range edgeValues() {
		b, err := AppendBinary(nil, tv.v, tv.t)
		if err != nil {
			t.Errorf("%s %v: %v", tv.t, tv.v, err)
			continue
		}
		back, err := ParseBinary(tv.t, b)
		if err != nil {
			t.Errorf("%s %x: %v", tv.t, b, err)
			continue
		}
		if !sameValue(back, tv.v) && !(tv.v.K == KindNumeric && Compare(back, tv.v) == 0) {
			t.Errorf("%s %s: binary round trip gave %s", tv.t, FormatText(tv.v, tv.t, nil), FormatText(back, tv.t, nil))
		}
	}
}

func TestKeyRoundTrip(t *testing.T) {
	for _, desc := range []bool{false, true} {
		for _, tv := range edgeValues() {
			k := AppendKey([]byte("prefix"), tv.v, desc)
			back, rest, err := DecodeKey(append(k[len("prefix"):], "tail"...), tv.t, desc)
			if err != nil {
				t.Errorf("%s %v: %v", tv.t, tv.v, err)
				continue
			}
			if string(rest) != "tail" {
				t.Errorf("%s %v: rest %q", tv.t, tv.v, rest)
			}
			// Numerics come back normalized and -0 as 0; everything else
			// exactly.
			normalized := tv.v.K == KindNumeric || ((tv.v.K == KindFloat4 || tv.v.K == KindFloat8) && tv.v.F == 0)
			if Compare(back, tv.v) != 0 || (!normalized && !sameValue(back, tv.v)) {
				t.Errorf("%s %s desc=%v: key round trip gave %s", tv.t, FormatText(tv.v, tv.t, nil), desc, FormatText(back, tv.t, nil))
			}
		}
		back, _, err := DecodeKey(AppendKey(nil, Null, desc), Int4, desc)
		if err != nil || back.K != KindNull {
			t.Errorf("NULL key round trip: %v %v", back, err)
		}
	}
}

func TestRowRoundTrip(t *testing.T) {
	var row Row
	for _, tv := range edgeValues() {
		row = append(row, tv.v)
	}
	row = append(row, Null)
	enc := AppendRow(nil, row)
	enc = AppendRow(enc, Row{NewInt4(7)})
	got, rest, err := DecodeRow(enc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(row) {
		t.Fatalf("decoded %d values, want %d", len(got), len(row))
	}
	for i := range row {
		if !sameValue(got[i], row[i]) {
			t.Errorf("value %d: got %+v, want %+v", i, got[i], row[i])
		}
	}
	second, rest, err := DecodeRow(rest, got)
	if err != nil || len(rest) != 0 || len(second) != 1 || second[0].I != 7 {
		t.Fatalf("second row: %v %q %v", second, rest, err)
	}
	for i := 0; i < len(enc); i++ {
		if _, _, err := DecodeRow(enc[:i], nil); err == nil && i < len(enc)-3 {
			// A prefix can only decode if it happens to end on the first
			// row's boundary.
			if _, r, _ := DecodeRow(enc[:i], nil); len(r) != 0 {
				t.Errorf("truncated row of %d bytes decoded", i)
			}
		}
	}
}

// randomValue returns a random value of kind k, biased to collisions and
// edges so that ordering ties get tested.
func randomValue(r *rand.Rand, t Type) Value {
	if r.IntN(20) == 0 {
		return Null
	}
	switch t.Kind {
	case KindBool:
		return NewBool(r.IntN(2) == 0)
	case KindInt2, KindInt4, KindInt8, KindOid, KindDate, KindTime, KindTimestamp, KindTimestampTZ:
		var i int64
		switch r.IntN(4) {
		case 0:
			i = int64(r.IntN(7)) - 3
		case 1:
			i = r.Int64()
			if r.IntN(2) == 0 {
				i = -i
			}
		default:
			i = int64(r.IntN(1<<20)) - 1<<19
		}
		return Value{K: t.Kind, I: i}
	case KindFloat4, KindFloat8:
		specials := []float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1), 1, -1, 0.5}
		if r.IntN(3) == 0 {
			return Value{K: t.Kind, F: specials[r.IntN(len(specials))]}
		}
		f := (r.Float64() - 0.5) * math.Pow(10, float64(r.IntN(40)-20))
		if t.Kind == KindFloat4 {
			f = float64(float32(f))
		}
		return Value{K: t.Kind, F: f}
	case KindNumeric:
		switch r.IntN(10) {
		case 0:
			return num("NaN")
		case 1:
			return num("Infinity")
		case 2:
			return num("-Infinity")
		}
		var b strings.Builder
		if r.IntN(2) == 0 {
			b.WriteByte('-')
		}
		for n := r.IntN(30) + 1; n > 0; n-- {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		if r.IntN(2) == 0 {
			b.WriteByte('.')
			for n := r.IntN(30) + 1; n > 0; n-- {
				b.WriteByte(byte('0' + r.IntN(10)))
			}
		}
		if r.IntN(3) == 0 {
			fmt.Fprintf(&b, "e%d", r.IntN(60)-30)
		}
		return num(b.String())
	case KindText, KindBytea, KindJSONB:
		alphabet := "\x00\x01ab\xff"
		n := r.IntN(6)
		buf := make([]byte, n)
		for i := range buf {
			buf[i] = alphabet[r.IntN(len(alphabet))]
		}
		return Value{K: t.Kind, S: string(buf)}
	case KindInterval:
		return NewInterval(int32(r.IntN(5)-2), int32(r.IntN(61)-30), int64(r.IntN(5)-2)*USPerDay+int64(r.IntN(3)-1))
	case KindArray:
		n := r.IntN(4)
		arr := make([]Value, n)
		for i := range arr {
			arr[i] = randomValue(r, elemType(t))
		}
		return NewArray(arr)
	}
	panic("kind " + t.Kind.String())
}

func sign(c int) int {
	switch {
	case c < 0:
		return -1
	case c > 0:
		return 1
	}
	return 0
}

var orderTypes = []Type{Bool, Int2, Int4, Int8, Oid, Float4, Float8, Numeric, Text, Bytea, JSONB, Date, Time,
	Timestamp, TimestampTZ, Interval, ArrayOf(Int4), ArrayOf(Text), ArrayOf(Numeric)}

// TestKeyOrder checks that bytes.Compare of keys has the sign of Compare,
// ascending and descending, and for two-column keys.
func TestKeyOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, typ := range orderTypes {
		vals := make([]Value, 200)
		for i := range vals {
			vals[i] = randomValue(r, typ)
		}
		for i := 0; i < 3000; i++ {
			a, b := vals[r.IntN(len(vals))], vals[r.IntN(len(vals))]
			c := Compare(a, b)
			for _, desc := range []bool{false, true} {
				ka, kb := AppendKey(nil, a, desc), AppendKey(nil, b, desc)
				kc := sign(bytes.Compare(ka, kb))
				want := c
				if desc {
					want = -c
				}
				if c == 0 && typ.Kind == KindInterval {
					continue // equal intervals keep their fields in the key
				}
				if kc != want {
					t.Fatalf("%s desc=%v: Compare(%s, %s) = %d but keys compare %d\n%x\n%x", typ, desc,
						FormatText(a, typ, nil), FormatText(b, typ, nil), c, kc, ka, kb)
				}
				// Second column must not disturb the first.
				x := NewInt4(int64(r.IntN(3)))
				y := NewInt4(int64(r.IntN(3)))
				ka2, kb2 := AppendKey(ka, x, false), AppendKey(kb, y, false)
				want2 := want
				if want == 0 {
					want2 = Compare(x, y)
				}
				if got := sign(bytes.Compare(ka2, kb2)); got != want2 {
					t.Fatalf("%s: two-column key order %d, want %d", typ, got, want2)
				}
			}
		}
	}
}

func TestHashEqual(t *testing.T) {
	pairs := [][2]Value{
		{num("1"), num("1.000")},
		{num("100"), num("1e2")},
		{num("-0.50"), num("-0.5")},
		{num("123456789012345678901234567890"), num("123456789012345678901234567890.000")},
		{num("NaN"), num("NaN")},
		{NewFloat8(0), NewFloat8(math.Copysign(0, -1))},
		{NewFloat8(math.NaN()), NewFloat8(-math.NaN())},
		{NewInterval(1, 0, 0), NewInterval(0, 30, 0)},
		{NewInterval(0, 1, 0), NewInterval(0, 0, USPerDay)},
		{NewInt4(5), NewInt8(5)},
		{NewArray([]Value{num("1.0")}), NewArray([]Value{num("1")})},
	}
	for _, p := range pairs {
		if !Equal(p[0], p[1]) {
			t.Errorf("Equal(%+v, %+v) = false", p[0], p[1])
		}
		if Hash(p[0], 7) != Hash(p[1], 7) {
			t.Errorf("Hash differs for equal %+v and %+v", p[0], p[1])
		}
	}
	if Hash(NewInt4(1), 1) == Hash(NewInt4(2), 1) || Hash(NewText("a"), 1) == Hash(NewText("b"), 1) {
		t.Error("trivial hash collision")
	}
	if Hash(NewInt4(1), 1) == Hash(NewInt4(1), 2) {
		t.Error("seed ignored")
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, typ := range orderTypes {
		for i := 0; i < 500; i++ {
			a, b := randomValue(r, typ), randomValue(r, typ)
			if a.K == KindNull || b.K == KindNull {
				continue
			}
			if Equal(a, b) != (Compare(a, b) == 0) {
				t.Fatalf("Equal and Compare disagree on %+v %+v", a, b)
			}
			if Equal(a, b) && Hash(a, 9) != Hash(b, 9) {
				t.Fatalf("equal values %+v %+v hash differently", a, b)
			}
		}
	}
}

func TestParseTypeName(t *testing.T) {
	for _, c := range []struct {
		name string
		mods []int32
		want string
		oid  uint32
	}{
		{"int", nil, "integer", OidInt4},
		{"INTEGER", nil, "integer", OidInt4},
		{"pg_catalog.int8", nil, "bigint", OidInt8},
		{"double  precision", nil, "double precision", OidFloat8},
		{"varchar", []int32{3}, "character varying(3)", OidVarchar},
		{"character varying", nil, "character varying", OidVarchar},
		{"char", nil, "character(1)", OidBpchar},
		{"bpchar", nil, "character", OidBpchar},
		{"decimal", []int32{10, 2}, "numeric(10,2)", OidNumeric},
		{"numeric", []int32{5}, "numeric(5,0)", OidNumeric},
		{"timestamp with time zone", nil, "timestamp with time zone", OidTimestampTZ},
		{"json", nil, "jsonb", OidJSONB},
		{"int4[]", nil, "integer[]", OidInt4Array},
		{"_text", nil, "text[]", OidTextArray},
		{"float", []int32{10}, "real", OidFloat4},
		{"regclass", nil, "regclass", OidRegclass},
	} {
		got, err := ParseTypeName(c.name, c.mods)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got.String() != c.want || got.OID != c.oid {
			t.Errorf("%s%v: got %s (oid %d), want %s (oid %d)", c.name, c.mods, got, got.OID, c.want, c.oid)
		}
		if byOID, ok := TypeByOID(c.oid); !ok || byOID.Kind != got.Kind {
			t.Errorf("TypeByOID(%d) = %v, %v", c.oid, byOID, ok)
		}
	}
	for _, c := range []struct {
		name string
		mods []int32
		want string
	}{
		{"foo", nil, `42704: type "foo" does not exist`},
		{"serial", nil, `42704: type "serial" does not exist`},
		{"numeric", []int32{0}, `22023: NUMERIC precision 0 must be between 1 and 1000`},
		{"numeric", []int32{3, 4}, `22023: NUMERIC scale 4 must be between 0 and precision 3`},
		{"varchar", []int32{0}, `22023: length for type varchar must be at least 1`},
		{"int4", []int32{3}, `42601: type modifier is not allowed for type "int4"`},
	} {
		_, err := ParseTypeName(c.name, c.mods)
		if got := strings.TrimPrefix(errString(err), "ERROR "); got != c.want {
			t.Errorf("%s%v: got %q, want %q", c.name, c.mods, got, c.want)
		}
	}
}

func TestAssignmentCast(t *testing.T) {
	vc3 := mustType(t, "varchar(3)")
	if _, err := Cast(NewText("abcd"), Text, vc3, false, nil); errString(err) != "ERROR 22001: value too long for type character varying(3)" {
		t.Errorf("assignment cast: %v", err)
	}
	if v, err := Cast(NewText("abc  "), Text, vc3, false, nil); err != nil || v.S != "abc" {
		t.Errorf("assignment cast with trailing spaces: %v %v", v, err)
	}
	if v, err := Cast(NewText("abcd"), Text, vc3, true, nil); err != nil || v.S != "abc" {
		t.Errorf("explicit cast: %v %v", v, err)
	}
	ny := mustLoc(t, "America/New_York")
	v, err := Cast(NewDate(DaysFromCivil(2024, 7, 1)), Date, TimestampTZ, true, ny)
	if err != nil || FormatText(v, TimestampTZ, ny) != "2024-07-01 00:00:00-04" {
		t.Errorf("date to timestamptz in New York: %s %v", FormatText(v, TimestampTZ, ny), err)
	}
	if !CanCast(Int4, Int8) || !CanCast(Text, Date) || CanCast(Date, Int4) || !CanCast(ArrayOf(Int4), ArrayOf(Text)) {
		t.Error("CanCast")
	}
}

func TestTimestampHelpers(t *testing.T) {
	tm := time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC)
	us := TimestampFromTime(tm)
	if got := FormatText(NewTimestamp(us), Timestamp, nil); got != "2024-01-02 03:04:05.123456" {
		t.Errorf("TimestampFromTime: %s", got)
	}
	if !TimeFromTimestamp(us).Equal(tm) {
		t.Errorf("TimeFromTimestamp: %v", TimeFromTimestamp(us))
	}
	if TimestampFromTime(time.Unix(0, 0)) != -unixToPG*USPerSecond || !TimeFromTimestamp(-1).Before(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("epoch")
	}
	if DateFromTime(tm) != DaysFromCivil(2024, 1, 2) {
		t.Error("DateFromTime")
	}
	for d := int64(-800000); d < 800000; d += 997 {
		y, m, dd := CivilFromDays(d)
		if DaysFromCivil(y, m, dd) != d {
			t.Fatalf("civil round trip of %d", d)
		}
	}
}

func TestTimestampTZOutputZones(t *testing.T) {
	us, err := ParseText(TimestampTZ, "2024-01-02 03:04:05+00", nil)
	if err != nil {
		t.Fatal(err)
	}
	for zone, want := range map[string]string{
		"America/New_York": "2024-01-01 22:04:05-05",
		"Asia/Kolkata":     "2024-01-02 08:34:05+05:30",
		"Europe/Amsterdam": "2024-01-02 04:04:05+01",
	} {
		if got := FormatText(us, TimestampTZ, mustLoc(t, zone)); got != want {
			t.Errorf("%s: got %s, want %s", zone, got, want)
		}
	}
	// Local mean time before standard zones: offsets with seconds.
	old, _ := ParseText(TimestampTZ, "1850-01-01 00:00:00+00", nil)
	if got := FormatText(old, TimestampTZ, mustLoc(t, "Europe/Amsterdam")); got != "1850-01-01 00:19:32+00:19:32" {
		t.Errorf("LMT: %s", got)
	}
	// Input in a zone with DST, both sides.
	ny := mustLoc(t, "America/New_York")
	for in, want := range map[string]string{
		"2024-07-01 12:00:00": "2024-07-01 16:00:00+00",
		"2024-01-01 12:00:00": "2024-01-01 17:00:00+00",
	} {
		v, err := ParseText(TimestampTZ, in, ny)
		if err != nil || FormatText(v, TimestampTZ, nil) != want {
			t.Errorf("%s in New York: %s %v, want %s", in, FormatText(v, TimestampTZ, nil), err, want)
		}
	}
}
