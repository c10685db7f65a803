package exec

import (
	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/types"
)

// leafUse says what the operators above a leaf need of its rows: need[i]
// says that column i is read (nil: every column), and private that no
// operator keeps the leaf's rows once a push returns (the leaf is under
// Filters and then a Project or a TUMBLE/HOP, which make new rows), so
// their memory can be reused for the next chunk.
func leafUse(leaf *node, ncols int) (need []bool, private bool) {
	need = make([]bool, ncols)
	for v := leaf; ; {
		p := v.parent
		if p == nil {
			return nil, false
		}
		switch op := p.op.(type) {
		case *filterOp:
			if !exprCols(op.pred, need) {
				return nil, false
			}
			v = p
		case *projectOp:
			for _, e := range op.exprs {
				if !exprCols(e, need) {
					return nil, false
				}
			}
			return need, true
		case *timeWindowOp:
			// TUMBLE or HOP copies the values it keeps into rows of its
			// own: the kept columns (all without a projection) and the
			// time.
			if op.keep == nil {
				return nil, true
			}
			need[op.spec.TimeCol] = true
			for _, c := range op.keep {
				if c < len(need) {
					need[c] = true
				}
			}
			return need, true
		default:
			return nil, false
		}
	}
}

// exprCols marks in need the columns e reads; false when e holds an
// expression it does not know (which might read any column).
func exprCols(e expr.Expr, need []bool) bool {
	switch x := e.(type) {
	case nil:
		return true
	case *expr.ColRef:
		if x.Idx < 0 || x.Idx >= len(need) {
			return false
		}
		need[x.Idx] = true
		return true
	case *expr.Const, *expr.Param:
		return true
	}
	kids, ok := exprKids(e)
	if !ok {
		return false
	}
	for _, k := range kids {
		if !exprCols(k, need) {
			return false
		}
	}
	return true
}

// exprKids returns the operands of e, an expression made of others; false
// when e is of a kind it does not know (which might read anything). Leaves
// (columns, constants, parameters) are the callers' to handle.
func exprKids(e expr.Expr) ([]expr.Expr, bool) {
	switch x := e.(type) {
	case *expr.Call:
		return x.Args, true
	case *expr.And:
		return x.Args, true
	case *expr.Or:
		return x.Args, true
	case *expr.Not:
		return []expr.Expr{x.Arg}, true
	case *expr.IsNull:
		return []expr.Expr{x.Arg}, true
	case *expr.IsBool:
		return []expr.Expr{x.Arg}, true
	case *expr.IsDistinct:
		return []expr.Expr{x.L, x.R}, true
	case *expr.Case:
		var kids []expr.Expr
		for _, w := range x.Whens {
			kids = append(kids, w.Cond, w.Then)
		}
		if x.Else != nil {
			kids = append(kids, x.Else)
		}
		return kids, true
	case *expr.Coalesce:
		return x.Args, true
	case *expr.NullIf:
		return []expr.Expr{x.L, x.R}, true
	case *expr.Greatest:
		return x.Args, true
	case *expr.InList:
		return append([]expr.Expr{x.Arg}, x.List...), true
	case *expr.ScalarArrayOp:
		return []expr.Expr{x.Arg, x.Array}, true
	case *expr.Cast:
		return []expr.Expr{x.Arg}, true
	}
	return nil, false
}

// rowSlab hands out the rows a source decodes for one chunk. When the
// source's rows are private to the operators (leafUse), they are carved
// from one reused array instead of allocated one by one; need, when set,
// lets the decoder skip the columns nobody reads.
type rowSlab struct {
	need    []bool
	private bool
	ncols   int
	vals    []Value
	used    int // rows handed out since the last push

	// at, when set, fuses the projection above the source's one leaf into
	// the scan: a record's column i is decoded straight into position
	// at[i] of a row of ncols (the projection's width), dups copies
	// positions that repeat a column, and the rows are pushed from the
	// projection (proj) rather than the leaf. Set only where the
	// projection's parent keeps no row (projectOp.reuse), so the rows can
	// come from the slab. A chunk decoded this way is a batch of the
	// projection's output, not of the scan's.
	at   []int
	dups [][2]int // {from, to}
	proj *node
}

