package exec

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"math"
	"math/bits"
	"slices"

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
//	0x00 groupKey                    count, then per aggregate its slots (aggSlots)
//	0x01 aggIdx groupKey elementKey  multiplicity and value of one element
//
// The second form is kept by the aggregates that need their group's values,
// not a summary: min/max and DISTINCT (value multisets), string_agg and
// array_agg (elements in their ORDER BY order), the ordered-set aggregates
// (per-value counts) and approx_percentile (signed counts per sketch bin).
// A group's old output is computed when the epoch first touches it; at the
// barrier the operator emits -old +new for every touched group. min and max
// keep every value with its multiplicity, so deleting the minimum brings back
// the next one; the element aggregates cache their last result in the group
// row and recompute it from their elements when an epoch touched them.
//
// min and max keep their group's values in the group row itself while there
// are at most maxInlineValues distinct ones (one read and one write per group
// and epoch, however many rows), and move them to the 0x01 keys when there
// are more (spilled; changes are then gathered per value within the epoch,
// one read and one write per distinct value an epoch changed). Over an input
// that only inserts (Aggregate.InputAppendOnly) they keep no values at all,
// only the current extreme.
//
// With grouping sets, a row feeds one group per set; the group key starts
// with the set's index.
type aggOp struct {
	spec   *Aggregate
	prefix []byte
	groups map[string]*groupState
	order  []*groupState
	// filter holds every group key with a row in the store (and perhaps
	// some without); nil until the first epoch that reads the store builds
	// it from the rows there. flush adds the keys it writes; deletes leave
	// them (a false positive costs a lookup). It is off when the state was
	// too large to scan (keyFilterSlot).
	filter keyFilterSlot
	avgDiv *expr.Func // numeric / numeric, for avg over exact types
	// ivSub, ivMul and ivAdd interpolate percentile_cont over intervals.
	ivSub, ivMul, ivAdd *expr.Func
	scratch             []byte
	elemBuf             []byte
	wkey                []byte // writeElements' key and value buffers
	wval                []byte
	extBuf              []byte       // encodeExtremes' buffer
	inKinds             []types.Kind // per aggregate: the kind of its argument
	hasExtra            bool         // some aggregate is min or max
	// extOwner maps a min or max to the min or max whose values it
	// shares (min(v) and max(v) of the same input keep v's values once):
	// itself, or an earlier one over the same argument, DISTINCT and
	// FILTER. -1 for the other aggregates.
	extOwner []int
	// closeCol is the group column (position in GroupBy) whose watermark
	// closes groups (-1: none); its key comes first in the group key, so
	// the closed groups are a prefix of the state (watermark.go).
	closeCol  int
	closeWM   *colWatermark
	closeKind types.Kind
	// intCol is the one group column when it is an integer and there are
	// no grouping sets and no closing column (-1: none): intGroups finds
	// the epoch's groups by its value, without encoding a key and hashing
	// it as a string (serverbench ingest's GROUP BY k).
	intCol    int
	intKind   types.Kind
	intGroups map[int64]*groupState
	// The unused rest of the chunks new groups are cut from (newGroup):
	// one allocation for many groups instead of four a group. A chunk
	// lives while a group cut from it does; flush drops every group.
	groupChunk []groupState
	accChunk   []accState
	keyChunk   []types.Value
	// stateRow and stateBuf are encodeState's reused row and encoding
	// (the store copies what it is given).
	stateRow types.Row
	stateBuf []byte
	// rowChunk is the unused rest of the chunk output rows are cut from
	// (they go downstream: a chunk is never reused).
	rowChunk []types.Value
}

// groupChunkLen is how many groups' memory newGroup allocates at once.
const groupChunkLen = 256

// newGroup returns a zero group with n key values and an accumulator per
// aggregate, cut from the operator's chunks.
func (a *aggOp) newGroup(n int) *groupState {
	if len(a.groupChunk) == 0 {
		a.groupChunk = make([]groupState, groupChunkLen)
	}
	g := &a.groupChunk[0]
	a.groupChunk = a.groupChunk[1:]
	if m := len(a.spec.Aggs); m > 0 {
		if len(a.accChunk) < m {
			a.accChunk = make([]accState, groupChunkLen*m)
		}
		g.accs = a.accChunk[:m:m]
		a.accChunk = a.accChunk[m:]
	} else {
		g.accs = []accState{}
	}
	if len(a.keyChunk) < n {
		a.keyChunk = make([]types.Value, groupChunkLen*max(n, 1))
	}
	g.key = a.keyChunk[:n:n]
	a.keyChunk = a.keyChunk[n:]
	return g
}

