package sql

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kappa-db/kappa/pgerr"
)

// clientDir holds catalog queries that psql, pgjdbc and SQLAlchemy send,
// captured from a real PostgreSQL.
const clientDir = "../../shared/clients"

var logLineStart = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`)
var logStatement = regexp.MustCompile(`LOG:  (?:statement|execute [^:]*): (.*)$`)

// clientStatements extracts the SQL statements from a captured client file:
// PostgreSQL server logs (log_statement = all) or psql's ECHO_HIDDEN output
// with statements separated by "----" lines and "=== \d" headers.
func clientStatements(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	lines := strings.Split(string(data), "\n")
	var out []string
	if strings.HasSuffix(path, ".log") {
		var cur []string
		inStmt := false
		flush := func() {
			if inStmt {
				if s := strings.TrimSpace(strings.Join(cur, "\n")); s != "" {
					out = append(out, s)
				}
			}
			cur, inStmt = nil, false
		}
		for _, l := range lines {
			if logLineStart.MatchString(l) {
				flush()
				if m := logStatement.FindStringSubmatch(l); m != nil {
					cur, inStmt = []string{m[1]}, true
				}
				continue
			}
			if inStmt {
				cur = append(cur, strings.TrimPrefix(l, "\t"))
			}
		}
		flush()
		return out
	}
	var cur []string
	flush := func() {
		if s := strings.TrimSpace(strings.Join(cur, "\n")); s != "" {
			out = append(out, s)
		}
		cur = nil
	}
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "==="):
			flush()
		case l == "----":
			flush()
		default:
			cur = append(cur, l)
		}
	}
	flush()
	return out
}

// TestClientCatalogQueries parses every statement psql, pgjdbc and
// SQLAlchemy sent in the captured sessions.
func TestClientCatalogQueries(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(clientDir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skipf("no client captures in %s", clientDir)
	}
	total := 0
	for _, f := range files {
		stmts := clientStatements(t, f)
		if len(stmts) == 0 {
			t.Errorf("%s: no statements extracted", f)
		}
		for _, s := range stmts {
			total++
			parsed, err := Parse(s)
			if err != nil {
				t.Errorf("%s: %v\n%s", filepath.Base(f), err, s)
				continue
			}
			if len(parsed) == 0 {
				t.Errorf("%s: no statement parsed from\n%s", filepath.Base(f), s)
			}
			for _, p := range parsed {
				checkWalk(t, p)
				if q, ok := p.(*Select); ok {
					text := Format(q)
					again, err := Parse(text)
					if err != nil {
						t.Errorf("%s: formatted query does not parse: %v\n%s", filepath.Base(f), err, text)
						continue
					}
					if a, b := withoutPositions(dump(q)), withoutPositions(dump(again[0])); a != b {
						t.Errorf("%s: formatted query parses to a different tree:\n%s", filepath.Base(f), text)
					}
				}
			}
		}
	}
	t.Logf("%d client statements parsed", total)
	if total < 40 {
		t.Errorf("only %d client statements extracted; the extraction is broken", total)
	}
}

func TestSyntaxErrorPosition(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		code string
		pos  int32
	}{
		{"SELEC 1", pgerr.SyntaxError, 1},
		{"  SELEC 1", pgerr.SyntaxError, 3},
		{"SELECT 1; SELEC 2", pgerr.SyntaxError, 11},
		{"SELECT 'ü', * FROM FROM", pgerr.SyntaxError, 20},
		// The pre-parser blanked the WITH list holding multi-byte text.
		{"CREATE SOURCE s (a int) WITH (k = 'ééé') FORMAT PLAIN ENCODE JSON x", pgerr.SyntaxError, 67},
		{"SELECT 1; LISTEN x", pgerr.FeatureNotSupported, 11},
	} {
		_, err := Parse(tc.sql)
		var pe *pgerr.Error
		if !errors.As(err, &pe) {
			t.Errorf("%q: want *pgerr.Error, got %v", tc.sql, err)
			continue
		}
		if pe.Code != tc.code || pe.Position != tc.pos {
			t.Errorf("%q: got %s at %d (%s), want %s at %d", tc.sql, pe.Code, pe.Position, pe.Message, tc.code, tc.pos)
		}
	}
}

func TestCharPos(t *testing.T) {
	text := "aé€𝄞b"
	want := map[int]int32{-1: 0, 0: 1, 1: 2, 3: 3, 6: 4, 10: 5, 11: 6, 99: 6}
	for off, pos := range want {
		if got := CharPos(text, off); got != pos {
			t.Errorf("CharPos(%d) = %d, want %d", off, got, pos)
		}
	}
	for off := 0; off <= len(text); off++ {
		if !utf8.RuneStart(text[min(off, len(text)-1)]) && off < len(text) {
			continue
		}
		if got := byteOffset(text, int(CharPos(text, off))); got != off {
			t.Errorf("byteOffset(CharPos(%d)) = %d", off, got)
		}
	}
}

func TestStatementTextAndOffset(t *testing.T) {
	text := "SELECT 1;\n  CREATE SOURCE s (a int) WITH (x.y = 'z') ;SHOW MATERIALIZED VIEWS"
	stmts, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	if len(stmts) != 3 {
		t.Fatalf("got %d statements", len(stmts))
	}
	for _, s := range stmts {
		info := s.Info()
		if text[info.Offset:info.Offset+len(info.Text)] != info.Text {
			t.Errorf("%T: Text %q is not at Offset %d", s, info.Text, info.Offset)
		}
		if s.Position() != info.Offset {
			t.Errorf("%T: Position %d, Offset %d", s, s.Position(), info.Offset)
		}
		again, err := Parse(info.Text)
		if err != nil || len(again) != 1 {
			t.Errorf("%T: Text %q does not parse alone: %v", s, info.Text, err)
		}
	}
}

// checkWalk checks that Walk visits every node reachable through the
// struct fields of n.
func checkWalk(t *testing.T, n Node) {
	t.Helper()
	want := map[Node]bool{}
	collectNodes(reflect.ValueOf(n), want)
	got := map[Node]bool{}
	Walk(n, func(x Node) bool {
		got[x] = true
		return true
	})
	for x := range want {
		if !got[x] {
			t.Errorf("Walk missed a %T in %T", x, n)
		}
	}
}

var nodeType = reflect.TypeOf((*Node)(nil)).Elem()

func collectNodes(v reflect.Value, into map[Node]bool) {
	switch v.Kind() {
	case reflect.Interface:
		if !v.IsNil() {
			collectNodes(v.Elem(), into)
		}
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		if v.Type().Implements(nodeType) && v.Type() != reflect.TypeOf(&ObjectName{}) {
			n := v.Interface().(Node)
			if into[n] {
				return
			}
			into[n] = true
		}
		collectNodes(v.Elem(), into)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				collectNodes(v.Field(i), into)
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			collectNodes(v.Index(i), into)
		}
	}
}

// TestWalkVisitsEverything runs checkWalk over every statement of the
// datadriven parse tests.
func TestWalkVisitsEverything(t *testing.T) {
	files, err := filepath.Glob("testdata/parse/*")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, path := range files {
		f := parseDDFile(t, path)
		for _, c := range f.cases {
			stmts, err := Parse(c.input)
			if err != nil {
				continue
			}
			for _, s := range stmts {
				checkWalk(t, s)
				n++
			}
		}
	}
	if n < 50 {
		t.Errorf("only %d statements walked", n)
	}
}

func TestWalkSkipsChildren(t *testing.T) {
	stmts, err := Parse("SELECT a + (SELECT b FROM t) FROM u WHERE c")
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	Walk(stmts[0], func(n Node) bool {
		if _, ok := n.(*ScalarSubquery); ok {
			return false
		}
		if c, ok := n.(*ColumnRef); ok {
			refs = append(refs, c.Names[0])
		}
		return true
	})
	if got := strings.Join(refs, ","); got != "a,c" {
		t.Errorf("got %s, want a,c", got)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"SELECT 1",
		"CREATE SOURCE s (a int, WATERMARK FOR a AS a - 1) WITH (x.y = 'z') FORMAT PLAIN ENCODE JSON",
		"CREATE SINK k AS SELECT 1 EMIT ON WINDOW CLOSE WITH (a = 1) FORMAT PLAIN ENCODE JSON (b = 2)",
		"SUBSCRIBE TO (SELECT 1) WITH (snapshot = true); COPY (SUBSCRIBE x) TO STDOUT",
		"CREATE OR REPLACE MATERIALIZED VIEW v WITH (a.b = 1) AS SELECT 1 EMIT ON WINDOW CLOSE",
		"SHOW CREATE MATERIALIZED VIEW v; SHOW MATERIALIZED VIEWS; DROP SOURCE s",
		"SELECT a[1:2], (r).f, x::int[], CASE WHEN a THEN b END FROM t JOIN u USING (id)",
		"CREATE TABLE t (a int, WATERMARK FOR a AS a) APPEND ONLY",
		"COPY (SUBSCRIBE",
		"CREATE SOURCE (",
		"WATERMARK FOR",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		stmts, err := Parse(s)
		if err != nil {
			var pe *pgerr.Error
			if !errors.As(err, &pe) {
				t.Fatalf("%q: error is not a *pgerr.Error: %v", s, err)
			}
			return
		}
		for _, st := range stmts {
			info := st.Info()
			if info.Offset < 0 || info.Offset+len(info.Text) > len(s) || s[info.Offset:info.Offset+len(info.Text)] != info.Text {
				t.Fatalf("%q: bad Text/Offset %q @%d", s, info.Text, info.Offset)
			}
			Walk(st, func(n Node) bool {
				if e, ok := n.(Expr); ok {
					_ = Format(e)
					_ = DefaultColumnName(e)
				}
				return true
			})
			_ = Format(st)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	const q = `SELECT o.id, o.customer_id, c.name, sum(l.price * l.qty) AS total, count(*) AS n
FROM orders AS o JOIN customers AS c ON c.id = o.customer_id
LEFT JOIN lines AS l ON l.order_id = o.id
WHERE o.created_at > now() - INTERVAL '1 day' AND o.status IN ('open', 'paid') AND c.region = $1
GROUP BY o.id, o.customer_id, c.name
HAVING sum(l.price * l.qty) > 100
ORDER BY total DESC
LIMIT 50`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(q); err != nil {
			b.Fatal(err)
		}
	}
}
