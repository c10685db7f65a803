package sqllogictest

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Kind says what a record does.
type Kind int

const (
	// KindStatement runs SQL and checks that it succeeds or fails.
	KindStatement Kind = iota
	// KindQuery runs SQL and compares its rows with the expected values.
	KindQuery
	// KindHashThreshold sets the number of values above which a rewritten
	// result is written as a hash.
	KindHashThreshold
	// KindHalt stops the file.
	KindHalt
	// KindSkippedBlock is a block the runner does not implement (loop ...
	// endloop); it is counted as skipped.
	KindSkippedBlock
)

func (k Kind) String() string {
	switch k {
	case KindStatement:
		return "statement"
	case KindQuery:
		return "query"
	case KindHashThreshold:
		return "hash-threshold"
	case KindHalt:
		return "halt"
	case KindSkippedBlock:
		return "skipped-block"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// SortMode says how a query's result is ordered before it is compared.
type SortMode int

const (
	// NoSort compares rows in the order the server returned them.
	NoSort SortMode = iota
	// RowSort sorts rows, comparing their values as strings left to right.
	RowSort
	// ValueSort sorts all values individually, ignoring row boundaries.
	ValueSort
)

func (m SortMode) String() string {
	switch m {
	case NoSort:
		return "nosort"
	case RowSort:
		return "rowsort"
	case ValueSort:
		return "valuesort"
	}
	return fmt.Sprintf("SortMode(%d)", int(m))
}

// Condition is a skipif or onlyif line in front of a record.
type Condition struct {
	Skip   bool // skipif when true, onlyif when false
	Engine string
}

// Record is one record of a sqllogictest file.
type Record struct {
	Kind Kind
	// Line is the 1-based line of the record's header (statement, query...).
	Line       int
	Conditions []Condition
	SQL        string

	// ExpectError is set by "statement error" and "query error".
	ExpectError bool
	// ErrorPattern is what follows "statement error": a SQLSTATE, "pgcode
	// XXXXX [regex]", or a regular expression over the message; "" accepts
	// any error.
	ErrorPattern string
	// ExpectCount is the row count of "statement count N", or -1.
	ExpectCount int64

	// Types has one letter per result column (I, T, R...).
	Types string
	Sort  SortMode
	Label string
	// Expected holds the lines after "----", as written.
	Expected []string
	// HasSeparator says whether the record had a "----" line.
	HasSeparator bool

	// Threshold is the value of hash-threshold.
	Threshold int

	// firstLine and endLine delimit the record's lines (0-based, end
	// exclusive); sqlEnd is the 0-based line after the SQL text. The rewriter
	// uses them to replace a query's expected block.
	firstLine, sqlEnd, endLine int
}

// File is a parsed sqllogictest file.
type File struct {
	Name    string
	Records []Record
	// lines is the file's text, kept for rewriting it.
	lines []string
}

// ParseError is returned for a line the parser does not understand.
type ParseError struct {
	File string
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Parse reads a sqllogictest file. name is used in error messages.
func Parse(r io.Reader, name string) (*File, error) {
	var lines []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		lines = append(lines, strings.TrimRight(sc.Text(), "\r"))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	f := &File{Name: name, lines: lines}
	p := parser{file: f, lines: lines}
	if err := p.parse(); err != nil {
		return nil, err
	}
	return f, nil
}

type parser struct {
	file  *File
	lines []string
	i     int // next line, 0-based
}

func isBlank(s string) bool { return strings.TrimSpace(s) == "" }

func isComment(s string) bool { return strings.HasPrefix(strings.TrimSpace(s), "#") }

func (p *parser) errorf(line int, format string, args ...any) error {
	return &ParseError{File: p.file.Name, Line: line + 1, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) parse() error {
	for {
		// Skip the blank lines and comments between records.
		for p.i < len(p.lines) && (isBlank(p.lines[p.i]) || isComment(p.lines[p.i])) {
			p.i++
		}
		if p.i >= len(p.lines) {
			return nil
		}
		rec, err := p.record()
		if err != nil {
			return err
		}
		p.file.Records = append(p.file.Records, rec)
	}
}

// record parses one record starting at p.i, which is neither blank nor a
// comment.
func (p *parser) record() (Record, error) {
	rec := Record{ExpectCount: -1, firstLine: p.i}
	for ; p.i < len(p.lines); p.i++ {
		line := p.lines[p.i]
		if isComment(line) {
			continue
		}
		if isBlank(line) {
			return rec, p.errorf(p.i, "condition without a record")
		}
		fields := strings.Fields(line)
		switch fields[0] {
		case "skipif", "onlyif":
			if len(fields) < 2 {
				return rec, p.errorf(p.i, "%s needs an engine name", fields[0])
			}
			rec.Conditions = append(rec.Conditions, Condition{Skip: fields[0] == "skipif", Engine: fields[1]})
			continue
		}
		rec.Line = p.i + 1
		header := p.i
		p.i++
		switch fields[0] {
		case "statement":
			return p.statement(rec, header, fields)
		case "query":
			return p.query(rec, header, fields)
		case "hash-threshold":
			if len(fields) != 2 {
				return rec, p.errorf(header, "hash-threshold needs one number")
			}
			n, err := strconv.Atoi(fields[1])
			if err != nil || n < 0 {
				return rec, p.errorf(header, "bad hash-threshold %q", fields[1])
			}
			rec.Kind, rec.Threshold = KindHashThreshold, n
			return p.finish(rec), nil
		case "halt":
			rec.Kind = KindHalt
			return p.finish(rec), nil
		case "loop", "foreach":
			rec.Kind = KindSkippedBlock
			for ; p.i < len(p.lines); p.i++ {
				if strings.TrimSpace(p.lines[p.i]) == "endloop" {
					p.i++
					return p.finish(rec), nil
				}
			}
			return rec, p.errorf(header, "%s without endloop", fields[0])
		default:
			return rec, p.errorf(header, "unknown record %q", fields[0])
		}
	}
	return rec, p.errorf(p.i-1, "condition without a record at end of file")
}

// finish records where the record ends: at p.i.
func (p *parser) finish(rec Record) Record {
	rec.endLine = p.i
	if rec.sqlEnd == 0 {
		rec.sqlEnd = p.i
	}
	return rec
}

// sqlText reads SQL lines up to a blank line, or to "----" when stopAtSep.
func (p *parser) sqlText(stopAtSep bool) string {
	var sql []string
	for ; p.i < len(p.lines); p.i++ {
		line := p.lines[p.i]
		if isBlank(line) || (stopAtSep && strings.TrimSpace(line) == "----") {
			break
		}
		if isComment(line) {
			continue
		}
		sql = append(sql, line)
	}
	return strings.Join(sql, "\n")
}

func (p *parser) statement(rec Record, header int, fields []string) (Record, error) {
	rec.Kind = KindStatement
	if len(fields) < 2 {
		return rec, p.errorf(header, "statement needs ok, error or count")
	}
	switch fields[1] {
	case "ok":
	case "error":
		rec.ExpectError = true
		rec.ErrorPattern = restAfter(p.lines[header], 2)
	case "count":
		if len(fields) != 3 {
			return rec, p.errorf(header, "statement count needs one number")
		}
		n, err := strconv.ParseInt(fields[2], 10, 64)
		if err != nil || n < 0 {
			return rec, p.errorf(header, "bad statement count %q", fields[2])
		}
		rec.ExpectCount = n
	default:
		return rec, p.errorf(header, "statement %q: want ok, error or count", fields[1])
	}
	rec.SQL = p.sqlText(false)
	rec.sqlEnd = p.i
	if rec.SQL == "" {
		return rec, p.errorf(header, "statement without SQL")
	}
	return p.finish(rec), nil
}

func (p *parser) query(rec Record, header int, fields []string) (Record, error) {
	rec.Kind = KindQuery
	if len(fields) < 2 {
		return rec, p.errorf(header, "query needs its column types")
	}
	if fields[1] == "error" {
		rec.ExpectError = true
		rec.ErrorPattern = restAfter(p.lines[header], 2)
		rec.SQL = p.sqlText(false)
		rec.sqlEnd = p.i
		if rec.SQL == "" {
			return rec, p.errorf(header, "query without SQL")
		}
		return p.finish(rec), nil
	}
	rec.Types = fields[1]
	rest := fields[2:]
	if len(rest) > 0 {
		switch rest[0] {
		case "nosort":
			rec.Sort, rest = NoSort, rest[1:]
		case "rowsort":
			rec.Sort, rest = RowSort, rest[1:]
		case "valuesort":
			rec.Sort, rest = ValueSort, rest[1:]
		}
	}
	if len(rest) > 0 {
		rec.Label = rest[0]
	}
	if len(rest) > 1 {
		return rec, p.errorf(header, "query: unexpected %q", strings.Join(rest[1:], " "))
	}
	rec.SQL = p.sqlText(true)
	rec.sqlEnd = p.i
	if rec.SQL == "" {
		return rec, p.errorf(header, "query without SQL")
	}
	if p.i < len(p.lines) && strings.TrimSpace(p.lines[p.i]) == "----" {
		rec.HasSeparator = true
		p.i++
		for ; p.i < len(p.lines) && !isBlank(p.lines[p.i]); p.i++ {
			rec.Expected = append(rec.Expected, strings.TrimSpace(p.lines[p.i]))
		}
	}
	return p.finish(rec), nil
}

// restAfter returns line without its first n white-space separated fields.
func restAfter(line string, n int) string {
	s := strings.TrimSpace(line)
	for ; n > 0; n-- {
		i := strings.IndexAny(s, " \t")
		if i < 0 {
			return ""
		}
		s = strings.TrimSpace(s[i:])
	}
	return s
}
