package exec

import (
	"context"
	"fmt"
	"math/rand"
	"sort"
	"testing"

	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/storage"
	"github.com/kappa-db/kappa/types"
)

// TestJoinIncrementalEqualsHashJoin checks every join kind: after every
// epoch of random inserts and deletes on both sides (NULL keys included, a
// residual condition, and a self-join), the view maintained by the
// incremental join equals the same plan run ad hoc, where the join is a hash
// join computed at once. The two share no state code.
func TestJoinIncrementalEqualsHashJoin(t *testing.T) {
	// Each side's keys are known in memory from an epoch's first probe
	// (knownKeys).
	defer func(n, m int) { minKnownProbes, maxKnownKeys = n, m }(minKnownProbes, maxKnownKeys)
	minKnownProbes = 1
	for _, kind := range []JoinKind{JoinInner, JoinLeft, JoinRight, JoinFull} {
		for _, self := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/self=%v", kind, self), func(t *testing.T) { testJoin(t, kind, self) })
		}
	}
	// The same when no side's keys are known in memory: every probe reads
	// the state.
	maxKnownKeys = 2
	for _, kind := range []JoinKind{JoinInner, JoinFull} {
		t.Run(fmt.Sprintf("%s/unknown-keys", kind), func(t *testing.T) { testJoin(t, kind, false) })
	}
}

func testJoin(t *testing.T, kind JoinKind, self bool) {
	seed := rand.Int63()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	ob := newOpBench(t, 1, 2)
	db, logs := ob.db, ob.logs
	rt := NewRuntime(Options{DB: db, Logs: ob.logOf, MaxRecordsPerEpoch: 5})
	defer rt.Close()
	ts := []types.Type{types.Int4, types.Int4}
	rightID := uint64(2)
	if self {
		rightID = 1
	}
	lt, err := expr.LookupOperator("<", types.Int4, types.Int4)
	if err != nil {
		t.Fatal(err)
	}
	// ON l.k = r.k AND l.v < r.v + 3 (the residual over the joined row).
	plus, err := expr.LookupOperator("+", types.Int4, types.Int4)
	if err != nil {
		t.Fatal(err)
	}
	on := &expr.Call{Fn: lt, Args: []expr.Expr{
		&expr.ColRef{Idx: 1, T: types.Int4},
		&expr.Call{Fn: plus, Args: []expr.Expr{&expr.ColRef{Idx: 3, T: types.Int4}, &expr.Const{V: types.NewInt4(3), T: types.Int4}}},
	}}
	plan := func() Node {
		return &Join{Left: &Scan{Kind: ScanTable, Rel: 1, Types: ts}, Right: &Scan{Kind: ScanTable, Rel: rightID, Types: ts},
			Kind: kind, LeftKeys: []int{0}, RightKeys: []int{0}, On: on}
	}
	for _, id := range []uint64{1, 2} {
		if err := rt.Add(DataflowSpec{ID: 100 + id, TableID: id, Table: &TableSink{Rel: id}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := rt.Add(DataflowSpec{ID: 200, Plan: plan(), View: &ViewSink{Rel: 200, KeyCols: []int{0, 1, 2, 3}}}); err != nil {
		t.Fatal(err)
	}
	// Live rows per table: row id → row.
	live := map[uint64]map[uint64]types.Row{1: {}, 2: {}}
	key := func() types.Value {
		if rng.Intn(8) == 0 {
			return types.Null
		}
		return types.NewInt4(int64(rng.Intn(4)))
	}
	for round := 0; round < 40; round++ {
		for _, id := range []uint64{1, 2} {
			var recs [][]byte
			var added []types.Row
			for i := rng.Intn(4); i > 0; i-- {
				r := types.Row{key(), types.NewInt4(int64(rng.Intn(10)))}
				recs = append(recs, AppendChange(nil, 1, 0, r))
				added = append(added, r)
			}
			for rid, r := range live[id] {
				if rng.Intn(4) == 0 {
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
			for i, r := range added {
				live[id][first+uint64(i)+1] = r
			}
		}
		drain(t, rt)
		checkViewIsQuery(t, db, 200, plan(), round)
	}
}

// checkViewIsQuery fails the test unless view rel's stored rows equal
// plan's rows run ad hoc over db.
func checkViewIsQuery(t *testing.T, db *storage.DB, rel uint64, plan Node, round int) {
	t.Helper()
	var got, want []string
	if err := ScanRelation(db, rel, nil, func(_ []byte, cnt int64, row types.Row) error {
		for ; cnt > 0; cnt-- {
			got = append(got, rowText(row))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := Query(context.Background(), plan, db, &expr.EvalContext{}, func(row types.Row) error {
		want = append(want, rowText(row))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	sort.Strings(want)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("round %d:\n view   %v\n ad hoc %v", round, got, want)
	}
}
