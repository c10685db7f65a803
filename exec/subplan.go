package exec

import (
	"context"
	"strings"

	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/storage"
	"github.com/kappa-db/kappa/types"
)

// queryEnv is what an ad hoc query lends the subplans it evaluates per row
// (expr.EvalContext.Query): its context, its snapshot and, inside a
// subplan, the values of the outer row the subplan was called with.
type queryEnv struct {
	ctx   context.Context
	r     storage.Reader
	outer []types.Value
	// memo holds the results of uncorrelated subplans, computed once per
	// query (shared by every level of one query).
	memo map[*SubPlan]types.Value
}

// SubPlanMode says what a SubPlan makes of its plan's rows.
type SubPlanMode uint8

const (
	// SubScalar is a scalar subquery: NULL for no row, the first column of
	// the one row, 21000 for more.
	SubScalar SubPlanMode = iota
	// SubArray is ARRAY(subquery): the first column of every row.
	SubArray
	// SubExists is EXISTS (subquery).
	SubExists
)

// SubPlan is a subquery evaluated once per outer row, as PostgreSQL's
// SubPlan: Args are computed over the outer row and read inside Plan through
// OuterRef. The planner uses it for correlations it cannot turn into joins
// (system catalog queries from clients, mostly); it runs only in ad hoc
// queries, never in a dataflow, since a per-row query cannot be maintained
// incrementally.
type SubPlan struct {
	Plan Node
	Args []expr.Expr
	Mode SubPlanMode
	T    types.Type
}

// Type implements expr.Expr.
func (s *SubPlan) Type() types.Type { return s.T }

// String implements expr.Expr.
func (s *SubPlan) String() string {
	var sb strings.Builder
	sb.WriteString([...]string{"(SubPlan", "ARRAY(SubPlan", "EXISTS(SubPlan"}[s.Mode])
	for i, a := range s.Args {
		if i == 0 {
			sb.WriteString(" of ")
		} else {
			sb.WriteString(", ")
		}
		sb.WriteString(a.String())
	}
	sb.WriteString(")")
	return sb.String()
}

// Eval implements expr.Expr.
func (s *SubPlan) Eval(ctx *expr.EvalContext, row types.Row) (types.Value, error) {
	env, ok := ctx.Query.(*queryEnv)
	if !ok {
		return types.Null, pgerr.New(pgerr.FeatureNotSupported, "a subquery evaluated per row is not supported in a materialized view yet")
	}
	if len(s.Args) == 0 {
		if v, ok := env.memo[s]; ok {
			return v, nil
		}
	}
	vals := make([]types.Value, len(s.Args))
	for i, a := range s.Args {
		v, err := a.Eval(ctx, row)
		if err != nil {
			return types.Null, err
		}
		vals[i] = v
	}
	sub := *ctx
	sub.Query = &queryEnv{ctx: env.ctx, r: env.r, outer: vals, memo: env.memo}
	var out types.Value
	n := 0
	var elems []types.Value
	err := Query(env.ctx, s.Plan, env.r, &sub, func(r types.Row) error {
		n++
		switch s.Mode {
		case SubScalar:
			if n > 1 {
				return pgerr.New(pgerr.CardinalityViolation, "more than one row returned by a subquery used as an expression")
			}
			out = r[0]
		case SubArray:
			elems = append(elems, r[0])
		case SubExists:
			return errStop
		}
		return nil
	})
	if err != nil && err != errStop {
		return types.Null, err
	}
	switch s.Mode {
	case SubArray:
		if elems == nil {
			elems = []types.Value{}
		}
		out = types.NewArray(elems)
	case SubExists:
		out = types.NewBool(n > 0)
	}
	if len(s.Args) == 0 {
		env.memo[s] = out
	}
	return out, nil
}

// OuterRef reads argument Idx of the SubPlan being evaluated: a column of
// the outer row.
type OuterRef struct {
	Idx  int
	T    types.Type
	Name string
}

// Type implements expr.Expr.
func (o *OuterRef) Type() types.Type { return o.T }

// String implements expr.Expr.
func (o *OuterRef) String() string {
	if o.Name != "" {
		return "outer." + o.Name
	}
	return "outer.#" + string(rune('0'+o.Idx%10))
}

// Eval implements expr.Expr.
func (o *OuterRef) Eval(ctx *expr.EvalContext, _ types.Row) (types.Value, error) {
	env, ok := ctx.Query.(*queryEnv)
	if !ok || o.Idx >= len(env.outer) {
		return types.Null, pgerr.New(pgerr.InternalError, "outer reference evaluated outside its subplan")
	}
	return env.outer[o.Idx], nil
}

