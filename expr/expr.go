package expr

import (
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kappa-db/kappa/types"
)

// EvalContext is what evaluation needs beyond the row: parameters, the
// statement's clock and the session time zone. It is read-only during Eval.
type EvalContext struct {
	Params []types.Value  // $1..$n, already decoded (Params[0] is $1)
	Now    int64          // statement timestamp, µs since 2000-01-01 UTC (now(), current_timestamp)
	Loc    *time.Location // session TimeZone (nil means UTC)
	// User and SessionUser are current_user and session_user; empty in a
	// dataflow, which has no session.
	User, SessionUser string
	// Query is exec's per-query state for subqueries evaluated per row
	// (exec.SubPlan); nil in dataflows. expr never looks inside.
	Query any
	// QueryMemory bounds the bytes an ad hoc query may hold in memory
	// (exec.Query: join inputs, groups, rows to sort); 0 is exec's default,
	// negative is no bound.
	QueryMemory int64
}

// loc returns the session time zone, UTC when unset.
func (c *EvalContext) loc() *time.Location {
	if c == nil || c.Loc == nil {
		return time.UTC
	}
	return c.Loc
}

// Expr is a bound, typed scalar expression.
type Expr interface {
	// Type is the SQL type of the values Eval returns.
	Type() types.Type
	// Eval computes the expression over row.
	Eval(ctx *EvalContext, row types.Row) (types.Value, error)
	// String renders the expression SQL-ishly, for EXPLAIN.
	String() string
}

// ColRef reads column Idx of the input row.
type ColRef struct {
	Idx  int
	T    types.Type
	Name string // for EXPLAIN only; "" prints #Idx
}

// Const is a constant. T may be types.Unknown for an untyped literal, whose V
// is then a text value (or NULL).
type Const struct {
	V types.Value
	T types.Type
}

// Param is a statement parameter: Idx is the 0-based index into ctx.Params.
type Param struct {
	Idx int
	T   types.Type
}

// And is the n-ary three-valued AND.
type And struct{ Args []Expr }

// Or is the n-ary three-valued OR.
type Or struct{ Args []Expr }

// Not is three-valued NOT.
type Not struct{ Arg Expr }

// IsNull is Arg IS [NOT] NULL (and IS [NOT] UNKNOWN).
type IsNull struct {
	Arg    Expr
	Negate bool
}

// IsBool is Arg IS [NOT] TRUE / FALSE: never NULL.
type IsBool struct {
	Arg    Expr
	Want   bool
	Negate bool
}

// IsDistinct is L IS [NOT] DISTINCT FROM R: Cmp is the = operator for the
// (coerced) argument types. Negate makes it IS NOT DISTINCT FROM.
type IsDistinct struct {
	L, R   Expr
	Negate bool
	Cmp    *Func
}

// Case is a searched CASE; the planner rewrites simple CASE into it. Every
// Then and Else has type T.
type Case struct {
	Whens []When
	Else  Expr // nil means ELSE NULL
	T     types.Type
}

// When is one WHEN Cond THEN Then arm.
type When struct{ Cond, Then Expr }

// Coalesce returns its first non-NULL argument; all have type T.
type Coalesce struct {
	Args []Expr
	T    types.Type
}

// NullIf is NULLIF(L, R): NULL when L = R under Eq, else L.
type NullIf struct {
	L, R Expr
	Eq   *Func
}

// Greatest is GREATEST (or LEAST when Least) of its arguments, ignoring
// NULLs; all arguments have type T.
type Greatest struct {
	Args  []Expr
	T     types.Type
	Least bool
}

// InList is Arg [NOT] IN (List...), with PostgreSQL's NULL semantics: no
// match and a NULL anywhere gives NULL. Eq compares Arg with each element.
type InList struct {
	Arg    Expr
	List   []Expr
	Negate bool
	Eq     *Func
}

// ScalarArrayOp is Arg op ANY (Array) or, when All, Arg op ALL (Array),
// with PostgreSQL's NULL semantics; Cmp compares Arg with one element.
type ScalarArrayOp struct {
	Arg, Array Expr
	Cmp        *Func
	All        bool
}

