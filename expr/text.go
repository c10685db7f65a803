package expr

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"math"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/types"
)

func textVal(s string) types.Value { return types.Value{K: types.KindText, S: s} }
func int4Val(i int64) types.Value  { return types.Value{K: types.KindInt4, I: i} }

var (
	errNegSubstr  = pgerr.New("22011", "negative substring length not allowed")
	errLikeEscape = pgerr.New(pgerr.InvalidEscapeSequence, "LIKE pattern must not end with escape character")
)

// runeSlice returns the characters [from, to) of s (0-based, clamped).
func runeSlice(s string, from, to int64) string {
	if from < 0 {
		from = 0
	}
	if to <= from {
		return ""
	}
	start, i := -1, int64(0)
	for pos := range s {
		if i == from {
			start = pos
		}
		if i == to {
			if start < 0 {
				return ""
			}
			return s[start:pos]
		}
		i++
	}
	if start < 0 {
		return ""
	}
	return s[start:]
}

// substr is text_substr: characters numbered from 1, a start before 1
// shortens the result rather than moving it.
func substr(_ *EvalContext, args []types.Value) (types.Value, error) {
	s, start := args[0].S, args[1].I
	if len(args) == 2 {
		return textVal(runeSlice(s, start-1, math.MaxInt64)), nil
	}
	n := args[2].I
	if n < 0 {
		return types.Null, errNegSubstr
	}
	end := start + n // int4 inputs: cannot overflow int64
	return textVal(runeSlice(s, start-1, end-1)), nil
}

func byteaSubstr(_ *EvalContext, args []types.Value) (types.Value, error) {
	s, start := args[0].S, args[1].I
	end := int64(len(s)) + 1
	if len(args) == 3 {
		if args[2].I < 0 {
			return types.Null, errNegSubstr
		}
		end = min(start+args[2].I, end)
	}
	start = max(start, 1)
	if end <= start {
		return types.Value{K: types.KindBytea}, nil
	}
	return types.Value{K: types.KindBytea, S: s[start-1 : end-1]}, nil
}

func strpos(_ *EvalContext, a, b types.Value) (types.Value, error) {
	i := strings.Index(a.S, b.S)
	if i < 0 {
		return int4Val(0), nil
	}
	return int4Val(int64(utf8.RuneCountInString(a.S[:i])) + 1), nil
}

func splitPart(_ *EvalContext, args []types.Value) (types.Value, error) {
	s, delim, n := args[0].S, args[1].S, args[2].I
	if n == 0 {
		return types.Null, pgerr.New(pgerr.InvalidParameterValue, "field position must not be zero")
	}
	var parts []string
	if delim == "" {
		parts = []string{s}
		if s == "" {
			return textVal(""), nil
		}
	} else {
		parts = strings.Split(s, delim)
	}
	if n < 0 {
		n = int64(len(parts)) + n + 1
	}
	if n < 1 || n > int64(len(parts)) {
		return textVal(""), nil
	}
	return textVal(parts[n-1]), nil
}

func trimSet(chars string) func(r rune) bool {
	return func(r rune) bool { return strings.ContainsRune(chars, r) }
}

func trimFn(left, right bool) evalFn {
	return func(_ *EvalContext, args []types.Value) (types.Value, error) {
		chars := " "
		if len(args) > 1 {
			chars = args[1].S
		}
		s := args[0].S
		f := trimSet(chars)
		if left {
			s = strings.TrimLeftFunc(s, f)
		}
		if right {
			s = strings.TrimRightFunc(s, f)
		}
		return textVal(s), nil
	}
}

// maxStringLen bounds results like repeat() and lpad() (PostgreSQL's 1GB
// varlena limit, with its error).
const maxStringLen = 1<<30 - 1

var errTooLong = pgerr.New(pgerr.ProgramLimitExceeded, "requested length too large")

