package sql

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/kappa-db/kappa/pgerr"
)

// The streaming pre-parser. PostgreSQL's grammar does not know kappa's
// streaming clauses, so before pg_query sees a statement they are recognised
// on pg_query's own tokens, recorded in a clauses value, and blanked in place
// (overwritten with spaces or a same-length keyword) so that every remaining
// byte keeps its offset and pg_query's locations and error positions still
// point into the user's text. Statements pg_query cannot parse at all
// (CREATE SINK, SUBSCRIBE, SHOW CREATE ...) are parsed here whole, from the
// tokens, with pg_query parsing their embedded queries and expressions.

// token is one scanner token of the user's text.
type token struct {
	start, end int
	kind       pg.Token
	kw         pg.KeywordKind
}

// clauses are the streaming clauses the pre-parser found in one statement.
type clauses struct {
	// own is a statement the pre-parser parsed whole; pg_query does not see
	// it (its text is blanked).
	own Statement

	source      bool // CREATE SOURCE, rewritten to CREATE TABLE
	orReplace   bool // CREATE OR REPLACE MATERIALIZED VIEW
	dropKind    *ObjectKind
	options     Options
	hasOptions  bool
	format      string
	encode      string
	formatOpts  Options
	watermark   *Watermark
	appendOnly  bool
	emit        bool
	emitPos     int
	copyQuery   *Subscribe // COPY (SUBSCRIBE ...) TO STDOUT
	queryStart  int        // byte offset of the query of CREATE [MATERIALIZED] VIEW / TABLE AS, or -1
	queryEnd    int
	unsupported *pgerr.Error
}

// preparser holds the user's text, its tokens and the copy of the text that
// pg_query will parse.
type preparser struct {
	text string
	toks []token
	buf  []byte
}

// segment is the token range [lo, hi) of one statement, without its ';'.
type segment struct {
	lo, hi int
	cl     *clauses
}

func scanTokens(text string) ([]token, error) {
	if toks, ok := fastScan(text); ok {
		return toks, nil
	}
	return pgScanTokens(text)
}

// pgScanTokens is scanTokens by pg_query's scanner (a cgo call).
func pgScanTokens(text string) ([]token, error) {
	res, err := pg.Scan(text)
	if err != nil {
		return nil, err
	}
	toks := make([]token, 0, len(res.Tokens))
	for _, t := range res.Tokens {
		if t.Token == pg.Token_SQL_COMMENT || t.Token == pg.Token_C_COMMENT {
			continue
		}
		toks = append(toks, token{start: int(t.Start), end: int(t.End), kind: t.Token, kw: t.KeywordKind})
	}
	return toks, nil
}

// segments splits the tokens into statements at ';'.
func (p *preparser) segments() []*segment {
	var segs []*segment
	lo := 0
	for i, t := range p.toks {
		if t.kind == pg.Token_ASCII_59 {
			if i > lo {
				segs = append(segs, &segment{lo: lo, hi: i})
			}
			lo = i + 1
		}
	}
	if lo < len(p.toks) {
		segs = append(segs, &segment{lo: lo, hi: len(p.toks)})
	}
	return segs
}

// word returns the lowercased text of token i when it is an unquoted
// identifier or keyword, else "".
func (p *preparser) word(i int) string {
	if i < 0 || i >= len(p.toks) {
		return ""
	}
	t := p.toks[i]
	if t.kind != pg.Token_IDENT && t.kw == pg.KeywordKind_NO_KEYWORD {
		return ""
	}
	s := p.text[t.start:t.end]
	if strings.HasPrefix(s, `"`) || strings.HasPrefix(strings.ToLower(s), `u&"`) {
		return ""
	}
	return strings.ToLower(s)
}

// is reports whether tokens i, i+1, ... (before hi) are the given words.
func (p *preparser) is(i, hi int, words ...string) bool {
	for k, w := range words {
		if i+k >= hi || !p.wordIs(i+k, w) {
			return false
		}
	}
	return true
}

// wordIs reports whether p.word(i) == w, for a lower-case ASCII w, without
// building the lowercased word (the pre-parser asks this for every token).
func (p *preparser) wordIs(i int, w string) bool {
	if i < 0 || i >= len(p.toks) {
		return false
	}
	t := p.toks[i]
	if t.kind != pg.Token_IDENT && t.kw == pg.KeywordKind_NO_KEYWORD {
		return false
	}
	s := p.text[t.start:t.end]
	if len(s) != len(w) {
		return false
	}
	for k := 0; k < len(s); k++ {
		c := s[k]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != w[k] {
			return false
		}
	}
	return true
}