// Cast converts Arg to To: an explicit CAST/:: when Explicit, else an
// implicit or assignment coercion.
type Cast struct {
	Arg      Expr
	To       types.Type
	Explicit bool
}

// Call applies a function or operator to its arguments, which must already
// have Fn's argument types (NewCall and BindFunction coerce them).
type Call struct {
	Fn   *Func
	Args []Expr

	// spec is Fn specialised to this call site, for polymorphic functions
	// and pattern operators (which keep a per-site compiled pattern); it is
	// built on first use so that planners may build Call literals.
	spec atomic.Pointer[Func]
}

// fn returns the function to evaluate: Fn, or its specialisation.
func (e *Call) fn() *Func {
	if e.Fn.bind == nil {
		return e.Fn
	}
	if f := e.spec.Load(); f != nil {
		return f
	}
	ts := make([]types.Type, len(e.Args))
	for i, a := range e.Args {
		ts[i] = a.Type()
	}
	f := e.Fn.bind(ts)
	e.spec.CompareAndSwap(nil, f)
	return e.spec.Load()
}

// Func is one function or operator overload.
type Func struct {
	Name     string       // function name, or the operator's symbol
	Args     []types.Type // declared argument types (after coercion); Any accepts anything
	Variadic bool         // the last argument repeats
	Ret      types.Type
	Strict   bool // NULL in → NULL out without calling Eval
	Volatile bool // now() is stable, random() volatile: neither is folded
	Eval     func(ctx *EvalContext, args []types.Value) (types.Value, error)

	// Eval1 and Eval2, when set, compute the same as Eval for one or two
	// arguments without a slice, so that arithmetic and comparisons do not
	// allocate (an argument slice passed through a func value escapes).
	Eval1 func(ctx *EvalContext, a types.Value) (types.Value, error)
	Eval2 func(ctx *EvalContext, a, b types.Value) (types.Value, error)

	op bool // an operator: printed infix
	// bind, when set, specialises a polymorphic overload to the argument
	// types of one call (concat formats each argument by its type).
	bind func(args []types.Type) *Func
}

// IsOperator reports whether f is an operator (printed infix or prefix).
func (f *Func) IsOperator() bool { return f.op }

// Any is the pseudo-type of a polymorphic "any" argument (concat, pg_typeof).
var Any = types.Type{Kind: types.KindNull, OID: 2276, Mod: -1}

func (e *ColRef) Type() types.Type        { return e.T }
func (e *Const) Type() types.Type         { return e.T }
func (e *Param) Type() types.Type         { return e.T }
func (e *And) Type() types.Type           { return types.Bool }
func (e *Or) Type() types.Type            { return types.Bool }
func (e *Not) Type() types.Type           { return types.Bool }
func (e *IsNull) Type() types.Type        { return types.Bool }
func (e *IsBool) Type() types.Type        { return types.Bool }
func (e *IsDistinct) Type() types.Type    { return types.Bool }
func (e *Case) Type() types.Type          { return e.T }
func (e *Coalesce) Type() types.Type      { return e.T }
func (e *NullIf) Type() types.Type        { return e.L.Type() }
func (e *Greatest) Type() types.Type      { return e.T }
func (e *InList) Type() types.Type        { return types.Bool }
func (e *ScalarArrayOp) Type() types.Type { return types.Bool }
func (e *Cast) Type() types.Type          { return e.To }
func (e *Call) Type() types.Type          { return e.Fn.Ret }

func (e *ColRef) Eval(_ *EvalContext, row types.Row) (types.Value, error) {
	return row[e.Idx], nil
}

func (e *Const) Eval(*EvalContext, types.Row) (types.Value, error) { return e.V, nil }

func (e *Param) Eval(ctx *EvalContext, _ types.Row) (types.Value, error) {
	if ctx == nil || e.Idx >= len(ctx.Params) {
		return types.Null, errNoParam(e.Idx)
	}
	return ctx.Params[e.Idx], nil
}

