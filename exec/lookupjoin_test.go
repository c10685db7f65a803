package exec

import (
	"math/rand"
	"testing"

	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/storage"
	"github.com/kappa-db/kappa/types"
)

// keyedFeed is a bounded feed with a key (KeyedFeed) whose records appear
// as the test adds them: record i is rows[i].
type keyedFeed struct {
	rows []types.Row
	key  []int
}

func (f *keyedFeed) End() uint64   { return uint64(len(f.rows)) }
func (f *keyedFeed) Bounded() bool { return true }
func (f *keyedFeed) Key() []int    { return f.key }
func (f *keyedFeed) AppendRows(dst []types.Row, from, to uint64, _ FeedUse) []types.Row {
	return append(dst, f.rows[from:to]...)
}

// TestLookupJoin checks a join with a lookup side (Join.Lookup): the
// unique side is a keyed feed whose ids come in random order, the other a
// table with inserts and deletes or an unkeyed feed, each on either side
// of the join (so that either input is read first in an epoch). After every
// epoch the view equals the join run ad hoc, and the other side's state
// holds exactly its rows that have no partner yet.
func TestLookupJoin(t *testing.T) {
	for _, c := range []struct {
		name        string
		lookupRight bool
		otherFeed   bool
	}{{"left/table", false, false}, {"right/table", true, false}, {"left/feed", false, true}, {"right/feed", true, true}} {
		t.Run(c.name, func(t *testing.T) { testLookupJoin(t, c.lookupRight, c.otherFeed, false) })
		// The unique side's filter in the join (Join.LookupFilter).
		t.Run(c.name+"/filter", func(t *testing.T) { testLookupJoin(t, c.lookupRight, c.otherFeed, true) })
		// The other side's waiting keys known in memory from an epoch's
		// first probe (knownKeys).
		t.Run(c.name+"/known-keys", func(t *testing.T) {
			defer func(n int) { minKnownProbes = n }(minKnownProbes)
			minKnownProbes = 1
			testLookupJoin(t, c.lookupRight, c.otherFeed, true)
		})
	}
}

