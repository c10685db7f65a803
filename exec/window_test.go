package exec

import (
	"fmt"
	"math/rand"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/storage"
	"github.com/kappa-db/kappa/types"
)

// winTypes is the input of the window tests: (k int4, v int4, x int8).
var winTypes = []types.Type{types.Int4, types.Int4, types.Int8}

func winScan() *Scan { return &Scan{Kind: ScanTable, Rel: 1, Name: "t", Types: winTypes} }

func i8(v int64) expr.Expr { return &expr.Const{V: types.NewInt8(v), T: types.Int8} }

// rangeTarget is v op off over the row [v int4, off int4].
func rangeTarget(t *testing.T, op string) expr.Expr {
	e, err := expr.BindOperator(op, &expr.ColRef{Idx: 0, T: types.Int4}, &expr.ColRef{Idx: 1, T: types.Int4})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var defaultFrame = WindowFrame{Mode: FrameRange, Start: FrameBound{Kind: BoundUnboundedPreceding}, End: FrameBound{Kind: BoundCurrentRow}}

// windowPlans are the plans the incremental tests check.
func windowPlans(t *testing.T) map[string]Node {
	rows2 := WindowFrame{Mode: FrameRows, Start: FrameBound{Kind: BoundPreceding, Offset: i8(2)}, End: FrameBound{Kind: BoundFollowing, Offset: i8(1)}}
	four := &expr.Const{V: types.NewInt4(4), T: types.Int4}
	rng := WindowFrame{Mode: FrameRange,
		Start: FrameBound{Kind: BoundPreceding, Offset: four, Target: rangeTarget(t, "-")},
		End:   FrameBound{Kind: BoundFollowing, Offset: four, Target: rangeTarget(t, "+")}}
	whole := WindowFrame{Mode: FrameRows, Start: FrameBound{Kind: BoundUnboundedPreceding}, End: FrameBound{Kind: BoundUnboundedFollowing}}
	// Columns 3 and 4 are constants for ntile and lag's offset.
	pre := &Project{Input: winScan(), Exprs: []expr.Expr{
		&expr.ColRef{Idx: 0, T: types.Int4}, &expr.ColRef{Idx: 1, T: types.Int4}, &expr.ColRef{Idx: 2, T: types.Int8},
		&expr.Const{V: types.NewInt4(3), T: types.Int4}, &expr.Const{V: types.NewInt4(2), T: types.Int4},
	}}
	order := []SortKey{{Col: 1}, {Col: 2, Desc: true, NullsFirst: true}}
	return map[string]Node{
		"ranking": &Window{Input: pre, PartitionBy: []int{0}, OrderBy: order[:1], Calls: []WindowCall{
			{Func: WinRowNumber, Type: types.Int8}, {Func: WinRank, Type: types.Int8}, {Func: WinDenseRank, Type: types.Int8},
			{Func: WinPercentRank, Type: types.Float8}, {Func: WinCumeDist, Type: types.Float8}, {Func: WinNtile, Args: []int{3}, Type: types.Int4},
		}},
		"values": &Window{Input: pre, PartitionBy: []int{0}, OrderBy: order, Calls: []WindowCall{
			{Func: WinLag, Args: []int{2}, Type: types.Int8}, {Func: WinLead, Args: []int{2, 4, 2}, Type: types.Int8},
			{Func: WinFirstValue, Args: []int{2}, Type: types.Int8, Frame: defaultFrame},
			{Func: WinLastValue, Args: []int{2}, Type: types.Int8, Frame: rows2},
			{Func: WinNthValue, Args: []int{2, 4}, Type: types.Int8, Frame: whole},
		}},
		"aggregates": &Window{Input: pre, PartitionBy: []int{0}, OrderBy: order[:1], Calls: []WindowCall{
			{Func: WinCountStar, Type: types.Int8, Frame: defaultFrame},
			{Func: WinSum, Args: []int{2}, Type: types.Numeric, Frame: rows2},
			{Func: WinAvg, Args: []int{2}, Type: types.Numeric, Frame: rng},
			{Func: WinMin, Args: []int{2}, Type: types.Int8, Frame: rows2},
			{Func: WinMax, Args: []int{2}, Type: types.Int8, Frame: rng},
			{Func: WinCount, Args: []int{1}, Type: types.Int8, Frame: whole},
		}},
		"one partition": &Window{Input: pre, OrderBy: order, Calls: []WindowCall{
			{Func: WinRowNumber, Type: types.Int8}, {Func: WinSum, Args: []int{2}, Type: types.Numeric, Frame: defaultFrame},
		}},
		"row_number top 2":   &GroupTopN{Input: winScan(), PartitionBy: []int{0}, OrderBy: order, Func: WinRowNumber, Lo: 1, Hi: 2},
		"rank 2..3":          &GroupTopN{Input: winScan(), PartitionBy: []int{0}, OrderBy: order[:1], Func: WinRank, Lo: 2, Hi: 3},
		"dense_rank = 1":     &GroupTopN{Input: winScan(), PartitionBy: []int{0, 1}, OrderBy: order[1:], Func: WinDenseRank, Lo: 1, Hi: 1},
		"row_number no part": &GroupTopN{Input: winScan(), OrderBy: order, Func: WinRowNumber, Lo: 1, Hi: 3},
	}
}

func randWinRow(r *rand.Rand) types.Row {
	row := types.Row{types.NewInt4(int64(r.Intn(4))), types.NewInt4(int64(r.Intn(6))), types.NewInt8(int64(r.Intn(9) - 3))}
	for i := range row {
		if r.Intn(8) == 0 {
			row[i] = types.Null
		}
	}
	return row
}

func multisetText(m map[string]int64) string {
	var out []string
	for k, n := range m {
		if n != 0 {
			out = append(out, fmt.Sprintf("%s x%d", k, n))
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// adhoc runs plan over input as an ad hoc query does.
func adhoc(t *testing.T, plan Node, input map[string]types.Row, counts map[string]int64) map[string]int64 {
	g, err := buildGraph(plan, adhocStateID)
	if err != nil {
		t.Fatal(err)
	}
	ec := &epochCtx{eval: &expr.EvalContext{}, ephemeral: true}
	in := &Batch{}
	for k, row := range input {
		if counts[k] > 0 {
			in.Add(row, counts[k])
		}
	}
	got := map[string]int64{}
	out := func(b *Batch) error {
		for i, r := range b.Rows {
			got[rowText(r)] += b.W[i]
		}
		return nil
	}
	if err := g.push(ec, g.leaves[0], in, out); err != nil {
		t.Fatal(err)
	}
	if err := g.flush(ec, out); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestWindowIncremental checks the Z-set invariant of the window operators:
// integrating the output deltas of random epochs of inserts and deletes
// (NULLs, ties, duplicates) equals the operator run ad hoc on the
// integrated input.
func TestWindowIncremental(t *testing.T) {
	for name, plan := range windowPlans(t) {
		t.Run(name, func(t *testing.T) {
			d := newTestDataflow(t, plan)
			r := rand.New(rand.NewSource(1))
			rows := map[string]types.Row{}
			counts := map[string]int64{}
			for epoch := 0; epoch < 40; epoch++ {
				delta := &Batch{}
				for i := r.Intn(12); i >= 0; i-- {
					row := randWinRow(r)
					k := rowText(row)
					w := int64(1)
					if counts[k] > 0 && r.Intn(2) == 0 {
						w = -1
					}
					rows[k] = row
					counts[k] += w
					delta.Add(row, w)
				}
				d.epoch(delta, 0)
				want := multisetText(adhoc(t, plan, rows, counts))
				if got := multisetText(d.view); got != want {
					t.Fatalf("epoch %d: view\n%s\nwant\n%s", epoch, got, want)
				}
			}
		})
	}
}

// TestGroupTopNMatchesWindow checks that the per-group Top-N gives what a
// Window with the same ranking function, filtered to [Lo, Hi], gives.
func TestGroupTopNMatchesWindow(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	rows := map[string]types.Row{}
	counts := map[string]int64{}
	for i := 0; i < 200; i++ {
		row := randWinRow(r)
		rows[rowText(row)] = row
		counts[rowText(row)]++
	}
	for name, plan := range windowPlans(t) {
		top, ok := plan.(*GroupTopN)
		if !ok {
			continue
		}
		t.Run(name, func(t *testing.T) {
			win := &Window{Input: top.Input, PartitionBy: top.PartitionBy, OrderBy: top.OrderBy, Calls: []WindowCall{{Func: top.Func, Type: types.Int8}}}
			rank := &expr.ColRef{Idx: 3, T: types.Int8}
			ge, _ := expr.BindOperator(">=", rank, i8(top.Lo))
			le, _ := expr.BindOperator("<=", rank, i8(top.Hi))
			and, _ := expr.NewAnd(ge, le)
			want := multisetText(adhoc(t, &Filter{Input: win, Pred: and}, rows, counts))
			if got := multisetText(adhoc(t, top, rows, counts)); got != want {
				t.Fatalf("group top-n\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// TestWindowValues checks computed values on a small partition by hand.
func TestWindowValues(t *testing.T) {
	plans := windowPlans(t)
	in := func(k, v, x int64) types.Row {
		return types.Row{types.NewInt4(k), types.NewInt4(v), types.NewInt8(x)}
	}
	rows := map[string]types.Row{}
	counts := map[string]int64{}
	for _, r := range []types.Row{in(1, 1, 10), in(1, 2, 20), in(1, 2, 30), in(1, 5, 40), in(1, 9, 50)} {
		rows[rowText(r)] = r
		counts[rowText(r)]++
	}
	got := multisetText(adhoc(t, plans["ranking"], rows, counts))
	want := strings.Join([]string{
		"1|1|10|3|2|1|1|1|0|0.2|1 x1",
		"1|2|20|3|2|2|2|2|0.25|0.6|1 x1",
		"1|2|30|3|2|3|2|2|0.25|0.6|2 x1",
		"1|5|40|3|2|4|4|3|0.75|0.8|2 x1",
		"1|9|50|3|2|5|5|4|1|1|3 x1",
	}, "\n")
	if got != want {
		t.Fatalf("ranking\n%s\nwant\n%s", got, want)
	}
	got = multisetText(adhoc(t, plans["aggregates"], rows, counts))
	// count(*) default frame (peers), sum rows 2 preceding..1 following,
	// avg/max over v in [v-4, v+4], count(v) whole partition.
	want = strings.Join([]string{
		"1|1|10|3|2|1|30|25.0000000000000000|10|40|5 x1",
		"1|2|20|3|2|3|60|25.0000000000000000|10|40|5 x1",
		"1|2|30|3|2|3|100|25.0000000000000000|10|40|5 x1",
		"1|5|40|3|2|4|140|30.0000000000000000|20|50|5 x1",
		"1|9|50|3|2|5|120|45.0000000000000000|30|50|5 x1",
	}, "\n")
	if got != want {
		t.Fatalf("aggregates\n%s\nwant\n%s", got, want)
	}
}

// benchTopNEpochs runs epochs of rowsPerEpoch changes through plan: first a
// backfill of `rows` inserts into 1000 partitions, then (timed) each epoch
// updates rowsPerEpoch random rows (-old +new), which moves rows in and out
// of their partition's top.
func benchWindowOp(b *testing.B, plan Node, rows, rowsPerEpoch int) {
	db, err := storage.Open(filepath.Join(b.TempDir(), "state"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	g, err := buildGraph(plan, 11)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewSource(3))
	live := make([]types.Row, rows)
	mk := func(i int) types.Row {
		return types.Row{types.NewInt4(int64(r.Intn(1000))), types.NewInt4(int64(r.Intn(1_000_000))), types.NewInt8(int64(i))}
	}
	emitted := 0
	out := func(b *Batch) error { emitted += b.Len(); return nil }
	epoch := func(delta *Batch) {
		batch := db.NewBatch()
		ec := &epochCtx{eval: &expr.EvalContext{}, store: batch}
		g.reset()
		if err := g.push(ec, g.leaves[0], delta, out); err != nil {
			b.Fatal(err)
		}
		if err := g.flush(ec, out); err != nil {
			b.Fatal(err)
		}
		if err := batch.Commit(false); err != nil {
			b.Fatal(err)
		}
		batch.Close()
	}
	for start := 0; start < rows; start += 10_000 {
		delta := &Batch{}
		for i := start; i < min(start+10_000, rows); i++ {
			live[i] = mk(i)
			delta.Add(live[i], 1)
		}
		epoch(delta)
	}
	b.ReportAllocs()
	b.ResetTimer()
	changes := 0
	for n := 0; n < b.N; n++ {
		delta := &Batch{}
		for j := 0; j < rowsPerEpoch; j++ {
			i := r.Intn(rows)
			delta.Add(live[i], -1)
			live[i] = mk(i)
			delta.Add(live[i], 1)
			changes += 2
		}
		epoch(delta)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(changes), "ns/row")
	b.ReportMetric(float64(emitted)/float64(changes), "out/row")
}

// BenchmarkGroupTopN: the top 3 of each of 1000 partitions (100k rows),
// maintained under updates of 100 rows per epoch. Divide allocs/op by 200
// for allocations per changed row.
func BenchmarkGroupTopN(b *testing.B) {
	plan := &GroupTopN{Input: winScan(), PartitionBy: []int{0}, OrderBy: []SortKey{{Col: 1, Desc: true, NullsFirst: true}}, Func: WinRowNumber, Lo: 1, Hi: 3}
	benchWindowOp(b, plan, 100_000, 100)
}

// BenchmarkWindowRunningSum: a running sum per partition (100 rows each),
// recomputed for each changed partition.
func BenchmarkWindowRunningSum(b *testing.B) {
	plan := &Window{Input: winScan(), PartitionBy: []int{0}, OrderBy: []SortKey{{Col: 1}}, Calls: []WindowCall{
		{Func: WinSum, Args: []int{2}, Type: types.Numeric, Frame: defaultFrame}}}
	benchWindowOp(b, plan, 100_000, 100)
}

// TestGroupTopNAppendOnly is TestWindowIncremental's check for a GroupTopN
// over a source (append-only): it stores only the rows before each
// partition's boundary, merges each epoch's rows in memory and keeps the
// partitions of committed epochs in memory. Some epochs are first
// attempted and aborted (the runtime retries an epoch when another view
// fails in it), and the dataflow restarts now and then (its memory gone).
func TestGroupTopNAppendOnly(t *testing.T) {
	for name, plan := range windowPlans(t) {
		g, ok := plan.(*GroupTopN)
		if !ok {
			continue
		}
		src := *winScan()
		src.Kind = ScanSource
		spec := *g
		spec.Input = &src
		t.Run(name, func(t *testing.T) {
			if !AppendOnly(spec.Input) {
				t.Fatal("input not append-only")
			}
			d := newTestDataflow(t, &spec)
			r := rand.New(rand.NewSource(3))
			rows := map[string]types.Row{}
			counts := map[string]int64{}
			for epoch := 0; epoch < 120; epoch++ {
				delta := &Batch{}
				for i := r.Intn(12); i >= 0; i-- {
					row := randWinRow(r)
					k := rowText(row)
					rows[k] = row
					counts[k]++
					delta.Add(row, 1)
				}
				switch r.Intn(8) {
				case 0:
					// An attempt that fails, with other rows than the retry.
					other := &Batch{}
					for i := r.Intn(12); i >= 0; i-- {
						other.Add(randWinRow(r), 1)
					}
					d.abortedEpoch(other, 0)
				case 1:
					d.restart(&spec)
				}
				d.epoch(delta, 0)
				want := multisetText(adhoc(t, &spec, rows, counts))
				if got := multisetText(d.view); got != want {
					t.Fatalf("epoch %d: view\n%s\nwant\n%s", epoch, got, want)
				}
			}
			// Rows pushed past a partition's boundary are deleted: the
			// state holds at most the rows before each boundary.
			stored := 0
			lo := storage.StatePrefix(7)
			if err := d.db.Scan(append(lo, 0), append(lo, 1), false, func(_, _ []byte) (bool, error) {
				stored++
				return true, nil
			}); err != nil {
				t.Fatal(err)
			}
			if n := len(rows); stored >= n/2 {
				t.Errorf("%d rows stored of %d distinct input rows", stored, n)
			}
		})
	}
}
