package oracle

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/kappa-db/kappa/internal/pgtest"
	"github.com/kappa-db/kappa/server"
)

// config is the run's size, from the environment (see doc.go).
type config struct {
	seed     uint64
	rounds   int           // 0: until duration
	duration time.Duration // 0: rounds only
	views    int
	composed int // views drawn by the composer, after the templates' views
	// restartEvery restarts kappa (a clean shutdown, then a start on the
	// same data) after every that many rounds; 0 never does.
	restartEvery int
}

func configFromEnv(t *testing.T) config {
	c := config{seed: 1, rounds: 3, views: 200, composed: 100, restartEvery: 2}
	if testing.Short() {
		c.rounds = 2
	}
	if v := os.Getenv("KAPPA_ORACLE_SEED"); v == "random" {
		c.seed = uint64(time.Now().UnixNano())
	} else if v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("KAPPA_ORACLE_SEED=%q: want a number or random", v)
		}
		c.seed = s
	}
	roundsSet := false
	if v := os.Getenv("KAPPA_ORACLE_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			t.Fatalf("KAPPA_ORACLE_ROUNDS=%q: want a count", v)
		}
		c.rounds, roundsSet = n, true
	}
	if v := os.Getenv("KAPPA_ORACLE_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("KAPPA_ORACLE_DURATION=%q: %v", v, err)
		}
		c.duration = d
		if !roundsSet {
			c.rounds = 0
		}
	}
	if v := os.Getenv("KAPPA_ORACLE_RESTART_EVERY"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			t.Fatalf("KAPPA_ORACLE_RESTART_EVERY=%q: want a count", v)
		}
		c.restartEvery = n
	}
	if v := os.Getenv("KAPPA_ORACLE_COMPOSED"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			t.Fatalf("KAPPA_ORACLE_COMPOSED=%q: want a count", v)
		}
		c.composed = n
	}
	if v := os.Getenv("KAPPA_ORACLE_VIEWS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("KAPPA_ORACLE_VIEWS=%q: want a count", v)
		}
		c.views = n
	}
	return c
}

// minViews is what the default run must create: issue 3 asks for 150.
const minViews = 150

// viewState is what the oracle knows of one view.
type viewState int

const (
	viewPending     viewState = iota // not created yet (or its CREATE failed on the data, as on PostgreSQL)
	viewLive                         // created on both; compared every round
	viewUnsupported                  // kappa refused it with 0A000
	viewBroken                       // it differed once; reported, no longer compared
	viewDiscarded                    // a composed query PostgreSQL refuses
)

type oracle struct {
	t        *testing.T
	cfg      config
	gen      *Gen
	kappa    *pgx.Conn
	srv      *server.Server
	dataDir  string
	restarts int
	pg       *pgx.Conn
	history  []Write
	views    []View
	state    []viewState
	failures int
	// pgCreated marks the views created on PostgreSQL; unsupported counts
	// the views kappa refused with 0A000, by template and message.
	pgCreated   map[int]bool
	unsupported map[string]int
	// seen counts, per template, the comparisons that matched, the rows
	// they held and those that were errors on both sides: a template whose
	// views are always empty or always failing tests little.
	seen map[string]*seenCount
	// discarded are the composed queries PostgreSQL refused, with why.
	discarded []string
	// report is where a failed run writes its statements and final state.
	report string
}

