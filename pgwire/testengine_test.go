package pgwire

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kappa-db/kappa/pgerr"
)

// Type OIDs the test engine speaks.
const (
	oidInt8 = 20
	oidInt4 = 23
	oidText = 25
)

// testEngine is a tiny in-memory engine for the server's tests. It knows a
// handful of commands (first word, case-insensitive):
//
//	SELECT 1                    one int4 row
//	ECHO $1, $2 ...             one row echoing the parameters (int4, int8, text)
//	GENERATE n                  n int4 rows 0..n-1, column "i"
//	BAD ...                     syntax error at parse time, with a position
//	FAIL code message           error at execute time
//	PANIC                       panics in Execute
//	SLEEP                       blocks until cancelled (or maxSleep)
//	COPY t FROM STDIN [CSV]     stores rows in table t
//	COPY t TO STDOUT [CSV]      writes table t
//	COUNT t                     number of rows in t
//	NOTICE message              sends a notice
//	BEGIN / COMMIT / ROLLBACK   transaction status
//	SET name = value            reports a ParameterStatus
type testEngine struct {
	maxSleep time.Duration

	mu      sync.Mutex
	tables  map[string][][][]byte
	started chan struct{} // receives when SLEEP starts, if set
}

func newTestEngine() *testEngine {
	return &testEngine{maxSleep: 10 * time.Second, tables: make(map[string][][][]byte)}
}

func (e *testEngine) NewSession(ctx context.Context, p SessionParams) (Session, error) {
	if p.Database == "nosuchdb" {
		return nil, pgerr.New("3D000", "database %q does not exist", p.Database)
	}
	return &testSession{e: e, tx: 'I', appName: p.ApplicationName}, nil
}

type testSession struct {
	e       *testEngine
	tx      byte
	appName string
}

func (s *testSession) Parse(ctx context.Context, query string) ([]Statement, error) {
	var out []Statement
	offset := 0
	for _, part := range strings.Split(query, ";") {
		sql := strings.TrimSpace(part)
		if sql != "" {
			st, err := s.prepare(sql, nil, offset+strings.Index(part, sql))
			if err != nil {
				return nil, err
			}
			out = append(out, st)
		}
		offset += len(part) + 1
	}
	return out, nil
}

func (s *testSession) Prepare(ctx context.Context, query string, paramTypes []uint32) (Statement, error) {
	sql := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(query), ";"))
	return s.prepare(sql, paramTypes, strings.Index(query, sql))
}

func (s *testSession) prepare(sql string, paramTypes []uint32, offset int) (Statement, error) {
	words := strings.Fields(sql)
	verb := ""
	if len(words) > 0 {
		verb = strings.ToUpper(words[0])
	}
	if verb == "BAD" {
		return nil, pgerr.New(pgerr.SyntaxError, "syntax error at or near %q", words[0]).WithPosition(int32(offset + 1))
	}
	return &testStatement{s: s, sql: sql, verb: verb, words: words, paramTypes: paramTypes}, nil
}

func (s *testSession) TxStatus() byte { return s.tx }

func (s *testSession) EndImplicit(context.Context, bool) error { return nil }

func (s *testSession) ParameterStatus() map[string]string {
	return map[string]string{
		"server_version":              "17.0 (kappa test)",
		"server_encoding":             "UTF8",
		"client_encoding":             "UTF8",
		"DateStyle":                   "ISO, MDY",
		"TimeZone":                    "UTC",
		"integer_datetimes":           "on",
		"standard_conforming_strings": "on",
		"application_name":            s.appName,
	}
}

func (s *testSession) Close() error { return nil }

type testStatement struct {
	s          *testSession
	sql        string
	verb       string
	words      []string
	paramTypes []uint32
}

func (st *testStatement) SQL() string { return st.sql }