func (p *preparser) isPunct(i, hi int, c pg.Token) bool {
	return i < hi && p.toks[i].kind == c
}

// blank overwrites bytes [from, to) of the buffer with spaces.
func (p *preparser) blank(from, to int) {
	for k := from; k < to; k++ {
		p.buf[k] = ' '
	}
}

// blankToks blanks tokens [i, j) including the space between them.
func (p *preparser) blankToks(i, j int) {
	if j > i {
		p.blank(p.toks[i].start, p.toks[j-1].end)
	}
}

// matching returns the index of the token closing the bracket at i, or hi
// when it is not closed before hi.
func (p *preparser) matching(i, hi int) int {
	depth := 0
	for k := i; k < hi; k++ {
		switch p.toks[k].kind {
		case pg.Token_ASCII_40, pg.Token_ASCII_91:
			depth++
		case pg.Token_ASCII_41, pg.Token_ASCII_93:
			depth--
			if depth == 0 {
				return k
			}
		}
	}
	return hi
}

// syntaxErrorAt is PostgreSQL's syntax error at token i; the second
// argument, the segment's end, is kept for symmetry with the other helpers.
func (p *preparser) syntaxErrorAt(i, _ int) *pgerr.Error {
	// Past the statement's end the next token is its ';', as PostgreSQL
	// reports it.
	if i >= 0 && i < len(p.toks) {
		t := p.toks[i]
		return pgerr.New(pgerr.SyntaxError, "syntax error at or near \"%s\"", p.text[t.start:t.end]).
			WithPosition(CharPos(p.text, t.start))
	}
	return pgerr.New(pgerr.SyntaxError, "syntax error at end of input").
		WithPosition(CharPos(p.text, len(p.text)))
}

// ident parses an identifier at token i: an unquoted name (lowercased), a
// quoted name, or a non-reserved keyword.
func (p *preparser) ident(i, hi int) (string, bool) {
	if i >= hi {
		return "", false
	}
	t := p.toks[i]
	s := p.text[t.start:t.end]
	switch {
	case t.kind == pg.Token_IDENT:
		if strings.HasPrefix(s, `"`) {
			return strings.ReplaceAll(s[1:len(s)-1], `""`, `"`), true
		}
		return strings.ToLower(s), true
	case t.kw != pg.KeywordKind_NO_KEYWORD && t.kw != pg.KeywordKind_RESERVED_KEYWORD:
		return strings.ToLower(s), true
	}
	return "", false
}

// objectName parses name ('.' name)* at token i.
func (p *preparser) objectName(i, hi int) (ObjectName, int, *pgerr.Error) {
	var parts []string
	start := i
	for {
		s, ok := p.ident(i, hi)
		if !ok {
			return ObjectName{}, i, p.syntaxErrorAt(i, hi)
		}
		parts = append(parts, s)
		i++
		if !p.isPunct(i, hi, pg.Token_ASCII_46) {
			break
		}
		i++
	}
	n := ObjectName{Pos: p.toks[start].start}
	switch len(parts) {
	case 1:
		n.Name = parts[0]
	case 2:
		n.Schema, n.Name = parts[0], parts[1]
	case 3:
		n.Catalog, n.Schema, n.Name = parts[0], parts[1], parts[2]
	default:
		return ObjectName{}, i, pgerr.New(pgerr.SyntaxError, "improper qualified name (too many dotted names): %s", strings.Join(parts, ".")).
			WithPosition(CharPos(p.text, n.Pos))
	}
	return n, i, nil
}

