package exec

import (
	"context"
	"fmt"
	"math/rand"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/log"
	"github.com/kappa-db/kappa/storage"
	"github.com/kappa-db/kappa/types"
)

// harness is a runtime over one table (g int4, v int4) without a primary
// key, with a real log and a real store.
type harness struct {
	t    *testing.T
	db   *storage.DB
	lg   *log.Log
	rt   *Runtime
	ids  []uint64 // row ids of live rows, by model index
	once sync.Once
}

const tableID, viewID = 1000, 1001

func newHarness(t *testing.T, dir string) *harness {
	db, err := storage.Open(filepath.Join(dir, "state"), nil)
	if err != nil {
		t.Fatal(err)
	}
	lg, err := log.Open(log.Options{Dir: filepath.Join(dir, "log"), Sync: log.SyncOff})
	if err != nil {
		t.Fatal(err)
	}
	rt := NewRuntime(Options{DB: db, Logs: func(uint64) (*log.Log, error) { return lg, nil }, MaxRecordsPerEpoch: 7})
	h := &harness{t: t, db: db, lg: lg, rt: rt}
	t.Cleanup(h.close)
	return h
}

func (h *harness) close() {
	h.once.Do(func() {
		h.rt.Close()
		h.lg.Close()
		h.db.Close()
	})
}

var tableTypes = []types.Type{types.Int4, types.Int4}

// aggPlan is SELECT g, count(*), count(v), sum(v), min(v), max(v), avg(v)
// FROM t WHERE v <> 13 GROUP BY g.
func aggPlan(t *testing.T) Node {
	ne, err := expr.LookupOperator("<>", types.Int4, types.Int4)
	if err != nil {
		t.Fatal(err)
	}
	scan := &Scan{Kind: ScanTable, Rel: tableID, Name: "t", Types: tableTypes}
	filter := &Filter{Input: scan, Pred: &expr.Call{Fn: ne, Args: []expr.Expr{&expr.ColRef{Idx: 1, T: types.Int4}, &expr.Const{V: types.NewInt4(13), T: types.Int4}}}}
	pre := &Project{Input: filter, Exprs: []expr.Expr{&expr.ColRef{Idx: 0, T: types.Int4}, &expr.ColRef{Idx: 1, T: types.Int4}}}
	return &Aggregate{Input: pre, GroupBy: []int{0}, Aggs: []AggCall{
		{Func: AggCountStar, Arg: -1, Type: types.Int8},
		{Func: AggCount, Arg: 1, Type: types.Int8},
		{Func: AggSum, Arg: 1, Type: types.Int8},
		{Func: AggMin, Arg: 1, Type: types.Int4},
		{Func: AggMax, Arg: 1, Type: types.Int4},
		{Func: AggAvg, Arg: 1, Type: types.Numeric},
	}, Types: []types.Type{types.Int4, types.Int8, types.Int8, types.Int8, types.Int4, types.Int4, types.Numeric}}
}

func (h *harness) start(t *testing.T) {
	if err := h.rt.Add(DataflowSpec{ID: tableID, Name: "t", TableID: tableID, Table: &TableSink{Rel: tableID}}); err != nil {
		t.Fatal(err)
	}
	if err := h.rt.Add(DataflowSpec{ID: viewID, Name: "v", Plan: aggPlan(t), View: &ViewSink{Rel: viewID, KeyCols: []int{0}, Unique: true}}); err != nil {
		t.Fatal(err)
	}
}

// catchUp runs epochs until every dataflow has read the whole log.
func (h *harness) catchUp() {
	for {
		more, err := h.rt.RunEpoch()
		if err != nil {
			h.t.Fatal(err)
		}
		if !more {
			off, _ := h.rt.Committed(viewID, tableID)
			if off == h.lg.End() {
				return
			}
		}
	}
}

