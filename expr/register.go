package expr

import (
	"github.com/kappa-db/kappa/types"
)

// Signatures of the fast evaluation paths.
type (
	eval1Fn = func(ctx *EvalContext, a types.Value) (types.Value, error)
	eval2Fn = func(ctx *EvalContext, a, b types.Value) (types.Value, error)
	evalFn  = func(ctx *EvalContext, args []types.Value) (types.Value, error)
)

func wrap1(f eval1Fn) evalFn {
	return func(ctx *EvalContext, args []types.Value) (types.Value, error) { return f(ctx, args[0]) }
}

func wrap2(f eval2Fn) evalFn {
	return func(ctx *EvalContext, args []types.Value) (types.Value, error) { return f(ctx, args[0], args[1]) }
}

// addBinary registers a strict binary operator.
func addBinary(op string, l, r, ret types.Type, f eval2Fn) *Func {
	fn := &Func{Name: op, Args: []types.Type{l, r}, Ret: ret, Strict: true, Eval: wrap2(f), Eval2: f, op: true}
	reg.binary[op] = append(reg.binary[op], fn)
	return fn
}

// addUnary registers a strict prefix operator.
func addUnary(op string, arg, ret types.Type, f eval1Fn) *Func {
	fn := &Func{Name: op, Args: []types.Type{arg}, Ret: ret, Strict: true, Eval: wrap1(f), Eval1: f, op: true}
	reg.unary[op] = append(reg.unary[op], fn)
	return fn
}

// addFunc registers a strict function.
func addFunc(name string, args []types.Type, ret types.Type, f evalFn) *Func {
	fn := &Func{Name: name, Args: args, Ret: ret, Strict: true, Eval: f}
	reg.funcs[name] = append(reg.funcs[name], fn)
	return fn
}

func addFunc0(name string, ret types.Type, f func(ctx *EvalContext) (types.Value, error)) *Func {
	return addFunc(name, nil, ret, func(ctx *EvalContext, _ []types.Value) (types.Value, error) { return f(ctx) })
}

func addFunc1(name string, arg, ret types.Type, f eval1Fn) *Func {
	fn := addFunc(name, []types.Type{arg}, ret, wrap1(f))
	fn.Eval1 = f
	return fn
}

func addFunc2(name string, a, b, ret types.Type, f eval2Fn) *Func {
	fn := addFunc(name, []types.Type{a, b}, ret, wrap2(f))
	fn.Eval2 = f
	return fn
}

// alias registers fn under another function name.
func alias(name string, fns ...*Func) {
	for _, f := range fns {
		c := *f
		c.Name = name
		reg.funcs[name] = append(reg.funcs[name], &c)
	}
}

// lookupExact returns a registered function by its exact signature, for
// building the library itself.
func lookupExact(m map[string][]*Func, name string, args ...types.Type) *Func {
	for _, f := range m[name] {
		if len(f.Args) != len(args) {
			continue
		}
		ok := true
		for i := range args {
			if !sameType(f.Args[i], args[i]) {
				ok = false
			}
		}
		if ok {
			return f
		}
	}
	return nil
}

func init() {
	registerArith()
	registerCompare()
	registerMath()
	registerText()
	registerDatetime()
	// Polymorphic overloads evaluate through a default specialisation when
	// used without NewCall (LookupFunction's result called directly).
	for _, m := range []map[string][]*Func{reg.binary, reg.unary, reg.funcs} {
		for _, fs := range m {
			for _, f := range fs {
				if f.bind != nil && f.Eval == nil {
					f.Eval = f.bind(f.Args).Eval
				}
			}
		}
	}
}