// optionList parses `( key [= value] [, ...] )` at token i, where i is the
// '('. Keys may be dotted. It returns the index after the ')'.
func (p *preparser) optionList(i, hi int) (Options, int, *pgerr.Error) {
	i++ // '('
	opts := Options{}
	if p.isPunct(i, hi, pg.Token_ASCII_41) {
		return opts, i + 1, nil
	}
	for {
		keyStart := i
		var key []string
		for {
			s, ok := p.ident(i, hi)
			if !ok {
				// Reserved keywords are fine as option keys (e.g. `table`).
				if s = p.word(i); s == "" {
					return nil, i, p.syntaxErrorAt(i, hi)
				}
			}
			key = append(key, s)
			i++
			if !p.isPunct(i, hi, pg.Token_ASCII_46) {
				break
			}
			i++
		}
		opt := Option{Pos: p.toks[keyStart].start, Key: strings.Join(key, ".")}
		if p.isPunct(i, hi, pg.Token_ASCII_61) {
			i++
			v, next, err := p.optionValue(i, hi)
			if err != nil {
				return nil, i, err
			}
			opt.Value, opt.HasValue = v, true
			i = next
		}
		opts = append(opts, opt)
		switch {
		case p.isPunct(i, hi, pg.Token_ASCII_44):
			i++
		case p.isPunct(i, hi, pg.Token_ASCII_41):
			return opts, i + 1, nil
		default:
			return nil, i, p.syntaxErrorAt(i, hi)
		}
	}
}

// optionValue parses a string, a (signed) number, or a word.
func (p *preparser) optionValue(i, hi int) (string, int, *pgerr.Error) {
	if i >= hi {
		return "", i, p.syntaxErrorAt(i, hi)
	}
	t := p.toks[i]
	switch t.kind {
	case pg.Token_SCONST, pg.Token_USCONST:
		s, err := p.stringValue(t)
		if err != nil {
			return "", i, err
		}
		return s, i + 1, nil
	case pg.Token_ICONST, pg.Token_FCONST:
		return p.text[t.start:t.end], i + 1, nil
	case pg.Token_ASCII_45, pg.Token_ASCII_43:
		if i+1 < hi && (p.toks[i+1].kind == pg.Token_ICONST || p.toks[i+1].kind == pg.Token_FCONST) {
			n := p.toks[i+1]
			sign := ""
			if t.kind == pg.Token_ASCII_45 {
				sign = "-"
			}
			return sign + p.text[n.start:n.end], i + 2, nil
		}
	}
	if w := p.word(i); w != "" {
		return w, i + 1, nil
	}
	if s, ok := p.ident(i, hi); ok {
		return s, i + 1, nil
	}
	return "", i, p.syntaxErrorAt(i, hi)
}

// stringValue returns the value of a string constant token. Plain '...'
// strings are decoded here; escape, Unicode and dollar-quoted strings are
// decoded by pg_query so that the rules are PostgreSQL's.
func (p *preparser) stringValue(t token) (string, *pgerr.Error) {
	s := p.text[t.start:t.end]
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		return strings.ReplaceAll(s[1:len(s)-1], "''", "'"), nil
	}
	res, err := pg.Parse("SELECT " + s)
	if err == nil && len(res.Stmts) == 1 {
		if sel := res.Stmts[0].Stmt.GetSelectStmt(); sel != nil && len(sel.TargetList) == 1 {
			if c := sel.TargetList[0].GetResTarget().GetVal().GetAConst(); c != nil && c.GetSval() != nil {
				return c.GetSval().Sval, nil
			}
		}
	}
	return "", pgerr.New(pgerr.SyntaxError, "invalid string constant").WithPosition(CharPos(p.text, t.start))
}

// preparse recognises the streaming clauses of every statement, rewriting
// p.buf, and returns the statements' segments.
func (p *preparser) preparse() ([]*segment, *pgerr.Error) {
	segs := p.segments()
	for _, s := range segs {
		cl, err := p.statement(s.lo, s.hi)
		if err != nil {
			// PostgreSQL reports the first error in the text: an earlier
			// statement may have one of its own.
			if _, perr := pg.Parse(string(p.buf[:p.toks[s.lo].start])); perr != nil {
				return nil, convertParseError(perr, string(p.buf[:p.toks[s.lo].start]), p.text)
			}
			return nil, err
		}
		s.cl = cl
	}
	return segs, nil
}

