package exec

import (
	"encoding/binary"

	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/storage"
	"github.com/kappa-db/kappa/types"
)

// unionOp is UNION ALL: a delta on either input is a delta of the output.
type unionOp struct{}

func (unionOp) apply(_ *epochCtx, _ int, in *Batch) (*Batch, error) { return in, nil }
func (unionOp) flush(*epochCtx, func(*Batch) error) error           { return nil }
func (unionOp) reset()                                              {}

// setOp is INTERSECT / EXCEPT [ALL]. Its state is, per distinct row, the
// row's multiplicity in each input:
//
//	rowKey → left count, right count, row
//
// At the barrier it emits, for every row the epoch touched, the change of
// the row's output multiplicity.
type setOp struct {
	spec    *SetOp
	prefix  []byte
	touched map[string]*setEntry
	order   []*setEntry
}

type setEntry struct {
	key         string
	row         types.Row
	oldL, oldR  int64
	left, right int64
}

func newSetOp(spec *SetOp, opID uint64) *setOp {
	return &setOp{spec: spec, prefix: storage.StatePrefix(opID), touched: map[string]*setEntry{}}
}

func (s *setOp) reset() {
	clear(s.touched)
	s.order = s.order[:0]
}

func (s *setOp) multiplicity(l, r int64) int64 {
	switch {
	case s.spec.Kind == SetIntersect && s.spec.All:
		return max(min(l, r), 0)
	case s.spec.Kind == SetIntersect:
		if l > 0 && r > 0 {
			return 1
		}
	case s.spec.All:
		return max(l-r, 0)
	default:
		if l > 0 && r <= 0 {
			return 1
		}
	}
	return 0
}

func (s *setOp) apply(ec *epochCtx, side int, in *Batch) (*Batch, error) {
	var key []byte
	for i, row := range in.Rows {
		key = key[:0]
		for _, v := range row {
			key = types.AppendKey(key, v, false)
		}
		e, ok := s.touched[string(key)]
		if !ok {
			e = &setEntry{key: string(key), row: row}
			if ec.ephemeral {
				if err := ec.holdRow(row, 2*int64(len(key))+64); err != nil {
					return nil, err
				}
			} else {
				val, found, err := ec.store.Get(append(append([]byte(nil), s.prefix...), key...))
				if err != nil {
					return nil, err
				}
				if found {
					if err := decodeSetEntry(val, e); err != nil {
						return nil, err
					}
				}
			}
			s.touched[e.key] = e
			s.order = append(s.order, e)
		}
		if side == 0 {
			e.left += in.W[i]
		} else {
			e.right += in.W[i]
		}
	}
	return nil, nil
}

func (s *setOp) flush(ec *epochCtx, emit func(*Batch) error) error {
	out := &Batch{}
	for _, e := range s.order {
		if e.left < 0 || e.right < 0 {
			return pgerr.New(pgerr.InternalError, "set operation: a row's count went negative")
		}
		if d := s.multiplicity(e.left, e.right) - s.multiplicity(e.oldL, e.oldR); d != 0 {
			out.Add(e.row, d)
		}
		if ec.ephemeral {
			continue
		}
		k := append(append([]byte(nil), s.prefix...), e.key...)
		var err error
		if e.left == 0 && e.right == 0 {
			err = ec.store.Delete(k)
		} else {
			v := binary.AppendVarint(nil, e.left)
			v = binary.AppendVarint(v, e.right)
			err = ec.store.Set(k, types.AppendRow(v, e.row))
		}
		if err != nil {
			return err
		}
	}
	s.reset()
	return emit(out)
}

func decodeSetEntry(val []byte, e *setEntry) error {
	var n int
	if e.left, n = binary.Varint(val); n <= 0 {
		return pgerr.New(pgerr.DataCorrupted, "corrupt set operation state")
	}
	val = val[n:]
	if e.right, n = binary.Varint(val); n <= 0 {
		return pgerr.New(pgerr.DataCorrupted, "corrupt set operation state")
	}
	row, _, err := types.DecodeRow(val[n:], nil)
	e.row, e.oldL, e.oldR = row, e.left, e.right
	return err
}