func (e *And) Eval(ctx *EvalContext, row types.Row) (types.Value, error) {
	sawNull := false
	for _, a := range e.Args {
		v, err := a.Eval(ctx, row)
		if err != nil {
			return types.Null, err
		}
		if v.IsNull() {
			sawNull = true
		} else if v.I == 0 {
			return types.NewBool(false), nil
		}
	}
	if sawNull {
		return types.Null, nil
	}
	return types.NewBool(true), nil
}

func (e *Or) Eval(ctx *EvalContext, row types.Row) (types.Value, error) {
	sawNull := false
	for _, a := range e.Args {
		v, err := a.Eval(ctx, row)
		if err != nil {
			return types.Null, err
		}
		if v.IsNull() {
			sawNull = true
		} else if v.I != 0 {
			return types.NewBool(true), nil
		}
	}
	if sawNull {
		return types.Null, nil
	}
	return types.NewBool(false), nil
}

func (e *Not) Eval(ctx *EvalContext, row types.Row) (types.Value, error) {
	v, err := e.Arg.Eval(ctx, row)
	if err != nil || v.IsNull() {
		return types.Null, err
	}
	return types.NewBool(v.I == 0), nil
}

func (e *IsNull) Eval(ctx *EvalContext, row types.Row) (types.Value, error) {
	v, err := e.Arg.Eval(ctx, row)
	if err != nil {
		return types.Null, err
	}
	return types.NewBool(v.IsNull() != e.Negate), nil
}

func (e *IsBool) Eval(ctx *EvalContext, row types.Row) (types.Value, error) {
	v, err := e.Arg.Eval(ctx, row)
	if err != nil {
		return types.Null, err
	}
	is := !v.IsNull() && (v.I != 0) == e.Want
	return types.NewBool(is != e.Negate), nil
}

func (e *IsDistinct) Eval(ctx *EvalContext, row types.Row) (types.Value, error) {
	l, err := e.L.Eval(ctx, row)
	if err != nil {
		return types.Null, err
	}
	r, err := e.R.Eval(ctx, row)
	if err != nil {
		return types.Null, err
	}
	var distinct bool
	switch {
	case l.IsNull() || r.IsNull():
		distinct = l.IsNull() != r.IsNull()
	default:
		eq, err := callFunc2(ctx, e.Cmp, l, r)
		if err != nil {
			return types.Null, err
		}
		distinct = !eq.Bool()
	}
	return types.NewBool(distinct != e.Negate), nil
}

func (e *Case) Eval(ctx *EvalContext, row types.Row) (types.Value, error) {
	for _, w := range e.Whens {
		c, err := w.Cond.Eval(ctx, row)
		if err != nil {
			return types.Null, err
		}
		if c.Bool() {
			return w.Then.Eval(ctx, row)
		}
	}
	if e.Else == nil {
		return types.Null, nil
	}
	return e.Else.Eval(ctx, row)
}

func (e *Coalesce) Eval(ctx *EvalContext, row types.Row) (types.Value, error) {
	for _, a := range e.Args {
		v, err := a.Eval(ctx, row)
		if err != nil || !v.IsNull() {
			return v, err
		}
	}
	return types.Null, nil
}

func (e *NullIf) Eval(ctx *EvalContext, row types.Row) (types.Value, error) {
	l, err := e.L.Eval(ctx, row)
	if err != nil {
		return types.Null, err
	}
	r, err := e.R.Eval(ctx, row)
	if err != nil {
		return types.Null, err
	}
	if l.IsNull() || r.IsNull() {
		return l, nil
	}
	eq, err := callFunc2(ctx, e.Eq, l, r)
	if err != nil {
		return types.Null, err
	}
	if eq.Bool() {
		return types.Null, nil
	}
	return l, nil
}

func (e *Greatest) Eval(ctx *EvalContext, row types.Row) (types.Value, error) {
	best := types.Null
	for _, a := range e.Args {
		v, err := a.Eval(ctx, row)
		if err != nil {
			return types.Null, err
		}
		if v.IsNull() {
			continue
		}
		if best.IsNull() {
			best = v
			continue
		}
		c := types.Compare(v, best)
		if (c > 0 && !e.Least) || (c < 0 && e.Least) {
			best = v
		}
	}
	return best, nil
}

