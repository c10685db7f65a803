package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestLookupJoinSurvivesRestart restarts kappa while a view joins paced
// Nexmark bids with their auctions, the auctions as a lookup table (bids
// that came before their auction wait in the join's state): the restart
// plans the view as it was (nothing recomputed), and once the stream has
// ended the view equals its query.
func TestLookupJoinSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const events = 30000
	const q = `SELECT a.id, a.category, count(*) AS n, max(b.price) AS top FROM bid b JOIN auction a ON a.id = b.auction
		WHERE b.date_time >= a.date_time GROUP BY a.id, a.category`
	srv, conn := startOn(t, dir)
	// 30,000 events over 1.5 s of wall-clock time.
	for _, kind := range []string{"auction", "bid"} {
		if _, err := conn.Exec(ctx, `CREATE SOURCE `+kind+` WITH (connector = 'nexmark', nexmark.table.type = '`+kind+
			`', nexmark.event.num = 30000, nexmark.min.event.gap.in.ns = 50000)`); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	if _, err := conn.Exec(ctx, "CREATE MATERIALIZED VIEW lj AS "+q); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, "EXPLAIN CREATE MATERIALIZED VIEW lj2 AS "+q)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(lines, "\n"), "lookup=right") {
		t.Fatalf("the join has no lookup side:\n%s", strings.Join(lines, "\n"))
	}
	time.Sleep(500 * time.Millisecond)
	var mid int64
	if err := conn.QueryRow(ctx, "SELECT coalesce(sum(n), 0) FROM lj").Scan(&mid); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	srv, conn = startOn(t, dir)
	defer srv.Close()
	defer conn.Close(ctx)
	if n := srv.Engine().Replanned(); n != 0 {
		t.Fatalf("the restart recomputed %d views", n)
	}
	time.Sleep(time.Until(start.Add(1600 * time.Millisecond)))
	eng := srv.Engine()
	o, ok := eng.Catalog().Lookup("lj")
	if !ok {
		t.Fatal("view lj missing")
	}
	deadline := time.Now().Add(time.Minute)
	for _, src := range o.Sources {
		for {
			off, _ := eng.Runtime().Committed(o.ID, src)
			if off >= events {
				break
			}
			if err := eng.Runtime().Err(o.ID); err != nil {
				t.Fatal(err)
			}
			if time.Now().After(deadline) {
				t.Fatalf("view at offset %d of %d", off, events)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	var n, total, diff int64
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM lj), (SELECT sum(n) FROM lj),
		(SELECT count(*) FROM (SELECT * FROM lj EXCEPT ALL `+q+`) x) + (SELECT count(*) FROM (`+q+` EXCEPT ALL SELECT * FROM lj) y)`).Scan(&n, &total, &diff); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d bids joined before the restart, %d at the end", mid, total)
	if diff != 0 || n == 0 || mid >= total {
		t.Fatalf("lj has %d rows (%d bids) and differs from its query in %d; %d bids before the restart", n, total, diff, mid)
	}
}
