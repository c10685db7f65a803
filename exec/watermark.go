package exec

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/storage"
	"github.com/kappa-db/kappa/types"
)

// Watermarks (event time). An input that declares `WATERMARK FOR ts AS ts -
// delay` has, in each dataflow that reads it, a watermark: the largest ts
// the dataflow has read from it minus the delay, committed with the epoch
// (a restart resumes it, never moves it back). A row whose ts is behind
// the watermark when it is read is late: the dataflow drops and counts it
// at its input, so every operator above may rely on "no change to come
// has a ts below the watermark". A NULL ts cannot be placed against the
// watermark and counts as late too. The watermark a row is judged against
// advances with every row read, in offset order, rather than at epoch
// boundaries: which rows are late is then a function of the input alone,
// the same for the table and every view over it, also for a view created
// later (its backfill reads the log in fewer, larger epochs) and after a
// crash. Windows close at epoch boundaries, at the watermark after the
// epoch's rows.
//
// Through the operators the watermark becomes a bound per output column
// (colWatermark): filters and projections pass columns through, TimeWindow
// maps it onto window_start and window_end, an inner equi-join gives its
// key columns the minimum of both sides', a union the minimum of both
// inputs', and an aggregate its group columns. A windowed aggregate whose
// group has such a column closes the groups below it: their state is
// deleted (their rows stay in the view), and with EMIT ON WINDOW CLOSE
// their final rows are emitted then, once.

// ScanWatermark is the watermark an input declares: WATERMARK FOR column
// Col AS column - Delay.
type ScanWatermark struct {
	Col   int
	Delay int64 // µs, >= 0
}

// colWatermark bounds one output column of a plan node: every change the
// node emits from now on has a value at or above value() in that column.
type colWatermark struct {
	src   uint64        // leaf: the watermark of input src
	in    *colWatermark // mapped from in (a window bound) ...
	other *colWatermark // ... or the minimum of in and other
	// A window bound: the least window_start (or window_end) of a row whose
	// time is at least in's value.
	window              bool
	size, slide, offset int64
	end                 bool
}

// value is the bound given the inputs' watermarks (absent: no row read
// yet, no bound).
func (w *colWatermark) value(wms map[uint64]int64) (int64, bool) {
	switch {
	case w.in == nil:
		v, ok := wms[w.src]
		return v, ok
	case w.other != nil:
		a, ok := w.in.value(wms)
		if !ok {
			return 0, false
		}
		b, ok := w.other.value(wms)
		if !ok {
			return 0, false
		}
		return min(a, b), true
	}
	v, ok := w.in.value(wms)
	if !ok {
		return 0, false
	}
	// The windows [s, s+size) holding a time t >= v start after v - size.
	if v-w.size < math.MinInt64/2 {
		return 0, false
	}
	s := WindowStart(v-w.size, w.slide, w.offset) + w.slide
	if w.end {
		s += w.size
	}
	return s, true
}

// columnWatermarks returns, per output column of n, its watermark bound
// (nil: none).
func columnWatermarks(n Node) []*colWatermark {
	out := make([]*colWatermark, len(n.Columns()))
	switch x := n.(type) {
	case *Scan:
		if x.Watermark != nil && x.Kind != ScanView {
			out[x.Watermark.Col] = &colWatermark{src: x.Rel}
		}
	case *Filter:
		copy(out, columnWatermarks(x.Input))
	case *Sort:
		copy(out, columnWatermarks(x.Input))
	case *Project:
		in := columnWatermarks(x.Input)
		for i, e := range x.Exprs {
			if c, ok := e.(*expr.ColRef); ok && c.Idx >= 0 && c.Idx < len(in) {
				out[i] = in[c.Idx]
			}
		}
	case *TimeWindow:
		in := columnWatermarks(x.Input)
		copy(out, in)
		if t := in[x.TimeCol]; t != nil {
			n := len(in)
			out[n] = &colWatermark{in: t, window: true, size: x.Size, slide: x.Slide, offset: x.Offset}
			out[n+1] = &colWatermark{in: t, window: true, size: x.Size, slide: x.Slide, offset: x.Offset, end: true}
		}
	case *Aggregate:
		if x.GroupingSets != nil || x.EmitOnWindowClose {
			break
		}
		in := columnWatermarks(x.Input)
		for i, c := range x.GroupBy {
			out[i] = in[c]
		}
	case *GroupTopN:
		// A partition's top changes only when a change reaches it.
		in := columnWatermarks(x.Input)
		for _, c := range x.PartitionBy {
			out[c] = in[c]
		}
	case *Window:
		// So do a partition's window function values.
		in := columnWatermarks(x.Input)
		for _, c := range x.PartitionBy {
			out[c] = in[c]
		}
	case *Join:
		if x.Kind != JoinInner {
			break
		}
		l, r := columnWatermarks(x.Left), columnWatermarks(x.Right)
		for i := range x.LeftKeys {
			a, b := l[x.LeftKeys[i]], r[x.RightKeys[i]]
			if a != nil && b != nil {
				m := &colWatermark{in: a, other: b}
				out[x.LeftKeys[i]], out[len(l)+x.RightKeys[i]] = m, m
			}
		}
	case *Union:
		l, r := columnWatermarks(x.Left), columnWatermarks(x.Right)
		for i := range out {
			if l[i] != nil && r[i] != nil {
				out[i] = &colWatermark{in: l[i], other: r[i]}
			}
		}
	}
	return out
}