func (p *preparser) statement(lo, hi int) (*clauses, *pgerr.Error) {
	cl := &clauses{queryStart: -1}
	i := lo
	// EXPLAIN [ANALYZE] [VERBOSE] | EXPLAIN (...) prefix: the streaming
	// clauses of the explained statement are recognised the same way.
	if p.is(i, hi, "explain") {
		i++
		if p.isPunct(i, hi, pg.Token_ASCII_40) {
			i = p.matching(i, hi) + 1
		} else {
			for p.is(i, hi, "analyze") || p.is(i, hi, "analyse") || p.is(i, hi, "verbose") {
				i++
			}
		}
	}
	p.windowTableFuncs(lo, hi)
	var err *pgerr.Error
	switch {
	case p.is(i, hi, "create", "source"):
		err = p.createTable(cl, i, hi, true)
	case p.is(i, hi, "create", "table"):
		err = p.createTable(cl, i, hi, false)
	case p.is(i, hi, "create", "temp", "table"), p.is(i, hi, "create", "temporary", "table"),
		p.is(i, hi, "create", "unlogged", "table"):
		err = p.createTable(cl, i+1, hi, false)
	case p.is(i, hi, "create", "or", "replace", "materialized", "view"):
		cl.orReplace = true
		p.blankToks(i+1, i+3)
		err = p.createMatView(cl, i+3, hi)
	case p.is(i, hi, "create", "materialized", "view"):
		err = p.createMatView(cl, i+1, hi)
	case p.is(i, hi, "create", "view"), p.is(i, hi, "create", "or", "replace", "view"),
		p.is(i, hi, "create", "temp", "view"), p.is(i, hi, "create", "temporary", "view"),
		p.is(i, hi, "create", "or", "replace", "temp", "view"), p.is(i, hi, "create", "or", "replace", "temporary", "view"):
		cl.queryStart, cl.queryEnd = p.queryAfterAS(i, hi)
	case p.is(i, hi, "create", "sink") && i == lo:
		cl.own, err = p.createSink(lo, hi)
	case p.is(i, hi, "subscribe") && i == lo:
		cl.own, err = p.subscribe(lo, hi)
	case p.is(i, hi, "show") && i == lo:
		cl.own, err = p.show(lo, hi)
	case p.is(i, hi, "drop", "source"):
		k := ObjSource
		cl.dropKind = &k
		copy(p.buf[p.toks[i+1].start:], "TABLE ")
	case p.is(i, hi, "drop", "sink"):
		k := ObjSink
		cl.dropKind = &k
		copy(p.buf[p.toks[i+1].start:], "VIEW")
	case p.is(i, hi, "copy") && p.isPunct(i+1, hi, pg.Token_ASCII_40) && p.is(i+2, hi, "subscribe"):
		end := p.matching(i+1, hi)
		var sub Statement
		sub, err = p.subscribe(i+2, end)
		if err == nil {
			cl.copyQuery = sub.(*Subscribe)
			p.blankToks(i+2, end)
			copy(p.buf[p.toks[i+2].start:], "SELECT 1")
		}
	}
	if err != nil {
		return nil, err
	}
	if cl.own != nil {
		p.blankToks(lo, hi)
		info := cl.own.Info()
		info.Offset = p.toks[lo].start
		info.Text = p.text[p.toks[lo].start:p.toks[hi-1].end]
		return cl, nil
	}
	if k, ok := p.findEmit(lo, hi); ok && k+4 == hi {
		cl.emit, cl.emitPos = true, p.toks[k].start
		p.blankToks(k, k+4)
		if cl.queryEnd > 0 && cl.queryEnd > p.toks[k].start {
			cl.queryEnd = p.lastTokenEndBefore(lo, k)
		}
	}
	return cl, nil
}

// windowTableFuncs rewrites the Flink/Calcite form of a windowing table
// function, TABLE(TUMBLE(TABLE rel, DESCRIPTOR(ts), size)), into kappa's
// TUMBLE(rel, DESCRIPTOR(ts), size) by blanking the outer TABLE( ) and the
// inner TABLE keyword (the planner accepts DESCRIPTOR(col) as a column).
// SESSION's PARTITION BY becomes a comma (see planner.planSession).
func (p *preparser) windowTableFuncs(lo, hi int) {
	for k := lo; k+3 < hi; k++ {
		if p.word(k) != "table" || !p.isPunct(k+1, hi, pg.Token_ASCII_40) || !p.isPunct(k+3, hi, pg.Token_ASCII_40) {
			continue
		}
		switch p.word(k + 2) {
		case "tumble", "hop", "session":
		default:
			continue
		}
		end := p.matching(k+1, hi)
		if end >= hi {
			continue
		}
		p.blankToks(k, k+2)
		p.blankToks(end, end+1)
		if p.word(k+4) == "table" {
			p.blankToks(k+4, k+5)
		}
	}
	// SESSION(rel PARTITION BY cols, ...), also inside TABLE( ): PARTITION
	// BY becomes a comma, so the columns are arguments after rel.
	for k := lo; k+4 < hi; k++ {
		if p.word(k) != "session" || !p.isPunct(k+1, hi, pg.Token_ASCII_40) {
			continue
		}
		j := k + 2
		if p.word(j) == "table" {
			j++
		}
		if j++; p.isPunct(j, hi, pg.Token_ASCII_46) {
			j += 2
		}
		if p.is(j, hi, "partition", "by") {
			p.blankToks(j, j+2)
			p.buf[p.toks[j].start] = ','
		}
	}
}

