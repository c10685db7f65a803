package exec

import (
	"encoding/binary"
	"github.com/cockroachdb/apd/v3"
	"slices"
	"sort"

	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/storage"
	"github.com/kappa-db/kappa/types"
)

// A session aggregate is an Aggregate (with Session set) over a SESSION
// window, grouped by the window's partition columns and window_start or
// window_end, run as one operator. The plain plan pays for every row of a
// session each time the session grows: every row carries window_end, so
// the window retracts and re-emits them all and the aggregate counts them
// again. Fused, each session is one accumulator that a new row extends or
// that two sessions merge into, and an epoch costs what its new rows touch.

// Where a session aggregate's group column comes from.
const (
	sessionGroupStart = -1 // window_start
	sessionGroupEnd   = -2 // window_end
)

// SessionAggregateShape reports whether a has the shape a session
// aggregate needs: no grouping sets; its input a SessionWindow, directly
// or under one Project whose group columns are plain column references;
// every partition column of the window and window_start or window_end
// among its groups and nothing else; only aggregates whose state merges
// (count, sum, avg, min, max, bool_and, bool_or, the variances), without
// DISTINCT, none reading window_start or window_end. The planner also checks that the Project's other expressions
// do not read window_start or window_end (planner/session.go).
func SessionAggregateShape(a *Aggregate) (*SessionWindow, *Project, bool) {
	sw, p, _, ok := sessionShape(a)
	return sw, p, ok
}

func sessionShape(a *Aggregate) (sw *SessionWindow, p *Project, group []int, ok bool) {
	if a.GroupingSets != nil || len(a.GroupBy) == 0 {
		return nil, nil, nil, false
	}
	in := a.Input
	if x, isProj := in.(*Project); isProj {
		p, in = x, x.Input
	}
	sw, isSess := in.(*SessionWindow)
	if !isSess {
		return nil, nil, nil, false
	}
	nIn := len(sw.Input.Columns())
	group = make([]int, len(a.GroupBy))
	havePart := make([]bool, len(sw.PartitionBy))
	haveWindow := false
	for i, g := range a.GroupBy {
		c := g
		if p != nil {
			ref, isRef := p.Exprs[g].(*expr.ColRef)
			if !isRef {
				return nil, nil, nil, false
			}
			c = ref.Idx
		}
		switch {
		case c == nIn:
			group[i], haveWindow = sessionGroupStart, true
		case c == nIn+1:
			group[i], haveWindow = sessionGroupEnd, true
		default:
			j := slices.Index(sw.PartitionBy, c)
			if j < 0 {
				return nil, nil, nil, false
			}
			group[i], havePart[j] = j, true
		}
	}
	if !haveWindow || slices.Contains(havePart, false) {
		return nil, nil, nil, false
	}
	for _, c := range a.Aggs {
		if c.Distinct {
			return nil, nil, nil, false
		}
		switch c.Func {
		case AggCountStar, AggCount, AggSum, AggAvg, AggMin, AggMax, AggBoolAnd, AggBoolOr,
			AggVarSamp, AggVarPop, AggStddevSamp, AggStddevPop:
		default:
			return nil, nil, nil, false
		}
		for _, col := range aggReads(c) {
			if sessionBound(p, nIn, col) {
				return nil, nil, nil, false
			}
		}
	}
	return sw, p, group, true
}

// aggReads lists the input columns an aggregate call reads.
func aggReads(c AggCall) []int {
	cols := append([]int(nil), c.Args...)
	if c.Arg >= 0 {
		cols = append(cols, c.Arg)
	}
	if c.HasFilter {
		cols = append(cols, c.FilterCol)
	}
	return cols
}

// sessionBound says column col of a session aggregate's input (the
// Project's, or the window's) is window_start or window_end.
func sessionBound(p *Project, nIn, col int) bool {
	if p == nil {
		return col >= nIn
	}
	ref, ok := p.Exprs[col].(*expr.ColRef)
	return ok && ref.Idx >= nIn
}

// SessionAggregateCloses reports whether a session aggregate's time column
// carries a watermark: closed sessions' state is then dropped, and EMIT ON
// WINDOW CLOSE can emit them.
func SessionAggregateCloses(a *Aggregate) bool {
	sw, _, ok := SessionAggregateShape(a)
	return ok && columnWatermarks(sw.Input)[sw.TimeCol] != nil
}

// SessionAggregateStoresRows reports whether a session aggregate keeps its
// input rows: it does unless its input only inserts (sources), because a
// retraction may split a session, which only its rows can tell.
func SessionAggregateStoresRows(a *Aggregate) bool {
	sw, _, ok := SessionAggregateShape(a)
	return ok && !insertsOnly(sw.Input)
}

