package exec

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"
	"strings"

	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/storage"
	"github.com/kappa-db/kappa/types"
)

// WindowFunc names a window function.
type WindowFunc uint8

// Window functions: the ranking and value functions, then the aggregates
// computed over a frame.
const (
	WinRowNumber WindowFunc = iota
	WinRank
	WinDenseRank
	WinPercentRank
	WinCumeDist
	WinNtile
	WinLag
	WinLead
	WinFirstValue
	WinLastValue
	WinNthValue
	WinCountStar
	WinCount
	WinSum
	WinAvg
	WinMin
	WinMax
)

var windowFuncNames = [...]string{"row_number", "rank", "dense_rank", "percent_rank", "cume_dist",
	"ntile", "lag", "lead", "first_value", "last_value", "nth_value", "count(*)", "count", "sum", "avg", "min", "max"}

func (f WindowFunc) String() string { return windowFuncNames[f] }

// UsesFrame says whether the function's result depends on the frame (the
// others read the whole partition or only the row's position and peers).
func (f WindowFunc) UsesFrame() bool { return f >= WinFirstValue }

// FrameMode is ROWS, RANGE or GROUPS.
type FrameMode uint8

// Frame modes.
const (
	FrameRange FrameMode = iota
	FrameRows
	// FrameGroups counts offsets in peer groups (rows equal in the ORDER
	// BY).
	FrameGroups
)

// FrameExclude is a frame's EXCLUDE option: which rows around the current
// one leave its frame.
type FrameExclude uint8

// Frame exclusions.
const (
	ExcludeNoOthers FrameExclude = iota
	ExcludeCurrentRow
	ExcludeGroup // the current row and its peers
	ExcludeTies  // its peers but not itself
)

// FrameBoundKind is the kind of one end of a frame.
type FrameBoundKind uint8

// Frame bound kinds.
const (
	BoundUnboundedPreceding FrameBoundKind = iota
	BoundPreceding
	BoundCurrentRow
	BoundFollowing
	BoundUnboundedFollowing
)

// FrameBound is one end of a window frame.
type FrameBound struct {
	Kind FrameBoundKind
	// Offset is n of `n PRECEDING` / `n FOLLOWING`: a constant or a
	// parameter (bigint in ROWS mode).
	Offset expr.Expr
	// Target, in RANGE mode with an offset, computes the bound's sort value
	// from the row [order value, offset]: v - n or v + n, whichever moves
	// the bound the way the ORDER BY direction says.
	Target expr.Expr
}

// WindowFrame is a call's frame. The zero value is not the default frame:
// the planner spells out RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW.
type WindowFrame struct {
	Mode       FrameMode
	Start, End FrameBound
	Exclude    FrameExclude
}

func (b FrameBound) String() string {
	switch b.Kind {
	case BoundUnboundedPreceding:
		return "UNBOUNDED PRECEDING"
	case BoundPreceding:
		return b.Offset.String() + " PRECEDING"
	case BoundCurrentRow:
		return "CURRENT ROW"
	case BoundFollowing:
		return b.Offset.String() + " FOLLOWING"
	}
	return "UNBOUNDED FOLLOWING"
}

func (f WindowFrame) String() string {
	mode := [...]string{"RANGE", "ROWS", "GROUPS"}[f.Mode]
	s := fmt.Sprintf("%s BETWEEN %s AND %s", mode, f.Start, f.End)
	if f.Exclude != ExcludeNoOthers {
		s += " EXCLUDE " + [...]string{"", "CURRENT ROW", "GROUP", "TIES"}[f.Exclude]
	}
	return s
}

// WindowCall is one window function of a Window node. Args are input
// columns: the value, then lag/lead's offset and default, nth_value's n, or
// ntile's bucket count.
type WindowCall struct {
	Func  WindowFunc
	Args  []int
	Type  types.Type
	Frame WindowFrame
}

func (c WindowCall) String() string {
	var args []string
	for _, a := range c.Args {
		args = append(args, fmt.Sprintf("#%d", a))
	}
	s := strings.TrimSuffix(c.Func.String(), "(*)") + "(" + strings.Join(args, ", ") + ")"
	if c.Func == WinCountStar {
		s = "count(*)"
	}
	if c.Func.UsesFrame() {
		s += " " + c.Frame.String()
	}
	return s
}

// Window computes window functions over partitions of its input: the rows
// with equal PartitionBy columns (one partition without them), ordered by
// OrderBy. Output columns: the input's, then one per call.
type Window struct {
	Input       Node
	PartitionBy []int
	OrderBy     []SortKey
	Calls       []WindowCall
}

func (n *Window) Columns() []types.Type {
	ts := append([]types.Type(nil), n.Input.Columns()...)
	for _, c := range n.Calls {
		ts = append(ts, c.Type)
	}
	return ts
}
func (*Window) planNode() {}

// GroupTopN is a Window with one ranking function (row_number, rank or
// dense_rank) whose result is filtered to [Lo, Hi]: the per-partition Top-N
// and deduplication patterns (`WHERE rn <= 3`, `WHERE rn = 1`). It keeps the
// same output columns as that Window, but reads only each partition's top.
type GroupTopN struct {
	Input       Node
	PartitionBy []int
	OrderBy     []SortKey
	Func        WindowFunc
	Lo, Hi      int64
}

