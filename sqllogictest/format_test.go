package sqllogictest

import (
	"crypto/md5"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
)

func TestFormatValue(t *testing.T) {
	const text, numeric, float8 = 25, 1700, 701
	for _, tc := range []struct {
		typ  byte
		v    []byte
		oid  uint32
		want string
	}{
		{'I', nil, 0, "NULL"},
		{'T', nil, 0, "NULL"},
		{'R', nil, 0, "NULL"},
		{'T', []byte(""), text, "(empty)"},
		{'I', []byte(""), text, "(empty)"},
		{'I', []byte("42"), 0, "42"},
		{'I', []byte("-7"), 0, "-7"},
		{'I', []byte("127.5000000000"), numeric, "127"},
		{'I', []byte("-2.9"), float8, "-2"},
		{'I', []byte("1e3"), float8, "1000"},
		{'I', []byte("abc"), text, "abc"},
		{'I', []byte("t"), oidBool, "1"},
		{'I', []byte("f"), oidBool, "0"},
		{'T', []byte("t"), oidBool, "t"},
		{'T', []byte("t"), text, "t"},
		{'I', []byte("t"), text, "t"},
		{'R', []byte("1"), 0, "1.000"},
		{'R', []byte("2.0005"), float8, "2.001"}, // the double is just above 2.0005
		{'R', []byte("1.0005"), float8, "1.000"}, // and this one just below 1.0005
		{'R', []byte("-0.3333333"), numeric, "-0.333"},
		{'R', []byte("t"), oidBool, "1.000"},
		{'R', []byte("NaN"), float8, "NaN"},
		{'T', []byte("a\tb\nc"), text, "a@b@c"},
		{'T', []byte("héllo wörld"), text, "héllo wörld"},
		{'T', []byte("12.50"), numeric, "12.50"},
	} {
		if got := FormatValue(tc.typ, tc.v, tc.oid); got != tc.want {
			t.Errorf("FormatValue(%c, %q, %d) = %q, want %q", tc.typ, tc.v, tc.oid, got, tc.want)
		}
	}
}

func TestHashValues(t *testing.T) {
	sum := md5.Sum([]byte("1\nNULL\n(empty)\n"))
	want := "3 values hashing to " + hex.EncodeToString(sum[:])
	if got := HashValues([]string{"1", "NULL", "(empty)"}); got != want {
		t.Errorf("HashValues = %q, want %q", got, want)
	}
}

func TestSortValues(t *testing.T) {
	values := []string{"b", "1", "a", "2", "a", "10", "NULL", "3"}
	if got, want := sortValues(values, 2, RowSort), []string{"NULL", "3", "a", "10", "a", "2", "b", "1"}; !slices.Equal(got, want) {
		t.Errorf("rowsort = %v, want %v", got, want)
	}
	if got, want := sortValues(values, 2, ValueSort), []string{"1", "10", "2", "3", "NULL", "a", "a", "b"}; !slices.Equal(got, want) {
		t.Errorf("valuesort = %v, want %v", got, want)
	}
	if got := sortValues(values, 2, NoSort); !slices.Equal(got, values) {
		t.Errorf("nosort = %v, want %v", got, values)
	}
}

func TestMatch(t *testing.T) {
	lines := func(s string) []string {
		if s == "" {
			return nil
		}
		return strings.Split(s, "|")
	}
	values := []string{"2", "b", "1", "a"} // two rows, two columns, unsorted
	for _, tc := range []struct {
		name     string
		expected string
		mode     SortMode
		want     bool
	}{
		{"values nosort", "2|b|1|a", NoSort, true},
		{"values nosort wrong order", "1|a|2|b", NoSort, false},
		{"values rowsort", "1|a|2|b", RowSort, true},
		{"values rowsort unsorted expectation", "2|b|1|a", RowSort, true},
		{"values valuesort", "1|2|a|b", ValueSort, true},
		{"rows nosort", "2 b|1 a", NoSort, true},
		{"rows nosort tabs and padding", " 2\t  b|1    a", NoSort, true},
		{"rows rowsort", "1 a|2 b", RowSort, true},
		{"rows rowsort unsorted expectation", "2 b|1 a", RowSort, true},
		{"rows nosort wrong order", "1 a|2 b", NoSort, false},
		{"rows wrong value", "2 b|1 c", NoSort, false},
		{"hash rowsort", HashValues([]string{"1", "a", "2", "b"}), RowSort, true},
		{"hash nosort", HashValues(values), NoSort, true},
		{"hash wrong order", HashValues(values), RowSort, false},
		{"too few", "2|b|1", NoSort, false},
		{"empty", "", NoSort, false},
	} {
		ok, _ := match(lines(tc.expected), values, 2, tc.mode)
		if ok != tc.want {
			t.Errorf("%s: match = %v, want %v", tc.name, ok, tc.want)
		}
	}
	if ok, got := match(nil, nil, 1, NoSort); !ok || len(got) != 0 {
		t.Errorf("empty result against empty expectation: %v %v", ok, got)
	}
	// A failed row-form expectation shows the actual rows in row form.
	if _, got := match([]string{"2 b", "9 z"}, values, 2, NoSort); !slices.Equal(got, []string{"2 b", "1 a"}) {
		t.Errorf("row form got = %q", got)
	}
}
