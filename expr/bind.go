package expr

import (
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/types"
)

// The Bind and New helpers build well-typed nodes from already bound
// arguments: they resolve the overload, coerce the arguments to the chosen
// types and fill in the comparison functions, so the planner does not
// repeat PostgreSQL's rules. They do not fold; call Fold on the result.

// BindOperator resolves and builds a binary operator call.
func BindOperator(op string, l, r Expr) (Expr, error) {
	f, err := LookupOperator(op, l.Type(), r.Type())
	if err != nil {
		return nil, err
	}
	return callWith(f, []Expr{l, r})
}

// BindUnaryOperator resolves and builds a prefix operator call.
func BindUnaryOperator(op string, arg Expr) (Expr, error) {
	f, err := LookupUnaryOperator(op, arg.Type())
	if err != nil {
		return nil, err
	}
	return callWith(f, []Expr{arg})
}

// BindFunction resolves and builds a function call. COALESCE, NULLIF,
// GREATEST and LEAST are nodes, and are built here too when called by name.
func BindFunction(name string, args []Expr) (Expr, error) {
	switch name {
	case "coalesce":
		return NewCoalesce(args)
	case "nullif":
		if len(args) == 2 {
			return NewNullIf(args[0], args[1])
		}
	case "greatest", "least":
		return NewGreatest(args, name == "least")
	}
	ts := make([]types.Type, len(args))
	for i, a := range args {
		ts[i] = a.Type()
	}
	f, err := LookupFunction(name, ts)
	if err != nil {
		return nil, err
	}
	return callWith(f, args)
}

// NewCall builds a call of f, coercing args to its declared types.
func NewCall(f *Func, args []Expr) (Expr, error) { return callWith(f, args) }

