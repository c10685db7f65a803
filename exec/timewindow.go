package exec

import (
	"github.com/kappa-db/kappa/types"
)

// TimeWindow assigns each input row to the event-time windows its column
// TimeCol falls in and appends window_start and window_end (of TimeCol's
// type) to it: TUMBLE (Slide = Size: one window per row) and HOP (Slide <
// Size: one output row per window, Size/Slide of them). Windows start at
// Offset + k × Slide µs from 2000-01-01 (kappa's timestamp epoch; the planner
// makes the offset count from 1970-01-01, as Flink and RisingWave align
// windows) and cover [start, start + Size). A
// NULL time gives NULL bounds under TUMBLE and no row under HOP. Stateless,
// so it is incremental as is: a retraction retracts the same windows.
type TimeWindow struct {
	Input   Node
	TimeCol int
	Size    int64 // µs, > 0
	Slide   int64 // µs, > 0, <= Size
	Offset  int64 // µs
}

func (n *TimeWindow) Columns() []types.Type {
	t := n.Input.Columns()[n.TimeCol]
	return append(append([]types.Type(nil), n.Input.Columns()...), t, t)
}
func (*TimeWindow) planNode() {}

// WindowStart returns the start of the last window of slide that begins at
// or before ts: ts - ((ts - offset) mod slide), rounding towards -∞.
func WindowStart(ts, slide, offset int64) int64 {
	m := (ts - offset) % slide
	if m < 0 {
		m += slide
	}
	return ts - m
}

type timeWindowOp struct {
	spec *TimeWindow
	// keep, when set, are the columns of the window rows that a
	// projection of column references right above keeps: the operator
	// then is that projection too (buildGraph), and copies only those.
	keep []int
	out  Batch
	// reuse says the parent keeps no output row past its apply (a
	// projection or an aggregate copies the values it needs), so vals backs
	// every batch's rows: under HOP a batch's rows are Size/Slide times
	// its input.
	reuse bool
	vals  []types.Value
}

func (o *timeWindowOp) apply(ec *epochCtx, _ int, in *Batch) (*Batch, error) {
	o.out.Reset()
	s := o.spec
	nin := len(s.Input.Columns())
	width := nin + 2
	if o.keep != nil {
		width = len(o.keep)
	}
	hop := s.Slide != s.Size
	per := 1
	if hop {
		per = int((s.Size + s.Slide - 1) / s.Slide)
	}
	// One backing array for the batch's output rows (kept from batch to
	// batch with reuse).
	var vals []types.Value
	if need := len(in.Rows) * per * width; o.reuse && cap(o.vals) >= need {
		vals = o.vals[:0]
	} else {
		vals = make([]types.Value, 0, need)
	}
	add := func(r types.Row, ws, we types.Value, w int64) {
		if o.keep == nil {
			vals = append(vals, r...)
			vals = append(vals, ws, we)
		} else {
			for _, c := range o.keep {
				switch {
				case c < nin:
					vals = append(vals, r[c])
				case c == nin:
					vals = append(vals, ws)
				default:
					vals = append(vals, we)
				}
			}
		}
		o.out.Add(vals[len(vals)-width:len(vals):len(vals)], w)
	}
	for i, r := range in.Rows {
		t := r[s.TimeCol]
		if t.IsNull() {
			if !hop {
				add(r, types.Null, types.Null, in.W[i])
			}
			continue
		}
		// Windows [start, start+Size) containing t, latest first.
		for start := WindowStart(t.I, s.Slide, s.Offset); start > t.I-s.Size; start -= s.Slide {
			if len(vals)+width > cap(vals) {
				// A guard: per bounds the windows of a row.
				vals = make([]types.Value, 0, max(64, (len(in.Rows)-i)*per)*width)
			}
			ws, we := t, t
			ws.I, we.I = start, start+s.Size
			add(r, ws, we, in.W[i])
		}
	}
	if o.reuse && cap(vals) > cap(o.vals) {
		o.vals = vals
	}
	return &o.out, nil
}
func (o *timeWindowOp) flush(*epochCtx, func(*Batch) error) error { return nil }
func (o *timeWindowOp) reset()                                    { o.out.Reset() }
