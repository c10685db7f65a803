package sqllogictest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DefaultRecordTimeout bounds one record when Runner.RecordTimeout is zero, so
// that a hung server fails the file instead of the whole test binary.
const DefaultRecordTimeout = 2 * time.Minute

// Runner runs sqllogictest files against a server that speaks the PostgreSQL
// protocol. The zero value is not usable: set DSN or Connect.
type Runner struct {
	// DSN is the connection string used when Connect is nil.
	DSN string
	// Connect, when set, opens the connection that the file at path runs on.
	// The runner closes it when the file is done.
	Connect func(ctx context.Context, path string) (*pgx.Conn, error)
	// Prepare, when set, runs on each fresh connection before the file's
	// records (to create a schema, set search_path...).
	Prepare func(ctx context.Context, conn *pgx.Conn) error
	// EngineNames are the names skipif and onlyif test for. Nil means
	// {"postgresql"}; kappa runs as {"postgresql", "kappa"}.
	EngineNames []string
	// Log receives each failure as it happens (and, with Verbose, every
	// record); nil discards.
	Log     io.Writer
	Verbose bool
	// AsMaterializedViews also runs every query that returns rows as
	// CREATE MATERIALIZED VIEW slt_mv_N AS <query>, reads the view with
	// SELECT * and drops it. The view must give the same expected values, in
	// any order; its outcome is counted in MVPassed and MVFailed.
	AsMaterializedViews bool
	// Rewrite writes each query's actual result back into the file in place of
	// its expected block, for authoring files against PostgreSQL.
	Rewrite bool
	// ExtendedProtocol runs each record through Parse/Bind/Execute (one
	// statement per record) instead of a simple Query message.
	ExtendedProtocol bool
	// HashThreshold is the initial hash-threshold of every file: in Rewrite,
	// results with more values are written as a hash; 0 never hashes.
	HashThreshold int
	// RecordTimeout bounds one record; zero means DefaultRecordTimeout.
	RecordTimeout time.Duration

	// dial replaces the pgx connection in tests.
	dial func(ctx context.Context, path string) (session, error)
}

// Result counts what happened to a file's records. Records = Passed + Failed
// + Skipped; control records (hash-threshold, halt) and the records after a
// halt are not counted.
type Result struct {
	Records, Passed, Failed, Skipped int
	// MVPassed and MVFailed count the materialized-view runs of queries
	// (AsMaterializedViews).
	MVPassed, MVFailed int
	Failures           []Failure
}

// Add adds o's counts and failures to r.
func (r *Result) Add(o Result) {
	r.Records += o.Records
	r.Passed += o.Passed
	r.Failed += o.Failed
	r.Skipped += o.Skipped
	r.MVPassed += o.MVPassed
	r.MVFailed += o.MVFailed
	r.Failures = append(r.Failures, o.Failures...)
}

// Failure describes one record that did not give what the file expected.
type Failure struct {
	File string
	Line int
	SQL  string
	// MV is set when the failure happened in the materialized-view run.
	MV bool
	// Message says what went wrong: an unexpected error, a missing error, a
	// wrong column count, or differing results.
	Message string
	// Expected and Got are set when results differ.
	Expected, Got []string
}

// maxShownLines bounds how many result lines a failure prints of each side.
const maxShownLines = 40

func (f Failure) String() string {
	var b strings.Builder
	mode := ""
	if f.MV {
		mode = " (as a materialized view)"
	}
	fmt.Fprintf(&b, "%s:%d: %s%s\n", f.File, f.Line, f.Message, mode)
	for _, l := range strings.Split(f.SQL, "\n") {
		fmt.Fprintf(&b, "    %s\n", l)
	}
	if f.Expected != nil || f.Got != nil {
		writeLines(&b, "expected", f.Expected)
		writeLines(&b, "got", f.Got)
	}
	return b.String()
}

func writeLines(b *strings.Builder, title string, lines []string) {
	fmt.Fprintf(b, "  %s (%d lines):\n", title, len(lines))
	for i, l := range lines {
		if i == maxShownLines {
			fmt.Fprintf(b, "    ... %d more\n", len(lines)-i)
			break
		}
		fmt.Fprintf(b, "    %s\n", l)
	}
}

// RunFile parses and runs the file at path on a fresh connection.
func (r *Runner) RunFile(ctx context.Context, path string) (Result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Result{}, fmt.Errorf("run %s: %w", path, err)
	}
	f, err := Parse(bytes.NewReader(data), path)
	if err != nil {
		return Result{}, err
	}
	return r.Run(ctx, f)
}

