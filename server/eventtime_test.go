package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kappa-db/kappa/server"
)

// TestWindowStateStaysFlat runs windowed views and interval joins over 200
// one-second windows of a table with a watermark and checks that their
// operator state does not grow with the number of windows: closed windows'
// state, and the rows an interval join can no longer join, are deleted (the
// same views over a table without a watermark keep every window's).
func TestWindowStateStaysFlat(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, server.Config{})
	conn := connect(t, srv)
	exec := func(sql string) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`CREATE TABLE bids (auction int, price int, ts timestamp, WATERMARK FOR ts AS ts - INTERVAL '500 milliseconds')`)
	exec(`CREATE TABLE bids_nowm (auction int, price int, ts timestamp)`)
	views := map[string]string{
		// count, sum and max (whose value multiset is state of its own),
		// per auction and window; the same emitted on window close; and
		// count(DISTINCT) per window.
		"per_auction": `SELECT auction, window_start, count(*) AS n, sum(price) AS total, max(price) AS top FROM TUMBLE(%s, ts, INTERVAL '1 second') GROUP BY auction, window_start`,
		"closed":      `SELECT auction, window_start, count(*) AS n, max(price) AS top FROM TUMBLE(%s, ts, INTERVAL '1 second') GROUP BY auction, window_start EMIT ON WINDOW CLOSE`,
		"distinct":    `SELECT window_end, count(DISTINCT auction) AS auctions FROM HOP(%s, ts, INTERVAL '500 milliseconds', INTERVAL '1 second') GROUP BY window_end`,
		// The top three auctions of each window (a per-window Top-N).
		"top3": `SELECT * FROM (SELECT window_start, auction, count(*) AS n, row_number() OVER (PARTITION BY window_start ORDER BY count(*) DESC, auction) AS rn
			FROM TUMBLE(%s, ts, INTERVAL '1 second') GROUP BY window_start, auction) t WHERE rn <= 3`,
		// A window function per window: a running total of its bids.
		"running": `SELECT window_start, auction, price, sum(price) OVER (PARTITION BY window_start ORDER BY price, auction) AS running
			FROM TUMBLE(%s, ts, INTERVAL '1 second')`,
		// Sessions per auction (each window's bids of an auction are one
		// session: 120 to 280 ms apart within it, 400 ms to the next), a
		// session aggregate; the same emitted on window close.
		"sessions":        `SELECT auction, window_start, window_end, count(*) AS n, max(price) AS top FROM SESSION(%s PARTITION BY auction, ts, INTERVAL '300 milliseconds') GROUP BY auction, window_start, window_end`,
		"sessions_closed": `SELECT auction, window_end, count(*) AS n, sum(price) AS total FROM SESSION(%s PARTITION BY auction, ts, INTERVAL '300 milliseconds') GROUP BY auction, window_end EMIT ON WINDOW CLOSE`,
		// A window self-join: bids of the same auction in the same window.
		"pairs": `SELECT a.window_start, count(*) AS pairs FROM TUMBLE(%s, ts, INTERVAL '1 second') a
			JOIN TUMBLE(%s, ts, INTERVAL '1 second') b ON a.window_start = b.window_start AND a.auction = b.auction GROUP BY a.window_start`,
		// An interval self-join: bids of the same auction within 100 ms
		// before to 200 ms after each other.
		"interval": `SELECT a.auction, count(*) AS pairs FROM %s a JOIN %s b ON a.auction = b.auction
			AND a.ts BETWEEN b.ts - INTERVAL '100 milliseconds' AND b.ts + INTERVAL '200 milliseconds' GROUP BY a.auction`,
		// Nexmark q7: the bids of each window's highest price, an
		// interval join on price with the windows' maxima.
		"highest": `SELECT b.auction, b.price, b.ts FROM %s b JOIN (SELECT max(price) AS maxprice, window_end AS ts
			FROM TUMBLE(%s, ts, INTERVAL '1 second') GROUP BY window_end) m ON b.price = m.maxprice
			WHERE b.ts BETWEEN m.ts - INTERVAL '1 second' AND m.ts`,
	}
	ids := map[string]uint64{}
	for name, q := range views {
		for _, table := range []string{"bids", "bids_nowm"} {
			if table == "bids_nowm" && strings.Contains(q, "EMIT") {
				continue
			}
			v := name + "_" + table
			exec("CREATE MATERIALIZED VIEW " + v + " AS " + strings.ReplaceAll(q, "%s", table))
			o, ok := srv.Engine().Catalog().Lookup(v)
			if !ok {
				t.Fatalf("no view %s", v)
			}
			ids[v] = o.ID
		}
	}
	const windows, perWindow = 200, 40
	state := func(v string) int64 {
		n, err := srv.Engine().Runtime().StateBytes(ids[v])
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	at := map[int]map[string]int64{}
	for w := 0; w < windows; w++ {
		// One statement text for every window (parameters), so that the
		// server's cache of parsed statements does not fill up.
		for _, table := range []string{"bids", "bids_nowm"} {
			// Times move forward with a little disorder (within the delay).
			if _, err := conn.Exec(ctx, `INSERT INTO `+table+` SELECT i % 10, ($1::int * 40 + i) % 997,
				TIMESTAMP '2024-01-01' + ($1::int * 1000 + i * 20 + (i % 3) * 40) * INTERVAL '1 millisecond'
				FROM generate_series(0, $2::int - 1) AS i`, w, perWindow); err != nil {
				t.Fatal(err)
			}
		}
		if w == 19 || w == windows-1 {
			for v := range ids {
				exec(`SELECT count(*) FROM ` + v) // waits for the view to take the inserts
			}
			at[w] = map[string]int64{}
			for v := range ids {
				at[w][v] = state(v)
			}
		}
	}
	for v := range ids {
		early, late := at[19][v], at[windows-1][v]
		t.Logf("%-24s state after 20 windows %7d bytes, after %d windows %7d bytes", v, early, windows, late)
		if strings.HasSuffix(v, "_nowm") {
			if late < 5*early {
				t.Errorf("%s: without a watermark the state should grow with the windows (%d -> %d bytes)", v, early, late)
			}
			continue
		}
		if late > early+early/2 {
			t.Errorf("%s: the state grew from %d to %d bytes between window 20 and %d", v, early, late, windows)
		}
	}
	// Deleting closed windows' state changed no result: each view equals
	// its query.
	for name, q := range views {
		if strings.Contains(q, "EMIT") {
			continue
		}
		q = strings.ReplaceAll(q, "%s", "bids")
		var diff int64
		if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM (SELECT * FROM `+name+`_bids EXCEPT ALL `+q+`) x) + (SELECT count(*) FROM (`+q+` EXCEPT ALL SELECT * FROM `+name+`_bids) y)`).Scan(&diff); err != nil {
			t.Fatal(err)
		}
		if diff != 0 {
			t.Errorf("%s_bids differs from its query in %d rows", name, diff)
		}
	}
	// The views still have every window's rows.
	var n, closed int64
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM per_auction_bids), (SELECT count(*) FROM closed_bids)`).Scan(&n, &closed); err != nil {
		t.Fatal(err)
	}
	if n != windows*10 || closed != (windows-1)*10 {
		t.Fatalf("per_auction has %d rows, closed %d; want %d and %d", n, closed, windows*10, (windows-1)*10)
	}
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM sessions_bids), (SELECT count(*) FROM sessions_closed_bids)`).Scan(&n, &closed); err != nil {
		t.Fatal(err)
	}
	if n != windows*10 || closed != (windows-1)*10 {
		t.Fatalf("sessions has %d rows, sessions_closed %d; want %d and %d", n, closed, windows*10, (windows-1)*10)
	}
	var late int64
	if err := conn.QueryRow(ctx, `SELECT late_rows FROM kappa_catalog.kappa_late_rows WHERE relation_name = 'per_auction_bids'`).Scan(&late); err != nil {
		t.Fatal(err)
	}
	if late != 0 {
		t.Fatalf("%d rows were late; the disorder is within the delay", late)
	}
}

// TestWatermarkSurvivesRestart restarts kappa and checks that the
// watermarks are where they were: a row that was late before the restart
// is late after it, and a view emitted on window close emits nothing twice.
func TestWatermarkSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srv, conn := startOn(t, dir)
	exec := func(sql string) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	marks := func() string {
		t.Helper()
		rows, err := conn.Query(ctx, `SELECT relation_name || ' ' || input_name || ' ' || watermark || ' ' || late_rows FROM kappa_catalog.kappa_late_rows ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return strings.Join(out, "; ")
	}
	closed := func() string {
		t.Helper()
		rows, err := conn.Query(ctx, `SELECT window_start || ' ' || n FROM w ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		return strings.Join(out, "; ")
	}
	exec(`CREATE TABLE ev (k int, ts timestamp, WATERMARK FOR ts AS ts - INTERVAL '1 second')`)
	exec(`CREATE MATERIALIZED VIEW w AS SELECT window_start, count(*) AS n FROM TUMBLE(ev, ts, INTERVAL '10 seconds') GROUP BY window_start EMIT ON WINDOW CLOSE`)
	exec(`INSERT INTO ev VALUES (1, '2024-01-01 00:00:01'), (2, '2024-01-01 00:00:05'), (3, '2024-01-01 00:00:20')`)
	exec(`INSERT INTO ev VALUES (4, '2024-01-01 00:00:02')`) // late: the watermark is 19
	exec(`SELECT count(*) FROM w`)
	before, beforeRows := marks(), closed()
	want := "ev ev 2024-01-01 00:00:19 1; w ev 2024-01-01 00:00:19 1"
	if before != want {
		t.Fatalf("before the restart: %q, want %q", before, want)
	}
	if beforeRows != "2024-01-01 00:00:00 2" {
		t.Fatalf("before the restart w has %q", beforeRows)
	}
	conn.Close(ctx)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}

	srv, conn = startOn(t, dir)
	defer func() {
		conn.Close(ctx)
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	}()
	exec(`SELECT count(*) FROM w`)
	if after := marks(); after != before {
		t.Fatalf("after the restart: %q, before %q", after, before)
	}
	// Still late after the restart; ts 31 closes the next window, once.
	exec(`INSERT INTO ev VALUES (5, '2024-01-01 00:00:03')`)
	exec(`INSERT INTO ev VALUES (6, '2024-01-01 00:00:31')`)
	exec(`SELECT count(*) FROM w`)
	want = "ev ev 2024-01-01 00:00:30 2; w ev 2024-01-01 00:00:30 2"
	deadline := time.Now().Add(10 * time.Second)
	for marks() != want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := marks(); got != want {
		t.Fatalf("after the restart and two rows: %q, want %q", got, want)
	}
	if got := closed(); got != "2024-01-01 00:00:00 2; 2024-01-01 00:00:20 1" {
		t.Fatalf("after the restart w has %q", got)
	}
}

// TestIntervalJoinSurvivesRestart restarts kappa between inserts into an
// interval join's inputs: the view is planned again for the join state
// layout it was created with (catalog.Object.JoinState), and stays equal to
// its query.
func TestIntervalJoinSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const q = `SELECT b.auction, b.price, a.price AS ask FROM bids b JOIN asks a ON a.auction = b.auction
		AND b.ts BETWEEN a.ts - INTERVAL '1 second' AND a.ts + INTERVAL '2 seconds'`
	run := func(stmts ...string) {
		srv, err := server.Start(ctx, server.Config{DataDir: dir, Listen: "127.0.0.1:0"})
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		conn, err := pgx.Connect(ctx, dsn(srv.Addr(), "kappa", "", ""))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		for _, s := range stmts {
			if _, err := conn.Exec(ctx, s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
		var n, diff int64
		if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM ij), (SELECT count(*) FROM (SELECT * FROM ij EXCEPT ALL `+q+`) x) + (SELECT count(*) FROM (`+q+` EXCEPT ALL SELECT * FROM ij) y)`).Scan(&n, &diff); err != nil {
			t.Fatal(err)
		}
		if diff != 0 || n == 0 {
			t.Fatalf("ij has %d rows and differs from its query in %d", n, diff)
		}
	}
	insert := func(table string, from, to int) string {
		return fmt.Sprintf(`INSERT INTO %s SELECT i %% 3, i, TIMESTAMP '2024-01-01' + i * INTERVAL '300 milliseconds' FROM generate_series(%d, %d) AS i`, table, from, to)
	}
	run(`CREATE TABLE bids (auction int, price int, ts timestamp, WATERMARK FOR ts AS ts - INTERVAL '1 second')`,
		`CREATE TABLE asks (auction int, price int, ts timestamp, WATERMARK FOR ts AS ts - INTERVAL '1 second')`,
		`CREATE MATERIALIZED VIEW ij AS `+q,
		insert("bids", 0, 100), insert("asks", 0, 100))
	run(insert("bids", 101, 200), insert("asks", 95, 200))
	run(insert("asks", 201, 300), insert("bids", 190, 300))
}