// TestOracle is the differential oracle: see doc.go.
func TestOracle(t *testing.T) {
	cfg := configFromEnv(t)
	ctx := context.Background()
	pg := pgtest.Start(t)
	if err := pg.CreateDB("oracle"); err != nil {
		t.Fatal(err)
	}
	o := &oracle{
		t: t, cfg: cfg, gen: NewGen(cfg.seed),
		dataDir:     t.TempDir(),
		pg:          connect(t, pg.DSN("oracle")),
		report:      filepath.Join(os.TempDir(), fmt.Sprintf("kappa-oracle-%d.sql", cfg.seed)),
		pgCreated:   map[int]bool{},
		unsupported: map[string]int{},
		seen:        map[string]*seenCount{},
	}
	o.startKappa(ctx)
	t.Cleanup(o.stopKappa)
	t.Logf("oracle: seed %d (KAPPA_ORACLE_SEED=%d replays this run)", cfg.seed, cfg.seed)
	start := time.Now()
	o.setup(ctx)
	t.Logf("oracle: setup took %v", time.Since(start).Round(time.Millisecond))
	o.compareAll(ctx, 0)
	o.compareAdHoc(ctx, 0)
	round := 1
	for ; ; round++ {
		if cfg.rounds > 0 && round > cfg.rounds {
			break
		}
		if cfg.duration > 0 && time.Since(start) > cfg.duration {
			break
		}
		if cfg.rounds == 0 && cfg.duration == 0 {
			break
		}
		roundStart := time.Now()
		sizes := o.sizes(ctx)
		writes := o.gen.Round(sizes)
		for _, w := range writes {
			o.apply(ctx, w)
		}
		wrote := time.Since(roundStart)
		o.createPending(ctx)
		o.createLate(ctx)
		if cfg.restartEvery > 0 && round%cfg.restartEvery == 0 {
			// The views must come back from their committed state and the
			// logs exactly as they were.
			o.stopKappa()
			o.startKappa(ctx)
			o.restarts++
		}
		o.compareAll(ctx, round)
		o.t.Logf("oracle: round %d: %d writes (%v), tables %v, took %v", round, len(writes), wrote.Round(time.Millisecond), sizes, time.Since(roundStart).Round(time.Millisecond))
	}
	o.compareAdHoc(ctx, round-1)
	o.summary(round-1, time.Since(start))
	if o.failures > 0 {
		o.writeReport(ctx)
	}
}

// startKappa starts kappa on the oracle's data directory and connects.
func (o *oracle) startKappa(ctx context.Context) {
	srv, err := server.Start(ctx, server.Config{DataDir: o.dataDir, Listen: "127.0.0.1:0"})
	if err != nil {
		o.t.Fatalf("start kappa: %v", err)
	}
	o.srv = srv
	o.kappa = connect(o.t, "postgres://kappa@"+srv.Addr()+"/kappa?sslmode=disable")
}

// stopKappa shuts kappa down cleanly.
func (o *oracle) stopKappa() {
	if o.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = o.kappa.Close(ctx) // the server ends the session anyway
	if err := o.srv.Shutdown(ctx); err != nil {
		o.t.Errorf("shut down kappa: %v", err)
	}
	o.srv = nil
}

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	// Text results on both sides: the comparison is of what a client sees.
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connect %s: %v", dsn, err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) }) // the servers stop next
	return conn
}

// setup creates the tables and the shared views, creates half of the views
// on empty tables (they see every row arrive) and the other half after the
// initial load (they are backfilled).
func (o *oracle) setup(ctx context.Context) {
	for _, tb := range Tables {
		o.applyBoth(ctx, Write{SQL: tb.DDL})
	}
	for _, b := range Bases {
		kind := "VIEW"
		if b.Materialized {
			kind = "MATERIALIZED VIEW"
		}
		o.mustBoth(ctx, "CREATE "+kind+" "+b.Name+" AS "+b.Query, "CREATE VIEW "+b.Name+" AS "+b.Query)
	}
	o.views = o.gen.Views(o.cfg.views)
	o.views = append(o.views, o.gen.ComposedViews(len(o.views), o.cfg.composed)...)
	o.state = make([]viewState, len(o.views))
	half := len(o.views) / 2
	for i := 0; i < half; i++ {
		o.createLogged(ctx, i)
	}
	for _, w := range o.gen.Initial() {
		o.apply(ctx, w)
	}
	for i := half; i < len(o.views); i++ {
		o.createLogged(ctx, i)
	}
}

// mustBoth runs a statement that must succeed on both servers.
func (o *oracle) mustBoth(ctx context.Context, kappaSQL, pgSQL string) {
	o.history = append(o.history, Write{SQL: kappaSQL})
	if _, err := o.pg.Exec(ctx, pgSQL); err != nil {
		o.t.Fatalf("seed %d: PostgreSQL: %s: %v", o.cfg.seed, pgSQL, err)
	}
	if _, err := o.kappa.Exec(ctx, kappaSQL); err != nil {
		o.t.Fatalf("seed %d: kappa: %s: %v", o.cfg.seed, kappaSQL, err)
	}
}

