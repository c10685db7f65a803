package exec

import (
	"context"

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
	// rows counts the rows an ad hoc query holds in memory (join inputs,
	// groups, rows to sort); past maxRows the query fails instead of
	// taking the server down.
	rows    int64
	maxRows int64
	// wms are the dataflow's input watermarks at the end of the epoch,
	// set while its operators flush (nil in ad hoc queries), and as they
	// were at the epoch's start (as committed: a rerun epoch closes the
	// same windows again).
	wms, wmsBefore map[uint64]int64
}

// DefaultMaxQueryRows bounds the rows one ad hoc query may hold in memory.
const DefaultMaxQueryRows = 5_000_000

// hold accounts for n more rows held in memory by an ad hoc query.
func (ec *epochCtx) hold(n int) error {
	ec.rows += int64(n)
	if ec.maxRows > 0 && ec.rows > ec.maxRows {
		return pgerr.New(pgerr.OutOfMemory, "query needs to hold more than %d rows in memory", ec.maxRows).
			WithHint("Add a WHERE clause or a join condition that narrows it, or create a materialized view for it.")
	}
	return nil
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
