package expr

import (
	"strings"
	"time"

	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/types"
)

// Type categories, as pg_type.typcategory.
const (
	catBool     = 'B'
	catNumeric  = 'N'
	catString   = 'S'
	catDatetime = 'D'
	catTimespan = 'T'
	catUser     = 'U'
	catArray    = 'A'
	catUnknown  = 'X'
	catPseudo   = 'P'
)

func category(t types.Type) byte {
	if t.OID == Any.OID && t.Kind == types.KindNull {
		return catPseudo
	}
	switch t.Kind {
	case types.KindNull:
		return catUnknown
	case types.KindBool:
		return catBool
	case types.KindInt2, types.KindInt4, types.KindInt8, types.KindFloat4, types.KindFloat8, types.KindNumeric, types.KindOid:
		return catNumeric
	case types.KindText:
		return catString
	case types.KindDate, types.KindTime, types.KindTimestamp, types.KindTimestampTZ:
		return catDatetime
	case types.KindInterval:
		return catTimespan
	case types.KindArray:
		return catArray
	}
	return catUser
}

// isPreferred reports pg_type.typispreferred.
func isPreferred(t types.Type) bool {
	switch t.OID {
	case types.OidBool, types.OidFloat8, types.OidOid, types.OidText, types.OidTimestampTZ, types.OidInterval:
		return true
	}
	return false
}

func isUnknown(t types.Type) bool { return t.Kind == types.KindNull && t.OID != Any.OID }
func isAny(t types.Type) bool     { return t.Kind == types.KindNull && t.OID == Any.OID }

// sameType compares types by identity, ignoring type modifiers.
func sameType(a, b types.Type) bool {
	if a.OID != b.OID || a.Kind != b.Kind {
		return false
	}
	if a.Kind == types.KindArray {
		return a.ElemOID == b.ElemOID
	}
	return true
}

// canImplicit reports whether PostgreSQL coerces from to to implicitly (the
// pg_cast entries with castcontext 'i', plus unknown literals and "any").
func canImplicit(from, to types.Type) bool {
	if sameType(from, to) || isAny(to) || isUnknown(from) {
		return true
	}
	switch from.Kind {
	case types.KindInt2:
		switch to.Kind {
		case types.KindInt4, types.KindInt8, types.KindFloat4, types.KindFloat8, types.KindNumeric, types.KindOid:
			return true
		}
	case types.KindInt4:
		switch to.Kind {
		case types.KindInt8, types.KindFloat4, types.KindFloat8, types.KindNumeric, types.KindOid:
			return true
		}
	case types.KindInt8:
		switch to.Kind {
		case types.KindFloat4, types.KindFloat8, types.KindNumeric, types.KindOid:
			return true
		}
	case types.KindFloat4:
		return to.Kind == types.KindFloat8
	case types.KindNumeric:
		return to.Kind == types.KindFloat4 || to.Kind == types.KindFloat8
	case types.KindText:
		return to.Kind == types.KindText
	case types.KindDate:
		return to.Kind == types.KindTimestamp || to.Kind == types.KindTimestampTZ
	case types.KindTimestamp:
		return to.Kind == types.KindTimestampTZ
	case types.KindArray:
		// Arrays coerce element-wise (PostgreSQL's array coercion).
		return to.Kind == types.KindArray && canImplicit(from.ElemType(), to.ElemType())
	}
	return false
}

// canAssign reports whether an assignment coercion (INSERT, UPDATE SET)
// exists: every implicit one, number narrowing, anything to a string type,
// and datetime narrowing.
func canAssign(from, to types.Type) bool {
	if canImplicit(from, to) {
		return true
	}
	if from.Kind == types.KindArray && to.Kind == types.KindArray {
		return canAssign(from.ElemType(), to.ElemType())
	}
	fc, tc := category(from), category(to)
	switch {
	case fc == catNumeric && tc == catNumeric:
		return true
	case tc == catString && from.Kind != types.KindArray:
		return true
	case from.Kind == types.KindTimestampTZ && (to.Kind == types.KindTimestamp || to.Kind == types.KindDate || to.Kind == types.KindTime):
		return true
	case from.Kind == types.KindTimestamp && (to.Kind == types.KindDate || to.Kind == types.KindTime):
		return true
	case from.Kind == types.KindInterval && to.Kind == types.KindTime:
		return true
	case from.Kind == types.KindJSONB && to.Kind == types.KindJSONB:
		return true
	}
	return false
}

