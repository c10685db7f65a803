package server_test

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/kappa-db/kappa/server"
)

// TestCursorStreams: a cursor over a query with nine million rows hands out
// its first rows at once, and CLOSE stops the query: the cursor streams
// from the query instead of computing the whole result first.
func TestCursorStreams(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, server.Config{})
	conn := connect(t, srv)
	mustExec(t, conn, "CREATE TABLE s (g int PRIMARY KEY)", "INSERT INTO s SELECT generate_series(1, 3000)")
	mustExec(t, conn, "BEGIN")
	mustExec(t, conn, "DECLARE big CURSOR FOR SELECT a.g * 1000000 + b.g, 2 * (a.g * 1000000 + b.g) FROM s a, s b")
	start := time.Now()
	for round := range 3 {
		// pgx sends FETCH over the extended protocol: Describe must know
		// the cursor's columns.
		rows, err := conn.Query(ctx, "FETCH FORWARD 2000 FROM big")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var g, d int64
			if err := rows.Scan(&g, &d); err != nil {
				t.Fatal(err)
			}
			n++
			if d != 2*g {
				t.Fatalf("row %d of round %d: got %d, %d", n, round, g, d)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if n != 2000 {
			t.Fatalf("round %d: %d rows, want 2000", round, n)
		}
		if tag := rows.CommandTag().String(); tag != "FETCH 2000" {
			t.Fatalf("tag %q", tag)
		}
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("three fetches took %v: the cursor computed its whole result", d)
	}
	tag, err := conn.Exec(ctx, "MOVE 10 IN big")
	if err != nil || tag.String() != "MOVE 10" {
		t.Fatalf("MOVE: %v %v", tag, err)
	}
	var g, d int64
	if err := conn.QueryRow(ctx, "FETCH big").Scan(&g, &d); err != nil || d != 2*g {
		t.Fatalf("FETCH after MOVE: %d %d %v", g, d, err)
	}
	tag, err = conn.Exec(ctx, "CLOSE big")
	if err != nil || tag.String() != "CLOSE CURSOR" {
		t.Fatalf("CLOSE: %v %v", tag, err)
	}
	mustExec(t, conn, "COMMIT")
}

// TestCursorBinary: a BINARY cursor sends its rows in the binary format
// over the simple protocol, and a held cursor outlives its session's
// transaction but not the session.
func TestCursorBinary(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, server.Config{})
	conn := connect(t, srv)
	mustExec(t, conn, "DECLARE b BINARY CURSOR WITH HOLD FOR SELECT 258::int4")
	res := conn.PgConn().Exec(ctx, "FETCH b")
	rs, err := res.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || len(rs[0].Rows) != 1 || rs[0].FieldDescriptions[0].Format != 1 {
		t.Fatalf("got %+v", rs)
	}
	if v := rs[0].Rows[0][0]; string(v) != "\x00\x00\x01\x02" {
		t.Fatalf("binary value %q", v)
	}
	conn.Close(ctx)
	// The session's cursors (and their queries) end with it.
	conn2 := connect(t, srv)
	if _, err := conn2.Exec(ctx, "FETCH b"); err == nil {
		t.Fatal("a cursor of a closed session is still there")
	}
}

// TestSQLPrepareExtended: EXECUTE of a SQL prepared statement over the
// extended protocol (pgx) describes the statement's result columns.
func TestSQLPrepareExtended(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, server.Config{})
	conn := connect(t, srv)
	mustExec(t, conn, "CREATE TABLE p (k int PRIMARY KEY, v text)", "INSERT INTO p VALUES (1, 'a'), (2, 'b')",
		"PREPARE pq (int) AS SELECT v, k * 10 FROM p WHERE k = $1")
	var v string
	var k int32
	if err := conn.QueryRow(ctx, "EXECUTE pq(2)").Scan(&v, &k); err != nil || v != "b" || k != 20 {
		t.Fatalf("EXECUTE: %q %d %v", v, k, err)
	}
	if _, err := conn.Exec(ctx, "EXECUTE nope"); err == nil {
		t.Fatal("EXECUTE of an unknown statement succeeded")
	}
}