func (o *oracle) applyBoth(ctx context.Context, w Write) { o.mustBoth(ctx, w.SQL, w.SQL) }

// exec runs a write on one server and returns the rows it affected.
func exec(ctx context.Context, conn *pgx.Conn, w Write) (int64, error) {
	if w.Copy != "" {
		tag, err := conn.PgConn().CopyFrom(ctx, strings.NewReader(w.Copy), w.SQL)
		return tag.RowsAffected(), err
	}
	tag, err := conn.Exec(ctx, w.SQL)
	return tag.RowsAffected(), err
}

// apply runs one write on both servers; they must agree on its outcome
// (rows affected, or the SQLSTATE it failed with). A disagreement ends the
// run: the tables differ from then on.
func (o *oracle) apply(ctx context.Context, w Write) {
	o.history = append(o.history, w)
	pn, perr := exec(ctx, o.pg, w)
	kn, kerr := exec(ctx, o.kappa, w)
	switch {
	case perr == nil && kerr == nil && pn == kn:
		return
	case perr != nil && kerr != nil && sqlstate(perr) == sqlstate(kerr):
		return
	}
	o.failures++
	o.writeReport(ctx)
	o.t.Fatalf("seed %d: a write differs:\n  %s\n  PostgreSQL: %d rows, error %v\n  kappa:      %d rows, error %v\nreplay: %s",
		o.cfg.seed, w.SQL, pn, perr, kn, kerr, o.report)
}

func sqlstate(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return "(no SQLSTATE: " + err.Error() + ")"
}

// createLogged is create, logging a CREATE that takes long (a composed
// view too large to be a good test).
func (o *oracle) createLogged(ctx context.Context, i int) {
	if os.Getenv("KAPPA_ORACLE_LIST") == "1" {
		o.t.Logf("oracle: %s (%s): %s", o.views[i].Name, o.views[i].Template, o.views[i].Query)
	}
	start := time.Now()
	o.create(ctx, i)
	if d := time.Since(start); d > 2*time.Second {
		o.t.Logf("oracle: CREATE of %s took %v: %s", o.views[i].Name, d.Round(time.Millisecond), o.views[i].Query)
	}
}

// create creates view i on both servers (a materialized view on kappa, a
// plain view on PostgreSQL).
func (o *oracle) create(ctx context.Context, i int) {
	v := o.views[i]
	if !o.pgCreated[i] {
		sql := "CREATE VIEW " + v.Name + " AS " + v.Query
		if _, err := o.pg.Exec(ctx, sql); err != nil {
			if strings.HasPrefix(v.Template, "composed/") {
				o.state[i] = viewDiscarded
				o.discarded = append(o.discarded, fmt.Sprintf("%s: %v", v.Query, err))
				return
			}
			o.t.Fatalf("seed %d: PostgreSQL refuses a generated view (a template bug): %s: %v", o.cfg.seed, sql, err)
		}
		o.pgCreated[i] = true
	}
	sql := "CREATE MATERIALIZED VIEW " + v.Name + " AS " + v.Query
	_, err := o.kappa.Exec(ctx, sql)
	if err == nil {
		o.history = append(o.history, Write{SQL: sql})
		o.state[i] = viewLive
		return
	}
	code := sqlstate(err)
	if code == "0A000" {
		o.state[i] = viewUnsupported
		o.unsupported[v.Template+": "+err.Error()]++
		return
	}
	// CREATE fails, as in PostgreSQL, when the query fails on the data that
	// is there: a match when PostgreSQL's query fails the same way; try again
	// after the next round.
	pr := query(ctx, o.pg, "SELECT * FROM "+v.Name)
	if pr.err != nil && class(sqlstate(pr.err)) == class(code) {
		o.state[i] = viewPending
		return
	}
	o.fail(i, fmt.Sprintf("CREATE MATERIALIZED VIEW failed on kappa: %v\nPostgreSQL's query: %s", err, pr.describe()))
}