// ColumnWatermarks reports which output columns of n carry a watermark.
func ColumnWatermarks(n Node) []bool {
	ws := columnWatermarks(n)
	out := make([]bool, len(ws))
	for i, w := range ws {
		out[i] = w != nil
	}
	return out
}

// WindowCloseColumn is the group column (a position in a.GroupBy) whose
// watermark closes a's groups, or -1 when a has none: the first group
// column that carries a watermark. Grouping sets are never closed.
func WindowCloseColumn(a *Aggregate) int {
	col, _ := closeColumn(a)
	return col
}

// JoinCloseKey is the key pair (a position in LeftKeys) whose watermarks
// let j delete the state of closed windows, or -1 when none has one on
// both sides.
func JoinCloseKey(j *Join) int {
	l, r := columnWatermarks(j.Left), columnWatermarks(j.Right)
	for i := range j.LeftKeys {
		if l[j.LeftKeys[i]] != nil && r[j.RightKeys[i]] != nil {
			return i
		}
	}
	return -1
}

// GroupTopNCloseColumn is the partition column of g whose watermark lets
// it delete closed windows' partitions, or -1.
func GroupTopNCloseColumn(g *GroupTopN) int {
	return partitionCloseColumn(g.Input, g.PartitionBy)
}

// WindowCloseColumnOf is the partition column of a Window node whose
// watermark lets it delete closed windows' partitions, or -1.
func WindowCloseColumnOf(w *Window) int {
	return partitionCloseColumn(w.Input, w.PartitionBy)
}

func partitionCloseColumn(input Node, partitionBy []int) int {
	in := columnWatermarks(input)
	for _, c := range partitionBy {
		if in[c] != nil {
			return c
		}
	}
	return -1
}

func closeColumn(a *Aggregate) (int, *colWatermark) {
	if a.GroupingSets != nil {
		return -1, nil
	}
	in := columnWatermarks(a.Input)
	for i, c := range a.GroupBy {
		if in[c] != nil {
			return i, in[c]
		}
	}
	return -1, nil
}

// wmKey is where a dataflow keeps, per watermarked input, the largest
// event time it has read and its count of late rows.
func wmKey(id, src uint64) []byte {
	return binary.AppendUvarint(append(storage.StatePrefix(id<<8|0xff), 'w'), src)
}

func encodeWatermarkState(maxTS, late int64) []byte {
	return binary.AppendVarint(binary.AppendVarint(nil, maxTS), late)
}

func decodeWatermarkState(val []byte) (maxTS, late int64, err error) {
	maxTS, n := binary.Varint(val)
	if n <= 0 {
		return 0, 0, fmt.Errorf("corrupt watermark state")
	}
	late, m := binary.Varint(val[n:])
	if m <= 0 {
		return 0, 0, fmt.Errorf("corrupt watermark state")
	}
	return maxTS, late, nil
}

// noTime is the largest event time of an input nothing was read from.
const noTime = math.MinInt64

// admit says whether a row of s with weight w is on time, counting it
// late otherwise, and advances the largest time seen. The watermark it is
// judged against is the one after the records before it, so the decision
// is a function of the input alone: the table and every view over it,
// also one created later or replaying after a crash, drop the same rows.
func (s *source) admit(row types.Row, w int64) bool {
	t := row[s.wm.Col]
	if t.IsNull() || (s.maxTS != noTime && t.I < s.maxTS-s.wm.Delay) {
		s.late += w
		return false
	}
	if t.I > s.maxTS {
		s.maxTS = t.I
	}
	return true
}

// InputWatermark is the state of one watermarked input of one dataflow,
// as of the last committed epoch.
type InputWatermark struct {
	Dataflow, Input uint64
	// Watermark is the largest event time read minus the delay; Has is
	// false until a row was read.
	Watermark int64
	Has       bool
	// Late counts the rows dropped for arriving behind the watermark.
	Late int64
}

// Watermarks lists the watermarked inputs of every dataflow.
func (rt *Runtime) Watermarks() []InputWatermark {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	var out []InputWatermark
	for _, df := range rt.mu.dataflows {
		for _, s := range df.sources {
			if s.wm == nil {
				continue
			}
			iw := InputWatermark{Dataflow: df.spec.ID, Input: s.id, Late: s.lateCommitted}
			if s.maxTSCommitted != noTime {
				iw.Watermark, iw.Has = s.maxTSCommitted-s.wm.Delay, true
			}
			out = append(out, iw)
		}
	}
	return out
}

// epochWatermarks is what the inputs' watermarks are at the end of the
// running epoch, and what they were at its start (as committed).
func (df *dataflow) epochWatermarks() (now, before map[uint64]int64) {
	for _, s := range df.sources {
		if s.wm == nil {
			continue
		}
		if s.maxTS != noTime {
			if now == nil {
				now = map[uint64]int64{}
			}
			now[s.id] = s.maxTS - s.wm.Delay
		}
		if s.maxTSCommitted != noTime {
			if before == nil {
				before = map[uint64]int64{}
			}
			before[s.id] = s.maxTSCommitted - s.wm.Delay
		}
	}
	return now, before
}
