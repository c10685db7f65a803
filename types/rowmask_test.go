package types

import (
	"testing"

	"github.com/cockroachdb/apd/v3"
)

// TestDecodeRowNeeded checks that skipping columns keeps the others exactly
// as DecodeRow decodes them, for every kind of value in a skipped column.
func TestDecodeRowNeeded(t *testing.T) {
	row := Row{NewInt8(-7), NewText("payload"), Value{}, NewFloat8(2.5), NewNumeric(apd.New(12345, -2)),
		NewInterval(1, 2, 3), NewBool(true), NewText(""), NewInt4(42)}
	enc := AppendRow(nil, row)
	full, _, err := DecodeRow(enc, nil)
	if err != nil {
		t.Fatal(err)
	}
	for mask := 0; mask < 1<<len(row); mask += 7 {
		need := make([]bool, len(row))
		for i := range need {
			need[i] = mask&(1<<i) != 0
		}
		got, rest, err := DecodeRowNeeded(enc, nil, need)
		if err != nil || len(rest) != 0 || len(got) != len(row) {
			t.Fatalf("mask %b: %v, %d bytes left, %d values", mask, err, len(rest), len(got))
		}
		for i := range row {
			switch {
			case need[i] && Compare(got[i], full[i]) != 0:
				t.Errorf("mask %b: column %d is %v, want %v", mask, i, got[i], full[i])
			case !need[i] && !got[i].IsNull():
				t.Errorf("mask %b: skipped column %d is %v, want NULL", mask, i, got[i])
			}
		}
	}
}