// registry holds every overload by name. It is built once at init and
// read-only afterwards.
type registry struct {
	binary map[string][]*Func
	unary  map[string][]*Func
	funcs  map[string][]*Func
}

var reg = registry{
	binary: map[string][]*Func{},
	unary:  map[string][]*Func{},
	funcs:  map[string][]*Func{},
}

func (f *Func) argType(i int) types.Type {
	if f.Variadic && i >= len(f.Args)-1 {
		return f.Args[len(f.Args)-1]
	}
	return f.Args[i]
}

func (f *Func) acceptsArity(n int) bool {
	if f.Variadic {
		return n >= len(f.Args)
	}
	return n == len(f.Args)
}

// resolveResult says how resolution ended.
type resolveResult int

const (
	resolvedNone resolveResult = iota
	resolvedOne
	resolvedAmbiguous
)

// selectCandidate is PostgreSQL's func_select_candidate (parse_func.c),
// preceded by the exact-match and coercibility filters of func_get_detail.
func selectCandidate(cands []*Func, args []types.Type) (*Func, resolveResult) {
	var fits []*Func
	for _, f := range cands {
		if !f.acceptsArity(len(args)) {
			continue
		}
		exact, ok := true, true
		for i, a := range args {
			d := f.argType(i)
			if !sameType(a, d) {
				exact = false
			}
			if !canImplicit(a, d) {
				ok = false
				break
			}
		}
		if exact && !f.Variadic {
			return f, resolvedOne
		}
		if ok {
			fits = append(fits, f)
		}
	}
	switch len(fits) {
	case 0:
		return nil, resolvedNone
	case 1:
		return fits[0], resolvedOne
	}
	nunknown := 0
	for _, a := range args {
		if isUnknown(a) {
			nunknown++
		}
	}
	// Most exact matches on known inputs.
	fits = keepBest(fits, func(f *Func) int {
		n := 0
		for i, a := range args {
			if !isUnknown(a) && sameType(a, f.argType(i)) {
				n++
			}
		}
		return n
	})
	if len(fits) == 1 {
		return fits[0], resolvedOne
	}
	// Most exact-or-preferred (in the input's category) positions.
	fits = keepBest(fits, func(f *Func) int {
		n := 0
		for i, a := range args {
			d := f.argType(i)
			if !isUnknown(a) && (sameType(a, d) || (isPreferred(d) && category(d) == category(a))) {
				n++
			}
		}
		return n
	})
	if len(fits) == 1 {
		return fits[0], resolvedOne
	}
	if nunknown == 0 {
		return nil, resolvedAmbiguous
	}
	// Resolve unknown inputs by the categories the candidates accept there:
	// string wins, otherwise all candidates must agree.
	resolved := true
	slotCat := make([]byte, len(args))
	slotPref := make([]bool, len(args))
	for i, a := range args {
		if !isUnknown(a) {
			continue
		}
		conflict := false
		for j, f := range fits {
			d := f.argType(i)
			c := category(d)
			switch {
			case j == 0:
				slotCat[i], slotPref[i] = c, isPreferred(d)
			case c == slotCat[i]:
				slotPref[i] = slotPref[i] || isPreferred(d)
			case c == catString:
				slotCat[i], slotPref[i] = c, isPreferred(d)
			default:
				conflict = true
			}
		}
		if conflict && slotCat[i] != catString {
			resolved = false
			break
		}
	}
	if resolved {
		var kept []*Func
		for _, f := range fits {
			keep := true
			for i, a := range args {
				if !isUnknown(a) {
					continue
				}
				d := f.argType(i)
				if category(d) != slotCat[i] || (slotPref[i] && !isPreferred(d)) {
					keep = false
					break
				}
			}
			if keep {
				kept = append(kept, f)
			}
		}
		if len(kept) == 1 {
			return kept[0], resolvedOne
		}
		if len(kept) > 0 {
			fits = kept
		}
	}
	// Last gasp: if all known inputs share one type, assume the unknowns
	// have it too.
	if nunknown < len(args) {
		var known types.Type
		same := true
		first := true
		for _, a := range args {
			if isUnknown(a) {
				continue
			}
			if first {
				known, first = a, false
			} else if !sameType(known, a) {
				same = false
			}
		}
		if same {
			var match *Func
			n := 0
			for _, f := range fits {
				ok := true
				for i := range args {
					if !canImplicit(known, f.argType(i)) {
						ok = false
						break
					}
				}
				if ok {
					match = f
					n++
				}
			}
			if n == 1 {
				return match, resolvedOne
			}
		}
	}
	return nil, resolvedAmbiguous
}