func (e *InList) Eval(ctx *EvalContext, row types.Row) (types.Value, error) {
	v, err := e.Arg.Eval(ctx, row)
	if err != nil || v.IsNull() {
		return types.Null, err
	}
	sawNull := false
	for _, x := range e.List {
		w, err := x.Eval(ctx, row)
		if err != nil {
			return types.Null, err
		}
		if w.IsNull() {
			sawNull = true
			continue
		}
		eq, err := callFunc2(ctx, e.Eq, v, w)
		if err != nil {
			return types.Null, err
		}
		if eq.IsNull() {
			sawNull = true
		} else if eq.I != 0 {
			return types.NewBool(!e.Negate), nil
		}
	}
	if sawNull {
		return types.Null, nil
	}
	return types.NewBool(e.Negate), nil
}

func (e *ScalarArrayOp) Eval(ctx *EvalContext, row types.Row) (types.Value, error) {
	v, err := e.Arg.Eval(ctx, row)
	if err != nil {
		return types.Null, err
	}
	arr, err := e.Array.Eval(ctx, row)
	if err != nil || arr.IsNull() {
		return types.Null, err
	}
	if len(arr.Arr) == 0 {
		return types.NewBool(e.All), nil
	}
	if v.IsNull() && e.Cmp.Strict {
		return types.Null, nil
	}
	sawNull := false
	for _, w := range arr.Arr {
		r, err := callFunc2(ctx, e.Cmp, v, w)
		if err != nil {
			return types.Null, err
		}
		switch {
		case r.IsNull():
			sawNull = true
		case r.I != 0 && !e.All:
			return types.NewBool(true), nil
		case r.I == 0 && e.All:
			return types.NewBool(false), nil
		}
	}
	if sawNull {
		return types.Null, nil
	}
	return types.NewBool(e.All), nil
}

func (e *Cast) Eval(ctx *EvalContext, row types.Row) (types.Value, error) {
	v, err := e.Arg.Eval(ctx, row)
	if err != nil || v.IsNull() {
		return types.Null, err
	}
	from := e.Arg.Type()
	if isRelabel(from, e.To) {
		return v, nil
	}
	return castValue(v, from, e.To, e.Explicit, ctx.loc())
}

func (e *Call) Eval(ctx *EvalContext, row types.Row) (types.Value, error) {
	f := e.fn()
	switch len(e.Args) {
	case 1:
		if f.Eval1 != nil {
			a, err := e.Args[0].Eval(ctx, row)
			if err != nil {
				return types.Null, err
			}
			if f.Strict && a.IsNull() {
				return types.Null, nil
			}
			return f.Eval1(ctx, a)
		}
	case 2:
		if f.Eval2 != nil {
			a, err := e.Args[0].Eval(ctx, row)
			if err != nil {
				return types.Null, err
			}
			b, err := e.Args[1].Eval(ctx, row)
			if err != nil {
				return types.Null, err
			}
			if f.Strict && (a.IsNull() || b.IsNull()) {
				return types.Null, nil
			}
			return f.Eval2(ctx, a, b)
		}
	}
	var buf [4]types.Value
	var args []types.Value
	if len(e.Args) <= len(buf) {
		args = buf[:len(e.Args)]
	} else {
		args = make([]types.Value, len(e.Args))
	}
	for i, a := range e.Args {
		v, err := a.Eval(ctx, row)
		if err != nil {
			return types.Null, err
		}
		if f.Strict && v.IsNull() {
			return types.Null, nil
		}
		args[i] = v
	}
	return f.Eval(ctx, args)
}

// callFunc2 applies a two-argument function to values, honouring strictness.
func callFunc2(ctx *EvalContext, f *Func, a, b types.Value) (types.Value, error) {
	if f.Strict && (a.IsNull() || b.IsNull()) {
		return types.Null, nil
	}
	if f.Eval2 != nil {
		return f.Eval2(ctx, a, b)
	}
	return f.Eval(ctx, []types.Value{a, b})
}

// String methods render SQL-ish text for EXPLAIN.