func (st *testStatement) Describe(ctx context.Context) ([]uint32, []Column, error) {
	switch st.verb {
	case "SELECT":
		return nil, []Column{{Name: "?column?", TypeOID: oidInt4, TypeSize: 4, TypeModifier: -1}}, nil
	case "GENERATE":
		return nil, []Column{{Name: "i", TypeOID: oidInt4, TypeSize: 4, TypeModifier: -1}}, nil
	case "COUNT":
		return nil, []Column{{Name: "count", TypeOID: oidInt8, TypeSize: 8, TypeModifier: -1}}, nil
	case "ECHO":
		params := st.echoParams()
		cols := make([]Column, len(params))
		for i, oid := range params {
			cols[i] = Column{Name: fmt.Sprintf("p%d", i+1), TypeOID: oid, TypeSize: -1, TypeModifier: -1}
		}
		return params, cols, nil
	}
	return nil, nil, nil
}

// echoParams counts $n placeholders and types them: as declared, else text.
func (st *testStatement) echoParams() []uint32 {
	n := strings.Count(st.sql, "$")
	params := make([]uint32, n)
	for i := range params {
		params[i] = oidText
		if i < len(st.paramTypes) && st.paramTypes[i] != 0 {
			params[i] = st.paramTypes[i]
		}
	}
	return params
}

func formatAt(formats []int16, i int) int16 {
	if i < len(formats) {
		return formats[i]
	}
	return 0
}

func (st *testStatement) Execute(ctx context.Context, params [][]byte, paramFormats, resultFormats []int16, w ResultWriter) (string, error) {
	s := st.s
	if s.tx == 'E' && st.verb != "COMMIT" && st.verb != "ROLLBACK" {
		return "", pgerr.New(pgerr.InFailedSQLTransaction, "current transaction is aborted, commands ignored until end of transaction block")
	}
	tag, err := st.execute(ctx, params, paramFormats, resultFormats, w)
	if err != nil && s.tx == 'T' {
		s.tx = 'E'
	}
	return tag, err
}

func (st *testStatement) execute(ctx context.Context, params [][]byte, paramFormats, resultFormats []int16, w ResultWriter) (string, error) {
	s, e := st.s, st.s.e
	_, cols, _ := st.Describe(ctx)
	if cols != nil {
		if err := w.Columns(cols); err != nil {
			return "", err
		}
	}
	switch st.verb {
	case "SELECT":
		if err := w.Row([][]byte{encodeInt(1, oidInt4, formatAt(resultFormats, 0), nil)}); err != nil {
			return "", err
		}
		return "SELECT 1", nil
	case "GENERATE":
		n, err := strconv.Atoi(st.arg(1))
		if err != nil {
			return "", pgerr.New(pgerr.InvalidTextRepresentation, "bad row count %q", st.arg(1))
		}
		var buf [16]byte
		row := make([][]byte, 1)
		f := formatAt(resultFormats, 0)
		for i := range n {
			row[0] = encodeInt(int64(i), oidInt4, f, buf[:0])
			if err := w.Row(row); err != nil {
				return "", err
			}
		}
		return "SELECT " + strconv.Itoa(n), nil
	case "ECHO":
		ptypes := st.echoParams()
		if len(params) != len(ptypes) {
			return "", pgerr.New(pgerr.ProtocolViolation, "ECHO needs %d parameters, got %d", len(ptypes), len(params))
		}
		row := make([][]byte, len(params))
		for i, p := range params {
			if p == nil {
				continue
			}
			v, err := convert(p, ptypes[i], formatAt(paramFormats, i), formatAt(resultFormats, i))
			if err != nil {
				return "", err
			}
			row[i] = v
		}
		if err := w.Row(row); err != nil {
			return "", err
		}
		return "SELECT 1", nil
	case "FAIL":
		return "", pgerr.New(st.arg(1), "%s", strings.Join(st.words[min(2, len(st.words)):], " "))
	case "PANIC":
		panic("test engine: PANIC statement")
	case "SLEEP":
		if e.started != nil {
			e.started <- struct{}{}
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(e.maxSleep):
			return "SLEEP", nil
		}
	case "NOTICE":
		w.Notice("", "", strings.Join(st.words[1:], " "))
		return "DO", nil
	case "BEGIN":
		s.tx = 'T'
		return "BEGIN", nil
	case "COMMIT", "ROLLBACK":
		tag := st.verb
		if s.tx == 'E' {
			tag = "ROLLBACK"
		}
		s.tx = 'I'
		return tag, nil
	case "SET":
		// SET name = value
		if len(st.words) < 4 {
			return "", pgerr.New(pgerr.SyntaxError, "SET name = value")
		}
		w.SetParameter(st.words[1], st.words[3])
		return "SET", nil
	case "COUNT":
		e.mu.Lock()
		n := len(e.tables[st.arg(1)])
		e.mu.Unlock()
		if err := w.Row([][]byte{encodeInt(int64(n), oidInt8, formatAt(resultFormats, 0), nil)}); err != nil {
			return "", err
		}
		return "SELECT 1", nil
	case "COPY":
		return st.copy(w)
	}
	return "", pgerr.New(pgerr.SyntaxError, "test engine does not know %q", st.verb)
}

