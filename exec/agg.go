package exec

import (
	"encoding/binary"
	"math"
	"math/bits"

	"github.com/cockroachdb/apd/v3"
	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/storage"
	"github.com/kappa-db/kappa/types"
)

// exactCtx adds and multiplies decimals without rounding.
var exactCtx = apd.Context{Precision: 2000, MaxExponent: apd.MaxExponent, MinExponent: apd.MinExponent, Traps: apd.DefaultTraps}

// aggOp is grouped aggregation that stays right under retractions.
//
// State, under the operator's prefix:
//
//	0x00 groupKey                 count, then per aggregate (non-null count, accumulator)
//	0x01 aggIdx groupKey valueKey multiplicity of value (min/max only)
//
// A group's old output is computed when the epoch first touches it; at the
// barrier the operator emits -old +new for every touched group. min and max
// keep every value with its multiplicity, so deleting the minimum brings back
// the next one.
type aggOp struct {
	spec     *Aggregate
	prefix   []byte
	groups   map[string]*groupState
	order    []*groupState
	avgDiv   *expr.Func // numeric / numeric, for avg over exact types
	scratch  []byte
	hasExtra bool // some aggregate is min or max
}

type accState struct {
	n   int64       // non-null inputs (by weight)
	v   types.Value // sum, or current min/max
	hit bool        // a retraction touched the current min/max: rescan at flush
}

type groupState struct {
	key    types.Row
	keyEnc string
	oldOut types.Row // nil when the group did not exist before this epoch
	count  int64
	accs   []accState
	// distinct holds, in an ad hoc query, the values seen by each DISTINCT
	// aggregate (a dataflow keeps them in the store).
	distinct []map[string]int64
}

func newAggOp(spec *Aggregate, opID uint64) (*aggOp, error) {
	a := &aggOp{spec: spec, prefix: storage.StatePrefix(opID), groups: map[string]*groupState{}}
	for _, c := range spec.Aggs {
		if c.Func == AggMin || c.Func == AggMax {
			a.hasExtra = true
		}
		if c.Func == AggAvg && c.Type.Kind == types.KindNumeric && a.avgDiv == nil {
			f, err := expr.LookupOperator("/", types.Numeric, types.Numeric)
			if err != nil {
				return nil, err
			}
			a.avgDiv = f
		}
	}
	return a, nil
}

func (a *aggOp) reset() {
	clear(a.groups)
	a.order = a.order[:0]
}

func (a *aggOp) groupKey(dst []byte, row types.Row) []byte {
	for _, c := range a.spec.GroupBy {
		dst = types.AppendKey(dst, row[c], false)
	}
	return dst
}

func (a *aggOp) stateKey(keyEnc string) []byte {
	k := append(a.scratch[:0], a.prefix...)
	k = append(k, 0)
	k = append(k, keyEnc...)
	a.scratch = k
	return k
}

// load returns the group's state, reading it from the store on first touch.
func (a *aggOp) load(ec *epochCtx, keyEnc []byte, row types.Row) (*groupState, error) {
	if g, ok := a.groups[string(keyEnc)]; ok {
		return g, nil
	}
	g := &groupState{keyEnc: string(keyEnc), accs: make([]accState, len(a.spec.Aggs))}
	g.key = make(types.Row, len(a.spec.GroupBy))
	for i, c := range a.spec.GroupBy {
		g.key[i] = row[c]
	}
	found := false
	if !ec.ephemeral {
		val, ok, err := ec.store.Get(a.stateKey(g.keyEnc))
		if err != nil {
			return nil, err
		}
		if ok {
			found = true
			if err := a.decodeState(val, g); err != nil {
				return nil, err
			}
		}
	}
	if found || (len(a.spec.GroupBy) == 0 && !ec.ephemeral) {
		// A global aggregate always has its one row, even before any input.
		out, err := a.output(ec, g)
		if err != nil {
			return nil, err
		}
		// A global aggregate's row over the empty input was emitted by
		// initial when the dataflow (or query) started.
		g.oldOut = out
	}
	if ec.ephemeral {
		if err := ec.hold(1); err != nil {
			return nil, err
		}
	}
	a.groups[g.keyEnc] = g
	a.order = append(a.order, g)
	return g, nil
}

