package exec

import (
	"context"
	"fmt"
	"math/rand"
	"runtime"
	"sort"
	"testing"

	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/types"
)

// moreAggPlan is, over t(g int4, v int4):
//
//	SELECT g, <set>, bool_and(v > 5), string_agg(v::text, ',' ORDER BY v),
//	       array_agg(v ORDER BY v DESC), var_samp(v), stddev_pop(v),
//	       percentile_cont(0.5), percentile_disc(0.3), mode(),
//	       approx_percentile(0.9) WITHIN GROUP (ORDER BY v),
//	       approx_count_distinct(v), count(*) FILTER (WHERE v > 5),
//	       array_agg(DISTINCT v ORDER BY v)
//	FROM t GROUP BY ROLLUP (g)
func moreAggPlan(t testing.TB) Node {
	gt, err := expr.LookupOperator(">", types.Int4, types.Int4)
	if err != nil {
		t.Fatal(err)
	}
	g := &expr.ColRef{Idx: 0, T: types.Int4}
	v := &expr.ColRef{Idx: 1, T: types.Int4}
	txt, err := expr.CastTo(v, types.Text)
	if err != nil {
		t.Fatal(err)
	}
	fv, err := expr.CastTo(v, types.Float8)
	if err != nil {
		t.Fatal(err)
	}
	big := &expr.Call{Fn: gt, Args: []expr.Expr{v, &expr.Const{V: types.NewInt4(5), T: types.Int4}}}
	scan := &Scan{Kind: ScanTable, Rel: tableID, Name: "t", Types: tableTypes}
	// 0 g, 1 v, 2 v > 5, 3 v::text, 4 ',', 5 v::float8
	pre := &Project{Input: scan, Exprs: []expr.Expr{g, v, big, txt, &expr.Const{V: types.NewText(","), T: types.Text}, fv}}
	asc, desc := []SortKey{{Col: 1}}, []SortKey{{Col: 1, Desc: true, NullsFirst: true}}
	return &Aggregate{Input: pre, GroupBy: []int{0}, GroupingSets: [][]int{{0}, {}}, Aggs: []AggCall{
		{Func: AggBoolAnd, Arg: 2, Type: types.Bool},
		{Func: AggStringAgg, Arg: 3, Args: []int{4}, OrderBy: asc, Type: types.Text},
		{Func: AggArrayAgg, Arg: 1, OrderBy: desc, Type: types.ArrayOf(types.Int4)},
		{Func: AggVarSamp, Arg: 1, Type: types.Numeric},
		{Func: AggStddevPop, Arg: 1, Type: types.Numeric},
		{Func: AggPercentileCont, Arg: -1, OrderBy: []SortKey{{Col: 5}}, Fraction: types.NewFloat8(0.5), Type: types.Float8},
		{Func: AggPercentileDisc, Arg: -1, OrderBy: asc, Fraction: types.NewFloat8(0.3), Type: types.Int4},
		{Func: AggMode, Arg: -1, OrderBy: asc, Type: types.Int4},
		{Func: AggApproxPercentile, Arg: -1, OrderBy: []SortKey{{Col: 5}}, Fraction: types.NewFloat8(0.9), Type: types.Float8},
		{Func: AggApproxCountDistinct, Arg: 1, Type: types.Int8},
		{Func: AggCountStar, Arg: -1, HasFilter: true, FilterCol: 2, Type: types.Int8},
		{Func: AggArrayAgg, Arg: 1, Distinct: true, OrderBy: asc, Type: types.ArrayOf(types.Int4)},
	}, Types: []types.Type{types.Int4, types.Int4, types.Bool, types.Text, types.ArrayOf(types.Int4), types.Numeric, types.Numeric,
		types.Float8, types.Int4, types.Int4, types.Float8, types.Int8, types.Int8, types.ArrayOf(types.Int4)}}
}