func callWith(f *Func, args []Expr) (Expr, error) {
	out := make([]Expr, len(args))
	for i, a := range args {
		c, err := Coerce(a, f.argType(i))
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return &Call{Fn: f, Args: out}, nil
}

// CoerceBool coerces e to boolean for a construct (WHERE, AND, CASE WHEN),
// with PostgreSQL's error "argument of AND must be type boolean, not type
// integer".
func CoerceBool(e Expr, construct string) (Expr, error) {
	t := e.Type()
	if t.Kind == types.KindBool {
		return e, nil
	}
	if isUnknown(t) {
		return Coerce(e, types.Bool)
	}
	return nil, pgerr.New(pgerr.DatatypeMismatch, "argument of %s must be type boolean, not type %s", construct, t)
}

// NewAnd builds a three-valued AND.
func NewAnd(args ...Expr) (Expr, error) {
	out, err := boolArgs("AND", args)
	if err != nil {
		return nil, err
	}
	return &And{Args: out}, nil
}

// NewOr builds a three-valued OR.
func NewOr(args ...Expr) (Expr, error) {
	out, err := boolArgs("OR", args)
	if err != nil {
		return nil, err
	}
	return &Or{Args: out}, nil
}

// NewNot builds NOT arg.
func NewNot(arg Expr) (Expr, error) {
	a, err := CoerceBool(arg, "NOT")
	if err != nil {
		return nil, err
	}
	return &Not{Arg: a}, nil
}

func boolArgs(construct string, args []Expr) ([]Expr, error) {
	out := make([]Expr, len(args))
	for i, a := range args {
		c, err := CoerceBool(a, construct)
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

// NewIsBool builds arg IS [NOT] TRUE/FALSE.
func NewIsBool(arg Expr, want, negate bool) (Expr, error) {
	construct := "IS TRUE"
	if !want {
		construct = "IS FALSE"
	}
	a, err := CoerceBool(arg, construct)
	if err != nil {
		return nil, err
	}
	return &IsBool{Arg: a, Want: want, Negate: negate}, nil
}

// coercePair coerces l and r to the argument types of their = operator.
func coercePair(l, r Expr) (Expr, Expr, *Func, error) {
	eq, err := LookupOperator("=", l.Type(), r.Type())
	if err != nil {
		return nil, nil, nil, err
	}
	if l, err = Coerce(l, eq.Args[0]); err != nil {
		return nil, nil, nil, err
	}
	if r, err = Coerce(r, eq.Args[1]); err != nil {
		return nil, nil, nil, err
	}
	return l, r, eq, nil
}

// NewIsDistinct builds l IS [NOT] DISTINCT FROM r.
func NewIsDistinct(l, r Expr, negate bool) (Expr, error) {
	l, r, eq, err := coercePair(l, r)
	if err != nil {
		return nil, err
	}
	return &IsDistinct{L: l, R: r, Negate: negate, Cmp: eq}, nil
}

// NewNullIf builds NULLIF(l, r). As in PostgreSQL its type is that of l
// after coercion to the = operator's input (NULLIF(1, 1.0) is numeric).
func NewNullIf(l, r Expr) (Expr, error) {
	l, r, eq, err := coercePair(l, r)
	if err != nil {
		return nil, err
	}
	return &NullIf{L: l, R: r, Eq: eq}, nil
}

// coerceAll resolves the common type of es and coerces each to it.
func coerceAll(construct string, es []Expr) ([]Expr, types.Type, error) {
	ts := make([]types.Type, len(es))
	for i, e := range es {
		ts[i] = e.Type()
	}
	t, err := CommonTypeIn(construct, ts)
	if err != nil {
		return nil, types.Type{}, err
	}
	out := make([]Expr, len(es))
	for i, e := range es {
		if out[i], err = Coerce(e, t); err != nil {
			return nil, types.Type{}, err
		}
	}
	return out, t, nil
}

// NewCoalesce builds COALESCE(args...).
func NewCoalesce(args []Expr) (Expr, error) {
	out, t, err := coerceAll("COALESCE", args)
	if err != nil {
		return nil, err
	}
	return &Coalesce{Args: out, T: t}, nil
}

// NewGreatest builds GREATEST(args...) or LEAST(args...).
func NewGreatest(args []Expr, least bool) (Expr, error) {
	construct := "GREATEST"
	if least {
		construct = "LEAST"
	}
	out, t, err := coerceAll(construct, args)
	if err != nil {
		return nil, err
	}
	if _, err := LookupOperator("<", t, t); err != nil {
		return nil, pgerr.New(pgerr.UndefinedFunction, "could not identify a comparison function for type %s", t)
	}
	return &Greatest{Args: out, T: t, Least: least}, nil
}

// NewCase builds a searched CASE; els may be nil.
func NewCase(whens []When, els Expr) (Expr, error) {
	results := make([]Expr, 0, len(whens)+1)
	for _, w := range whens {
		results = append(results, w.Then)
	}
	if els != nil {
		results = append(results, els)
	}
	out, t, err := coerceAll("CASE", results)
	if err != nil {
		return nil, err
	}
	c := &Case{Whens: make([]When, len(whens)), T: t}
	for i, w := range whens {
		cond, err := CoerceBool(w.Cond, "CASE/WHEN")
		if err != nil {
			return nil, err
		}
		c.Whens[i] = When{Cond: cond, Then: out[i]}
	}
	if els != nil {
		c.Else = out[len(whens)]
	}
	return c, nil
}

// NewInList builds arg [NOT] IN (list...). Like PostgreSQL it compares in
// the common type of arg and the list when there is one, and otherwise
// resolves = per element type (which must then all agree).
func NewInList(arg Expr, list []Expr, negate bool) (Expr, error) {
	all := append([]Expr{arg}, list...)
	if out, t, err := coerceAll("IN", all); err == nil {
		eq, err := LookupOperator("=", t, t)
		if err != nil {
			return nil, err
		}
		return &InList{Arg: out[0], List: out[1:], Negate: negate, Eq: eq}, nil
	}
	// No common type: resolve = against the first element and coerce the
	// rest to its right-hand type.
	l, r0, eq, err := coercePair(arg, list[0])
	if err != nil {
		return nil, err
	}
	items := []Expr{r0}
	for _, x := range list[1:] {
		c, err := Coerce(x, eq.Args[1])
		if err != nil {
			return nil, err
		}
		items = append(items, c)
	}
	return &InList{Arg: l, List: items, Negate: negate, Eq: eq}, nil
}

// NewScalarArrayOp builds arg op ANY (array) or arg op ALL (array). An
// untyped array literal ('{1,2}') takes the array type of arg's type.
func NewScalarArrayOp(op string, arg, array Expr, all bool) (Expr, error) {
	at := array.Type()
	var elem types.Type
	switch {
	case at.Kind == types.KindArray:
		elem = at.ElemType()
	case isUnknown(at):
		elem = arg.Type()
		if isUnknown(elem) {
			elem = types.Text
		}
	default:
		return nil, pgerr.New(pgerr.WrongObjectType, "op ANY/ALL (array) requires array on right side")
	}
	cmp, err := LookupOperator(op, arg.Type(), elem)
	if err != nil {
		return nil, err
	}
	if cmp.Ret.Kind != types.KindBool {
		return nil, pgerr.New(pgerr.WrongObjectType, "op ANY/ALL (array) requires operator to yield boolean")
	}
	if arg, err = Coerce(arg, cmp.Args[0]); err != nil {
		return nil, err
	}
	if array, err = Coerce(array, types.ArrayOf(cmp.Args[1])); err != nil {
		return nil, err
	}
	return &ScalarArrayOp{Arg: arg, Array: array, Cmp: cmp, All: all}, nil
}
