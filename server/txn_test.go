package server_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/kappa-db/kappa/server"
)

// TestTransactionAtomicInViews commits many transactions that each write two
// tables (an UPDATE of acct and an INSERT into ledger, by BEGIN ... COMMIT
// and by a pgx batch, which is one implicit transaction up to its Sync)
// while other sessions poll materialized views that join the two tables: a
// view must never show half of a transaction, nor any row of a transaction
// that rolled back (explicitly, or because a statement of it failed).
func TestTransactionAtomicInViews(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, server.Config{BarrierInterval: 5 * time.Millisecond})
	admin := connect(t, srv)
	mustExec(t, admin,
		`CREATE TABLE acct (id int PRIMARY KEY, bal bigint NOT NULL)`,
		`CREATE TABLE ledger (acct int, amount bigint)`,
		`INSERT INTO acct SELECT g, 0 FROM generate_series(1, 4) g`,
		// Every account's balance equals the sum of its ledger rows.
		`CREATE MATERIALIZED VIEW skew AS
		   SELECT a.id, a.bal, coalesce(l.s, 0) AS s
		   FROM acct a LEFT JOIN (SELECT acct, sum(amount) AS s FROM ledger GROUP BY acct) l ON l.acct = a.id
		   WHERE a.bal <> coalesce(l.s, 0)`,
		`CREATE MATERIALIZED VIEW totals AS SELECT a.s - l.s AS diff FROM (SELECT sum(bal) AS s FROM acct) a CROSS JOIN (SELECT coalesce(sum(amount), 0) AS s FROM ledger) l`,
		// Rolled-back transactions write negative amounts and huge balances.
		`CREATE MATERIALIZED VIEW ghosts AS SELECT acct, amount FROM ledger WHERE amount < 0`,
		`CREATE MATERIALIZED VIEW rich AS SELECT id FROM acct WHERE bal >= 1000000`,
	)
	const writers, perWriter = 3, 60
	var committed atomic.Int64
	var done atomic.Bool
	var wg sync.WaitGroup
	errc := make(chan error, writers+2)
	for w := range writers {
		wg.Go(func() {
			conn := connect(t, srv)
			for i := range perWriter {
				id := 1 + (w+i)%4
				var err error
				switch i % 4 {
				case 0, 1:
					err = transfer(ctx, conn, id, int64(1+i))
					if err == nil {
						committed.Add(1)
					}
				case 2:
					err = batchTransfer(ctx, conn, id, int64(1+i))
					if err == nil {
						committed.Add(1)
					}
				case 3:
					err = abandoned(ctx, conn, id, i%8 == 3)
				}
				if err != nil {
					errc <- fmt.Errorf("writer %d, transaction %d: %w", w, i, err)
					return
				}
			}
		})
	}
	var polls atomic.Int64
	var pollers sync.WaitGroup
	for range 2 {
		pollers.Go(func() {
			conn := connect(t, srv)
			for !done.Load() {
				var n int
				var diff *int64
				err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM skew) + (SELECT count(*) FROM ghosts) + (SELECT count(*) FROM rich), (SELECT diff FROM totals)`).Scan(&n, &diff)
				if err != nil {
					errc <- err
					return
				}
				if n != 0 || (diff != nil && *diff != 0) {
					var rows []string
					r, _ := conn.Query(ctx, `SELECT 'skew', id, bal, s FROM skew UNION ALL SELECT 'ghost', acct, amount, 0 FROM ghosts UNION ALL SELECT 'rich', id, 0, 0 FROM rich`)
					for r.Next() {
						v, _ := r.Values()
						rows = append(rows, fmt.Sprint(v))
					}
					r.Close()
					errc <- fmt.Errorf("a view shows part of a transaction or a rolled-back one: %d rows, diff %v: %s", n, diff, strings.Join(rows, "; "))
					return
				}
				polls.Add(1)
			}
		})
	}
	wg.Wait()
	done.Store(true)
	pollers.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	// admin wrote nothing: it sees the writers' last commits once an epoch
	// has taken them.
	var ledgerRows int64
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if err := admin.QueryRow(ctx, `SELECT count(*) FROM ledger`).Scan(&ledgerRows); err != nil {
			t.Fatal(err)
		}
		if ledgerRows == committed.Load() || time.Now().After(deadline) {
			break
		}
	}
	if ledgerRows != committed.Load() {
		t.Errorf("ledger has %d rows, %d transactions committed", ledgerRows, committed.Load())
	}
	var skew int
	if err := admin.QueryRow(ctx, `SELECT count(*) FROM skew`).Scan(&skew); err != nil || skew != 0 {
		t.Errorf("skew after the run: %d rows (%v)", skew, err)
	}
	t.Logf("%d transactions committed, %d polls of the views saw none half-done", committed.Load(), polls.Load())
}

// transfer moves amount into account id and records it in the ledger, in a
// block that reads its own writes.
func transfer(ctx context.Context, conn *pgx.Conn, id int, amount int64) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `UPDATE acct SET bal = bal + $2 WHERE id = $1`, id, amount); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO ledger VALUES ($1, $2)`, id, amount); err != nil {
		return err
	}
	// The block reads its own writes to both tables.
	var skew int64
	if err := tx.QueryRow(ctx, `SELECT a.bal - l.s FROM acct a CROSS JOIN (SELECT sum(amount) AS s FROM ledger WHERE acct = $1) l WHERE a.id = $1`, id).Scan(&skew); err != nil {
		return err
	}
	if skew != 0 {
		return fmt.Errorf("the block reads a balance %d off its ledger", skew)
	}
	return tx.Commit(ctx)
}

// batchTransfer does the same as one pgx batch: an implicit transaction that
// ends at the batch's Sync.
func batchTransfer(ctx context.Context, conn *pgx.Conn, id int, amount int64) error {
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO ledger VALUES ($1, $2)`, id, amount)
	b.Queue(`UPDATE acct SET bal = bal + $2 WHERE id = $1`, id, amount)
	return conn.SendBatch(ctx, b).Close()
}

// abandoned writes both tables and rolls back: by ROLLBACK, or (failing)
// by a batch whose last statement fails.
func abandoned(ctx context.Context, conn *pgx.Conn, id int, failing bool) error {
	if failing {
		b := &pgx.Batch{}
		b.Queue(`INSERT INTO ledger VALUES ($1, -1)`, id)
		b.Queue(`UPDATE acct SET bal = bal + 1000000 WHERE id = $1`, id)
		b.Queue(`INSERT INTO acct VALUES ($1, 0)`, id) // duplicate key
		err := conn.SendBatch(ctx, b).Close()
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "23505" {
			return fmt.Errorf("want a duplicate key error, got %v", err)
		}
		return nil
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO ledger VALUES ($1, -1)`, id); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE acct SET bal = bal + 1000000 WHERE id = $1`, id); err != nil {
		return err
	}
	return tx.Rollback(ctx)
}

// TestTransactionIsolation checks what other sessions see of an open block
// and what a second writer of the same table does: nothing before COMMIT;
// a writer of a table with a primary key waits for the block's end, and its
// wait ends on lock_timeout with 55P03, or on a deadlock with 40P01.
func TestTransactionIsolation(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, server.Config{})
	a, b := connect(t, srv), connect(t, srv)
	mustExec(t, a, `CREATE TABLE k (id int PRIMARY KEY, v text)`, `CREATE TABLE l (id int PRIMARY KEY)`,
		`CREATE TABLE n (x int)`)
	mustExec(t, a, `BEGIN`, `INSERT INTO k VALUES (1, 'a')`, `INSERT INTO n VALUES (1)`)
	var cnt int
	if err := b.QueryRow(ctx, `SELECT (SELECT count(*) FROM k) + (SELECT count(*) FROM n)`).Scan(&cnt); err != nil || cnt != 0 {
		t.Fatalf("another session sees %d rows of an open block (%v)", cnt, err)
	}
	// A table without a primary key takes inserts from others meanwhile.
	mustExec(t, b, `INSERT INTO n VALUES (2)`)
	// A writer of k waits; lock_timeout ends the wait.
	mustExec(t, b, `SET lock_timeout = '100ms'`)
	_, err := b.Exec(ctx, `INSERT INTO k VALUES (2, 'b')`)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "55P03" {
		t.Fatalf("a second writer under lock_timeout: want 55P03, got %v", err)
	}
	// Without a timeout it waits until the block commits, then finds the
	// block's row.
	mustExec(t, b, `SET lock_timeout = 0`)
	res := make(chan error, 1)
	go func() {
		_, err := b.Exec(ctx, `INSERT INTO k VALUES (1, 'again')`)
		res <- err
	}()
	select {
	case err := <-res:
		t.Fatalf("the second writer did not wait: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	mustExec(t, a, `COMMIT`)
	if err := <-res; !errors.As(err, &pe) || pe.Code != "23505" {
		t.Fatalf("after the commit the second writer must find the key: %v", err)
	}
	// Two blocks that lock k and l in opposite orders: one gets 40P01.
	mustExec(t, a, `BEGIN`, `INSERT INTO k VALUES (10, 'x')`)
	mustExec(t, b, `BEGIN`, `INSERT INTO l VALUES (10)`)
	go func() {
		_, err := a.Exec(ctx, `INSERT INTO l VALUES (11)`)
		res <- err
	}()
	time.Sleep(100 * time.Millisecond)
	_, err = b.Exec(ctx, `INSERT INTO k VALUES (11, 'y')`)
	if !errors.As(err, &pe) || pe.Code != "40P01" {
		t.Fatalf("want a deadlock error, got %v", err)
	}
	mustExec(t, b, `ROLLBACK`)
	if err := <-res; err != nil {
		t.Fatalf("the other block goes on after the deadlock: %v", err)
	}
	mustExec(t, a, `COMMIT`)
	// (Read by the session that committed: another one sees the commit
	// at the next epoch.)
	if err := a.QueryRow(ctx, `SELECT (SELECT count(*) FROM k) * 10 + (SELECT count(*) FROM l)`).Scan(&cnt); err != nil || cnt != 21 {
		t.Fatalf("after the deadlock: %d (%v), want k 2 rows, l 1", cnt, err)
	}
	// A session that ends with an open block releases its locks.
	c := connect(t, srv)
	mustExec(t, c, `BEGIN`, `INSERT INTO k VALUES (20, 'z')`)
	c.Close(ctx)
	mustExec(t, b, `SET lock_timeout = '5s'`, `INSERT INTO k VALUES (20, 'w')`)
}

// TestCopyInTransaction: COPY FROM inside a block is buffered like INSERT,
// read by the block and discarded by ROLLBACK.
func TestCopyInTransaction(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, server.Config{})
	conn := connect(t, srv)
	mustExec(t, conn, `CREATE TABLE c (id int PRIMARY KEY, v text)`, `BEGIN`)
	if _, err := conn.PgConn().CopyFrom(ctx, strings.NewReader("1\ta\n2\tb\n"), "COPY c FROM STDIN"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM c`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("the block sees %d rows (%v)", n, err)
	}
	_, err := conn.PgConn().CopyFrom(ctx, strings.NewReader("2\tb\n"), "COPY c FROM STDIN")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "23505" {
		t.Fatalf("want 23505 for a key the block copied, got %v", err)
	}
	mustExec(t, conn, `ROLLBACK`)
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM c`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("after ROLLBACK: %d rows (%v)", n, err)
	}
}

// TestTransactionLogTrimmed: the redo records of finished multi-table
// commits are deleted by the retention pass, so the transaction log does
// not grow while kappa runs, and a restart after the trim still has every
// committed transaction.
func TestTransactionLogTrimmed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := server.Config{DataDir: dir, Listen: "127.0.0.1:0", RetentionInterval: time.Hour}
	srv, err := server.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	conn := connect(t, srv)
	mustExec(t, conn, "CREATE TABLE a (k int PRIMARY KEY, v int)", "CREATE TABLE b (k int, v int)")
	txnLogBytes := func() (n int64) {
		t.Helper()
		ents, err := os.ReadDir(filepath.Join(dir, "txnlog"))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".log") {
				info, err := e.Info()
				if err != nil {
					t.Fatal(err)
				}
				n += info.Size()
			}
		}
		return n
	}
	for i := range 200 {
		mustExec(t, conn, "BEGIN", fmt.Sprintf("INSERT INTO a VALUES (%d, %d)", i, i),
			fmt.Sprintf("INSERT INTO b VALUES (%d, %d)", i, -i), "COMMIT")
	}
	before := txnLogBytes()
	if before == 0 {
		t.Fatal("200 two-table commits left no redo records")
	}
	if err := srv.Engine().EnforceRetention(); err != nil {
		t.Fatal(err)
	}
	// The first pass seals the segment, which it may then delete at once
	// (no commit in progress); a second pass deletes it in any case.
	if err := srv.Engine().EnforceRetention(); err != nil {
		t.Fatal(err)
	}
	if after := txnLogBytes(); after != 0 {
		t.Fatalf("the transaction log holds %d bytes after the retention pass (%d before)", after, before)
	}
	mustExec(t, conn, "BEGIN", "INSERT INTO a VALUES (1000, 1)", "INSERT INTO b VALUES (1000, 1)", "COMMIT")
	conn.Close(ctx)
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	srv = startServer(t, cfg)
	conn = connect(t, srv)
	for q, want := range map[string][2]int64{
		"SELECT count(*), sum(v) FROM a": {201, 199*200/2 + 1},
		"SELECT count(*), sum(v) FROM b": {201, -199*200/2 + 1},
	} {
		var n, s int64
		if err := conn.QueryRow(ctx, q).Scan(&n, &s); err != nil {
			t.Fatal(err)
		}
		if n != want[0] || s != want[1] {
			t.Fatalf("%s after the restart: %d, %d; want %v", q, n, s, want)
		}
	}
}