// testLookupJoin: with filtered, the unique side's rows with v < 3 are
// filtered out, by the join itself in the view (LookupFilter) and by a
// Filter below it in the plan the view is compared with.
func testLookupJoin(t *testing.T, lookupRight, otherFeed, filtered bool) {
	seed := rand.Int63()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	ob := newOpBench(t, 2)
	rt := NewRuntime(Options{DB: ob.db, Logs: ob.logOf, MaxRecordsPerEpoch: 5})
	defer rt.Close()
	ts := []types.Type{types.Int4, types.Int4}
	// The unique side: rows (id, v), ids 0..n-1 in random order, through
	// a filter (v >= 0, or v >= 3 when filtered) and a projection that
	// swaps the columns.
	const n = 60
	unique := &keyedFeed{key: []int{0}}
	other := &keyedFeed{}
	ids := rng.Perm(n)
	gt, err := expr.LookupOperator(">=", types.Int4, types.Int4)
	if err != nil {
		t.Fatal(err)
	}
	least := int64(0)
	if filtered {
		least = 3
	}
	vAtLeast := func(col int) expr.Expr {
		return &expr.Call{Fn: gt, Args: []expr.Expr{&expr.ColRef{Idx: col, T: types.Int4}, &expr.Const{V: types.NewInt4(least), T: types.Int4}}}
	}
	// uniqueSide is the unique side with its filter, or without it (the
	// view's plan, whose join filters).
	uniqueSide := func(withFilter bool) Node {
		var in Node = &Scan{Kind: ScanSource, Rel: 1, Name: "u", Types: ts, Feed: unique, Unique: unique.key}
		if withFilter {
			in = &Filter{Input: in, Pred: vAtLeast(1)}
		}
		return &Project{Input: in, Exprs: []expr.Expr{&expr.ColRef{Idx: 1, T: types.Int4}, &expr.ColRef{Idx: 0, T: types.Int4}}}
	}
	otherSide := func() Node {
		if otherFeed {
			return &Scan{Kind: ScanSource, Rel: 3, Name: "o", Types: ts, Feed: other}
		}
		return &Scan{Kind: ScanTable, Rel: 2, Types: ts}
	}
	lt, err := expr.LookupOperator("<", types.Int4, types.Int4)
	if err != nil {
		t.Fatal(err)
	}
	// The residual: the unique row's v below the other row's v + 5.
	plus, err := expr.LookupOperator("+", types.Int4, types.Int4)
	if err != nil {
		t.Fatal(err)
	}
	// plan is the view's plan (hoisted: the unique side's filter in the
	// join), or the same with the filter below the join.
	plan := func(hoisted bool) *Join {
		j := &Join{Left: uniqueSide(!hoisted), Right: otherSide(), Kind: JoinInner, LeftKeys: []int{1}, RightKeys: []int{0}, Lookup: LookupLeft}
		if hoisted {
			j.LookupFilter = vAtLeast(0)
		}
		uv, ov := 0, 3
		if lookupRight {
			j.Left, j.Right, j.LeftKeys, j.RightKeys, j.Lookup = j.Right, j.Left, j.RightKeys, j.LeftKeys, LookupRight
			uv, ov = 2, 1
		}
		j.On = &expr.Call{Fn: lt, Args: []expr.Expr{
			&expr.ColRef{Idx: uv, T: types.Int4},
			&expr.Call{Fn: plus, Args: []expr.Expr{&expr.ColRef{Idx: ov, T: types.Int4}, &expr.Const{V: types.NewInt4(5), T: types.Int4}}},
		}}
		return j
	}
	if p := plan(false); UniqueOn(p.Left, p.LeftKeys) == lookupRight || UniqueOn(p.Right, p.RightKeys) != lookupRight {
		t.Fatalf("UniqueOn does not find the unique side")
	}
	if err := rt.Add(DataflowSpec{ID: 102, TableID: 2, Table: &TableSink{Rel: 2}}); err != nil {
		t.Fatal(err)
	}
	if err := rt.Add(DataflowSpec{ID: 200, Plan: plan(true), View: &ViewSink{Rel: 200, KeyCols: []int{0, 1, 2, 3}}}); err != nil {
		t.Fatal(err)
	}
	// live: the other side's rows now, by table row id.
	live := map[uint64]types.Row{}
	for round := 0; round < 40 || len(unique.rows) < n; round++ {
		for i := rng.Intn(4); i > 0 && len(unique.rows) < n; i-- {
			id := ids[len(unique.rows)]
			unique.rows = append(unique.rows, types.Row{types.NewInt4(int64(id)), types.NewInt4(int64(rng.Intn(10)))})
		}
		var recs [][]byte
		var added []types.Row
		for i := rng.Intn(6); i > 0; i-- {
			k := types.NewInt4(int64(rng.Intn(n + 5)))
			if rng.Intn(10) == 0 {
				k = types.Null
			}
			r := types.Row{k, types.NewInt4(int64(rng.Intn(10)))}
			if otherFeed {
				other.rows = append(other.rows, r)
				continue
			}
			recs = append(recs, AppendChange(nil, 1, 0, r))
			added = append(added, r)
		}
		for rid, r := range live {
			if rng.Intn(4) == 0 {
				recs = append(recs, AppendChange(nil, -1, rid, r))
				delete(live, rid)
			}
		}
		if len(recs) > 0 {
			first, err := ob.logs[2].Append(recs)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range added {
				live[first+uint64(i)+1] = r
			}
		}
		drain(t, rt)
		checkViewIsQuery(t, ob.db, 200, plan(false), round)
		// Ad hoc, the join drops the rows its filter fails.
		checkViewIsQuery(t, ob.db, 200, plan(true), round)
	}
	// The other side keeps only its rows without a partner: keys the
	// unique side lacks.
	have := map[int64]bool{}
	for _, r := range unique.rows {
		have[r[0].I] = true
	}
	// A feed's rows are stored one by one, a table's by distinct row.
	want := 0
	distinct := map[string]bool{}
	rows := other.rows
	if !otherFeed {
		rows = nil
		for _, r := range live {
			rows = append(rows, r)
		}
	}
	for _, r := range rows {
		if r[0].IsNull() || have[r[0].I] {
			continue
		}
		if otherFeed {
			want++
		} else if !distinct[rowText(r)] {
			distinct[rowText(r)] = true
			want++
		}
	}
	otherSideByte := byte(1)
	if lookupRight {
		otherSideByte = 0
	}
	p := append(storage.StatePrefix(200<<8), otherSideByte)
	got := 0
	if err := ob.db.Scan(p, storage.PrefixEnd(p), false, func(_, _ []byte) (bool, error) { got++; return true, nil }); err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("the other side stores %d rows, want %d (its rows without a partner)", got, want)
	}
}