func (n *GroupTopN) Columns() []types.Type {
	return append(append([]types.Type(nil), n.Input.Columns()...), types.Int8)
}
func (*GroupTopN) planNode() {}

// appendSortKey encodes row's ORDER BY key, NULLs placed as each key asks.
func appendRowSortKey(dst []byte, row types.Row, keys []SortKey) []byte {
	for _, k := range keys {
		v := row[k.Col]
		nullByte := byte(1) // NULLs after values
		if k.NullsFirst {
			nullByte = 0
		}
		if v.IsNull() {
			dst = append(dst, nullByte)
			continue
		}
		dst = append(dst, 1-nullByte)
		dst = types.AppendKey(dst, v, k.Desc)
	}
	return dst
}

// peers says whether two rows are equal in every ORDER BY column.
func peers(a, b types.Row, keys []SortKey) bool {
	for _, k := range keys {
		if types.Compare(a[k.Col], b[k.Col]) != 0 {
			return false
		}
	}
	return true
}

// partitioned is the state shared by the window operators: every input row,
// by partition and in sort order.
//
//	0x00 partKey sortKey rowKey → multiplicity, row
//
// During an epoch the input is buffered per partition (a dataflow's delta, or
// an ad hoc query's whole input); at the barrier each touched partition is
// handled on its own.
type partitioned struct {
	prefix      []byte
	partitionBy []int
	orderBy     []SortKey
	parts       map[string]*Batch
	order       []string
	scratch     []byte
	keyBuf      []byte
	valBuf      []byte
	// closeWM bounds the first partition column (its key comes first):
	// the partitions below it are closed windows (nil: none).
	closeWM   *colWatermark
	closeKind types.Kind
}

func newPartitioned(partitionBy []int, orderBy []SortKey, opID uint64) partitioned {
	return partitioned{prefix: storage.StatePrefix(opID), partitionBy: partitionBy, orderBy: orderBy, parts: map[string]*Batch{}}
}

// newWindowedPartitioned is newPartitioned for an input whose partition
// columns may carry a watermark (a window): the first that does is encoded
// first, so that closed windows' partitions are a prefix of the state.
func newWindowedPartitioned(input Node, partitionBy []int, orderBy []SortKey, opID uint64) partitioned {
	in := columnWatermarks(input)
	for i, c := range partitionBy {
		if in[c] != nil {
			part := append([]int{c}, append(append([]int(nil), partitionBy[:i]...), partitionBy[i+1:]...)...)
			p := newPartitioned(part, orderBy, opID)
			p.closeWM, p.closeKind = in[c], input.Columns()[c].Kind
			return p
		}
	}
	return newPartitioned(partitionBy, orderBy, opID)
}

// closeWindows deletes, in each state space, the partitions the watermark
// closed: no change to come can reach them. It runs when the watermark
// advanced.
func (p *partitioned) closeWindows(ec *epochCtx, spaces ...byte) error {
	bound, ok := p.closedBound(ec)
	if !ok {
		return nil
	}
	for _, space := range spaces {
		lo := append(append([]byte(nil), p.prefix...), space)
		hi := append(append([]byte(nil), lo...), bound...)
		if err := ec.store.DeleteRange(lo, hi); err != nil {
			return err
		}
	}
	return nil
}

// closedBound is the partition key below which the watermark closed
// partitions in this epoch (ok=false: none closed).
func (p *partitioned) closedBound(ec *epochCtx) (bound []byte, ok bool) {
	if p.closeWM == nil || ec.ephemeral || ec.wms == nil {
		return nil, false
	}
	wm, ok := p.closeWM.value(ec.wms)
	if !ok {
		return nil, false
	}
	if before, ok := p.closeWM.value(ec.wmsBefore); ok && before >= wm {
		return nil, false
	}
	return types.AppendKey(nil, types.Value{K: p.closeKind, I: wm}, false), true
}

func (p *partitioned) reset() {
	clear(p.parts)
	p.order = p.order[:0]
}

func (p *partitioned) add(ec *epochCtx, in *Batch) error {
	if ec.ephemeral {
		if err := ec.holdBatch(in); err != nil {
			return err
		}
	}
	for i, row := range in.Rows {
		k := p.scratch[:0]
		for _, c := range p.partitionBy {
			k = types.AppendKey(k, row[c], false)
		}
		p.scratch = k
		b := p.parts[string(k)]
		if b == nil {
			b = &Batch{}
			p.parts[string(k)] = b
			p.order = append(p.order, string(k))
		}
		b.Add(row, in.W[i])
	}
	return nil
}

// orderKey is a row's position in its partition: its sort key, then the row
// itself, so that peers come in one fixed order in a dataflow and ad hoc.
func (p *partitioned) orderKey(dst []byte, row types.Row) []byte {
	dst = appendRowSortKey(dst, row, p.orderBy)
	for _, v := range row {
		dst = types.AppendKey(dst, v, false)
	}
	return dst
}

func (p *partitioned) partPrefix(part string) []byte {
	k := make([]byte, 0, len(p.prefix)+1+len(part)+32)
	k = append(append(k, p.prefix...), 0)
	return append(k, part...)
}

