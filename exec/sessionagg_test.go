package exec

import (
	"math/rand"
	"testing"

	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/storage"
	"github.com/kappa-db/kappa/types"
)

// TestSessionAggregateIncremental checks the session aggregate against
// the plain plan (the SESSION window under an Aggregate): over random
// epochs of inserts only (sessions extended and merged from their
// accumulators) and of inserts and deletes (sessions recomputed from their
// rows), integrating its output equals the plain plan run ad hoc on the
// integrated input, and so does the fused plan run ad hoc. Deleting
// everything leaves no state. Over a source, which only inserts, it keeps
// no rows.
func TestSessionAggregateIncremental(t *testing.T) {
	typs := []types.Type{types.Int4, types.Timestamp, types.Int8}
	for _, tc := range []struct {
		name    string
		part    []int
		gap     int64
		span    int
		retract int // one epoch in retract has deletes (0: none)
		source  bool
	}{
		{"source", []int{0}, 3, 40, 0, true},
		{"inserts", []int{0}, 3, 40, 0, false},
		{"inserts one partition", nil, 2, 60, 0, false},
		{"deletes", []int{0}, 3, 30, 2, false},
		{"deletes wide gap", []int{0}, 10, 60, 3, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			build := func(fused bool) *Aggregate {
				scan := &Scan{Kind: ScanTable, Rel: 1, Name: "t", Types: typs}
				if tc.source {
					// Keeps no rows: sessions only grow and merge.
					scan.Kind = ScanSource
				}
				sw := &SessionWindow{Input: scan, TimeCol: 1, PartitionBy: tc.part, Gap: tc.gap}
				exprs := []expr.Expr{
					&expr.ColRef{Idx: 3, T: types.Timestamp}, // window_start
					&expr.ColRef{Idx: 4, T: types.Timestamp}, // window_end
					&expr.ColRef{Idx: 2, T: types.Int8},
				}
				group := []int{0, 1}
				out := []types.Type{types.Timestamp, types.Timestamp}
				if tc.part != nil {
					exprs = append(exprs, &expr.ColRef{Idx: 0, T: types.Int4})
					group = append(group, 3)
					out = append(out, types.Int4)
				}
				aggs := []AggCall{
					{Func: AggCountStar, Arg: -1, Type: types.Int8},
					{Func: AggSum, Arg: 2, Type: types.Numeric},
					{Func: AggMin, Arg: 2, Type: types.Int8},
					{Func: AggMax, Arg: 2, Type: types.Int8},
					{Func: AggAvg, Arg: 2, Type: types.Numeric},
				}
				for _, a := range aggs {
					out = append(out, a.Type)
				}
				return &Aggregate{Input: &Project{Input: sw, Exprs: exprs}, GroupBy: group, Aggs: aggs, Types: out, Session: fused}
			}
			fused, plain := build(true), build(false)
			if _, _, ok := SessionAggregateShape(fused); !ok {
				t.Fatal("not a session aggregate")
			}
			d := newTestDataflow(t, fused)
			r := rand.New(rand.NewSource(3))
			rows := map[string]types.Row{}
			counts := map[string]int64{}
			epoch := func(delta *Batch) {
				t.Helper()
				d.epoch(delta, 0)
				want := multisetText(adhoc(t, plain, rows, counts))
				if got := multisetText(d.view); got != want {
					t.Fatalf("view\n%s\nwant\n%s", got, want)
				}
				if got := multisetText(adhoc(t, fused, rows, counts)); got != want {
					t.Fatalf("ad hoc\n%s\nwant\n%s", got, want)
				}
			}
			for e := 0; e < 80; e++ {
				delta := &Batch{}
				retract := tc.retract > 0 && e%tc.retract == 0
				for i := r.Intn(8); i >= 0; i-- {
					ts := types.NewTimestamp(int64(r.Intn(tc.span)))
					if r.Intn(15) == 0 {
						ts = types.Null
					}
					row := types.Row{types.NewInt4(int64(r.Intn(3))), ts, types.NewInt8(int64(r.Intn(5)))}
					k := rowText(row)
					w := int64(1)
					if retract && counts[k] > 0 && r.Intn(2) == 0 {
						w = -1
					}
					rows[k] = row
					counts[k] += w
					delta.Add(row, w)
				}
				epoch(delta)
			}
			if tc.source {
				return
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

// BenchmarkSessionAggregate runs q11's shape (count per bidder session over
// a source) for epochs of 5,000 rows from 1,000 bidders whose sessions
// never close: fused, an epoch's cost follows its rows; plain (the window
// under an Aggregate), every epoch re-emits and recounts every row of the
// sessions it extends. ns/op and allocs/op are per row.
func BenchmarkSessionAggregate(b *testing.B) {
	typs := []types.Type{types.Int8, types.Timestamp}
	for _, fused := range []bool{true, false} {
		name := "plain"
		if fused {
			name = "fused"
		}
		b.Run(name, func(b *testing.B) {
			sw := &SessionWindow{Input: &Scan{Kind: ScanSource, Rel: 1, Name: "bid", Types: typs}, TimeCol: 1, PartitionBy: []int{0}, Gap: 10_000_000}
			plan := &Aggregate{
				Input:   &Project{Input: sw, Exprs: []expr.Expr{&expr.ColRef{Idx: 0, T: types.Int8}, &expr.ColRef{Idx: 2, T: types.Timestamp}, &expr.ColRef{Idx: 3, T: types.Timestamp}}},
				GroupBy: []int{0, 1, 2},
				Aggs:    []AggCall{{Func: AggCountStar, Arg: -1, Type: types.Int8}},
				Types:   []types.Type{types.Int8, types.Timestamp, types.Timestamp, types.Int8},
				Session: fused,
			}
			db, err := storage.Open(b.TempDir(), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			g, err := buildGraph(plan, 7)
			if err != nil {
				b.Fatal(err)
			}
			const perEpoch = 5000
			r := rand.New(rand.NewSource(1))
			now := int64(0)
			b.ReportAllocs()
			b.ResetTimer()
			for done := 0; done < b.N; done += perEpoch {
				b.StopTimer()
				in := &Batch{}
				for i := 0; i < perEpoch; i++ {
					now += 10
					in.Add(types.Row{types.NewInt8(int64(r.Intn(1000))), types.NewTimestamp(now)}, 1)
				}
				batch := db.NewBatch()
				ec := &epochCtx{eval: &expr.EvalContext{}, store: batch}
				g.reset()
				b.StartTimer()
				out := func(*Batch) error { return nil }
				if err := g.push(ec, g.leaves[0], in, out); err != nil {
					b.Fatal(err)
				}
				if err := g.flush(ec, out); err != nil {
					b.Fatal(err)
				}
				if err := batch.Commit(false); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				batch.Close()
				b.StartTimer()
			}
		})
	}
}

// TestSessionAggregateRefusesOldState: a view whose plain plan (the
// window under an Aggregate) wrote state fails with 55000 when it runs as
// a session aggregate, rather than miss the sessions that state holds.
func TestSessionAggregateRefusesOldState(t *testing.T) {
	typs := []types.Type{types.Int8, types.Timestamp}
	build := func(fused bool) *Aggregate {
		sw := &SessionWindow{Input: &Scan{Kind: ScanTable, Rel: 1, Name: "t", Types: typs}, TimeCol: 1, PartitionBy: []int{0}, Gap: 10}
		return &Aggregate{
			Input:   &Project{Input: sw, Exprs: []expr.Expr{&expr.ColRef{Idx: 0, T: types.Int8}, &expr.ColRef{Idx: 2, T: types.Timestamp}}},
			GroupBy: []int{0, 1},
			Aggs:    []AggCall{{Func: AggCountStar, Arg: -1, Type: types.Int8}},
			Types:   []types.Type{types.Int8, types.Timestamp, types.Int8},
			Session: fused,
		}
	}
	d := newTestDataflow(t, build(false))
	d.epoch(&Batch{Rows: []types.Row{{types.NewInt8(1), types.NewTimestamp(5)}}, W: []int64{1}}, 0)
	g, err := buildGraph(build(true), 7)
	if err != nil {
		t.Fatal(err)
	}
	batch := d.db.NewBatch()
	defer batch.Close()
	ec := &epochCtx{eval: &expr.EvalContext{}, store: batch}
	out := func(*Batch) error { return nil }
	if err := g.push(ec, g.leaves[0], &Batch{Rows: []types.Row{{types.NewInt8(1), types.NewTimestamp(6)}}, W: []int64{1}}, out); err != nil {
		t.Fatal(err)
	}
	err = g.flush(ec, out)
	if pe, ok := err.(*pgerr.Error); !ok || pe.Code != pgerr.ObjectNotInPrerequisite {
		t.Fatalf("got %v, want 55000", err)
	}
}