type accState struct {
	n   int64       // non-null inputs (by weight)
	v   types.Value // sum, current min/max, count of true, sum of x, or the cached result
	v2  types.Value // sum of x*x (variance)
	bad int64       // NaN and infinite inputs (variance)
	// scales counts the inputs of a numeric sum by display scale: the
	// result shows the largest scale among the values still there.
	scales scaleCounts
	hit    bool // a retraction touched the current min/max, or an element changed: recompute at flush
	// min/max that keep their values: inline, the group's distinct values
	// in order with their multiplicities; spilled, the values live under
	// the 0x01 keys and extDelta gathers this epoch's changes to them.
	ext      []extremeValue
	ikeys    []int64 // ext's values when they are intLike, kept beside it for searching
	spilled  bool
	extDelta map[string]*memElem
}

// extremeValue is one distinct value of a min/max kept inline, as last
// inserted (1.50 and 1.5 are one value), with its multiplicity.
type extremeValue struct {
	v types.Value
	n int64
}

// maxInlineValues is how many distinct values a min or max keeps in its
// group's row before it moves them to keys of their own: past it, rewriting
// the row every epoch would cost more than a key per value.
const maxInlineValues = 128

type groupState struct {
	key    types.Row
	keyEnc string
	set    int       // grouping set index; -1 without grouping sets
	oldOut types.Row // nil when the group did not exist before this epoch
	count  int64
	accs   []accState
	// distinct holds, in an ad hoc query, the values seen by each DISTINCT
	// aggregate (a dataflow keeps them in the store).
	distinct []map[string]int64
	// elems holds, in an ad hoc query, the elements of each element
	// aggregate (a dataflow keeps them in the store).
	elems []map[string]*memElem
	// stored says the load found the group's row in the store (its key
	// is in the key filter already).
	stored bool
	// ownKeys says the group was stored before min and max shared their
	// values: a sharing one still has keys of its own, which flush deletes.
	ownKeys bool
}