// scan calls fn for the stored rows of a partition in order, until fn
// returns false.
func (p *partitioned) scan(ec *epochCtx, part string, fn func(key []byte, cnt int64, row types.Row) (bool, error)) error {
	lo := p.partPrefix(part)
	return ec.store.Scan(lo, storage.PrefixEnd(lo), false, func(key, val []byte) (bool, error) {
		cnt, row, err := DecodeStoredRow(val, nil)
		if err != nil {
			return false, err
		}
		return fn(key, cnt, row)
	})
}

// entry is one stored row of a partition: its key, multiplicity and row.
type entry struct {
	key   []byte
	cnt   int64
	row   types.Row
	dirty bool // merge changed it
}

// load reads a stored partition, in order.
func (p *partitioned) load(ec *epochCtx, part string) ([]entry, error) {
	var es []entry
	err := p.scan(ec, part, func(key []byte, cnt int64, row types.Row) (bool, error) {
		es = append(es, entry{key: append([]byte(nil), key...), cnt: cnt, row: row})
		return true, nil
	})
	return es, err
}

// merge applies a partition's delta to its loaded rows, in the store and in
// memory, and returns the new rows in order. Knowing every row's old
// multiplicity, it writes without reading.
func (p *partitioned) merge(ec *epochCtx, part string, old []entry, delta *Batch) ([]entry, error) {
	idx := make(map[string]int, len(old)+delta.Len())
	es := make([]entry, len(old), len(old)+delta.Len())
	copy(es, old)
	for i, e := range es {
		idx[string(e.key)] = i
	}
	base := p.partPrefix(part)
	added := false
	var touched []int
	for i, row := range delta.Rows {
		k := p.orderKey(append([]byte(nil), base...), row)
		j, ok := idx[string(k)]
		if !ok {
			j = len(es)
			idx[string(k)] = j
			es = append(es, entry{key: k, row: row})
			added = true
		}
		if !es[j].dirty {
			es[j].dirty = true
			touched = append(touched, j)
		}
		es[j].cnt += delta.W[i]
	}
	// Write each touched key once.
	for _, j := range touched {
		e := es[j]
		var err error
		switch {
		case e.cnt == 0:
			err = ec.store.Delete(e.key)
		case e.cnt < 0:
			return nil, pgerr.New(pgerr.InternalError, "window state: row multiplicity went negative")
		default:
			err = ec.store.Set(e.key, AppendStoredRow(nil, e.cnt, e.row))
		}
		if err != nil {
			return nil, err
		}
	}
	out := es[:0]
	for _, e := range es {
		if e.cnt != 0 {
			out = append(out, e)
		}
	}
	if added {
		sort.Slice(out, func(a, b int) bool { return bytes.Compare(out[a].key, out[b].key) < 0 })
	}
	return out, nil
}

func entryRows(es []entry) (rows []types.Row, counts []int64) {
	rows, counts = make([]types.Row, len(es)), make([]int64, len(es))
	for i, e := range es {
		rows[i], counts[i] = e.row, e.cnt
	}
	return rows, counts
}

// write adds a partition's delta to the store and returns the smallest key
// it changed.
func (p *partitioned) write(ec *epochCtx, part string, delta *Batch) ([]byte, error) {
	var minKey []byte
	base := p.partPrefix(part)
	for i, row := range delta.Rows {
		// pebble copies keys and values into the batch: one buffer each
		// serves every row.
		k := p.orderKey(append(p.keyBuf[:0], base...), row)
		p.keyBuf = k
		if minKey == nil || bytes.Compare(k, minKey) < 0 {
			minKey = append(minKey[:0], k...)
		}
		var err error
		if p.valBuf, err = addStoredRow(ec, k, row, delta.W[i], p.valBuf, "window"); err != nil {
			return nil, err
		}
	}
	return minKey, nil
}

// sorted orders an ad hoc query's buffered partition (all weights positive).
func (p *partitioned) sorted(b *Batch) (rows []types.Row, counts []int64) {
	keys := make([]string, b.Len())
	idx := make([]int, b.Len())
	for i, r := range b.Rows {
		idx[i] = i
		keys[i] = string(p.orderKey(nil, r))
	}
	sort.Slice(idx, func(x, y int) bool { return keys[idx[x]] < keys[idx[y]] })
	rows = make([]types.Row, len(idx))
	counts = make([]int64, len(idx))
	for i, j := range idx {
		rows[i], counts[i] = b.Rows[j], b.W[j]
	}
	return rows, counts
}

// windowOp computes the window functions of a Window node. A changed input
// row recomputes only its partition: at the barrier, for each partition the
// epoch touched, it reads the partition's stored rows, computes their output
// (what it emitted before), applies the epoch's delta, computes the output
// again and emits the difference. Recomputing the old output, rather than
// storing it, halves the state written per change, and a data error in a
// partition (ntile(0), an overflowing sum) is counted with weight +1 when it
// appears and -1 when it goes, like any row's error.
type windowOp struct {
	spec *Window
	partitioned
	avgDiv *expr.Func
	nIn    int
}

func newWindowOp(spec *Window, opID uint64) (*windowOp, error) {
	w := &windowOp{spec: spec, partitioned: newWindowedPartitioned(spec.Input, spec.PartitionBy, spec.OrderBy, opID), nIn: len(spec.Input.Columns())}
	for _, c := range spec.Calls {
		if c.Func == WinAvg && c.Type.Kind == types.KindNumeric && w.avgDiv == nil {
			f, err := expr.LookupOperator("/", types.Numeric, types.Numeric)
			if err != nil {
				return nil, err
			}
			w.avgDiv = f
		}
	}
	return w, nil
}