func padFn(left bool) evalFn {
	return func(_ *EvalContext, args []types.Value) (types.Value, error) {
		s, n := args[0].S, args[1].I
		fill := " "
		if len(args) > 2 {
			fill = args[2].S
		}
		if n < 0 {
			n = 0
		}
		if n > maxStringLen {
			return types.Null, errTooLong
		}
		have := int64(utf8.RuneCountInString(s))
		if have >= n || fill == "" {
			return textVal(runeSlice(s, 0, n)), nil
		}
		need := n - have
		fr := []rune(fill)
		var b strings.Builder
		if !left {
			b.WriteString(s)
		}
		for i := int64(0); i < need; i++ {
			b.WriteRune(fr[i%int64(len(fr))])
		}
		if left {
			b.WriteString(s)
		}
		return textVal(b.String()), nil
	}
}

func leftFn(_ *EvalContext, a, b types.Value) (types.Value, error) {
	n := b.I
	if n < 0 {
		n += int64(utf8.RuneCountInString(a.S))
	}
	return textVal(runeSlice(a.S, 0, n)), nil
}

func rightFn(_ *EvalContext, a, b types.Value) (types.Value, error) {
	l := int64(utf8.RuneCountInString(a.S))
	n := b.I
	if n < 0 {
		return textVal(runeSlice(a.S, -n, l)), nil
	}
	return textVal(runeSlice(a.S, l-n, l)), nil
}

func repeatFn(_ *EvalContext, a, b types.Value) (types.Value, error) {
	if b.I <= 0 || a.S == "" {
		return textVal(""), nil
	}
	if int64(len(a.S))*b.I > maxStringLen {
		return types.Null, errTooLong
	}
	return textVal(strings.Repeat(a.S, int(b.I))), nil
}

func reverseFn(_ *EvalContext, a types.Value) (types.Value, error) {
	r := []rune(a.S)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return textVal(string(r)), nil
}

// initcap upper-cases the first letter of each run of letters and digits
// and lower-cases the rest, as PostgreSQL does.
func initcap(_ *EvalContext, a types.Value) (types.Value, error) {
	var b strings.Builder
	inWord := false
	for _, r := range a.S {
		if inWord {
			b.WriteRune(unicode.ToLower(r))
		} else {
			b.WriteRune(unicode.ToUpper(r))
		}
		inWord = unicode.IsLetter(r) || unicode.IsDigit(r)
	}
	return textVal(b.String()), nil
}

func toHex(_ *EvalContext, a types.Value) (types.Value, error) {
	u := uint64(a.I)
	if a.K == types.KindInt4 {
		u = uint64(uint32(a.I))
	}
	return textVal(strconv.FormatUint(u, 16)), nil
}

func asciiFn(_ *EvalContext, a types.Value) (types.Value, error) {
	if a.S == "" {
		return int4Val(0), nil
	}
	r, _ := utf8.DecodeRuneInString(a.S)
	return int4Val(int64(r)), nil
}

func chrFn(_ *EvalContext, a types.Value) (types.Value, error) {
	switch {
	case a.I == 0:
		return types.Null, pgerr.New(pgerr.ProgramLimitExceeded, "null character not permitted")
	case a.I < 0:
		return types.Null, pgerr.New(pgerr.ProgramLimitExceeded, "character number must be positive")
	case a.I > unicode.MaxRune || (a.I >= 0xD800 && a.I <= 0xDFFF):
		return types.Null, pgerr.New(pgerr.ProgramLimitExceeded, "requested character too large for encoding: %d", a.I)
	}
	return textVal(string(rune(a.I))), nil
}

func translateFn(_ *EvalContext, args []types.Value) (types.Value, error) {
	from, to := []rune(args[1].S), []rune(args[2].S)
	var b strings.Builder
	for _, r := range args[0].S {
		i := -1
		for j, f := range from {
			if f == r {
				i = j
				break
			}
		}
		switch {
		case i < 0:
			b.WriteRune(r)
		case i < len(to):
			b.WriteRune(to[i])
		}
	}
	return textVal(b.String()), nil
}

