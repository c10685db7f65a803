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
	out  Batch
}

func (o *timeWindowOp) apply(ec *epochCtx, _ int, in *Batch) (*Batch, error) {
	o.out.Reset()
	s := o.spec
	ncols := len(s.Input.Columns()) + 2
	hop := s.Slide != s.Size
	per := 1
	if hop {
		per = int((s.Size + s.Slide - 1) / s.Slide)
	}
	// One backing array for the batch's output rows.
	vals := make([]types.Value, 0, len(in.Rows)*per*ncols)
	for i, r := range in.Rows {
		t := r[s.TimeCol]
		if t.IsNull() {
			if hop {
				continue
			}
			vals = append(vals, r...)
			vals = append(vals, types.Null, types.Null)
			o.out.Add(vals[len(vals)-ncols:len(vals):len(vals)], in.W[i])
			continue
		}
		// Windows [start, start+Size) containing t, latest first.
		for start := WindowStart(t.I, s.Slide, s.Offset); start > t.I-s.Size; start -= s.Slide {
			if len(vals)+ncols > cap(vals) {
				vals = make([]types.Value, 0, max(64, (len(in.Rows)-i)*per)*ncols)
			}
			vals = append(vals, r...)
			ws, we := t, t
			ws.I, we.I = start, start+s.Size
			vals = append(vals, ws, we)
			o.out.Add(vals[len(vals)-ncols:len(vals):len(vals)], in.W[i])
		}
	}
	return &o.out, nil
}
func (o *timeWindowOp) flush(*epochCtx, func(*Batch) error) error { return nil }
func (o *timeWindowOp) reset()                                    { o.out.Reset() }
