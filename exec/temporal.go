package exec

import (
	"encoding/binary"
	"math"
	"strings"
	"time"

	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/storage"
	"github.com/kappa-db/kappa/types"
)

// TemporalBound is one conjunct of a temporal filter, `e op now() ± c`
// solved for now(): the row is valid while now < e + Offset (Until), or
// once now >= e + Offset (from).
type TemporalBound struct {
	Expr   expr.Expr // over the input row: a timestamptz, timestamp or date
	Until  bool
	Offset int64 // µs
}

func (b TemporalBound) String() string {
	op := ">="
	if b.Until {
		op = "<"
	}
	s := "now() " + op + " " + b.Expr.String()
	switch {
	case b.Offset > 0:
		s += " + " + time.Duration(b.Offset*1000).String()
	case b.Offset < 0:
		s += " - " + time.Duration(-b.Offset*1000).String()
	}
	return s
}

// TemporalFilter keeps the input rows whose bounds contain the epoch's
// wall-clock time (WHERE ts > now() - INTERVAL '1 hour' in a materialized
// view): a row enters the output when its time comes and leaves it when its
// time passes, evaluated at epoch boundaries. A NULL bound keeps the row
// out, as the comparison would.
type TemporalFilter struct {
	Input  Node
	Bounds []TemporalBound
}

func (n *TemporalFilter) Columns() []types.Type { return n.Input.Columns() }
func (*TemporalFilter) planNode()               {}

// String describes the bounds for EXPLAIN.
func (n *TemporalFilter) String() string {
	var bs []string
	for _, b := range n.Bounds {
		bs = append(bs, b.String())
	}
	return strings.Join(bs, " AND ")
}

// temporalOp maintains a TemporalFilter. Its state is a schedule: each row
// that will enter or leave the output later, under the time it does,
//
//	time (8 bytes, order-preserving) kind rowKey → multiplicity, row
//
// (kind 0: the row enters, 1: it leaves). A delta row valid now is emitted
// at once and scheduled to leave at its upper bound; a row whose time has
// not come is scheduled to enter; a row already past is dropped. At the
// barrier the entries due by the epoch's time are emitted and deleted (an
// entering row rescheduled to leave), so a row's state is gone once it has
// left. A retraction computes the same times as its insertion, so it lands
// on the same entry and cancels it. next, the earliest entry's time, tells
// the runtime to run an epoch when nothing else arrives.
type temporalOp struct {
	spec   *TemporalFilter
	prefix []byte
	out    Batch
	next   int64 // the earliest scheduled time; math.MinInt64 when not known
	key    []byte
	val    []byte
}

const (
	temporalEnter = 0
	temporalLeave = 1
)

func newTemporalOp(spec *TemporalFilter, opID uint64) *temporalOp {
	return &temporalOp{spec: spec, prefix: storage.StatePrefix(opID), next: math.MinInt64}
}

// interval returns the wall-clock times [from, until) in which row is
// valid; ok is false when a bound is NULL.
func (o *temporalOp) interval(ec *epochCtx, row types.Row) (from, until int64, ok bool, err error) {
	from, until = math.MinInt64, math.MaxInt64
	for _, b := range o.spec.Bounds {
		v, err := b.Expr.Eval(ec.eval, row)
		if err != nil {
			return 0, 0, false, err
		}
		if v.IsNull() {
			return 0, 0, false, nil
		}
		t := v.I
		if v.K == types.KindDate {
			t *= types.USPerDay
		}
		t = satAdd(t, b.Offset)
		if b.Until {
			until = min(until, t)
		} else {
			from = max(from, t)
		}
	}
	return from, until, true, nil
}

func satAdd(a, b int64) int64 {
	s := a + b
	switch {
	case b > 0 && s < a:
		return math.MaxInt64
	case b < 0 && s > a:
		return math.MinInt64
	}
	return s
}

func (o *temporalOp) apply(ec *epochCtx, _ int, in *Batch) (*Batch, error) {
	o.out.Reset()
	now := ec.eval.Now
	for i, r := range in.Rows {
		w := in.W[i]
		from, until, ok, err := o.interval(ec, r)
		if err != nil {
			if err := ec.rowError(err, w); err != nil {
				return nil, err
			}
			continue
		}
		if !ok || from >= until || until <= now {
			continue
		}
		if ec.ephemeral {
			if from <= now {
				o.out.Add(r, w)
			}
			continue
		}
		if from > now {
			if err := o.schedule(ec, from, temporalEnter, r, w); err != nil {
				return nil, err
			}
			continue
		}
		o.out.Add(r, w)
		if until != math.MaxInt64 {
			if err := o.schedule(ec, until, temporalLeave, r, w); err != nil {
				return nil, err
			}
		}
	}
	return &o.out, nil
}

func (o *temporalOp) timeKey(dst []byte, t int64) []byte {
	dst = append(dst, o.prefix...)
	return binary.BigEndian.AppendUint64(dst, uint64(t)^(1<<63))
}

// schedule adds w to the entry of row at time t.
func (o *temporalOp) schedule(ec *epochCtx, t int64, kind byte, row types.Row, w int64) error {
	k := append(o.timeKey(o.key[:0], t), kind)
	for _, v := range row {
		k = types.AppendKey(k, v, false)
	}
	o.key = k
	var err error
	o.val, err = addStoredRow(ec, k, row, w, o.val, "temporal filter")
	return err
}

func (o *temporalOp) flush(ec *epochCtx, emit func(*Batch) error) error {
	if ec.ephemeral {
		return nil
	}
	now := ec.eval.Now
	type due struct {
		key  []byte
		kind byte
		cnt  int64
		row  types.Row
	}
	var dues []due
	hi := o.timeKey(nil, satAdd(now, 1))
	err := ec.store.Scan(o.prefix, hi, false, func(key, val []byte) (bool, error) {
		cnt, row, err := DecodeStoredRow(val, nil)
		if err != nil {
			return false, err
		}
		dues = append(dues, due{key: append([]byte(nil), key...), kind: key[len(o.prefix)+8], cnt: cnt, row: row})
		return true, nil
	})
	if err != nil {
		return err
	}
	out := &Batch{}
	for _, d := range dues {
		if err := ec.store.Delete(d.key); err != nil {
			return err
		}
		if d.kind == temporalLeave {
			out.Add(d.row, -d.cnt)
			continue
		}
		_, until, ok, err := o.interval(ec, d.row)
		if err != nil || !ok {
			// It evaluated when it was scheduled; the expressions are
			// deterministic.
			return pgerr.New(pgerr.InternalError, "temporal filter: a scheduled row's bounds no longer evaluate")
		}
		if until <= now {
			continue
		}
		out.Add(d.row, d.cnt)
		if until != math.MaxInt64 {
			if err := o.schedule(ec, until, temporalLeave, d.row, d.cnt); err != nil {
				return err
			}
		}
	}
	// The earliest entry left (the ones apply added are later than now).
	o.next = math.MaxInt64
	err = ec.store.Scan(o.prefix, storage.PrefixEnd(o.prefix), false, func(key, _ []byte) (bool, error) {
		o.next = int64(binary.BigEndian.Uint64(key[len(o.prefix):]) ^ (1 << 63))
		return false, nil
	})
	if err != nil {
		return err
	}
	if out.Len() == 0 {
		return nil
	}
	out.Consolidate()
	return emit(out)
}

func (o *temporalOp) reset() { o.out.Reset() }