// TestCancelRequest: a CancelRequest stops a running ad hoc query (a
// three-way cross join of 64 million rows) within a short time, with
// 57014, and the session carries on.
func TestCancelRequest(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, server.Config{})
	conn := connect(t, srv)
	mustExec(t, conn, "CREATE TABLE s (g int PRIMARY KEY)", "INSERT INTO s SELECT generate_series(1, 400)")
	for _, q := range []string{
		"SELECT count(*) FROM s a, s b, s c",
		"SELECT a.g, b.g, c.g FROM s a, s b, s c ORDER BY 1, 2, 3 LIMIT 1",
	} {
		go func() {
			time.Sleep(300 * time.Millisecond)
			if err := conn.PgConn().CancelRequest(ctx); err != nil {
				t.Error(err)
			}
		}()
		start := time.Now()
		_, err := conn.Exec(ctx, q)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "57014" || pe.Message != "canceling statement due to user request" {
			t.Fatalf("%s: got %v, want 57014", q, err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("%s: the cancel took %v", q, d)
		}
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM s").Scan(&n); err != nil || n != 400 {
			t.Fatalf("after the cancel: %d %v", n, err)
		}
	}
}

// TestStatementTimeoutFetch: statement_timeout bounds each FETCH of a
// cursor, and a timeout set at connection start is the session's setting.
//
// A cursor's query runs from DECLARE on, on a goroutine of its own, so a
// FETCH answers within the timeout exactly when the query has its row by
// then. The test relies on the query being slow: a count over 64M joined
// rows takes seconds. It must see all 400 rows of s for that: rows another
// session wrote are visible only once their epoch commits, and a cursor
// declared before that counted an empty table at once (the flake this test
// had under load, a FETCH with no error, before its session wrote the rows
// itself). The setup runs without the timeout: under load, waiting for the
// rows' epoch may take longer than 200ms.
func TestStatementTimeoutFetch(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, server.Config{})
	cfg, err := pgx.ParseConfig(dsn(srv.Addr(), "kappa", "", "sslmode=disable options='-c statement_timeout=200'"))
	if err != nil {
		t.Fatal(err)
	}
	c2, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close(ctx)
	var to string
	if err := c2.QueryRow(ctx, "SHOW statement_timeout").Scan(&to); err != nil || to != "200ms" {
		t.Fatalf("statement_timeout from the startup options: %q %v", to, err)
	}
	// This session writes the rows, so its reads wait for them.
	mustExec(t, c2, "SET statement_timeout = 0", "CREATE TABLE s (g int PRIMARY KEY)", "INSERT INTO s SELECT generate_series(1, 400)")
	var n int64
	if err := c2.QueryRow(ctx, "SELECT count(*) FROM s").Scan(&n); err != nil || n != 400 {
		t.Fatalf("s has %d rows (%v), want 400", n, err)
	}
	mustExec(t, c2, "SET statement_timeout = 200", "BEGIN", "DECLARE c CURSOR FOR SELECT count(*) FROM s a, s b, s c")
	start := time.Now()
	n = -1
	err = c2.QueryRow(ctx, "FETCH c", pgx.QueryExecModeSimpleProtocol).Scan(&n)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "57014" || pe.Message != "canceling statement due to statement timeout" {
		t.Fatalf("FETCH: got %v (count %d after %v), want a statement timeout", err, n, time.Since(start))
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("the timeout took %v", d)
	}
	mustExec(t, c2, "ROLLBACK")
}

