package types

import (
	"sort"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/cockroachdb/apd/v3"
	"github.com/kappa-db/kappa/pgerr"
)

// jsonb values are held as their canonical text, which is what jsonb_out
// prints: object keys sorted by length then bytes with duplicates resolved
// last-wins, numbers as numeric_out prints them, ", " and ": " separators.
// Comparison of the canonical text is bytewise; PostgreSQL's jsonb ordering
// differs (it compares structure first) and kappa does not reproduce it.

// maxJSONDepth bounds nesting, as PostgreSQL's stack depth check does.
const maxJSONDepth = 6400

type jsonKind uint8

const (
	jsonNull jsonKind = iota
	jsonTrue
	jsonFalse
	jsonNumber
	jsonString
	jsonArray
	jsonObject
)

type jsonNode struct {
	kind jsonKind
	str  string // string value, or canonical number text
	arr  []jsonNode
	keys []string
}

type jsonParser struct {
	s     string
	i     int
	depth int
}

func errJSON(detail string, args ...any) error {
	return pgerr.New(pgerr.InvalidTextRepresentation, "invalid input syntax for type json").WithDetail(detail, args...)
}

// parseJSONB parses JSON text and returns jsonb's canonical text.
func parseJSONB(s string) (string, error) {
	n, err := parseJSON(s)
	if err != nil {
		return "", err
	}
	return string(n.appendCanonical(make([]byte, 0, len(s)+8))), nil
}

// parseJSON parses JSON text as PostgreSQL's json parser does.
func parseJSON(s string) (*jsonNode, error) {
	p := jsonParser{s: s}
	p.skipSpace()
	n, err := p.value()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.i < len(p.s) {
		return nil, errJSON("Expected end of input, but found \"%s\".", p.token())
	}
	return &n, nil
}

func (p *jsonParser) skipSpace() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// token returns the offending token for error details.
func (p *jsonParser) token() string {
	if p.i >= len(p.s) {
		return ""
	}
	j := p.i
	c := p.s[j]
	if c == '{' || c == '}' || c == '[' || c == ']' || c == ',' || c == ':' || c == '"' {
		return p.s[j : j+1]
	}
	for j < len(p.s) {
		c := p.s[j]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ']' || c == '}' || c == ':' || c == '{' || c == '[' || c == '"' {
			break
		}
		j++
	}
	if j == p.i {
		_, w := utf8.DecodeRuneInString(p.s[j:])
		j += w
	}
	return p.s[p.i:j]
}

func (p *jsonParser) value() (jsonNode, error) {
	if p.i >= len(p.s) {
		return jsonNode{}, errJSON("The input string ended unexpectedly.")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		s, err := p.string()
		return jsonNode{kind: jsonString, str: s}, err
	case c == '-' || isDigit(c):
		return p.number()
	default:
		tok := p.token()
		switch tok {
		case "true":
			p.i += 4
			return jsonNode{kind: jsonTrue}, nil
		case "false":
			p.i += 5
			return jsonNode{kind: jsonFalse}, nil
		case "null":
			p.i += 4
			return jsonNode{kind: jsonNull}, nil
		}
		return jsonNode{}, errJSON("Token \"%s\" is invalid.", tok)
	}
}

func (p *jsonParser) enter() error {
	p.depth++
	if p.depth > maxJSONDepth {
		return pgerr.New(pgerr.ProgramLimitExceeded, "stack depth limit exceeded")
	}
	return nil
}

func (p *jsonParser) object() (jsonNode, error) {
	if err := p.enter(); err != nil {
		return jsonNode{}, err
	}
	defer func() { p.depth-- }()
	p.i++ // {
	n := jsonNode{kind: jsonObject}
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return n, nil
	}
	for {
		p.skipSpace()
		if p.i >= len(p.s) {
			return n, errJSON("The input string ended unexpectedly.")
		}
		if p.s[p.i] != '"' {
			return n, errJSON("Expected string, but found \"%s\".", p.token())
		}
		k, err := p.string()
		if err != nil {
			return n, err
		}
		p.skipSpace()
		if p.i >= len(p.s) {
			return n, errJSON("The input string ended unexpectedly.")
		}
		if p.s[p.i] != ':' {
			return n, errJSON("Expected \":\", but found \"%s\".", p.token())
		}
		p.i++
		p.skipSpace()
		v, err := p.value()
		if err != nil {
			return n, err
		}
		n.keys = append(n.keys, k)
		n.arr = append(n.arr, v)
		p.skipSpace()
		if p.i >= len(p.s) {
			return n, errJSON("The input string ended unexpectedly.")
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			n.canonicalizeObject()
			return n, nil
		default:
			return n, errJSON("Expected \",\" or \"}\", but found \"%s\".", p.token())
		}
	}
}

// canonicalizeObject sorts keys by length then bytes and keeps the last of
// duplicate keys, as jsonb does.
func (n *jsonNode) canonicalizeObject() {
	idx := make([]int, len(n.keys))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		ka, kb := n.keys[idx[a]], n.keys[idx[b]]
		if len(ka) != len(kb) {
			return len(ka) < len(kb)
		}
		return ka < kb
	})
	keys := make([]string, 0, len(idx))
	vals := make([]jsonNode, 0, len(idx))
	for _, i := range idx {
		if len(keys) > 0 && keys[len(keys)-1] == n.keys[i] {
			vals[len(vals)-1] = n.arr[i] // stable sort: later duplicate wins
			continue
		}
		keys = append(keys, n.keys[i])
		vals = append(vals, n.arr[i])
	}
	n.keys, n.arr = keys, vals
}

