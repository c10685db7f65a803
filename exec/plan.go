package exec

import (
	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/types"
)

// StateVersion numbers the encodings of operator state and view rows. A
// materialized view's stored state is tied to its plan: operators number
// their state by their place in the plan, and each encodes it its own way.
// The engine fingerprints a view's plan (its EXPLAIN) with StateVersion and
// recomputes the view from its sources when a restart plans it differently.
// Bump StateVersion with any change to an operator's stored encoding that
// an older data directory would misread and that EXPLAIN does not show.
const StateVersion = 1

// Node is one node of a physical plan: plain data built by the planner and
// instantiated by exec. Every node's output columns are Columns().
type Node interface {
	Columns() []types.Type
	planNode()
}

// ScanKind says where a Scan's rows come from.
type ScanKind uint8

const (
	// ScanTable reads a table: its change log in a dataflow, its stored rows
	// (as of the snapshot) in an ad hoc query.
	ScanTable ScanKind = iota
	// ScanView reads a materialized view's stored rows. In a dataflow this
	// is not yet supported (views over views are inlined by the planner).
	ScanView
	// ScanSource reads a source's Feed: in a dataflow from the committed
	// offset on, like a table's log; in an ad hoc query all of a bounded
	// feed's records that exist now.
	ScanSource
)

// Scan reads a relation.
type Scan struct {
	Kind  ScanKind
	Rel   uint64
	Name  string
	Types []types.Type
	// KeyPrefix, when set, restricts an ad hoc scan to rows whose leading
	// storage-key columns equal these values (a point or prefix lookup).
	KeyPrefix []expr.Expr
	// PointGet says KeyPrefix is the relation's whole unique key: at most
	// one row, read with a point get rather than an iterator.
	PointGet bool
	// Feed is the input of a ScanSource.
	Feed Feed
	// Watermark is the relation's declared watermark (WATERMARK FOR); a
	// dataflow drops the rows that arrive behind it (watermark.go).
	Watermark *ScanWatermark
	// Unique, on a ScanSource, is a key its connector guarantees
	// (KeyedFeed): columns never NULL whose values no two rows share.
	Unique []int
}

// Values produces constant rows (SELECT without FROM, INSERT ... VALUES).
type Values struct {
	Rows  [][]expr.Expr
	Types []types.Type
}

// Filter keeps rows for which Pred is true.
type Filter struct {
	Input Node
	Pred  expr.Expr
}

// Project computes one output column per expression.
type Project struct {
	Input Node
	Exprs []expr.Expr
}

// AggFunc names an aggregate function.
type AggFunc uint8

const (
	AggCountStar AggFunc = iota
	AggCount
	AggSum
	AggAvg
	AggMin
	AggMax
	AggBoolAnd
	AggBoolOr
	AggVarSamp
	AggVarPop
	AggStddevSamp
	AggStddevPop
	AggStringAgg
	AggArrayAgg
	AggPercentileCont
	AggPercentileDisc
	AggMode
	AggApproxCountDistinct
	AggApproxPercentile
)

var aggNames = [...]string{"count(*)", "count", "sum", "avg", "min", "max", "bool_and", "bool_or",
	"var_samp", "var_pop", "stddev_samp", "stddev_pop", "string_agg", "array_agg",
	"percentile_cont", "percentile_disc", "mode", "approx_count_distinct", "approx_percentile"}

func (f AggFunc) String() string { return aggNames[f] }

// AggCall is one aggregate of an Aggregate node. Column numbers are columns
// of the Aggregate's input.
type AggCall struct {
	Func AggFunc
	Arg  int // input column; -1 for count(*) and mode()
	Type types.Type
	// Distinct aggregates each distinct value once (count/sum/avg DISTINCT).
	Distinct bool
	// Args holds further arguments: string_agg's separator.
	Args []int
	// HasFilter says the aggregate sees only the rows whose FilterCol is
	// true (FILTER (WHERE ...)).
	HasFilter bool
	FilterCol int
	// OrderBy orders the values of string_agg and array_agg (ORDER BY
	// inside the call) and of the ordered-set aggregates (WITHIN GROUP).
	OrderBy []SortKey
	// Fraction is the direct argument of percentile_cont, percentile_disc
	// and approx_percentile: a float8, or a float8 array for several.
	Fraction types.Value
}

// Aggregate groups its input by the GroupBy columns and computes Aggs per
// group. Output columns: the group columns, then one per aggregate. With no
// GroupBy it is a global aggregate: exactly one output row, also over an
// empty input (count = 0, sum = NULL).
type Aggregate struct {
	Input   Node
	GroupBy []int
	Aggs    []AggCall
	// GroupingSets, when not nil, computes one grouping per set (GROUPING
	// SETS, ROLLUP, CUBE): each set lists positions in GroupBy. A group's
	// row has NULL for the GroupBy columns its set leaves out, and one more
	// column after the GroupBy columns: the set's index (int4). A set with
	// no columns is a global aggregate (one row even over no input).
	GroupingSets [][]int
	// EmitOnWindowClose emits each group once, final, when the watermark
	// of its window column (WindowCloseColumn) passes it, and nothing
	// before: the output only inserts.
	EmitOnWindowClose bool
	// InputAppendOnly says the input only ever inserts (the planner proves
	// it for a view: planner.appendOnly): min and max then keep only the
	// current extreme, not a count per value for retractions to come.
	InputAppendOnly bool
	// Session runs the aggregate fused with the SESSION window below it,
	// one accumulator per session (exec/sessionagg.go); the planner sets it
	// where SessionAggregateShape holds (planner/session.go).
	Session bool
	// ID numbers this operator's state within its dataflow (set by Build).
	ID    uint64
	Types []types.Type
}

