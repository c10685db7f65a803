package exec

import (
	"context"
	"sort"

	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/storage"
	"github.com/kappa-db/kappa/types"
)

// errStop ends a scan early (LIMIT reached).
var errStop = pgerr.New(pgerr.SuccessfulCompletion, "stop")

// ScanRelation calls fn for every stored row of relation rel whose key starts
// with keyPrefix (encoded key columns), in key order. key is the row's key
// after the relation prefix and is valid only during fn.
//
// A page of a table without a primary key (pages.go) is read as its rows.
func ScanRelation(r storage.Reader, rel uint64, keyPrefix []byte, fn func(key []byte, count int64, row types.Row) error) error {
	p := append(storage.RelationPrefix(rel), keyPrefix...)
	upper := storage.PrefixEnd(p)
	relLen := len(p) - len(keyPrefix)
	var scratch []byte
	return r.Scan(p, upper, false, func(key, val []byte) (bool, error) {
		// Rows are decoded afresh: fn may keep them.
		var row types.Row
		err := forStoredRows(key[relLen:], val, 0, &scratch, &row, func(k []byte, cnt int64, r types.Row) error {
			row = nil
			return fn(k, cnt, r)
		})
		if err != nil {
			return false, err
		}
		return true, nil
	})
}

// Query runs an ad hoc plan over the snapshot r: the same operators as a
// dataflow, as one epoch in which every stored row arrives with weight +1
// (its multiplicity). Rows go to fn in the plan's order.
func Query(ctx context.Context, plan Node, r storage.Reader, eval *expr.EvalContext, fn func(types.Row) error) error {
	var sortKeys []SortKey
	keep := 0
	var limit, offset int64 = -1, 0
	if l, ok := plan.(*Limit); ok {
		var err error
		if limit, err = evalCount(eval, l.Limit, "LIMIT", -1); err != nil {
			return err
		}
		if offset, err = evalCount(eval, l.Offset, "OFFSET", 0); err != nil {
			return err
		}
		plan = l.Input
	}
	if s, ok := plan.(*Sort); ok {
		sortKeys = s.Keys
		keep = s.Keep
		plan = s.Input
	}
	if limit == 0 {
		return nil
	}
	g, err := buildGraph(plan, adhocStateID)
	if err != nil {
		return err
	}
	if _, ok := eval.Query.(*queryEnv); !ok {
		// Subplans evaluated per row read the same snapshot.
		ev := *eval
		ev.Query = &queryEnv{ctx: ctx, r: r, memo: map[*SubPlan]types.Value{}}
		eval = &ev
	}
	ec := &epochCtx{ctx: ctx, eval: eval, ephemeral: true, maxHeld: DefaultQueryMemory}
	if m := eval.QueryMemory; m != 0 {
		ec.maxHeld = max(m, 0)
	}

	var collected []types.Row
	emitted := int64(0)
	skipped := int64(0)
	out := func(b *Batch) error {
		for i, row := range b.Rows {
			w := b.W[i]
			if w < 0 {
				return pgerr.New(pgerr.InternalError, "ad hoc query produced a retraction")
			}
			for ; w > 0; w-- {
				if sortKeys != nil {
					if err := ec.holdRow(row, 24); err != nil {
						return err
					}
					collected = append(collected, row)
					continue
				}
				if skipped < offset {
					skipped++
					continue
				}
				if err := fn(row); err != nil {
					return err
				}
				emitted++
				if limit >= 0 && emitted >= limit {
					return errStop
				}
			}
		}
		return nil
	}
	err = func() error {
		for _, leaf := range g.leaves {
			if err := feedLeaf(ctx, ec, g, leaf, r, out); err != nil {
				return err
			}
		}
		for _, a := range g.aggs {
			// A global aggregate has a row even over no input.
			if err := a.loadGlobals(ec); err != nil {
				return err
			}
		}
		return g.flush(ec, out)
	}()
	if err == errStop {
		return nil
	}
	if err != nil {
		return err
	}
	if sortKeys == nil {
		return nil
	}
	sortRows(collected, sortKeys)
	for i, row := range collected {
		if int64(i) < offset {
			continue
		}
		if limit >= 0 && int64(i)-offset >= limit {
			break
		}
		if keep > 0 {
			row = row[:keep]
		}
		if err := fn(row); err != nil {
			return err
		}
	}
	return nil
}

// adhocStateID numbers the operators of ad hoc queries; their state lives
// in memory only, so the id never reaches storage.
const adhocStateID = 1 << 55

