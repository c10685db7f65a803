package sqllogictest

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// oidBool is PostgreSQL's OID of the boolean type, whose text form (t, f) is
// printed per the column's type letter.
const oidBool = 16

// FormatValue formats one result value the way the SQLite reference runner
// prints it for a column of type letter typ. v is the value's text form, nil
// for NULL; oid is the column's type OID (0 when unknown).
func FormatValue(typ byte, v []byte, oid uint32) string {
	if v == nil {
		return "NULL"
	}
	s := string(v)
	if oid == oidBool && (s == "t" || s == "f") {
		switch typ {
		case 'I':
			return map[bool]string{true: "1", false: "0"}[s == "t"]
		case 'R':
			return map[bool]string{true: "1.000", false: "0.000"}[s == "t"]
		}
		return s
	}
	if s == "" {
		return "(empty)"
	}
	switch typ {
	case 'I':
		if isInteger(s) {
			return s
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			// The reference runner casts the double to an integer, which
			// truncates toward zero.
			return strconv.FormatInt(int64(f), 10)
		}
	case 'R':
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return fmt.Sprintf("%.3f", f)
		}
	}
	return printable(s)
}

// isInteger reports whether s is an optionally signed run of digits.
func isInteger(s string) bool {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// printable replaces control characters with '@', as the reference runner
// does, so that every value stays on one line of the file.
func printable(s string) string {
	if strings.IndexFunc(s, isControl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isControl(r) {
			return '@'
		}
		return r
	}, s)
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// compareRows orders rows by their values as strings, left to right, as the
// reference runner's rowsort does.
func compareRows(a, b []string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := strings.Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return len(a) - len(b)
}

// sortValues returns values (cols per row) ordered per mode; it does not
// modify values.
func sortValues(values []string, cols int, mode SortMode) []string {
	out := slices.Clone(values)
	switch mode {
	case ValueSort:
		slices.Sort(out)
	case RowSort:
		if cols <= 0 || len(out)%cols != 0 {
			slices.Sort(out)
			break
		}
		rows := make([][]string, 0, len(out)/cols)
		for i := 0; i < len(out); i += cols {
			rows = append(rows, out[i:i+cols:i+cols])
		}
		slices.SortStableFunc(rows, compareRows)
		sorted := make([]string, 0, len(out))
		for _, r := range rows {
			sorted = append(sorted, r...)
		}
		out = sorted
	}
	return out
}

// hashLine is the expected block of a result given as a hash.
var hashLine = regexp.MustCompile(`^(\d+) values hashing to ([0-9a-f]{32})$`)

// HashValues returns the line "N values hashing to H" for values in their
// compared order: H is the MD5 of each value followed by a newline.
func HashValues(values []string) string {
	h := md5.New()
	for _, v := range values {
		h.Write([]byte(v))
		h.Write([]byte{'\n'})
	}
	return fmt.Sprintf("%d values hashing to %s", len(values), hex.EncodeToString(h.Sum(nil)))
}

// normalizeRow collapses white space, so that row-per-line expectations
// compare equal however their columns were aligned.
func normalizeRow(s string) string { return strings.Join(strings.Fields(s), " ") }

// match compares a query's formatted values (in the order the server returned
// them) with the expected lines. It returns whether they match and what to
// show as the actual result, in the form the expectation used.
func match(expected, values []string, cols int, mode SortMode) (bool, []string) {
	sorted := sortValues(values, cols, mode)
	if len(expected) == 1 {
		if m := hashLine.FindStringSubmatch(expected[0]); m != nil {
			got := HashValues(sorted)
			return got == expected[0], []string{got}
		}
	}
	trimmed := make([]string, len(sorted))
	for i, v := range sorted {
		trimmed[i] = strings.TrimSpace(v)
	}
	// Expected values may be out of order in a hand-written file; sorting them
	// too makes the sort modes mean "order does not matter".
	if slices.Equal(sortValues(expected, cols, mode), trimmed) {
		return true, sorted
	}
	if cols <= 1 {
		return false, sorted
	}
	gotRows := rowLines(values, cols)
	wantRows := make([]string, len(expected))
	for i, e := range expected {
		wantRows[i] = normalizeRow(e)
	}
	normRows := make([]string, len(gotRows))
	for i, r := range gotRows {
		normRows[i] = normalizeRow(r)
	}
	switch mode {
	case RowSort:
		// Sort the rows as rows of values, then compare the normalized lines.
		gotRows = rowLines(sortValues(values, cols, RowSort), cols)
		for i, r := range gotRows {
			normRows[i] = normalizeRow(r)
		}
		slices.Sort(wantRows)
		slices.Sort(normRows)
	case ValueSort:
		wantRows = strings.Fields(strings.Join(wantRows, " "))
		normRows = strings.Fields(strings.Join(normRows, " "))
		slices.Sort(wantRows)
		slices.Sort(normRows)
	}
	if slices.Equal(wantRows, normRows) {
		return true, gotRows
	}
	if rowForm(expected, cols) {
		return false, gotRows
	}
	return false, sorted
}

// rowLines joins each row's values with a space.
func rowLines(values []string, cols int) []string {
	var lines []string
	for i := 0; i+cols <= len(values); i += cols {
		lines = append(lines, strings.Join(values[i:i+cols], " "))
	}
	return lines
}

// rowForm guesses whether an expected block is written one row per line: the
// query has several columns and the first line has several fields.
func rowForm(expected []string, cols int) bool {
	if cols <= 1 || len(expected) == 0 {
		return false
	}
	if hashLine.MatchString(expected[0]) {
		return false
	}
	return len(strings.Fields(expected[0])) > 1
}
