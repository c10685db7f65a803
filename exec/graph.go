package exec

import (
	"math"
	"slices"

	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/types"
)

// node is one vertex of a dataflow's operator tree. Leaves are sources (a
// Scan or Values of the plan); inner nodes hold an operator. Data flows from
// the leaves to the root, whose output goes to the sink.
type node struct {
	op     operator // nil for a leaf
	plan   Node
	parent *node
	side   int // which input of parent this node feeds: 0 or 1
	// taps are further consumers of this node's output: the nodes of
	// Aggregates that compute what this one computes (SharedAggregates),
	// each with no input and no operator of its own.
	taps []*node
	// tapCols, on a tap, maps its output columns to the columns of the
	// node it taps (nil: the same columns, or a parent projection that
	// reads them in place).
	tapCols []int
}

// graph is an instantiated plan.
type graph struct {
	root   *node
	leaves []*node // in plan order (left before right)
	// order lists the inner nodes children-first, the order in which
	// operators are flushed at a barrier.
	order []*node
	aggs  []*aggOp
	// temporal are the temporal filters, whose schedules need epochs when
	// no input arrives.
	temporal []*temporalOp
}

// wakeAt is the earliest wall-clock time at which a temporal filter of the
// graph has rows to emit or retract (math.MaxInt64 for none).
func (g *graph) wakeAt() int64 {
	t := int64(math.MaxInt64)
	for _, op := range g.temporal {
		t = min(t, op.next)
	}
	return t
}