// insertsOnly reports whether n only ever inserts (planner.appendOnly's
// rule): sources through filters, projections, windows, unions and inner
// joins.
func insertsOnly(n Node) bool {
	switch x := n.(type) {
	case *Scan:
		return x.Kind == ScanSource
	case *Filter:
		return insertsOnly(x.Input)
	case *Project:
		return insertsOnly(x.Input)
	case *TimeWindow:
		return insertsOnly(x.Input)
	case *Union:
		return insertsOnly(x.Left) && insertsOnly(x.Right)
	case *Join:
		return x.Kind == JoinInner && insertsOnly(x.Left) && insertsOnly(x.Right)
	}
	return false
}

// sessionAggOp runs a session aggregate. State, under the operator's
// prefix:
//
//	0x10 partKey 0x00 start   session: start, last time, partition values, count, accumulators
//	0x10 partKey 0x01         the partition's rows with a NULL time (one group)
//	0x11 partKey 0x00 time rowKey  input rows (only when the input can retract)
//	0x11 partKey 0x01 rowKey       input rows with a NULL time
//	0x12 end partKey start    → the session's key (only when the time column has a watermark)
//	0x13 partKey              → the start of the partition's latest session (absent: unknown)
//
// At the barrier each partition's delta is handled on its own. Insertions
// only (always, over a source): for each run of new rows, the stored
// session at or before the first (when it reaches it) and the sessions
// after it that the run reaches are merged with the new rows'
// accumulators: two seeks (two gets when the run is at or after the
// partition's latest session, the usual case) and one write per run,
// whatever the sessions' sizes. A retraction may shrink or split sessions, which accumulators
// cannot tell: the sessions within Gap of the delta's times are then
// recomputed from their stored rows. Either way the operator emits the old
// rows of the sessions it replaced and the new rows of their successors.
// A session is closed when the watermark of the time column reaches its
// window_end (no row to come can join it): its state and rows are
// deleted, and with EMIT ON WINDOW CLOSE its row is emitted then, once.
type sessionAggOp struct {
	spec  *Aggregate
	sw    *SessionWindow
	proj  *Project
	group []int
	// skip marks the Project's columns that are not evaluated: window_start
	// and window_end (not known per row), and column references no
	// aggregate reads.
	skip      []bool
	noEval    types.Row // when no Project column is evaluated: the aggregates' row
	acc       *aggOp    // accumulator output and encoding
	prefix    []byte
	timeKind  types.Kind
	storeRows bool
	closeWM   *colWatermark
	parts     map[string]*Batch
	order     []string
	scratch   []byte
	checked   bool // the store holds no state of the plain plan's Aggregate
}

// sess is one session (or a partition's NULL-time group) in memory.
type sess struct {
	start, last int64
	null        bool
	part        types.Row
	g           *groupState
	// key is where the session is stored (nil: not stored); old its row
	// before this epoch (nil: none).
	key []byte
	old types.Row
}

func newSessionAggOp(spec *Aggregate, opID uint64) (*sessionAggOp, error) {
	sw, p, group, ok := sessionShape(spec)
	if !ok {
		return nil, pgerr.New(pgerr.InternalError, "aggregate marked as a session aggregate has another shape")
	}
	inner := *spec
	inner.EmitOnWindowClose, inner.Session = false, false
	// A session's min or max keeps its current extreme only: rows only
	// ever join a session's accumulators, a retraction recomputes them.
	inner.InputAppendOnly = true
	acc, err := newAggOp(&inner, opID)
	if err != nil {
		return nil, err
	}
	o := &sessionAggOp{spec: spec, sw: sw, proj: p, group: group, acc: acc, prefix: storage.StatePrefix(opID),
		timeKind: sw.Input.Columns()[sw.TimeCol].Kind, storeRows: !insertsOnly(sw.Input),
		closeWM: columnWatermarks(sw.Input)[sw.TimeCol], parts: map[string]*Batch{}}
	if p != nil {
		// Evaluated: what the aggregates read, and any expression that may
		// fail (a failing row leaves the aggregates, as in the Project).
		read := make([]bool, len(p.Exprs))
		for _, c := range spec.Aggs {
			for _, col := range aggReads(c) {
				read[col] = true
			}
		}
		o.skip = make([]bool, len(p.Exprs))
		for i, e := range p.Exprs {
			_, isRef := e.(*expr.ColRef)
			o.skip[i] = isRef && (!read[i] || sessionBound(p, len(sw.Input.Columns()), i))
		}
		if !slices.Contains(o.skip, false) {
			o.noEval = make(types.Row, len(p.Exprs))
		}
	}
	if spec.EmitOnWindowClose && o.closeWM == nil {
		return nil, pgerr.New(pgerr.FeatureNotSupported, "EMIT ON WINDOW CLOSE needs a group column with a watermark")
	}
	return o, nil
}