func (w *windowOp) apply(ec *epochCtx, _ int, in *Batch) (*Batch, error) {
	return nil, w.add(ec, in)
}

func (w *windowOp) flush(ec *epochCtx, emit func(*Batch) error) error {
	defer w.reset()
	for _, part := range w.order {
		delta := w.parts[part]
		out := &Batch{}
		if ec.ephemeral {
			rows, counts := w.sorted(delta)
			res, err := w.compute(ec, rows, counts)
			if err != nil {
				return err
			}
			for _, r := range res {
				out.Add(r, 1)
			}
		} else {
			old, err := w.load(ec, part)
			if err != nil {
				return err
			}
			cur, err := w.merge(ec, part, old, delta)
			if err != nil {
				return err
			}
			for _, side := range []struct {
				es   []entry
				sign int64
			}{{old, -1}, {cur, 1}} {
				rows, counts := entryRows(side.es)
				res, err := w.compute(ec, rows, counts)
				if err != nil {
					if err := ec.rowError(err, side.sign); err != nil {
						return err
					}
					continue
				}
				for _, r := range res {
					out.Add(r, side.sign)
				}
			}
			out.Consolidate()
		}
		if err := emit(out); err != nil {
			return err
		}
	}
	return w.closeWindows(ec, 0)
}

// winPart is one partition being computed: its rows in order, each as many
// times as its multiplicity, with its peer group.
type winPart struct {
	rows      []types.Row
	peerStart []int // first row of the row's peer group
	peerEnd   []int // one past its last row
	group     []int // the peer group's number, from 0
	// groupStart is the first row of each peer group, then len(rows).
	groupStart []int
}

func newWinPart(rows []types.Row, counts []int64, keys []SortKey) *winPart {
	p := &winPart{}
	for i, r := range rows {
		for c := counts[i]; c > 0; c-- {
			p.rows = append(p.rows, r)
		}
	}
	n := len(p.rows)
	p.peerStart, p.peerEnd, p.group = make([]int, n), make([]int, n), make([]int, n)
	g := -1
	for i := 0; i < n; {
		j := i + 1
		for j < n && peers(p.rows[i], p.rows[j], keys) {
			j++
		}
		g++
		p.groupStart = append(p.groupStart, i)
		for k := i; k < j; k++ {
			p.peerStart[k], p.peerEnd[k], p.group[k] = i, j, g
		}
		i = j
	}
	p.groupStart = append(p.groupStart, n)
	return p
}