func viewRows(t *testing.T, r storage.Reader) []string {
	var out []string
	err := ScanRelation(r, viewID, nil, func(_ []byte, cnt int64, row types.Row) error {
		if cnt != 1 {
			t.Fatalf("view row %v has multiplicity %d", row, cnt)
		}
		out = append(out, rowText(row))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func rowText(row types.Row) string {
	s := ""
	for i, v := range row {
		if i > 0 {
			s += "|"
		}
		if v.IsNull() {
			s += "NULL"
			continue
		}
		s += types.FormatText(v, types.ByKind(v.K), nil)
	}
	return s
}

// expected computes the view from the model, non-incrementally.
func expected(rows [][2]int64) []string {
	type acc struct {
		n, sum   int64
		min, max int64
	}
	groups := map[int64]*acc{}
	for _, r := range rows {
		if r[1] == 13 {
			continue
		}
		a, ok := groups[r[0]]
		if !ok {
			a = &acc{min: r[1], max: r[1]}
			groups[r[0]] = a
		}
		a.n++
		a.sum += r[1]
		a.min = min(a.min, r[1])
		a.max = max(a.max, r[1])
	}
	var out []string
	for g, a := range groups {
		avg := types.FormatText(mustAvg(a.sum, a.n), types.Numeric, nil)
		out = append(out, fmt.Sprintf("%d|%d|%d|%d|%d|%d|%s", g, a.n, a.n, a.sum, a.min, a.max, avg))
	}
	sort.Strings(out)
	return out
}

func mustAvg(sum, n int64) types.Value {
	div, err := expr.LookupOperator("/", types.Numeric, types.Numeric)
	if err != nil {
		panic(err)
	}
	v, err := div.Eval(&expr.EvalContext{}, []types.Value{types.NewNumericInt(sum), types.NewNumericInt(n)})
	if err != nil {
		panic(err)
	}
	return v
}

// TestAggregateIncrementalEqualsRecompute is the DBSP check: after every
// epoch of random inserts and deletes (deleting minima and maxima often),
// the integrated view equals the aggregate recomputed from scratch. A small
// MaxRecordsPerEpoch makes epochs end in the middle of a round's changes.
func TestAggregateIncrementalEqualsRecompute(t *testing.T) {
	seed := rand.Int63()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	h := newHarness(t, t.TempDir())
	h.start(t)
	var model [][2]int64
	for round := 0; round < 60; round++ {
		var recs [][]byte
		var added [][2]int64
		for i := rng.Intn(6); i > 0; i-- {
			r := [2]int64{int64(rng.Intn(4)), int64(rng.Intn(30) - 5)}
			recs = append(recs, AppendChange(nil, 1, 0, types.Row{types.NewInt4(r[0]), types.NewInt4(r[1])}))
			added = append(added, r)
		}
		for i := rng.Intn(4); i > 0 && len(model) > 0; i-- {
			j := rng.Intn(len(model))
			r := model[j]
			recs = append(recs, AppendChange(nil, -1, h.ids[j], types.Row{types.NewInt4(r[0]), types.NewInt4(r[1])}))
			model = append(model[:j], model[j+1:]...)
			h.ids = append(h.ids[:j], h.ids[j+1:]...)
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
			h.ids = append(h.ids, first+uint64(i)+1)
		}
		h.catchUp()
		got, want := viewRows(t, h.db), expected(model)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("round %d:\n got %v\nwant %v", round, got, want)
		}
		// The same operators, ad hoc, over the table's stored rows.
		var adhoc []string
		err = Query(context.Background(), aggPlan(t), h.db, &expr.EvalContext{}, func(row types.Row) error {
			adhoc = append(adhoc, rowText(row))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(adhoc)
		if fmt.Sprint(adhoc) != fmt.Sprint(want) {
			t.Fatalf("round %d ad hoc:\n got %v\nwant %v", round, adhoc, want)
		}
	}
}

// TestResumeFromCommittedEpoch restarts the runtime on the same store and
// log and checks the view continues exactly where it was.
func TestResumeFromCommittedEpoch(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, dir)
	h.start(t)
	var recs [][]byte
	for i := 0; i < 20; i++ {
		recs = append(recs, AppendChange(nil, 1, 0, types.Row{types.NewInt4(int64(i % 3)), types.NewInt4(int64(i))}))
	}
	if _, err := h.lg.Append(recs); err != nil {
		t.Fatal(err)
	}
	h.catchUp()
	before := viewRows(t, h.db)
	h.close()

	h2 := newHarness(t, dir)
	h2.start(t)
	if _, err := h2.lg.Append([][]byte{AppendChange(nil, 1, 0, types.Row{types.NewInt4(0), types.NewInt4(100)})}); err != nil {
		t.Fatal(err)
	}
	h2.catchUp()
	after := viewRows(t, h2.db)
	if before[0] == after[0] {
		t.Fatalf("group 0 did not change: %v", after)
	}
	var model [][2]int64
	for i := 0; i < 20; i++ {
		model = append(model, [2]int64{int64(i % 3), int64(i)})
	}
	model = append(model, [2]int64{0, 100})
	if fmt.Sprint(after) != fmt.Sprint(expected(model)) {
		t.Fatalf("after restart:\n got %v\nwant %v", after, expected(model))
	}
}

func TestBatchConsolidate(t *testing.T) {
	var b Batch
	a, c := types.Row{types.NewInt4(1)}, types.Row{types.NewInt4(2)}
	b.Add(a, 1)
	b.Add(c, 2)
	b.Add(types.Row{types.NewInt4(1)}, -1)
	b.Consolidate()
	if b.Len() != 1 || b.W[0] != 2 || types.Compare(b.Rows[0][0], c[0]) != 0 {
		t.Fatalf("got %v %v", b.Rows, b.W)
	}
}
