package exec

import (
	"path/filepath"
	"testing"

	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/storage"
)

// testDataflow runs a plan's dataflow over a fresh state store one epoch at
// a time and integrates its output deltas in view (row text → weight): the
// harness of the tests that check an operator's Z-set invariant against
// the plan run ad hoc on the integrated input.
type testDataflow struct {
	t    *testing.T
	db   *storage.DB
	g    *graph
	view map[string]int64
}

func newTestDataflow(t *testing.T, plan Node) *testDataflow {
	t.Helper()
	db, err := storage.Open(filepath.Join(t.TempDir(), "state"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	g, err := buildGraph(plan, 7)
	if err != nil {
		t.Fatal(err)
	}
	return &testDataflow{t: t, db: db, g: g, view: map[string]int64{}}
}

// epoch pushes delta through the dataflow as one epoch whose clock reads
// now, commits the epoch's state and adds its output to view. A row the
// operators reject (a data error) fails the test.
func (d *testDataflow) epoch(delta *Batch, now int64) {
	t := d.t
	t.Helper()
	batch := d.db.NewBatch()
	defer batch.Close()
	ec := &epochCtx{eval: &expr.EvalContext{Now: now}, store: batch}
	d.g.reset()
	out := func(b *Batch) error {
		for i, r := range b.Rows {
			d.view[rowText(r)] += b.W[i]
		}
		return nil
	}
	if err := d.g.push(ec, d.g.leaves[0], delta, out); err != nil {
		t.Fatal(err)
	}
	if err := d.g.flush(ec, out); err != nil {
		t.Fatal(err)
	}
	if len(ec.errs) > 0 {
		t.Fatalf("data errors: %v", ec.errs)
	}
	if err := batch.Commit(false); err != nil {
		t.Fatal(err)
	}
	d.g.committed()
}

// abortedEpoch pushes delta through the dataflow as an epoch attempt that
// fails before its commit (the runtime then retries the epoch): its writes
// and output go nowhere.
func (d *testDataflow) abortedEpoch(delta *Batch, now int64) {
	t := d.t
	t.Helper()
	batch := d.db.NewBatch()
	defer batch.Close()
	ec := &epochCtx{eval: &expr.EvalContext{Now: now}, store: batch}
	d.g.reset()
	discard := func(*Batch) error { return nil }
	if err := d.g.push(ec, d.g.leaves[0], delta, discard); err != nil {
		t.Fatal(err)
	}
	if err := d.g.flush(ec, discard); err != nil {
		t.Fatal(err)
	}
}

// restart rebuilds the dataflow's operators over the same store, as a
// restarted server does: what they kept in memory is gone.
func (d *testDataflow) restart(plan Node) {
	g, err := buildGraph(plan, 7)
	if err != nil {
		d.t.Fatal(err)
	}
	d.g = g
}