// concat and concat_ws format each argument with its type's output
// function; bind specialises them to the call's argument types.
func concatBind(ws bool) func(ts []types.Type) *Func {
	return func(ts []types.Type) *Func {
		name := "concat"
		if ws {
			name = "concat_ws"
		}
		return &Func{Name: name, Args: ts, Ret: types.Text, Eval: func(ctx *EvalContext, args []types.Value) (types.Value, error) {
			var b []byte
			sep := ""
			start := 0
			if ws {
				if args[0].IsNull() {
					return types.Null, nil
				}
				sep, start = args[0].S, 1
			}
			first := true
			for i := start; i < len(args); i++ {
				if args[i].IsNull() {
					continue
				}
				if !first {
					b = append(b, sep...)
				}
				first = false
				t := Any
				if i < len(ts) {
					t = ts[i]
				}
				b = appendOut(b, args[i], t, ctx)
			}
			return textVal(string(b)), nil
		}}
	}
}

// appendOut appends a value's text form (its output function).
func appendOut(b []byte, v types.Value, t types.Type, ctx *EvalContext) []byte {
	if v.K == types.KindText {
		return append(b, v.S...)
	}
	if isAny(t) || isUnknown(t) {
		t = types.ByKind(v.K)
	}
	return types.AppendText(b, v, t, ctx.loc())
}

// concatOperator resolves || when one side is text and the other is not:
// PostgreSQL's textanycat/anytextcat, which cast the other side to text
// ('a' || true is 'atrue', where concat('a', true) is 'at').
func concatOperator(l, r types.Type) *Func {
	str := func(t types.Type) bool { return category(t) == catString || isUnknown(t) }
	other := func(t types.Type) bool { return !str(t) && t.Kind != types.KindArray && !isAny(t) }
	switch {
	case str(l) && str(r):
		return lookupExact(reg.binary, "||", types.Text, types.Text)
	case isUnknown(l) && r.Kind == types.KindBytea, isUnknown(r) && l.Kind == types.KindBytea:
		return nil
	case str(l) && other(r):
		f := func(ctx *EvalContext, a, b types.Value) (types.Value, error) {
			bs, err := castValue(b, r, types.Text, true, ctx.loc())
			if err != nil {
				return types.Null, err
			}
			return textVal(a.S + bs.S), nil
		}
		return &Func{Name: "||", Args: []types.Type{types.Text, r}, Ret: types.Text, Strict: true, op: true, Eval2: f, Eval: wrap2(f)}
	case other(l) && str(r):
		f := func(ctx *EvalContext, a, b types.Value) (types.Value, error) {
			as, err := castValue(a, l, types.Text, true, ctx.loc())
			if err != nil {
				return types.Null, err
			}
			return textVal(as.S + b.S), nil
		}
		return &Func{Name: "||", Args: []types.Type{l, types.Text}, Ret: types.Text, Strict: true, op: true, Eval2: f, Eval: wrap2(f)}
	}
	return nil
}

// LIKE. A pattern compiles to tokens; matching backtracks only on %.

type likeTok struct {
	kind byte // 'l' literal, '_' one character, '%' any run
	lit  string
}

type likePattern struct {
	toks []likeTok
	fold bool // ILIKE
}

func compileLike(p string, fold bool) (*likePattern, error) {
	if fold {
		p = strings.ToLower(p)
	}
	lp := &likePattern{fold: fold}
	var lit []byte
	flush := func() {
		if len(lit) > 0 {
			lp.toks = append(lp.toks, likeTok{kind: 'l', lit: string(lit)})
			lit = lit[:0]
		}
	}
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '\\':
			if i+1 >= len(p) {
				// PostgreSQL complains only if matching gets this far.
				flush()
				lp.toks = append(lp.toks, likeTok{kind: 'E'})
				continue
			}
			i++
			lit = append(lit, p[i])
		case '%':
			flush()
			if n := len(lp.toks); n == 0 || lp.toks[n-1].kind != '%' {
				lp.toks = append(lp.toks, likeTok{kind: '%'})
			}
		case '_':
			flush()
			lp.toks = append(lp.toks, likeTok{kind: '_'})
		default:
			lit = append(lit, c)
		}
	}
	flush()
	return lp, nil
}