func keepBest(fs []*Func, score func(*Func) int) []*Func {
	best := -1
	var out []*Func
	for _, f := range fs {
		s := score(f)
		switch {
		case s > best:
			best = s
			out = append(out[:0], f)
		case s == best:
			out = append(out, f)
		}
	}
	return out
}

// LookupOperator resolves a binary operator as PostgreSQL does.
func LookupOperator(op string, left, right types.Type) (*Func, error) {
	if op == "!=" {
		op = "<>"
	}
	if op == "||" {
		if f := concatOperator(left, right); f != nil {
			return f, nil
		}
	}
	cands := reg.binary[op]
	// binary_oper_exact: an unknown side is assumed to have the other's type.
	l, r := left, right
	if isUnknown(l) && !isUnknown(r) {
		l = r
	} else if isUnknown(r) && !isUnknown(l) {
		r = l
	}
	for _, f := range cands {
		if sameType(f.Args[0], l) && sameType(f.Args[1], r) {
			return f, nil
		}
	}
	if f := arrayComparison(op, l, r); f != nil {
		return f, nil
	}
	if f := arrayConcat(op, l, r); f != nil {
		return f, nil
	}
	f, res := selectCandidate(cands, []types.Type{left, right})
	switch res {
	case resolvedOne:
		return f, nil
	case resolvedAmbiguous:
		return nil, pgerr.New(pgerr.AmbiguousFunction, "operator is not unique: %s %s %s", left, op, right).
			WithHint("Could not choose a best candidate operator. You might need to add explicit type casts.")
	}
	return nil, pgerr.New(pgerr.UndefinedFunction, "operator does not exist: %s %s %s", left, op, right).
		WithHint("No operator matches the given name and argument types. You might need to add explicit type casts.")
}

// LookupUnaryOperator resolves a prefix operator.
func LookupUnaryOperator(op string, arg types.Type) (*Func, error) {
	f, res := selectCandidate(reg.unary[op], []types.Type{arg})
	switch res {
	case resolvedOne:
		return f, nil
	case resolvedAmbiguous:
		return nil, pgerr.New(pgerr.AmbiguousFunction, "operator is not unique: %s %s", op, arg).
			WithHint("Could not choose a best candidate operator. You might need to add explicit type casts.")
	}
	return nil, pgerr.New(pgerr.UndefinedFunction, "operator does not exist: %s %s", op, arg).
		WithHint("No operator matches the given name and argument type. You might need to add an explicit type cast.")
}

// LookupFunction resolves a function call by name (case-insensitive as the
// parser folds it; a "pg_catalog." prefix is ignored).
func LookupFunction(name string, args []types.Type) (*Func, error) {
	name = strings.TrimPrefix(strings.ToLower(name), "pg_catalog.")
	cands := reg.funcs[name]
	f, res := selectCandidate(cands, args)
	switch res {
	case resolvedOne:
		return f, nil
	case resolvedAmbiguous:
		return nil, pgerr.New(pgerr.AmbiguousFunction, "function %s(%s) is not unique", name, typeList(args)).
			WithHint("Could not choose a best candidate function. You might need to add explicit type casts.")
	}
	if len(cands) == 0 && len(args) == 1 {
		// PostgreSQL treats a one-argument call of a type name as a cast.
		if t, ok := castCallTypes[name]; ok && canCast(args[0], t) {
			return castFunc(args[0], t), nil
		}
	}
	return nil, pgerr.New(pgerr.UndefinedFunction, "function %s(%s) does not exist", name, typeList(args)).
		WithHint("No function matches the given name and argument types. You might need to add explicit type casts.")
}

