package exec

import (
	"encoding/binary"
	"math"
	"sort"
	"strings"

	"github.com/cockroachdb/apd/v3"
	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/storage"
	"github.com/kappa-db/kappa/types"
)

// Element aggregates (string_agg, array_agg, percentile_cont,
// percentile_disc, mode, approx_percentile) keep their group's elements
// with multiplicities, ordered by the aggregate's ORDER BY: in the store
// under 0x01 aggIdx groupKey elementKey (value: varint count, then the
// element's values), in an ad hoc query in memory. When an epoch changes a
// group's elements, flush walks them in order and recomputes the result,
// which the group's row caches; so a change costs one read and one write,
// and the result one ordered scan of the group.

// KeepsElements says the aggregate keeps its group's elements.
func (f AggFunc) KeepsElements() bool {
	switch f {
	case AggStringAgg, AggArrayAgg, AggPercentileCont, AggPercentileDisc, AggMode, AggApproxPercentile:
		return true
	}
	return false
}

// memElem is one element of an ad hoc query's element aggregate.
type memElem struct {
	vals types.Row
	n    int64
}

// elementOf returns the key and values of row's element for aggregate c;
// skip is set when the row adds no element (a NULL the aggregate ignores).
func (a *aggOp) elementOf(dst []byte, c *AggCall, row types.Row) (key []byte, vals types.Row, skip bool) {
	switch c.Func {
	case AggStringAgg, AggArrayAgg:
		x := row[c.Arg]
		if c.Func == AggStringAgg && x.IsNull() {
			return nil, nil, true
		}
		if c.Func == AggStringAgg {
			vals = types.Row{x, row[c.Args[0]]}
		} else {
			vals = types.Row{x}
		}
		for _, k := range c.OrderBy {
			dst = appendSortKey(dst, row[k.Col], k)
		}
		for _, v := range vals {
			dst = types.AppendKey(dst, v, false)
		}
		if !c.Distinct {
			// Keys normalize numerics (1.50 and 1.5 share one): the value
			// as written keeps equal-comparing elements apart.
			dst = types.AppendRow(dst, vals)
		}
		return dst, vals, false
	}
	k := c.OrderBy[0]
	x := row[k.Col]
	if x.IsNull() {
		return nil, nil, true
	}
	if c.Func == AggApproxPercentile {
		x = types.NewFloat8(ddBin(x.F))
	}
	return appendSortKey(dst, x, k), types.Row{x}, false
}

// appendSortKey appends v's key in the order k asks for, NULLs where
// k.NullsFirst puts them.
func appendSortKey(dst []byte, v types.Value, k SortKey) []byte {
	if k.NullsFirst != k.Desc {
		// Not PostgreSQL's default NULL placement for this direction: a
		// marker byte orders NULLs first or last.
		if v.IsNull() == k.NullsFirst {
			dst = append(dst, 0)
		} else {
			dst = append(dst, 1)
		}
	}
	return types.AppendKey(dst, v, k.Desc)
}

// addElement adds row's element of aggregate j with weight w. Changes are
// gathered per epoch in memory (an ad hoc query keeps all its elements
// there); a dataflow writes them to the store at flush, one read and one
// write per element an epoch changed, however many rows changed it (a
// sketch bin, a frequent value).
func (a *aggOp) addElement(ec *epochCtx, j int, g *groupState, row types.Row, w int64) error {
	c := &a.spec.Aggs[j]
	key, vals, skip := a.elementOf(a.elemBuf[:0], c, row)
	a.elemBuf = key
	if skip {
		return nil
	}
	s := &g.accs[j]
	s.n += w
	s.hit = true
	if g.elems == nil {
		g.elems = make([]map[string]*memElem, len(a.spec.Aggs))
	}
	if g.elems[j] == nil {
		g.elems[j] = map[string]*memElem{}
	}
	if e, ok := g.elems[j][string(key)]; ok {
		e.n += w
		if !ec.ephemeral {
			e.vals = vals // the last value written wins, as in the store
		}
		return nil
	}
	if ec.ephemeral {
		if err := ec.holdRow(vals, int64(len(key))+64); err != nil {
			return err
		}
	}
	g.elems[j][string(key)] = &memElem{vals: vals, n: w}
	return nil
}

