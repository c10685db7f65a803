package exec

import (
	"testing"

	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/types"
)

// topNPlan is SELECT id, v FROM t ORDER BY v DESC, id LIMIT 10 over
// t(id bigint, v bigint).
func topNPlan() Node {
	return &Limit{
		Input: &Sort{
			Input: &Scan{Kind: ScanTable, Rel: 1, Types: []types.Type{types.Int8, types.Int8}},
			Keys:  []SortKey{{Col: 1, Desc: true}, {Col: 0}},
		},
		Limit: &expr.Const{V: types.NewInt8(10), T: types.Int8},
	}
}

func topNRow(id, v int) types.Row {
	return types.Row{types.NewInt8(int64(id)), types.NewInt8(int64(v))}
}

// topNValue spreads values over 0..rows*10 in a scrambled order.
func topNValue(i, rows int) int { return (i * 7919) % (rows * 10) }

// BenchmarkTopNBackfill measures a Top-N view consuming a logged table:
// every input row is kept in sort order (so that a deleted row in the top
// can bring the next one in), per input row.
func BenchmarkTopNBackfill(b *testing.B) {
	const rows = 100_000
	ob := newOpBench(b, 1)
	in := make([]types.Row, rows)
	for i := range in {
		in[i] = topNRow(i, topNValue(i, rows))
	}
	ob.append(1, 1, in...)
	var allocs uint64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		rt := ob.runtime()
		id := uint64(i+1) * 10
		if err := rt.Add(DataflowSpec{ID: id, Plan: topNPlan(), View: &ViewSink{Rel: id, KeyCols: []int{0, 1}}}); err != nil {
			b.Fatal(err)
		}
		m := mallocs()
		b.StartTimer()
		drain(b, rt)
		b.StopTimer()
		allocs += mallocs() - m
		rt.Close()
	}
	n := float64(rows * b.N)
	b.ReportMetric(n/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/row")
	b.ReportMetric(float64(allocs)/n, "allocs/row")
}

// BenchmarkTopNChange measures one change through a Top-N view over a
// table of 100,000 rows, one epoch per op: "top" deletes the current first
// row (the 11th comes in) and inserts a row that goes to the bottom;
// "outside" inserts and deletes rows far below the top. Neither should cost
// in proportion to the table.
func BenchmarkTopNChange(b *testing.B) {
	for _, where := range []string{"top", "outside"} {
		b.Run(where, func(b *testing.B) {
			const rows = 100_000
			ob := newOpBench(b, 1)
			in := make([]types.Row, rows)
			for i := range in {
				in[i] = topNRow(i, topNValue(i, rows))
			}
			ob.append(1, 1, in...)
			rt := ob.runtime()
			defer rt.Close()
			if err := rt.Add(DataflowSpec{ID: 10, Plan: topNPlan(), View: &ViewSink{Rel: 10, KeyCols: []int{0, 1}}}); err != nil {
				b.Fatal(err)
			}
			drain(b, rt)
			// The top in order: the highest values first. Deleting one a
			// time walks down from the top.
			byValue := make(map[int]int, rows) // value -> id
			for i := range in {
				byValue[topNValue(i, rows)] = i
			}
			top := rows*10 - 1
			next := rows
			m := mallocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				switch where {
				case "top":
					for {
						if _, ok := byValue[top]; ok {
							break
						}
						top--
					}
					ob.append(1, -1, topNRow(byValue[top], top))
					delete(byValue, top)
					ob.append(1, 1, topNRow(next, -next))
				default:
					ob.append(1, 1, topNRow(next, -next))
					if i > 0 {
						ob.append(1, -1, topNRow(next-1, -(next-1)))
					}
				}
				next++
				drain(b, rt)
			}
			b.StopTimer()
			b.ReportMetric(float64(mallocs()-m)/float64(b.N), "allocs/change")
			if where == "top" && b.N > rows/2 {
				b.Fatalf("b.N %d would empty the table", b.N)
			}
		})
	}
}