func (o *sessionAggOp) reset() {
	clear(o.parts)
	o.order = o.order[:0]
}

func (o *sessionAggOp) apply(ec *epochCtx, _ int, in *Batch) (*Batch, error) {
	if ec.ephemeral {
		if err := ec.holdBatch(in); err != nil {
			return nil, err
		}
	}
	for i, row := range in.Rows {
		k := o.scratch[:0]
		for _, c := range o.sw.PartitionBy {
			k = types.AppendKey(k, row[c], false)
		}
		o.scratch = k
		b := o.parts[string(k)]
		if b == nil {
			b = &Batch{}
			o.parts[string(k)] = b
			o.order = append(o.order, string(k))
		}
		b.Add(row, in.W[i])
	}
	return nil, nil
}

// aggRow is what the aggregates read of an input row: the Project's
// values (the group columns left NULL), or the row itself.
func (o *sessionAggOp) aggRow(ec *epochCtx, row types.Row) (types.Row, error) {
	if o.proj == nil {
		return row, nil
	}
	if o.noEval != nil {
		return o.noEval, nil
	}
	out := make(types.Row, len(o.proj.Exprs))
	for i, e := range o.proj.Exprs {
		if o.skip[i] {
			continue
		}
		v, err := e.Eval(ec.eval, row)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func appendTimeKey(dst []byte, t int64) []byte {
	return binary.BigEndian.AppendUint64(dst, uint64(t)^(1<<63))
}

func (o *sessionAggOp) space(b byte, part string) []byte {
	k := make([]byte, 0, len(o.prefix)+len(part)+12)
	return append(append(append(k, o.prefix...), b), part...)
}

func (o *sessionAggOp) sessKey(part string, start int64) []byte {
	return appendTimeKey(append(o.space(0x10, part), 0), start)
}

func (o *sessionAggOp) rowKey(part string, t types.Value, row types.Row) []byte {
	k := o.space(0x11, part)
	if t.IsNull() {
		k = append(k, 1)
	} else {
		k = appendTimeKey(append(k, 0), t.I)
	}
	for _, v := range row {
		k = types.AppendKey(k, v, false)
	}
	return k
}

func (o *sessionAggOp) endKey(s *sess) []byte {
	k := appendTimeKey(append(append([]byte(nil), o.prefix...), 0x12), s.last+o.sw.Gap)
	return append(k, s.key[len(o.prefix)+1:]...)
}

func (o *sessionAggOp) newSess(part types.Row) *sess {
	return &sess{part: part, g: &groupState{set: -1, accs: make([]accState, len(o.spec.Aggs))}}
}

// decode reads a stored session and computes its row.
func (o *sessionAggOp) decode(ec *epochCtx, key, val []byte) (*sess, error) {
	head, rest, err := types.DecodeRow(val, nil)
	if err != nil {
		return nil, err
	}
	if len(head) != 3+len(o.sw.PartitionBy) {
		return nil, pgerr.New(pgerr.DataCorrupted, "session state has %d values, want %d", len(head), 3+len(o.sw.PartitionBy))
	}
	s := o.newSess(head[3:])
	s.start, s.last, s.null = head[0].I, head[1].I, head[2].Bool()
	s.key = append([]byte(nil), key...)
	if err := o.acc.decodeState(rest, s.g); err != nil {
		return nil, err
	}
	if s.old, err = o.output(ec, s); err != nil {
		return nil, err
	}
	return s, nil
}

func (o *sessionAggOp) encode(s *sess) []byte {
	head := make(types.Row, 0, 3+len(s.part))
	head = append(head, types.NewInt8(s.start), types.NewInt8(s.last), types.NewBool(s.null))
	head = append(head, s.part...)
	return append(types.AppendRow(nil, head), o.acc.encodeState(s.g)...)
}

// output is a session's row (nil when no row reached its aggregates).
func (o *sessionAggOp) output(ec *epochCtx, s *sess) (types.Row, error) {
	if s.g.count <= 0 {
		return nil, nil
	}
	key := make(types.Row, len(o.group))
	for i, src := range o.group {
		switch {
		case src >= 0:
			key[i] = s.part[src]
		case s.null:
			key[i] = types.Null
		case src == sessionGroupStart:
			key[i] = types.Value{K: o.timeKind, I: s.start}
		default:
			key[i] = types.Value{K: o.timeKind, I: s.last + o.sw.Gap}
		}
	}
	s.g.key = key
	return o.acc.output(ec, s.g)
}

// add adds an aggregate row with weight w > 0 to a session's accumulators.
func (o *sessionAggOp) add(s *sess, row types.Row, w int64) error {
	g := s.g
	g.count += w
	for j := range o.spec.Aggs {
		c := &o.spec.Aggs[j]
		if c.HasFilter && !row[c.FilterCol].Bool() {
			continue
		}
		a := &g.accs[j]
		if c.Func == AggCountStar {
			a.n += w
			continue
		}
		v := row[c.Arg]
		if v.IsNull() {
			continue
		}
		a.n += w
		switch c.Func {
		case AggSum, AggAvg:
			if err := addWeighted(&a.v, v, w); err != nil {
				return err
			}
			if v.K == types.KindNumeric {
				a.scales.add(v.D, w)
			}
		case AggMin, AggMax:
			if better(v, a.v, c.Func == AggMin) {
				a.v = v
			}
		case AggBoolAnd, AggBoolOr:
			if a.v.IsNull() {
				a.v = types.NewInt8(0)
			}
			if v.Bool() {
				a.v.I += w
			}
		case AggVarSamp, AggVarPop, AggStddevSamp, AggStddevPop:
			if err := addSquares(a, v, w); err != nil {
				return err
			}
		}
	}
	return nil
}

// merge adds session src's accumulators to dst's.
func (o *sessionAggOp) merge(dst, src *sess) error {
	dst.g.count += src.g.count
	for j := range o.spec.Aggs {
		c := &o.spec.Aggs[j]
		d, s := &dst.g.accs[j], &src.g.accs[j]
		if s.n == 0 {
			continue
		}
		d.n += s.n
		switch c.Func {
		case AggSum, AggAvg:
			if d.v.K == types.KindInt8 && s.v.K == types.KindNumeric {
				d.v = types.NewNumeric(apd.New(d.v.I, 0)) // src overflowed bigint
			}
			if err := addWeighted(&d.v, s.v, 1); err != nil {
				return err
			}
			for _, sc := range s.scales {
				d.scales.addScale(sc.scale, sc.n)
			}
		case AggMin, AggMax:
			if better(s.v, d.v, c.Func == AggMin) {
				d.v = s.v
			}
		case AggBoolAnd, AggBoolOr:
			if d.v.IsNull() {
				d.v = types.NewInt8(0)
			}
			d.v.I += s.v.I
		case AggVarSamp, AggVarPop, AggStddevSamp, AggStddevPop:
			d.bad += s.bad
			for _, sc := range s.scales {
				d.scales.addScale(sc.scale, sc.n)
			}
			if s.v.IsNull() {
				continue
			}
			if d.v.IsNull() {
				d.v, d.v2 = s.v, s.v2
				continue
			}
			if err := addDecimal(&d.v, s.v.D, 1); err != nil {
				return err
			}
			if err := addDecimal(&d.v2, s.v2.D, 1); err != nil {
				return err
			}
		}
	}
	return nil
}

func (o *sessionAggOp) flush(ec *epochCtx, emit func(*Batch) error) error {
	defer o.reset()
	if !ec.ephemeral && !o.checked {
		if err := o.checkLayout(ec); err != nil {
			return err
		}
		o.checked = true
	}
	out := &Batch{}
	for _, part := range o.order {
		var err error
		if ec.ephemeral {
			err = o.flushEphemeral(ec, o.parts[part], out)
		} else {
			err = o.flushPart(ec, part, o.parts[part], out)
		}
		if err != nil {
			return err
		}
	}
	if err := o.closeSessions(ec, out); err != nil {
		return err
	}
	out.Consolidate()
	if out.Len() == 0 {
		return nil
	}
	return emit(out)
}

// checkLayout refuses to run over the state of a view created before
// session aggregates, whose Aggregate kept its groups under the same
// operator id (0x00 and 0x01 keys): reading on would silently miss every
// session that state holds.
func (o *sessionAggOp) checkLayout(ec *epochCtx) error {
	lo := append(append([]byte(nil), o.prefix...), 0)
	found := false
	err := ec.store.Scan(lo, append(append([]byte(nil), o.prefix...), 0x10), false, func(_, _ []byte) (bool, error) {
		found = true
		return false, nil
	})
	if err != nil {
		return err
	}
	if found {
		return pgerr.New(pgerr.ObjectNotInPrerequisite, "the view's state was written by an earlier plan of its SESSION aggregate").
			WithHint("Recreate the view: CREATE OR REPLACE MATERIALIZED VIEW with the same query.")
	}
	return nil
}

// item is one input row on its way into a session.
type item struct {
	t   types.Value
	row types.Row // the input row
	agg types.Row // what the aggregates read; nil when evaluating it failed
	w   int64
}

func (o *sessionAggOp) partValues(row types.Row) types.Row {
	part := make(types.Row, len(o.sw.PartitionBy))
	for j, c := range o.sw.PartitionBy {
		part[j] = row[c]
	}
	return part
}

// sweep groups items (times ascending, weights positive) into sessions.
func (o *sessionAggOp) sweep(part types.Row, items []item) ([]*sess, error) {
	var out []*sess
	var cur *sess
	for _, it := range items {
		if cur == nil || it.t.I-cur.last >= o.sw.Gap {
			cur = o.newSess(part)
			cur.start = it.t.I
			out = append(out, cur)
		}
		cur.last = it.t.I
		if it.agg != nil {
			if err := o.add(cur, it.agg, it.w); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// flushEphemeral computes an ad hoc query's sessions of one partition.
func (o *sessionAggOp) flushEphemeral(ec *epochCtx, b *Batch, out *Batch) error {
	var timed []item
	var nulls *sess
	for i, row := range b.Rows {
		agg, err := o.aggRow(ec, row)
		if err != nil {
			return err
		}
		t := row[o.sw.TimeCol]
		if t.IsNull() {
			if nulls == nil {
				nulls = o.newSess(o.partValues(row))
				nulls.null = true
			}
			if err := o.add(nulls, agg, b.W[i]); err != nil {
				return err
			}
			continue
		}
		timed = append(timed, item{t: t, agg: agg, w: b.W[i]})
	}
	sort.SliceStable(timed, func(i, j int) bool { return timed[i].t.I < timed[j].t.I })
	var ss []*sess
	if len(timed) > 0 {
		var err error
		if ss, err = o.sweep(o.partValues(b.Rows[0]), timed); err != nil {
			return err
		}
	}
	if nulls != nil {
		ss = append(ss, nulls)
	}
	for _, s := range ss {
		row, err := o.output(ec, s)
		if err != nil {
			return err
		}
		if row != nil {
			out.Add(row, 1)
		}
	}
	return nil
}

// flushPart applies one partition's delta in a dataflow.
func (o *sessionAggOp) flushPart(ec *epochCtx, part string, delta *Batch, out *Batch) error {
	if o.storeRows {
		// Over an input that only inserts the weights are positive and
		// add up in the accumulators as they come.
		delta.Consolidate()
	}
	if delta.Len() == 0 {
		return nil
	}
	var timed, nulls []item
	retractTimed, retractNull := false, false
	for i, row := range delta.Rows {
		w := delta.W[i]
		agg, err := o.aggRow(ec, row)
		if err != nil {
			// A data error drops the row from the aggregates, as the
			// Project above the window would; the row still shapes its
			// session.
			if err := ec.rowError(err, w); err != nil {
				return err
			}
			agg = nil
		}
		it := item{t: row[o.sw.TimeCol], row: row, agg: agg, w: w}
		if it.t.IsNull() {
			nulls = append(nulls, it)
			retractNull = retractNull || w < 0
		} else {
			timed = append(timed, it)
			retractTimed = retractTimed || w < 0
		}
	}
	if (retractTimed || retractNull) && !o.storeRows {
		return pgerr.New(pgerr.InternalError, "session aggregate: a retraction over an input that only inserts")
	}
	if o.storeRows {
		if err := o.writeRows(ec, part, delta); err != nil {
			return err
		}
	}
	partVals := o.partValues(delta.Rows[0])
	if len(nulls) > 0 {
		if err := o.flushNulls(ec, part, partVals, nulls, retractNull, out); err != nil {
			return err
		}
	}
	if len(timed) == 0 {
		return nil
	}
	sort.SliceStable(timed, func(i, j int) bool { return timed[i].t.I < timed[j].t.I })
	if retractTimed {
		return o.recompute(ec, part, partVals, timed, out)
	}
	return o.extend(ec, part, partVals, timed, out)
}

// writeRows applies a delta to the stored input rows (retractions first, so
// that -7.000 +7 leaves the row as last written).
func (o *sessionAggOp) writeRows(ec *epochCtx, part string, delta *Batch) error {
	for _, neg := range []bool{true, false} {
		for i, row := range delta.Rows {
			w := delta.W[i]
			if (w < 0) != neg {
				continue
			}
			k := o.rowKey(part, row[o.sw.TimeCol], row)
			if _, err := addStoredRow(ec, k, row, w, nil, "session"); err != nil {
				return err
			}
		}
	}
	return nil
}

// flushNulls updates the group of a partition's rows with a NULL time.
func (o *sessionAggOp) flushNulls(ec *epochCtx, part string, partVals types.Row, items []item, retract bool, out *Batch) error {
	key := append(o.space(0x10, part), 1)
	var s *sess
	val, ok, err := ec.store.Get(key)
	if err != nil {
		return err
	}
	if ok {
		if s, err = o.decode(ec, key, val); err != nil {
			return err
		}
	} else {
		s = o.newSess(partVals)
		s.null = true
	}
	old := s.old
	rows := 0
	if retract {
		// Recount from the stored rows.
		s.g = o.newSess(partVals).g
		lo := append(o.space(0x11, part), 1)
		err := ec.store.Scan(lo, storage.PrefixEnd(lo), false, func(_, val []byte) (bool, error) {
			cnt, row, err := DecodeStoredRow(val, nil)
			if err != nil {
				return false, err
			}
			rows++
			if agg, err := o.aggRow(ec, row); err == nil {
				if err := o.add(s, agg, cnt); err != nil {
					return false, err
				}
			}
			return true, nil
		})
		if err != nil {
			return err
		}
	} else {
		rows = 1
		for _, it := range items {
			if it.agg != nil {
				if err := o.add(s, it.agg, it.w); err != nil {
					return err
				}
			}
		}
	}
	if rows == 0 {
		if err := ec.store.Delete(key); err != nil {
			return err
		}
	} else if err := ec.store.Set(key, o.encode(s)); err != nil {
		return err
	}
	if o.spec.EmitOnWindowClose {
		return nil
	}
	row, err := o.output(ec, s)
	if err != nil {
		return err
	}
	if old != nil {
		out.Add(old, -1)
	}
	if row != nil {
		out.Add(row, 1)
	}
	return nil
}

// prevSession is the stored session of a partition starting at or before
// t (nil: none).
func (o *sessionAggOp) prevSession(ec *epochCtx, part string, t int64) (*sess, error) {
	lo := append(o.space(0x10, part), 0)
	var s *sess
	err := ec.store.Scan(lo, storage.PrefixEnd(o.sessKey(part, t)), true, func(key, val []byte) (bool, error) {
		var err error
		s, err = o.decode(ec, key, val)
		return false, err
	})
	return s, err
}

// nextSession is the stored session of a partition starting after t
// (nil: none).
func (o *sessionAggOp) nextSession(ec *epochCtx, part string, t int64) (*sess, error) {
	hi := append(o.space(0x10, part), 1)
	var s *sess
	err := ec.store.Scan(storage.PrefixEnd(o.sessKey(part, t)), hi, false, func(key, val []byte) (bool, error) {
		var err error
		s, err = o.decode(ec, key, val)
		return false, err
	})
	return s, err
}

// extend adds a partition's new timed rows (no retractions) to its
// sessions: each run of rows extends the session it falls into or opens
// one, and absorbs the sessions after it that it comes within Gap of.
// The partition's latest start (0x13) spares the seeks in the common case
// of rows at or after it: the session before them is one get, and there
// is none after.
func (o *sessionAggOp) extend(ec *epochCtx, part string, partVals types.Row, items []item, out *Batch) error {
	gap := o.sw.Gap
	latest, known, err := o.getLatest(ec, part)
	if err != nil {
		return err
	}
	dirty := false
	var cur *runSess
	var olds []*sess
	var next *sess // the stored session after cur's last absorbed one
	nextLoaded, curIsLast := false, false
	absorb := func() error {
		for {
			if !nextLoaded {
				if known && cur.absorbed >= latest {
					next = nil
				} else {
					var err error
					if next, err = o.nextSession(ec, part, cur.absorbed); err != nil {
						return err
					}
				}
				nextLoaded = true
			}
			if next == nil || next.start-cur.last >= gap {
				curIsLast = next == nil
				return nil
			}
			if err := o.merge(cur.sess, next); err != nil {
				return err
			}
			cur.last = max(cur.last, next.last)
			olds = append(olds, next)
			cur.absorbed = next.start
			nextLoaded = false
		}
	}
	finish := func() error {
		if err := o.replace(ec, part, olds, []*sess{cur.sess}, out); err != nil {
			return err
		}
		if curIsLast && (!known || latest != cur.start) {
			latest, known, dirty = cur.start, true, true
		}
		cur, olds, nextLoaded, curIsLast = nil, nil, false, false
		return nil
	}
	for _, it := range items {
		t := it.t.I
		if cur != nil {
			if err := absorb(); err != nil {
				return err
			}
			if t-cur.last >= gap {
				if err := finish(); err != nil {
					return err
				}
			}
		}
		if cur == nil {
			var p *sess
			var err error
			if known && t >= latest {
				p, err = o.getSession(ec, part, latest)
			} else {
				p, err = o.prevSession(ec, part, t)
			}
			if err != nil {
				return err
			}
			if p != nil && t-p.last < gap {
				cur = &runSess{sess: o.newSess(p.part), absorbed: p.start}
				cur.start, cur.last = p.start, p.last
				if err := o.merge(cur.sess, p); err != nil {
					return err
				}
				olds = append(olds, p)
			} else {
				cur = &runSess{sess: o.newSess(partVals), absorbed: t}
				cur.start, cur.last = t, t
			}
		}
		cur.last = max(cur.last, t)
		if it.agg != nil {
			if err := o.add(cur.sess, it.agg, it.w); err != nil {
				return err
			}
		}
	}
	if err := absorb(); err != nil {
		return err
	}
	if err := finish(); err != nil {
		return err
	}
	if dirty {
		return ec.store.Set(o.space(0x13, part), appendTimeKey(nil, latest))
	}
	return nil
}

// runSess is the session a run of new rows builds.
type runSess struct {
	*sess
	absorbed int64 // the start of the last stored session it absorbed (or its first time)
}

// getLatest reads the start of a partition's latest session (known is
// false when the key is absent: no session, or not recorded).
func (o *sessionAggOp) getLatest(ec *epochCtx, part string) (latest int64, known bool, err error) {
	err = ec.store.GetFunc(o.space(0x13, part), func(val []byte) error {
		if len(val) != 8 {
			return pgerr.New(pgerr.DataCorrupted, "corrupt session state: latest start of %d bytes", len(val))
		}
		latest, known = int64(binary.BigEndian.Uint64(val)^(1<<63)), true
		return nil
	})
	return latest, known, err
}

// resetLatest records a partition's latest session after sessions were
// rebuilt or closed (deletes the record when none is left).
func (o *sessionAggOp) resetLatest(ec *epochCtx, part string) error {
	lo := append(o.space(0x10, part), 0)
	var latest []byte
	err := ec.store.Scan(lo, append(o.space(0x10, part), 1), true, func(key, _ []byte) (bool, error) {
		latest = append([]byte(nil), key[len(key)-8:]...)
		return false, nil
	})
	if err != nil {
		return err
	}
	if latest == nil {
		return ec.store.Delete(o.space(0x13, part))
	}
	return ec.store.Set(o.space(0x13, part), latest)
}

// getSession reads the stored session of a partition that starts at start.
func (o *sessionAggOp) getSession(ec *epochCtx, part string, start int64) (*sess, error) {
	key := o.sessKey(part, start)
	val, ok, err := ec.store.Get(key)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, pgerr.New(pgerr.DataCorrupted, "corrupt session state: the latest session is missing")
	}
	return o.decode(ec, key, val)
}

// replace deletes the stored sessions olds and stores news in their place,
// emitting the old rows retracted and the new ones inserted.
func (o *sessionAggOp) replace(ec *epochCtx, part string, olds, news []*sess, out *Batch) error {
	newKeys := make(map[string]bool, len(news))
	for _, s := range news {
		s.key = o.sessKey(part, s.start)
		newKeys[string(s.key)] = true
	}
	for _, s := range olds {
		if !newKeys[string(s.key)] {
			if err := ec.store.Delete(s.key); err != nil {
				return err
			}
		}
		if o.closeWM != nil {
			if err := ec.store.Delete(o.endKey(s)); err != nil {
				return err
			}
		}
		if s.old != nil && !o.spec.EmitOnWindowClose {
			out.Add(s.old, -1)
		}
	}
	for _, s := range news {
		if err := ec.store.Set(s.key, o.encode(s)); err != nil {
			return err
		}
		if o.closeWM != nil {
			if err := ec.store.Set(o.endKey(s), s.key); err != nil {
				return err
			}
		}
		if o.spec.EmitOnWindowClose {
			continue
		}
		row, err := o.output(ec, s)
		if err != nil {
			return err
		}
		if row != nil {
			out.Add(row, 1)
		}
	}
	return nil
}

// recompute handles a partition's timed delta with retractions: the stored
// sessions within Gap of the delta's times, and everything between, are
// rebuilt from their stored rows (already updated by writeRows).
func (o *sessionAggOp) recompute(ec *epochCtx, part string, partVals types.Row, items []item, out *Batch) error {
	gap := o.sw.Gap
	lo, hi := items[0].t.I, items[len(items)-1].t.I
	var olds []*sess
	p, err := o.prevSession(ec, part, lo)
	if err != nil {
		return err
	}
	from := lo
	if p != nil {
		from = p.start
		if p.last > lo-gap {
			olds = append(olds, p)
		}
	}
	// Every session starting after from and less than Gap after hi.
	end := append(o.space(0x10, part), 1)
	err = ec.store.Scan(storage.PrefixEnd(o.sessKey(part, from)), end, false, func(key, val []byte) (bool, error) {
		s, err := o.decode(ec, key, val)
		if err != nil {
			return false, err
		}
		if s.start-hi >= gap {
			return false, nil
		}
		olds = append(olds, s)
		return true, nil
	})
	if err != nil {
		return err
	}
	rlo, rhi := lo, hi
	for _, s := range olds {
		rlo, rhi = min(rlo, s.start), max(rhi, s.last)
	}
	base := append(o.space(0x11, part), 0)
	var rows []item
	err = ec.store.Scan(appendTimeKey(append([]byte(nil), base...), rlo), storage.PrefixEnd(appendTimeKey(append([]byte(nil), base...), rhi)), false,
		func(_, val []byte) (bool, error) {
			cnt, row, err := DecodeStoredRow(val, nil)
			if err != nil {
				return false, err
			}
			agg, err := o.aggRow(ec, row)
			if err != nil {
				agg = nil // counted when the row arrived
			}
			rows = append(rows, item{t: row[o.sw.TimeCol], agg: agg, w: cnt})
			return true, nil
		})
	if err != nil {
		return err
	}
	if len(olds) > 0 {
		partVals = olds[0].part
	}
	news, err := o.sweep(partVals, rows)
	if err != nil {
		return err
	}
	if err := o.replace(ec, part, olds, news, out); err != nil {
		return err
	}
	return o.resetLatest(ec, part)
}

// closeSessions deletes the sessions the watermark closed (window_end at
// or below it) with their rows, emitting their rows with EMIT ON WINDOW
// CLOSE. It runs when the watermark advanced.
func (o *sessionAggOp) closeSessions(ec *epochCtx, out *Batch) error {
	if o.closeWM == nil || ec.ephemeral || ec.wms == nil {
		return nil
	}
	wm, ok := o.closeWM.value(ec.wms)
	if !ok {
		return nil
	}
	if before, ok := o.closeWM.value(ec.wmsBefore); ok && before >= wm {
		return nil
	}
	lo := append(append([]byte(nil), o.prefix...), 0x12)
	hi := storage.PrefixEnd(appendTimeKey(append([]byte(nil), lo...), wm))
	var keys [][]byte
	err := ec.store.Scan(lo, hi, false, func(_, val []byte) (bool, error) {
		keys = append(keys, append([]byte(nil), val...))
		return true, nil
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		val, ok, err := ec.store.Get(k)
		if err != nil {
			return err
		}
		if !ok {
			return pgerr.New(pgerr.DataCorrupted, "session index names a missing session")
		}
		s, err := o.decode(ec, k, val)
		if err != nil {
			return err
		}
		if o.spec.EmitOnWindowClose && s.old != nil {
			out.Add(s.old, 1)
		}
		if err := ec.store.Delete(k); err != nil {
			return err
		}
		part := k[len(o.prefix)+1 : len(k)-9]
		if latest, known, err := o.getLatest(ec, string(part)); err != nil {
			return err
		} else if known && latest == s.start {
			// The partition's latest session closed, and so did every
			// earlier one.
			if err := ec.store.Delete(o.space(0x13, string(part))); err != nil {
				return err
			}
		}
		if o.storeRows {
			// The session's rows: its partition's, from start to last.
			base := append(append(append([]byte(nil), o.prefix...), 0x11), part...)
			base = append(base, 0)
			from := appendTimeKey(append([]byte(nil), base...), s.start)
			to := storage.PrefixEnd(appendTimeKey(append([]byte(nil), base...), s.last))
			if err := ec.store.DeleteRange(from, to); err != nil {
				return err
			}
		}
	}
	return ec.store.DeleteRange(lo, hi)
}

// better says v replaces the current min (or max) cur.
func better(v, cur types.Value, isMin bool) bool {
	if cur.IsNull() {
		return true
	}
	c := types.Compare(v, cur)
	return (isMin && c < 0) || (!isMin && c > 0)
}

// addScale counts n more inputs of display scale s.
func (sc *scaleCounts) addScale(s int32, n int64) {
	i := sort.Search(len(*sc), func(i int) bool { return (*sc)[i].scale >= s })
	if i < len(*sc) && (*sc)[i].scale == s {
		(*sc)[i].n += n
		return
	}
	*sc = slices.Insert(*sc, i, scaleCount{s, n})
}
