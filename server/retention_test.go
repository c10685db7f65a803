package server_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kappa-db/kappa/server"
)

// logStarts returns, per table log directory under dataDir, the first
// offset it still holds (the name of its oldest segment).
func logStarts(t *testing.T, dataDir string) map[string]uint64 {
	t.Helper()
	dirs, err := os.ReadDir(filepath.Join(dataDir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for _, d := range dirs {
		names, err := os.ReadDir(filepath.Join(dataDir, "log", d.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if base, ok := strings.CutSuffix(n.Name(), ".log"); ok {
				off, _ := strconv.ParseUint(base, 10, 64)
				out[d.Name()] = off
				break
			}
		}
	}
	return out
}

// rowsOf returns query's rows as sorted strings.
func rowsOf(t *testing.T, conn *pgx.Conn, query string) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(), query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.TrimSpace(fmt.Sprintln(vals...)))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	slices.Sort(out)
	return out
}

// TestRetention gives a table with a primary key and one without a small
// retention_bytes, writes a long history of inserts, updates and deletes
// into their small log segments, and waits until retention has deleted the
// logs' first segments. The tables keep every current row: a view created
// before, one created after retention (it starts from the table's rows, not
// from the cut log) and one created after a restart all equal their query,
// and go on doing so under more changes.
func TestRetention(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := server.Config{DataDir: dir, Listen: "127.0.0.1:0", RetentionInterval: 10 * time.Millisecond, LogSegmentBytes: 4 << 10}
	srv, err := server.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	conn := connect(t, srv)
	mustExec(t, conn, `CREATE TABLE kv (k int PRIMARY KEY, g int, v bigint) WITH (retention_bytes = 16384, retention = '30 days')`)
	mustExec(t, conn, `CREATE TABLE ev (id int, g int) WITH (retention_bytes = 16384)`)
	const viewQ = `SELECT kv.g, count(*) AS n, sum(v) AS s, count(ev.id) AS e FROM kv LEFT JOIN ev ON ev.id = kv.k GROUP BY kv.g`
	mustExec(t, conn, `CREATE MATERIALIZED VIEW before_v AS `+viewQ)
	mustExec(t, conn, `INSERT INTO kv SELECT i, i % 7, i FROM generate_series(1, 200) i`)
	for round := 0; round < 40; round++ {
		mustExec(t, conn, fmt.Sprintf(`UPDATE kv SET v = v + %d WHERE k %% 3 = %d`, round, round%3))
		mustExec(t, conn, fmt.Sprintf(`INSERT INTO ev SELECT i, %d FROM generate_series(%d, %d) i`, round, round*10, round*10+30))
		mustExec(t, conn, fmt.Sprintf(`DELETE FROM ev WHERE id %% 5 = %d AND g < %d`, round%5, round))
		if round%10 == 9 {
			mustExec(t, conn, fmt.Sprintf(`DELETE FROM kv WHERE k %% 10 = %d`, round/10))
			mustExec(t, conn, fmt.Sprintf(`INSERT INTO kv SELECT i, i %% 5, -i FROM generate_series(1, 200) i WHERE i %% 10 = %d`, round/10))
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		starts := logStarts(t, dir)
		cut := 0
		for _, s := range starts {
			if s > 0 {
				cut++
			}
		}
		if cut == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("retention did not cut both logs: starts %v", starts)
		}
		time.Sleep(20 * time.Millisecond)
	}
	check := func(conn *pgx.Conn, views ...string) {
		t.Helper()
		want := rowsOf(t, conn, viewQ)
		for _, v := range views {
			if got := rowsOf(t, conn, `SELECT * FROM `+v); !slices.Equal(got, want) {
				t.Fatalf("%s = %v\nits query gives %v", v, got, want)
			}
		}
		if n := rowsOf(t, conn, `SELECT count(*) FROM kv`); !slices.Equal(n, []string{"200"}) {
			t.Fatalf("kv has %v rows, want 200", n)
		}
	}
	// kappa_catalog.kappa_logs shows the cut.
	if got := rowsOf(t, conn, `SELECT table_name, start_offset > 0, start_offset < end_offset, retention_bytes FROM kappa_catalog.kappa_logs`); !slices.Equal(got, []string{"ev true true 16384", "kv true true 16384"}) {
		t.Fatalf("kappa_logs: %v", got)
	}
	mustExec(t, conn, `CREATE MATERIALIZED VIEW after_v AS `+viewQ)
	mustExec(t, conn, `CREATE MATERIALIZED VIEW ev_only AS SELECT g, count(*) AS n FROM ev GROUP BY g`)
	check(conn, "before_v", "after_v")
	if got, want := rowsOf(t, conn, `SELECT * FROM ev_only`), rowsOf(t, conn, `SELECT g, count(*) AS n FROM ev GROUP BY g`); !slices.Equal(got, want) {
		t.Fatalf("ev_only = %v, want %v", got, want)
	}
	mustExec(t, conn, `UPDATE kv SET g = g + 1 WHERE k < 50`)
	mustExec(t, conn, `DELETE FROM ev WHERE id < 100`)
	check(conn, "before_v", "after_v")

	conn.Close(ctx)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	cfg.RetentionInterval = 10 * time.Millisecond
	srv = startServer(t, cfg)
	conn = connect(t, srv)
	check(conn, "before_v", "after_v")
	for round := 0; round < 30; round++ {
		mustExec(t, conn, fmt.Sprintf(`UPDATE kv SET v = v + %d WHERE k %% 3 = %d`, round, round%3))
	}
	mustExec(t, conn, `CREATE MATERIALIZED VIEW restarted_v AS `+viewQ)
	mustExec(t, conn, `INSERT INTO ev SELECT i, 0 FROM generate_series(1, 300) i`)
	check(conn, "before_v", "after_v", "restarted_v")
}

// TestRetentionByAge: a table that is no longer written to still loses its
// old log records once ALTER TABLE gives it a retention (retention rolls its
// active segment by age), and keeps its rows.
func TestRetentionByAge(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, server.Config{DataDir: dir, RetentionInterval: 10 * time.Millisecond})
	conn := connect(t, srv)
	mustExec(t, conn, `CREATE TABLE old (k int PRIMARY KEY, v text)`)
	mustExec(t, conn, `INSERT INTO old SELECT i, 'v' || i FROM generate_series(1, 100) i`)
	mustExec(t, conn, `DELETE FROM old WHERE k > 90`)
	mustExec(t, conn, `ALTER TABLE old SET (retention = '200 milliseconds')`)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if s := logStarts(t, dir); len(s) == 1 && slices.Collect(maps.Values(s))[0] > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("retention by age did not cut the log: %v", logStarts(t, dir))
		}
		time.Sleep(20 * time.Millisecond)
	}
	mustExec(t, conn, `CREATE MATERIALIZED VIEW old_v AS SELECT count(*) AS n, max(v) AS m FROM old`)
	for _, q := range []string{`SELECT * FROM old_v`, `SELECT count(*), max(v) FROM old`} {
		if got := rowsOf(t, conn, q); !slices.Equal(got, []string{"90 v90"}) {
			t.Fatalf("%s = %v", q, got)
		}
	}
}

