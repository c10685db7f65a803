package exec

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/kappa-db/kappa/expr"
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
// wmL - Upper). The join keeps, per side that can forget rows, an index of
// its state by time (joinOp.indexKey), and at each barrier where the bound
// advanced deletes the rows below it.

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
// watermarks of both time columns, and which sides can forget rows.
type intervalState struct {
	iv   JoinInterval
	wm   [2]*colWatermark // of the left and the right time column
	drop [2]bool          // side 0 forgets rows (HasLower), side 1 (HasUpper)
}

func newIntervalState(j *Join) *intervalState {
	iv, ok := JoinIntervalOf(j)
	if !ok {
		return nil
	}
	return &intervalState{
		iv:   iv,
		wm:   [2]*colWatermark{columnWatermarks(j.Left)[iv.LeftCol], columnWatermarks(j.Right)[iv.RightCol]},
		drop: [2]bool{iv.HasLower, iv.HasUpper},
	}
}

// timeCol is side's time column.
func (s *intervalState) timeCol(side int) int {
	if side == 0 {
		return s.iv.LeftCol
	}
	return s.iv.RightCol
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

// timeKey encodes an event time so that byte order is time order.
func timeKey(dst []byte, t int64) []byte {
	return binary.BigEndian.AppendUint64(dst, uint64(t)^(1<<63))
}

// indexPrefix is where side's time index lives in the join's state:
// indexPrefix | time | the row's state key after its side byte.
func (j *joinOp) indexPrefix(side int) []byte {
	p := make([]byte, 0, len(j.prefix)+1+8+64)
	p = append(p, j.prefix...)
	return append(p, byte(2+side))
}

// indexKey is the time index entry of the state key k of a row of side
// with time t.
func (j *joinOp) indexKey(side int, t int64, k []byte) []byte {
	return append(timeKey(j.indexPrefix(side), t), k[len(j.prefix)+1:]...)
}

// indexed reports whether a row of side goes into the time index, and its
// time: only sides that can forget rows keep one, and a row whose time is
// NULL joins nothing through the bound and is never forgotten.
func (j *joinOp) indexed(side int, row types.Row) (int64, bool) {
	if j.interval == nil || !j.interval.drop[side] {
		return 0, false
	}
	v := row[j.interval.timeCol(side)]
	if v.IsNull() {
		return 0, false
	}
	return v.I, true
}

// closeInterval deletes, on each side that can forget rows, the rows whose
// time fell below the side's bound since the last epoch: the time index
// says which, from the previous epoch's bound (the rows this epoch stored
// are at or above it) to the new one.
func (j *joinOp) closeInterval(ec *epochCtx) error {
	if j.interval == nil || ec.wms == nil {
		return nil
	}
	for side := 0; side < 2; side++ {
		if !j.interval.drop[side] {
			continue
		}
		now, ok := j.interval.bound(side, ec.wms)
		if !ok {
			continue
		}
		ip := j.indexPrefix(side)
		lo := ip
		if before, ok := j.interval.bound(side, ec.wmsBefore); ok {
			if before >= now {
				continue
			}
			lo = timeKey(append([]byte(nil), ip...), before)
		}
		hi := timeKey(append([]byte(nil), ip...), now)
		var dead [][]byte
		err := ec.store.Scan(lo, hi, false, func(k, _ []byte) (bool, error) {
			sk := make([]byte, 0, len(j.prefix)+1+len(k)-len(ip)-8)
			sk = append(append(append(sk, j.prefix...), byte(side)), k[len(ip)+8:]...)
			dead = append(dead, sk)
			return true, nil
		})
		if err != nil {
			return err
		}
		for _, k := range dead {
			if err := ec.store.Delete(k); err != nil {
				return err
			}
		}
		if len(dead) > 0 {
			if err := ec.store.DeleteRange(lo, hi); err != nil {
				return err
			}
		}
	}
	return nil
}