// findEmit finds EMIT ON WINDOW CLOSE at bracket depth 0 of [lo, hi).
func (p *preparser) findEmit(lo, hi int) (int, bool) {
	depth := 0
	for k := lo; k < hi; k++ {
		switch p.toks[k].kind {
		case pg.Token_ASCII_40, pg.Token_ASCII_91:
			depth++
		case pg.Token_ASCII_41, pg.Token_ASCII_93:
			depth--
		}
		if depth == 0 && p.is(k, hi, "emit", "on", "window", "close") {
			return k, true
		}
	}
	return 0, false
}

func (p *preparser) lastTokenEndBefore(lo, k int) int {
	if k <= lo {
		return p.toks[lo].start
	}
	return p.toks[k-1].end
}

// queryAfterAS returns the byte range of the query after the first AS at
// depth 0 of a CREATE VIEW-like statement, or -1, -1.
func (p *preparser) queryAfterAS(lo, hi int) (int, int) {
	depth := 0
	for k := lo; k < hi; k++ {
		switch p.toks[k].kind {
		case pg.Token_ASCII_40, pg.Token_ASCII_91:
			depth++
		case pg.Token_ASCII_41, pg.Token_ASCII_93:
			depth--
		}
		if depth == 0 && p.toks[k].kind == pg.Token_AS && k+1 < hi {
			end := hi
			// CREATE MATERIALIZED VIEW ... AS query WITH [NO] DATA
			if p.is(hi-2, hi, "with", "data") {
				end = hi - 2
			} else if p.is(hi-3, hi, "with", "no", "data") {
				end = hi - 3
			}
			return p.toks[k+1].start, p.toks[end-1].end
		}
	}
	return -1, -1
}

// createTable handles CREATE TABLE and CREATE SOURCE from token i (CREATE)
// or the token before TABLE.
func (p *preparser) createTable(cl *clauses, i, hi int, source bool) *pgerr.Error {
	i++ // CREATE (or TEMP)
	if source {
		cl.source = true
		copy(p.buf[p.toks[i].start:], "TABLE ")
	}
	i++ // TABLE / SOURCE
	if p.is(i, hi, "if", "not", "exists") {
		i += 3
	}
	_, i, err := p.objectName(i, hi)
	if err != nil {
		return err
	}
	hasColumns := false
	if p.isPunct(i, hi, pg.Token_ASCII_40) {
		hasColumns = true
		end := p.matching(i, hi)
		if err := p.columnList(cl, i, end); err != nil {
			return err
		}
		i = end + 1
	}
	// The tail: stop at AS (CREATE TABLE ... AS query).
	tailEnd := hi
	for k := i; k < hi; k++ {
		if p.toks[k].kind == pg.Token_AS {
			tailEnd = k
			cl.queryStart, cl.queryEnd = p.queryAfterAS(k, hi)
			break
		}
	}
	firstBlank := -1
	for k := i; k < tailEnd; {
		start := k
		switch {
		case p.is(k, tailEnd, "append", "only"):
			cl.appendOnly = true
			k += 2
		case p.is(k, tailEnd, "with") && p.isPunct(k+1, tailEnd, pg.Token_ASCII_40):
			opts, next, err := p.optionList(k+1, tailEnd)
			if err != nil {
				return err
			}
			cl.options = append(cl.options, opts...)
			cl.hasOptions = true
			k = next
		case p.is(k, tailEnd, "format"):
			next, err := p.formatEncode(cl, k, tailEnd)
			if err != nil {
				return err
			}
			k = next
		default:
			k++
			continue
		}
		p.blankToks(start, k)
		if firstBlank < 0 {
			firstBlank = p.toks[start].start
		}
	}
	if !hasColumns && source && firstBlank >= 0 {
		// CREATE TABLE needs a column list; the blanked WITH or FORMAT
		// keyword has room for an empty one.
		copy(p.buf[firstBlank:], "()")
	}
	return nil
}

