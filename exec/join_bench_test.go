package exec

import (
	"fmt"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/kappa-db/kappa/log"
	"github.com/kappa-db/kappa/storage"
	"github.com/kappa-db/kappa/types"
)

// opBench is a store and one log per table for the operator tests and
// benchmarks: a dataflow reads its tables' logs and commits to the store,
// as in a server, without the wire, the parser or the table's own dataflow.
type opBench struct {
	tb   testing.TB
	db   *storage.DB
	logs map[uint64]*log.Log
}

func newOpBench(tb testing.TB, tables ...uint64) *opBench {
	tb.Helper()
	dir := tb.TempDir()
	db, err := storage.Open(filepath.Join(dir, "state"), nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	ob := &opBench{tb: tb, db: db, logs: map[uint64]*log.Log{}}
	for _, id := range tables {
		lg, err := log.Open(log.Options{Dir: filepath.Join(dir, fmt.Sprint(id)), Sync: log.SyncOff})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { lg.Close() })
		ob.logs[id] = lg
	}
	return ob
}

// logOf is the runtime's Options.Logs.
func (ob *opBench) logOf(id uint64) (*log.Log, error) { return ob.logs[id], nil }

func (ob *opBench) runtime() *Runtime {
	return NewRuntime(Options{DB: ob.db, Logs: ob.logOf})
}

// append logs changes of rows with weight w to table's log.
func (ob *opBench) append(table uint64, w int64, rows ...types.Row) {
	recs := make([][]byte, len(rows))
	for i, r := range rows {
		recs[i] = AppendChange(nil, w, 0, r)
	}
	if _, err := ob.logs[table].Append(recs); err != nil {
		ob.tb.Fatal(err)
	}
}

// drain runs epochs until every log is consumed.
func drain(tb testing.TB, rt *Runtime) {
	tb.Helper()
	for {
		more, err := rt.RunEpoch()
		if err != nil {
			tb.Fatal(err)
		}
		if !more {
			return
		}
	}
}

// mallocs returns the number of heap allocations so far.
func mallocs() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs
}

// joinPlan is SELECT * FROM l JOIN r ON l.k = r.k over l(id bigint, k int)
// and r(k int, v bigint).
func joinPlan(kind JoinKind) Node {
	return &Join{
		Left:  &Scan{Kind: ScanTable, Rel: 1, Types: []types.Type{types.Int8, types.Int4}},
		Right: &Scan{Kind: ScanTable, Rel: 2, Types: []types.Type{types.Int4, types.Int8}},
		Kind:  kind, LeftKeys: []int{1}, RightKeys: []int{0},
	}
}

func leftRow(id, k int) types.Row {
	return types.Row{types.NewInt8(int64(id)), types.NewInt4(int64(k))}
}
func rightRow(k, v int) types.Row { return types.Row{types.NewInt4(int64(k)), types.NewInt8(int64(v))} }

// BenchmarkJoinBackfill measures a join view consuming two logged tables of
// joinRows rows each (every left row matches one right row, keys 0..9999
// ten times each on the left): the rate at which an incremental join
// builds its state and output, per input row.
func BenchmarkJoinBackfill(b *testing.B) {
	const rows = 50_000
	for _, kind := range []JoinKind{JoinInner, JoinLeft} {
		b.Run(kind.String(), func(b *testing.B) {
			ob := newOpBench(b, 1, 2)
			left := make([]types.Row, rows)
			right := make([]types.Row, rows)
			for i := range left {
				left[i] = leftRow(i, i%(rows/10))
				right[i] = rightRow(i, i*7)
			}
			ob.append(1, 1, left...)
			ob.append(2, 1, right...)
			var allocs uint64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				rt := ob.runtime()
				id := uint64(i+1) * 10
				if err := rt.Add(DataflowSpec{ID: id, Plan: joinPlan(kind), View: &ViewSink{Rel: id, KeyCols: []int{0, 1, 2, 3}}}); err != nil {
					b.Fatal(err)
				}
				m := mallocs()
				b.StartTimer()
				drain(b, rt)
				b.StopTimer()
				allocs += mallocs() - m
				rt.Close()
			}
			in := float64(2 * rows * b.N)
			b.ReportMetric(in/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/in, "ns/row")
			b.ReportMetric(float64(allocs)/in, "allocs/row")
		})
	}
}

// BenchmarkJoinChange measures the cost of one change through a join view
// that already holds 50,000 rows a side: each op is one epoch in which a
// left row moves to another key (-old +new), so it leaves one match and
// finds another. The cost should not grow with the tables.
func BenchmarkJoinChange(b *testing.B) {
	for _, rows := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			ob := newOpBench(b, 1, 2)
			left := make([]types.Row, rows)
			right := make([]types.Row, rows)
			for i := range left {
				left[i] = leftRow(i, i)
				right[i] = rightRow(i, i*7)
			}
			ob.append(1, 1, left...)
			ob.append(2, 1, right...)
			rt := ob.runtime()
			defer rt.Close()
			if err := rt.Add(DataflowSpec{ID: 10, Plan: joinPlan(JoinInner), View: &ViewSink{Rel: 10, KeyCols: []int{0, 1, 2, 3}}}); err != nil {
				b.Fatal(err)
			}
			drain(b, rt)
			keys := make([]int, rows) // the current key of each left row
			for i := range keys {
				keys[i] = i
			}
			m := mallocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				id := (i * 7919) % rows
				old := keys[id]
				keys[id] = (old + 1 + i) % rows
				ob.append(1, -1, leftRow(id, old))
				ob.append(1, 1, leftRow(id, keys[id]))
				drain(b, rt)
			}
			b.StopTimer()
			b.ReportMetric(float64(mallocs()-m)/float64(b.N), "allocs/change")
		})
	}
}