// feedLeaf reads a leaf's rows (a scan of the snapshot, or constant rows)
// and pushes them through the graph in chunks.
func feedLeaf(ctx context.Context, ec *epochCtx, g *graph, leaf *node, r storage.Reader, out func(*Batch) error) error {
	var in Batch
	feed := func() error {
		if in.Len() == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return pgerr.New(pgerr.QueryCanceled, "canceling statement due to user request")
		}
		err := g.push(ec, leaf, &in, out)
		in = Batch{}
		return err
	}
	switch s := leaf.plan.(type) {
	case *Scan:
		if s.Kind == ScanSource {
			return feedSource(s, &in, feed)
		}
		var prefix []byte
		for _, e := range s.KeyPrefix {
			v, err := e.Eval(ec.eval, nil)
			if err != nil {
				return err
			}
			prefix = types.AppendKey(prefix, v, false)
		}
		if s.PointGet {
			val, ok, err := r.Get(append(storage.RelationPrefix(s.Rel), prefix...))
			if err != nil || !ok {
				return err
			}
			cnt, row, err := DecodeStoredRow(val, nil)
			if err != nil {
				return err
			}
			in.Add(row, cnt)
			return feed()
		}
		if err := ScanRelation(r, s.Rel, prefix, func(_ []byte, cnt int64, row types.Row) error {
			in.Add(row, cnt)
			if in.Len() >= 1024 {
				return feed()
			}
			return nil
		}); err != nil {
			return err
		}
	case *Values:
		for _, exprs := range s.Rows {
			row := make(types.Row, len(exprs))
			for i, e := range exprs {
				v, err := e.Eval(ec.eval, nil)
				if err != nil {
					return err
				}
				row[i] = v
			}
			in.Add(row, 1)
		}
	}
	return feed()
}

// feedSource reads every record of a bounded source that exists now.
func feedSource(s *Scan, in *Batch, feed func() error) error {
	if !s.Feed.Bounded() {
		return pgerr.New(pgerr.FeatureNotSupported, "source %q is unbounded: an ad hoc query cannot read all of it", s.Name).
			WithHint("Read it through a materialized view, or give the source a number of events (nexmark.event.num).")
	}
	end := s.Feed.End()
	var rows []types.Row
	for off := uint64(0); off < end; {
		to := min(end, off+readChunk)
		rows = s.Feed.AppendRows(rows[:0], off, to, FeedUse{})
		for _, r := range rows {
			in.Add(r, 1)
		}
		off = to
		if err := feed(); err != nil {
			return err
		}
	}
	return nil
}

func evalCount(eval *expr.EvalContext, e expr.Expr, what string, def int64) (int64, error) {
	if e == nil {
		return def, nil
	}
	v, err := e.Eval(eval, nil)
	if err != nil {
		return 0, err
	}
	if v.IsNull() {
		return def, nil
	}
	if v.I < 0 {
		if what == "LIMIT" {
			return 0, pgerr.New("2201W", "LIMIT must not be negative")
		}
		return 0, pgerr.New("2201X", "OFFSET must not be negative")
	}
	return v.I, nil
}

// sortRows orders rows by keys; NULLs sort as larger than any value unless
// NullsFirst says otherwise (PostgreSQL's default: NULLS LAST for ASC, NULLS
// FIRST for DESC, which the planner spells out).
func sortRows(rows []types.Row, keys []SortKey) {
	sort.SliceStable(rows, func(i, j int) bool {
		for _, k := range keys {
			a, b := rows[i][k.Col], rows[j][k.Col]
			an, bn := a.IsNull(), b.IsNull()
			var c int
			switch {
			case an && bn:
				c = 0
			case an || bn:
				c = 1
				if bn {
					c = -1
				}
				if k.NullsFirst {
					c = -c
				}
				if c != 0 {
					return c < 0
				}
			default:
				c = types.Compare(a, b)
				if k.Desc {
					c = -c
				}
			}
			if c != 0 {
				return c < 0
			}
		}
		return false
	})
}

// SingleScan reports whether plan reads at most one stored relation once.
// Such a query needs no storage snapshot: one iterator already reads a
// single point in time.
func SingleScan(plan Node) bool {
	n := 0
	var walk func(Node)
	walk = func(x Node) {
		switch y := x.(type) {
		case *Scan:
			n++
		case *Filter:
			if exprHasSubPlan(y.Pred) {
				n += 2
			}
			walk(y.Input)
		case *Project:
			for _, e := range y.Exprs {
				if exprHasSubPlan(e) {
					n += 2
				}
			}
			walk(y.Input)
		case *ProjectSet:
			n += 2 // its arguments may hold subplans
			walk(y.Input)
		case *TimeWindow:
			walk(y.Input)
		case *SessionWindow:
			walk(y.Input)
		case *TemporalFilter:
			walk(y.Input)
		case *Aggregate:
			walk(y.Input)
		case *Sort:
			walk(y.Input)
		case *Limit:
			walk(y.Input)
		case *Window:
			walk(y.Input)
		case *GroupTopN:
			walk(y.Input)
		case *Join:
			if exprHasSubPlan(y.On) {
				n += 2
			}
			walk(y.Left)
			walk(y.Right)
		case *Union:
			walk(y.Left)
			walk(y.Right)
		case *SetOp:
			walk(y.Left)
			walk(y.Right)
		}
	}
	walk(plan)
	return n <= 1
}