func (p *jsonParser) array() (jsonNode, error) {
	if err := p.enter(); err != nil {
		return jsonNode{}, err
	}
	defer func() { p.depth-- }()
	p.i++ // [
	n := jsonNode{kind: jsonArray}
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		return n, nil
	}
	for {
		p.skipSpace()
		v, err := p.value()
		if err != nil {
			return n, err
		}
		n.arr = append(n.arr, v)
		p.skipSpace()
		if p.i >= len(p.s) {
			return n, errJSON("The input string ended unexpectedly.")
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return n, nil
		default:
			return n, errJSON("Expected \",\" or \"]\", but found \"%s\".", p.token())
		}
	}
}

func (p *jsonParser) number() (jsonNode, error) {
	start := p.i
	s := p.s
	i := p.i
	if s[i] == '-' {
		i++
	}
	bad := func() (jsonNode, error) {
		p.i = start
		return jsonNode{}, errJSON("Token \"%s\" is invalid.", p.token())
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		return bad()
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || !isDigit(s[i]) {
			return bad()
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			return bad()
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (isAlpha(s[i]) || isDigit(s[i]) || s[i] == '.') {
		return bad()
	}
	p.i = i
	d := new(apd.Decimal)
	if _, _, err := d.SetString(s[start:i]); err != nil {
		return bad()
	}
	if err := checkNumericRange(d); err != nil {
		return jsonNode{}, err
	}
	fixNegativeZero(d)
	normalizeExponent(d)
	return jsonNode{kind: jsonNumber, str: string(appendNumericText(nil, d))}, nil
}

func (p *jsonParser) string() (string, error) {
	p.i++ // opening quote
	start := p.i
	// Fast path: no escapes.
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '"' {
			s := p.s[start:p.i]
			p.i++
			return s, nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", errJSON("Character with value 0x%02x must be escaped.", c)
		}
		p.i++
	}
	buf := []byte(p.s[start:p.i])
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return string(buf), nil
		case c < 0x20:
			return "", errJSON("Character with value 0x%02x must be escaped.", c)
		case c != '\\':
			buf = append(buf, c)
			p.i++
			continue
		}
		p.i++
		if p.i >= len(p.s) {
			return "", errJSON("The input string ended unexpectedly.")
		}
		e := p.s[p.i]
		p.i++
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", errJSON("\"\\u\" must be followed by four hexadecimal digits.")
			}
			if utf16.IsSurrogate(rune(r)) {
				if r >= 0xDC00 {
					return "", pgerr.New(pgerr.InvalidTextRepresentation, "invalid input syntax for type json").
						WithDetail("Unicode low surrogate must follow a high surrogate.")
				}
				if p.i+1 < len(p.s) && p.s[p.i] == '\\' && p.s[p.i+1] == 'u' {
					p.i += 2
					r2, ok := p.hex4()
					if !ok {
						return "", errJSON("\"\\u\" must be followed by four hexadecimal digits.")
					}
					if r2 < 0xDC00 || r2 > 0xDFFF {
						return "", errJSON("Unicode high surrogate must not follow a high surrogate.")
					}
					buf = utf8.AppendRune(buf, utf16.DecodeRune(rune(r), rune(r2)))
					continue
				}
				return "", errJSON("Unicode low surrogate must follow a high surrogate.")
			}
			if r == 0 {
				return "", pgerr.New("22P05", "unsupported Unicode escape sequence").
					WithDetail("\\u0000 cannot be converted to text.")
			}
			buf = utf8.AppendRune(buf, rune(r))
		default:
			return "", errJSON("Escape sequence \"\\%c\" is invalid.", e)
		}
	}
	return "", errJSON("The input string ended unexpectedly.")
}

func (p *jsonParser) hex4() (uint16, bool) {
	if p.i+4 > len(p.s) {
		return 0, false
	}
	var r uint16
	for j := 0; j < 4; j++ {
		h, ok := unhex(p.s[p.i+j])
		if !ok {
			return 0, false
		}
		r = r<<4 | uint16(h)
	}
	p.i += 4
	return r, true
}

func (n *jsonNode) appendCanonical(dst []byte) []byte {
	switch n.kind {
	case jsonNull:
		return append(dst, "null"...)
	case jsonTrue:
		return append(dst, "true"...)
	case jsonFalse:
		return append(dst, "false"...)
	case jsonNumber:
		return append(dst, n.str...)
	case jsonString:
		return AppendJSONString(dst, n.str)
	case jsonArray:
		dst = append(dst, '[')
		for i := range n.arr {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = n.arr[i].appendCanonical(dst)
		}
		return append(dst, ']')
	case jsonObject:
		dst = append(dst, '{')
		for i := range n.arr {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = AppendJSONString(dst, n.keys[i])
			dst = append(dst, ": "...)
			dst = n.arr[i].appendCanonical(dst)
		}
		return append(dst, '}')
	}
	return dst
}

// AppendJSONString appends s as a JSON string literal, escaped as
// PostgreSQL's escape_json does.
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			dst = append(dst, '\\', '"')
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			if c < 0x20 {
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			} else {
				dst = append(dst, c)
			}
		}
	}
	return append(dst, '"')
}
