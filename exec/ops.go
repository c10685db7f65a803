package exec

import (
	"context"
	"strconv"
	"unsafe"

	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/storage"
	"github.com/kappa-db/kappa/types"
)

// epochCtx is what operators see while processing one epoch.
type epochCtx struct {
	// ctx, for an ad hoc query, is the statement's: cancel stops it.
	ctx   context.Context
	eval  *expr.EvalContext
	store *storage.Batch
	// ephemeral operators (ad hoc queries) keep state in memory only and
	// may assume every input weight is positive.
	ephemeral bool
	// errs collects data errors (a division by zero in one row) with the
	// weight of the row that raised them. Errors are data: a retracted row
	// retracts its error, and a view is in an error state exactly while some
	// error's count is non-zero.
	errs map[string]int64
	// held estimates the bytes an ad hoc query holds in memory (join
	// inputs, groups, rows to sort); past maxHeld the query fails instead
	// of taking the server down.
	held    int64
	maxHeld int64
	// wms are the dataflow's input watermarks at the end of the epoch,
	// set while its operators flush (nil in ad hoc queries), and as they
	// were at the epoch's start (as committed: a rerun epoch closes the
	// same windows again).
	wms, wmsBefore map[uint64]int64
}

// DefaultQueryMemory bounds the memory one ad hoc query may hold when its
// EvalContext does not say (expr.EvalContext.QueryMemory).
const DefaultQueryMemory = 1 << 30

// valueSize is the in-memory size of a types.Value.
const valueSize = int64(unsafe.Sizeof(types.Value{}))

// rowBytes estimates the memory row holds: its slice, its values and what
// they point to.
func rowBytes(row types.Row) int64 {
	n := 24 + valueSize*int64(len(row))
	for i := range row {
		v := &row[i]
		n += int64(len(v.S))
		if v.D != nil {
			n += 48
		}
		if v.Arr != nil {
			n += rowBytes(v.Arr)
		}
	}
	return n
}

// hold accounts for n more bytes held in memory by an ad hoc query.
func (ec *epochCtx) hold(n int64) error {
	ec.held += n
	if ec.maxHeld > 0 && ec.held > ec.maxHeld {
		return pgerr.New(pgerr.OutOfMemory, "query needs more than %s of memory", FormatBytes(ec.maxHeld)).
			WithHint("Add a WHERE clause or a join condition that narrows it, raise query_memory, or create a materialized view for it.")
	}
	return nil
}

// holdRow accounts for row, kept with bookkeeping of extra bytes.
func (ec *epochCtx) holdRow(row types.Row, extra int64) error {
	return ec.hold(rowBytes(row) + extra)
}

// holdBatch accounts for the rows of b, kept in another batch.
func (ec *epochCtx) holdBatch(b *Batch) error {
	n := int64(0)
	for _, r := range b.Rows {
		n += rowBytes(r) + 8 // its weight
	}
	return ec.hold(n)
}

// FormatBytes prints n as PostgreSQL prints a memory setting: in the
// largest unit (kB, MB, GB, TB) that divides it, else in bytes.
func FormatBytes(n int64) string {
	units := []struct {
		name string
		size int64
	}{{"TB", 1 << 40}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"kB", 1 << 10}}
	for _, u := range units {
		if n >= u.size && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

// rowError handles an error raised while evaluating a row of weight w: a
// data error in a dataflow is counted and the row dropped; anything else
// (and every error of an ad hoc query) fails the caller.
func (ec *epochCtx) rowError(err error, w int64) error {
	if ec.ephemeral {
		return err
	}
	pe, ok := err.(*pgerr.Error)
	if !ok || len(pe.Code) != 5 || (pe.Code[:2] != "22" && pe.Code[:2] != "21") {
		return err
	}
	if ec.errs == nil {
		ec.errs = map[string]int64{}
	}
	ec.errs[pe.Code+"\x00"+pe.Message] += w
	return nil
}

// operator is one incremental operator of a pipeline. apply consumes a delta
// and returns the delta of its output; flush is called at the barrier and
// returns what the operator held back until then (aggregates emit per epoch,
// not per row). reset clears per-epoch memory before an epoch (re)starts.
type operator interface {
	// apply consumes a delta on input side (0, or 1 for a join's right).
	apply(ec *epochCtx, side int, in *Batch) (*Batch, error)
	// flush is called at the barrier; it hands what the operator held back
	// to emit, in as many batches as it likes.
	flush(ec *epochCtx, emit func(*Batch) error) error
	reset()
}

type filterOp struct {
	pred expr.Expr
	out  Batch
}

func (f *filterOp) apply(ec *epochCtx, _ int, in *Batch) (*Batch, error) {
	f.out.Reset()
	for i, r := range in.Rows {
		v, err := f.pred.Eval(ec.eval, r)
		if err != nil {
			if err := ec.rowError(err, in.W[i]); err != nil {
				return nil, err
			}
			continue
		}
		if v.Bool() {
			f.out.Add(r, in.W[i])
		}
	}
	return &f.out, nil
}
func (f *filterOp) flush(*epochCtx, func(*Batch) error) error { return nil }
func (f *filterOp) reset()                                    { f.out.Reset() }

type projectOp struct {
	exprs []expr.Expr
	out   Batch
	// cols, when every expression is a column reference, are their
	// columns; empty (not nil) once known not to be.
	cols []int
	// reuse says the parent keeps no output row past its apply (an
	// aggregate), so vals backs every batch's rows.
	reuse bool
	vals  []types.Value
}

// colRefIndexes returns the columns of exprs when each is a column
// reference, else an empty non-nil slice.
func colRefIndexes(exprs []expr.Expr) []int {
	cols := make([]int, 0, len(exprs))
	for _, e := range exprs {
		c, ok := e.(*expr.ColRef)
		if !ok {
			return []int{}
		}
		cols = append(cols, c.Idx)
	}
	return cols
}

func (p *projectOp) apply(ec *epochCtx, _ int, in *Batch) (*Batch, error) {
	p.out.Reset()
	// One backing array for the whole batch's output rows, kept from batch
	// to batch when the parent does not keep rows.
	var vals []types.Value
	if need := len(in.Rows) * len(p.exprs); p.reuse && cap(p.vals) >= need {
		vals = p.vals[:need]
	} else {
		vals = make([]types.Value, need)
		if p.reuse {
			p.vals = vals
		}
	}
	if p.cols == nil {
		p.cols = colRefIndexes(p.exprs)
	}
	if len(p.cols) > 0 {
		// Only column references: copy the values, no evaluation.
		n := len(p.cols)
		for i, r := range in.Rows {
			row := types.Row(vals[i*n : (i+1)*n : (i+1)*n])
			for j, c := range p.cols {
				row[j] = r[c]
			}
			p.out.Add(row, in.W[i])
		}
		return &p.out, nil
	}
rows:
	for i, r := range in.Rows {
		row := types.Row(vals[i*len(p.exprs) : (i+1)*len(p.exprs) : (i+1)*len(p.exprs)])
		for j, e := range p.exprs {
			v, err := e.Eval(ec.eval, r)
			if err != nil {
				if err := ec.rowError(err, in.W[i]); err != nil {
					return nil, err
				}
				continue rows
			}
			row[j] = v
		}
		p.out.Add(row, in.W[i])
	}
	return &p.out, nil
}
func (p *projectOp) flush(*epochCtx, func(*Batch) error) error { return nil }
func (p *projectOp) reset()                                    { p.out.Reset() }