// buildGraph instantiates plan. State ids of stateful operators are
// id<<8 | position, so they are stable across restarts of the same plan.
func buildGraph(plan Node, id uint64) (*graph, error) {
	g := &graph{}
	// Operators are numbered in pre-order, so every operator of the plan
	// gets its own state id, and the same plan gets the same ids.
	next := uint64(0)
	shares := SharedAggregates(plan)
	var aggNodes []*node // the plan's Aggregates in pre-order
	dropped := false
	var build func(n Node, parent *node, side int) error
	build = func(n Node, parent *node, side int) error {
		v := &node{plan: n, parent: parent, side: side}
		if parent == nil {
			g.root = v
		}
		if _, ok := n.(*Aggregate); ok && !dropped {
			k := len(aggNodes)
			aggNodes = append(aggNodes, v)
			if sh := shares[k]; sh.Of >= 0 {
				return g.tap(v, aggNodes[sh.Of], sh.Cols, func() error {
					dropped = true // this Aggregate's own node, built to be dropped
					return build(n, parent, side)
				})
			}
		}
		dropped = false
		switch n.(type) {
		case *Scan, *Values:
			g.leaves = append(g.leaves, v)
			return nil
		}
		opID := id<<8 | next
		next++
		if next > 254 {
			return pgerr.New(pgerr.ProgramLimitExceeded, "a dataflow may have at most 254 operators")
		}
		switch x := n.(type) {
		case *Filter:
			v.op = &filterOp{pred: x.Pred}
			if err := build(x.Input, v, 0); err != nil {
				return err
			}
		case *Project:
			if tw, ok := x.Input.(*TimeWindow); ok {
				if cols := colRefIndexes(x.Exprs); len(cols) > 0 {
					// TUMBLE or HOP under a projection of its columns: one
					// operator makes the projected window rows, without
					// copying the rest. The TimeWindow keeps its operator
					// number, so that the ids after it do not move.
					op := &timeWindowOp{spec: tw, keep: cols}
					if parent != nil {
						_, op.reuse = parent.op.(*aggOp)
					}
					v.op = op
					if next++; next > 254 {
						return pgerr.New(pgerr.ProgramLimitExceeded, "a dataflow may have at most 254 operators")
					}
					return build(tw.Input, v, 0)
				}
			}
			op := &projectOp{exprs: x.Exprs}
			if parent != nil {
				// An aggregate copies the values it keeps: the
				// projection's output rows can reuse one array.
				_, op.reuse = parent.op.(*aggOp)
			}
			v.op = op
			if err := build(x.Input, v, 0); err != nil {
				return err
			}
		case *TimeWindow:
			op := &timeWindowOp{spec: x}
			if parent != nil {
				// A projection copies the values it keeps: the windows'
				// rows can reuse one array.
				_, op.reuse = parent.op.(*projectOp)
			}
			v.op = op
			if err := build(x.Input, v, 0); err != nil {
				return err
			}
		case *ProjectSet:
			v.op = &projectSetOp{spec: x}
			if err := build(x.Input, v, 0); err != nil {
				return err
			}
		case *Aggregate:
			if x.Session {
				op, err := newSessionAggOp(x, opID)
				if err != nil {
					return err
				}
				v.op = op
				if err := build(op.sw.Input, v, 0); err != nil {
					return err
				}
				break
			}
			a, err := newAggOp(x, opID)
			if err != nil {
				return err
			}
			v.op = a
			g.aggs = append(g.aggs, a)
			if err := build(x.Input, v, 0); err != nil {
				return err
			}
		case *Join:
			j := newJoinOp(x, opID)
			if parent != nil {
				// A projection copies the values it keeps: the joined
				// rows can reuse their arrays.
				_, j.reuse = parent.op.(*projectOp)
			}
			v.op = j
			if err := build(x.Left, v, 0); err != nil {
				return err
			}
			if err := build(x.Right, v, 1); err != nil {
				return err
			}
		case *Union:
			v.op = unionOp{}
			if err := build(x.Left, v, 0); err != nil {
				return err
			}
			if err := build(x.Right, v, 1); err != nil {
				return err
			}
		case *Sort:
			// ORDER BY without LIMIT orders nothing inside a dataflow; only
			// the hidden sort columns go.
			if x.Keep > 0 {
				keep := make([]expr.Expr, x.Keep)
				for i, t := range x.Columns() {
					keep[i] = &expr.ColRef{Idx: i, T: t}
				}
				v.op = &projectOp{exprs: keep}
			} else {
				v.op = unionOp{}
			}
			if err := build(x.Input, v, 0); err != nil {
				return err
			}
		case *Limit:
			limit, offset, err := constCounts(x)
			if err != nil {
				return err
			}
			in := x.Input
			var keys []SortKey
			keep := 0
			if s, ok := in.(*Sort); ok {
				keys, keep, in = s.Keys, s.Keep, s.Input
			} else {
				// LIMIT without ORDER BY: any rows will do; these are the
				// first in the order of their values.
				for i := range in.Columns() {
					keys = append(keys, SortKey{Col: i})
				}
			}
			v.op = newTopNOp(keys, limit, offset, keep, opID)
			if err := build(in, v, 0); err != nil {
				return err
			}
		case *Window:
			w, err := newWindowOp(x, opID)
			if err != nil {
				return err
			}
			v.op = w
			if err := build(x.Input, v, 0); err != nil {
				return err
			}
		case *TemporalFilter:
			op := newTemporalOp(x, opID)
			v.op = op
			g.temporal = append(g.temporal, op)
			if err := build(x.Input, v, 0); err != nil {
				return err
			}
		case *SessionWindow:
			v.op = newSessionOp(x, opID)
			if err := build(x.Input, v, 0); err != nil {
				return err
			}
		case *GroupTopN:
			v.op = newGroupTopNOp(x, opID)
			if err := build(x.Input, v, 0); err != nil {
				return err
			}
		case *SetOp:
			v.op = newSetOp(x, opID)
			if err := build(x.Left, v, 0); err != nil {
				return err
			}
			if err := build(x.Right, v, 1); err != nil {
				return err
			}
		default:
			return pgerr.New(pgerr.FeatureNotSupported, "%T is not supported in a dataflow yet", n)
		}
		g.order = append(g.order, v)
		return nil
	}
	if err := build(plan, nil, 0); err != nil {
		return nil, err
	}
	return g, nil
}

// tap makes v, the node of an Aggregate that computes what the one of node
// of computes (SharedAggregates), a consumer of of's output: its parent
// gets of's rows, with their columns in v's order. The subtree of v is
// still built, then dropped, so that the operators after it keep the state
// ids they have without the sharing (build numbers them in pre-order).
func (g *graph) tap(v, of *node, cols []int, buildOwn func() error) error {
	leaves, order, aggs, temporal := len(g.leaves), len(g.order), len(g.aggs), len(g.temporal)
	if err := buildOwn(); err != nil {
		return err
	}
	clear(g.leaves[leaves:])
	clear(g.order[order:])
	clear(g.aggs[aggs:])
	clear(g.temporal[temporal:])
	g.leaves, g.order, g.aggs, g.temporal = g.leaves[:leaves], g.order[:order], g.aggs[:aggs], g.temporal[:temporal]
	if !slices.Equal(cols, identity(len(cols))) {
		v.tapCols = cols
		if p, ok := v.parent.op.(*projectOp); ok {
			// A projection of columns reads them where they are.
			if refs := colRefIndexes(p.exprs); len(refs) == len(p.exprs) {
				exprs := make([]expr.Expr, len(refs))
				for i, c := range refs {
					exprs[i] = &expr.ColRef{Idx: cols[c], T: p.exprs[i].Type()}
				}
				p.exprs, v.tapCols = exprs, nil
			}
		}
	}
	of.taps = append(of.taps, v)
	return nil
}

