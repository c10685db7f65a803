package sql

import (
	"errors"
	"reflect"
	"sort"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
	pgparser "github.com/pganalyze/pg_query_go/v6/parser"

	"github.com/kappa-db/kappa/pgerr"
)

// Parse parses text, which may hold several statements separated by
// semicolons, into kappa's AST. Each statement carries its exact original
// text and offset (StatementInfo). Every error is a *pgerr.Error: 42601 with
// PostgreSQL's message and position for syntax errors, 0A000 for statements
// kappa does not support. An empty or comment-only text yields no
// statements.
func Parse(text string) ([]Statement, error) {
	toks, err := scanTokens(text)
	if err != nil {
		// The scanner failed (say, an unterminated quoted string): let the
		// parser report it with PostgreSQL's message and position.
		if _, perr := pg.Parse(text); perr != nil {
			return nil, convertParseError(perr, text, text)
		}
		return nil, pgerr.Wrap(err, pgerr.SyntaxError, "scan statement")
	}
	p := &preparser{text: text, toks: toks, buf: []byte(text)}
	segs, perr := p.preparse()
	if perr != nil {
		return nil, perr
	}
	buf := string(p.buf)
	res, err := pg.Parse(buf)
	if err != nil {
		return nil, convertParseError(err, buf, text)
	}
	c := &converter{text: text, toks: toks}
	var stmts []Statement
	for _, s := range segs {
		if s.cl.own != nil {
			stmts = append(stmts, s.cl.own)
		}
	}
	for _, raw := range res.Stmts {
		lo, hi := c.tokenRange(int(raw.StmtLocation), int(raw.StmtLen))
		if lo >= hi {
			continue
		}
		cl := segmentAt(segs, toks[lo].start, toks)
		c.stmtPos = toks[lo].start
		stmt, err := c.statement(raw.Stmt, cl)
		if err != nil {
			return nil, err
		}
		info := stmt.Info()
		info.Offset = toks[lo].start
		info.Text = text[toks[lo].start:toks[hi-1].end]
		setStatementPos(stmt, info.Offset)
		stmts = append(stmts, stmt)
	}
	sort.SliceStable(stmts, func(i, j int) bool { return stmts[i].Info().Offset < stmts[j].Info().Offset })
	return stmts, nil
}

// tokenRange returns the tokens [lo, hi) of a statement pg_query located at
// [loc, loc+n); n == 0 means up to the end of the text.
func (c *converter) tokenRange(loc, n int) (int, int) {
	end := len(c.text)
	if n > 0 {
		end = loc + n
	}
	lo := sort.Search(len(c.toks), func(i int) bool { return c.toks[i].start >= loc })
	hi := lo
	for hi < len(c.toks) && c.toks[hi].end <= end && c.toks[hi].kind != pg.Token_ASCII_59 {
		hi++
	}
	return lo, hi
}

// segmentAt returns the clauses of the segment that starts at byte off.
func segmentAt(segs []*segment, off int, toks []token) *clauses {
	for _, s := range segs {
		if toks[s.lo].start <= off && off < toks[s.hi-1].end {
			return s.cl
		}
	}
	return &clauses{queryStart: -1}
}

// setStatementPos sets the Pos of a top-level statement to its offset: the
// protobuf tree has no location for most statements.
func setStatementPos(s Statement, off int) {
	f := reflect.ValueOf(s).Elem().FieldByName("Pos")
	if f.IsValid() && f.CanSet() {
		f.SetInt(int64(off))
	}
}

// convertParseError turns pg_query's error on buf into a 42601 error whose
// position is a character position in text. buf and text have the same
// bytes except where the pre-parser blanked them, so the character position
// in buf is turned into a byte offset and back into a character position in
// text.
func convertParseError(err error, buf, text string) *pgerr.Error {
	var pe *pgparser.Error
	if !errors.As(err, &pe) {
		return pgerr.Wrap(err, pgerr.InternalError, "parse statement")
	}
	code := pgerr.SyntaxError
	if strings.HasPrefix(pe.Message, "frame ") {
		// The grammar's checks of a window frame's bounds ("frame start
		// cannot be UNBOUNDED FOLLOWING") are windowing errors.
		code = pgerr.WindowingError
	}
	e := pgerr.New(code, "%s", pe.Message)
	if pe.Cursorpos > 0 {
		e = e.WithPosition(CharPos(text, byteOffset(buf, pe.Cursorpos)))
	}
	return e
}
