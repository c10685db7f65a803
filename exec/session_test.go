package exec

import (
	"math/rand"
	"testing"

	"github.com/kappa-db/kappa/storage"
	"github.com/kappa-db/kappa/types"
)

// TestSessionIncremental checks the Z-set invariant of the session
// operator: integrating its output deltas over random epochs of inserts
// and deletes (ties, duplicates, NULL times, rows that merge and split
// sessions, several changes in one neighbourhood) equals the operator run
// ad hoc on the integrated input. Deleting everything leaves no state.
func TestSessionIncremental(t *testing.T) {
	typs := []types.Type{types.Int4, types.Timestamp, types.Int8}
	for _, tc := range []struct {
		name string
		part []int
		gap  int64
		span int
	}{
		{"partitioned", []int{0}, 3, 30},
		{"one partition", nil, 2, 40},
		{"wide gap", []int{0}, 10, 60},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := &SessionWindow{Input: &Scan{Kind: ScanTable, Rel: 1, Name: "t", Types: typs}, TimeCol: 1, PartitionBy: tc.part, Gap: tc.gap}
			d := newTestDataflow(t, plan)
			r := rand.New(rand.NewSource(2))
			rows := map[string]types.Row{}
			counts := map[string]int64{}
			epoch := func(delta *Batch) {
				d.epoch(delta, 0)
				want := multisetText(adhoc(t, plan, rows, counts))
				if got := multisetText(d.view); got != want {
					t.Fatalf("view\n%s\nwant\n%s", got, want)
				}
			}
			for e := 0; e < 60; e++ {
				delta := &Batch{}
				for i := r.Intn(8); i >= 0; i-- {
					ts := types.NewTimestamp(int64(r.Intn(tc.span)))
					if r.Intn(15) == 0 {
						ts = types.Null
					}
					row := types.Row{types.NewInt4(int64(r.Intn(3))), ts, types.NewInt8(int64(r.Intn(3)))}
					k := rowText(row)
					w := int64(1)
					if counts[k] > 0 && r.Intn(3) == 0 {
						w = -1
					}
					rows[k] = row
					counts[k] += w
					delta.Add(row, w)
				}
				epoch(delta)
			}
			// Delete everything: no state is left.
			delta := &Batch{}
			for k, n := range counts {
				if n > 0 {
					delta.Add(rows[k], -n)
					counts[k] = 0
				}
			}
			epoch(delta)
			left := 0
			if err := d.db.Scan(storage.StatePrefix(7<<8), storage.PrefixEnd(storage.StatePrefix(7<<8)), false, func(k, v []byte) (bool, error) {
				left++
				return true, nil
			}); err != nil {
				t.Fatal(err)
			}
			if left != 0 {
				t.Fatalf("%d state entries left", left)
			}
		})
	}
}