// JoinKind is the kind of a Join.
type JoinKind uint8

const (
	JoinInner JoinKind = iota
	JoinLeft
	JoinRight
	JoinFull
)

var joinNames = [...]string{"inner", "left", "right", "full"}

// JoinLookup names a join's lookup side (Join.Lookup).
type JoinLookup uint8

const (
	LookupNone JoinLookup = iota
	LookupLeft
	LookupRight
)

func (l JoinLookup) String() string { return [...]string{"none", "left", "right"}[l] }

func (k JoinKind) String() string { return joinNames[k] }

// Join joins Left and Right on LeftKeys[i] = RightKeys[i] (equality, NULL
// never matches; no keys is a cross join) and the residual On (over the
// concatenated row, left columns first; nil for true). Outer kinds extend
// unmatched rows with NULLs. Output columns: Left's, then Right's.
type Join struct {
	Left, Right         Node
	Kind                JoinKind
	LeftKeys, RightKeys []int
	On                  expr.Expr
	// NullSafe keys match NULL with NULL (IS NOT DISTINCT FROM), for the
	// joins the planner makes when it decorrelates a subquery.
	NullSafe bool
	// TimeBuckets keeps a side that can forget rows (an interval join's,
	// JoinIntervalOf) by time bucket, and forgets them: the planner sets it
	// for views whose state has that layout (planner.JoinStateVersion).
	TimeBuckets bool
	// Lookup names a side that is a lookup table for the other: an inner
	// join whose side is append-only and unique on its join keys (UniqueOn:
	// no two of its rows, ever, share a key). A row of the other side that
	// finds its partner there is joined and not stored (no partner is to
	// come); only rows that arrive before their partner wait in the state,
	// and go when it comes (join.go). The planner sets it for views whose
	// state has that layout (planner.JoinStateVersion 2).
	Lookup JoinLookup
	// LookupFilter, with Lookup, is a condition on the lookup side's rows
	// (over that side's columns): a row that fails it (false, NULL or an
	// error) is still its key's one row, but joins nothing. The planner
	// moves a filter of the lookup side here (planner.JoinStateVersion 3),
	// so that the other side's rows of a key the filter drops need not
	// wait in the state for a partner that never comes (Nexmark q20's bids
	// of auctions outside category 10).
	LookupFilter expr.Expr
	// ID numbers this operator's state within its dataflow (set by Build).
	ID uint64
}

func (n *Join) Columns() []types.Type {
	return append(append([]types.Type(nil), n.Left.Columns()...), n.Right.Columns()...)
}
func (*Join) planNode() {}

// Union is UNION ALL of two inputs with the same column types. (UNION is an
// Aggregate over all columns on top of it.)
type Union struct {
	Left, Right Node
}

func (n *Union) Columns() []types.Type { return n.Left.Columns() }
func (*Union) planNode()               {}

// SetOpKind is INTERSECT or EXCEPT.
type SetOpKind uint8

const (
	SetIntersect SetOpKind = iota
	SetExcept
)

// SetOp is INTERSECT [ALL] or EXCEPT [ALL]: each distinct row appears with a
// multiplicity computed from its multiplicities in Left (l) and Right (r):
// INTERSECT ALL min(l, r), INTERSECT min(l, r, 1), EXCEPT ALL max(l-r, 0),
// EXCEPT 1 if l > 0 and r = 0.
type SetOp struct {
	Left, Right Node
	Kind        SetOpKind
	All         bool
	ID          uint64
}

func (n *SetOp) Columns() []types.Type { return n.Left.Columns() }
func (*SetOp) planNode()               {}

// SortKey is one ORDER BY key over an input column.
type SortKey struct {
	Col        int
	Desc       bool
	NullsFirst bool
}

// Sort orders an ad hoc result.
type Sort struct {
	Input Node
	Keys  []SortKey
	// Keep, when > 0, keeps only the first Keep columns after sorting (the
	// planner adds hidden columns for ORDER BY expressions not selected).
	Keep int
}

// Limit applies OFFSET and LIMIT (-1: none) to an ad hoc result.
type Limit struct {
	Input  Node
	Limit  expr.Expr // nil for none
	Offset expr.Expr // nil for none
}

func (n *Scan) Columns() []types.Type   { return n.Types }
func (n *Values) Columns() []types.Type { return n.Types }
func (n *Filter) Columns() []types.Type { return n.Input.Columns() }
func (n *Sort) Columns() []types.Type {
	if n.Keep > 0 {
		return n.Input.Columns()[:n.Keep]
	}
	return n.Input.Columns()
}
func (n *Limit) Columns() []types.Type     { return n.Input.Columns() }
func (n *Aggregate) Columns() []types.Type { return n.Types }
func (n *Project) Columns() []types.Type {
	ts := make([]types.Type, len(n.Exprs))
	for i, e := range n.Exprs {
		ts[i] = e.Type()
	}
	return ts
}

func (*Scan) planNode()      {}
func (*Values) planNode()    {}
func (*Filter) planNode()    {}
func (*Project) planNode()   {}
func (*Aggregate) planNode() {}
func (*Sort) planNode()      {}
func (*Limit) planNode()     {}