// TestResetToStartupOptions: RESET and RESET ALL give back the values the
// startup packet set (its parameters and its "-c" options), as PostgreSQL
// does, not the server's defaults.
func TestResetToStartupOptions(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, server.Config{})
	cfg, err := pgx.ParseConfig(dsn(srv.Addr(), "kappa", "", "sslmode=disable application_name=app1 options='-c statement_timeout=200 -c TimeZone=Europe/Paris'"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	show := func(name string) string {
		t.Helper()
		var v string
		if err := c.QueryRow(ctx, "SHOW "+name, pgx.QueryExecModeSimpleProtocol).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	tsText := func() string {
		t.Helper()
		var v string
		if err := c.QueryRow(ctx, "SELECT '2026-01-01 12:00:00+00'::timestamptz::text", pgx.QueryExecModeSimpleProtocol).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	mustExec(t, c, "SET statement_timeout = '5s'", "SET TimeZone = 'UTC'", "SET application_name = 'app2'")
	mustExec(t, c, "RESET statement_timeout", "RESET TimeZone", "RESET application_name")
	if got := show("statement_timeout"); got != "200ms" {
		t.Errorf("RESET statement_timeout: %q, want 200ms", got)
	}
	if got := show("TimeZone"); got != "Europe/Paris" {
		t.Errorf("RESET TimeZone: %q, want Europe/Paris", got)
	}
	if got := tsText(); got != "2026-01-01 13:00:00+01" {
		t.Errorf("a timestamptz after RESET TimeZone: %q", got)
	}
	if got := show("application_name"); got != "app1" {
		t.Errorf("RESET application_name: %q, want app1", got)
	}
	mustExec(t, c, "SET statement_timeout = '5s'", "SET TimeZone = 'UTC'", "RESET ALL")
	if got := show("statement_timeout"); got != "200ms" {
		t.Errorf("RESET ALL statement_timeout: %q, want 200ms", got)
	}
	if got := tsText(); got != "2026-01-01 13:00:00+01" {
		t.Errorf("a timestamptz after RESET ALL: %q", got)
	}
	// A setting the startup packet did not give goes back to the server's.
	mustExec(t, c, "SET extra_float_digits = 3", "RESET extra_float_digits")
	if got := show("extra_float_digits"); got != "1" {
		t.Errorf("RESET extra_float_digits: %q, want 1", got)
	}
}

// TestQueryMemory: an ad hoc query that would hold more than query_memory
// (a cross join of two 100k-row tables, sorted) fails with 53200 while
// another session keeps working; --query-memory sets the default.
func TestQueryMemory(t *testing.T) {
	ctx := context.Background()
	// As under GOMEMLIMIT=512MiB: the bound, not the collector, stops the
	// query.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(512 << 20))
	srv := startServer(t, server.Config{QueryMemory: 64 << 20})
	conn := connect(t, srv)
	other := connect(t, srv)
	var def string
	if err := conn.QueryRow(ctx, "SHOW query_memory").Scan(&def); err != nil || def != "64MB" {
		t.Fatalf("SHOW query_memory: %q %v", def, err)
	}
	mustExec(t, conn, "CREATE TABLE a (g int PRIMARY KEY)", "INSERT INTO a SELECT generate_series(1, 100000)",
		"CREATE TABLE b (g int PRIMARY KEY)", "INSERT INTO b SELECT generate_series(1, 100000)")
	// Another session sees the rows once their epoch commits.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var n int
		if err := other.QueryRow(ctx, "SELECT count(*) FROM a").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 100000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the other session sees %d rows", n)
		}
	}
	done := make(chan error, 1)
	go func() {
		// The other session's queries go on while the big one runs.
		for i := range 20 {
			var n int
			if err := other.QueryRow(ctx, "SELECT count(*) FROM a WHERE g <= $1", i+1).Scan(&n); err != nil || n != i+1 {
				done <- fmt.Errorf("other session: %d %v", n, err)
				return
			}
		}
		done <- nil
	}()
	_, err := conn.Exec(ctx, "SELECT a.g, b.g FROM a, b ORDER BY a.g + b.g DESC, 1")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "53200" || pe.Message != "query needs more than 64MB of memory" {
		t.Fatalf("got %v, want 53200", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// A smaller bound for one session; the rest of it still runs.
	if _, err := conn.Exec(ctx, "SET query_memory = 'lots'"); !errors.As(err, &pe) || pe.Code != "22023" {
		t.Fatalf("SET query_memory = 'lots': %v", err)
	}
	mustExec(t, conn, "SET query_memory = '1MB'")
	if _, err := conn.Exec(ctx, "SELECT g FROM a ORDER BY g DESC"); !errors.As(err, &pe) || pe.Code != "53200" {
		t.Fatalf("sort of 100k rows under 1MB: %v", err)
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM (SELECT g FROM a WHERE g < 1000 ORDER BY g DESC) s").Scan(&n); err != nil || n != 999 {
		t.Fatalf("a small sort: %d %v", n, err)
	}
	mustExec(t, conn, "RESET query_memory")
	if err := conn.QueryRow(ctx, "SHOW query_memory").Scan(&def); err != nil || def != "64MB" {
		t.Fatalf("after RESET: %q %v", def, err)
	}
	if _, err := conn.Exec(ctx, "SELECT g FROM a ORDER BY g DESC"); err != nil {
		t.Fatal(err)
	}
}

// TestExplainParams: EXPLAIN of a query with $1 over the extended protocol
// takes the query's parameters.
func TestExplainParams(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, server.Config{})
	conn := connect(t, srv)
	mustExec(t, conn, "CREATE TABLE e (k int PRIMARY KEY, v text)")
	rows, err := conn.Query(ctx, "EXPLAIN SELECT v FROM e WHERE k = $1", 7)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(lines) != 3 || lines[2] != "    Scan e point get key=($1)" {
		t.Fatalf("EXPLAIN: %q", lines)
	}
}