// compute returns a partition's output rows: each input row (as often as its
// multiplicity) followed by the calls' values.
func (w *windowOp) compute(ec *epochCtx, rows []types.Row, counts []int64) ([]types.Row, error) {
	p := newWinPart(rows, counts, w.spec.OrderBy)
	n := len(p.rows)
	if n == 0 {
		return nil, nil
	}
	width := w.nIn + len(w.spec.Calls)
	vals := make([]types.Value, n*width)
	out := make([]types.Row, n)
	for i, r := range p.rows {
		out[i] = vals[i*width : (i+1)*width : (i+1)*width]
		copy(out[i], r)
	}
	for c := range w.spec.Calls {
		if err := w.computeCall(ec, p, c, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (w *windowOp) computeCall(ec *epochCtx, p *winPart, c int, out []types.Row) error {
	call := &w.spec.Calls[c]
	col := w.nIn + c
	n := len(p.rows)
	arg := func(i, a int) types.Value { return p.rows[i][call.Args[a]] }
	switch call.Func {
	case WinRowNumber:
		for i := range out {
			out[i][col] = types.NewInt8(int64(i + 1))
		}
	case WinRank:
		for i := range out {
			out[i][col] = types.NewInt8(int64(p.peerStart[i] + 1))
		}
	case WinDenseRank:
		for i := range out {
			out[i][col] = types.NewInt8(int64(p.group[i] + 1))
		}
	case WinPercentRank:
		for i := range out {
			v := 0.0
			if n > 1 {
				v = float64(p.peerStart[i]) / float64(n-1)
			}
			out[i][col] = types.NewFloat8(v)
		}
	case WinCumeDist:
		for i := range out {
			out[i][col] = types.NewFloat8(float64(p.peerEnd[i]) / float64(n))
		}
	case WinNtile:
		// PostgreSQL's window_ntile: the bucket count is read from the
		// first row where it is not NULL; the first total%buckets buckets
		// get one row more.
		var ntile, perBucket, boundary, remainder int64
		for i := range out {
			if ntile == 0 {
				k := arg(i, 0)
				if k.IsNull() {
					out[i][col] = types.Null
					continue
				}
				if k.I <= 0 {
					return pgerr.New(pgerr.InvalidArgumentForNtile, "argument of ntile must be greater than zero")
				}
				ntile, perBucket = 1, 0
				boundary = int64(n) / k.I
				if boundary <= 0 {
					boundary = 1
				} else if remainder = int64(n) % k.I; remainder != 0 {
					boundary++
				}
			}
			perBucket++
			if boundary < perBucket {
				if remainder != 0 && ntile == remainder {
					remainder = 0
					boundary--
				}
				ntile++
				perBucket = 1
			}
			out[i][col] = types.NewInt4(ntile)
		}
	case WinLag, WinLead:
		for i := range out {
			off := int64(1)
			if len(call.Args) > 1 {
				o := arg(i, 1)
				if o.IsNull() {
					out[i][col] = types.Null
					continue
				}
				off = o.I
			}
			if call.Func == WinLag {
				off = -off
			}
			j := int64(i) + off
			switch {
			case j >= 0 && j < int64(n):
				out[i][col] = p.rows[j][call.Args[0]]
			case len(call.Args) > 2:
				out[i][col] = arg(i, 2)
			default:
				out[i][col] = types.Null
			}
		}
	default:
		return w.computeFramed(ec, p, call, col, out)
	}
	return nil
}

// frameCalc finds each row's frame.
type frameCalc struct {
	f          WindowFrame
	key        SortKey // the ORDER BY column, for RANGE offsets
	startOff   types.Value
	endOff     types.Value
	p          *winPart
	targetArgs types.Row
}

func (w *windowOp) newFrameCalc(ec *epochCtx, call *WindowCall, p *winPart) (*frameCalc, error) {
	fc := &frameCalc{f: call.Frame, p: p, targetArgs: make(types.Row, 2)}
	if len(w.spec.OrderBy) > 0 {
		fc.key = w.spec.OrderBy[0]
	}
	for i, b := range []FrameBound{call.Frame.Start, call.Frame.End} {
		if b.Kind != BoundPreceding && b.Kind != BoundFollowing {
			continue
		}
		which := "starting"
		if i == 1 {
			which = "ending"
		}
		v, err := b.Offset.Eval(ec.eval, nil)
		if err != nil {
			return nil, err
		}
		if v.IsNull() {
			return nil, pgerr.New(pgerr.NullValueNotAllowed, "frame %s offset must not be null", which)
		}
		if call.Frame.Mode != FrameRange {
			if v.I < 0 {
				return nil, pgerr.New(pgerr.InvalidPrecedingFollowing, "frame %s offset must not be negative", which)
			}
		} else if negative(v) {
			return nil, pgerr.New(pgerr.InvalidPrecedingFollowing, "invalid preceding or following size in window function")
		}
		if i == 0 {
			fc.startOff = v
		} else {
			fc.endOff = v
		}
	}
	return fc, nil
}

func dateAsTimestamp(d types.Value) types.Value {
	switch d.I {
	case types.DateInfinity:
		return types.Value{K: types.KindTimestamp, I: types.TimestampInfinity}
	case types.DateNegInfinity:
		return types.Value{K: types.KindTimestamp, I: types.TimestampNegInfinity}
	}
	return types.Value{K: types.KindTimestamp, I: d.I * types.USPerDay}
}

func negative(v types.Value) bool {
	switch v.K {
	case types.KindInt2, types.KindInt4, types.KindInt8:
		return v.I < 0
	case types.KindFloat4, types.KindFloat8:
		return v.F < 0
	case types.KindNumeric:
		return v.D.Negative && !v.D.IsZero()
	case types.KindInterval:
		return types.Compare(v, types.NewInterval(0, 0, 0)) < 0
	}
	return false
}

// bounds returns row i's frame [s, e).
func (fc *frameCalc) bounds(ec *epochCtx, i int) (s, e int, err error) {
	if s, err = fc.pos(ec, i, fc.f.Start, fc.startOff, true); err != nil {
		return 0, 0, err
	}
	if e, err = fc.pos(ec, i, fc.f.End, fc.endOff, false); err != nil {
		return 0, 0, err
	}
	if e < s {
		e = s
	}
	return s, e, nil
}

func (fc *frameCalc) pos(ec *epochCtx, i int, b FrameBound, off types.Value, start bool) (int, error) {
	n := len(fc.p.rows)
	switch b.Kind {
	case BoundUnboundedPreceding:
		return 0, nil
	case BoundUnboundedFollowing:
		return n, nil
	case BoundCurrentRow:
		if fc.f.Mode == FrameRows {
			if start {
				return i, nil
			}
			return i + 1, nil
		}
		if start {
			return fc.p.peerStart[i], nil
		}
		return fc.p.peerEnd[i], nil
	}
	if fc.f.Mode == FrameGroups {
		// n groups before or after the current row's: from the start of
		// that group, or to its end.
		ng := int64(len(fc.p.groupStart) - 1)
		o := min(off.I, ng+1)
		g := int64(fc.p.group[i])
		if b.Kind == BoundPreceding {
			g -= o
		} else {
			g += o
		}
		if !start {
			g++
		}
		return fc.p.groupStart[min(max(g, 0), ng)], nil
	}
	if fc.f.Mode == FrameRows {
		o := off.I
		if o > int64(n) {
			o = int64(n) + 1
		}
		j := int64(i)
		if b.Kind == BoundPreceding {
			j -= o
		} else {
			j += o
		}
		if !start {
			j++
		}
		return int(min(max(j, 0), int64(n))), nil
	}
	// RANGE with an offset: the rows whose ORDER BY value is within the
	// offset of the current row's. A NULL current row's frame is its peers.
	v := fc.p.rows[i][fc.key.Col]
	if v.IsNull() {
		if start {
			return fc.p.peerStart[i], nil
		}
		return fc.p.peerEnd[i], nil
	}
	fc.targetArgs[0], fc.targetArgs[1] = v, off
	t, err := b.Target.Eval(ec.eval, fc.targetArgs)
	if err != nil {
		return 0, err
	}
	cmp := func(j int) int {
		a := fc.p.rows[j][fc.key.Col]
		if a.IsNull() {
			if fc.key.NullsFirst {
				return -1
			}
			return 1
		}
		if a.K == types.KindDate && t.K != types.KindDate {
			// date ± interval is a timestamp: compare as one.
			a = dateAsTimestamp(a)
		}
		c := types.Compare(a, t)
		if fc.key.Desc {
			c = -c
		}
		return c
	}
	if start {
		return sort.Search(n, func(j int) bool { return cmp(j) >= 0 }), nil
	}
	return sort.Search(n, func(j int) bool { return cmp(j) > 0 }), nil
}

// computeFramed computes a function of the frame: first/last/nth_value and
// the aggregates. Frames only move forward as the row advances, so an
// aggregate adds the rows that enter; rows that leave are subtracted when
// that is exact (counts, integer and numeric sums), else the frame is
// aggregated again (min, max, float sums: PostgreSQL does the same).
func (w *windowOp) computeFramed(ec *epochCtx, p *winPart, call *WindowCall, col int, out []types.Row) error {
	fc, err := w.newFrameCalc(ec, call, p)
	if err != nil {
		return err
	}
	invertible := false
	switch call.Func {
	case WinCountStar, WinCount:
		invertible = true
	case WinSum, WinAvg:
		k := w.spec.Input.Columns()[call.Args[0]].Kind
		invertible = k != types.KindFloat4 && k != types.KindFloat8
	}
	var acc accState
	s0, e0 := 0, 0
	add := func(j int, wt int64) error {
		if call.Func == WinCountStar {
			return nil
		}
		v := p.rows[j][call.Args[0]]
		if v.IsNull() {
			return nil
		}
		acc.n += wt
		switch call.Func {
		case WinSum, WinAvg:
			return addWeighted(&acc.v, v, wt)
		case WinMin:
			if acc.v.IsNull() || types.Compare(v, acc.v) < 0 {
				acc.v = v
			}
		case WinMax:
			if acc.v.IsNull() || types.Compare(v, acc.v) > 0 {
				acc.v = v
			}
		}
		return nil
	}
	for i := range out {
		s, e, err := fc.bounds(ec, i)
		if err != nil {
			return err
		}
		if fc.f.Exclude != ExcludeNoOthers {
			// The frame has holes: compute it from its pieces.
			v, err := w.excludedFrame(ec, p, call, i, fc.pieces(i, s, e))
			if err != nil {
				return err
			}
			out[i][col] = v
			continue
		}
		var v types.Value
		switch call.Func {
		case WinFirstValue:
			if s < e {
				v = p.rows[s][call.Args[0]]
			}
		case WinLastValue:
			if s < e {
				v = p.rows[e-1][call.Args[0]]
			}
		case WinNthValue:
			nth := p.rows[i][call.Args[1]]
			if nth.IsNull() {
				break
			}
			if nth.I <= 0 {
				return pgerr.New(pgerr.InvalidArgumentForNthVal, "argument of nth_value must be greater than zero")
			}
			if j := int64(s) + nth.I - 1; j < int64(e) {
				v = p.rows[j][call.Args[0]]
			}
		default:
			if s < s0 || e < e0 || s > e0 || (s > s0 && !invertible) {
				acc, s0, e0 = accState{}, s, s
			}
			for ; s0 < s; s0++ {
				if err := add(s0, -1); err != nil {
					return err
				}
			}
			for ; e0 < e; e0++ {
				if err := add(e0, 1); err != nil {
					return err
				}
			}
			if v, err = w.aggResult(ec, call, acc, int64(e-s)); err != nil {
				return err
			}
		}
		out[i][col] = v
	}
	return nil
}

// pieces returns row i's frame [s, e) without the rows its EXCLUDE option
// takes out, as up to three ranges in order.
func (fc *frameCalc) pieces(i, s, e int) [][2]int {
	ps, pe := fc.p.peerStart[i], fc.p.peerEnd[i]
	var cuts [][2]int // the excluded ranges, in order
	switch fc.f.Exclude {
	case ExcludeCurrentRow:
		cuts = [][2]int{{i, i + 1}}
	case ExcludeGroup:
		cuts = [][2]int{{ps, pe}}
	case ExcludeTies:
		cuts = [][2]int{{ps, i}, {i + 1, pe}}
	}
	var out [][2]int
	from := s
	for _, c := range cuts {
		if to := min(c[0], e); from < to {
			out = append(out, [2]int{from, to})
		}
		from = max(from, c[1])
	}
	if from < e {
		out = append(out, [2]int{from, e})
	}
	return out
}

// excludedFrame computes a framed function over the rows of pieces.
func (w *windowOp) excludedFrame(ec *epochCtx, p *winPart, call *WindowCall, i int, pieces [][2]int) (types.Value, error) {
	rows := 0
	for _, pc := range pieces {
		rows += pc[1] - pc[0]
	}
	nth := -1
	switch call.Func {
	case WinFirstValue:
		nth = 0
	case WinLastValue:
		nth = rows - 1
	case WinNthValue:
		n := p.rows[i][call.Args[1]]
		if n.IsNull() {
			return types.Null, nil
		}
		if n.I <= 0 {
			return types.Null, pgerr.New(pgerr.InvalidArgumentForNthVal, "argument of nth_value must be greater than zero")
		}
		if n.I > int64(rows) {
			return types.Null, nil
		}
		nth = int(n.I - 1)
	}
	if call.Func == WinFirstValue || call.Func == WinLastValue || call.Func == WinNthValue {
		if nth < 0 {
			return types.Null, nil
		}
		for _, pc := range pieces {
			if nth < pc[1]-pc[0] {
				return p.rows[pc[0]+nth][call.Args[0]], nil
			}
			nth -= pc[1] - pc[0]
		}
		return types.Null, nil
	}
	var acc accState
	for _, pc := range pieces {
		for j := pc[0]; j < pc[1]; j++ {
			if call.Func == WinCountStar {
				continue
			}
			v := p.rows[j][call.Args[0]]
			if v.IsNull() {
				continue
			}
			acc.n++
			switch call.Func {
			case WinSum, WinAvg:
				if err := addWeighted(&acc.v, v, 1); err != nil {
					return types.Null, err
				}
			case WinMin:
				if acc.v.IsNull() || types.Compare(v, acc.v) < 0 {
					acc.v = v
				}
			case WinMax:
				if acc.v.IsNull() || types.Compare(v, acc.v) > 0 {
					acc.v = v
				}
			}
		}
	}
	return w.aggResult(ec, call, acc, int64(rows))
}

// aggResult is an aggregate's value over a frame of rows rows.
func (w *windowOp) aggResult(ec *epochCtx, call *WindowCall, acc accState, rows int64) (types.Value, error) {
	switch call.Func {
	case WinCountStar:
		return types.NewInt8(rows), nil
	case WinCount:
		return types.NewInt8(acc.n), nil
	}
	if acc.n == 0 {
		return types.Null, nil
	}
	switch call.Func {
	case WinSum:
		return convertSum(acc.v, call.Type)
	case WinAvg:
		switch call.Type.Kind {
		case types.KindFloat8, types.KindFloat4:
			return types.NewFloat8(acc.v.F / float64(acc.n)), nil
		case types.KindInterval:
			n := acc.n
			return types.NewInterval(int32(int64(acc.v.Mon)/n), int32(int64(acc.v.Day)/n), acc.v.I/n), nil
		}
		sum, err := convertSum(acc.v, types.Numeric)
		if err != nil {
			return types.Null, err
		}
		return w.avgDiv.Eval(ec.eval, []types.Value{sum, types.NewNumericInt(acc.n)})
	}
	return acc.v, nil
}

// groupTopNOp keeps, per partition, the rows whose row_number, rank or
// dense_rank is in [Lo, Hi]. Beside every input row (partitioned), it keeps
// each partition's last output and the key of the first row after it:
//
//	0x01 partKey → len, boundary key, then (weight, row) of each output row
//
// At the barrier, for each partition the epoch touched: when every change
// sorts at or after the boundary, the top cannot have changed and nothing
// is read but that one key; otherwise it reads the new top (O(Hi) rows) and
// emits the difference.
//
// When the input only ever inserts (AppendOnly), a row that sorts at or
// after a partition's boundary can never enter the top (insertions only
// push rows down: row_number, rank and dense_rank never decrease), so it is
// not stored at all, and the rows before the boundary are all there is to
// read: flushInserts reads them with one scan, merges the epoch's rows in
// memory and writes without reading each key first.
type groupTopNOp struct {
	spec *GroupTopN
	partitioned
	appendOnly bool
	cache      topCache // appendOnly: the committed partitions of recent epochs
}

// reset starts an epoch's attempt: a retried epoch forgets what the failed
// attempt staged in the cache.
func (g *groupTopNOp) reset() {
	g.partitioned.reset()
	g.cache.abort()
}

// committed is called once the epoch's writes are durable.
func (g *groupTopNOp) committed() { g.cache.commit() }

func newGroupTopNOp(spec *GroupTopN, opID uint64) *groupTopNOp {
	return &groupTopNOp{
		spec:        spec,
		partitioned: newWindowedPartitioned(spec.Input, spec.PartitionBy, spec.OrderBy, opID),
		appendOnly:  AppendOnly(spec.Input),
	}
}

func (g *groupTopNOp) apply(ec *epochCtx, _ int, in *Batch) (*Batch, error) {
	return nil, g.add(ec, in)
}

// ranker assigns ranks to a partition's rows fed in order and adds the rows
// in [Lo, Hi] to out with weight sign.
type ranker struct {
	spec  *GroupTopN
	out   *Batch
	sign  int64
	pos   int64 // rows before the current one
	group int64
	rank  int64
	prev  types.Row
}

// next takes the next row (cnt copies of it) and says whether rows after it
// may still be in the top. A row none of whose copies is in the top stops
// the scan before it is counted.
func (r *ranker) next(row types.Row, cnt int64) bool {
	if r.prev == nil || !peers(r.prev, row, r.spec.OrderBy) {
		r.group++
		r.rank = r.pos + 1
	}
	switch r.spec.Func {
	case WinRowNumber:
		if r.pos+1 > r.spec.Hi {
			return false
		}
		for c := int64(0); c < cnt; c++ {
			if rn := r.pos + 1 + c; rn >= r.spec.Lo && rn <= r.spec.Hi {
				r.out.Add(r.output(row, rn), r.sign)
			}
		}
	case WinRank:
		if r.rank > r.spec.Hi {
			return false
		}
		if r.rank >= r.spec.Lo {
			r.out.Add(r.output(row, r.rank), r.sign*cnt)
		}
	case WinDenseRank:
		if r.group > r.spec.Hi {
			return false
		}
		if r.group >= r.spec.Lo {
			r.out.Add(r.output(row, r.group), r.sign*cnt)
		}
	}
	r.pos += cnt
	r.prev = row
	return true
}

func (r *ranker) output(row types.Row, rank int64) types.Row {
	o := make(types.Row, len(row)+1)
	copy(o, row)
	o[len(row)] = types.NewInt8(rank)
	return o
}

// top reads a partition's top from the stored rows: its output rows (with
// their ranks) and the key of the first row after it (nil when the
// partition ended first).
func (g *groupTopNOp) top(ec *epochCtx, part string) (*Batch, []byte, error) {
	out := &Batch{}
	r := &ranker{spec: g.spec, out: out, sign: 1}
	var boundary []byte
	err := g.scan(ec, part, func(key []byte, cnt int64, row types.Row) (bool, error) {
		if !r.next(row, cnt) {
			boundary = append([]byte(nil), key...)
			return false, nil
		}
		return true, nil
	})
	return out, boundary, err
}

// topKey is where a partition's last output and boundary are kept.
func (g *groupTopNOp) topKey(part string) []byte {
	k := make([]byte, 0, len(g.prefix)+1+len(part))
	k = append(append(k, g.prefix...), 1)
	return append(k, part...)
}

func appendTop(dst []byte, top *Batch, boundary []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(boundary)))
	dst = append(dst, boundary...)
	for i, r := range top.Rows {
		dst = AppendStoredRow(dst, top.W[i], r)
	}
	return dst
}

func decodeTop(val []byte) (*Batch, []byte, error) {
	n, m := binary.Uvarint(val)
	if m <= 0 || uint64(len(val)-m) < n {
		return nil, nil, pgerr.New(pgerr.DataCorrupted, "corrupt top-n state")
	}
	var boundary []byte
	if n > 0 {
		boundary = val[m : m+int(n)]
	}
	val = val[m+int(n):]
	out := &Batch{}
	for len(val) > 0 {
		w, k := binary.Varint(val)
		if k <= 0 {
			return nil, nil, pgerr.New(pgerr.DataCorrupted, "corrupt top-n state")
		}
		row, rest, err := types.DecodeRow(val[k:], nil)
		if err != nil {
			return nil, nil, err
		}
		out.Add(row, w)
		val = rest
	}
	return out, boundary, nil
}

func (g *groupTopNOp) flush(ec *epochCtx, emit func(*Batch) error) error {
	defer g.partitioned.reset()
	// An append-only input's partitions emit together, after the loop.
	appended := &Batch{}
	for _, part := range g.order {
		delta := g.parts[part]
		if ec.ephemeral {
			rows, counts := g.sorted(delta)
			out := &Batch{}
			r := &ranker{spec: g.spec, out: out, sign: 1}
			for i, row := range rows {
				if !r.next(row, counts[i]) {
					break
				}
			}
			if err := emit(out); err != nil {
				return err
			}
			continue
		}
		if g.appendOnly {
			if err := g.flushAppend(ec, part, delta, appended); err != nil {
				return err
			}
			continue
		}
		// The last output and the key of the first row after it.
		tk := g.topKey(part)
		oldTop, boundary := &Batch{}, []byte(nil)
		val, ok, err := ec.store.Get(tk)
		if err != nil {
			return err
		}
		if ok {
			if oldTop, boundary, err = decodeTop(val); err != nil {
				return err
			}
		}
		minKey, err := g.write(ec, part, delta)
		if err != nil {
			return err
		}
		if boundary != nil && bytes.Compare(minKey, boundary) >= 0 {
			continue // every change sorts after the top: it stands
		}
		newTop, newBoundary, err := g.top(ec, part)
		if err != nil {
			return err
		}
		if newTop.Len() == 0 && newBoundary == nil {
			err = ec.store.Delete(tk)
		} else {
			err = ec.store.Set(tk, appendTop(nil, newTop, newBoundary))
		}
		if err != nil {
			return err
		}
		out := &Batch{}
		for i, r := range oldTop.Rows {
			out.Add(r, -oldTop.W[i])
		}
		for i, r := range newTop.Rows {
			out.Add(r, newTop.W[i])
		}
		out.Consolidate()
		if err := emit(out); err != nil {
			return err
		}
	}
	if appended.Len() > 0 {
		if err := emit(appended); err != nil {
			return err
		}
	}
	if bound, ok := g.closedBound(ec); ok {
		g.cache.dropBelow(bound)
	}
	return g.closeWindows(ec, 0, 1) // rows and last tops
}