// TestMoreAggregatesIncrementalEqualsRecompute is the DBSP check for the
// element, variance and boolean aggregates and grouping sets: after every
// epoch of random inserts and deletes (with duplicates, so deletes remove
// medians, modes and last elements), the integrated view equals the same
// plan run from scratch over the table's rows; halfway the runtime
// restarts, so the view continues from its stored state.
func TestMoreAggregatesIncrementalEqualsRecompute(t *testing.T) {
	seed := rand.Int63()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	dir := t.TempDir()
	h := newHarness(t, dir)
	start := func(h *harness) {
		if err := h.rt.Add(DataflowSpec{ID: tableID, Name: "t", TableID: tableID, Table: &TableSink{Rel: tableID}}); err != nil {
			t.Fatal(err)
		}
		if err := h.rt.Add(DataflowSpec{ID: viewID, Name: "v", Plan: moreAggPlan(t), View: &ViewSink{Rel: viewID, KeyCols: []int{0, 1}, Unique: true}}); err != nil {
			t.Fatal(err)
		}
	}
	start(h)
	var model [][2]int64
	var ids []uint64
	for round := 0; round < 50; round++ {
		if round == 49 && testing.Verbose() {
			t.Log(viewRows(t, h.db))
		}
		if round == 25 {
			h.close()
			h = newHarness(t, dir)
			start(h)
		}
		var recs [][]byte
		var added [][2]int64
		for i := rng.Intn(6); i > 0; i-- {
			r := [2]int64{int64(rng.Intn(3)), int64(rng.Intn(12) - 3)}
			recs = append(recs, AppendChange(nil, 1, 0, types.Row{types.NewInt4(r[0]), types.NewInt4(r[1])}))
			added = append(added, r)
		}
		for i := rng.Intn(5); i > 0 && len(model) > 0; i-- {
			j := rng.Intn(len(model))
			r := model[j]
			recs = append(recs, AppendChange(nil, -1, ids[j], types.Row{types.NewInt4(r[0]), types.NewInt4(r[1])}))
			model = append(model[:j], model[j+1:]...)
			ids = append(ids[:j], ids[j+1:]...)
		}
		if len(recs) == 0 {
			continue
		}
		first, err := h.lg.Append(recs)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range added {
			model = append(model, r)
			ids = append(ids, first+uint64(i)+1)
		}
		h.catchUp()
		got := viewRows(t, h.db)
		var want []string
		err = Query(context.Background(), moreAggPlan(t), h.db, &expr.EvalContext{}, func(row types.Row) error {
			want = append(want, rowText(row))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(want)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("round %d (%d rows):\n got %v\nwant %v", round, len(model), got, want)
		}
	}
}

// BenchmarkAggregateGrouped measures a GROUP BY view over 1000 groups
// consuming 100,000 logged rows (inserts, then the deletes of half of
// them) for several aggregates, and reports allocations per input row.
func BenchmarkAggregateGrouped(b *testing.B) {
	ts := []types.Type{types.Int8, types.Int4, types.Int8}
	col := func(i int) expr.Expr { return &expr.ColRef{Idx: i, T: ts[i]} }
	txt, _ := expr.CastTo(col(2), types.Text)
	fv, _ := expr.CastTo(col(2), types.Float8)
	cases := []struct {
		name string
		pre  []expr.Expr
		agg  AggCall
		typ  types.Type
	}{
		{"sum", []expr.Expr{col(1), col(2)}, AggCall{Func: AggSum, Arg: 1, Type: types.Numeric}, types.Numeric},
		{"min", []expr.Expr{col(1), col(2)}, AggCall{Func: AggMin, Arg: 1, Type: types.Int8}, types.Int8},
		{"stddev", []expr.Expr{col(1), col(2)}, AggCall{Func: AggStddevSamp, Arg: 1, Type: types.Numeric}, types.Numeric},
		{"bool_and", []expr.Expr{col(1), &expr.Const{V: types.NewBool(true), T: types.Bool}}, AggCall{Func: AggBoolAnd, Arg: 1, Type: types.Bool}, types.Bool},
		{"string_agg", []expr.Expr{col(1), txt, &expr.Const{V: types.NewText(","), T: types.Text}}, AggCall{Func: AggStringAgg, Arg: 1, Args: []int{2}, OrderBy: []SortKey{{Col: 1}}, Type: types.Text}, types.Text},
		{"percentile_cont", []expr.Expr{col(1), fv}, AggCall{Func: AggPercentileCont, Arg: -1, OrderBy: []SortKey{{Col: 1}}, Fraction: types.NewFloat8(0.5), Type: types.Float8}, types.Float8},
		{"approx_percentile", []expr.Expr{col(1), fv}, AggCall{Func: AggApproxPercentile, Arg: -1, OrderBy: []SortKey{{Col: 1}}, Fraction: types.NewFloat8(0.5), Type: types.Float8}, types.Float8},
	}
	const rows = 100_000
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			ob := newOpBench(b, 1)
			lg := ob.logs[1]
			recs := make([][]byte, 0, rows+rows/2)
			for i := 0; i < rows; i++ {
				recs = append(recs, AppendChange(nil, 1, 0, types.Row{types.NewInt8(int64(i)), types.NewInt4(int64(i % 1000)), types.NewInt8(int64(i * 7 % 10007))}))
			}
			for i := 0; i < rows; i += 2 {
				recs = append(recs, AppendChange(nil, -1, uint64(i+1), types.Row{types.NewInt8(int64(i)), types.NewInt4(int64(i % 1000)), types.NewInt8(int64(i * 7 % 10007))}))
			}
			if _, err := lg.Append(recs); err != nil {
				b.Fatal(err)
			}
			plan := &Aggregate{
				Input:   &Project{Input: &Scan{Kind: ScanTable, Rel: 1, Types: ts}, Exprs: c.pre},
				GroupBy: []int{0},
				Aggs:    []AggCall{c.agg},
				Types:   []types.Type{types.Int4, c.typ},
			}
			var allocs uint64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				base := uint64(i) * 10
				rt := ob.runtime()
				if err := rt.Add(DataflowSpec{ID: base + 2, Plan: plan, View: &ViewSink{Rel: base + 2, KeyCols: []int{0}, Unique: true}}); err != nil {
					b.Fatal(err)
				}
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				before := ms.Mallocs
				b.StartTimer()
				drain(b, rt)
				b.StopTimer()
				runtime.ReadMemStats(&ms)
				allocs += ms.Mallocs - before
				rt.Close()
			}
			n := float64(len(recs)) * float64(b.N)
			b.ReportMetric(n/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(allocs)/n, "allocs/row")
		})
	}
}
