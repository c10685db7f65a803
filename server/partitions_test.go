package server_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kappa-db/kappa/server"
)

// TestPartitions writes a history of inserts, updates (also of primary
// keys, which moves rows between partitions) and deletes into partitioned
// tables with and without a primary key, whose small segments retention
// cuts partition by partition. Views created before, after retention and
// after a restart all equal their query; every partition got records and
// lost its first segments.
func TestPartitions(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := server.Config{DataDir: dir, Listen: "127.0.0.1:0", RetentionInterval: 10 * time.Millisecond, LogSegmentBytes: 4 << 10}
	srv, err := server.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	conn := connect(t, srv)
	mustExec(t, conn, `CREATE TABLE kv (k int PRIMARY KEY, g int, v bigint) WITH (partitions = 3, retention_bytes = 16384)`)
	mustExec(t, conn, `CREATE TABLE ev (id int, g int) WITH (partitions = 2, retention_bytes = 8192)`)
	const viewQ = `SELECT kv.g, count(*) AS n, sum(v) AS s, count(ev.id) AS e FROM kv LEFT JOIN ev ON ev.id = kv.k GROUP BY kv.g`
	mustExec(t, conn, `CREATE MATERIALIZED VIEW before_v AS `+viewQ)
	mustExec(t, conn, `INSERT INTO kv SELECT i, i % 7, i FROM generate_series(1, 200) i`)
	for round := 0; round < 40; round++ {
		mustExec(t, conn, fmt.Sprintf(`UPDATE kv SET v = v + %d WHERE k %% 3 = %d`, round, round%3))
		mustExec(t, conn, fmt.Sprintf(`INSERT INTO ev SELECT i, %d FROM generate_series(%d, %d) i`, round, round*10, round*10+30))
		mustExec(t, conn, fmt.Sprintf(`DELETE FROM ev WHERE id %% 5 = %d AND g < %d`, round%5, round))
		if round%10 == 9 {
			// Keys move: k -> k + 1000 and back.
			mustExec(t, conn, fmt.Sprintf(`UPDATE kv SET k = k + 1000 WHERE k %% 10 = %d AND k < 1000`, round/10))
			mustExec(t, conn, fmt.Sprintf(`UPDATE kv SET k = k - 1000, g = g + 1 WHERE k > 1000 AND k %% 10 = %d`, round/10))
		}
	}
	logs := func() []string {
		return rowsOf(t, conn, `SELECT table_name, partition, start_offset > 0, end_offset > 0 FROM kappa_catalog.kappa_logs`)
	}
	want := []string{"ev 0 true true", "ev 1 true true", "kv 0 true true", "kv 1 true true", "kv 2 true true"}
	deadline := time.Now().Add(20 * time.Second)
	for !slices.Equal(logs(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("retention did not cut every partition: %v", logs())
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
	mustExec(t, conn, `CREATE MATERIALIZED VIEW after_v AS `+viewQ)
	check(conn, "before_v", "after_v")
	mustExec(t, conn, `UPDATE kv SET g = g + 1 WHERE k < 50`)
	mustExec(t, conn, `DELETE FROM ev WHERE id < 100`)
	check(conn, "before_v", "after_v")

	conn.Close(ctx)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	srv = startServer(t, cfg)
	conn = connect(t, srv)
	check(conn, "before_v", "after_v")
	for round := 0; round < 10; round++ {
		mustExec(t, conn, fmt.Sprintf(`UPDATE kv SET v = v + %d WHERE k %% 3 = %d`, round, round%3))
	}
	mustExec(t, conn, `CREATE MATERIALIZED VIEW restarted_v AS `+viewQ)
	mustExec(t, conn, `INSERT INTO ev SELECT i, 0 FROM generate_series(1, 300) i`)
	check(conn, "before_v", "after_v", "restarted_v")
	if got := rowsOf(t, conn, `SELECT count(*) FROM kappa_catalog.kappa_logs`); !slices.Equal(got, []string{"5"}) {
		t.Fatalf("kappa_logs has %v rows after the restart, want 5", got)
	}
	mustExec(t, conn, `DROP TABLE ev CASCADE`)
	if got := logStarts(t, dir); len(got) != 3 {
		t.Fatalf("after DROP TABLE ev, the log directories are %v; want kv's 3", got)
	}
}

// TestPartitionsAtomic moves amounts between the keys of a partitioned
// table, one statement or transaction at a time, each touching several
// partitions, while readers check that a view over the table never shows
// part of a statement: the total stays the same at every epoch. A view
// created meanwhile (a backfill, read in parallel from the partitions)
// agrees too.
func TestPartitionsAtomic(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, server.Config{})
	conn := connect(t, srv)
	mustExec(t, conn, `CREATE TABLE acct (id int PRIMARY KEY, bal bigint) WITH (partitions = 4)`)
	mustExec(t, conn, `INSERT INTO acct SELECT i, 1000 FROM generate_series(1, 64) i`)
	mustExec(t, conn, `CREATE MATERIALIZED VIEW total AS SELECT sum(bal) AS s, count(*) AS n FROM acct`)
	const n = 300
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	wg.Add(1)
	go func() {
		defer wg.Done()
		c := connect(t, srv)
		for i := range n {
			a, b := i%64+1, (i*7+3)%64+1
			if a == b {
				continue
			}
			var err error
			if i%2 == 0 {
				_, err = c.Exec(ctx, fmt.Sprintf(`UPDATE acct SET bal = bal + CASE WHEN id = %d THEN -5 ELSE 5 END WHERE id IN (%d, %d)`, a, a, b))
			} else {
				_, err = c.Exec(ctx, fmt.Sprintf(`BEGIN; UPDATE acct SET bal = bal - 3 WHERE id = %d; UPDATE acct SET bal = bal + 3 WHERE id = %d; COMMIT`, a, b))
			}
			if err != nil {
				errs <- err
				return
			}
		}
	}()
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Add(1)
	go func() {
		defer readers.Done()
		c := connect(t, srv)
		for {
			select {
			case <-stop:
				return
			default:
			}
			var s, cnt int64
			if err := c.QueryRow(ctx, `SELECT s, n FROM total`).Scan(&s, &cnt); err != nil {
				errs <- err
				return
			}
			if s != 64000 || cnt != 64 {
				errs <- fmt.Errorf("the view shows part of a statement: sum %d over %d rows, want 64000 over 64", s, cnt)
				return
			}
		}
	}()
	time.Sleep(50 * time.Millisecond)
	mustExec(t, conn, `CREATE MATERIALIZED VIEW later AS SELECT id % 8 AS g, sum(bal) AS s FROM acct GROUP BY id % 8`)
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got, want := rowsOf(t, conn, `SELECT * FROM later`), rowsOf(t, conn, `SELECT id % 8, sum(bal) FROM acct GROUP BY id % 8`); !slices.Equal(got, want) {
		t.Fatalf("later = %v, its query gives %v", got, want)
	}
}

// TestPartitionsBackfill creates views over partitioned tables that already
// hold enough records for the backfill to read the partitions in parallel
// (a table with a primary key and one without, a join of the two, and a
// self-join, whose two leaves read the same partitions), while writes go
// on; each view then equals its query, and goes on doing so.
func TestPartitionsBackfill(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, server.Config{})
	conn := connect(t, srv)
	mustExec(t, conn, `CREATE TABLE kv (k int PRIMARY KEY, g int, v bigint) WITH (partitions = 4)`)
	mustExec(t, conn, `CREATE TABLE ev (id int, g int, note text) WITH (partitions = 3)`)
	mustExec(t, conn, `INSERT INTO kv SELECT i, i % 13, i * 3 FROM generate_series(1, 30000) i`)
	for r := range 6 {
		mustExec(t, conn, fmt.Sprintf(`INSERT INTO ev SELECT i, i %% 7, 'r%d' FROM generate_series(%d, %d) i`, r, r*5000, r*5000+6000))
	}
	mustExec(t, conn, `UPDATE kv SET v = v + 1 WHERE k % 5 = 0`)
	mustExec(t, conn, `DELETE FROM ev WHERE id % 9 = 0`)
	views := map[string]string{
		"kv_g":   `SELECT g, count(*) AS n, sum(v) AS s, min(v) AS lo, max(v) AS hi FROM kv GROUP BY g`,
		"ev_g":   `SELECT g, note, count(*) AS n FROM ev GROUP BY g, note`,
		"joined": `SELECT kv.g, count(*) AS n, sum(ev.id) AS s FROM kv JOIN ev ON ev.id = kv.k GROUP BY kv.g`,
		"self":   `SELECT a.g, count(*) AS n FROM kv a JOIN kv b ON a.k = b.k + 1 GROUP BY a.g`,
	}
	done := make(chan error, 1)
	go func() {
		c := connect(t, srv)
		for r := range 20 {
			if _, err := c.Exec(ctx, fmt.Sprintf(`UPDATE kv SET v = v - 1, g = g + 1 WHERE k %% 97 = %d`, r)); err != nil {
				done <- err
				return
			}
			if _, err := c.Exec(ctx, fmt.Sprintf(`INSERT INTO ev SELECT i, %d, 'late' FROM generate_series(1, 100) i`, r)); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for name, q := range views {
		mustExec(t, conn, `CREATE MATERIALIZED VIEW `+name+` AS `+q)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	check := func() {
		t.Helper()
		for name, q := range views {
			if got, want := rowsOf(t, conn, `SELECT * FROM `+name), rowsOf(t, conn, q); !slices.Equal(got, want) {
				t.Fatalf("%s = %v\nits query gives %v", name, got, want)
			}
		}
	}
	// The writes above came from another session: a read here waits for
	// this session's writes only, so the views may still be an epoch
	// behind them. Each must catch up.
	for name, q := range views {
		deadline := time.Now().Add(20 * time.Second)
		for got, want := rowsOf(t, conn, `SELECT * FROM `+name), rowsOf(t, conn, q); !slices.Equal(got, want); got, want = rowsOf(t, conn, `SELECT * FROM `+name), rowsOf(t, conn, q) {
			if time.Now().After(deadline) {
				t.Fatalf("%s = %v\nits query gives %v", name, got, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// From here on the writes are this session's: its reads wait for them.
	mustExec(t, conn, `UPDATE kv SET k = k + 100000 WHERE k % 11 = 0`)
	mustExec(t, conn, `DELETE FROM ev WHERE note = 'late'`)
	check()
}

// TestPartitionsNoKeyPages: concurrent inserts into a partitioned table
// without a primary key land in one epoch from several partitions, whose
// rows are numbered in ranges of their own; later deletes and updates must
// find every row (a stored page once spanned two partitions' ranges, and a
// retraction then missed its row).
func TestPartitionsNoKeyPages(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, server.Config{})
	conn := connect(t, srv)
	mustExec(t, conn, `CREATE TABLE ev (id int, v int) WITH (partitions = 2)`)
	mustExec(t, conn, `CREATE MATERIALIZED VIEW ev_v AS SELECT count(*) AS n, sum(v) AS s FROM ev`)
	const writers, each = 4, 50
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := connect(t, srv)
			for i := range each {
				if _, err := c.Exec(ctx, fmt.Sprintf(`INSERT INTO ev VALUES (%d, 1)`, w*each+i)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for id := 0; id < writers*each; id += 2 {
		mustExec(t, conn, fmt.Sprintf(`UPDATE ev SET v = 2 WHERE id = %d`, id))
		mustExec(t, conn, fmt.Sprintf(`DELETE FROM ev WHERE id = %d`, id+1))
	}
	want := []string{fmt.Sprint(writers*each/2, " ", writers*each)}
	for _, q := range []string{`SELECT count(*), sum(v) FROM ev`, `SELECT * FROM ev_v`} {
		if got := rowsOf(t, conn, q); !slices.Equal(got, want) {
			t.Fatalf("%s = %v, want %v", q, got, want)
		}
	}
	mustExec(t, conn, `DELETE FROM ev`)
	if got := rowsOf(t, conn, `SELECT count(*) FROM ev`); !slices.Equal(got, []string{"0"}) {
		t.Fatalf("after DELETE FROM ev, %v rows", got)
	}
}