func (a *aggOp) decodeState(val []byte, g *groupState) error {
	row, _, err := types.DecodeRow(val, nil)
	if err != nil {
		return err
	}
	if len(row) != 1+2*len(a.spec.Aggs) {
		return pgerr.New(pgerr.DataCorrupted, "aggregate state has %d values, want %d", len(row), 1+2*len(a.spec.Aggs))
	}
	g.count = row[0].I
	for i := range g.accs {
		g.accs[i].n = row[1+2*i].I
		g.accs[i].v = row[2+2*i]
	}
	return nil
}

func (a *aggOp) encodeState(g *groupState) []byte {
	row := make(types.Row, 0, 1+2*len(g.accs))
	row = append(row, types.NewInt8(g.count))
	for _, s := range g.accs {
		row = append(row, types.NewInt8(s.n), s.v)
	}
	return types.AppendRow(nil, row)
}

func (a *aggOp) apply(ec *epochCtx, _ int, in *Batch) (*Batch, error) {
	var keyBuf []byte
	for i, row := range in.Rows {
		w := in.W[i]
		keyBuf = a.groupKey(keyBuf[:0], row)
		g, err := a.load(ec, keyBuf, row)
		if err != nil {
			return nil, err
		}
		g.count += w
		for j, c := range a.spec.Aggs {
			if c.Func == AggCountStar {
				continue
			}
			v := row[c.Arg]
			if v.IsNull() {
				continue
			}
			s := &g.accs[j]
			aw := w // the weight this aggregate sees
			if c.Distinct {
				// Only a value's first arrival and last departure count.
				var err error
				if aw, err = a.distinctWeight(ec, j, g, v, w); err != nil {
					return nil, err
				}
				if aw == 0 {
					continue
				}
			}
			s.n += aw
			switch c.Func {
			case AggSum, AggAvg:
				if err := addWeighted(&s.v, v, aw); err != nil {
					return nil, err
				}
			case AggMin, AggMax:
				if err := a.updateExtreme(ec, j, g, v, aw, c.Func == AggMin); err != nil {
					return nil, err
				}
			}
		}
	}
	return nil, nil
}

// distinctWeight updates the multiplicity of v among the values of DISTINCT
// aggregate j and returns the weight the aggregate sees: +1 when v arrives
// for the first time, -1 when its last copy leaves, 0 otherwise.
func (a *aggOp) distinctWeight(ec *epochCtx, j int, g *groupState, v types.Value, w int64) (int64, error) {
	var old int64
	if ec.ephemeral {
		if g.distinct == nil {
			g.distinct = make([]map[string]int64, len(a.spec.Aggs))
		}
		if g.distinct[j] == nil {
			g.distinct[j] = map[string]int64{}
		}
		k := string(types.AppendKey(nil, v, false))
		old = g.distinct[j][k]
		g.distinct[j][k] = old + w
	} else {
		k := a.extraKey(j, g.keyEnc, v)
		val, ok, err := ec.store.Get(k)
		if err != nil {
			return 0, err
		}
		if ok {
			old, _ = binary.Varint(val)
		}
		if old+w == 0 {
			err = ec.store.Delete(k)
		} else {
			err = ec.store.Set(k, types.AppendRowValue(binary.AppendVarint(nil, old+w), v))
		}
		if err != nil {
			return 0, err
		}
	}
	switch {
	case old <= 0 && old+w > 0:
		return 1, nil
	case old > 0 && old+w <= 0:
		return -1, nil
	}
	return 0, nil
}

// updateExtreme maintains the value multiset of a min/max and the cached
// extreme.
func (a *aggOp) updateExtreme(ec *epochCtx, j int, g *groupState, v types.Value, w int64, isMin bool) error {
	s := &g.accs[j]
	if w > 0 {
		if s.v.IsNull() || (isMin && types.Compare(v, s.v) < 0) || (!isMin && types.Compare(v, s.v) > 0) {
			if !s.hit {
				s.v = v
			}
		}
	} else if !s.v.IsNull() && types.Compare(v, s.v) == 0 {
		s.hit = true
	}
	if ec.ephemeral {
		if w < 0 {
			return pgerr.New(pgerr.InternalError, "retraction in an ad hoc aggregate")
		}
		return nil
	}
	// The value is kept beside its count: keys normalize numerics (1.50 and
	// 1.5 share a key), and min/max must return the value as it was written.
	k := a.extraKey(j, g.keyEnc, v)
	old, ok, err := ec.store.Get(k)
	if err != nil {
		return err
	}
	var cnt int64
	if ok {
		cnt, _ = binary.Varint(old)
	}
	cnt += w
	if cnt == 0 {
		return ec.store.Delete(k)
	}
	return ec.store.Set(k, types.AppendRowValue(binary.AppendVarint(nil, cnt), v))
}

