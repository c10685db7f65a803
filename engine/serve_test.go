package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/kappa-db/kappa/pgwire"
)

// waitServed reads each view once (which asks for its in-memory serving
// index, storage/serve.go) and waits until the runtime has built n indexes.
func waitServed(t *testing.T, e *Engine, s pgwire.Session, n int, views ...string) {
	t.Helper()
	for _, v := range views {
		mustQ(t, s, "SELECT * FROM "+v)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		if got, _ := e.db.ServeStats(); got >= n {
			return
		}
		if time.Now().After(deadline) {
			got, _ := e.db.ServeStats()
			t.Fatalf("%d serving indexes after 10 s, want %d", got, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestServedViewsEqualTheirQueries reads materialized views served from
// memory (a unique key, a non-unique key, a GROUP BY) by point lookups,
// prefix lookups and full scans after random inserts, updates and deletes,
// and compares every read with the view's query run ad hoc; inside a
// transaction block that wrote the table the views show committed rows
// only; then CREATE OR REPLACE, DROP and a restart.
func TestServedViewsEqualTheirQueries(t *testing.T) {
	dir := t.TempDir()
	e, err := Open(Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.NewSession(context.Background(), pgwire.SessionParams{User: "kappa", Database: "kappa"})
	if err != nil {
		t.Fatal(err)
	}
	mustQ(t, s, "CREATE TABLE t (id bigint PRIMARY KEY, g int, v text)")
	mustQ(t, s, "INSERT INTO t SELECT i, i % 7, 'v' || i FROM generate_series(1, 200) AS i")
	views := map[string]string{
		"by_id": "SELECT id, g, v FROM t",
		"by_g":  "SELECT g, id, v FROM t WHERE id % 3 <> 0",
		"per_g": "SELECT g, count(*) AS n, max(v) AS mv FROM t GROUP BY g",
	}
	for name, q := range views {
		mustQ(t, s, "CREATE MATERIALIZED VIEW "+name+" AS "+q)
	}
	waitServed(t, e, s, 3, "by_id", "by_g", "per_g")

	rng := rand.New(rand.NewPCG(1, 2))
	byIDv := "v" // by_id's v column, as its query computes it
	same := func(what, view, adhoc string) {
		t.Helper()
		_, got := mustQ(t, s, view)
		_, want := mustQ(t, s, adhoc)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: %s gives\n%v\nits query %s gives\n%v", what, view, got, adhoc, want)
		}
	}
	check := func(what string) {
		t.Helper()
		for range 5 {
			id, g := rng.IntN(260), rng.IntN(8)
			same(what, fmt.Sprintf("SELECT * FROM by_id WHERE id = %d", id), fmt.Sprintf("SELECT id, g, %s FROM t WHERE id = %d", byIDv, id))
			same(what, fmt.Sprintf("SELECT * FROM by_g WHERE g = %d ORDER BY id", g), fmt.Sprintf("SELECT g, id, v FROM t WHERE id %% 3 <> 0 AND g = %d ORDER BY id", g))
			same(what, fmt.Sprintf("SELECT * FROM per_g WHERE g = %d", g), fmt.Sprintf("SELECT g, count(*), max(v) FROM t WHERE g = %d GROUP BY g", g))
		}
		same(what, "SELECT * FROM by_id ORDER BY id", "SELECT id, g, "+byIDv+" FROM t ORDER BY id")
		same(what, "SELECT * FROM per_g ORDER BY g", "SELECT g, count(*), max(v) FROM t GROUP BY g ORDER BY g")
	}
	check("start")
	for i := range 40 {
		id := rng.IntN(260)
		switch rng.IntN(4) {
		case 0:
			mustQ(t, s, fmt.Sprintf("BEGIN; DELETE FROM t WHERE id = %d; INSERT INTO t VALUES (%d, %d, 'n%d'); COMMIT", id, id, rng.IntN(8), i))
		case 1:
			mustQ(t, s, fmt.Sprintf("UPDATE t SET g = %d, v = v || 'u' WHERE id BETWEEN %d AND %d", rng.IntN(8), id, id+rng.IntN(20)))
		case 2:
			mustQ(t, s, fmt.Sprintf("DELETE FROM t WHERE id BETWEEN %d AND %d", id, id+rng.IntN(10)))
		case 3:
			mustQ(t, s, fmt.Sprintf("BEGIN; DELETE FROM t WHERE id = %d; INSERT INTO t VALUES (%d, 1, 'tx'); COMMIT", id, 1000+i))
		}
		check(fmt.Sprintf("change %d", i))
	}
	if n, _ := e.db.ServeStats(); n != 3 {
		t.Fatalf("%d views served after the changes, want 3", n)
	}

	// In a block that wrote the table, views show the committed rows.
	_, before := mustQ(t, s, "SELECT * FROM by_id WHERE id = 5")
	mustQ(t, s, "BEGIN")
	mustQ(t, s, "DELETE FROM t WHERE id = 5")
	mustQ(t, s, "INSERT INTO t VALUES (5, 3, 'in block')")
	if _, in := mustQ(t, s, "SELECT * FROM by_id WHERE id = 5"); fmt.Sprint(in) != fmt.Sprint(before) {
		t.Fatalf("in the block by_id shows %v, committed %v", in, before)
	}
	mustQ(t, s, "COMMIT")
	check("after the block")

	// CREATE OR REPLACE: the new view, then served again.
	mustQ(t, s, "CREATE OR REPLACE MATERIALIZED VIEW by_id AS SELECT id, g, v || '!' AS v FROM t")
	byIDv = "v || '!'"
	same("replaced", "SELECT * FROM by_id WHERE id = 7", "SELECT id, g, v || '!' FROM t WHERE id = 7")
	same("replaced", "SELECT * FROM by_id ORDER BY id", "SELECT id, g, v || '!' FROM t ORDER BY id")
	waitServed(t, e, s, 3, "by_id")
	mustQ(t, s, "UPDATE t SET v = 'again' WHERE id < 50")
	same("replaced, changed", "SELECT * FROM by_id WHERE id = 7", "SELECT id, g, v || '!' FROM t WHERE id = 7")

	// DROP, and a new view of the same name.
	mustQ(t, s, "DROP MATERIALIZED VIEW by_g")
	if n, _ := e.db.ServeStats(); n != 2 {
		t.Fatalf("%d views served after DROP, want 2", n)
	}
	mustQ(t, s, "CREATE MATERIALIZED VIEW by_g AS SELECT g, id, v FROM t WHERE id % 3 <> 0")
	waitServed(t, e, s, 3, "by_g")
	mustQ(t, s, "DELETE FROM t WHERE g = 2")
	check("after DROP and CREATE")

	// A restart: the indexes are memory only, built again when read.
	s.Close()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e, err = Open(Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	s, err = e.NewSession(context.Background(), pgwire.SessionParams{User: "kappa", Database: "kappa"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check("restarted")
	waitServed(t, e, s, 3, "by_id", "by_g", "per_g")
	mustQ(t, s, "INSERT INTO t VALUES (9999, 4, 'late')")
	check("restarted and served")
}
