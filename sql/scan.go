package sql

import (
	pg "github.com/pganalyze/pg_query_go/v6"
)

// A Go scanner for the common case. pg_query's Scan is a cgo call that
// costs about a third of a short statement's parse; fastScan produces the
// same tokens for texts made only of plain words, quoted identifiers,
// simple '...' strings, decimal numbers, $n parameters, comments and the
// usual punctuation and comparison operators. For anything else (escape,
// Unicode, bit or dollar-quoted strings, other operators, non-ASCII bytes,
// unusual numbers) it reports !ok and scanTokens asks pg_query.
// TestFastScanMatchesPgQuery compares the two on the sqllogictest corpus.

type keywordInfo struct {
	tok pg.Token
	kw  pg.KeywordKind
}

var keywords = func() map[string]keywordInfo {
	m := make(map[string]keywordInfo, len(keywordList))
	for _, k := range keywordList {
		tok, ok1 := pg.Token_value[k[1]]
		kind, ok2 := pg.KeywordKind_value[k[2]]
		if !ok1 || !ok2 {
			panic("sql: unknown keyword token " + k[1] + " " + k[2])
		}
		m[k[0]] = keywordInfo{tok: pg.Token(tok), kw: pg.KeywordKind(kind)}
	}
	return m
}()

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func isIdentCont(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9' || c == '$'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isOpChar reports whether c may be part of an operator (scan.l's op_chars).
func isOpChar(c byte) bool {
	switch c {
	case '~', '!', '@', '#', '^', '&', '|', '`', '?', '+', '-', '*', '/', '%', '<', '>', '=':
		return true
	}
	return false
}

// fastScan tokenizes text without comments, or reports !ok when the text
// holds something it leaves to pg_query.
func fastScan(text string) ([]token, bool) {
	toks := make([]token, 0, len(text)/4+4)
	n := len(text)
	i := 0
	var lower [64]byte
	for i < n {
		c := text[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < n && text[i+1] == '-':
			for i < n && text[i] != '\n' && text[i] != '\r' {
				i++
			}
		case c == '/' && i+1 < n && text[i+1] == '*':
			depth := 0
			for {
				if i+1 >= n {
					return nil, false // unterminated
				}
				if text[i] == '/' && text[i+1] == '*' {
					depth++
					i += 2
				} else if text[i] == '*' && text[i+1] == '/' {
					depth--
					i += 2
					if depth == 0 {
						break
					}
				} else {
					i++
				}
			}
		case isIdentStart(c):
			start := i
			for i < n && isIdentCont(text[i]) {
				i++
			}
			if i < n && (text[i] >= 0x80 || text[i] == '\'' || text[i] == '&' || text[i] == '"') {
				// Non-ASCII identifiers, E'..', B'..', X'..', N'..',
				// U&'..', U&"..": left to pg_query.
				return nil, false
			}
			t := token{start: start, end: i, kind: pg.Token_IDENT}
			if l := i - start; l <= len(lower) {
				for k := 0; k < l; k++ {
					b := text[start+k]
					if b >= 'A' && b <= 'Z' {
						b += 'a' - 'A'
					}
					lower[k] = b
				}
				if ki, ok := keywords[string(lower[:l])]; ok {
					t.kind, t.kw = ki.tok, ki.kw
				}
			}
			toks = append(toks, t)
		case c == '"':
			start := i
			i++
			for {
				if i >= n {
					return nil, false
				}
				if text[i] == '"' {
					if i+1 < n && text[i+1] == '"' {
						i += 2
						continue
					}
					i++
					break
				}
				if text[i] >= 0x80 {
					return nil, false
				}
				i++
			}
			if i-start == 2 {
				return nil, false // zero-length identifier: an error
			}
			toks = append(toks, token{start: start, end: i, kind: pg.Token_IDENT})
		case c == '\'':
			start := i
			i++
			for {
				if i >= n {
					return nil, false
				}
				if text[i] == '\'' {
					if i+1 < n && text[i+1] == '\'' {
						i += 2
						continue
					}
					i++
					break
				}
				i++
			}
			// A string continued on a later line ('a'\n'b') is one
			// token: leave any string followed by another to pg_query.
			k := i
			for k < n && (text[k] == ' ' || text[k] == '\t' || text[k] == '\n' || text[k] == '\r' || text[k] == '\f' || text[k] == '\v' || text[k] == '-') {
				if text[k] == '-' {
					return nil, false
				}
				k++
			}
			if k < n && (text[k] == '\'' || text[k] == '/') {
				return nil, false
			}
			toks = append(toks, token{start: start, end: i, kind: pg.Token_SCONST})
		case isDigit(c) || c == '.' && i+1 < n && isDigit(text[i+1]):
			start := i
			for i < n && isDigit(text[i]) {
				i++
			}
			kind := pg.Token_ICONST
			if i < n && text[i] == '.' {
				if i+1 < n && text[i+1] == '.' {
					return nil, false // 1..2
				}
				kind = pg.Token_FCONST
				i++
				for i < n && isDigit(text[i]) {
					i++
				}
			}
			if i < n && (text[i] == 'e' || text[i] == 'E') {
				return nil, false
			}
			if i < n && (isIdentCont(text[i]) || text[i] >= 0x80 || text[i] == '.') {
				return nil, false // 0x1F, 1_000, 123abc, 1.2.3
			}
			if kind == pg.Token_ICONST && !fitsInt32(text[start:i]) {
				kind = pg.Token_FCONST
			}
			toks = append(toks, token{start: start, end: i, kind: kind})
		case c == '$':
			start := i
			i++
			if i >= n || !isDigit(text[i]) {
				return nil, false // dollar quoting
			}
			for i < n && isDigit(text[i]) {
				i++
			}
			if i < n && (isIdentCont(text[i]) || text[i] >= 0x80) {
				return nil, false
			}
			toks = append(toks, token{start: start, end: i, kind: pg.Token_PARAM})
		case c == ':' && i+1 < n && text[i+1] == ':':
			toks = append(toks, token{start: i, end: i + 2, kind: pg.Token_TYPECAST})
			i += 2
		case c == ':' && i+1 < n && (text[i+1] == '=' || isOpChar(text[i+1])):
			return nil, false
		case c == ',' || c == '(' || c == ')' || c == '[' || c == ']' || c == ';' || c == ':' || c == '.':
			if c == '.' && i+1 < n && text[i+1] == '.' {
				return nil, false
			}
			toks = append(toks, token{start: i, end: i + 1, kind: pg.Token(c)})
			i++
		case isOpChar(c):
			start := i
			for i < n && isOpChar(text[i]) {
				i++
			}
			op := text[start:i]
			var kind pg.Token
			switch op {
			case "+", "-", "*", "/", "%", "^", "<", ">", "=":
				kind = pg.Token(op[0])
			case "<=":
				kind = pg.Token_LESS_EQUALS
			case ">=":
				kind = pg.Token_GREATER_EQUALS
			case "<>", "!=":
				kind = pg.Token_NOT_EQUALS
			default:
				return nil, false
			}
			toks = append(toks, token{start: start, end: i, kind: kind})
		default:
			return nil, false
		}
	}
	return toks, true
}

// fitsInt32 reports whether the decimal digits s are at most 2^31-1, as
// scan.l's process_integer_literal decides between ICONST and FCONST.
func fitsInt32(s string) bool {
	for len(s) > 1 && s[0] == '0' {
		s = s[1:]
	}
	if len(s) < 10 {
		return true
	}
	return len(s) == 10 && s <= "2147483647"
}