// Run runs a parsed file on a fresh connection. With Rewrite, it writes the
// file back to f.Name. The error is for what stops a file (no connection, a
// lost connection, a failed rewrite); record failures are in the Result.
func (r *Runner) Run(ctx context.Context, f *File) (Result, error) {
	s, err := r.open(ctx, f.Name)
	if err != nil {
		return Result{}, fmt.Errorf("run %s: %w", f.Name, err)
	}
	fr := fileRun{r: r, f: f, s: s, threshold: r.HashThreshold}
	if r.Rewrite {
		fr.rewrites = map[int][]string{}
	}
	runErr := fr.run(ctx)
	if err := s.close(ctx); err != nil && runErr == nil {
		runErr = fmt.Errorf("run %s: close connection: %w", f.Name, err)
	}
	if runErr == nil && r.Rewrite {
		runErr = rewriteFile(f, fr.rewrites)
	}
	return fr.res, runErr
}

func (r *Runner) open(ctx context.Context, path string) (session, error) {
	if r.dial != nil {
		return r.dial(ctx, path)
	}
	var conn *pgx.Conn
	var err error
	switch {
	case r.Connect != nil:
		conn, err = r.Connect(ctx, path)
	case r.DSN != "":
		var cfg *pgx.ConnConfig
		cfg, err = pgx.ParseConfig(r.DSN)
		if err != nil {
			return nil, fmt.Errorf("parse DSN: %w", err)
		}
		cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
		conn, err = pgx.ConnectConfig(ctx, cfg)
	default:
		return nil, errors.New("sqllogictest: Runner has neither DSN nor Connect")
	}
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if r.Prepare != nil {
		if err := r.Prepare(ctx, conn); err != nil {
			_ = conn.Close(ctx) // the prepare error is the one to report
			return nil, fmt.Errorf("prepare connection: %w", err)
		}
	}
	return &pgxSession{conn: conn, extended: r.ExtendedProtocol}, nil
}

// fileRun is the state of one file's run.
type fileRun struct {
	r         *Runner
	f         *File
	s         session
	res       Result
	threshold int
	mvCount   int
	// rewrites maps a record index to its new expected block.
	rewrites map[int][]string
}

func (fr *fileRun) engines() []string {
	if fr.r.EngineNames == nil {
		return []string{"postgresql"}
	}
	return fr.r.EngineNames
}

// applies reports whether a record's skipif/onlyif conditions let it run.
func (fr *fileRun) applies(conds []Condition) bool {
	for _, c := range conds {
		if slices.Contains(fr.engines(), c.Engine) == c.Skip {
			return false
		}
	}
	return true
}

// logf writes to Log. The log is a courtesy to whoever watches; a failed
// write must not change a file's outcome, so its error is not kept.
func (fr *fileRun) logf(format string, args ...any) {
	if fr.r.Log != nil {
		_, _ = fmt.Fprintf(fr.r.Log, format, args...)
	}
}

func (fr *fileRun) run(ctx context.Context) error {
	for i := range fr.f.Records {
		rec := &fr.f.Records[i]
		switch rec.Kind {
		case KindHashThreshold:
			fr.threshold = rec.Threshold
			continue
		case KindHalt:
			if fr.applies(rec.Conditions) {
				return nil
			}
			continue
		}
		fr.res.Records++
		if rec.Kind == KindSkippedBlock || !fr.applies(rec.Conditions) {
			fr.res.Skipped++
			if fr.r.Verbose {
				fr.logf("%s:%d: skipped\n", fr.f.Name, rec.Line)
			}
			continue
		}
		if rec.Kind == KindQuery && !rec.ExpectError {
			fail, view := fr.query(ctx, i, rec)
			fr.count(rec, fail, false)
			if view != nil {
				fr.count(rec, view(), true)
			}
		} else {
			fr.count(rec, fr.statement(ctx, rec), false)
		}
		if fr.s.broken() {
			return fmt.Errorf("%s:%d: connection lost", fr.f.Name, rec.Line)
		}
	}
	return nil
}

// count records a record's outcome, in the ad hoc or the MV tally.
func (fr *fileRun) count(rec *Record, fail *Failure, mv bool) {
	switch {
	case fail != nil:
		fail.File, fail.Line, fail.SQL, fail.MV = fr.f.Name, rec.Line, rec.SQL, mv
		fr.res.Failures = append(fr.res.Failures, *fail)
		if mv {
			fr.res.MVFailed++
		} else {
			fr.res.Failed++
		}
		fr.logf("%s", fail.String())
	case mv:
		fr.res.MVPassed++
	default:
		fr.res.Passed++
		if fr.r.Verbose {
			fr.logf("%s:%d: ok\n", fr.f.Name, rec.Line)
		}
	}
}

