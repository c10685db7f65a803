package exec

import (
	"math/rand"
	"testing"

	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/storage"
	"github.com/kappa-db/kappa/types"
)

// TestTemporalIncremental checks a temporal filter against its definition:
// after every epoch (random inserts and deletes, or none, with the clock
// moving on by random steps), the integrated output is exactly the input
// rows whose bounds contain the epoch's time, which is what the filter
// gives ad hoc. When every row is gone, so is the state.
func TestTemporalIncremental(t *testing.T) {
	ts := &expr.ColRef{Idx: 1, T: types.TimestampTZ}
	plan := &TemporalFilter{
		Input: &Scan{Kind: ScanTable, Rel: 1, Name: "t", Types: []types.Type{types.Int8, types.TimestampTZ}},
		// ts <= now() < ts + 6: valid from ts, for 6 µs.
		Bounds: []TemporalBound{{Expr: ts}, {Expr: ts, Until: true, Offset: 6}},
	}
	d := newTestDataflow(t, plan)
	r := rand.New(rand.NewSource(3))
	rows := map[string]types.Row{}
	counts := map[string]int64{}
	now := int64(100)
	epoch := func(delta *Batch) {
		d.epoch(delta, now)
		want := map[string]int64{}
		for k, n := range counts {
			if ts := rows[k][1]; n > 0 && !ts.IsNull() && ts.I <= now && now < ts.I+6 {
				want[k] = n
			}
		}
		if got, want := multisetText(d.view), multisetText(want); got != want {
			t.Fatalf("now %d: view\n%s\nwant\n%s", now, got, want)
		}
		if wake := d.g.wakeAt(); wake <= now {
			t.Fatalf("now %d: the filter wants an epoch at %d", now, wake)
		}
	}
	for e := 0; e < 200; e++ {
		delta := &Batch{}
		for i := r.Intn(6) - 2; i >= 0; i-- {
			at := types.NewTimestampTZ(now + int64(r.Intn(20)) - 10)
			if r.Intn(10) == 0 {
				at = types.Null
			}
			row := types.Row{types.NewInt8(int64(r.Intn(4))), at}
			k := rowText(row)
			w := int64(1)
			if counts[k] > 0 && r.Intn(3) == 0 {
				w = -1
			}
			rows[k] = row
			counts[k] += w
			delta.Add(row, w)
		}
		now += int64(r.Intn(4))
		epoch(delta)
	}
	delta := &Batch{}
	for k, n := range counts {
		if n > 0 {
			delta.Add(rows[k], -n)
			counts[k] = 0
		}
	}
	epoch(delta)
	left := 0
	prefix := storage.StatePrefix(7 << 8)
	if err := d.db.Scan(prefix, storage.PrefixEnd(prefix), false, func(k, v []byte) (bool, error) {
		left++
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Fatalf("%d state entries left", left)
	}
}