func (e *ColRef) String() string {
	if e.Name != "" {
		return e.Name
	}
	return "#" + strconv.Itoa(e.Idx)
}

func (e *Const) String() string {
	if e.V.IsNull() {
		if e.T.Kind == types.KindNull {
			return "NULL"
		}
		return "NULL::" + e.T.String()
	}
	switch e.T.Kind {
	case types.KindNull:
		return quoteLiteral(e.V.S)
	case types.KindBool:
		if e.V.I != 0 {
			return "true"
		}
		return "false"
	case types.KindInt4, types.KindInt8:
		return strconv.FormatInt(e.V.I, 10)
	case types.KindNumeric:
		if e.V.D.Form == 0 {
			return e.V.D.Text('f')
		}
	case types.KindText:
		if e.T.OID == types.OidText {
			return quoteLiteral(e.V.S)
		}
	}
	return quoteLiteral(types.FormatText(e.V, e.T, time.UTC)) + "::" + e.T.String()
}

func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

func (e *Param) String() string { return "$" + strconv.Itoa(e.Idx+1) }

func (e *And) String() string { return joinExprs("(", e.Args, " AND ", ")") }
func (e *Or) String() string  { return joinExprs("(", e.Args, " OR ", ")") }
func (e *Not) String() string { return "(NOT " + e.Arg.String() + ")" }

func (e *IsNull) String() string {
	if e.Negate {
		return "(" + e.Arg.String() + " IS NOT NULL)"
	}
	return "(" + e.Arg.String() + " IS NULL)"
}

func (e *IsBool) String() string {
	s := "(" + e.Arg.String() + " IS "
	if e.Negate {
		s += "NOT "
	}
	if e.Want {
		return s + "TRUE)"
	}
	return s + "FALSE)"
}

func (e *IsDistinct) String() string {
	if e.Negate {
		return "(" + e.L.String() + " IS NOT DISTINCT FROM " + e.R.String() + ")"
	}
	return "(" + e.L.String() + " IS DISTINCT FROM " + e.R.String() + ")"
}

func (e *Case) String() string {
	var b strings.Builder
	b.WriteString("CASE")
	for _, w := range e.Whens {
		b.WriteString(" WHEN ")
		b.WriteString(w.Cond.String())
		b.WriteString(" THEN ")
		b.WriteString(w.Then.String())
	}
	if e.Else != nil {
		b.WriteString(" ELSE ")
		b.WriteString(e.Else.String())
	}
	b.WriteString(" END")
	return b.String()
}

func (e *Coalesce) String() string { return joinExprs("COALESCE(", e.Args, ", ", ")") }

func (e *NullIf) String() string {
	return "NULLIF(" + e.L.String() + ", " + e.R.String() + ")"
}

func (e *Greatest) String() string {
	if e.Least {
		return joinExprs("LEAST(", e.Args, ", ", ")")
	}
	return joinExprs("GREATEST(", e.Args, ", ", ")")
}

func (e *InList) String() string {
	op := " IN "
	if e.Negate {
		op = " NOT IN "
	}
	return "(" + e.Arg.String() + op + joinExprs("(", e.List, ", ", ")") + ")"
}

func (e *ScalarArrayOp) String() string {
	q := " ANY ("
	if e.All {
		q = " ALL ("
	}
	return "(" + e.Arg.String() + " " + e.Cmp.Name + q + e.Array.String() + "))"
}

func (e *Cast) String() string { return e.Arg.String() + "::" + e.To.String() }

func (e *Call) String() string {
	if e.Fn.op {
		switch len(e.Args) {
		case 1:
			return "(" + e.Fn.Name + " " + e.Args[0].String() + ")"
		case 2:
			return "(" + e.Args[0].String() + " " + e.Fn.Name + " " + e.Args[1].String() + ")"
		}
	}
	return joinExprs(e.Fn.Name+"(", e.Args, ", ", ")")
}

func joinExprs(open string, es []Expr, sep, close string) string {
	var b strings.Builder
	b.WriteString(open)
	for i, e := range es {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(e.String())
	}
	b.WriteString(close)
	return b.String()
}