func typeList(ts []types.Type) string {
	var b strings.Builder
	for i, t := range ts {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(t.String())
	}
	return b.String()
}

// castCallTypes are the type names PostgreSQL accepts as function-style
// casts, int4(x) or text(x).
var castCallTypes = map[string]types.Type{
	"int2": types.Int2, "int4": types.Int4, "int8": types.Int8, "float4": types.Float4,
	"float8": types.Float8, "numeric": types.Numeric, "text": types.Text, "varchar": types.Varchar,
	"bpchar": types.Bpchar, "name": types.Name, "bool": types.Bool, "date": types.Date,
	"time": types.Time, "timestamp": types.Timestamp, "timestamptz": types.TimestampTZ,
	"interval": types.Interval, "bytea": types.Bytea, "jsonb": types.JSONB, "oid": types.Oid,
}

// castFunc wraps an explicit cast as a function, for int4(x)-style calls.
func castFunc(from, to types.Type) *Func {
	return &Func{Name: to.String(), Args: []types.Type{from}, Ret: to, Strict: true,
		Eval: func(ctx *EvalContext, args []types.Value) (types.Value, error) {
			return castValue(args[0], from, to, true, ctx.loc())
		}}
}

// canCast reports whether an explicit cast exists.
func canCast(from, to types.Type) bool {
	if isUnknown(from) || sameType(from, to) {
		return true
	}
	return types.CanCast(from, to)
}

// castValue converts a non-NULL value; unknown literals go through the
// target type's input function.
func castValue(v types.Value, from, to types.Type, explicit bool, loc *time.Location) (types.Value, error) {
	if isUnknown(from) || (isAny(from) && v.K == types.KindText) {
		if v.K != types.KindText {
			return types.Null, pgerr.New(pgerr.InternalError, "unknown-typed value of kind %s", v.K)
		}
		if to.Kind == types.KindText && to.Mod < 0 {
			return v, nil
		}
		if to.Mod < 0 {
			return types.ParseText(to, v.S, loc)
		}
		// As in PostgreSQL, the literal is read by the input function
		// without the modifier, then length-coerced with the cast's
		// semantics ('abc'::varchar(2) truncates).
		base := to
		base.Mod = -1
		pv, err := types.ParseText(base, v.S, loc)
		if err != nil {
			return types.Null, err
		}
		return types.Cast(pv, base, to, explicit, loc)
	}
	if sameType(from, to) && (to.Mod < 0 || to.Mod == from.Mod) {
		return v, nil
	}
	return types.Cast(v, from, to, explicit, loc)
}

// castUsesLoc reports whether converting from → to depends on the session
// time zone, which makes the result unfit for plan-time folding without a
// context.
func castUsesLoc(from, to types.Type) bool {
	return (from.Kind == types.KindTimestampTZ) != (to.Kind == types.KindTimestampTZ)
}

// Coerce converts e to type to with an implicit or assignment coercion, as
// PostgreSQL does for function arguments, CASE branches and INSERT values.
// Constants are folded (an Unknown literal 'abc' goes through the type's
// input function now), except where the result depends on the session time
// zone: those stay Cast nodes for Fold with an EvalContext.
func Coerce(e Expr, to types.Type) (Expr, error) {
	from := e.Type()
	if isAny(to) {
		if isUnknown(from) {
			to = types.Text
		} else {
			return e, nil
		}
	}
	if sameType(from, to) && (to.Mod < 0 || from.Mod == to.Mod) {
		return e, nil
	}
	if !canAssign(from, to) {
		return nil, pgerr.New(pgerr.DatatypeMismatch, "expression of type %s cannot be coerced to %s", from, to).
			WithHint("You will need to rewrite or cast the expression.")
	}
	if isRelabel(from, to) {
		return &Cast{Arg: e, To: to}, nil
	}
	return foldCast(&Cast{Arg: e, To: to})
}

