package server_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/kappa-db/kappa/server"
)

// TestBackfillProgress creates a materialized view over a table that already
// holds rows and checks that the creating session gets NOTICEs with the
// backfill's progress while it waits, and that another session sees it in
// kappa_catalog.kappa_backfill_progress.
func TestBackfillProgress(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, server.Config{ProgressInterval: 5 * time.Millisecond})
	cfg, err := pgx.ParseConfig(dsn(srv.Addr(), "kappa", "", ""))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var notices []string
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		mu.Lock()
		notices = append(notices, n.Message)
		mu.Unlock()
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE t (id bigint, g int, v bigint)`); err != nil {
		t.Fatal(err)
	}
	// Many statements: an epoch takes whole statements, up to
	// MaxRecordsPerEpoch records, so progress moves epoch by epoch.
	const rows, perCopy = 400_000, 10_000
	for start := 0; start < rows; start += perCopy {
		var sb strings.Builder
		for i := start; i < start+perCopy; i++ {
			fmt.Fprintf(&sb, "%d\t%d\t%d\n", i, i%97, i%1000)
		}
		if _, err := conn.PgConn().CopyFrom(ctx, strings.NewReader(sb.String()), "COPY t FROM STDIN"); err != nil {
			t.Fatal(err)
		}
	}
	// Another session watches kappa_catalog.kappa_backfill_progress.
	watcher := connect(t, srv)
	seen := make(chan string, 1)
	go func() {
		defer close(seen)
		for range 2000 {
			var view string
			var done, total int64
			var pct float64
			err := watcher.QueryRow(ctx, `SELECT view_name, records_done, records_total, percent_done
				FROM kappa_catalog.kappa_backfill_progress`).Scan(&view, &done, &total, &pct)
			if err == nil {
				seen <- fmt.Sprintf("%s %d %.0f", view, total, pct)
				return
			}
			if err != pgx.ErrNoRows {
				seen <- err.Error()
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	if _, err := conn.Exec(ctx, `CREATE MATERIALIZED VIEW v AS SELECT g, count(*) AS n, sum(v) AS s FROM t GROUP BY g`); err != nil {
		t.Fatal(err)
	}
	if got := <-seen; !strings.HasPrefix(got, "v 400000 ") {
		t.Errorf("kappa_backfill_progress while the view was created: %q, want view v of 400000 records", got)
	}
	var left int64
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM kappa_catalog.kappa_backfill_progress`).Scan(&left); err != nil || left != 0 {
		t.Errorf("kappa_backfill_progress lists %d backfills (%v) after the view was created", left, err)
	}
	var n int64
	if err := conn.QueryRow(ctx, `SELECT sum(n)::bigint FROM v`).Scan(&n); err != nil || n != rows {
		t.Fatalf("view holds %d rows (%v), want %d", n, err, rows)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(notices) == 0 {
		t.Fatal("no progress NOTICE during a backfill of 400,000 rows")
	}
	partial := false
	for _, m := range notices {
		if !strings.HasPrefix(m, `materialized view "v": backfilled `) || !strings.Contains(m, " of 400000 records (") {
			t.Errorf("progress notice %q", m)
		}
		if !strings.HasPrefix(m, `materialized view "v": backfilled 0 `) && strings.Contains(m, "left") {
			partial = true
		}
	}
	if !partial {
		t.Errorf("no notice reported partial progress with an estimate of the time left: %q", notices)
	}
	t.Logf("%d notices, the last: %s", len(notices), notices[len(notices)-1])
}
