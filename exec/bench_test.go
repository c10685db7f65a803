package exec

import (
	"testing"

	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/types"
)

// BenchmarkEpochGroupBy measures how fast a table's own dataflow and a
// GROUP BY view (count, sum over 1000 groups) consume logged rows: the
// backfill and catch-up rate of the engine, without the wire or the parser.
func BenchmarkEpochGroupBy(b *testing.B) {
	const rows = 200_000
	ob := newOpBench(b, 1)
	lg := ob.logs[1]
	recs := make([][]byte, 0, rows)
	for i := 0; i < rows; i++ {
		recs = append(recs, AppendChange(nil, 1, 0, types.Row{types.NewInt8(int64(i)), types.NewInt4(int64(i % 1000)), types.NewInt8(int64(i * 3)), types.NewText("name")}))
	}
	ts := []types.Type{types.Int8, types.Int4, types.Int8, types.Text}
	plan := &Aggregate{
		Input:   &Project{Input: &Scan{Kind: ScanTable, Rel: 1, Types: ts}, Exprs: []expr.Expr{&expr.ColRef{Idx: 1, T: types.Int4}, &expr.ColRef{Idx: 2, T: types.Int8}}},
		GroupBy: []int{0},
		Aggs:    []AggCall{{Func: AggCountStar, Arg: -1, Type: types.Int8}, {Func: AggSum, Arg: 1, Type: types.Numeric}},
		Types:   []types.Type{types.Int4, types.Int8, types.Numeric},
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		base := uint64(i) * 10
		rt := ob.runtime()
		if err := rt.Add(DataflowSpec{ID: base + 1, TableID: 1, Table: &TableSink{Rel: base + 1}}); err != nil {
			b.Fatal(err)
		}
		if err := rt.Add(DataflowSpec{ID: base + 2, Plan: plan, View: &ViewSink{Rel: base + 2, KeyCols: []int{0}, Unique: true}}); err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			if _, err := lg.Append(recs); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		drain(b, rt)
		b.StopTimer()
		rt.Close()
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkEpochBackfillMinMax is durabench's backfill without the server:
// a GROUP BY view with count, sum, min and max created over rows already in
// a table's log (1000 groups, 100 distinct values each), run to the end.
func BenchmarkEpochBackfillMinMax(b *testing.B) {
	const rows = 500_000
	ob := newOpBench(b, 1)
	lg := ob.logs[1]
	recs := make([][]byte, 0, rows)
	for i := 0; i < rows; i++ {
		v := int64(i*7919%100_000) - 50_000
		recs = append(recs, AppendChange(nil, 1, 0, types.Row{types.NewInt8(int64(i)), types.NewInt4(int64(i % 1000)), types.NewInt8(v), types.NewText("padding padding padding padding padding padding padding padding")}))
	}
	if _, err := lg.Append(recs); err != nil {
		b.Fatal(err)
	}
	ts := []types.Type{types.Int8, types.Int4, types.Int8, types.Text}
	plan := &Aggregate{
		Input:   &Project{Input: &Scan{Kind: ScanTable, Rel: 1, Types: ts}, Exprs: []expr.Expr{&expr.ColRef{Idx: 1, T: types.Int4}, &expr.ColRef{Idx: 2, T: types.Int8}}},
		GroupBy: []int{0},
		Aggs: []AggCall{{Func: AggCountStar, Arg: -1, Type: types.Int8}, {Func: AggSum, Arg: 1, Type: types.Numeric},
			{Func: AggMin, Arg: 1, Type: types.Int8}, {Func: AggMax, Arg: 1, Type: types.Int8}},
		Types: []types.Type{types.Int4, types.Int8, types.Numeric, types.Int8, types.Int8},
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		id := uint64(i)*10 + 2
		rt := ob.runtime()
		if err := rt.Add(DataflowSpec{ID: id, Plan: plan, View: &ViewSink{Rel: id, KeyCols: []int{0}, Unique: true}}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		drain(b, rt)
		b.StopTimer()
		rt.Close()
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