func identity(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// tapped returns b with its columns in tap v's order.
func tapped(v *node, b *Batch) *Batch {
	if v.tapCols == nil {
		return b
	}
	out := &Batch{W: b.W}
	vals := make([]types.Value, len(b.Rows)*len(v.tapCols))
	out.Rows = make([]types.Row, len(b.Rows))
	for i, r := range b.Rows {
		row := vals[i*len(v.tapCols) : (i+1)*len(v.tapCols) : (i+1)*len(v.tapCols)]
		for j, c := range v.tapCols {
			row[j] = r[c]
		}
		out.Rows[i] = row
	}
	return out
}

// push sends b from node v up to the root and hands what comes out to out.
func (g *graph) push(ec *epochCtx, v *node, b *Batch, out func(*Batch) error) error {
	if ec.ctx != nil && ec.ctx.Err() != nil {
		return pgerr.New(pgerr.QueryCanceled, "canceling statement due to user request")
	}
	for v.parent != nil {
		if b == nil || b.Len() == 0 {
			return nil
		}
		for _, t := range v.taps {
			// Operators do not change the batches they are given: the
			// taps' parents and v's read the same one.
			if err := g.push(ec, t, tapped(t, b), out); err != nil {
				return err
			}
		}
		p := v.parent
		var err error
		if b, err = p.op.apply(ec, v.side, b); err != nil {
			return err
		}
		v = p
	}
	if b == nil || b.Len() == 0 {
		return nil
	}
	return out(b)
}

// flush flushes every operator, children first, pushing what each releases
// through the operators above it.
func (g *graph) flush(ec *epochCtx, out func(*Batch) error) error {
	for _, v := range g.order {
		err := v.op.flush(ec, func(b *Batch) error { return g.push(ec, v, b, out) })
		if err != nil {
			return err
		}
	}
	return nil
}

func (g *graph) reset() {
	for _, v := range g.order {
		v.op.reset()
	}
}

// committer is an operator that keeps in memory what an epoch committed
// (a cache of its stored state): committed is called after the epoch's
// writes commit, and reset before every attempt, so a retried epoch
// forgets what the failed attempt kept.
type committer interface{ committed() }

// committed tells the operators that the epoch committed.
func (g *graph) committed() {
	for _, v := range g.order {
		if c, ok := v.op.(committer); ok {
			c.committed()
		}
	}
}

// sources returns the distinct tables the graph's leaves scan, in order,
// except that those under a join's lookup side come first: an epoch reads
// its inputs in this order, and a row of a join's other side that comes
// after its partner is not stored (joinOp.applyLookup).
func (g *graph) sources() []uint64 {
	var out []uint64
	seen := map[uint64]bool{}
	for _, first := range []bool{true, false} {
		for _, l := range g.leaves {
			if s, ok := l.plan.(*Scan); ok && !seen[s.Rel] && underLookup(l) == first {
				seen[s.Rel] = true
				out = append(out, s.Rel)
			}
		}
	}
	return out
}

// underLookup reports whether leaf feeds a join's lookup side.
func underLookup(leaf *node) bool {
	for v := leaf; v.parent != nil; v = v.parent {
		if j, ok := v.parent.op.(*joinOp); ok && j.lookup >= 0 && j.lookup == v.side {
			return true
		}
	}
	return false
}

// constCounts evaluates a LIMIT/OFFSET inside a dataflow, which must be
// constant.
func constCounts(l *Limit) (limit, offset int64, err error) {
	ec := &expr.EvalContext{}
	for _, e := range []expr.Expr{l.Limit, l.Offset} {
		if e != nil && !expr.IsConst(e) {
			return 0, 0, pgerr.New(pgerr.FeatureNotSupported, "LIMIT and OFFSET inside a view or subquery must be constants")
		}
	}
	if limit, err = evalCount(ec, l.Limit, "LIMIT", -1); err != nil {
		return 0, 0, err
	}
	offset, err = evalCount(ec, l.Offset, "OFFSET", 0)
	return limit, offset, err
}
