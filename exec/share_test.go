package exec

import (
	"fmt"
	"sort"
	"testing"

	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/storage"
	"github.com/kappa-db/kappa/types"
)

// bidFeed is a bounded feed of n bids: record i is (auction i%3, price i,
// time i × 0.5 s, 'pad'). It remembers what its reader said it needs.
type bidFeed struct {
	n    uint64
	uses []FeedUse
}

var bidTypes = []types.Type{types.Int8, types.Int8, types.Timestamp, types.Text}

func (f *bidFeed) End() uint64   { return f.n }
func (f *bidFeed) Bounded() bool { return true }
func (f *bidFeed) AppendRows(dst []types.Row, from, to uint64, use FeedUse) []types.Row {
	f.uses = append(f.uses, use)
	for i := from; i < to; i++ {
		dst = append(dst, types.Row{types.NewInt8(int64(i % 3)), types.NewInt8(int64(i)), types.NewTimestamp(int64(i) * 500_000), types.NewText("pad")})
	}
	return dst
}

func col(i int, t types.Type) *expr.ColRef { return &expr.ColRef{Idx: i, T: t} }

// hopCount is SELECT <group columns>, count(*) FROM HOP(s, time, 1 s, 2 s)
// GROUP BY <group columns>, with the group columns window_start and auction
// in the order given (window_start first when wsFirst).
func hopCount(scan *Scan, wsFirst bool) *Aggregate {
	tw := &TimeWindow{Input: scan, TimeCol: 2, Size: 2_000_000, Slide: 1_000_000}
	ws, auction := col(4, types.Timestamp), col(0, types.Int8)
	p := &Project{Input: tw, Exprs: []expr.Expr{ws, auction}}
	ts := []types.Type{types.Timestamp, types.Int8, types.Int8}
	if !wsFirst {
		p.Exprs = []expr.Expr{auction, ws}
		ts = []types.Type{types.Int8, types.Timestamp, types.Int8}
	}
	return &Aggregate{Input: p, GroupBy: []int{0, 1}, Aggs: []AggCall{{Func: AggCountStar, Arg: -1, Type: types.Int8}}, Types: ts}
}

// countedRows reads the view's rows as "count:row", sorted.
func countedRows(t *testing.T, h *harness) []string {
	var got []string
	err := ScanRelation(h.db, viewID, nil, func(_ []byte, cnt int64, row types.Row) error {
		got = append(got, fmt.Sprintf("%d:%s", cnt, rowText(row)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	return got
}

// TestSharedAggregate: the same count per (window, auction) grouped in the
// two orders runs once, its output reaching both branches of a union: one
// through a projection that reads its columns in place, one through a
// filter that gets a reordered copy. HOP tells the feed which columns it
// keeps and lets it make the rows in a reused slab.
func TestSharedAggregate(t *testing.T) {
	f := &bidFeed{n: 40}
	scan := &Scan{Kind: ScanSource, Rel: 2000, Name: "s", Types: bidTypes, Feed: f}
	a := hopCount(scan, true)
	scan2 := *scan
	b := hopCount(&scan2, false)
	gt, err := expr.LookupOperator(">", types.Int8, types.Int8)
	if err != nil {
		t.Fatal(err)
	}
	// Left: window_start, auction, count. Right: the same columns from b's
	// auction, window_start, count, under a filter that keeps every row.
	right := &Project{
		Input: &Filter{Input: b, Pred: &expr.Call{Fn: gt, Args: []expr.Expr{col(2, types.Int8), &expr.Const{V: types.NewInt8(0), T: types.Int8}}}},
		Exprs: []expr.Expr{col(1, types.Timestamp), col(0, types.Int8), col(2, types.Int8)},
	}
	plan := &Union{Left: &Project{Input: a, Exprs: []expr.Expr{col(0, types.Timestamp), col(1, types.Int8), col(2, types.Int8)}}, Right: right}
	if sh := SharedAggregates(plan); len(sh) != 2 || sh[0].Of != -1 || sh[1].Of != 0 || fmt.Sprint(sh[1].Cols) != "[1 0 2]" {
		t.Fatalf("SharedAggregates = %+v", sh)
	}
	g, err := buildGraph(plan, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.aggs) != 1 || len(g.leaves) != 1 {
		t.Fatalf("%d aggregates and %d leaves, want 1 and 1", len(g.aggs), len(g.leaves))
	}

	h := newHarness(t, t.TempDir())
	if err := h.rt.Add(DataflowSpec{ID: viewID, Name: "v", Plan: plan, View: &ViewSink{Rel: viewID}}); err != nil {
		t.Fatal(err)
	}
	drain(t, h.rt)
	got := countedRows(t, h)
	// Windows of 2 s every 1 s; two bids a second, auctions round robin.
	want := map[string]int{}
	for i := range 40 {
		ts := int64(i) * 500_000
		for start := ts - ts%1_000_000; start > ts-2_000_000; start -= 1_000_000 {
			want[rowText(types.Row{types.NewTimestamp(start), types.NewInt8(int64(i % 3))})]++
		}
	}
	var wantRows []string
	for k, n := range want {
		wantRows = append(wantRows, fmt.Sprintf("2:%s|%d", k, n))
	}
	sort.Strings(wantRows)
	if fmt.Sprint(got) != fmt.Sprint(wantRows) {
		t.Fatalf("view rows\n%v\nwant\n%v", got, wantRows)
	}
	for _, u := range f.uses {
		if fmt.Sprint(u.Need) != "[true false true false]" || u.Slab == nil {
			t.Fatalf("the feed was told need %v, slab %d values", u.Need, len(u.Slab))
		}
	}
	// Only the shared aggregate (operator 2 of the plan's numbering: the
	// union 0, the left projection 1) has state.
	lo, _ := storage.StateSpan(viewID << 8)
	_, hi := storage.StateSpan(viewID<<8 | 0xff)
	prefixes := map[string]bool{}
	if err := h.db.Scan(lo, hi, false, func(k, _ []byte) (bool, error) {
		prefixes[string(k[:len(storage.StatePrefix(viewID<<8|2))])] = true
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(prefixes) != 1 || !prefixes[string(storage.StatePrefix(viewID<<8|2))] {
		t.Fatalf("state under %d operator prefixes, want only the shared aggregate's", len(prefixes))
	}
}

// TestNotSharedAggregate: aggregates over different windows or with
// different aggregates each run.
func TestNotSharedAggregate(t *testing.T) {
	scan := &Scan{Kind: ScanSource, Rel: 2000, Name: "s", Types: bidTypes, Feed: &bidFeed{}}
	a := hopCount(scan, true)
	b := hopCount(scan, false)
	b.Input.(*Project).Input.(*TimeWindow).Slide = 500_000
	if sh := SharedAggregates(&Union{Left: a, Right: b}); sh[1].Of != -1 {
		t.Fatalf("different windows shared: %+v", sh)
	}
	c := hopCount(scan, true)
	c.Aggs[0] = AggCall{Func: AggCount, Arg: 1, Type: types.Int8}
	if sh := SharedAggregates(&Union{Left: a, Right: c}); sh[1].Of != -1 {
		t.Fatalf("count(*) and count(auction) shared: %+v", sh)
	}
}