// createLate draws a few more views after each round, so that some views
// are backfilled from logs that hold updates and deletes, not only inserts.
func (o *oracle) createLate(ctx context.Context) {
	n0 := len(o.views)
	late := o.gen.RandomViews(n0, lateViews)
	late = append(late, o.gen.ComposedViews(n0+len(late), lateViews)...)
	o.views = append(o.views, late...)
	o.state = append(o.state, make([]viewState, len(late))...)
	for i := n0; i < len(o.views); i++ {
		o.createLogged(ctx, i)
	}
}

// lateViews is how many template views, and how many composed ones, each
// round adds.
const lateViews = 3

func (o *oracle) createPending(ctx context.Context) {
	for i, s := range o.state {
		if s == viewPending {
			o.create(ctx, i)
		}
	}
}

func class(code string) string {
	if len(code) < 2 {
		return code
	}
	return code[:2]
}

// result is one query's answer as a client sees it: rows of text values,
// sorted, or an error.
type result struct {
	rows []string
	err  error
}

const nullText = "\x00NULL"

func query(ctx context.Context, conn *pgx.Conn, sql string) result {
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		return result{err: err}
	}
	var res result
	for rows.Next() {
		vals := rows.RawValues()
		parts := make([]string, len(vals))
		for i, v := range vals {
			if v == nil {
				parts[i] = nullText
			} else {
				parts[i] = string(v)
			}
		}
		res.rows = append(res.rows, strings.Join(parts, "\x1f"))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return result{err: err}
	}
	sort.Strings(res.rows)
	return res
}

func (r result) describe() string {
	if r.err != nil {
		return "error " + r.err.Error()
	}
	return fmt.Sprintf("%d rows", len(r.rows))
}

// same compares two answers: equal multisets of rows, or errors of the same
// SQLSTATE class.
func same(pg, kappa result) bool {
	if pg.err != nil || kappa.err != nil {
		return pg.err != nil && kappa.err != nil && class(sqlstate(pg.err)) == class(sqlstate(kappa.err))
	}
	if len(pg.rows) != len(kappa.rows) {
		return false
	}
	for i := range pg.rows {
		if pg.rows[i] != kappa.rows[i] {
			return false
		}
	}
	return true
}

// rowDiff returns the rows of pg that kappa lacks and the rows kappa has
// extra, both sorted.
func rowDiff(pg, kappa result) (missing, extra []string) {
	i, j := 0, 0
	for i < len(pg.rows) || j < len(kappa.rows) {
		switch {
		case j == len(kappa.rows) || (i < len(pg.rows) && pg.rows[i] < kappa.rows[j]):
			missing = append(missing, pg.rows[i])
			i++
		case i == len(pg.rows) || kappa.rows[j] < pg.rows[i]:
			extra = append(extra, kappa.rows[j])
			j++
		default:
			i++
			j++
		}
	}
	return missing, extra
}

// diff prints the rows PostgreSQL has and kappa lacks, and the reverse.
func diff(pg, kappa result) string {
	if pg.err != nil || kappa.err != nil {
		return fmt.Sprintf("  PostgreSQL: %s\n  kappa:      %s", pg.describe(), kappa.describe())
	}
	missing, extra := rowDiff(pg, kappa)
	var b strings.Builder
	fmt.Fprintf(&b, "  PostgreSQL %d rows, kappa %d rows\n", len(pg.rows), len(kappa.rows))
	list := func(title string, rows []string) {
		if len(rows) == 0 {
			return
		}
		fmt.Fprintf(&b, "  %s (%d):\n", title, len(rows))
		for n, r := range rows {
			if n == 20 {
				fmt.Fprintf(&b, "    ... %d more\n", len(rows)-20)
				break
			}
			fmt.Fprintf(&b, "    %s\n", showRow(r))
		}
	}
	list("missing in kappa", missing)
	list("extra in kappa", extra)
	return b.String()
}

