package expr

import (
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/types"
)

// SetFunc is a set-returning function (generate_series, unnest...): called
// once per input row, it returns rows of Cols. exec's ProjectSet runs it.
type SetFunc struct {
	Name     string
	Args     []types.Type // the types arguments are coerced to
	Cols     []types.Type
	ColNames []string // one per column; a one-column function's column takes the call's name
	Strict   bool     // NULL in → no rows
	Gen      func(ctx *EvalContext, args []types.Value) ([]types.Row, error)
}

// IsSetFunction reports whether name is a set-returning function.
func IsSetFunction(name string) bool {
	switch name {
	case "generate_series", "unnest", "generate_subscripts", "_pg_expandarray":
		return true
	}
	return false
}

// LookupSetFunction resolves a set-returning function call by its argument
// types.
func LookupSetFunction(name string, args []types.Type) (*SetFunc, error) {
	notFound := func() error {
		return pgerr.New(pgerr.UndefinedFunction, "function %s(%s) does not exist", name, typeList(args)).
			WithHint("No function matches the given name and argument types. You might need to add explicit type casts.")
	}
	isArr := func(t types.Type) bool { return t.Kind == types.KindArray }
	switch name {
	case "generate_series":
		if len(args) != 2 && len(args) != 3 {
			return nil, notFound()
		}
		t, err := CommonType(args)
		if err != nil {
			return nil, notFound()
		}
		switch t.Kind {
		case types.KindNull, types.KindInt2, types.KindInt4:
			t = types.Int4
		case types.KindInt8, types.KindOid:
			t = types.Int8
		case types.KindNumeric, types.KindFloat4, types.KindFloat8:
			t = types.Numeric
		default:
			return nil, notFound()
		}
		if t.Kind == types.KindNumeric {
			return nil, pgerr.New(pgerr.FeatureNotSupported, "generate_series over numeric is not supported yet")
		}
		ats := []types.Type{t, t, t}[:len(args)]
		return &SetFunc{Name: name, Args: ats, Cols: []types.Type{t}, ColNames: []string{name}, Strict: true,
			Gen: func(_ *EvalContext, a []types.Value) ([]types.Row, error) {
				step := int64(1)
				if len(a) == 3 {
					step = a[2].I
				}
				if step == 0 {
					return nil, pgerr.New(pgerr.InvalidParameterValue, "step size cannot equal zero")
				}
				var out []types.Row
				for i := a[0].I; (step > 0 && i <= a[1].I) || (step < 0 && i >= a[1].I); i += step {
					out = append(out, types.Row{{K: t.Kind, I: i}})
					if len(out) > 10_000_000 {
						return nil, pgerr.New(pgerr.ProgramLimitExceeded, "generate_series of more than 10,000,000 rows is not supported")
					}
					if next := i + step; (step > 0) != (next > i) {
						break // the next value would overflow bigint: i was the last
					}
				}
				return out, nil
			}}, nil
	case "unnest":
		if len(args) != 1 || !isArr(args[0]) {
			if len(args) == 1 && args[0].Kind == types.KindNull {
				return nil, pgerr.New(pgerr.AmbiguousFunction, "function unnest(unknown) is not unique").
					WithHint("Could not choose a best candidate function. You might need to add explicit type casts.")
			}
			return nil, notFound()
		}
		et := args[0].ElemType()
		return &SetFunc{Name: name, Args: args, Cols: []types.Type{et}, ColNames: []string{name}, Strict: true,
			Gen: func(_ *EvalContext, a []types.Value) ([]types.Row, error) {
				out := make([]types.Row, len(a[0].Arr))
				for i, v := range a[0].Arr {
					out[i] = types.Row{v}
				}
				return out, nil
			}}, nil
	case "generate_subscripts":
		if (len(args) != 2 && len(args) != 3) || !isArr(args[0]) {
			return nil, notFound()
		}
		ats := []types.Type{args[0], types.Int4, types.Bool}[:len(args)]
		return &SetFunc{Name: name, Args: ats, Cols: []types.Type{types.Int4}, ColNames: []string{name}, Strict: true,
			Gen: func(_ *EvalContext, a []types.Value) ([]types.Row, error) {
				if a[1].I != 1 {
					return nil, nil
				}
				n := len(a[0].Arr)
				out := make([]types.Row, n)
				for i := range out {
					k := i + 1
					if len(a) == 3 && a[2].Bool() {
						k = n - i
					}
					out[i] = types.Row{types.NewInt4(int64(k))}
				}
				return out, nil
			}}, nil
	case "_pg_expandarray":
		// information_schema._pg_expandarray(anyarray) returns (x, n): each
		// element with its 1-based position.
		if len(args) != 1 || !isArr(args[0]) {
			return nil, notFound()
		}
		et := args[0].ElemType()
		return &SetFunc{Name: name, Args: args, Cols: []types.Type{et, types.Int4}, ColNames: []string{"x", "n"}, Strict: true,
			Gen: func(_ *EvalContext, a []types.Value) ([]types.Row, error) {
				out := make([]types.Row, len(a[0].Arr))
				for i, v := range a[0].Arr {
					out[i] = types.Row{v, types.NewInt4(int64(i + 1))}
				}
				return out, nil
			}}, nil
	}
	return nil, notFound()
}
