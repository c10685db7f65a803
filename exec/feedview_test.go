package exec

import (
	"fmt"
	"testing"

	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/storage"
	"github.com/kappa-db/kappa/types"
)

// countFeed is a bounded feed of n records: record i is (i, 2i, 'pad').
// It remembers what its reader said it needs.
type countFeed struct {
	n    uint64
	uses []FeedUse
}

func (f *countFeed) End() uint64   { return f.n }
func (f *countFeed) Bounded() bool { return true }
func (f *countFeed) AppendRows(dst []types.Row, from, to uint64, use FeedUse) []types.Row {
	f.uses = append(f.uses, use)
	for i := from; i < to; i++ {
		dst = append(dst, types.Row{types.NewInt8(int64(i)), types.NewInt8(2 * int64(i)), types.NewText("pad")})
	}
	return dst
}

// TestAppendOnlyViewOverFeed: a projection of a feed, maintained as an
// append-only view, stores its rows in pages in order, tells the feed it
// reads two of three columns into a reused slab, and times every epoch.
func TestAppendOnlyViewOverFeed(t *testing.T) {
	h := newHarness(t, t.TempDir())
	const n = 10000
	f := &countFeed{n: n}
	scan := &Scan{Kind: ScanSource, Rel: 2000, Name: "s", Types: []types.Type{types.Int8, types.Int8, types.Text}, Feed: f}
	plan := &Project{Input: scan, Exprs: []expr.Expr{&expr.ColRef{Idx: 1, T: types.Int8}, &expr.ColRef{Idx: 0, T: types.Int8}}}
	if err := h.rt.Add(DataflowSpec{ID: viewID, Name: "v", Plan: plan, View: &ViewSink{Rel: viewID, AppendOnly: true}}); err != nil {
		t.Fatal(err)
	}
	epochs := 0
	for {
		more, err := h.rt.RunEpoch()
		if err != nil {
			t.Fatal(err)
		}
		epochs++
		if !more {
			break
		}
	}
	var got []string
	entries := 0
	lo, hi := storage.RelationSpan(viewID)
	if err := h.db.Scan(lo, hi, false, func(_, _ []byte) (bool, error) { entries++; return true, nil }); err != nil {
		t.Fatal(err)
	}
	err := ScanRelation(h.db, viewID, nil, func(_ []byte, cnt int64, row types.Row) error {
		got = append(got, fmt.Sprintf("%d:%s", cnt, rowText(row)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("%d rows, want %d", len(got), n)
	}
	for i, g := range got {
		if want := fmt.Sprintf("1:%d|%d", 2*i, i); g != want {
			t.Fatalf("row %d is %s, want %s", i, g, want)
		}
	}
	// The harness's epochs read 7 records: one page each.
	if entries > epochs {
		t.Errorf("%d store entries for %d rows in %d epochs: not paged", entries, n, epochs)
	}
	for _, u := range f.uses {
		if fmt.Sprint(u.Need) != "[true true false]" || u.Slab == nil {
			t.Fatalf("the feed was told need %v, slab %d values", u.Need, len(u.Slab))
		}
	}
	ts := h.rt.EpochTimings()
	var recs uint64
	for _, e := range ts {
		recs += e.Records
		if e.Start.Before(e.Due) || e.Process <= 0 {
			t.Fatalf("epoch timing %+v", e)
		}
	}
	if len(ts) != epochs || recs != n {
		t.Fatalf("%d epoch timings with %d records, want %d epochs and %d", len(ts), recs, epochs, n)
	}
}

// TestAppendRowsMultiplicity: a row that arrives more than once is stored
// on its own with its count, between pages.
func TestAppendRowsMultiplicity(t *testing.T) {
	h := newHarness(t, t.TempDir())
	b := h.db.NewBatch()
	defer b.Close()
	s := &ViewSink{Rel: viewID, AppendOnly: true}
	var in Batch
	for i, w := range []int64{1, 1, 3, 1} {
		in.Add(types.Row{types.NewInt8(int64(i))}, w)
	}
	next := uint64(5)
	if err := s.appendRows(&epochCtx{store: b}, &in, &next); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(false); err != nil {
		t.Fatal(err)
	}
	var got []string
	err := ScanRelation(h.db, viewID, nil, func(_ []byte, cnt int64, row types.Row) error {
		got = append(got, fmt.Sprintf("%d:%s", cnt, rowText(row)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[1:0 1:1 3:2 1:3]" || next != 9 {
		t.Fatalf("stored %v, next id %d", got, next)
	}
}