// formatEncode parses FORMAT x ENCODE y [(options)] at token k.
func (p *preparser) formatEncode(cl *clauses, k, hi int) (int, *pgerr.Error) {
	k++
	f, ok := p.ident(k, hi)
	if !ok {
		return k, p.syntaxErrorAt(k, hi)
	}
	k++
	if !p.is(k, hi, "encode") {
		return k, p.syntaxErrorAt(k, hi)
	}
	k++
	e, ok := p.ident(k, hi)
	if !ok {
		return k, p.syntaxErrorAt(k, hi)
	}
	k++
	cl.format, cl.encode = strings.ToUpper(f), strings.ToUpper(e)
	if p.isPunct(k, hi, pg.Token_ASCII_40) {
		opts, next, err := p.optionList(k, hi)
		if err != nil {
			return k, err
		}
		cl.formatOpts = opts
		k = next
	}
	return k, nil
}

// columnList finds WATERMARK FOR col AS expr among the elements of the
// column list whose '(' is token open and ')' is token close.
func (p *preparser) columnList(cl *clauses, open, close int) *pgerr.Error {
	// Split into elements at depth-1 commas.
	var elems [][2]int
	depth := 0
	start := open + 1
	for k := open + 1; k < close; k++ {
		switch p.toks[k].kind {
		case pg.Token_ASCII_40, pg.Token_ASCII_91:
			depth++
		case pg.Token_ASCII_41, pg.Token_ASCII_93:
			depth--
		case pg.Token_ASCII_44:
			if depth == 0 {
				elems = append(elems, [2]int{start, k})
				start = k + 1
			}
		}
	}
	elems = append(elems, [2]int{start, close})
	for n, e := range elems {
		if !p.is(e[0], e[1], "watermark", "for") {
			continue
		}
		if cl.watermark != nil {
			return pgerr.New(pgerr.SyntaxError, "multiple WATERMARK clauses are not allowed").
				WithPosition(CharPos(p.text, p.toks[e[0]].start))
		}
		k := e[0] + 2
		col, ok := p.ident(k, e[1])
		if !ok {
			return p.syntaxErrorAt(k, e[1])
		}
		k++
		if !p.isPunct(k, e[1], pg.Token_AS) {
			return p.syntaxErrorAt(k, e[1])
		}
		k++
		if k >= e[1] {
			return p.syntaxErrorAt(k, e[1])
		}
		expr, err := p.subExpr(k, e[1], p.toks[e[0]].start)
		if err != nil {
			return err
		}
		cl.watermark = &Watermark{Pos: p.toks[e[0]].start, Column: col, Expr: expr}
		// Blank the element and one comma next to it.
		from, to := e[0], e[1]
		switch {
		case n > 0:
			from-- // the comma before
		case len(elems) > 1:
			to++ // the comma after
		}
		p.blankToks(from, to)
	}
	return nil
}

// subExpr parses the expression in tokens [lo, hi) with pg_query, keeping
// positions: it parses a buffer that is blank except for `SELECT` written at
// byte kwAt and the expression at its own offsets.
func (p *preparser) subExpr(lo, hi, kwAt int) (Expr, *pgerr.Error) {
	if hi <= lo {
		return nil, p.syntaxErrorAt(lo, lo+1)
	}
	end := p.toks[hi-1].end
	b := make([]byte, end)
	for k := range b {
		b[k] = ' '
	}
	copy(b[kwAt:], "SELECT")
	copy(b[p.toks[lo].start:], p.text[p.toks[lo].start:end])
	sel, err := p.parseSubSelect(string(b))
	if err != nil {
		return nil, err
	}
	if sel.Values != nil || len(sel.Targets) != 1 || sel.From != nil || sel.Targets[0].Alias != "" {
		return nil, pgerr.New(pgerr.SyntaxError, "syntax error in expression").
			WithPosition(CharPos(p.text, p.toks[lo].start))
	}
	return sel.Targets[0].Expr, nil
}

// subQuery parses the query in tokens [lo, hi).
func (p *preparser) subQuery(lo, hi int) (*Select, *pgerr.Error) {
	if hi <= lo {
		return nil, p.syntaxErrorAt(lo, lo+1)
	}
	end := p.toks[hi-1].end
	b := make([]byte, end)
	for k := range b {
		b[k] = ' '
	}
	copy(b[p.toks[lo].start:], p.text[p.toks[lo].start:end])
	sel, err := p.parseSubSelect(string(b))
	if err != nil {
		return nil, err
	}
	return sel, nil
}

