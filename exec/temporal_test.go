package exec

import (
	"math/rand"
	"path/filepath"
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
	db, err := storage.Open(filepath.Join(t.TempDir(), "state"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	g, err := buildGraph(plan, 7)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewSource(3))
	rows := map[string]types.Row{}
	counts := map[string]int64{}
	view := map[string]int64{}
	now := int64(100)
	epoch := func(delta *Batch) {
		batch := db.NewBatch()
		defer batch.Close()
		ec := &epochCtx{eval: &expr.EvalContext{Now: now}, store: batch}
		g.reset()
		out := func(b *Batch) error {
			for i, r := range b.Rows {
				view[rowText(r)] += b.W[i]
			}
			return nil
		}
		if err := g.push(ec, g.leaves[0], delta, out); err != nil {
			t.Fatal(err)
		}
		if err := g.flush(ec, out); err != nil {
			t.Fatal(err)
		}
		if err := batch.Commit(false); err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{}
		for k, n := range counts {
			if ts := rows[k][1]; n > 0 && !ts.IsNull() && ts.I <= now && now < ts.I+6 {
				want[k] = n
			}
		}
		if got, want := multisetText(view), multisetText(want); got != want {
			t.Fatalf("now %d: view\n%s\nwant\n%s", now, got, want)
		}
		if wake := g.wakeAt(); wake <= now {
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
	if err := db.Scan(prefix, storage.PrefixEnd(prefix), false, func(k, v []byte) (bool, error) {
		left++
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Fatalf("%d state entries left", left)
	}
}
