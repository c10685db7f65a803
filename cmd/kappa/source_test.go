package main

import (
	"context"
	"testing"
	"time"
)

// TestCrashSource kills kappa (SIGKILL) while views read a paced Nexmark
// source and checks, after each restart, that the views end up equal to
// the same queries run ad hoc over all the source's events: a source's
// offsets commit with each view's epoch, so no event is lost or counted
// twice across crashes.
func TestCrashSource(t *testing.T) {
	ctx := context.Background()
	bin := kappaBinary(t)
	dir := t.TempDir()
	p := startKappa(t, bin, dir)
	c := p.mustConnect(ctx)
	for _, s := range []string{
		// 30,000 events, one every 50 µs of wall-clock time: 1.5 s.
		`CREATE SOURCE bid WITH (connector = 'nexmark', nexmark.table.type = 'bid', nexmark.event.num = 30000, nexmark.min.event.gap.in.ns = 50000)`,
		`CREATE SOURCE auction WITH (connector = 'nexmark', nexmark.table.type = 'auction', nexmark.event.num = 30000, nexmark.min.event.gap.in.ns = 50000)`,
		`CREATE MATERIALIZED VIEW totals AS SELECT count(*) AS n, sum(price) AS s, count(DISTINCT bidder) AS bidders FROM bid`,
		// Append-only: rows keyed by a row id that must survive crashes.
		`CREATE MATERIALIZED VIEW big AS SELECT b.auction, b.price, a.seller FROM bid b JOIN auction a ON a.id = b.auction WHERE b.price > 1000000`,
		`CREATE MATERIALIZED VIEW per_category AS SELECT a.category, count(*) AS n, max(b.price) AS top FROM bid b JOIN auction a ON a.id = b.auction GROUP BY a.category`,
	} {
		if _, err := c.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	c.Close(ctx)
	for cycle := 0; cycle < 3; cycle++ {
		time.Sleep(300 * time.Millisecond)
		p.kill()
		p = startKappa(t, bin, dir)
	}
	c = p.mustConnect(ctx)
	defer c.Close(ctx)
	// Wait for the stream to end and the views to catch up.
	const (
		view  = `SELECT n, s, bidders FROM totals`
		adhoc = `SELECT count(*), sum(price), count(DISTINCT bidder) FROM bid`
	)
	var n, s, bidders, wn, ws, wb int64
	deadline := time.Now().Add(60 * time.Second)
	for {
		if err := c.QueryRow(ctx, adhoc).Scan(&wn, &ws, &wb); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRow(ctx, view).Scan(&n, &s, &bidders); err != nil {
			t.Fatal(err)
		}
		if wn == 27600 && n == wn {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("view has %d bids, the source %d (want 27600)", n, wn)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n != wn || s != ws || bidders != wb {
		t.Fatalf("view totals (%d, %d, %d), ad hoc (%d, %d, %d)", n, s, bidders, wn, ws, wb)
	}
	var diff int64
	for _, check := range []string{
		`SELECT count(*) FROM ((SELECT * FROM big EXCEPT ALL SELECT b.auction, b.price, a.seller FROM bid b JOIN auction a ON a.id = b.auction WHERE b.price > 1000000)
		 UNION ALL (SELECT b.auction, b.price, a.seller FROM bid b JOIN auction a ON a.id = b.auction WHERE b.price > 1000000 EXCEPT ALL SELECT * FROM big)) d`,
		`SELECT count(*) - (SELECT count(*) FROM bid b JOIN auction a ON a.id = b.auction WHERE b.price > 1000000) FROM big`,
	} {
		if err := c.QueryRow(ctx, check).Scan(&diff); err != nil || diff != 0 {
			t.Fatalf("big differs from its query (%d, %v): %s", diff, err, check)
		}
	}
	err := c.QueryRow(ctx, `SELECT count(*) FROM (
		(SELECT * FROM per_category EXCEPT ALL SELECT a.category, count(*), max(b.price) FROM bid b JOIN auction a ON a.id = b.auction GROUP BY a.category)
		UNION ALL
		(SELECT a.category, count(*), max(b.price) FROM bid b JOIN auction a ON a.id = b.auction GROUP BY a.category EXCEPT ALL SELECT * FROM per_category)) d`).Scan(&diff)
	if err != nil || diff != 0 {
		t.Fatalf("per_category differs from its query in %d rows (%v)", diff, err)
	}
}