// parseSubSelect parses buf, which must hold exactly one query, with
// pg_query and converts it. Positions in buf are positions in p.text.
func (p *preparser) parseSubSelect(buf string) (*Select, *pgerr.Error) {
	res, err := pg.Parse(buf)
	if err != nil {
		return nil, convertParseError(err, buf, p.text)
	}
	if len(res.Stmts) != 1 || res.Stmts[0].Stmt.GetSelectStmt() == nil {
		return nil, pgerr.New(pgerr.SyntaxError, "syntax error: a query is expected").
			WithPosition(CharPos(p.text, int(res.Stmts[0].StmtLocation)))
	}
	c := &converter{text: p.text, toks: p.toks, stmtPos: int(res.Stmts[0].StmtLocation)}
	sel, cerr := c.selectStmt(res.Stmts[0].Stmt.GetSelectStmt())
	if cerr != nil {
		return nil, pgerr.As(cerr)
	}
	return sel, nil
}

// createMatView handles CREATE MATERIALIZED VIEW from token i (the token
// before MATERIALIZED).
func (p *preparser) createMatView(cl *clauses, i, hi int) *pgerr.Error {
	cl.queryStart, cl.queryEnd = p.queryAfterAS(i, hi)
	for k := i; k < hi && p.toks[k].kind != pg.Token_AS; k++ {
		if p.toks[k].kind == pg.Token_ASCII_40 && !p.is(k-1, hi, "with") {
			k = p.matching(k, hi)
			continue
		}
		if p.is(k, hi, "with") && p.isPunct(k+1, hi, pg.Token_ASCII_40) {
			opts, next, err := p.optionList(k+1, hi)
			if err != nil {
				return err
			}
			cl.options, cl.hasOptions = opts, true
			p.blankToks(k, next)
			return nil
		}
	}
	return nil
}

// createSink parses CREATE SINK [IF NOT EXISTS] name (FROM name | AS query)
// [WITH (...)] [FORMAT x ENCODE y [(...)]].
func (p *preparser) createSink(lo, hi int) (Statement, *pgerr.Error) {
	s := &CreateSink{Pos: p.toks[lo].start}
	i := lo + 2
	if p.is(i, hi, "if", "not", "exists") {
		s.IfNotExists = true
		i += 3
	}
	name, i, err := p.objectName(i, hi)
	if err != nil {
		return nil, err
	}
	s.Name = name
	switch {
	case p.is(i, hi, "from"):
		from, next, err := p.objectName(i+1, hi)
		if err != nil {
			return nil, err
		}
		s.From = &from
		i = next
	case p.isPunct(i, hi, pg.Token_AS):
		i++
		qEnd := p.tailStart(i, hi)
		if qEnd <= i {
			return nil, p.syntaxErrorAt(i, hi)
		}
		qlo, qhi := i, qEnd
		emit, emitPos := false, 0
		if k, ok := p.findEmit(qlo, qhi); ok && k+4 == qhi {
			emit, emitPos, qhi = true, p.toks[k].start, k
		}
		if p.isPunct(qlo, qhi, pg.Token_ASCII_40) && p.matching(qlo, qhi) == qhi-1 {
			qlo, qhi = qlo+1, qhi-1
		}
		q, err := p.subQuery(qlo, qhi)
		if err != nil {
			return nil, err
		}
		q.EmitOnWindowClose, q.EmitPos = emit, emitPos
		s.Query = q
		s.QueryText = p.text[p.toks[qlo].start:p.toks[qhi-1].end]
		i = qEnd
	default:
		return nil, p.syntaxErrorAt(i, hi)
	}
	cl := &clauses{}
	for i < hi {
		switch {
		case p.is(i, hi, "with") && p.isPunct(i+1, hi, pg.Token_ASCII_40):
			opts, next, err := p.optionList(i+1, hi)
			if err != nil {
				return nil, err
			}
			s.Options = append(s.Options, opts...)
			i = next
		case p.is(i, hi, "format"):
			next, err := p.formatEncode(cl, i, hi)
			if err != nil {
				return nil, err
			}
			i = next
		default:
			return nil, p.syntaxErrorAt(i, hi)
		}
	}
	s.Format, s.Encode, s.FormatOptions = cl.format, cl.encode, cl.formatOpts
	return s, nil
}

