package exec

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/storage"
	"github.com/kappa-db/kappa/types"
)

// Interval joins. A join whose condition bounds one side's time by the
// other's (`l.ts BETWEEN r.ts - INTERVAL '10 seconds' AND r.ts`, or
// `l.ts >= r.ts - X AND l.ts < r.ts + Y`), over time columns that both
// carry a watermark, can forget a row once the other side's watermark
// rules out any partner still to come: a left row whose time lt is below
// min(wmL, wmR + Lower) (every right change to come has rt >= wmR, and
// joins only rows with lt >= rt + Lower; and no change of its own is to
// come, since lt < wmL), a right row whose time rt is below min(wmR,
// wmL - Upper). A side that can forget rows keeps them by time bucket
// (side | bucket | join key | row, a bucket as wide as the interval): a
// probe reads the two or three buckets its partners can be in, and at each
// barrier where the bound advanced the join deletes the buckets wholly
// below it with one range deletion.

// JoinInterval is the time bound a join's condition puts between its two
// sides: every joined pair has Left[LeftCol] >= Right[RightCol] + Lower
// (when HasLower) and Left[LeftCol] <= Right[RightCol] + Upper (when
// HasUpper), in µs.
type JoinInterval struct {
	LeftCol, RightCol  int
	Lower, Upper       int64
	HasLower, HasUpper bool
}

// String prints the bound for EXPLAIN: `#2-#1 in [-10s, 0s]`, the left
// time column minus the right one (each numbered within its side).
func (iv JoinInterval) String() string {
	lo, hi := "-inf", "+inf"
	if iv.HasLower {
		lo = (time.Duration(iv.Lower) * time.Microsecond).String()
	}
	if iv.HasUpper {
		hi = (time.Duration(iv.Upper) * time.Microsecond).String()
	}
	return fmt.Sprintf("#%d-#%d in [%s, %s]", iv.LeftCol, iv.RightCol, lo, hi)
}

// JoinIntervalOf returns the time bound of j's condition that lets it
// forget rows: a pair of time columns, one per side, each with a
// watermark, bounded at least one way by conjuncts of j.On. (The
// conjuncts stay in On: the bound is what they imply, not a replacement.)
func JoinIntervalOf(j *Join) (JoinInterval, bool) {
	if j.On == nil {
		return JoinInterval{}, false
	}
	nl := len(j.Left.Columns())
	var lw, rw []*colWatermark
	var found []JoinInterval
	for _, c := range flattenAnd(j.On, nil) {
		b, ok := IntervalConjunct(c, nl)
		if !ok {
			continue
		}
		if lw == nil {
			lw, rw = columnWatermarks(j.Left), columnWatermarks(j.Right)
		}
		if lw[b.LeftCol] == nil || rw[b.RightCol] == nil {
			continue
		}
		merged := false
		for i := range found {
			f := &found[i]
			if f.LeftCol != b.LeftCol || f.RightCol != b.RightCol {
				continue
			}
			if b.HasLower && (!f.HasLower || b.Lower > f.Lower) {
				f.Lower, f.HasLower = b.Lower, true
			}
			if b.HasUpper && (!f.HasUpper || b.Upper < f.Upper) {
				f.Upper, f.HasUpper = b.Upper, true
			}
			merged = true
		}
		if !merged {
			found = append(found, b)
		}
	}
	// Prefer a pair bounded both ways: both sides can then forget rows.
	for _, f := range found {
		if f.HasLower && f.HasUpper {
			return f, true
		}
	}
	if len(found) > 0 {
		return found[0], true
	}
	return JoinInterval{}, false
}

func flattenAnd(e expr.Expr, out []expr.Expr) []expr.Expr {
	if a, ok := e.(*expr.And); ok {
		for _, x := range a.Args {
			out = flattenAnd(x, out)
		}
		return out
	}
	return append(out, e)
}