// isRelabel reports whether a cast changes only the type's label: the same
// physical kind with no modifier to enforce (varchar → text), except bpchar,
// whose cast strips trailing blanks.
func isRelabel(from, to types.Type) bool {
	return from.Kind == to.Kind && to.Mod < 0 && from.Kind != types.KindArray &&
		from.OID != types.OidBpchar && !isUnknown(from) && !isAny(from)
}

// CastTo is an explicit CAST(e AS to) / e::to: any cast PostgreSQL allows.
func CastTo(e Expr, to types.Type) (Expr, error) {
	from := e.Type()
	if !canCast(from, to) {
		return nil, pgerr.New(pgerr.CannotCoerce, "cannot cast type %s to %s", from, to)
	}
	return foldCast(&Cast{Arg: e, To: to, Explicit: true})
}

// foldCast evaluates a cast of a constant now when the result cannot depend
// on the session.
func foldCast(c *Cast) (Expr, error) {
	k, ok := c.Arg.(*Const)
	if !ok {
		return c, nil
	}
	if k.V.IsNull() {
		return &Const{V: types.Null, T: c.To}, nil
	}
	if castUsesLoc(c.Arg.Type(), c.To) {
		return c, nil
	}
	v, err := castValue(k.V, k.T, c.To, c.Explicit, time.UTC)
	if err != nil {
		return nil, err
	}
	return &Const{V: v, T: c.To}, nil
}

// CommonType is PostgreSQL's select_common_type: the type that UNION, CASE,
// COALESCE, GREATEST and IN lists resolve their inputs to. All-unknown
// inputs resolve to text.
func CommonType(ts []types.Type) (types.Type, error) { return CommonTypeIn("", ts) }

// CommonTypeIn is CommonType with the construct's name ("CASE", "UNION",
// "COALESCE") for the error message, as PostgreSQL words it.
func CommonTypeIn(construct string, ts []types.Type) (types.Type, error) {
	if len(ts) == 0 {
		return types.Text, nil
	}
	allSame := true
	for _, t := range ts[1:] {
		if !sameType(t, ts[0]) {
			allSame = false
			break
		}
	}
	if allSame {
		if isUnknown(ts[0]) {
			return types.Text, nil
		}
		return withCommonMod(ts[0], ts), nil
	}
	p := ts[0]
	for _, n := range ts[1:] {
		if isUnknown(n) || sameType(n, p) {
			continue
		}
		switch {
		case isUnknown(p):
			p = n
		case category(n) != category(p):
			prefix := ""
			if construct != "" {
				prefix = construct + " "
			}
			return types.Type{}, pgerr.New(pgerr.DatatypeMismatch, "%stypes %s and %s cannot be matched", prefix, p, n)
		case !isPreferred(p) && canImplicit(p, n) && !canImplicit(n, p):
			p = n
		}
	}
	if isUnknown(p) {
		return types.Text, nil
	}
	return withCommonMod(p, ts), nil
}

// withCommonMod keeps a type modifier only when every input of the chosen
// type has the same one (select_common_typmod).
func withCommonMod(t types.Type, ts []types.Type) types.Type {
	mod := int32(-2)
	for _, x := range ts {
		if isUnknown(x) {
			continue
		}
		if !sameType(x, t) {
			mod = -1
			break
		}
		if mod == -2 {
			mod = x.Mod
		} else if mod != x.Mod {
			mod = -1
		}
	}
	if mod == -2 {
		mod = -1
	}
	t.Mod = mod
	return t
}