// tailStart returns the first depth-0 token in [i, hi) that starts a
// WITH (...) or FORMAT ... ENCODE tail, or hi.
func (p *preparser) tailStart(i, hi int) int {
	depth := 0
	for k := i; k < hi; k++ {
		switch p.toks[k].kind {
		case pg.Token_ASCII_40, pg.Token_ASCII_91:
			depth++
		case pg.Token_ASCII_41, pg.Token_ASCII_93:
			depth--
		}
		if depth != 0 {
			continue
		}
		if p.is(k, hi, "with") && p.isPunct(k+1, hi, pg.Token_ASCII_40) {
			return k
		}
		if p.is(k, hi, "format") && p.is(k+2, hi, "encode") {
			return k
		}
	}
	return hi
}

// subscribe parses SUBSCRIBE [TO] name | (query) [WITH (...)].
func (p *preparser) subscribe(lo, hi int) (Statement, *pgerr.Error) {
	s := &Subscribe{Pos: p.toks[lo].start}
	i := lo + 1
	if p.is(i, hi, "to") {
		i++
	}
	if p.isPunct(i, hi, pg.Token_ASCII_40) {
		end := p.matching(i, hi)
		if end >= hi || end == i+1 {
			return nil, p.syntaxErrorAt(min(end, hi), hi)
		}
		qlo, qhi := i+1, end
		emit, emitPos := false, 0
		if k, ok := p.findEmit(qlo, qhi); ok && k+4 == qhi {
			emit, emitPos, qhi = true, p.toks[k].start, k
		}
		q, err := p.subQuery(qlo, qhi)
		if err != nil {
			return nil, err
		}
		q.EmitOnWindowClose, q.EmitPos = emit, emitPos
		s.Query = q
		s.QueryText = p.text[p.toks[qlo].start:p.toks[qhi-1].end]
		i = end + 1
	} else {
		name, next, err := p.objectName(i, hi)
		if err != nil {
			return nil, err
		}
		s.Target = &name
		i = next
	}
	if p.is(i, hi, "with") && p.isPunct(i+1, hi, pg.Token_ASCII_40) {
		opts, next, err := p.optionList(i+1, hi)
		if err != nil {
			return nil, err
		}
		s.Options = opts
		i = next
	}
	if i < hi {
		return nil, p.syntaxErrorAt(i, hi)
	}
	return s, nil
}

// show parses the SHOW forms PostgreSQL's grammar lacks: SHOW CREATE kind
// name, and SHOW of several words (SHOW MATERIALIZED VIEWS). Anything else
// is left to pg_query (nil statement).
func (p *preparser) show(lo, hi int) (Statement, *pgerr.Error) {
	i := lo + 1
	if p.is(i, hi, "create") {
		s := &Show{Pos: p.toks[lo].start, CreateName: &ObjectName{}}
		i++
		switch {
		case p.is(i, hi, "materialized", "view"):
			s.CreateKind = ObjMaterializedView
			i += 2
		case p.is(i, hi, "table"):
			s.CreateKind = ObjTable
			i++
		case p.is(i, hi, "view"):
			s.CreateKind = ObjView
			i++
		case p.is(i, hi, "index"):
			s.CreateKind = ObjIndex
			i++
		case p.is(i, hi, "source"):
			s.CreateKind = ObjSource
			i++
		case p.is(i, hi, "sink"):
			s.CreateKind = ObjSink
			i++
		default:
			return nil, p.syntaxErrorAt(i, hi)
		}
		name, next, err := p.objectName(i, hi)
		if err != nil {
			return nil, err
		}
		if next < hi {
			return nil, p.syntaxErrorAt(next, hi)
		}
		*s.CreateName = name
		return s, nil
	}
	if hi-i < 2 || p.is(i, hi, "time", "zone") || p.is(i, hi, "transaction") || p.is(i, hi, "session") {
		return nil, nil
	}
	var words []string
	for k := i; k < hi; k++ {
		w := p.word(k)
		if w == "" {
			return nil, nil // not ours; let pg_query report it
		}
		words = append(words, w)
	}
	return &Show{Pos: p.toks[lo].start, Name: strings.Join(words, " ")}, nil
}
