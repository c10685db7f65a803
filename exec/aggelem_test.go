package exec

import (
	"math"
	"testing"

	"github.com/cockroachdb/apd/v3"
)

// TestDDBinRelativeError checks approx_percentile's error bound: every value
// is represented within ddAlpha of itself, the mapping keeps order, and
// signs and zero stay apart.
func TestDDBinRelativeError(t *testing.T) {
	for _, base := range []float64{1e-9, 1e-3, 0.5, 1, 3, 1000, 1e9, 1e300} {
		prev := math.Inf(-1)
		for i := 0; i < 200; i++ {
			x := base * (1 + float64(i)/37)
			for _, v := range []float64{x, -x} {
				r := ddBin(v)
				if math.Abs(r-v) > ddAlpha*math.Abs(v)*(1+1e-9) {
					t.Fatalf("ddBin(%g) = %g: relative error %g > %g", v, r, math.Abs(r-v)/math.Abs(v), ddAlpha)
				}
				if (r < 0) != (v < 0) {
					t.Fatalf("ddBin(%g) = %g changed sign", v, r)
				}
			}
			if r := ddBin(x); r < prev {
				t.Fatalf("ddBin is not monotone at %g", x)
			} else {
				prev = r
			}
		}
	}
	if ddBin(0) != 0 || !math.IsInf(ddBin(math.Inf(1)), 1) || !math.IsNaN(ddBin(math.NaN())) {
		t.Fatal("zero, infinity and NaN are their own bins")
	}
}

// TestScaleCountsRetract checks that a numeric sum's display scale follows
// the values still there.
func TestScaleCountsRetract(t *testing.T) {
	var sc scaleCounts
	d := func(s string) *apd.Decimal {
		x, _, err := apd.NewFromString(s)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	sc.add(d("1.5"), 1)
	sc.add(d("2.250"), 2)
	sc.add(d("7"), 1)
	if sc.max() != 3 {
		t.Fatalf("max scale %d, want 3", sc.max())
	}
	sc.add(d("2.250"), -2)
	if sc.max() != 1 {
		t.Fatalf("after retracting 2.250 max scale %d, want 1", sc.max())
	}
	if got := decodeScales(sc.encode()); len(got) != 2 || got.max() != 1 {
		t.Fatalf("round trip %v", got)
	}
	sc.add(d("1.5"), -1)
	sc.add(d("7"), -1)
	if len(sc) != 0 || sc.max() != 0 {
		t.Fatalf("empty: %v", sc)
	}
}