func (a *aggOp) extraPrefix(j int, keyEnc string) []byte {
	k := make([]byte, 0, len(a.prefix)+2+len(keyEnc)+16)
	k = append(k, a.prefix...)
	k = append(k, 1, byte(j))
	return append(k, keyEnc...)
}

func (a *aggOp) extraKey(j int, keyEnc string, v types.Value) []byte {
	return types.AppendKey(a.extraPrefix(j, keyEnc), v, false)
}

// rescan finds the current min or max of aggregate j from its multiset.
func (a *aggOp) rescan(ec *epochCtx, j int, g *groupState, isMin bool) error {
	p := a.extraPrefix(j, g.keyEnc)
	g.accs[j].v = types.Null
	return ec.store.Scan(p, storage.PrefixEnd(p), !isMin, func(_, val []byte) (bool, error) {
		_, n := binary.Varint(val)
		if n <= 0 {
			return false, pgerr.New(pgerr.DataCorrupted, "corrupt min/max state")
		}
		v, _, err := types.DecodeRowValue(val[n:])
		if err != nil {
			return false, err
		}
		g.accs[j].v = v
		return false, nil
	})
}

func (a *aggOp) flush(ec *epochCtx, emit func(*Batch) error) error {
	out := &Batch{}
	for _, g := range a.order {
		for j, c := range a.spec.Aggs {
			s := &g.accs[j]
			if (c.Func == AggMin || c.Func == AggMax) && s.hit {
				if s.n > 0 {
					if err := a.rescan(ec, j, g, c.Func == AggMin); err != nil {
						return err
					}
				} else {
					s.v = types.Null
				}
				s.hit = false
			}
			if s.n == 0 && (c.Func == AggSum || c.Func == AggAvg || c.Func == AggMin || c.Func == AggMax) {
				s.v = types.Null
			}
		}
		exists := g.count > 0 || len(a.spec.GroupBy) == 0
		if g.count < 0 {
			return pgerr.New(pgerr.InternalError, "aggregate group count went negative (%d)", g.count)
		}
		var newOut types.Row
		if exists {
			var err error
			if newOut, err = a.output(ec, g); err != nil {
				return err
			}
		}
		if g.oldOut != nil && newOut != nil && types.CompareRows(g.oldOut, newOut) == 0 {
			// unchanged
		} else {
			if g.oldOut != nil {
				out.Add(g.oldOut, -1)
			}
			if newOut != nil {
				out.Add(newOut, 1)
			}
		}
		if !ec.ephemeral {
			k := a.stateKey(g.keyEnc)
			if g.count == 0 && len(a.spec.GroupBy) > 0 {
				if err := ec.store.Delete(k); err != nil {
					return err
				}
			} else if err := ec.store.Set(k, a.encodeState(g)); err != nil {
				return err
			}
		}
	}
	a.reset()
	return emit(out)
}

// initial returns what a new dataflow emits before any input: a global
// aggregate's row over the empty input.
func (a *aggOp) initial(ec *epochCtx) (*Batch, error) {
	if len(a.spec.GroupBy) != 0 {
		return nil, nil
	}
	g := &groupState{accs: make([]accState, len(a.spec.Aggs))}
	out, err := a.output(ec, g)
	if err != nil {
		return nil, err
	}
	if !ec.ephemeral {
		if err := ec.store.Set(a.stateKey(""), a.encodeState(g)); err != nil {
			return nil, err
		}
	}
	return &Batch{Rows: []types.Row{out}, W: []int64{1}}, nil
}