func (lp *likePattern) match(s string) (bool, error) {
	if lp.fold {
		s = strings.ToLower(s)
	}
	var bad bool
	ok := likeMatch(lp.toks, s, &bad)
	if bad {
		return false, errLikeEscape
	}
	return ok, nil
}

// likeMatch matches s against toks; reaching a trailing escape with text
// left sets *bad.
func likeMatch(toks []likeTok, s string, bad *bool) bool {
	for len(toks) > 0 {
		t := toks[0]
		switch t.kind {
		case 'E':
			if s != "" {
				*bad = true
			}
			return false
		case 'l':
			if !strings.HasPrefix(s, t.lit) {
				return false
			}
			s = s[len(t.lit):]
		case '_':
			if s == "" {
				return false
			}
			_, n := utf8.DecodeRuneInString(s)
			s = s[n:]
		case '%':
			rest := toks[1:]
			if len(rest) == 0 {
				return true
			}
			if rest[0].kind == 'l' {
				// Try each occurrence of the next literal.
				for i := 0; i <= len(s); {
					j := strings.Index(s[i:], rest[0].lit)
					if j < 0 {
						return false
					}
					if likeMatch(rest[1:], s[i+j+len(rest[0].lit):], bad) {
						return true
					}
					i += j + 1
				}
				return false
			}
			for i := 0; i <= len(s); {
				if likeMatch(rest, s[i:], bad) {
					return true
				}
				if i == len(s) {
					break
				}
				_, n := utf8.DecodeRuneInString(s[i:])
				i += n
			}
			return false
		}
		toks = toks[1:]
	}
	return s == ""
}

// lastCompiled caches the most recent pattern of one call site, so a
// constant pattern compiles once and a column of patterns still works.
type lastCompiled[T any] struct {
	p atomic.Pointer[compiledEntry[T]]
}

type compiledEntry[T any] struct {
	pattern string
	v       T
}

func (c *lastCompiled[T]) get(pattern string, compile func(string) (T, error)) (T, error) {
	if e := c.p.Load(); e != nil && e.pattern == pattern {
		return e.v, nil
	}
	v, err := compile(pattern)
	if err != nil {
		return v, err
	}
	c.p.Store(&compiledEntry[T]{pattern: pattern, v: v})
	return v, nil
}

// likeFunc builds one call site's LIKE operator with its own cache.
func likeFunc(name string, fold, negate bool) *Func {
	var cache lastCompiled[*likePattern]
	compile := func(p string) (*likePattern, error) { return compileLike(p, fold) }
	f := func(_ *EvalContext, a, b types.Value) (types.Value, error) {
		lp, err := cache.get(b.S, compile)
		if err != nil {
			return types.Null, err
		}
		m, err := lp.match(a.S)
		if err != nil {
			return types.Null, err
		}
		return boolVal(m != negate), nil
	}
	return &Func{Name: name, Args: []types.Type{types.Text, types.Text}, Ret: types.Bool, Strict: true, op: true,
		Eval2: f, Eval: wrap2(f)}
}