func newAggOp(spec *Aggregate, opID uint64) (*aggOp, error) {
	a := &aggOp{spec: spec, prefix: storage.StatePrefix(opID), groups: map[string]*groupState{}}
	in := spec.Input.Columns()
	a.closeCol, a.closeWM = closeColumn(spec)
	if a.closeCol >= 0 {
		a.closeKind = in[spec.GroupBy[a.closeCol]].Kind
	} else if spec.EmitOnWindowClose {
		return nil, pgerr.New(pgerr.FeatureNotSupported, "EMIT ON WINDOW CLOSE needs a group column with a watermark")
	}
	a.intCol = -1
	if len(spec.GroupBy) == 1 && spec.GroupingSets == nil && a.closeCol < 0 {
		switch k := in[spec.GroupBy[0]].Kind; k {
		case types.KindInt2, types.KindInt4, types.KindInt8:
			a.intCol, a.intKind, a.intGroups = spec.GroupBy[0], k, map[int64]*groupState{}
		}
	}
	a.inKinds = make([]types.Kind, len(spec.Aggs))
	a.extOwner = make([]int, len(spec.Aggs))
	for j, c := range spec.Aggs {
		if c.Arg >= 0 && c.Arg < len(in) {
			a.inKinds[j] = in[c.Arg].Kind
		}
		a.extOwner[j] = -1
		if c.Func == AggMin || c.Func == AggMax {
			a.hasExtra = true
			a.extOwner[j] = j
			for k := range j {
				o := &spec.Aggs[k]
				if a.extOwner[k] == k && o.Arg == c.Arg && o.Distinct == c.Distinct && o.HasFilter == c.HasFilter && (!c.HasFilter || o.FilterCol == c.FilterCol) {
					a.extOwner[j] = k
					break
				}
			}
		}
		if c.Func == AggPercentileCont && a.ivSub == nil && (c.Type.Kind == types.KindInterval || c.Type.Elem == types.KindInterval) {
			var err error
			if a.ivSub, err = expr.LookupOperator("-", types.Interval, types.Interval); err != nil {
				return nil, err
			}
			if a.ivMul, err = expr.LookupOperator("*", types.Interval, types.Float8); err != nil {
				return nil, err
			}
			if a.ivAdd, err = expr.LookupOperator("+", types.Interval, types.Interval); err != nil {
				return nil, err
			}
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
	clear(a.intGroups)
	clear(a.order) // the chunks of the groups go with them
	a.order = a.order[:0]
}

// groupKey encodes the key of row's group in grouping set set (-1: no sets).
func (a *aggOp) groupKey(dst []byte, row types.Row, set int) []byte {
	if set < 0 {
		if a.closeCol >= 0 {
			dst = types.AppendKey(dst, row[a.spec.GroupBy[a.closeCol]], false)
		}
		for i, c := range a.spec.GroupBy {
			if i != a.closeCol {
				dst = types.AppendKey(dst, row[c], false)
			}
		}
		return dst
	}
	dst = types.AppendKey(dst, types.NewInt4(int64(set)), false)
	for _, i := range a.spec.GroupingSets[set] {
		dst = types.AppendKey(dst, row[a.spec.GroupBy[i]], false)
	}
	return dst
}

// global says the group of set is a global aggregate: it has a row even
// over no input.
func (a *aggOp) global(set int) bool {
	if set < 0 {
		return len(a.spec.GroupBy) == 0
	}
	return len(a.spec.GroupingSets[set]) == 0
}

// globalSets lists the sets whose group is global (-1 for a plain global
// aggregate).
func (a *aggOp) globalSets() []int {
	if a.spec.GroupingSets == nil {
		if len(a.spec.GroupBy) == 0 {
			return []int{-1}
		}
		return nil
	}
	var out []int
	for i, s := range a.spec.GroupingSets {
		if len(s) == 0 {
			out = append(out, i)
		}
	}
	return out
}

// loadGlobals makes sure an ad hoc query has the rows of its global
// groups, also when no input reached them.
func (a *aggOp) loadGlobals(ec *epochCtx) error {
	for _, set := range a.globalSets() {
		k := a.groupKey(nil, nil, set)
		if _, ok := a.groups[string(k)]; ok {
			continue
		}
		if _, err := a.load(ec, k, nil, set); err != nil {
			return err
		}
	}
	return nil
}

func (a *aggOp) stateKey(keyEnc string) []byte {
	k := append(a.scratch[:0], a.prefix...)
	k = append(k, 0)
	k = append(k, keyEnc...)
	a.scratch = k
	return k
}

// load returns the group's state, reading it from the store on first touch.
func (a *aggOp) load(ec *epochCtx, keyEnc []byte, row types.Row, set int) (*groupState, error) {
	if g, ok := a.groups[string(keyEnc)]; ok {
		return g, nil
	}
	var g *groupState
	if set < 0 {
		g = a.newGroup(len(a.spec.GroupBy))
		for i, c := range a.spec.GroupBy {
			g.key[i] = row[c]
		}
	} else {
		g = a.newGroup(len(a.spec.GroupBy) + 1)
		for _, i := range a.spec.GroupingSets[set] {
			g.key[i] = row[a.spec.GroupBy[i]]
		}
		g.key[len(a.spec.GroupBy)] = types.NewInt4(int64(set))
	}
	g.keyEnc, g.set = string(keyEnc), set
	found := false
	if !ec.ephemeral {
		may, err := a.mayExist(ec, keyEnc)
		if err != nil {
			return nil, err
		}
		val, ok := []byte(nil), false
		if may {
			if val, ok, err = ec.store.Get(a.stateKey(g.keyEnc)); err != nil {
				return nil, err
			}
		}
		if ok {
			found, g.stored = true, true
			if err := a.decodeState(val, g); err != nil {
				return nil, err
			}
		}
	}
	if found || (a.global(set) && !ec.ephemeral) {
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
		// The group's key, its accumulators and the maps that find it.
		if err := ec.hold(int64(len(g.keyEnc))*2 + 64*int64(len(a.spec.Aggs)+2)); err != nil {
			return nil, err
		}
	}
	a.groups[g.keyEnc] = g
	a.order = append(a.order, g)
	return g, nil
}

// mayExist says whether the group keyEnc may have a row in the store.
func (a *aggOp) mayExist(ec *epochCtx, keyEnc []byte) (bool, error) {
	// Groups are loaded before this epoch's flush writes or deletes any,
	// so the filter may always be built here, from the committed rows.
	f, err := a.filter.get(ec.store, a.prefix, 0, true)
	if f == nil || err != nil {
		return true, err
	}
	return f.has(keyEnc), nil
}

// State layouts of the group row, oldest first: every aggregate two
// values; numeric sums and variances keep their scales; min and max keep
// their values inline. A row is read in the layout its length gives.
const (
	layoutPairs = iota
	layoutScales
	layoutInline
	layoutCurrent = layoutInline
)

// aggSlots is the number of values aggregate j keeps in its group's row in
// layout l.
func (a *aggOp) aggSlots(j, l int) int {
	if l == layoutPairs {
		return 2
	}
	switch a.spec.Aggs[j].Func {
	case AggVarSamp, AggVarPop, AggStddevSamp, AggStddevPop:
		return 5 // n, sum x, sum x*x, non-finite count, scales
	case AggSum, AggAvg:
		if a.inKinds[j] == types.KindNumeric {
			return 3 // n, sum, scales
		}
	case AggMin, AggMax:
		if l >= layoutInline {
			return 3 // n, extreme, inline values (NULL: spilled or none kept)
		}
	}
	return 2 // n, accumulator
}

// stateLen is the length of a group row in layout l.
func (a *aggOp) stateLen(l int) int {
	n := 1
	for j := range a.spec.Aggs {
		n += a.aggSlots(j, l)
	}
	if a.spec.EmitOnWindowClose {
		n += len(a.spec.GroupBy) // the group's key values (closeWindows emits them)
	}
	return n
}

// keepsValues says min/max aggregate j keeps its values for retractions.
func (a *aggOp) keepsValues(ec *epochCtx, j int) bool {
	f := a.spec.Aggs[j].Func
	return (f == AggMin || f == AggMax) && !ec.ephemeral && !a.spec.InputAppendOnly
}

func (a *aggOp) decodeState(val []byte, g *groupState) error {
	row, _, err := types.DecodeRow(val, nil)
	if err != nil {
		return err
	}
	l := layoutCurrent
	for l >= 0 && len(row) != a.stateLen(l) {
		l--
	}
	if l < 0 {
		return pgerr.New(pgerr.DataCorrupted, "aggregate state has %d values, want %d", len(row), a.stateLen(layoutCurrent))
	}
	if a.spec.EmitOnWindowClose {
		n := len(a.spec.GroupBy)
		if g.key == nil {
			g.key = append(types.Row(nil), row[len(row)-n:]...)
		}
		row = row[:len(row)-n]
	}
	g.count = row[0].I
	p := 1
	for j := range g.accs {
		s := &g.accs[j]
		s.n, s.v = row[p].I, row[p+1]
		switch f := a.spec.Aggs[j].Func; {
		case l == layoutPairs:
			// Sums whose scales are unknown (shown as accumulated).
		case f == AggMin || f == AggMax:
			// Before layoutInline, values were always kept under 0x01 keys.
			s.spilled = l < layoutInline || row[p+2].IsNull()
			if !s.spilled {
				if s.ext, err = decodeExtremes(row[p+2].S); err != nil {
					return err
				}
			}
		case a.aggSlots(j, l) == 3:
			s.scales = decodeScales(row[p+2])
		case a.aggSlots(j, l) == 5:
			s.v2, s.bad, s.scales = row[p+2], row[p+3].I, decodeScales(row[p+4])
		}
		p += a.aggSlots(j, l)
	}
	for j, o := range a.extOwner {
		if o >= 0 && o != j {
			// The owner's values are this one's too.
			g.accs[j].spilled, g.accs[j].ext = g.accs[o].spilled, nil
			if l < layoutInline {
				g.ownKeys = true
			}
		}
	}
	return nil
}

// encodeState encodes the group's row of state into a buffer that the next
// call reuses.
func (a *aggOp) encodeState(g *groupState) []byte {
	row := a.stateRow[:0]
	row = append(row, types.NewInt8(g.count))
	for j := range g.accs {
		s := &g.accs[j]
		row = append(row, types.NewInt8(s.n), s.v)
		switch f := a.spec.Aggs[j].Func; {
		case f == AggMin || f == AggMax:
			if s.spilled || a.spec.InputAppendOnly || a.extOwner[j] != j {
				row = append(row, types.Null)
			} else {
				row = append(row, types.Value{K: types.KindBytea, S: string(a.encodeExtremes(s.ext))})
			}
		case a.aggSlots(j, layoutCurrent) == 3:
			row = append(row, s.scales.encode())
		case a.aggSlots(j, layoutCurrent) == 5:
			row = append(row, s.v2, types.NewInt8(s.bad), s.scales.encode())
		}
	}
	if a.spec.EmitOnWindowClose {
		row = append(row, g.key...)
	}
	a.stateBuf = types.AppendRow(a.stateBuf[:0], row)
	clear(row) // no values kept alive until the next call
	a.stateRow = row[:0]
	return a.stateBuf
}

// encodeExtremes encodes inline min/max values: per value its
// multiplicity (varint), then the value.
func (a *aggOp) encodeExtremes(ext []extremeValue) []byte {
	dst := a.extBuf[:0]
	for _, e := range ext {
		dst = binary.AppendVarint(dst, e.n)
		dst = types.AppendRowValue(dst, e.v)
	}
	a.extBuf = dst
	return dst
}

func decodeExtremes(b string) ([]extremeValue, error) {
	if len(b) == 0 {
		return nil, nil
	}
	src := []byte(b)
	var out []extremeValue
	for len(src) > 0 {
		n, w := binary.Varint(src)
		if w <= 0 {
			return nil, pgerr.New(pgerr.DataCorrupted, "corrupt min/max state")
		}
		v, rest, err := types.DecodeRowValue(src[w:])
		if err != nil {
			return nil, err
		}
		out = append(out, extremeValue{v, n})
		src = rest
	}
	return out, nil
}

func (a *aggOp) apply(ec *epochCtx, _ int, in *Batch) (*Batch, error) {
	if a.intCol >= 0 {
		return nil, a.applyInt(ec, in)
	}
	var keyBuf []byte
	for i, row := range in.Rows {
		w := in.W[i]
		if a.spec.GroupingSets == nil {
			keyBuf = a.groupKey(keyBuf[:0], row, -1)
			if err := a.applyRow(ec, keyBuf, row, w, -1); err != nil {
				return nil, err
			}
			continue
		}
		for set := range a.spec.GroupingSets {
			keyBuf = a.groupKey(keyBuf[:0], row, set)
			if err := a.applyRow(ec, keyBuf, row, w, set); err != nil {
				return nil, err
			}
		}
	}
	return nil, nil
}

// applyInt is apply for an aggregate grouped by one integer column
// (intCol): a group found once in the epoch is found again by the column's
// value. A NULL key goes by its encoded key only.
func (a *aggOp) applyInt(ec *epochCtx, in *Batch) error {
	var keyBuf []byte
	for i, row := range in.Rows {
		v := row[a.intCol]
		byInt := v.K == a.intKind
		g, ok := (*groupState)(nil), false
		if byInt {
			g, ok = a.intGroups[v.I]
		}
		if !ok {
			keyBuf = a.groupKey(keyBuf[:0], row, -1)
			var err error
			if g, err = a.load(ec, keyBuf, row, -1); err != nil {
				return err
			}
			if byInt {
				a.intGroups[v.I] = g
			}
		}
		if err := a.addRow(ec, g, row, in.W[i]); err != nil {
			return err
		}
	}
	return nil
}

// applyRow adds row with weight w to its group in grouping set set.
func (a *aggOp) applyRow(ec *epochCtx, keyBuf []byte, row types.Row, w int64, set int) error {
	g, err := a.load(ec, keyBuf, row, set)
	if err != nil {
		return err
	}
	return a.addRow(ec, g, row, w)
}

// addRow adds row with weight w to group g.
func (a *aggOp) addRow(ec *epochCtx, g *groupState, row types.Row, w int64) error {
	g.count += w
	for j := range a.spec.Aggs {
		c := &a.spec.Aggs[j]
		if c.HasFilter && !row[c.FilterCol].Bool() {
			continue
		}
		s := &g.accs[j]
		if c.Func == AggCountStar {
			s.n += w
			continue
		}
		if c.Func.KeepsElements() {
			if err := a.addElement(ec, j, g, row, w); err != nil {
				return err
			}
			continue
		}
		v := row[c.Arg]
		if v.IsNull() {
			continue
		}
		aw := w // the weight this aggregate sees
		if c.Distinct || c.Func == AggApproxCountDistinct {
			// Only a value's first arrival and last departure count.
			var err error
			if aw, err = a.distinctWeight(ec, j, g, v, w); err != nil {
				return err
			}
			if aw == 0 {
				continue
			}
		}
		s.n += aw
		switch c.Func {
		case AggSum, AggAvg:
			if err := addWeighted(&s.v, v, aw); err != nil {
				return err
			}
			if v.K == types.KindNumeric {
				s.scales.add(v.D, aw)
			}
		case AggMin, AggMax:
			if err := a.updateExtreme(ec, j, g, v, aw, c.Func == AggMin); err != nil {
				return err
			}
		case AggBoolAnd, AggBoolOr:
			if s.v.IsNull() {
				s.v = types.NewInt8(0)
			}
			if v.Bool() {
				s.v.I += aw
			}
		case AggVarSamp, AggVarPop, AggStddevSamp, AggStddevPop:
			if err := addSquares(s, v, aw); err != nil {
				return err
			}
		}
	}
	return nil
}

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

// updateExtreme maintains the current extreme of a min/max and, unless its
// input only inserts, its values with their multiplicities.
func (a *aggOp) updateExtreme(ec *epochCtx, j int, g *groupState, v types.Value, w int64, isMin bool) error {
	s := &g.accs[j]
	if !a.keepsValues(ec, j) {
		if w < 0 {
			return pgerr.New(pgerr.InternalError, "retraction in an aggregate over an input that only inserts")
		}
		if s.v.IsNull() || (isMin && types.Compare(v, s.v) < 0) || (!isMin && types.Compare(v, s.v) > 0) {
			s.v = v
		}
		return nil
	}
	owner := a.extOwner[j] == j
	if !s.spilled {
		// flush takes the extreme from the ends of the values (of the
		// owner, for one that shares them).
		if !owner {
			return nil
		}
		var i int
		var found bool
		ints := intLike(v.K) && (len(s.ext) == 0 || s.ext[0].v.K == v.K)
		if ints {
			// Search the compact copy: the values' own array is 11 times
			// its size, and a backfill's searches miss the cache.
			if len(s.ikeys) != len(s.ext) {
				s.ikeys = s.ikeys[:0]
				for _, e := range s.ext {
					s.ikeys = append(s.ikeys, e.v.I)
				}
			}
			i, found = slices.BinarySearch(s.ikeys, v.I)
		} else {
			i, found = searchExtremes(s.ext, v)
		}
		switch {
		case found:
			s.ext[i].n += w
			if w > 0 {
				s.ext[i].v = v // shown as last inserted
			}
			if s.ext[i].n == 0 {
				s.ext = append(s.ext[:i], s.ext[i+1:]...)
				if ints {
					s.ikeys = append(s.ikeys[:i], s.ikeys[i+1:]...)
				}
			}
		case w != 0:
			s.ext = append(s.ext, extremeValue{})
			copy(s.ext[i+1:], s.ext[i:])
			s.ext[i] = extremeValue{v, w}
			if ints {
				s.ikeys = slices.Insert(s.ikeys, i, v.I)
			}
		}
		if len(s.ext) > maxInlineValues {
			return a.spill(ec, j, g)
		}
		return nil
	}
	if w > 0 {
		if s.v.IsNull() || (isMin && types.Compare(v, s.v) < 0) || (!isMin && types.Compare(v, s.v) > 0) {
			if !s.hit {
				s.v = v
			}
		}
	} else if !s.v.IsNull() && types.Compare(v, s.v) == 0 {
		s.hit = true
	}
	if !owner {
		return nil
	}
	// The epoch's changes per value; flush writes them (writeExtremes).
	if s.extDelta == nil {
		s.extDelta = map[string]*memElem{}
	}
	a.elemBuf = types.AppendKey(a.elemBuf[:0], v, false)
	e, ok := s.extDelta[string(a.elemBuf)]
	if !ok {
		e = &memElem{}
		s.extDelta[string(a.elemBuf)] = e
	}
	e.n += w
	if w > 0 {
		e.vals = append(e.vals[:0], v) // shown as last inserted
	}
	return nil
}

// intLike says values of kind k compare as their int64s.
func intLike(k types.Kind) bool {
	switch k {
	case types.KindInt2, types.KindInt4, types.KindInt8, types.KindDate, types.KindTimestamp, types.KindTimestampTZ:
		return true
	}
	return false
}

// searchExtremes finds v among ordered inline values: its index, or where
// it would go.
func searchExtremes(ext []extremeValue, v types.Value) (int, bool) {
	// Integers, dates and timestamps compare as int64s without the call.
	ints := intLike(v.K)
	lo, hi := 0, len(ext)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		var c int
		if e := &ext[m].v; ints && e.K == v.K {
			c = cmp.Compare(e.I, v.I)
		} else {
			c = types.Compare(*e, v)
		}
		switch {
		case c < 0:
			lo = m + 1
		case c > 0:
			hi = m
		default:
			return m, true
		}
	}
	return lo, false
}

// spill moves the inline values of min/max j to keys of their own: the
// group has too many distinct ones to rewrite them with its row every epoch.
// No key of the group's values exists yet (a group starts inline, and one
// that spilled keeps its keys until its last value leaves).
func (a *aggOp) spill(ec *epochCtx, j int, g *groupState) error {
	s := &g.accs[j]
	for _, e := range s.ext {
		if err := ec.store.Set(a.extraKey(j, g.keyEnc, e.v), types.AppendRowValue(binary.AppendVarint(nil, e.n), e.v)); err != nil {
			return err
		}
	}
	for k, o := range a.extOwner {
		if o != j {
			continue
		}
		sk := &g.accs[k]
		if len(s.ext) > 0 {
			if a.spec.Aggs[k].Func == AggMin {
				sk.v = s.ext[0].v
			} else {
				sk.v = s.ext[len(s.ext)-1].v
			}
		}
		sk.spilled, sk.hit = true, false
	}
	s.ext, s.ikeys = nil, nil
	return nil
}

// writeExtremes applies an epoch's changes to the spilled values of min/max
// j.
func (a *aggOp) writeExtremes(ec *epochCtx, j int, g *groupState) error {
	s := &g.accs[j]
	for key, e := range s.extDelta {
		k := append(a.extraPrefix(j, g.keyEnc), key...)
		old, ok, err := ec.store.Get(k)
		if err != nil {
			return err
		}
		var cnt int64
		var shown types.Value
		if ok {
			var w int
			cnt, w = binary.Varint(old)
			if w <= 0 {
				return pgerr.New(pgerr.DataCorrupted, "corrupt min/max state")
			}
			if shown, _, err = types.DecodeRowValue(old[w:]); err != nil {
				return err
			}
		}
		cnt += e.n
		if e.vals != nil {
			shown = e.vals[0]
		}
		switch {
		case cnt < 0:
			return pgerr.New(pgerr.InternalError, "min/max value count went negative (%d)", cnt)
		case cnt == 0 && !ok:
			continue
		case cnt == 0:
			err = ec.store.Delete(k)
		default:
			err = ec.store.Set(k, types.AppendRowValue(binary.AppendVarint(nil, cnt), shown))
		}
		if err != nil {
			return err
		}
	}
	s.extDelta = nil
	return nil
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
	p := a.extraPrefix(a.extOwner[j], g.keyEnc)
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
	out := &Batch{Rows: make([]types.Row, 0, 2*len(a.order)), W: make([]int64, 0, 2*len(a.order))}
	for _, g := range a.order {
		for j, c := range a.spec.Aggs {
			s := &g.accs[j]
			if (c.Func == AggMin || c.Func == AggMax) && a.keepsValues(ec, j) {
				// The owner of the values comes first: a sharing one's
				// rescan sees them written.
				ext := g.accs[a.extOwner[j]].ext
				switch {
				case s.spilled && a.extOwner[j] == j:
					if err := a.writeExtremes(ec, j, g); err != nil {
						return err
					}
				case s.spilled:
					if g.ownKeys {
						p := a.extraPrefix(j, g.keyEnc)
						if err := ec.store.DeleteRange(p, storage.PrefixEnd(p)); err != nil {
							return err
						}
					}
				case len(ext) == 0:
					s.v = types.Null
				case c.Func == AggMin:
					s.v = ext[0].v
				default:
					s.v = ext[len(ext)-1].v
				}
			}
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
			if c.Func.KeepsElements() && s.hit {
				if !ec.ephemeral {
					if err := a.writeElements(ec, j, g); err != nil {
						return err
					}
				}
				if err := a.recompute(ec, j, g); err != nil {
					return err
				}
				s.hit = false
			}
			if s.n == 0 {
				switch c.Func {
				case AggSum, AggAvg, AggMin, AggMax, AggBoolAnd, AggBoolOr:
					s.v = types.Null
				case AggVarSamp, AggVarPop, AggStddevSamp, AggStddevPop:
					s.v, s.v2 = types.Null, types.Null
				}
			}
		}
		global := a.global(g.set)
		exists := g.count > 0 || global
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
		if a.spec.EmitOnWindowClose {
			// Nothing until the window closes (closeWindows).
		} else if g.oldOut != nil && newOut != nil && sameRow(g.oldOut, newOut) {
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
			if g.count == 0 && !global {
				if err := ec.store.Delete(k); err != nil {
					return err
				}
			} else {
				if err := ec.store.Set(k, a.encodeState(g)); err != nil {
					return err
				}
				if a.filter.f != nil && !g.stored {
					a.filter.f.add(g.keyEnc)
				}
			}
		}
	}
	if err := a.closeWindows(ec, out); err != nil {
		return err
	}
	a.reset()
	return emit(out)
}

// closeWindows deletes the state of the groups the watermark has closed
// (their window column is below it: no change to come can reach them) and,
// with EMIT ON WINDOW CLOSE, emits their final rows. It runs when the
// watermark advanced in this epoch.
func (a *aggOp) closeWindows(ec *epochCtx, out *Batch) error {
	if a.closeWM == nil || ec.ephemeral || ec.wms == nil {
		return nil
	}
	wm, ok := a.closeWM.value(ec.wms)
	if !ok {
		return nil
	}
	if before, ok := a.closeWM.value(ec.wmsBefore); ok && before >= wm {
		return nil // closed when the watermark got there
	}
	bound := types.AppendKey(nil, types.Value{K: a.closeKind, I: wm}, false)
	lo := append(append([]byte(nil), a.prefix...), 0)
	hi := append(append([]byte(nil), lo...), bound...)
	if a.spec.EmitOnWindowClose {
		err := ec.store.Scan(lo, hi, false, func(_, val []byte) (bool, error) {
			g := &groupState{set: -1, accs: make([]accState, len(a.spec.Aggs))}
			if err := a.decodeState(val, g); err != nil {
				return false, err
			}
			if g.count <= 0 {
				return true, nil
			}
			row, err := a.output(ec, g)
			if err != nil {
				return false, err
			}
			out.Add(row, 1)
			return true, nil
		})
		if err != nil {
			return err
		}
	}
	if err := ec.store.DeleteRange(lo, hi); err != nil {
		return err
	}
	for j, c := range a.spec.Aggs {
		if !(c.Distinct || c.Func == AggMin || c.Func == AggMax || c.Func == AggApproxCountDistinct || c.Func.KeepsElements()) {
			continue
		}
		lo := append(append([]byte(nil), a.prefix...), 1, byte(j))
		hi := append(append([]byte(nil), lo...), bound...)
		if err := ec.store.DeleteRange(lo, hi); err != nil {
			return err
		}
	}
	return nil
}

// sameRow says a and b are the same values as written (1.50 and 1.5 compare
// equal but show differently).
func sameRow(a, b types.Row) bool {
	if types.CompareRows(a, b) != 0 {
		return false
	}
	return bytes.Equal(types.AppendRow(nil, a), types.AppendRow(nil, b))
}

// initial returns what a new dataflow emits before any input: the rows of
// its global aggregates over the empty input.
func (a *aggOp) initial(ec *epochCtx) (*Batch, error) {
	b := &Batch{}
	for _, set := range a.globalSets() {
		g := &groupState{keyEnc: string(a.groupKey(nil, nil, set)), set: set, accs: make([]accState, len(a.spec.Aggs))}
		if set >= 0 {
			g.key = make(types.Row, len(a.spec.GroupBy)+1)
			g.key[len(a.spec.GroupBy)] = types.NewInt4(int64(set))
		}
		out, err := a.output(ec, g)
		if err != nil {
			return nil, err
		}
		if !ec.ephemeral {
			if a.filter.f != nil {
				a.filter.f.add(g.keyEnc)
			}
			if err := ec.store.Set(a.stateKey(g.keyEnc), a.encodeState(g)); err != nil {
				return nil, err
			}
		}
		b.Add(out, 1)
	}
	if b.Len() == 0 {
		return nil, nil
	}
	return b, nil
}

// output computes a group's output row from its state.
func (a *aggOp) output(ec *epochCtx, g *groupState) (types.Row, error) {
	n := len(g.key) + len(a.spec.Aggs)
	if len(a.rowChunk) < n {
		a.rowChunk = make([]types.Value, groupChunkLen*max(n, 1))
	}
	row := a.rowChunk[:n:n]
	a.rowChunk = a.rowChunk[n:]
	copy(row, g.key)
	for j, c := range a.spec.Aggs {
		s := &g.accs[j]
		var v types.Value
		switch c.Func {
		case AggCountStar:
			if c.HasFilter {
				v = types.NewInt8(s.n)
			} else {
				v = types.NewInt8(g.count)
			}
		case AggCount, AggApproxCountDistinct:
			v = types.NewInt8(s.n)
		case AggSum:
			if s.n > 0 {
				var err error
				if v, err = convertSum(s.shownSum(), c.Type); err != nil {
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
		case AggBoolAnd:
			if s.n > 0 {
				v = types.NewBool(s.v.I == s.n)
			}
		case AggBoolOr:
			if s.n > 0 {
				v = types.NewBool(s.v.I > 0)
			}
		case AggVarSamp, AggVarPop, AggStddevSamp, AggStddevPop:
			var err error
			if v, err = variance(s, c.Func, c.Type); err != nil {
				return nil, err
			}
		default:
			// Element aggregates: the result cached at the last recompute.
			v = s.v
		}
		row[len(g.key)+j] = v
	}
	return row, nil
}

func (a *aggOp) average(ec *epochCtx, s *accState, t types.Type) (types.Value, error) {
	switch t.Kind {
	case types.KindFloat8, types.KindFloat4:
		return types.NewFloat8(s.v.F / float64(s.n)), nil
	case types.KindInterval:
		n := s.n
		return types.NewInterval(int32(int64(s.v.Mon)/n), int32(int64(s.v.Day)/n), s.v.I/n), nil
	}
	sum, err := convertSum(s.shownSum(), types.Numeric)
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