// ProjectSet appends to every input row the rows of set-returning
// functions (PostgreSQL's ProjectSet, and FunctionScan when the input is one
// empty row): the calls run side by side, the input row repeats once per row
// of the longest, and shorter ones are padded with NULLs. Ordinality appends
// the 1-based row number. It keeps no state, so it runs in dataflows too: an
// input row of weight w yields its rows with weight w.
type ProjectSet struct {
	Input      Node
	Calls      []SetCall
	Ordinality bool
}

// SetCall is one set-returning function call of a ProjectSet.
type SetCall struct {
	Fn   *expr.SetFunc
	Args []expr.Expr
}

// Columns implements Node.
func (n *ProjectSet) Columns() []types.Type {
	ts := append([]types.Type(nil), n.Input.Columns()...)
	for _, c := range n.Calls {
		ts = append(ts, c.Fn.Cols...)
	}
	if n.Ordinality {
		ts = append(ts, types.Int8)
	}
	return ts
}
func (*ProjectSet) planNode() {}

type projectSetOp struct {
	spec *ProjectSet
	out  Batch
}

func (p *projectSetOp) apply(ec *epochCtx, _ int, in *Batch) (*Batch, error) {
	p.out.Reset()
	width := len(p.spec.Columns())
	results := make([][]types.Row, len(p.spec.Calls))
rows:
	for i, r := range in.Rows {
		longest := 0
		for j, c := range p.spec.Calls {
			args := make([]types.Value, len(c.Args))
			null := false
			for k, a := range c.Args {
				v, err := a.Eval(ec.eval, r)
				if err != nil {
					if err := ec.rowError(err, in.W[i]); err != nil {
						return nil, err
					}
					continue rows
				}
				args[k] = v
				null = null || v.IsNull()
			}
			results[j] = nil
			if null && c.Fn.Strict {
				continue
			}
			out, err := c.Fn.Gen(ec.eval, args)
			if err != nil {
				if err := ec.rowError(err, in.W[i]); err != nil {
					return nil, err
				}
				continue rows
			}
			results[j] = out
			longest = max(longest, len(out))
		}
		if err := ec.hold(int64(longest) * valueSize * int64(width)); err != nil && ec.ephemeral {
			return nil, err
		}
		for k := 0; k < longest; k++ {
			row := make(types.Row, 0, width)
			row = append(row, r...)
			for j, c := range p.spec.Calls {
				if k < len(results[j]) {
					row = append(row, results[j][k]...)
				} else {
					for range c.Fn.Cols {
						row = append(row, types.Null)
					}
				}
			}
			if p.spec.Ordinality {
				row = append(row, types.NewInt8(int64(k+1)))
			}
			p.out.Add(row, in.W[i])
		}
	}
	return &p.out, nil
}
func (p *projectSetOp) flush(*epochCtx, func(*Batch) error) error { return nil }
func (p *projectSetOp) reset()                                    { p.out.Reset() }

// exprHasSubPlan reports whether e evaluates a SubPlan that reads stored
// relations (then a query is not a single scan).
func exprHasSubPlan(e expr.Expr) bool {
	found := false
	var walk func(expr.Expr)
	walk = func(e expr.Expr) {
		if e == nil || found {
			return
		}
		switch x := e.(type) {
		case *SubPlan:
			found = true
		case *expr.Call:
			for _, a := range x.Args {
				walk(a)
			}
		case *expr.And:
			for _, a := range x.Args {
				walk(a)
			}
		case *expr.Or:
			for _, a := range x.Args {
				walk(a)
			}
		case *expr.Not:
			walk(x.Arg)
		case *expr.IsNull:
			walk(x.Arg)
		case *expr.IsBool:
			walk(x.Arg)
		case *expr.IsDistinct:
			walk(x.L)
			walk(x.R)
		case *expr.Case:
			for _, w := range x.Whens {
				walk(w.Cond)
				walk(w.Then)
			}
			walk(x.Else)
		case *expr.Coalesce:
			for _, a := range x.Args {
				walk(a)
			}
		case *expr.NullIf:
			walk(x.L)
			walk(x.R)
		case *expr.Greatest:
			for _, a := range x.Args {
				walk(a)
			}
		case *expr.InList:
			walk(x.Arg)
			for _, a := range x.List {
				walk(a)
			}
		case *expr.ScalarArrayOp:
			walk(x.Arg)
			walk(x.Array)
		case *expr.Cast:
			walk(x.Arg)
		}
	}
	walk(e)
	return found
}