// IntervalConjunct recognises one conjunct of a join condition over the
// concatenated row (nl left columns) that compares a time column of one
// side with a time column of the other, either plus or minus a constant
// interval of fixed length: `l.ts >= r.ts - INTERVAL '10 seconds'`,
// `r.ts + INTERVAL '1 second' > l.ts`. The result has one bound set.
// Strict comparisons give the same bound as non-strict ones: the bound
// only decides when rows may be forgotten, and a looser one keeps them a
// microsecond longer.
func IntervalConjunct(c expr.Expr, nl int) (JoinInterval, bool) {
	call, ok := c.(*expr.Call)
	if !ok || len(call.Args) != 2 {
		return JoinInterval{}, false
	}
	op := call.Fn.Name
	switch op {
	case "<", "<=", ">", ">=":
	default:
		return JoinInterval{}, false
	}
	a, aOff, ok := timeColOffset(call.Args[0])
	if !ok {
		return JoinInterval{}, false
	}
	b, bOff, ok := timeColOffset(call.Args[1])
	if !ok || a.T.Kind != b.T.Kind {
		return JoinInterval{}, false
	}
	if a.Idx >= nl {
		a, b, aOff, bOff = b, a, bOff, aOff
		op = map[string]string{"<": ">", "<=": ">=", ">": "<", ">=": "<="}[op]
	}
	if a.Idx >= nl || b.Idx < nl {
		return JoinInterval{}, false
	}
	// a + aOff op b + bOff, that is a op b + (bOff - aOff).
	iv := JoinInterval{LeftCol: a.Idx, RightCol: b.Idx - nl}
	k := satAdd(bOff, -aOff)
	if op == ">" || op == ">=" {
		iv.Lower, iv.HasLower = k, true
	} else {
		iv.Upper, iv.HasUpper = k, true
	}
	return iv, true
}

// timeColOffset recognises `col`, `col + c`, `c + col` and `col - c` for a
// timestamp or timestamptz column and a constant interval c without
// months, and returns c in µs. (A timestamptz's day depends on the time
// zone, 23 or 25 hours across a daylight saving change: an interval with
// days on a timestamptz is no fixed bound.)
func timeColOffset(e expr.Expr) (*expr.ColRef, int64, bool) {
	if c, ok := e.(*expr.ColRef); ok {
		return c, 0, isTimeKind(c.T.Kind)
	}
	call, ok := e.(*expr.Call)
	if !ok || len(call.Args) != 2 || (call.Fn.Name != "+" && call.Fn.Name != "-") {
		return nil, 0, false
	}
	col, iv := call.Args[0], call.Args[1]
	c, ok := col.(*expr.ColRef)
	if !ok && call.Fn.Name == "+" {
		col, iv = iv, col
		c, ok = col.(*expr.ColRef)
	}
	if !ok || !isTimeKind(c.T.Kind) || !expr.IsConst(iv) || iv.Type().Kind != types.KindInterval {
		return nil, 0, false
	}
	v, err := iv.Eval(&expr.EvalContext{}, nil)
	if err != nil || v.IsNull() || v.Mon != 0 {
		return nil, 0, false
	}
	if c.T.Kind == types.KindTimestampTZ && v.Day != 0 {
		// Days of a timestamptz depend on the time zone: no fixed bound.
		return nil, 0, false
	}
	us := satAdd(int64(v.Day)*types.USPerDay, v.I)
	if call.Fn.Name == "-" {
		us = -us
	}
	return c, us, true
}

func isTimeKind(k types.Kind) bool {
	return k == types.KindTimestamp || k == types.KindTimestampTZ
}

// intervalState is a joinOp's interval cleanup: the bound, the
// watermarks of both time columns, and which sides forget rows.
type intervalState struct {
	iv JoinInterval
	wm [2]*colWatermark // of the left and the right time column
	// bucketed[side]: side forgets rows (the left one needs HasLower, the
	// right one HasUpper) and keeps them by time bucket of width µs.
	bucketed [2]bool
	width    int64
}

// nullBucket holds the rows whose time is NULL: they join nothing through
// the bound, and are never forgotten.
const nullBucket = math.MaxInt64

func newIntervalState(j *Join) *intervalState {
	iv, ok := JoinIntervalOf(j)
	if !ok {
		return nil
	}
	// A bucket as wide as the interval: a probe reads two or three.
	width := int64(1_000_000)
	if iv.HasLower && iv.HasUpper {
		width = max(width, iv.Upper-iv.Lower)
	}
	if iv.HasLower {
		width = max(width, iv.Lower, -iv.Lower)
	}
	if iv.HasUpper {
		width = max(width, iv.Upper, -iv.Upper)
	}
	return &intervalState{
		iv:       iv,
		wm:       [2]*colWatermark{columnWatermarks(j.Left)[iv.LeftCol], columnWatermarks(j.Right)[iv.RightCol]},
		bucketed: [2]bool{iv.HasLower, iv.HasUpper},
		width:    width,
	}
}

// timeCol is side's time column.
func (s *intervalState) timeCol(side int) int {
	if side == 0 {
		return s.iv.LeftCol
	}
	return s.iv.RightCol
}

func (s *intervalState) bucketOf(t int64) int64 {
	b := t / s.width
	if t%s.width < 0 {
		b--
	}
	return b
}

