package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kappa-db/kappa/internal/pgtest"
	"github.com/kappa-db/kappa/server"
)

// TestQueries proves kappa's Nexmark answers: it generates a stream of
// events (KAPPA_NEXMARK_EVENTS, default 20,000; 200 per second of event
// time, so that windows are many and q11's bidders have several sessions)
// paced over about two seconds of wall-clock time, keeps every query as a materialized view while the events
// arrive (so each view is maintained over many epochs), then copies the
// same events out of kappa with COPY (SELECT ...) TO STDOUT into a real
// PostgreSQL, runs each query there in plain SQL (windows by date_bin), and
// compares the two results row for row. Each query also runs ad hoc.
// KAPPA_NEXMARK_QUERIES=q0,q5 runs only those.
func TestQueries(t *testing.T) {
	events := 20000
	if s := os.Getenv("KAPPA_NEXMARK_EVENTS"); s != "" {
		var err error
		if events, err = strconv.Atoi(s); err != nil {
			t.Fatal(err)
		}
	}
	qs, err := queries()
	if err != nil {
		t.Fatal(err)
	}
	if only := os.Getenv("KAPPA_NEXMARK_QUERIES"); only != "" {
		var keep []query
		for _, q := range qs {
			if strings.Contains(","+only+",", ","+q.name+",") {
				keep = append(keep, q)
			}
		}
		qs = keep
	}
	pg := pgtest.Start(t)
	ctx := context.Background()
	srv, err := server.Start(ctx, server.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	}()
	k, err := pgx.Connect(ctx, "postgres://kappa@"+srv.Addr()+"/kappa?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close(ctx)
	mustExec := func(c *pgx.Conn, sql string) {
		t.Helper()
		if _, err := c.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	gap := 2 * time.Second / time.Duration(events)
	opts := fmt.Sprintf(", nexmark.event.num = %d, nexmark.min.event.gap.in.ns = %d, nexmark.event.rate = 200", events, gap.Nanoseconds())
	for _, s := range []string{"person", "auction", "bid"} {
		mustExec(k, sourceDDL(s, opts))
	}
	start := time.Now()
	for _, q := range qs {
		for _, st := range q.setup {
			mustExec(k, st)
		}
		t0 := time.Now()
		mustExec(k, "CREATE MATERIALIZED VIEW nexmark_"+q.name+" AS "+q.kappa)
		if d := time.Since(t0); d > time.Second {
			t.Logf("CREATE MATERIALIZED VIEW for %s took %v", q.name, d)
		}
	}
	t.Logf("%d views created in %v", len(qs), time.Since(start))
	// Every event exists once the stream's time has passed; then every
	// view must catch up with all of it.
	time.Sleep(time.Until(start.Add(2*time.Second + 100*time.Millisecond)))
	eng := srv.Engine()
	// The Nexmark sources, whose offsets count events (a setup table's
	// log, q13's, is read whole before CREATE returns).
	feeds := map[uint64]bool{}
	for _, s := range []string{"person", "auction", "bid"} {
		if o, ok := eng.Catalog().Lookup(s); ok {
			feeds[o.ID] = true
		}
	}
	for _, q := range qs {
		o, ok := eng.Catalog().Lookup("nexmark_" + q.name)
		if !ok {
			t.Fatalf("view for %s missing", q.name)
		}
		deadline := time.Now().Add(2 * time.Minute)
		for _, src := range o.Sources {
			for feeds[src] {
				off, _ := eng.Runtime().Committed(o.ID, src)
				if off >= uint64(events) {
					break
				}
				if err := eng.Runtime().Err(o.ID); err != nil {
					t.Fatalf("%s: %v", q.name, err)
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: view at offset %d of %d", q.name, off, events)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}

	if err := pg.CreateDB("nexmark"); err != nil {
		t.Fatal(err)
	}
	p, err := pgx.Connect(ctx, pg.DSN("nexmark"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	for _, ddl := range postgresDDL {
		mustExec(p, ddl)
	}
	for _, s := range []string{"person", "auction", "bid"} {
		var buf bytes.Buffer
		if _, err := k.PgConn().CopyTo(ctx, &buf, "COPY (SELECT * FROM "+s+") TO STDOUT"); err != nil {
			t.Fatal(err)
		}
		tag, err := p.PgConn().CopyFrom(ctx, &buf, "COPY "+s+" FROM STDIN")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d rows copied to PostgreSQL", s, tag.RowsAffected())
	}
	for _, q := range qs {
		for _, st := range q.pgSetup {
			mustExec(p, st)
		}
	}
	mustExec(p, "ANALYZE")

	for _, q := range qs {
		t.Run(q.name, func(t *testing.T) {
			want, err := textRows(ctx, p, q.postgres)
			if err != nil {
				t.Fatalf("PostgreSQL: %v", err)
			}
			viewSQL, adhocSQL := "SELECT * FROM nexmark_"+q.name, q.kappa
			if q.check != "" {
				viewSQL = "WITH q AS (SELECT * FROM nexmark_" + q.name + ") " + q.check
				adhocSQL = "WITH q AS (" + q.kappa + ") " + q.check
			}
			view, err := textRows(ctx, k, viewSQL)
			if err != nil {
				t.Fatalf("view: %v", err)
			}
			compare(t, "view", view, want)
			adhoc, err := textRows(ctx, k, adhocSQL)
			if err != nil {
				t.Fatalf("ad hoc: %v", err)
			}
			compare(t, "ad hoc", adhoc, want)
			t.Logf("%d rows", len(want))
		})
	}
}

// textRows runs sql and returns its rows as sorted lines of text values.
func textRows(ctx context.Context, c *pgx.Conn, sql string) ([]string, error) {
	rows, err := c.Query(ctx, sql, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var b strings.Builder
		for i, v := range rows.RawValues() {
			if i > 0 {
				b.WriteByte('|')
			}
			if v == nil {
				b.WriteString("NULL")
			} else {
				b.Write(v)
			}
		}
		out = append(out, b.String())
	}
	sort.Strings(out)
	return out, rows.Err()
}

func compare(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(want) == 0 {
		t.Errorf("%s: PostgreSQL's result is empty: the query tests nothing at this scale", what)
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d rows, PostgreSQL %d", what, len(got), len(want))
	}
	shown := 0
	for i, j := 0, 0; (i < len(got) || j < len(want)) && shown < 5; {
		switch {
		case j >= len(want) || (i < len(got) && got[i] < want[j]):
			t.Errorf("%s: extra row %s", what, got[i])
			i++
			shown++
		case i >= len(got) || want[j] < got[i]:
			t.Errorf("%s: missing row %s", what, want[j])
			j++
			shown++
		default:
			i++
			j++
		}
	}
}