// output computes a group's output row from its state.
func (a *aggOp) output(ec *epochCtx, g *groupState) (types.Row, error) {
	row := make(types.Row, len(g.key)+len(a.spec.Aggs))
	copy(row, g.key)
	for j, c := range a.spec.Aggs {
		s := g.accs[j]
		var v types.Value
		switch c.Func {
		case AggCountStar:
			v = types.NewInt8(g.count)
		case AggCount:
			v = types.NewInt8(s.n)
		case AggSum:
			if s.n > 0 {
				var err error
				if v, err = convertSum(s.v, c.Type); err != nil {
					return nil, err
				}
			}
		case AggAvg:
			if s.n > 0 {
				var err error
				if v, err = a.average(ec, s, c.Type); err != nil {
					return nil, err
				}
			}
		case AggMin, AggMax:
			if s.n > 0 {
				v = s.v
			}
		}
		row[len(g.key)+j] = v
	}
	return row, nil
}

func (a *aggOp) average(ec *epochCtx, s accState, t types.Type) (types.Value, error) {
	switch t.Kind {
	case types.KindFloat8, types.KindFloat4:
		return types.NewFloat8(s.v.F / float64(s.n)), nil
	case types.KindInterval:
		n := s.n
		return types.NewInterval(int32(int64(s.v.Mon)/n), int32(int64(s.v.Day)/n), s.v.I/n), nil
	}
	sum, err := convertSum(s.v, types.Numeric)
	if err != nil {
		return types.Null, err
	}
	return a.avgDiv.Eval(ec.eval, []types.Value{sum, types.NewNumericInt(s.n)})
}

// addWeighted adds w*v to the accumulator acc (NULL acc means zero).
func addWeighted(acc *types.Value, v types.Value, w int64) error {
	switch v.K {
	case types.KindInt2, types.KindInt4, types.KindInt8:
		if acc.IsNull() {
			*acc = types.NewInt8(0)
		}
		if acc.K == types.KindInt8 {
			hi, lo := bits.Mul64(uint64(abs64(v.I)), uint64(abs64(w)))
			neg := (v.I < 0) != (w < 0)
			if hi == 0 && lo <= math.MaxInt64 {
				p := int64(lo)
				if neg {
					p = -p
				}
				s := acc.I + p
				if (p > 0 && s < acc.I) || (p < 0 && s > acc.I) {
					// overflow: continue in numeric
				} else {
					acc.I = s
					return nil
				}
			}
			*acc = types.NewNumeric(apd.New(acc.I, 0))
		}
		d := apd.New(v.I, 0)
		return addDecimal(acc, d, w)
	case types.KindFloat4, types.KindFloat8:
		if acc.IsNull() {
			*acc = types.NewFloat8(0)
		}
		acc.F += v.F * float64(w)
		return nil
	case types.KindNumeric:
		if acc.IsNull() {
			*acc = types.NewNumeric(new(apd.Decimal))
		}
		return addDecimal(acc, v.D, w)
	case types.KindInterval:
		if acc.IsNull() {
			*acc = types.NewInterval(0, 0, 0)
		}
		acc.Mon += v.Mon * int32(w)
		acc.Day += v.Day * int32(w)
		acc.I += v.I * w
		return nil
	}
	return pgerr.New(pgerr.FeatureNotSupported, "sum over %s is not supported", v.K)
}

func addDecimal(acc *types.Value, d *apd.Decimal, w int64) error {
	prod := new(apd.Decimal)
	if _, err := exactCtx.Mul(prod, d, apd.New(w, 0)); err != nil {
		return pgerr.New(pgerr.NumericValueOutOfRange, "numeric overflow in sum")
	}
	sum := new(apd.Decimal)
	if _, err := exactCtx.Add(sum, acc.D, prod); err != nil {
		return pgerr.New(pgerr.NumericValueOutOfRange, "numeric overflow in sum")
	}
	acc.D = sum
	return nil
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// convertSum turns an accumulator into the aggregate's result type.
func convertSum(acc types.Value, t types.Type) (types.Value, error) {
	switch t.Kind {
	case types.KindInt8:
		if acc.K == types.KindNumeric {
			return types.Null, pgerr.New(pgerr.NumericValueOutOfRange, "bigint out of range")
		}
		return types.NewInt8(acc.I), nil
	case types.KindNumeric:
		if acc.K == types.KindInt8 {
			return types.NewNumericInt(acc.I), nil
		}
		return acc, nil
	case types.KindFloat4:
		return types.NewFloat4(acc.F), nil
	case types.KindFloat8:
		return types.NewFloat8(acc.F), nil
	}
	return acc, nil
}