// logBytes returns the bytes of log segment files under dataDir.
func logBytes(t *testing.T, dataDir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(filepath.Join(dataDir, "log"), func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasSuffix(path, ".log") {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			n += fi.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCompaction gives a table with a primary key compaction and a long
// history of updates (some moving rows between keys), inserts and deletes,
// over small log segments, and waits until the log has shrunk. A view
// created then replays the compacted log from its start (nothing was
// deleted, so it does not start from the table's rows): it, a view created
// before, and one created after a restart equal their query.
func TestCompaction(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	// Compaction runs when the test says (EnforceRetention), and then
	// every 10 ms after the restart.
	cfg := server.Config{DataDir: dir, Listen: "127.0.0.1:0", RetentionInterval: time.Hour, LogSegmentBytes: 4 << 10}
	srv, err := server.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	conn := connect(t, srv)
	mustExec(t, conn, `CREATE TABLE kv (k int PRIMARY KEY, g int, v bigint) WITH (compaction = on)`)
	const viewQ = `SELECT g, count(*) AS n, sum(v) AS s, min(k) AS lo, max(k) AS hi FROM kv GROUP BY g`
	mustExec(t, conn, `CREATE MATERIALIZED VIEW before_v AS `+viewQ)
	mustExec(t, conn, `INSERT INTO kv SELECT i, i % 7, i FROM generate_series(1, 100) i`)
	for round := 0; round < 60; round++ {
		mustExec(t, conn, fmt.Sprintf(`UPDATE kv SET v = v + %d, g = (g + 1) %% 7 WHERE k %% 4 = %d`, round, round%4))
		switch round % 10 {
		case 3:
			// Rows move between keys within one statement.
			mustExec(t, conn, `UPDATE kv SET k = k + 1000 WHERE k <= 20`)
		case 5:
			mustExec(t, conn, `UPDATE kv SET k = k - 1000 WHERE k > 1000`)
		case 7:
			mustExec(t, conn, fmt.Sprintf(`DELETE FROM kv WHERE k %% 9 = %d`, round%9))
		case 8:
			mustExec(t, conn, fmt.Sprintf(`INSERT INTO kv SELECT i, 1, -i FROM generate_series(1, 100) i WHERE i %% 9 = %d`, (round-1)%9))
		}
	}
	full := logBytes(t, dir)
	if err := srv.Engine().EnforceRetention(); err != nil {
		t.Fatal(err)
	}
	if logBytes(t, dir) > full/3 {
		t.Fatalf("compaction did not shrink the log: %d bytes, %d before", logBytes(t, dir), full)
	}
	if s := logStarts(t, dir); len(s) != 1 || slices.Collect(maps.Values(s))[0] != 0 {
		t.Fatalf("the log lost its start: %v", s)
	}
	t.Logf("log %d -> %d bytes", full, logBytes(t, dir))
	check := func(conn *pgx.Conn, views ...string) {
		t.Helper()
		want := rowsOf(t, conn, viewQ)
		for _, v := range views {
			if got := rowsOf(t, conn, `SELECT * FROM `+v); !slices.Equal(got, want) {
				t.Fatalf("%s = %v\nits query gives %v", v, got, want)
			}
		}
	}
	mustExec(t, conn, `CREATE MATERIALIZED VIEW after_v AS `+viewQ)
	check(conn, "before_v", "after_v")
	mustExec(t, conn, `UPDATE kv SET g = g + 1 WHERE k < 50`)
	check(conn, "before_v", "after_v")
	conn.Close(ctx)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	cfg.RetentionInterval = 10 * time.Millisecond
	srv = startServer(t, cfg)
	conn = connect(t, srv)
	check(conn, "before_v", "after_v")
	for round := 0; round < 30; round++ {
		mustExec(t, conn, fmt.Sprintf(`UPDATE kv SET v = v + %d WHERE k %% 3 = %d`, round, round%3))
	}
	mustExec(t, conn, `CREATE MATERIALIZED VIEW restarted_v AS `+viewQ)
	mustExec(t, conn, `DELETE FROM kv WHERE k % 2 = 0`)
	check(conn, "before_v", "after_v", "restarted_v")
}

// TestCompactionReplayBench measures what compaction saves a new view: the
// time CREATE MATERIALIZED VIEW takes to replay the log of a table with a
// primary key and a long update history, before and after compacting it.
//
//	KAPPA_COMPACTION_BENCH=1 go test ./server -run TestCompactionReplayBench -v
//
// KAPPA_COMPACTION_BENCH_ROWS and _ROUNDS set the table's size and how many
// times every row is updated (100,000 and 20).
func TestCompactionReplayBench(t *testing.T) {
	if os.Getenv("KAPPA_COMPACTION_BENCH") == "" {
		t.Skip("set KAPPA_COMPACTION_BENCH=1")
	}
	envInt := func(name string, def int) int {
		if s := os.Getenv(name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return n
		}
		return def
	}
	rows, rounds := envInt("KAPPA_COMPACTION_BENCH_ROWS", 100_000), envInt("KAPPA_COMPACTION_BENCH_ROUNDS", 20)
	dir := t.TempDir()
	srv := startServer(t, server.Config{DataDir: dir, RetentionInterval: time.Hour, LogSegmentBytes: 256 << 10})
	conn := connect(t, srv)
	mustExec(t, conn, `CREATE TABLE kv (k int PRIMARY KEY, g int, v bigint) WITH (compaction = on)`)
	mustExec(t, conn, fmt.Sprintf(`INSERT INTO kv SELECT i, i %% 100, i FROM generate_series(1, %d) i`, rows))
	t0 := time.Now()
	for r := 0; r < rounds; r++ {
		mustExec(t, conn, `UPDATE kv SET v = v + 1`)
	}
	t.Logf("history: %d rows updated %d times in %v", rows, rounds, time.Since(t0).Round(time.Millisecond))
	const q = `SELECT g, count(*) AS n, sum(v) AS s FROM kv GROUP BY g`
	replay := func(name string) time.Duration {
		t0 := time.Now()
		mustExec(t, conn, `CREATE MATERIALIZED VIEW `+name+` AS `+q)
		return time.Since(t0)
	}
	// The better of two replays, so that neither measure pays for a cold
	// page cache.
	before, bytesBefore := min(replay("before_compaction"), replay("before_compaction2")), logBytes(t, dir)
	t0 = time.Now()
	if err := srv.Engine().EnforceRetention(); err != nil {
		t.Fatal(err)
	}
	compact := time.Since(t0)
	after, bytesAfter := replay("after_compaction"), logBytes(t, dir)
	want := rowsOf(t, conn, q)
	for _, v := range []string{"before_compaction", "after_compaction"} {
		if got := rowsOf(t, conn, `SELECT * FROM `+v); !slices.Equal(got, want) {
			t.Fatalf("%s differs from its query", v)
		}
	}
	records := rows * (1 + 2*rounds)
	t.Logf("replay of %d log records (%.1f MB) by CREATE MATERIALIZED VIEW: %v", records, float64(bytesBefore)/(1<<20), before.Round(time.Millisecond))
	t.Logf("compaction: %v; the log is %.1f MB", compact.Round(time.Millisecond), float64(bytesAfter)/(1<<20))
	t.Logf("replay after compaction: %v (%.1fx faster)", after.Round(time.Millisecond), before.Seconds()/after.Seconds())
}

// TestRetentionWatermark: a view created after retention cut the log of a
// table with a watermark takes the rows the table admitted and its
// watermark, so it drops the same late rows afterwards as the table and a
// view that read the whole log.
func TestRetentionWatermark(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, server.Config{DataDir: dir, RetentionInterval: 10 * time.Millisecond, LogSegmentBytes: 1 << 10})
	conn := connect(t, srv)
	mustExec(t, conn, `CREATE TABLE bids (auction int, price int, ts timestamp, WATERMARK FOR ts AS ts - INTERVAL '2 seconds') WITH (retention_bytes = 2048)`)
	const q = `SELECT auction, count(*) AS n, sum(price) AS s FROM bids GROUP BY auction`
	mustExec(t, conn, `CREATE MATERIALIZED VIEW early AS `+q)
	for i := 0; i < 200; i++ {
		// Every tenth row is 5 seconds behind: late.
		lag := 0
		if i%10 == 9 {
			lag = 5
		}
		mustExec(t, conn, fmt.Sprintf(`INSERT INTO bids VALUES (%d, %d, TIMESTAMP '2026-01-01 00:00:00' + INTERVAL '%d seconds')`, i%5, i, i-lag))
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if s := logStarts(t, dir); len(s) == 1 && slices.Collect(maps.Values(s))[0] > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("retention did not cut the log: %v", logStarts(t, dir))
		}
		time.Sleep(20 * time.Millisecond)
	}
	mustExec(t, conn, `CREATE MATERIALIZED VIEW late AS `+q)
	// One more on-time row, one late row.
	mustExec(t, conn, `INSERT INTO bids VALUES (1, 1000, TIMESTAMP '2026-01-01 00:03:30'), (2, 2000, TIMESTAMP '2026-01-01 00:00:01')`)
	want := rowsOf(t, conn, q)
	for _, v := range []string{"early", "late"} {
		if got := rowsOf(t, conn, `SELECT * FROM `+v); !slices.Equal(got, want) {
			t.Fatalf("%s = %v\nits query gives %v", v, got, want)
		}
	}
	lates := rowsOf(t, conn, `SELECT late_rows FROM kappa_catalog.kappa_late_rows`)
	if len(lates) != 3 || lates[0] != lates[2] {
		t.Fatalf("late rows per dataflow: %v", lates)
	}
}