func (fr *fileRun) exec(ctx context.Context, sql string) (resultSet, error) {
	timeout := fr.r.RecordTimeout
	if timeout == 0 {
		timeout = DefaultRecordTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return fr.s.exec(ctx, sql)
}

// statement runs a statement record, or a query record that expects an error.
func (fr *fileRun) statement(ctx context.Context, rec *Record) *Failure {
	rs, err := fr.exec(ctx, rec.SQL)
	switch {
	case rec.ExpectError && err == nil:
		msg := "succeeded, expected an error"
		if rec.ErrorPattern != "" {
			msg += " matching " + rec.ErrorPattern
		}
		return &Failure{Message: msg}
	case rec.ExpectError:
		if !errorMatches(rec.ErrorPattern, err) {
			return &Failure{Message: fmt.Sprintf("error %q does not match %s", errorText(err), rec.ErrorPattern)}
		}
		return nil
	case err != nil:
		return &Failure{Message: "failed: " + errorText(err)}
	case rec.ExpectCount >= 0 && rs.tag.RowsAffected() != rec.ExpectCount:
		return &Failure{Message: fmt.Sprintf("affected %d rows, expected %d", rs.tag.RowsAffected(), rec.ExpectCount)}
	}
	return nil
}

// sqlstate matches a pattern that is a bare SQLSTATE.
var sqlstate = regexp.MustCompile(`^[0-9A-Z]{5}$`)

// errorMatches reports whether err satisfies the pattern of a statement
// error record: empty (any error), a SQLSTATE, "pgcode XXXXX [regex]", or a
// regular expression over the message.
func errorMatches(pattern string, err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		// A client-side or connection error is not what a record expects.
		return false
	}
	if pattern == "" {
		return true
	}
	if sqlstate.MatchString(pattern) {
		return pe.Code == pattern
	}
	if rest, ok := strings.CutPrefix(pattern, "pgcode "); ok {
		code, re, _ := strings.Cut(strings.TrimSpace(rest), " ")
		if pe.Code != code {
			return false
		}
		pattern = strings.TrimSpace(re)
		if pattern == "" {
			return true
		}
	}
	re, err2 := regexp.Compile(pattern)
	if err2 != nil {
		// Not a valid regex: take it literally.
		return strings.Contains(pe.Message, pattern)
	}
	return re.MatchString(pe.Message) || re.MatchString(errorText(err))
}

// query runs a query record that expects rows. When the record also runs as
// a materialized view, view is the function that does so.
func (fr *fileRun) query(ctx context.Context, idx int, rec *Record) (fail *Failure, view func() *Failure) {
	rs, err := fr.exec(ctx, rec.SQL)
	if err != nil {
		return &Failure{Message: "query failed: " + errorText(err)}, nil
	}
	values, fail := formatResult(rec, rs)
	if fail != nil {
		return fail, nil
	}
	if fr.rewrites != nil {
		fr.rewrites[idx] = fr.expectedBlock(rec, values)
	}
	ok, got := match(rec.Expected, values, len(rec.Types), rec.Sort)
	if fr.r.AsMaterializedViews && mvEligible(rec.SQL) && !fr.s.broken() && !fr.s.inTransaction() {
		view = func() *Failure { return fr.viewQuery(ctx, rec, rs, values, ok) }
	}
	if !ok {
		fail = &Failure{Message: "results differ", Expected: nonNil(rec.Expected), Got: nonNil(got)}
	}
	return fail, view
}

// formatResult checks the column count and formats every value.
func formatResult(rec *Record, rs resultSet) ([]string, *Failure) {
	cols := len(rec.Types)
	if len(rs.oids) != cols {
		return nil, &Failure{Message: fmt.Sprintf("query declares %d columns (%s), got %d", cols, rec.Types, len(rs.oids))}
	}
	values := make([]string, 0, len(rs.rows)*cols)
	for _, row := range rs.rows {
		for c, v := range row {
			values = append(values, FormatValue(rec.Types[c], v, rs.oids[c]))
		}
	}
	return values, nil
}

// expectedBlock is what Rewrite writes for a query's actual values: a hash
// above the threshold, one row per line when the record already uses that
// form or has no expectation yet and several columns, else one value per line.
func (fr *fileRun) expectedBlock(rec *Record, values []string) []string {
	cols := len(rec.Types)
	sorted := sortValues(values, cols, rec.Sort)
	if fr.threshold > 0 && len(values) > fr.threshold {
		return []string{HashValues(sorted)}
	}
	if rec.Sort != ValueSort && (rowForm(rec.Expected, cols) || (len(rec.Expected) == 0 && cols > 1)) {
		return rowLines(sorted, cols)
	}
	return sorted
}

