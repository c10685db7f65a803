package exec

import (
	"testing"

	"github.com/cockroachdb/apd/v3"
	"github.com/kappa-db/kappa/types"
)

// TestAggStateLayouts reads group rows written before min and max kept
// their values inline (their values then live under keys of their own), and
// round-trips the current layout.
func TestAggStateLayouts(t *testing.T) {
	spec := &Aggregate{
		Input:   &Values{Types: []types.Type{types.Int4, types.Int8, types.Numeric}},
		GroupBy: []int{0},
		Aggs: []AggCall{{Func: AggCountStar, Arg: -1, Type: types.Int8}, {Func: AggMin, Arg: 1, Type: types.Int8},
			{Func: AggSum, Arg: 2, Type: types.Numeric}},
		Types: []types.Type{types.Int4, types.Int8, types.Int8, types.Numeric},
	}
	a, err := newAggOp(spec, 7)
	if err != nil {
		t.Fatal(err)
	}
	sum := types.NewNumeric(apd.New(150, -2))
	var sc scaleCounts
	sc.add(sum.D, 2)
	// layoutScales: count; count(*) n, v; min n, v; sum n, v, scales.
	old := types.Row{types.NewInt8(2), types.NewInt8(2), types.Null, types.NewInt8(2), types.NewInt8(-4),
		types.NewInt8(2), sum, sc.encode()}
	g := &groupState{set: -1, accs: make([]accState, len(spec.Aggs))}
	if err := a.decodeState(types.AppendRow(nil, old), g); err != nil {
		t.Fatal(err)
	}
	if !g.accs[1].spilled || g.accs[1].v.I != -4 || g.accs[2].scales.max() != 2 {
		t.Fatalf("old layout read as %+v", g.accs)
	}
	// The current layout keeps a fresh min's values inline.
	g2 := &groupState{set: -1, accs: make([]accState, len(spec.Aggs))}
	g2.count = 3
	g2.accs[1] = accState{n: 3, v: types.NewInt8(-4), ext: []extremeValue{{types.NewInt8(-4), 2}, {types.NewInt8(9), 1}}}
	g3 := &groupState{set: -1, accs: make([]accState, len(spec.Aggs))}
	if err := a.decodeState(a.encodeState(g2), g3); err != nil {
		t.Fatal(err)
	}
	if g3.accs[1].spilled || len(g3.accs[1].ext) != 2 || g3.accs[1].ext[1].v.I != 9 || g3.accs[1].ext[0].n != 2 {
		t.Fatalf("current layout read back as %+v", g3.accs[1])
	}
	// Spilled in the current layout: NULL in the values slot.
	g2.accs[1].spilled = true
	if err := a.decodeState(a.encodeState(g2), g3); err != nil {
		t.Fatal(err)
	}
	if !g3.accs[1].spilled {
		t.Fatalf("spilled state read back inline")
	}
}

// TestAggSharedExtremes: min(v) and max(v) keep v's values once; a group
// stored before they shared them is read as spilled, the max's own keys to
// be deleted at the next flush.
func TestAggSharedExtremes(t *testing.T) {
	spec := &Aggregate{
		Input:   &Values{Types: []types.Type{types.Int4, types.Int8}},
		GroupBy: []int{0},
		Aggs:    []AggCall{{Func: AggMin, Arg: 1, Type: types.Int8}, {Func: AggMax, Arg: 1, Type: types.Int8}, {Func: AggMax, Arg: 1, Distinct: true, Type: types.Int8}},
		Types:   []types.Type{types.Int4, types.Int8, types.Int8, types.Int8},
	}
	a, err := newAggOp(spec, 7)
	if err != nil {
		t.Fatal(err)
	}
	if a.extOwner[0] != 0 || a.extOwner[1] != 0 || a.extOwner[2] != 2 {
		t.Fatalf("extOwner = %v, want [0 0 2]", a.extOwner)
	}
	old := types.Row{types.NewInt8(2), types.NewInt8(2), types.NewInt8(1), types.NewInt8(2), types.NewInt8(5), types.NewInt8(2), types.NewInt8(5)}
	g := &groupState{set: -1, accs: make([]accState, len(spec.Aggs))}
	if err := a.decodeState(types.AppendRow(nil, old), g); err != nil {
		t.Fatal(err)
	}
	if !g.ownKeys || !g.accs[1].spilled || g.accs[1].v.I != 5 {
		t.Fatalf("old layout read as %+v (ownKeys %v)", g.accs, g.ownKeys)
	}
	g.ownKeys = false
	g.accs[0] = accState{n: 2, ext: []extremeValue{{types.NewInt8(1), 1}, {types.NewInt8(5), 1}}}
	g.accs[1] = accState{n: 2, v: types.NewInt8(5)}
	g.accs[2] = accState{n: 2, ext: []extremeValue{{types.NewInt8(1), 1}, {types.NewInt8(5), 1}}}
	g2 := &groupState{set: -1, accs: make([]accState, len(spec.Aggs))}
	if err := a.decodeState(a.encodeState(g), g2); err != nil {
		t.Fatal(err)
	}
	if g2.ownKeys || g2.accs[1].spilled || g2.accs[1].ext != nil || len(g2.accs[0].ext) != 2 || len(g2.accs[2].ext) != 2 {
		t.Fatalf("current layout read back as %+v", g2.accs)
	}
}