// rowBucket is the bucket of a row of side.
func (s *intervalState) rowBucket(side int, row types.Row) int64 {
	v := row[s.timeCol(side)]
	if v.IsNull() {
		return nullBucket
	}
	return s.bucketOf(v.I)
}

// partnerBuckets is the range of buckets of side other that can hold a
// partner of x (a row of the other side): from lo to hi, or to the last
// bucket when !hasHi. ok is false when x's time is NULL (no partner).
func (s *intervalState) partnerBuckets(other int, x types.Row) (lo, hi int64, hasHi, ok bool) {
	v := x[s.timeCol(1-other)]
	if v.IsNull() {
		return 0, 0, false, false
	}
	t := v.I
	if other == 0 {
		// A left partner of a right row at t: lt in [t+Lower, t+Upper].
		lo = s.bucketOf(satAdd(t, s.iv.Lower))
		if s.iv.HasUpper {
			hi, hasHi = s.bucketOf(satAdd(t, s.iv.Upper)), true
		}
		return lo, hi, hasHi, true
	}
	// A right partner of a left row at t: rt in [t-Upper, t-Lower].
	lo = s.bucketOf(satAdd(t, -s.iv.Upper))
	if s.iv.HasLower {
		hi, hasHi = s.bucketOf(satAdd(t, -s.iv.Lower)), true
	}
	return lo, hi, hasHi, true
}

// bound is the time below which side's rows can be forgotten, given the
// inputs' watermarks.
func (s *intervalState) bound(side int, wms map[uint64]int64) (int64, bool) {
	l, ok := s.wm[0].value(wms)
	if !ok {
		return 0, false
	}
	r, ok := s.wm[1].value(wms)
	if !ok {
		return 0, false
	}
	if side == 0 {
		return min(l, satAdd(r, s.iv.Lower)), true
	}
	return min(r, satAdd(l, -s.iv.Upper)), true
}

// timeKey encodes an event time (or a bucket number) so that byte order is
// numeric order.
func timeKey(dst []byte, t int64) []byte {
	return binary.BigEndian.AppendUint64(dst, uint64(t)^(1<<63))
}

// bucketed reports whether side's state is by time bucket.
func (j *joinOp) bucketed(side int) bool {
	return j.interval != nil && j.interval.bucketed[side]
}

// closeInterval deletes, on each side that forgets rows, the buckets that
// fell wholly below the side's bound since the last epoch (the rows this
// epoch stored are at or above the last bound).
func (j *joinOp) closeInterval(ec *epochCtx) error {
	if j.interval == nil || ec.wms == nil {
		return nil
	}
	for side := 0; side < 2; side++ {
		if !j.bucketed(side) {
			continue
		}
		now, ok := j.interval.bound(side, ec.wms)
		if !ok {
			continue
		}
		sp := append(append([]byte(nil), j.prefix...), byte(side))
		lo := sp
		hi := timeKey(append([]byte(nil), sp...), j.interval.bucketOf(now))
		if before, ok := j.interval.bound(side, ec.wmsBefore); ok {
			b := j.interval.bucketOf(before)
			if b >= j.interval.bucketOf(now) {
				continue
			}
			lo = timeKey(append([]byte(nil), sp...), b)
		}
		if err := ec.store.DeleteRange(lo, hi); err != nil {
			return err
		}
	}
	return nil
}

// scanBuckets hands fn the rows of side other with join key key in the
// buckets that can hold a partner of x. Without an upper end it skips
// from each bucket to the next one that holds rows.
func (j *joinOp) scanBuckets(ec *epochCtx, other int, key []byte, x types.Row, fn func(k, v []byte) (bool, error)) error {
	lo, hi, hasHi, ok := j.interval.partnerBuckets(other, x)
	if !ok {
		return nil
	}
	sp := append(append(make([]byte, 0, len(j.prefix)+1+8+len(key)+8), j.prefix...), byte(other))
	last := timeKey(append([]byte(nil), sp...), nullBucket)
	for b := lo; !hasHi || b <= hi; b++ {
		if !hasHi {
			found := false
			err := ec.store.Scan(timeKey(sp, b), last, false, func(k, _ []byte) (bool, error) {
				b, found = int64(binary.BigEndian.Uint64(k[len(sp):])^(1<<63)), true
				return false, nil
			})
			if err != nil {
				return err
			}
			if !found {
				return nil
			}
		}
		p := append(timeKey(sp, b), key...)
		if err := ec.store.Scan(p, storage.PrefixEnd(p), false, fn); err != nil {
			return err
		}
	}
	return nil
}
