package exec

import (
	"context"

	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/storage"
	"github.com/kappa-db/kappa/types"
)

// Prepared is an ad hoc plan made ready to run many times: a prepared
// statement's. A plan that is one Scan under Filters and Projects
// (optionally under a LIMIT without ORDER BY) — a point or prefix lookup —
// runs row at a time through the same expressions the operators would
// evaluate, with its buffers kept from run to run, so a point query builds
// no operator graph and allocates next to nothing. Any other plan runs
// through Query.
//
// A Prepared is used by one goroutine at a time.
type Prepared struct {
	plan Node

	// The row-at-a-time pipeline, nil when the plan is not one.
	scan  *Scan
	steps []step // bottom up
	limit *Limit
	// subPlans says some step evaluates a SubPlan, which needs the query's
	// snapshot in its EvalContext.
	subPlans bool

	key   []byte
	upper []byte
	row   types.Row
	bufs  []types.Row // one output row per Project step

	// run is the state of the running Run; getFn and scanFn are its
	// callbacks, made once so that passing them allocates nothing.
	run    runState
	getFn  func(val []byte) error
	scanFn func(key, val []byte) (bool, error)
}

type runState struct {
	ctx                             context.Context
	eval                            *expr.EvalContext
	fn                              func(types.Row) error
	limit, offset, skipped, emitted int64
	seen                            int
}

// step is a Filter (pred) or a Project (exprs) of the pipeline.
type step struct {
	pred  expr.Expr
	exprs []expr.Expr
}

// Prepare returns plan made ready to Run.
func Prepare(plan Node) *Prepared {
	p := &Prepared{plan: plan}
	p.getFn = p.storedRow
	p.scanFn = func(_, val []byte) (bool, error) {
		if err := p.storedRow(val); err != nil {
			return false, err
		}
		return true, nil
	}
	n := plan
	var limit *Limit
	if l, ok := n.(*Limit); ok {
		limit, n = l, l.Input
	}
	var steps []step
	for {
		switch x := n.(type) {
		case *Filter:
			steps = append(steps, step{pred: x.Pred})
			n = x.Input
			continue
		case *Project:
			steps = append(steps, step{exprs: x.Exprs})
			n = x.Input
			continue
		case *Scan:
			if x.Kind == ScanSource {
				// A source has no stored rows: Query reads its feed.
				return p
			}
			p.scan, p.limit = x, limit
			for i := len(steps) - 1; i >= 0; i-- {
				p.subPlans = p.subPlans || exprHasSubPlan(steps[i].pred)
				for _, e := range steps[i].exprs {
					p.subPlans = p.subPlans || exprHasSubPlan(e)
				}
				p.steps = append(p.steps, steps[i])
				if steps[i].exprs != nil {
					p.bufs = append(p.bufs, make(types.Row, len(steps[i].exprs)))
				}
			}
		}
		return p
	}
}

// Plan is the plan Prepare was given.
func (p *Prepared) Plan() Node { return p.plan }

// Run runs the plan over r like Query, with one difference: the row handed
// to fn is valid only during fn (the pipeline reuses it).
func (p *Prepared) Run(ctx context.Context, r storage.Reader, eval *expr.EvalContext, fn func(types.Row) error) error {
	if p.scan == nil {
		return Query(ctx, p.plan, r, eval, fn)
	}
	var limit, offset int64 = -1, 0
	if l := p.limit; l != nil {
		var err error
		if limit, err = evalCount(eval, l.Limit, "LIMIT", -1); err != nil {
			return err
		}
		if offset, err = evalCount(eval, l.Offset, "OFFSET", 0); err != nil {
			return err
		}
		if limit == 0 {
			return nil
		}
	}
	if _, ok := eval.Query.(*queryEnv); p.subPlans && !ok {
		ev := *eval
		ev.Query = &queryEnv{ctx: ctx, r: r, memo: map[*SubPlan]types.Value{}}
		eval = &ev
	}
	s := p.scan
	key := storage.AppendRelationPrefix(p.key[:0], s.Rel)
	for _, e := range s.KeyPrefix {
		v, err := e.Eval(eval, nil)
		if err != nil {
			return err
		}
		key = types.AppendKey(key, v, false)
	}
	p.key = key
	p.run = runState{ctx: ctx, eval: eval, fn: fn, limit: limit, offset: offset}
	var err error
	if s.PointGet {
		err = r.GetFunc(key, p.getFn)
	} else {
		p.upper = storage.AppendPrefixEnd(p.upper[:0], key)
		err = r.Scan(key, p.upper, false, p.scanFn)
	}
	p.run = runState{}
	clear(p.row)
	for _, b := range p.bufs {
		clear(b)
	}
	if err == errStop {
		return nil
	}
	return err
}

// storedRow runs one stored row through the steps and hands it to fn as
// many times as it is stored; it returns errStop once LIMIT is reached.
func (p *Prepared) storedRow(val []byte) error {
	if isPage(val) {
		return forPageRows(val, p.pageRow)
	}
	cnt, row, err := DecodeStoredRow(val, p.row)
	if err != nil {
		return err
	}
	p.row = row
	return p.pipe(cnt, row)
}

func (p *Prepared) pageRow(_ uint64, enc []byte) error {
	row, _, err := types.DecodeRow(enc, p.row)
	if err != nil {
		return err
	}
	p.row = row
	return p.pipe(1, row)
}

// pipe runs a row through the steps and hands it to fn cnt times.
func (p *Prepared) pipe(cnt int64, row types.Row) error {
	rs := &p.run
	if rs.seen++; rs.seen&1023 == 0 && rs.ctx.Err() != nil {
		return pgerr.New(pgerr.QueryCanceled, "canceling statement due to user request")
	}
	b := 0
	for _, st := range p.steps {
		if st.pred != nil {
			v, err := st.pred.Eval(rs.eval, row)
			if err != nil {
				return err
			}
			if !v.Bool() {
				return nil
			}
			continue
		}
		out := p.bufs[b]
		b++
		for j, e := range st.exprs {
			v, err := e.Eval(rs.eval, row)
			if err != nil {
				return err
			}
			out[j] = v
		}
		row = out
	}
	if cnt < 0 {
		return pgerr.New(pgerr.InternalError, "ad hoc query produced a retraction")
	}
	for ; cnt > 0; cnt-- {
		if rs.skipped < rs.offset {
			rs.skipped++
			continue
		}
		if err := rs.fn(row); err != nil {
			return err
		}
		rs.emitted++
		if rs.limit >= 0 && rs.emitted >= rs.limit {
			return errStop
		}
	}
	return nil
}