// writeElements applies an epoch's element changes of aggregate j to the
// store.
func (a *aggOp) writeElements(ec *epochCtx, j int, g *groupState) error {
	if g.elems == nil || g.elems[j] == nil {
		return nil
	}
	p := a.extraPrefix(j, g.keyEnc)
	k, val := a.wkey, a.wval
	defer func() { a.wkey, a.wval = k, val }()
	for key, e := range g.elems[j] {
		// A change of zero weight still writes: -7.000 +7 share a key
		// (keys normalize numerics) and leave 7 as the value shown.
		k = append(append(k[:0], p...), key...)
		old, ok, err := ec.store.Get(k)
		if err != nil {
			return err
		}
		var cnt int64
		if ok {
			cnt, _ = binary.Varint(old)
		}
		cnt += e.n
		if cnt < 0 {
			return pgerr.New(pgerr.InternalError, "aggregate element count went negative (%d)", cnt)
		}
		switch {
		case cnt == 0 && !ok:
			continue
		case cnt == 0:
			err = ec.store.Delete(k)
		default:
			val = types.AppendRow(binary.AppendVarint(val[:0], cnt), e.vals)
			err = ec.store.Set(k, val)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// elements calls fn with aggregate j's elements in order, with their
// multiplicities.
func (a *aggOp) elements(ec *epochCtx, j int, g *groupState, fn func(vals types.Row, n int64) (bool, error)) error {
	if ec.ephemeral {
		if g.elems == nil || g.elems[j] == nil {
			return nil
		}
		m := g.elems[j]
		keys := make([]string, 0, len(m))
		for k, e := range m {
			if e.n != 0 {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			if more, err := fn(m[k].vals, m[k].n); err != nil || !more {
				return err
			}
		}
		return nil
	}
	p := a.extraPrefix(j, g.keyEnc)
	var row types.Row
	return ec.store.Scan(p, storage.PrefixEnd(p), false, func(_, val []byte) (bool, error) {
		n, w := binary.Varint(val)
		if w <= 0 || n <= 0 {
			return false, pgerr.New(pgerr.DataCorrupted, "corrupt aggregate element")
		}
		var err error
		if row, _, err = types.DecodeRow(val[w:], row[:0]); err != nil {
			return false, err
		}
		return fn(row, n)
	})
}

// recompute sets the cached result of element aggregate j from its
// elements.
func (a *aggOp) recompute(ec *epochCtx, j int, g *groupState) error {
	c := &a.spec.Aggs[j]
	s := &g.accs[j]
	s.v = types.Null
	if s.n < 0 {
		return pgerr.New(pgerr.InternalError, "aggregate element count went negative (%d)", s.n)
	}
	if s.n == 0 {
		return nil
	}
	switch c.Func {
	case AggStringAgg:
		var sb strings.Builder
		first := true
		err := a.elements(ec, j, g, func(vals types.Row, n int64) (bool, error) {
			if c.Distinct {
				n = 1
			}
			for ; n > 0; n-- {
				if !first && !vals[1].IsNull() {
					sb.WriteString(vals[1].S)
				}
				sb.WriteString(vals[0].S)
				first = false
			}
			return true, nil
		})
		if err != nil {
			return err
		}
		s.v = types.Value{K: c.Type.Kind, S: sb.String()}
	case AggArrayAgg:
		var elems []types.Value
		err := a.elements(ec, j, g, func(vals types.Row, n int64) (bool, error) {
			if c.Distinct {
				n = 1
			}
			for ; n > 0; n-- {
				elems = append(elems, vals[0])
			}
			return true, nil
		})
		if err != nil {
			return err
		}
		s.v = types.NewArray(elems)
	case AggMode:
		var best types.Value
		var bestN int64
		err := a.elements(ec, j, g, func(vals types.Row, n int64) (bool, error) {
			if n > bestN {
				best, bestN = vals[0], n
			}
			return true, nil
		})
		if err != nil {
			return err
		}
		s.v = best
	case AggPercentileCont, AggPercentileDisc, AggApproxPercentile:
		return a.percentiles(ec, j, g)
	}
	return nil
}

// percentiles computes percentile_cont, percentile_disc or
// approx_percentile for one fraction or an array of them.
func (a *aggOp) percentiles(ec *epochCtx, j int, g *groupState) error {
	c := &a.spec.Aggs[j]
	s := &g.accs[j]
	fracs := []types.Value{c.Fraction}
	if c.Fraction.K == types.KindArray {
		fracs = c.Fraction.Arr
	}
	n := s.n
	// The 0-based positions each fraction needs.
	type want struct{ lo, hi int64 }
	wants := make([]want, len(fracs))
	var idx []int64
	for i, f := range fracs {
		if f.IsNull() {
			continue
		}
		p := f.F
		switch c.Func {
		case AggPercentileCont:
			x := p * float64(n-1)
			wants[i] = want{int64(math.Floor(x)), int64(math.Ceil(x))}
		default: // percentile_disc; approx_percentile takes the same rank over its bins
			r := int64(math.Ceil(p * float64(n)))
			wants[i] = want{max(r, 1) - 1, max(r, 1) - 1}
		}
		idx = append(idx, wants[i].lo, wants[i].hi)
	}
	sort.Slice(idx, func(x, y int) bool { return idx[x] < idx[y] })
	at := map[int64]types.Value{}
	next := 0
	var cum int64
	err := a.elements(ec, j, g, func(vals types.Row, m int64) (bool, error) {
		cum += m
		for next < len(idx) && idx[next] < cum {
			at[idx[next]] = vals[0]
			next++
		}
		return next < len(idx), nil
	})
	if err != nil {
		return err
	}
	res := make([]types.Value, len(fracs))
	for i, f := range fracs {
		if f.IsNull() {
			continue
		}
		lo, hi := at[wants[i].lo], at[wants[i].hi]
		if c.Func == AggPercentileCont && wants[i].hi > wants[i].lo {
			pct := f.F*float64(n-1) - float64(wants[i].lo)
			if lo.K != types.KindInterval {
				res[i] = types.NewFloat8(lo.F + pct*(hi.F-lo.F))
				continue
			}
			// PostgreSQL's interval_lerp: lo + (hi - lo) * pct.
			d, err := a.ivSub.Eval(ec.eval, []types.Value{hi, lo})
			if err == nil {
				d, err = a.ivMul.Eval(ec.eval, []types.Value{d, types.NewFloat8(pct)})
			}
			if err == nil {
				d, err = a.ivAdd.Eval(ec.eval, []types.Value{d, lo})
			}
			if err != nil {
				return err
			}
			res[i] = d
			continue
		}
		res[i] = lo
	}
	if c.Fraction.K == types.KindArray {
		s.v = types.NewArray(res)
	} else {
		s.v = res[0]
	}
	return nil
}

// approx_percentile keeps a DDSketch with signed bin counts: a value is
// counted in the bin of its logarithmic mapping, a retraction decrements
// the same bin, so deletes are exact. Bins are ordered by their
// representative value, which stands for every value of the bin within a
// relative error of ddAlpha.
const ddAlpha = 0.01

var (
	ddGamma    = (1 + ddAlpha) / (1 - ddAlpha)
	ddLogGamma = math.Log(ddGamma)
)

// ddBin returns the representative value of x's bin: bin i holds
// (gamma^(i-1), gamma^i] and is represented by 2*gamma^i/(gamma+1).
// Zero, values too small to map and non-finite values are their own bins.
func ddBin(x float64) float64 {
	ax := math.Abs(x)
	if ax < 1e-300 || math.IsInf(x, 0) || math.IsNaN(x) {
		if ax < 1e-300 {
			return 0
		}
		return x
	}
	i := math.Ceil(math.Log(ax) / ddLogGamma)
	r := 2 * math.Exp(i*ddLogGamma) / (1 + ddGamma)
	if math.IsInf(r, 0) {
		r = ax
	}
	if x < 0 {
		return -r
	}
	return r
}

// scaleCounts counts a numeric sum's inputs by display scale, sorted by
// scale.
type scaleCounts []scaleCount

type scaleCount struct {
	scale int32
	n     int64
}

func (sc *scaleCounts) add(d *apd.Decimal, w int64) {
	if d.Form != apd.Finite {
		return
	}
	s := types.NumericScale(d)
	i := sort.Search(len(*sc), func(i int) bool { return (*sc)[i].scale >= s })
	if i < len(*sc) && (*sc)[i].scale == s {
		(*sc)[i].n += w
		if (*sc)[i].n == 0 {
			*sc = append((*sc)[:i], (*sc)[i+1:]...)
		}
		return
	}
	*sc = append(*sc, scaleCount{})
	copy((*sc)[i+1:], (*sc)[i:])
	(*sc)[i] = scaleCount{s, w}
}

// max is the largest scale among the inputs there (0 for none).
func (sc scaleCounts) max() int32 {
	if len(sc) == 0 {
		return 0
	}
	return sc[len(sc)-1].scale
}

func (sc scaleCounts) encode() types.Value {
	if len(sc) == 0 {
		return types.Null
	}
	var b []byte
	for _, c := range sc {
		b = binary.AppendUvarint(b, uint64(c.scale))
		b = binary.AppendVarint(b, c.n)
	}
	return types.NewBytea(b)
}

func decodeScales(v types.Value) scaleCounts {
	if v.IsNull() {
		return nil
	}
	var sc scaleCounts
	b := []byte(v.S)
	for len(b) > 0 {
		s, n := binary.Uvarint(b)
		if n <= 0 {
			return sc
		}
		b = b[n:]
		c, m := binary.Varint(b)
		if m <= 0 {
			return sc
		}
		b = b[m:]
		sc = append(sc, scaleCount{int32(s), c})
	}
	return sc
}

// shownSum is the sum with the display scale PostgreSQL gives it: the
// largest scale among the inputs still counted (a retracted 1.500 leaves
// no trailing zeros behind).
func (s *accState) shownSum() types.Value {
	if s.v.K != types.KindNumeric || len(s.scales) == 0 || s.v.D.Form != apd.Finite {
		return s.v
	}
	m := s.scales.max()
	if types.NumericScale(s.v.D) <= m {
		return s.v
	}
	d := new(apd.Decimal)
	if err := types.RoundNumeric(d, s.v.D, m); err != nil {
		return s.v
	}
	return types.NewNumeric(d)
}

// addSquares adds w copies of v to a variance's exact sums.
func addSquares(s *accState, v types.Value, w int64) error {
	var d *apd.Decimal
	switch v.K {
	case types.KindInt2, types.KindInt4, types.KindInt8:
		d = apd.New(v.I, 0)
	case types.KindNumeric:
		if v.D.Form != apd.Finite {
			s.bad += w
			return nil
		}
		d = v.D
		s.scales.add(d, w)
	case types.KindFloat4, types.KindFloat8:
		if math.IsNaN(v.F) || math.IsInf(v.F, 0) {
			s.bad += w
			return nil
		}
		d = new(apd.Decimal)
		if _, err := d.SetFloat64(v.F); err != nil {
			return pgerr.New(pgerr.InternalError, "float to decimal: %v", err)
		}
	default:
		return pgerr.New(pgerr.FeatureNotSupported, "variance over %s is not supported", v.K)
	}
	if s.v.IsNull() {
		s.v = types.NewNumeric(new(apd.Decimal))
	}
	if s.v2.IsNull() {
		s.v2 = types.NewNumeric(new(apd.Decimal))
	}
	if err := addDecimal(&s.v, d, w); err != nil {
		return err
	}
	sq := new(apd.Decimal)
	if _, err := exactCtx.Mul(sq, d, d); err != nil {
		return pgerr.New(pgerr.NumericValueOutOfRange, "numeric overflow in variance")
	}
	return addDecimal(&s.v2, sq, w)
}

// variance computes var_samp, var_pop, stddev_samp or stddev_pop from the
// exact sums.
func variance(s *accState, f AggFunc, t types.Type) (types.Value, error) {
	sample := f == AggVarSamp || f == AggStddevSamp
	sd := f == AggStddevSamp || f == AggStddevPop
	if s.n == 0 || (sample && s.n == 1) {
		return types.Null, nil
	}
	float := t.Kind == types.KindFloat8
	if s.bad > 0 {
		if float {
			return types.NewFloat8(math.NaN()), nil
		}
		return types.NewNumeric(&apd.Decimal{Form: apd.NaN}), nil
	}
	sumX, sumX2 := new(apd.Decimal), new(apd.Decimal)
	if !s.v.IsNull() {
		sumX = s.shownSum().D
	}
	if !s.v2.IsNull() {
		sumX2 = s.v2.D
	}
	if float {
		v, _ := expr.FloatVariance(s.n, sumX, sumX2, sample, sd)
		return v, nil
	}
	v, _, err := expr.NumericVariance(s.n, sumX, sumX2, sample, sd)
	return v, err
}
