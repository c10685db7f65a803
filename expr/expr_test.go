package expr

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/kappa-db/kappa/internal/pgtest"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/types"
)

// The cases live in testdata/*.txt:
//
//	# comment
//	tz America/New_York        (session time zone for the cases below)
//	> 1 + 2                    (an expression, as in SELECT <expr>)
//	integer: 3                 (its type and text output, or ERROR code: message)
//
// go test ./expr -rewrite asks a real PostgreSQL (internal/pgtest) for
// every answer and rewrites the files; review the diff.
var rewrite = flag.Bool("rewrite", false, "rewrite testdata expectations from a real PostgreSQL")

type exprCase struct {
	tz, sql, want string
	explain       bool // print the bound and folded trees, kappa's own format
}

// testNow is the statement time the cases see (2024-03-10 12:34:56.789 UTC).
var testNow = types.TimestampFromTime(time.Date(2024, 3, 10, 12, 34, 56, 789000000, time.UTC))

func readCases(t *testing.T, path string) (lines []string, cases []exprCase) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	tz := "UTC"
	for sc.Scan() {
		line := sc.Text()
		lines = append(lines, line)
		switch {
		case strings.HasPrefix(line, "tz "):
			tz = strings.TrimSpace(line[3:])
		case strings.HasPrefix(line, "> "):
			cases = append(cases, exprCase{tz: tz, sql: strings.TrimSpace(line[2:])})
		case strings.HasPrefix(line, "explain "):
			cases = append(cases, exprCase{tz: tz, sql: strings.TrimSpace(line[8:]), explain: true})
		case line != "" && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "tz ") && len(cases) > 0 && cases[len(cases)-1].want == "":
			cases[len(cases)-1].want = line
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines, cases
}

func formatErr(err error) string {
	pe := pgerr.As(err)
	return errLine(pe.Code, pe.Message, pe.Hint)
}

func errLine(code, msg, hint string) string {
	if hint != "" {
		return fmt.Sprintf("ERROR %s: %s (HINT: %s)", code, msg, hint)
	}
	return fmt.Sprintf("ERROR %s: %s", code, msg)
}

// evalCase binds and evaluates one expression the way kappa would.
func evalCase(c exprCase) string {
	loc, err := time.LoadLocation(c.tz)
	if err != nil {
		return "bad tz: " + err.Error()
	}
	e, err := parseExpr(c.sql)
	if err != nil {
		return formatErr(err)
	}
	ctx := &EvalContext{Now: testNow, Loc: loc}
	if c.explain {
		return e.String() + "  =>  " + Fold(e, ctx).String()
	}
	v, err := e.Eval(ctx, nil)
	if err != nil {
		return formatErr(err)
	}
	// Folding must not change the answer.
	if k, ok := Fold(e, ctx).(*Const); ok && types.Compare(k.V, v) != 0 {
		return fmt.Sprintf("fold mismatch: %s vs %s", types.FormatText(k.V, e.Type(), loc), types.FormatText(v, e.Type(), loc))
	}
	return formatResult(v, e.Type(), loc)
}

func formatResult(v types.Value, t types.Type, loc *time.Location) string {
	bare := t
	bare.Mod = -1 // pg_typeof does not show type modifiers
	tn := bare.String()
	if v.IsNull() {
		return tn + ": NULL"
	}
	if isUnknown(t) {
		return tn + ": " + v.S
	}
	return tn + ": " + types.FormatText(v, t, loc)
}

func TestExpressions(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if *rewrite {
		pg := pgtest.Start(t)
		conn, err := pgconn.Connect(context.Background(), pg.DSN("postgres"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		for _, f := range files {
			rewriteFile(t, conn, f)
		}
		return
	}
	for _, f := range files {
		_, cases := readCases(t, f)
		for _, c := range cases {
			if got := evalCase(c); got != c.want {
				t.Errorf("%s: %s (tz %s)\n got: %s\nwant: %s", filepath.Base(f), c.sql, c.tz, got, c.want)
			}
		}
	}
}

// rewriteFile replaces every expectation with PostgreSQL's answer (and
// explain lines with kappa's own rendering).
func rewriteFile(t *testing.T, conn *pgconn.PgConn, path string) {
	lines, _ := readCases(t, path)
	tz := "UTC"
	isExpectation := func(i int) bool {
		line := lines[i]
		return i > 0 && (strings.HasPrefix(lines[i-1], "> ") || strings.HasPrefix(lines[i-1], "explain ")) &&
			line != "" && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "tz ") &&
			!strings.HasPrefix(line, "> ") && !strings.HasPrefix(line, "explain ")
	}
	ctx := context.Background()
	exec := func(sql string) ([][]byte, string, error) {
		res := conn.ExecParams(ctx, sql, nil, nil, nil, nil).Read()
		if res.Err != nil {
			return nil, "", res.Err
		}
		if len(res.Rows) != 1 {
			return nil, "", fmt.Errorf("%d rows", len(res.Rows))
		}
		return res.Rows[0], "", nil
	}
	setTZ := func(tz string) {
		if r := conn.ExecParams(ctx, "SET TimeZone = '"+tz+"'", nil, nil, nil, nil).Read(); r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	setTZ("UTC")
	var out []string
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if strings.HasPrefix(line, "tz ") {
			tz = strings.TrimSpace(line[3:])
			setTZ(tz)
		}
		if isExpectation(i) {
			continue // regenerated
		}
		if strings.HasPrefix(line, "explain ") {
			out = append(out, line, evalCase(exprCase{tz: tz, sql: strings.TrimSpace(line[8:]), explain: true}))
			continue
		}
		if !strings.HasPrefix(line, "> ") {
			out = append(out, line)
			continue
		}
		out = append(out, line)
		sql := strings.TrimSpace(line[2:])
		row, _, err := exec("SELECT " + sql + ", pg_typeof(" + sql + ")::text")
		var pe *pgconn.PgError
		switch {
		case errors.As(err, &pe):
			out = append(out, errLine(pe.Code, pe.Message, pe.Hint))
		case err != nil:
			t.Fatalf("%s: %v", sql, err)
		case row[0] == nil:
			out = append(out, string(row[1])+": NULL")
		default:
			out = append(out, string(row[1])+": "+string(row[0]))
		}
	}
	if err := os.WriteFile(path, []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}