// mvEligible reports whether sql is a query that can define a view.
func mvEligible(sql string) bool {
	s := strings.TrimLeft(sql, " \t\n(")
	word, _, _ := strings.Cut(s, " ")
	word, _, _ = strings.Cut(word, "\n")
	switch strings.ToLower(word) {
	case "select", "with", "values", "table":
		return true
	}
	return false
}

// viewQuery runs rec's query as a materialized view and compares its rows
// with the expectation, in any order.
func (fr *fileRun) viewQuery(ctx context.Context, rec *Record, adhoc resultSet, adhocValues []string, adhocOK bool) *Failure {
	fr.mvCount++
	name := fmt.Sprintf("slt_mv_%d", fr.mvCount)
	body := strings.TrimRight(strings.TrimSpace(rec.SQL), "; \t\n")
	create := fmt.Sprintf("CREATE MATERIALIZED VIEW %s%s AS %s", name, columnList(adhoc), body)
	if _, err := fr.exec(ctx, create); err != nil {
		return &Failure{Message: "create view failed: " + errorText(err)}
	}
	fail := fr.compareView(ctx, rec, name, adhocValues, adhocOK)
	if _, err := fr.exec(ctx, "DROP MATERIALIZED VIEW "+name); err != nil && fail == nil {
		fail = &Failure{Message: "drop view failed: " + errorText(err)}
	}
	return fail
}

// compareView reads the view and compares it with rec's expectation; a view
// has no order, so nosort queries are compared as rowsort. A nosort hash
// cannot be checked in another order: there the view must have the rows of
// the ad hoc result, and that result must have matched.
func (fr *fileRun) compareView(ctx context.Context, rec *Record, name string, adhocValues []string, adhocOK bool) *Failure {
	rs, err := fr.exec(ctx, "SELECT * FROM "+name)
	if err != nil {
		return &Failure{Message: "select from view failed: " + errorText(err)}
	}
	values, fail := formatResult(rec, rs)
	if fail != nil {
		return fail
	}
	cols := len(rec.Types)
	if rec.Sort == NoSort && len(rec.Expected) == 1 && hashLine.MatchString(rec.Expected[0]) {
		want := sortValues(adhocValues, cols, RowSort)
		got := sortValues(values, cols, RowSort)
		switch {
		case !slices.Equal(want, got):
			return &Failure{Message: "view rows differ from the ad hoc query's rows (sorted)", Expected: want, Got: got}
		case !adhocOK:
			return &Failure{Message: "view has the ad hoc query's rows, which do not match the expected nosort hash"}
		}
		return nil
	}
	sort := rec.Sort
	if sort == NoSort {
		sort = RowSort
	}
	if ok, got := match(rec.Expected, values, len(rec.Types), sort); !ok {
		return &Failure{Message: "results differ", Expected: nonNil(rec.Expected), Got: got}
	}
	return nil
}

func nonNil(lines []string) []string {
	if lines == nil {
		return []string{}
	}
	return lines
}

// columnList names a view's columns when the query's own names would not
// do (duplicates, or PostgreSQL's "?column?"), so the view can be created.
func columnList(adhoc resultSet) string {
	seen := map[string]bool{}
	ok := true
	for _, n := range adhoc.names {
		if n == "?column?" || seen[n] {
			ok = false
		}
		seen[n] = true
	}
	if ok {
		return ""
	}
	cols := make([]string, len(adhoc.names))
	for i := range cols {
		cols[i] = fmt.Sprintf("c%d", i+1)
	}
	return " (" + strings.Join(cols, ", ") + ")"
}

// rewriteFile writes f back with each query's expected block replaced.
func rewriteFile(f *File, rewrites map[int][]string) error {
	var out []string
	pos := 0
	for i, rec := range f.Records {
		block, ok := rewrites[i]
		if !ok || (len(block) == 0 && !rec.HasSeparator) {
			continue
		}
		out = append(out, f.lines[pos:rec.sqlEnd]...)
		out = append(out, "----")
		out = append(out, block...)
		pos = rec.endLine
	}
	out = append(out, f.lines[pos:]...)
	text := strings.Join(out, "\n") + "\n"
	tmp := f.Name + ".rewrite"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		return fmt.Errorf("rewrite %s: %w", f.Name, err)
	}
	if err := os.Rename(tmp, f.Name); err != nil {
		return fmt.Errorf("rewrite %s: %w", f.Name, err)
	}
	return nil
}
