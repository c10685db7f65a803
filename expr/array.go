package expr

import (
	"strings"

	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/types"
)

// Arrays are one-dimensional with lower bound 1 (types/array.go).

// ArrayCtor is ARRAY[a, b, ...]; its elements already have the element type.
type ArrayCtor struct {
	Elems []Expr
	T     types.Type
}

// Type implements Expr.
func (e *ArrayCtor) Type() types.Type { return e.T }

// Eval implements Expr.
func (e *ArrayCtor) Eval(ctx *EvalContext, row types.Row) (types.Value, error) {
	out := make([]types.Value, len(e.Elems))
	for i, x := range e.Elems {
		v, err := x.Eval(ctx, row)
		if err != nil {
			return types.Null, err
		}
		out[i] = v
	}
	return types.NewArray(out), nil
}

// String implements Expr.
func (e *ArrayCtor) String() string {
	parts := make([]string, len(e.Elems))
	for i, x := range e.Elems {
		parts[i] = x.String()
	}
	return "ARRAY[" + strings.Join(parts, ", ") + "]"
}

// Subscript is arr[i]: NULL when i is NULL or out of bounds.
type Subscript struct {
	Arr, Index Expr
}

// Type implements Expr.
func (e *Subscript) Type() types.Type { return e.Arr.Type().ElemType() }

// Eval implements Expr.
func (e *Subscript) Eval(ctx *EvalContext, row types.Row) (types.Value, error) {
	a, err := e.Arr.Eval(ctx, row)
	if err != nil || a.IsNull() {
		return types.Null, err
	}
	i, err := e.Index.Eval(ctx, row)
	if err != nil || i.IsNull() {
		return types.Null, err
	}
	if i.I < 1 || i.I > int64(len(a.Arr)) {
		return types.Null, nil
	}
	return a.Arr[i.I-1], nil
}

// String implements Expr.
func (e *Subscript) String() string { return e.Arr.String() + "[" + e.Index.String() + "]" }

// NewSubscript builds arr[index], coercing the index to integer.
func NewSubscript(arr, index Expr) (Expr, error) {
	if arr.Type().Kind != types.KindArray {
		return nil, pgerr.New(pgerr.DatatypeMismatch, "cannot subscript type %s because it does not support subscripting", arr.Type())
	}
	idx, err := Coerce(index, types.Int4)
	if err != nil {
		return nil, pgerr.New(pgerr.DatatypeMismatch, "array subscript must have type integer")
	}
	return &Subscript{Arr: arr, Index: idx}, nil
}

// arrayConcat resolves || with an array on either side: array_cat,
// array_append, array_prepend.
func arrayConcat(op string, l, r types.Type) *Func {
	if op != "||" || (l.Kind != types.KindArray && r.Kind != types.KindArray) {
		return nil
	}
	switch {
	case l.Kind == types.KindArray && r.Kind == types.KindArray && sameType(l, r):
		return &Func{Name: "||", Args: []types.Type{l, r}, Ret: l, op: true, Eval: func(_ *EvalContext, a []types.Value) (types.Value, error) {
			switch {
			case a[0].IsNull():
				return a[1], nil
			case a[1].IsNull():
				return a[0], nil
			}
			out := append(append([]types.Value{}, a[0].Arr...), a[1].Arr...)
			return types.NewArray(out), nil
		}}
	case l.Kind == types.KindArray && r.Kind != types.KindArray:
		return &Func{Name: "||", Args: []types.Type{l, l.ElemType()}, Ret: l, op: true, Eval: func(_ *EvalContext, a []types.Value) (types.Value, error) {
			return types.NewArray(append(append([]types.Value{}, a[0].Arr...), a[1])), nil
		}}
	case r.Kind == types.KindArray && l.Kind != types.KindArray:
		return &Func{Name: "||", Args: []types.Type{r.ElemType(), r}, Ret: r, op: true, Eval: func(_ *EvalContext, a []types.Value) (types.Value, error) {
			return types.NewArray(append([]types.Value{a[0]}, a[1].Arr...)), nil
		}}
	}
	return nil
}

// LookupArrayFunction resolves the array functions, whose result type
// depends on their array argument: array_upper, array_lower, array_length,
// cardinality, array_to_string, array_cat, array_append. ok is false for
// other names.
func LookupArrayFunction(name string, args []types.Type) (f *Func, ok bool, err error) {
	isArr := len(args) > 0 && args[0].Kind == types.KindArray
	bad := func() (*Func, bool, error) {
		return nil, true, pgerr.New(pgerr.UndefinedFunction, "function %s(%s) does not exist", name, typeList(args)).
			WithHint("No function matches the given name and argument types. You might need to add explicit type casts.")
	}
	switch name {
	case "array_upper", "array_lower", "array_length":
		if len(args) != 2 || !isArr {
			return bad()
		}
		return &Func{Name: name, Args: []types.Type{args[0], types.Int4}, Ret: types.Int4, Strict: true,
			Eval: func(_ *EvalContext, a []types.Value) (types.Value, error) {
				n := len(a[0].Arr)
				if a[1].I != 1 || n == 0 {
					return types.Null, nil
				}
				switch name {
				case "array_lower":
					return types.NewInt4(1), nil
				}
				return types.NewInt4(int64(n)), nil
			}}, true, nil
	case "cardinality":
		if len(args) != 1 || !isArr {
			return bad()
		}
		return &Func{Name: name, Args: args, Ret: types.Int4, Strict: true,
			Eval: func(_ *EvalContext, a []types.Value) (types.Value, error) {
				return types.NewInt4(int64(len(a[0].Arr))), nil
			}}, true, nil
	case "array_to_string":
		if (len(args) != 2 && len(args) != 3) || !isArr {
			return bad()
		}
		et := args[0].ElemType()
		ats := []types.Type{args[0], types.Text, types.Text}[:len(args)]
		return &Func{Name: name, Args: ats, Ret: types.Text,
			Eval: func(ctx *EvalContext, a []types.Value) (types.Value, error) {
				if a[0].IsNull() || a[1].IsNull() {
					return types.Null, nil
				}
				var sb strings.Builder
				first := true
				for _, v := range a[0].Arr {
					s := ""
					if v.IsNull() {
						if len(a) < 3 || a[2].IsNull() {
							continue
						}
						s = a[2].S
					} else {
						s = types.FormatText(v, et, ctx.loc())
					}
					if !first {
						sb.WriteString(a[1].S)
					}
					first = false
					sb.WriteString(s)
				}
				return textVal(sb.String()), nil
			}}, true, nil
	case "array_cat":
		if len(args) != 2 {
			return bad()
		}
		t := args[0]
		if t.Kind != types.KindArray {
			t = args[1]
		}
		if f := arrayConcat("||", t, t); f != nil {
			c := *f
			c.Name, c.op = name, false
			return &c, true, nil
		}
		return bad()
	case "array_append":
		if len(args) != 2 || !isArr {
			return bad()
		}
		f := arrayConcat("||", args[0], args[0].ElemType())
		c := *f
		c.Name, c.op, c.Strict = name, false, false
		ev := f.Eval
		c.Eval = func(ctx *EvalContext, a []types.Value) (types.Value, error) {
			if a[0].IsNull() {
				return types.NewArray([]types.Value{a[1]}), nil
			}
			return ev(ctx, a)
		}
		return &c, true, nil
	}
	return nil, false, nil
}