// decode decodes one change record into a row of the slab (dst, nil to
// allocate one), projected when the slab fuses a projection.
func (r *rowSlab) decode(rec []byte, dst types.Row) (w int64, rowID uint64, row types.Row, err error) {
	if r.at == nil {
		return decodeChangeNeeded(rec, dst, r.need)
	}
	w, rowID, enc, err := splitChange(rec)
	if err != nil {
		return 0, 0, nil, err
	}
	if dst == nil {
		dst = make(types.Row, r.ncols)
	}
	dst = dst[:r.ncols]
	if err := types.DecodeRowInto(enc, dst, r.at); err != nil {
		return 0, 0, nil, err
	}
	for _, d := range r.dups {
		dst[d[1]] = dst[d[0]]
	}
	return w, rowID, dst, nil
}

// pushFrom is where the rows that decode made enter the graph: the leaves,
// or the fused projection.
func (s *source) pushFrom() []*node {
	if s.slab != nil && s.slab.proj != nil {
		return []*node{s.slab.proj}
	}
	return s.leaves
}

// fuseProjection sets r up to decode source s's records straight into the
// rows of the projection above its leaf, when that is all the leaf's rows
// go through: one leaf, a log (not a feed) without a watermark (admit reads
// the scan's columns), directly under a projection of column references
// whose parent keeps no row. It saves the projection's copy of every
// row (serverbench ingest: a GROUP BY view over a table).
func (r *rowSlab) fuseProjection(s *source) {
	if len(s.leaves) != 1 || s.log == nil || s.feed != nil || s.wm != nil || !r.private || r.ncols == 0 {
		return
	}
	p := s.leaves[0].parent
	if p == nil {
		return
	}
	op, ok := p.op.(*projectOp)
	if !ok || !op.reuse {
		return
	}
	cols := colRefIndexes(op.exprs)
	if len(cols) == 0 {
		return
	}
	at := make([]int, r.ncols)
	for i := range at {
		at[i] = -1
	}
	var dups [][2]int
	for j, c := range cols {
		if c < 0 || c >= r.ncols {
			return
		}
		if at[c] >= 0 {
			dups = append(dups, [2]int{at[c], j})
			continue
		}
		at[c] = j
	}
	r.at, r.dups, r.proj, r.ncols, r.vals = at, dups, p, len(cols), nil
}

// Value is types.Value, named here to keep rowSlab short.
type Value = types.Value

// next returns an empty row of ncols values for the next record.
func (r *rowSlab) next() types.Row {
	if r.vals == nil {
		r.vals = make([]Value, readChunk*r.ncols)
	}
	if (r.used+1)*r.ncols > len(r.vals) {
		return nil // more rows than a chunk holds: allocate
	}
	row := r.vals[r.used*r.ncols : r.used*r.ncols : (r.used+1)*r.ncols]
	r.used++
	return row
}

// rowUse works out (once) how the source's rows are used by its leaves.
func (s *source) rowUse(table bool) *rowSlab {
	if s.slab != nil || table || len(s.leaves) == 0 {
		if s.slab == nil {
			s.slab = &rowSlab{}
		}
		return s.slab
	}
	sc, _ := s.leaves[0].plan.(*Scan)
	r := &rowSlab{private: sc != nil}
	if sc != nil {
		r.ncols = len(sc.Types)
		r.need = make([]bool, r.ncols)
	}
	for _, l := range s.leaves {
		need, private := leafUse(l, r.ncols)
		r.private = r.private && private && r.ncols > 0
		if need == nil {
			r.need = nil
		}
		for i, n := range need {
			if r.need != nil && n {
				r.need[i] = true
			}
		}
	}
	if s.wm != nil && r.need != nil {
		r.need[s.wm.Col] = true // admit reads it
	}
	r.fuseProjection(s)
	s.slab = r
	return r
}

// decodeChangeNeeded is DecodeChange that skips the columns need says are
// not read (need nil: decode all).
func decodeChangeNeeded(rec []byte, row types.Row, need []bool) (w int64, rowID uint64, out types.Row, err error) {
	if need == nil {
		return DecodeChange(rec, row)
	}
	w, rowID, enc, err := splitChange(rec)
	if err != nil {
		return 0, 0, nil, err
	}
	out, _, err = types.DecodeRowNeeded(enc, row, need)
	return w, rowID, out, err
}
