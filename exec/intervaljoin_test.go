package exec

import (
	"math/rand"
	"testing"

	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/storage"
	"github.com/kappa-db/kappa/types"
)

// TestIntervalJoinForgetsRows runs interval joins (l.ts BETWEEN r.ts - 3 s
// AND r.ts + 2 s, equi-keyed) of every kind over two tables with
// watermarks, with rows out of order, late rows and deletes of rows at or
// above the watermark, and checks after every epoch that the view equals
// the same plan run ad hoc, and at the end that the join forgot the rows
// the watermarks left behind.
func TestIntervalJoinForgetsRows(t *testing.T) {
	defer func(n int) { minKnownProbes = n }(minKnownProbes)
	minKnownProbes = 1 // keys known in memory from the first probe
	for _, kind := range []JoinKind{JoinInner, JoinLeft, JoinRight, JoinFull} {
		t.Run(kind.String(), func(t *testing.T) { testIntervalJoin(t, kind, false) })
	}
	// l.ts >= r.ts - 3 s only: the left side forgets rows, and a right row
	// probes every left bucket from its lower end on.
	t.Run("one-sided", func(t *testing.T) { testIntervalJoin(t, JoinLeft, true) })
}

func testIntervalJoin(t *testing.T, kind JoinKind, oneSided bool) {
	seed := rand.Int63()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	ob := newOpBench(t, 1, 2)
	db, logs := ob.db, ob.logs
	rt := NewRuntime(Options{DB: db, Logs: ob.logOf, MaxRecordsPerEpoch: 7})
	defer rt.Close()
	const second = 1_000_000
	ts := []types.Type{types.Int4, types.Timestamp}
	wm := &ScanWatermark{Col: 1, Delay: 2 * second}
	op := func(name string, a, b types.Type) *expr.Func {
		f, err := expr.LookupOperator(name, a, b)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	iv := func(us int64) expr.Expr { return &expr.Const{V: types.NewInterval(0, 0, us), T: types.Interval} }
	lts, rts := &expr.ColRef{Idx: 1, T: types.Timestamp}, &expr.ColRef{Idx: 3, T: types.Timestamp}
	on := &expr.And{Args: []expr.Expr{
		&expr.Call{Fn: op(">=", types.Timestamp, types.Timestamp), Args: []expr.Expr{lts,
			&expr.Call{Fn: op("-", types.Timestamp, types.Interval), Args: []expr.Expr{rts, iv(3 * second)}}}},
		&expr.Call{Fn: op("<=", types.Timestamp, types.Timestamp), Args: []expr.Expr{lts,
			&expr.Call{Fn: op("+", types.Timestamp, types.Interval), Args: []expr.Expr{rts, iv(2 * second)}}}},
	}}
	wantBound := "#1-#1 in [-3s, 2s]"
	if oneSided {
		on.Args = on.Args[:1]
		wantBound = "#1-#1 in [-3s, +inf]"
	}
	plan := func() Node {
		return &Join{Left: &Scan{Kind: ScanTable, Rel: 1, Types: ts, Watermark: wm}, Right: &Scan{Kind: ScanTable, Rel: 2, Types: ts, Watermark: wm},
			Kind: kind, LeftKeys: []int{0}, RightKeys: []int{0}, On: on, TimeBuckets: true}
	}
	if b, ok := JoinIntervalOf(plan().(*Join)); !ok || b.String() != wantBound {
		t.Fatalf("JoinIntervalOf = %v, %v", b, ok)
	}
	for _, id := range []uint64{1, 2} {
		if err := rt.Add(DataflowSpec{ID: 100 + id, TableID: id, Table: &TableSink{Rel: id, Watermark: wm}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := rt.Add(DataflowSpec{ID: 200, Plan: plan(), View: &ViewSink{Rel: 200, KeyCols: []int{0, 1, 2, 3}}}); err != nil {
		t.Fatal(err)
	}
	// Live rows per table (row id → row): those the table admitted. The
	// tables only drop late inserts; a delete always applies, so (as the
	// engine refuses DELETE on a table with a watermark) the test deletes
	// only rows still at or above the watermark.
	live := map[uint64]map[uint64]types.Row{1: {}, 2: {}}
	maxTS := map[uint64]int64{1: -1 << 62, 2: -1 << 62}
	now := int64(0) // µs; each side's times move on with up to 3 s of disorder
	const rounds = 60
	for round := 0; round < rounds; round++ {
		now += int64(rng.Intn(2*second + 1))
		for _, id := range []uint64{1, 2} {
			var recs [][]byte
			admitted := map[int]types.Row{}
			for i := rng.Intn(5); i > 0; i-- {
				r := types.Row{types.NewInt4(int64(rng.Intn(3))), types.NewTimestamp(now - int64(rng.Intn(3*second)))}
				if t := r[1].I; t >= maxTS[id]-wm.Delay {
					admitted[len(recs)] = r
					maxTS[id] = max(maxTS[id], t)
				}
				recs = append(recs, AppendChange(nil, 1, 0, r))
			}
			for rid, r := range live[id] {
				if rng.Intn(6) == 0 && r[1].I >= maxTS[id]-wm.Delay {
					recs = append(recs, AppendChange(nil, -1, rid, r))
					delete(live[id], rid)
				}
			}
			if len(recs) == 0 {
				continue
			}
			first, err := logs[id].Append(recs)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range admitted {
				live[id][first+uint64(i)+1] = r
			}
		}
		drain(t, rt)
		checkViewIsQuery(t, db, 200, plan(), round)
	}
	// Rows more than delay + 3 s behind the last times are forgotten (on
	// the left side only when one-sided): what is left is a few seconds'
	// worth, not the run's.
	var rows [2]int
	p := storage.StatePrefix(200 << 8)
	if err := db.Scan(p, storage.PrefixEnd(p), false, func(k, _ []byte) (bool, error) {
		if len(k) > len(p) && k[len(p)] < 2 {
			rows[k[len(p)]]++
		}
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("join state: %v rows of %d and %d live", rows, len(live[1]), len(live[2]))
	if rows[0] > len(live[1])/2 || (!oneSided && rows[1] > len(live[2])/2) {
		t.Fatalf("the join keeps %v of %d and %d rows", rows, len(live[1]), len(live[2]))
	}
}