func (st *testStatement) arg(i int) string {
	if i < len(st.words) {
		return st.words[i]
	}
	return ""
}

func (st *testStatement) copy(w ResultWriter) (string, error) {
	e := st.s.e
	table := st.arg(1)
	opts := NewCopyOptions(CopyText)
	if strings.EqualFold(st.arg(4), "CSV") {
		opts = NewCopyOptions(CopyCSV)
	}
	switch strings.ToUpper(st.arg(2)) {
	case "FROM":
		r, err := w.CopyIn(0, []int16{0})
		if err != nil {
			return "", err
		}
		dec := NewCopyDecoder(r, opts)
		var rows [][][]byte
		for {
			fields, err := dec.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return "", err
			}
			row := make([][]byte, len(fields))
			for i, f := range fields {
				if f != nil {
					row[i] = append([]byte{}, f...)
				}
			}
			rows = append(rows, row)
		}
		e.mu.Lock()
		e.tables[table] = append(e.tables[table], rows...)
		e.mu.Unlock()
		return "COPY " + strconv.Itoa(len(rows)), nil
	case "TO":
		out, err := w.CopyOut(0, []int16{0})
		if err != nil {
			return "", err
		}
		e.mu.Lock()
		rows := e.tables[table]
		e.mu.Unlock()
		enc := NewCopyEncoder(out, opts)
		for _, row := range rows {
			if err := enc.Encode(row); err != nil {
				return "", err
			}
		}
		return "COPY " + strconv.Itoa(len(rows)), nil
	}
	return "", pgerr.New(pgerr.SyntaxError, "COPY t FROM STDIN | COPY t TO STDOUT")
}

// encodeInt encodes v as an int4 or int8 in format f, appending to dst.
func encodeInt(v int64, oid uint32, f int16, dst []byte) []byte {
	if f == 0 {
		return strconv.AppendInt(dst, v, 10)
	}
	if oid == oidInt8 {
		return binary.BigEndian.AppendUint64(dst, uint64(v))
	}
	return binary.BigEndian.AppendUint32(dst, uint32(int32(v)))
}

// convert re-encodes a parameter value of type oid from format in to out.
func convert(p []byte, oid uint32, in, out int16) ([]byte, error) {
	if in == out {
		return p, nil
	}
	switch oid {
	case oidText:
		return p, nil // text is the same bytes in both formats
	case oidInt4, oidInt8:
		var v int64
		if in == 0 {
			n, err := strconv.ParseInt(string(p), 10, 64)
			if err != nil {
				return nil, pgerr.New(pgerr.InvalidTextRepresentation, "invalid input syntax for type integer: %q", p)
			}
			v = n
		} else if len(p) == 4 {
			v = int64(int32(binary.BigEndian.Uint32(p)))
		} else if len(p) == 8 {
			v = int64(binary.BigEndian.Uint64(p))
		} else {
			return nil, pgerr.New(pgerr.InvalidBinaryRepresent, "incorrect binary data format")
		}
		return encodeInt(v, oid, out, nil), nil
	}
	return nil, pgerr.New(pgerr.FeatureNotSupported, "test engine cannot convert type %d", oid)
}
