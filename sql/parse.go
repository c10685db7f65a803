package sql

import (
	"errors"
	"reflect"
	"sort"
	"strings"
	"sync"

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
	toks, segs, res, err := parseRaw(text)
	if err != nil {
		return nil, err
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

// parseRaw scans, pre-parses and parses text with pg_query: the two cgo
// calls (pg_query's Scan and Parse) that dominate Parse's cost. Their
// results depend only on the text, so texts whose statements carry no
// streaming clauses are kept in a bounded cache (rawCache) and a repeated
// text (dashboards, ORMs, a new connection preparing the same statement)
// is converted from the cached tree without calling pg_query again.
func parseRaw(text string) ([]token, []*segment, *pg.ParseResult, error) {
	if r, ok := rawCache.get(text); ok {
		return r.toks, r.segs, r.res, nil
	}
	toks, err := scanTokens(text)
	if err != nil {
		// The scanner failed (say, an unterminated quoted string): let the
		// parser report it with PostgreSQL's message and position.
		if _, perr := pg.Parse(text); perr != nil {
			return nil, nil, nil, convertParseError(perr, text, text)
		}
		return nil, nil, nil, pgerr.Wrap(err, pgerr.SyntaxError, "scan statement")
	}
	p := &preparser{text: text, toks: toks, buf: []byte(text)}
	segs, perr := p.preparse()
	if perr != nil {
		return nil, nil, nil, perr
	}
	buf := string(p.buf)
	res, err := pg.Parse(buf)
	if err != nil {
		return nil, nil, nil, convertParseError(err, buf, text)
	}
	if cacheable(segs) {
		rawCache.put(text, rawParse{toks: toks, segs: segs, res: res})
	}
	return toks, segs, res, nil
}

// cacheable reports whether the pre-parsed segments hold only plain values:
// clauses that carry AST nodes or option lists (which the converter hands
// to the statement, so a shared copy could be changed by a later user) are
// not cached, nor are the statements the pre-parser builds itself.
func cacheable(segs []*segment) bool {
	for _, s := range segs {
		cl := s.cl
		if cl == nil {
			continue
		}
		if cl.own != nil || cl.dropKind != nil || cl.options != nil || cl.formatOpts != nil ||
			cl.watermark != nil || cl.copyQuery != nil || cl.unsupported != nil {
			return false
		}
	}
	return true
}

// rawParse is what parseRaw computes for one text. It is shared between
// callers and must not be modified: the converter only reads it.
type rawParse struct {
	toks []token
	segs []*segment
	res  *pg.ParseResult
}

const (
	// rawCacheEntries bounds the number of cached texts, rawCacheMaxText
	// the length of a cached text (long texts are rarely repeated) and
	// rawCacheBytes their total length: a parsed tree is some tens of
	// times its text, so the cache holds at most a few tens of MB.
	rawCacheEntries = 2048
	rawCacheMaxText = 4 << 10
	rawCacheBytes   = 512 << 10
)

// rawCache is the process-wide cache of parseRaw's results by exact text.
var rawCache = &parseCache{m: map[string]rawParse{}}

type parseCache struct {
	mu    sync.Mutex
	m     map[string]rawParse
	bytes int // total length of the cached texts
}

func (c *parseCache) get(text string) (rawParse, bool) {
	if len(text) > rawCacheMaxText {
		return rawParse{}, false
	}
	c.mu.Lock()
	r, ok := c.m[text]
	c.mu.Unlock()
	return r, ok
}

func (c *parseCache) put(text string, r rawParse) {
	if len(text) > rawCacheMaxText {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[text]; ok {
		return
	}
	// Evict arbitrary entries (map order is random) until the new one
	// fits: cheap, and a repeated text soon comes back.
	for k := range c.m {
		if len(c.m) < rawCacheEntries && c.bytes+len(text) <= rawCacheBytes {
			break
		}
		delete(c.m, k)
		c.bytes -= len(k)
	}
	c.m[text] = r
	c.bytes += len(text)
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
