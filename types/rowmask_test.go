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

// TestDecodeRowInto checks that the kept columns land where at says, as
// DecodeRow decodes them, whichever columns are skipped, and that kept
// columns past the row's end come out NULL.
func TestDecodeRowInto(t *testing.T) {
	row := Row{NewInt8(-7), NewText("payload"), Value{}, NewFloat8(2.5), NewNumeric(apd.New(12345, -2)),
		NewInterval(1, 2, 3), NewBool(true), NewText(""), NewInt4(42)}
	enc := AppendRow(nil, row)
	full, _, err := DecodeRow(enc, nil)
	if err != nil {
		t.Fatal(err)
	}
	for mask := 0; mask < 1<<len(row); mask += 5 {
		// The kept columns in reverse order, so that positions differ.
		at := make([]int, len(row)+2)
		var kept []int
		for i := len(at) - 1; i >= 0; i-- {
			at[i] = -1
			if mask&(1<<i) != 0 || i >= len(row) && mask%2 == 1 {
				at[i] = len(kept)
				kept = append(kept, i)
			}
		}
		dst := make(Row, len(kept))
		for j := range dst {
			dst[j] = NewInt4(99) // garbage from an earlier row
		}
		if err := DecodeRowInto(enc, dst, at); err != nil {
			t.Fatalf("mask %b: %v", mask, err)
		}
		for j, i := range kept {
			want := Value{}
			if i < len(row) {
				want = full[i]
			}
			if Compare(dst[j], want) != 0 || dst[j].IsNull() != want.IsNull() {
				t.Errorf("mask %b: position %d (column %d) is %v, want %v", mask, j, i, dst[j], want)
			}
		}
	}
	if err := DecodeRowInto(enc[:len(enc)-1], make(Row, 1), []int{-1, -1, -1, -1, -1, -1, -1, -1, 0}); err == nil {
		t.Error("a truncated row decoded")
	}
}