// likeEscape rewrites a pattern with a custom ESCAPE character into one
// with backslash escapes (PostgreSQL's like_escape).
func likeEscape(_ *EvalContext, a, b types.Value) (types.Value, error) {
	p, esc := a.S, b.S
	if esc == `\` {
		return a, nil
	}
	var out strings.Builder
	if esc == "" {
		for _, r := range p {
			if r == '\\' {
				out.WriteByte('\\')
			}
			out.WriteRune(r)
		}
		return textVal(out.String()), nil
	}
	if utf8.RuneCountInString(esc) != 1 {
		return types.Null, pgerr.New(pgerr.InvalidEscapeSequence, "invalid escape string").
			WithHint("Escape string must be empty or one character.")
	}
	e, _ := utf8.DecodeRuneInString(esc)
	rs := []rune(p)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == e:
			if i+1 >= len(rs) {
				return types.Null, errLikeEscape
			}
			i++
			out.WriteByte('\\')
			out.WriteRune(rs[i])
		case r == '\\':
			out.WriteString(`\\`)
		default:
			out.WriteRune(r)
		}
	}
	return textVal(out.String()), nil
}

// similarToRegex translates a SIMILAR TO pattern into an anchored regular
// expression (PostgreSQL's similar_escape): % and _ become .* and ., the
// regex metacharacters SQL does not share are escaped.
func similarToRegex(p, esc string) (types.Value, error) {
	var escape rune = -1
	switch utf8.RuneCountInString(esc) {
	case 0:
	case 1:
		escape, _ = utf8.DecodeRuneInString(esc)
	default:
		return types.Null, pgerr.New(pgerr.InvalidEscapeSequence, "invalid escape string").
			WithHint("Escape string must be empty or one character.")
	}
	var b strings.Builder
	b.WriteString("^(?:")
	afterEscape, inClass := false, false
	for _, c := range p {
		switch {
		case afterEscape:
			b.WriteByte('\\')
			b.WriteRune(c)
			afterEscape = false
		case c == escape:
			afterEscape = true
		case inClass:
			if c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteRune(c)
			if c == ']' {
				inClass = false
			}
		case c == '[':
			b.WriteRune(c)
			inClass = true
		case c == '%':
			b.WriteString(".*")
		case c == '_':
			b.WriteByte('.')
		case c == '(':
			b.WriteString("(?:")
		case c == '\\' || c == '.' || c == '^' || c == '$':
			b.WriteByte('\\')
			b.WriteRune(c)
		default:
			b.WriteRune(c)
		}
	}
	if afterEscape {
		return types.Null, pgerr.New(pgerr.InvalidEscapeSequence, "invalid escape string")
	}
	b.WriteString(")$")
	return textVal(b.String()), nil
}

// Regular expressions (Go's RE2 syntax).

func compileRegex(p string, flags string) (*regexp.Regexp, error) {
	prefix := ""
	for _, f := range flags {
		switch f {
		case 'i':
			prefix = "(?i)"
		case 'g', 'c':
		case 'n', 'm':
			prefix += "(?m)"
		case 's':
			prefix += "(?s)"
		default:
			return nil, pgerr.New(pgerr.InvalidParameterValue, "invalid regular expression option: \"%c\"", f)
		}
	}
	re, err := regexp.Compile(prefix + p)
	if err != nil {
		return nil, pgerr.New("2201B", "invalid regular expression: %s", regexErrorText(err))
	}
	return re, nil
}

// regexErrorText words RE2's common complaints as PostgreSQL's regex
// library does.
func regexErrorText(err error) string {
	var se *syntax.Error
	if errors.As(err, &se) {
		switch se.Code {
		case syntax.ErrMissingParen, syntax.ErrUnexpectedParen:
			return "parentheses () not balanced"
		case syntax.ErrMissingBracket:
			return "brackets [] not balanced"
		case syntax.ErrMissingRepeatArgument, syntax.ErrInvalidRepeatOp:
			return "quantifier operand invalid"
		case syntax.ErrInvalidEscape, syntax.ErrTrailingBackslash:
			return "invalid escape \\ sequence"
		case syntax.ErrInvalidRepeatSize:
			return "invalid repetition count(s)"
		}
	}
	return strings.TrimPrefix(err.Error(), "error parsing regexp: ")
}

func regexFunc(name string, fold, negate bool) *Func {
	var cache lastCompiled[*regexp.Regexp]
	flags := ""
	if fold {
		flags = "i"
	}
	compile := func(p string) (*regexp.Regexp, error) { return compileRegex(p, flags) }
	f := func(_ *EvalContext, a, b types.Value) (types.Value, error) {
		re, err := cache.get(b.S, compile)
		if err != nil {
			return types.Null, err
		}
		return boolVal(re.MatchString(a.S) != negate), nil
	}
	return &Func{Name: name, Args: []types.Type{types.Text, types.Text}, Ret: types.Bool, Strict: true, op: true,
		Eval2: f, Eval: wrap2(f)}
}

// regexWithFlags caches on pattern and flags together.
type regexCache struct{ lastCompiled[*regexp.Regexp] }

func (c *regexCache) compile(p, flags string) (*regexp.Regexp, error) {
	return c.get(flags+"\x00"+p, func(key string) (*regexp.Regexp, error) {
		i := strings.IndexByte(key, 0)
		return compileRegex(key[i+1:], key[:i])
	})
}

// expandReplacement applies PostgreSQL's replacement syntax: \1..\9 are
// groups, \& the whole match, \\ a backslash.
func expandReplacement(dst []byte, repl string, s string, m []int) []byte {
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		if c != '\\' || i+1 >= len(repl) {
			dst = append(dst, c)
			continue
		}
		n := repl[i+1]
		switch {
		case n >= '1' && n <= '9':
			g := int(n - '0')
			if 2*g+1 < len(m) && m[2*g] >= 0 {
				dst = append(dst, s[m[2*g]:m[2*g+1]]...)
			}
			i++
		case n == '&':
			dst = append(dst, s[m[0]:m[1]]...)
			i++
		case n == '\\':
			dst = append(dst, '\\')
			i++
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

func regexpReplaceBind(ts []types.Type) *Func {
	var cache regexCache
	return &Func{Name: "regexp_replace", Args: ts, Ret: types.Text, Strict: true,
		Eval: func(_ *EvalContext, args []types.Value) (types.Value, error) {
			flags := ""
			if len(args) > 3 {
				flags = args[3].S
			}
			re, err := cache.compile(args[1].S, flags)
			if err != nil {
				return types.Null, err
			}
			s, repl := args[0].S, args[2].S
			global := strings.ContainsRune(flags, 'g')
			var out []byte
			last := 0
			for _, m := range re.FindAllStringSubmatchIndex(s, -1) {
				out = append(out, s[last:m[0]]...)
				out = expandReplacement(out, repl, s, m)
				last = m[1]
				if !global {
					break
				}
			}
			out = append(out, s[last:]...)
			return textVal(string(out)), nil
		}}
}

var textArray = types.ArrayOf(types.Text)

func regexpMatchBind(ts []types.Type) *Func {
	var cache regexCache
	return &Func{Name: "regexp_match", Args: ts, Ret: textArray, Strict: true,
		Eval: func(_ *EvalContext, args []types.Value) (types.Value, error) {
			flags := ""
			if len(args) > 2 {
				flags = args[2].S
				if strings.ContainsRune(flags, 'g') {
					return types.Null, pgerr.New(pgerr.InvalidParameterValue, "regexp_match() does not support the \"global\" option").
						WithHint("Use the regexp_matches function instead.")
				}
			}
			re, err := cache.compile(args[1].S, flags)
			if err != nil {
				return types.Null, err
			}
			m := re.FindStringSubmatchIndex(args[0].S)
			if m == nil {
				return types.Null, nil
			}
			s := args[0].S
			if len(m) == 2 {
				return types.NewArray([]types.Value{textVal(s[m[0]:m[1]])}), nil
			}
			arr := make([]types.Value, 0, len(m)/2-1)
			for g := 1; g < len(m)/2; g++ {
				if m[2*g] < 0 {
					arr = append(arr, types.Null)
				} else {
					arr = append(arr, textVal(s[m[2*g]:m[2*g+1]]))
				}
			}
			return types.NewArray(arr), nil
		}}
}

func regexpLikeBind(ts []types.Type) *Func {
	var cache regexCache
	return &Func{Name: "regexp_like", Args: ts, Ret: types.Bool, Strict: true,
		Eval: func(_ *EvalContext, args []types.Value) (types.Value, error) {
			flags := ""
			if len(args) > 2 {
				flags = args[2].S
			}
			re, err := cache.compile(args[1].S, flags)
			if err != nil {
				return types.Null, err
			}
			return boolVal(re.MatchString(args[0].S)), nil
		}}
}

// substringRegexBind is substring(text FROM pattern): the first
// parenthesized group's match, or the whole match.
func substringRegexBind(ts []types.Type) *Func {
	var cache regexCache
	return &Func{Name: "substring", Args: ts, Ret: types.Text, Strict: true,
		Eval: func(_ *EvalContext, args []types.Value) (types.Value, error) {
			re, err := cache.compile(args[1].S, "")
			if err != nil {
				return types.Null, err
			}
			s := args[0].S
			m := re.FindStringSubmatchIndex(s)
			switch {
			case m == nil:
				return types.Null, nil
			case len(m) > 2:
				if m[2] < 0 {
					return types.Null, nil
				}
				return textVal(s[m[2]:m[3]]), nil
			}
			return textVal(s[m[0]:m[1]]), nil
		}}
}

func registerText() {
	t, i4, b := types.Text, types.Int4, types.Bool
	addBinary("||", t, t, t, func(_ *EvalContext, a, b types.Value) (types.Value, error) {
		return textVal(a.S + b.S), nil
	})
	addBinary("||", types.Bytea, types.Bytea, types.Bytea, func(_ *EvalContext, a, b types.Value) (types.Value, error) {
		return types.Value{K: types.KindBytea, S: a.S + b.S}, nil
	})
	addFunc1("lower", t, t, func(_ *EvalContext, a types.Value) (types.Value, error) { return textVal(strings.ToLower(a.S)), nil })
	addFunc1("upper", t, t, func(_ *EvalContext, a types.Value) (types.Value, error) { return textVal(strings.ToUpper(a.S)), nil })
	addFunc1("initcap", t, t, initcap)
	charLen := func(_ *EvalContext, a types.Value) (types.Value, error) {
		return int4Val(int64(utf8.RuneCountInString(a.S))), nil
	}
	byteLen := func(_ *EvalContext, a types.Value) (types.Value, error) { return int4Val(int64(len(a.S))), nil }
	for _, n := range []string{"length", "char_length", "character_length"} {
		addFunc1(n, t, i4, charLen)
	}
	addFunc1("length", types.Bytea, i4, byteLen)
	addFunc1("octet_length", t, i4, byteLen)
	// octet_length(character) counts the padding; length(character)
	// does not (it takes the text cast, which strips it).
	addFunc1("octet_length", types.Bpchar, i4, byteLen)
	addFunc1("octet_length", types.Bytea, i4, byteLen)
	addFunc1("bit_length", t, i4, func(_ *EvalContext, a types.Value) (types.Value, error) { return int4Val(int64(len(a.S)) * 8), nil })
	for _, n := range []string{"substring", "substr"} {
		addFunc(n, []types.Type{t, i4}, t, substr)
		addFunc(n, []types.Type{t, i4, i4}, t, substr)
		addFunc(n, []types.Type{types.Bytea, i4}, types.Bytea, byteaSubstr)
		addFunc(n, []types.Type{types.Bytea, i4, i4}, types.Bytea, byteaSubstr)
	}
	addFunc("substring", []types.Type{t, t}, t, nil).bind = substringRegexBind
	addFunc2("strpos", t, t, i4, strpos)
	addFunc2("position", t, t, i4, strpos)
	addFunc("replace", []types.Type{t, t, t}, t, func(_ *EvalContext, args []types.Value) (types.Value, error) {
		if args[1].S == "" {
			return args[0], nil
		}
		return textVal(strings.ReplaceAll(args[0].S, args[1].S, args[2].S)), nil
	})
	addFunc("split_part", []types.Type{t, t, i4}, t, splitPart)
	for _, n := range []struct {
		name        string
		left, right bool
	}{{"btrim", true, true}, {"ltrim", true, false}, {"rtrim", false, true}} {
		addFunc(n.name, []types.Type{t}, t, trimFn(n.left, n.right))
		addFunc(n.name, []types.Type{t, t}, t, trimFn(n.left, n.right))
	}
	addFunc("lpad", []types.Type{t, i4}, t, padFn(true))
	addFunc("lpad", []types.Type{t, i4, t}, t, padFn(true))
	addFunc("rpad", []types.Type{t, i4}, t, padFn(false))
	addFunc("rpad", []types.Type{t, i4, t}, t, padFn(false))
	addFunc2("left", t, i4, t, leftFn)
	addFunc2("right", t, i4, t, rightFn)
	addFunc2("repeat", t, i4, t, repeatFn)
	addFunc1("reverse", t, t, reverseFn)
	addFunc("translate", []types.Type{t, t, t}, t, translateFn)
	concat := addFunc("concat", []types.Type{Any}, t, nil)
	concat.Variadic, concat.Strict, concat.bind = true, false, concatBind(false)
	concatWS := addFunc("concat_ws", []types.Type{t, Any}, t, nil)
	concatWS.Variadic, concatWS.Strict, concatWS.bind = true, false, concatBind(true)
	md5Fn := func(_ *EvalContext, a types.Value) (types.Value, error) {
		sum := md5.Sum([]byte(a.S))
		return textVal(hex.EncodeToString(sum[:])), nil
	}
	addFunc1("md5", t, t, md5Fn)
	addFunc1("md5", types.Bytea, t, md5Fn)
	addFunc1("to_hex", i4, t, toHex)
	addFunc1("to_hex", types.Int8, t, toHex)
	addFunc1("ascii", t, i4, asciiFn)
	addFunc1("chr", i4, t, chrFn)
	startsWith := func(_ *EvalContext, a, b types.Value) (types.Value, error) {
		return boolVal(strings.HasPrefix(a.S, b.S)), nil
	}
	addFunc2("starts_with", t, t, b, startsWith)
	addBinary("^@", t, t, b, startsWith)
	addFunc2("like_escape", t, t, t, likeEscape)
	addFunc1("similar_to_escape", t, t, func(_ *EvalContext, a types.Value) (types.Value, error) {
		return similarToRegex(a.S, "\\")
	})
	addFunc2("similar_to_escape", t, t, t, func(_ *EvalContext, a, b types.Value) (types.Value, error) {
		return similarToRegex(a.S, b.S)
	})

	// Pattern operators get a per-call-site cache through bind.
	for _, p := range []struct {
		op           string
		like         bool
		fold, negate bool
	}{
		{"~~", true, false, false}, {"!~~", true, false, true}, {"~~*", true, true, false}, {"!~~*", true, true, true},
		{"~", false, false, false}, {"!~", false, false, true}, {"~*", false, true, false}, {"!~*", false, true, true},
	} {
		p := p
		mk := func() *Func {
			if p.like {
				return likeFunc(p.op, p.fold, p.negate)
			}
			return regexFunc(p.op, p.fold, p.negate)
		}
		f := mk()
		f.bind = func([]types.Type) *Func { return mk() }
		reg.binary[p.op] = append(reg.binary[p.op], f)
	}
	// pg_typeof returns regtype in PostgreSQL; kappa returns the name as
	// text, which prints the same.
	typeOf := addFunc("pg_typeof", []types.Type{Any}, t, nil)
	typeOf.Strict = false
	typeOf.bind = func(ts []types.Type) *Func {
		name := textVal(ts[0].String())
		return &Func{Name: "pg_typeof", Args: ts, Ret: types.Text, Eval: func(*EvalContext, []types.Value) (types.Value, error) {
			return name, nil
		}}
	}
	addFunc("regexp_replace", []types.Type{t, t, t}, t, nil).bind = regexpReplaceBind
	addFunc("regexp_replace", []types.Type{t, t, t, t}, t, nil).bind = regexpReplaceBind
	addFunc("regexp_match", []types.Type{t, t}, textArray, nil).bind = regexpMatchBind
	addFunc("regexp_match", []types.Type{t, t, t}, textArray, nil).bind = regexpMatchBind
	addFunc("regexp_like", []types.Type{t, t}, b, nil).bind = regexpLikeBind
	addFunc("regexp_like", []types.Type{t, t, t}, b, nil).bind = regexpLikeBind
}
