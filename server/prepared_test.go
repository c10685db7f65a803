package server_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/kappa-db/kappa/server"
)

// TestPreparedRepeated runs prepared statements many times with changing
// parameters and result formats, over the extended protocol (pgx's
// statement cache: Bind/Describe/Execute reuse the unnamed portal, the
// cached RowDescription and the statement's buffers), and checks each
// answer against the same query sent as a simple query with literals.
func TestPreparedRepeated(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, server.Config{})
	conn := connect(t, srv)
	for _, s := range []string{
		"CREATE TABLE p (id bigint, k int, s text)",
		"INSERT INTO p SELECT 1, 10, 'a' UNION ALL SELECT 2, 20, NULL UNION ALL SELECT 2, 20, NULL UNION ALL SELECT 3, 30, 'c'",
		"CREATE TABLE q (id int PRIMARY KEY, v text)",
		"INSERT INTO q VALUES (1, 'one'), (2, 'two'), (3, NULL)",
		"CREATE MATERIALIZED VIEW pv AS SELECT id, k, s FROM p",
		"CREATE MATERIALIZED VIEW pg AS SELECT k, count(*) AS n FROM p GROUP BY k",
	} {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	type query struct{ prepared, literal string }
	queries := []query{
		{"SELECT id, k, s FROM pv WHERE id = $1", "SELECT id, k, s FROM pv WHERE id = %d"},
		{"SELECT k * 2, s || '!' FROM pv WHERE id = $1 AND k > 5", "SELECT k * 2, s || '!' FROM pv WHERE id = %d AND k > 5"},
		{"SELECT id FROM pv WHERE id = $1 LIMIT 1", "SELECT id FROM pv WHERE id = %d LIMIT 1"},
		{"SELECT id, s FROM pv WHERE id >= $1 OFFSET 1", "SELECT id, s FROM pv WHERE id >= %d OFFSET 1"},
		{"SELECT n FROM pg WHERE k = $1 * 10", "SELECT n FROM pg WHERE k = %d * 10"},
		{"SELECT v FROM q WHERE id = $1", "SELECT v FROM q WHERE id = %d"},
		{"SELECT count(*) FROM pv WHERE id <= $1", "SELECT count(*) FROM pv WHERE id <= %d"},
	}
	rowsOf := func(rows pgx.Rows) ([]string, error) {
		defer rows.Close()
		var out []string
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				return nil, err
			}
			out = append(out, fmt.Sprint(vals...))
		}
		return out, rows.Err()
	}
	for round := range 3 {
		for _, q := range queries {
			for key := range 5 {
				rows, err := conn.Query(ctx, q.prepared, key)
				if err != nil {
					t.Fatalf("%s [%d]: %v", q.prepared, key, err)
				}
				got, err := rowsOf(rows)
				if err != nil {
					t.Fatalf("%s [%d]: %v", q.prepared, key, err)
				}
				lit := fmt.Sprintf(q.literal, key)
				rows, err = conn.Query(ctx, lit, pgx.QueryExecModeSimpleProtocol)
				if err != nil {
					t.Fatalf("%s: %v", lit, err)
				}
				want, err := rowsOf(rows)
				if err != nil {
					t.Fatalf("%s: %v", lit, err)
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("round %d: %s with $1 = %d gave %v; the literal query gave %v", round, q.prepared, key, got, want)
				}
			}
		}
		// A change between rounds: the prepared statements see it.
		if _, err := conn.Exec(ctx, fmt.Sprintf("INSERT INTO p VALUES (%d, %d, 'n')", round+1, (round+1)*10)); err != nil {
			t.Fatal(err)
		}
	}
}
