package types

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/kappa-db/kappa/pgerr"
)

// The testdata/*.tsv files hold cases and the answers real PostgreSQL gives.
// The tests compare kappa with the recorded answers; with KAPPA_TEST_PG set
// to a connection string, TestAgainstPostgres checks the recorded answers
// against that server, and -rewrite records the server's answers instead.

var rewrite = flag.Bool("rewrite", false, "with KAPPA_TEST_PG set, rewrite testdata expectations from PostgreSQL")

// tsvCase is one line: tab-separated fields, the last being the expectation.
type tsvCase struct {
	line   int
	fields []string
	want   string
}

func readTSV(t *testing.T, name string, nfields int) []tsvCase {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []tsvCase
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, "\t")
		if len(parts) == nfields-1 {
			parts = append(parts, "?")
		}
		if len(parts) != nfields {
			t.Fatalf("%s:%d: want %d tab-separated fields, got %d", name, n, nfields, len(parts))
		}
		cases = append(cases, tsvCase{line: n, fields: parts[:nfields-1], want: parts[nfields-1]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

func writeTSV(t *testing.T, name string, header string, cases []tsvCase) {
	t.Helper()
	var b strings.Builder
	b.WriteString(header)
	for _, c := range cases {
		b.WriteString(strings.Join(c.fields, "\t"))
		b.WriteString("\t")
		b.WriteString(c.want)
		b.WriteString("\n")
	}
	if err := os.WriteFile(filepath.Join("testdata", name), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// headerOf returns the leading comment block of a testdata file.
func headerOf(t *testing.T, name string) string {
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, l := range strings.SplitAfter(string(data), "\n") {
		if !strings.HasPrefix(l, "#") {
			break
		}
		b.WriteString(l)
	}
	return b.String()
}

// mustType parses a type as written in testdata: "numeric(4,2)", "int4[]".
func mustType(t *testing.T, s string) Type {
	t.Helper()
	name, mods := s, []int32(nil)
	arr := strings.HasSuffix(name, "[]")
	name = strings.TrimSuffix(name, "[]")
	if i := strings.IndexByte(name, '('); i >= 0 {
		for _, m := range strings.Split(strings.TrimSuffix(name[i+1:], ")"), ",") {
			n, err := strconv.Atoi(strings.TrimSpace(m))
			if err != nil {
				t.Fatalf("type %q: %v", s, err)
			}
			mods = append(mods, int32(n))
		}
		name = name[:i]
	}
	if arr {
		name += "[]"
	}
	typ, err := ParseTypeName(name, mods)
	if err != nil {
		t.Fatalf("type %q: %v", s, err)
	}
	return typ
}

func errString(err error) string {
	var pe *pgerr.Error
	if errors.As(err, &pe) {
		return fmt.Sprintf("ERROR %s: %s", pe.Code, pe.Message)
	}
	return "ERROR ?: " + err.Error()
}

// unescapeField lets testdata spell a tab or newline inside a field.
func unescapeField(s string) string {
	return strings.NewReplacer(`<TAB>`, "\t", `<NL>`, "\n").Replace(s)
}

func kappaInput(t *testing.T, c tsvCase) string {
	typ := mustType(t, c.fields[0])
	v, err := ParseText(typ, unescapeField(c.fields[1]), time.UTC)
	if err != nil {
		return errString(err)
	}
	return FormatText(v, typ, time.UTC)
}

func kappaCast(t *testing.T, c tsvCase) string {
	from, to := mustType(t, c.fields[0]), mustType(t, c.fields[1])
	v, err := ParseText(from, unescapeField(c.fields[2]), time.UTC)
	if err != nil {
		return "input " + errString(err)
	}
	out, err := Cast(v, from, to, true, time.UTC)
	if err != nil {
		return errString(err)
	}
	return FormatText(out, to, time.UTC)
}

func TestInputOutput(t *testing.T) {
	for _, c := range readTSV(t, "input.tsv", 3) {
		if got := kappaInput(t, c); got != c.want {
			t.Errorf("input.tsv:%d: %s %q: got %q, PostgreSQL says %q", c.line, c.fields[0], c.fields[1], got, c.want)
		}
	}
}

func TestCasts(t *testing.T) {
	for _, c := range readTSV(t, "cast.tsv", 4) {
		if got := kappaCast(t, c); got != c.want {
			t.Errorf("cast.tsv:%d: %q::%s::%s: got %q, PostgreSQL says %q", c.line, c.fields[2], c.fields[0], c.fields[1], got, c.want)
		}
	}
}

func sqlQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// pgAnswer runs one statement returning one text value.
func pgAnswer(ctx context.Context, conn *pgconn.PgConn, sql string) string {
	if err := conn.Exec(ctx, "SAVEPOINT s").Close(); err != nil {
		return "ERROR ?: " + err.Error()
	}
	res := conn.ExecParams(ctx, sql, nil, nil, nil, nil).Read()
	if res.Err != nil {
		var pe *pgconn.PgError
		_ = conn.Exec(ctx, "ROLLBACK TO SAVEPOINT s").Close()
		if errors.As(res.Err, &pe) {
			return fmt.Sprintf("ERROR %s: %s", pe.Code, pe.Message)
		}
		return "ERROR ?: " + res.Err.Error()
	}
	_ = conn.Exec(ctx, "RELEASE SAVEPOINT s").Close()
	if len(res.Rows) != 1 || len(res.Rows[0]) != 1 {
		return fmt.Sprintf("ERROR ?: %d rows", len(res.Rows))
	}
	return string(res.Rows[0][0])
}

func TestAgainstPostgres(t *testing.T) {
	url := os.Getenv("KAPPA_TEST_PG")
	if url == "" {
		t.Skip("KAPPA_TEST_PG not set")
	}
	ctx := context.Background()
	conn, err := pgconn.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	setup := "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY'; SET IntervalStyle = 'postgres'; SET extra_float_digits = 1; BEGIN"
	if _, err := conn.Exec(ctx, setup).ReadAll(); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = conn.Exec(ctx, "ROLLBACK").ReadAll() }()

	check := func(file string, cases []tsvCase, pg func(c tsvCase) string) {
		changed := false
		for i, c := range cases {
			got := pg(c)
			if got != c.want {
				if *rewrite {
					cases[i].want = got
					changed = true
				} else {
					t.Errorf("%s:%d: recorded %q, PostgreSQL says %q", file, c.line, c.want, got)
				}
			}
		}
		if changed {
			writeTSV(t, file, headerOf(t, file), cases)
		}
	}
	// Input goes through a column so the typmod applies as on INSERT.
	n := 0
	check("input.tsv", readTSV(t, "input.tsv", 3), func(c tsvCase) string {
		n++
		tbl := fmt.Sprintf("kappa_in_%d", n)
		if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE TEMP TABLE %s (c %s)", tbl, c.fields[0])).ReadAll(); err != nil {
			t.Fatalf("create %s: %v", c.fields[0], err)
		}
		return pgAnswer(ctx, conn, fmt.Sprintf("INSERT INTO %s VALUES (%s) RETURNING c", tbl, sqlQuote(unescapeField(c.fields[1]))))
	})
	check("cast.tsv", readTSV(t, "cast.tsv", 4), func(c tsvCase) string {
		in := pgAnswer(ctx, conn, fmt.Sprintf("SELECT %s::%s", sqlQuote(unescapeField(c.fields[2])), c.fields[0]))
		if strings.HasPrefix(in, "ERROR") {
			return "input " + in
		}
		return pgAnswer(ctx, conn, fmt.Sprintf("SELECT CAST(CAST(%s AS %s) AS %s)", sqlQuote(unescapeField(c.fields[2])), c.fields[0], c.fields[1]))
	})
}

// TestBinaryAgainstPostgres compares AppendBinary with PostgreSQL's send
// functions, and ParseBinary with its recv functions, for every input case
// PostgreSQL accepts.
func TestBinaryAgainstPostgres(t *testing.T) {
	url := os.Getenv("KAPPA_TEST_PG")
	if url == "" {
		t.Skip("KAPPA_TEST_PG not set")
	}
	ctx := context.Background()
	conn, err := pgconn.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SET TimeZone = 'UTC'").ReadAll(); err != nil {
		t.Fatal(err)
	}
	for _, c := range readTSV(t, "input.tsv", 3) {
		if strings.HasPrefix(c.want, "ERROR") {
			continue
		}
		typ := mustType(t, c.fields[0])
		v, err := ParseText(typ, unescapeField(c.fields[1]), time.UTC)
		if err != nil {
			t.Errorf("input.tsv:%d: %v", c.line, err)
			continue
		}
		// Send the recorded output (typmod already applied) back through
		// PostgreSQL in binary.
		res := conn.ExecParams(ctx, fmt.Sprintf("SELECT %s::%s", sqlQuote(c.want), c.fields[0]), nil, nil, nil, []int16{1}).Read()
		if res.Err != nil {
			t.Errorf("input.tsv:%d: %v", c.line, res.Err)
			continue
		}
		pg := res.Rows[0][0]
		got, err := AppendBinary(nil, v, typ)
		if err != nil {
			t.Errorf("input.tsv:%d: AppendBinary: %v", c.line, err)
			continue
		}
		if string(got) != string(pg) {
			t.Errorf("input.tsv:%d: %s %q: AppendBinary %x, PostgreSQL sends %x", c.line, c.fields[0], c.fields[1], got, pg)
		}
		back, err := ParseBinary(typ, pg)
		if err != nil {
			t.Errorf("input.tsv:%d: ParseBinary(%x): %v", c.line, pg, err)
			continue
		}
		if out := FormatText(back, typ, time.UTC); out != c.want {
			t.Errorf("input.tsv:%d: ParseBinary(%x) prints %q, want %q", c.line, pg, out, c.want)
		}
	}
}

// TestRandomAgainstPostgres sends random values to PostgreSQL in binary and
// compares its text output with FormatText, in a zone with DST.
func TestRandomAgainstPostgres(t *testing.T) {
	url := os.Getenv("KAPPA_TEST_PG")
	if url == "" {
		t.Skip("KAPPA_TEST_PG not set")
	}
	ctx := context.Background()
	conn, err := pgconn.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	const zone = "America/New_York"
	loc := mustLoc(t, zone)
	if _, err := conn.Exec(ctx, "SET TimeZone = '"+zone+"'; SET extra_float_digits = 1").ReadAll(); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	types := []Type{Int8, Float4, Float8, Numeric, Date, Time, Timestamp, TimestampTZ, Interval, ArrayOf(Text), ArrayOf(Float8), JSONB}
	for _, typ := range types {
		for i := 0; i < 300; i++ {
			v := randomValue(r, typ)
			switch typ.Kind {
			case KindNull:
				continue
			case KindFloat4, KindFloat8:
				if r.IntN(2) == 0 {
					v.F = math.Float64frombits(r.Uint64())
					if typ.Kind == KindFloat4 {
						v.F = float64(float32(v.F))
					}
				}
			case KindDate:
				v.I = minDate + r.Int64N(DaysFromCivil(9999, 1, 1)-minDate)
			case KindTime:
				v.I = r.Int64N(USPerDay + 1)
			case KindTimestamp, KindTimestampTZ:
				v.I = minTimestamp + r.Int64N(DaysFromCivil(3000, 1, 1)*USPerDay-minTimestamp)
			case KindInterval:
				v = NewInterval(int32(r.Uint32()), int32(r.Uint32()), int64(r.Uint64()))
			case KindJSONB:
				v = NewJSONB(`{"k": [1.50, "x"]}`)
			case KindArray:
				for j := range v.Arr {
					if v.Arr[j].K == KindText && !utf8.ValidString(v.Arr[j].S) || strings.Contains(v.Arr[j].S, "\x00") {
						v.Arr[j] = NewText("x\\y z")
					}
				}
			}
			if v.K == KindNull {
				continue
			}
			bin, err := AppendBinary(nil, v, typ)
			if err != nil {
				t.Fatal(err)
			}
			res := conn.ExecParams(ctx, "SELECT $1", [][]byte{bin}, []uint32{typ.OID}, []int16{1}, []int16{0}).Read()
			if res.Err != nil {
				t.Errorf("%s %+v: PostgreSQL rejects %x: %v", typ, v, bin, res.Err)
				continue
			}
			if got, want := FormatText(v, typ, loc), string(res.Rows[0][0]); got != want {
				t.Errorf("%s: FormatText %q, PostgreSQL %q", typ, got, want)
			}
		}
	}
}