// IsConst reports whether e can be computed without a row or parameters and
// gives the same value every time in a statement (no volatile calls).
func IsConst(e Expr) bool {
	switch n := e.(type) {
	case *Const:
		return true
	case *ColRef, *Param:
		return false
	case *Call:
		if n.Fn.Volatile {
			return false
		}
		return allConst(n.Args)
	case *Cast:
		return IsConst(n.Arg)
	case *And:
		return allConst(n.Args)
	case *Or:
		return allConst(n.Args)
	case *Not:
		return IsConst(n.Arg)
	case *IsNull:
		return IsConst(n.Arg)
	case *IsBool:
		return IsConst(n.Arg)
	case *IsDistinct:
		return IsConst(n.L) && IsConst(n.R)
	case *NullIf:
		return IsConst(n.L) && IsConst(n.R)
	case *Coalesce:
		return allConst(n.Args)
	case *Greatest:
		return allConst(n.Args)
	case *InList:
		return IsConst(n.Arg) && allConst(n.List)
	case *ScalarArrayOp:
		return IsConst(n.Arg) && IsConst(n.Array)
	case *Case:
		for _, w := range n.Whens {
			if !IsConst(w.Cond) || !IsConst(w.Then) {
				return false
			}
		}
		return n.Else == nil || IsConst(n.Else)
	}
	return false
}

func allConst(es []Expr) bool {
	for _, e := range es {
		if !IsConst(e) {
			return false
		}
	}
	return true
}

// Fold replaces every constant, non-volatile subtree of e by its value.
// A subtree whose evaluation fails is left as it is, so the error surfaces
// only if the row path really evaluates it (CASE WHEN false THEN 1/0).
// ctx may be nil (UTC, no parameters).
func Fold(e Expr, ctx *EvalContext) Expr {
	if ctx == nil {
		ctx = &EvalContext{}
	}
	return fold(e, ctx)
}

func fold(e Expr, ctx *EvalContext) Expr {
	switch n := e.(type) {
	case *Const, *ColRef, *Param:
		return e
	case *Call:
		e = &Call{Fn: n.Fn, Args: foldList(n.Args, ctx)}
	case *Cast:
		c := *n
		c.Arg = fold(n.Arg, ctx)
		e = &c
	case *And:
		e = &And{Args: foldList(n.Args, ctx)}
	case *Or:
		e = &Or{Args: foldList(n.Args, ctx)}
	case *Not:
		e = &Not{Arg: fold(n.Arg, ctx)}
	case *IsNull:
		e = &IsNull{Arg: fold(n.Arg, ctx), Negate: n.Negate}
	case *IsBool:
		e = &IsBool{Arg: fold(n.Arg, ctx), Want: n.Want, Negate: n.Negate}
	case *IsDistinct:
		e = &IsDistinct{L: fold(n.L, ctx), R: fold(n.R, ctx), Negate: n.Negate, Cmp: n.Cmp}
	case *NullIf:
		e = &NullIf{L: fold(n.L, ctx), R: fold(n.R, ctx), Eq: n.Eq}
	case *Coalesce:
		e = &Coalesce{Args: foldList(n.Args, ctx), T: n.T}
	case *Greatest:
		e = &Greatest{Args: foldList(n.Args, ctx), T: n.T, Least: n.Least}
	case *InList:
		e = &InList{Arg: fold(n.Arg, ctx), List: foldList(n.List, ctx), Negate: n.Negate, Eq: n.Eq}
	case *ScalarArrayOp:
		e = &ScalarArrayOp{Arg: fold(n.Arg, ctx), Array: fold(n.Array, ctx), Cmp: n.Cmp, All: n.All}
	case *Case:
		c := &Case{Whens: make([]When, len(n.Whens)), T: n.T}
		for i, w := range n.Whens {
			c.Whens[i] = When{Cond: fold(w.Cond, ctx), Then: fold(w.Then, ctx)}
		}
		if n.Else != nil {
			c.Else = fold(n.Else, ctx)
		}
		e = c
	default:
		return e
	}
	if !IsConst(e) {
		return e
	}
	v, err := e.Eval(ctx, nil)
	if err != nil {
		return e
	}
	return &Const{V: v, T: e.Type()}
}

func foldList(es []Expr, ctx *EvalContext) []Expr {
	out := make([]Expr, len(es))
	for i, x := range es {
		out[i] = fold(x, ctx)
	}
	return out
}

func errNoParam(idx int) error {
	return pgerr.New(pgerr.UndefinedParameter, "there is no parameter $%d", idx+1)
}
