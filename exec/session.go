package exec

import (
	"slices"

	"github.com/kappa-db/kappa/types"
)

// SessionWindow assigns each input row to its session and appends
// window_start and window_end (of TimeCol's type): within a partition (the
// rows with equal PartitionBy columns; one partition without them), a
// session is a maximal run of rows, in TimeCol order, whose consecutive
// times are less than Gap apart. window_start is the session's first time,
// window_end its last time plus Gap (Flink's session windows: each row
// opens [t, t + Gap), and overlapping windows merge). A NULL time gives
// NULL bounds.
type SessionWindow struct {
	Input       Node
	TimeCol     int
	PartitionBy []int
	Gap         int64 // µs, > 0
}

func (n *SessionWindow) Columns() []types.Type {
	t := n.Input.Columns()[n.TimeCol]
	return append(append([]types.Type(nil), n.Input.Columns()...), t, t)
}
func (*SessionWindow) planNode() {}

// sessionOp maintains a SessionWindow. Its state is every input row with
// a time, by partition and time (the window operators' layout,
// `partitioned`):
//
//	0x00 partKey 0x00 timeKey rowKey → multiplicity, row
//
// A change can only alter the sessions around the times it touches: an
// insert may extend a session or merge two, a delete may shrink or split
// one. At the barrier, for each changed time (in order), the operator
// reads the stored rows around it, outwards while the next time (stored,
// or changed in this epoch) is less than Gap away; those rows' sessions
// before and after the change are the only ones that differ, so it emits
// the old ones retracted and the new ones inserted. Rows with a NULL time
// pass through with NULL bounds and are not stored.
type sessionOp struct {
	spec *SessionWindow
	partitioned
	out Batch
}

func newSessionOp(spec *SessionWindow, opID uint64) *sessionOp {
	return &sessionOp{spec: spec, partitioned: newPartitioned(spec.PartitionBy, []SortKey{{Col: spec.TimeCol}}, opID)}
}

func (o *sessionOp) apply(ec *epochCtx, _ int, in *Batch) (*Batch, error) {
	o.out.Reset()
	var timed *Batch
	for i, r := range in.Rows {
		if !r[o.spec.TimeCol].IsNull() {
			if timed == nil {
				timed = &Batch{}
			}
			timed.Add(r, in.W[i])
			continue
		}
		row := make(types.Row, 0, len(r)+2)
		o.out.Add(append(append(row, r...), types.Null, types.Null), in.W[i])
	}
	if timed != nil {
		if err := o.add(ec, timed); err != nil {
			return nil, err
		}
	}
	return &o.out, nil
}

func (o *sessionOp) flush(ec *epochCtx, emit func(*Batch) error) error {
	defer o.partitioned.reset()
	for _, part := range o.order {
		delta := o.parts[part]
		out := &Batch{}
		if ec.ephemeral {
			rows, counts := o.sorted(delta)
			o.sessions(out, rows, counts, 1)
		} else {
			delta.Consolidate()
			if delta.Len() == 0 {
				continue
			}
			old, err := o.around(ec, part, delta)
			if err != nil {
				return err
			}
			cur, err := o.merge(ec, part, old, delta)
			if err != nil {
				return err
			}
			rows, counts := entryRows(old)
			o.sessions(out, rows, counts, -1)
			rows, counts = entryRows(cur)
			o.sessions(out, rows, counts, 1)
			out.Consolidate()
		}
		if err := emit(out); err != nil {
			return err
		}
	}
	return nil
}

func (o *sessionOp) reset() {
	o.partitioned.reset()
	o.out.Reset()
}

// sessions adds rows (sorted by time, each with its multiplicity) with
// their session bounds to out, with weight sign × multiplicity. Runs of
// rows from disjoint neighbourhoods may be concatenated: they are at least
// Gap apart, so no session spans two.
func (o *sessionOp) sessions(out *Batch, rows []types.Row, counts []int64, sign int64) {
	tc, gap := o.spec.TimeCol, o.spec.Gap
	for i := 0; i < len(rows); {
		j := i + 1
		for j < len(rows) && rows[j][tc].I-rows[j-1][tc].I < gap {
			j++
		}
		start, end := rows[i][tc], rows[j-1][tc]
		end.I += gap
		width := len(rows[i]) + 2
		vals := make([]types.Value, 0, (j-i)*width)
		for k := i; k < j; k++ {
			vals = append(append(vals, rows[k]...), start, end)
			out.Add(vals[len(vals)-width:len(vals):len(vals)], sign*counts[k])
		}
		i = j
	}
}

// around reads the stored rows of a partition whose sessions a delta may
// change, in order: for each changed time not yet covered, the stored rows
// reached from it going down and up while consecutive times (stored, or
// changed in this delta) are less than Gap apart.
func (o *sessionOp) around(ec *epochCtx, part string, delta *Batch) ([]entry, error) {
	tc, gap := o.spec.TimeCol, o.spec.Gap
	times := make([]int64, 0, delta.Len())
	for _, r := range delta.Rows {
		times = append(times, r[tc].I)
	}
	slices.Sort(times)
	base := o.partPrefix(part)
	timeKey := func(t int64) []byte {
		v := delta.Rows[0][tc]
		v.I = t
		return types.AppendKey(append(append([]byte(nil), base...), 0), v, false)
	}
	// Every time of the partition sorts below base 0x01 (a NULL's marker).
	end := append(append([]byte(nil), base...), 1)
	var es []entry
	for i := 0; i < len(times); {
		t := times[i]
		// Down from t: stored rows only (every changed time below t is in
		// an earlier neighbourhood, Gap or more below this one).
		lo := t
		var below []entry
		err := ec.store.Scan(base, timeKey(t), true, func(key, val []byte) (bool, error) {
			cnt, row, err := DecodeStoredRow(val, nil)
			if err != nil {
				return false, err
			}
			if lo-row[tc].I >= gap {
				return false, nil
			}
			lo = row[tc].I
			below = append(below, entry{key: append([]byte(nil), key...), cnt: cnt, row: row})
			return true, nil
		})
		if err != nil {
			return nil, err
		}
		for k := len(below) - 1; k >= 0; k-- {
			es = append(es, below[k])
		}
		// Up from t: stored rows and the changed times, merged.
		hi := t
		i++
		stop := false
		err = ec.store.Scan(timeKey(t), end, false, func(key, val []byte) (bool, error) {
			cnt, row, err := DecodeStoredRow(val, nil)
			if err != nil {
				return false, err
			}
			p := row[tc].I
			for ; i < len(times) && times[i] <= p; i++ {
				if times[i]-hi >= gap {
					stop = true
					return false, nil
				}
				hi = times[i]
			}
			if p-hi >= gap {
				return false, nil
			}
			hi = p
			es = append(es, entry{key: append([]byte(nil), key...), cnt: cnt, row: row})
			return true, nil
		})
		if err != nil {
			return nil, err
		}
		for ; !stop && i < len(times) && times[i]-hi < gap; i++ {
			hi = times[i]
		}
		// Skip the changed times this neighbourhood covered.
		for i < len(times) && times[i] <= hi {
			i++
		}
	}
	return es, nil
}