func showRow(r string) string {
	parts := strings.Split(r, "\x1f")
	for i, p := range parts {
		if p == nullText {
			parts[i] = "NULL"
		} else {
			parts[i] = strconv.Quote(p)
		}
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// compareAll compares every live view with PostgreSQL's answer.
func (o *oracle) compareAll(ctx context.Context, round int) {
	for i, v := range o.views {
		if o.state[i] != viewLive {
			continue
		}
		pr := query(ctx, o.pg, "SELECT * FROM "+v.Name)
		kr := query(ctx, o.kappa, "SELECT * FROM "+v.Name)
		if same(pr, kr) {
			o.count(v.Template, pr)
			continue
		}
		o.fail(i, fmt.Sprintf("round %d: the view differs from PostgreSQL's answer:\n%s%s", round, diff(pr, kr), o.diagnose(ctx, v, pr)))
	}
	// The shared materialized view is compared too.
	for _, b := range Bases {
		if !b.Materialized {
			continue
		}
		pr := query(ctx, o.pg, "SELECT * FROM "+b.Name)
		kr := query(ctx, o.kappa, "SELECT * FROM "+b.Name)
		if !same(pr, kr) {
			o.failures++
			o.t.Errorf("seed %d round %d: shared view %s differs:\n  %s\n%s", o.cfg.seed, round, b.Name, b.Query, diff(pr, kr))
		}
	}
}

// compareAdHoc runs every view's query ad hoc on kappa (the same operators
// run as one epoch over a snapshot) and compares it with PostgreSQL's answer.
func (o *oracle) compareAdHoc(ctx context.Context, round int) {
	for i, v := range o.views {
		if o.state[i] != viewLive {
			continue
		}
		pr := query(ctx, o.pg, v.Query)
		kr := query(ctx, o.kappa, v.Query)
		if !same(pr, kr) {
			o.fail(i, fmt.Sprintf("round %d: the query run ad hoc differs from PostgreSQL's answer:\n%s", round, diff(pr, kr)))
		}
	}
}

type seenCount struct{ compared, rows, errors, empty int }

func (o *oracle) count(template string, r result) {
	c := o.seen[template]
	if c == nil {
		c = &seenCount{}
		o.seen[template] = c
	}
	c.compared++
	c.rows += len(r.rows)
	switch {
	case r.err != nil:
		c.errors++
	case len(r.rows) == 0:
		c.empty++
	}
}

// diagnose says whether the query also differs ad hoc and as a view created
// now: if not, the long-lived view went wrong while being maintained.
func (o *oracle) diagnose(ctx context.Context, v View, pr result) string {
	var b strings.Builder
	adhoc := query(ctx, o.kappa, v.Query)
	fmt.Fprintf(&b, "  ad hoc on kappa: %s\n", verdict(pr, adhoc))
	fresh := v.Name + "_fresh"
	if _, err := o.kappa.Exec(ctx, "CREATE MATERIALIZED VIEW "+fresh+" AS "+v.Query); err != nil {
		fmt.Fprintf(&b, "  as a new view on kappa: CREATE failed: %v\n", err)
		return b.String()
	}
	fmt.Fprintf(&b, "  as a new view on kappa: %s\n", verdict(pr, query(ctx, o.kappa, "SELECT * FROM "+fresh)))
	if _, err := o.kappa.Exec(ctx, "DROP MATERIALIZED VIEW "+fresh); err != nil {
		fmt.Fprintf(&b, "  (drop %s: %v)\n", fresh, err)
	}
	return b.String()
}

func verdict(pg, kappa result) string {
	if same(pg, kappa) {
		return "same as PostgreSQL"
	}
	if kappa.err != nil {
		return "differs: " + kappa.describe()
	}
	return fmt.Sprintf("differs too (%d rows)", len(kappa.rows))
}

func (o *oracle) fail(i int, msg string) {
	v := o.views[i]
	o.state[i] = viewBroken
	o.failures++
	o.t.Errorf("seed %d: view %s (template %s):\n  %s\n%s\nreplay: %s", o.cfg.seed, v.Name, v.Template, v.Query, msg, o.report)
}

// sizes counts each table's rows (on PostgreSQL), to steer the writes.
func (o *oracle) sizes(ctx context.Context) map[string]int {
	m := map[string]int{}
	for _, tb := range Tables {
		var n int
		if err := o.pg.QueryRow(ctx, "SELECT count(*) FROM "+tb.Name).Scan(&n); err != nil {
			o.t.Fatalf("count %s: %v", tb.Name, err)
		}
		m[tb.Name] = n
	}
	return m
}

func (o *oracle) summary(rounds int, took time.Duration) {
	live, unsupported, pending, broken := 0, 0, 0, 0
	for _, s := range o.state {
		switch s {
		case viewLive:
			live++
		case viewUnsupported:
			unsupported++
		case viewPending:
			pending++
		case viewBroken:
			broken++
		}
	}
	o.t.Logf("oracle: seed %d, %d rounds (%d restarts of kappa) in %v: %d views (%d templates): %d maintained and equal, %d differed, %d not supported by kappa (0A000), %d never created (their query fails on the data, on both), %d composed queries PostgreSQL refused",
		o.cfg.seed, rounds, o.restarts, took.Round(time.Millisecond), len(o.views), TemplateCount(), live, broken, unsupported, pending, len(o.discarded))
	names := make([]string, 0, len(o.unsupported))
	for name := range o.unsupported {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		o.t.Logf("oracle: not supported yet: %s (%d views)", name, o.unsupported[name])
	}
	for n, d := range o.discarded {
		if n == 5 {
			o.t.Logf("oracle: ... and %d more composed queries PostgreSQL refused", len(o.discarded)-5)
			break
		}
		o.t.Logf("oracle: PostgreSQL refused a composed query: %s", d)
	}
	names = names[:0]
	for name := range o.seen {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, name := range names {
		c := o.seen[name]
		fmt.Fprintf(&b, "\n  %-40s %4d compared, %6.1f rows on average, %3d empty, %3d errors on both", name, c.compared, float64(c.rows)/float64(c.compared), c.empty, c.errors)
	}
	o.t.Logf("oracle: matches by template:%s", b.String())
	if os.Getenv("KAPPA_ORACLE_VIEWS") == "" && live+broken+pending < minViews {
		o.t.Errorf("only %d of %d views were created on kappa; issue 3 asks for at least %d", live+broken+pending, len(o.views), minViews)
	}
}

// writeReport writes every statement of the run (replayable with psql
// against kappa or PostgreSQL) to o.report, and the tables' final contents
// as INSERTs beside it (-final.sql).
func (o *oracle) writeReport(ctx context.Context) {
	var b strings.Builder
	fmt.Fprintf(&b, "-- kappa oracle, seed %d: every statement of the run, in order.\n", o.cfg.seed)
	for _, w := range o.history {
		if w.Copy != "" {
			fmt.Fprintf(&b, "%s;\n%s\\.\n", w.SQL, w.Copy)
			continue
		}
		fmt.Fprintf(&b, "%s;\n", w.SQL)
	}
	if err := os.WriteFile(o.report, []byte(b.String()), 0o644); err != nil {
		o.t.Errorf("write %s: %v", o.report, err)
	}
	b.Reset()
	b.WriteString("-- The tables' final contents (from PostgreSQL), for a smaller repro.\n")
	for _, tb := range Tables {
		res := query(ctx, o.pg, "SELECT * FROM "+tb.Name)
		if res.err != nil {
			fmt.Fprintf(&b, "-- %s: %v\n", tb.Name, res.err)
			continue
		}
		fmt.Fprintf(&b, "%s;\n", tb.DDL)
		for _, r := range res.rows {
			parts := strings.Split(r, "\x1f")
			for i, p := range parts {
				if p == nullText {
					parts[i] = "NULL"
				} else {
					parts[i] = "'" + strings.ReplaceAll(p, "'", "''") + "'"
				}
			}
			fmt.Fprintf(&b, "INSERT INTO %s VALUES (%s);\n", tb.Name, strings.Join(parts, ", "))
		}
	}
	final := strings.TrimSuffix(o.report, ".sql") + "-final.sql"
	if err := os.WriteFile(final, []byte(b.String()), 0o644); err != nil {
		o.t.Errorf("write %s: %v", final, err)
	}
}
