package engine_test

import (
	"context"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kappa-db/kappa/catalog"
	"github.com/kappa-db/kappa/engine"
	"github.com/kappa-db/kappa/pgwire"
	"github.com/kappa-db/kappa/storage"
)

// rowSet collects a result's rows as text.
type rowSet struct{ rows []string }

func (w *rowSet) Columns([]pgwire.Column) error { return nil }
func (w *rowSet) Row(v [][]byte) error {
	parts := make([]string, len(v))
	for i, b := range v {
		if b == nil {
			parts[i] = "NULL"
		} else {
			parts[i] = string(b)
		}
	}
	w.rows = append(w.rows, strings.Join(parts, "|"))
	return nil
}
func (w *rowSet) Notice(string, string, string)            {}
func (w *rowSet) SetParameter(string, string)              {}
func (w *rowSet) CopyIn(int8, []int16) (io.Reader, error)  { return nil, io.EOF }
func (w *rowSet) CopyOut(int8, []int16) (io.Writer, error) { return io.Discard, nil }

func (w *rowSet) run(t *testing.T, s pgwire.Session, query string) []string {
	t.Helper()
	w.rows = nil
	stmts, err := s.Parse(context.Background(), query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	for _, st := range stmts {
		if _, err := st.Execute(context.Background(), nil, nil, nil, w); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	if err := s.EndImplicit(context.Background(), true); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	slices.Sort(w.rows)
	return w.rows
}

// TestPlanFingerprint: a materialized view's state is tied to the plan it
// was built for. Restarts of the same binary plan every view the same (no
// view is recomputed), and a view whose stored fingerprint differs from
// its plan at start (a data directory of another kappa version, whose
// operators numbered or encoded their state differently) is recomputed
// from its sources instead of read in the wrong layout; either way every
// view equals its query.
func TestPlanFingerprint(t *testing.T) {
	dir := t.TempDir()
	open := func() (*engine.Engine, pgwire.Session) { return openSession(t, dir) }
	views := map[string]string{
		"agg":     "SELECT g, count(*), sum(v), min(v), max(v), avg(v), string_agg(s, ',' ORDER BY s) FROM t GROUP BY g",
		"joined":  "SELECT t.g, u.name, count(*) FROM t JOIN u ON t.g = u.g GROUP BY t.g, u.name",
		"lefty":   "SELECT u.g, t.v FROM u LEFT JOIN t ON t.g = u.g AND t.v > 90",
		"topn":    "SELECT id, v FROM t ORDER BY v DESC, id LIMIT 5",
		"ranked":  "SELECT g, id, row_number() OVER (PARTITION BY g ORDER BY v, id) FROM t",
		"hop":     "SELECT window_start, count(*) FROM HOP(e, ts, INTERVAL '1 minute', INTERVAL '5 minutes') GROUP BY window_start",
		"sess":    "SELECT k, window_start, window_end, count(*) FROM SESSION(e PARTITION BY k, ts, INTERVAL '2 minutes') GROUP BY 1, 2, 3",
		"dist":    "SELECT DISTINCT g FROM t UNION SELECT g FROM u",
		"sub":     "SELECT id, (SELECT max(v) FROM t t2 WHERE t2.g = t.g AND t2.id < t.id) FROM t",
		"exists_": "SELECT name FROM u WHERE NOT EXISTS (SELECT 1 FROM t WHERE t.g = u.g AND t.v < 3)",
	}
	names := make([]string, 0, len(views))
	for n := range views {
		names = append(names, n)
	}
	slices.Sort(names)

	e, s := open()
	w := &rowSet{}
	w.run(t, s, "CREATE TABLE t (id int PRIMARY KEY, g int, v int, s text)")
	w.run(t, s, "CREATE TABLE u (g int, name text)")
	w.run(t, s, "CREATE TABLE e (k int, ts timestamp)")
	w.run(t, s, "INSERT INTO t SELECT i, i % 7, (i * 37) % 101, 's' || (i % 13) FROM generate_series(1, 300) i")
	w.run(t, s, "INSERT INTO u SELECT i, 'n' || i FROM generate_series(0, 9) i")
	w.run(t, s, "INSERT INTO e SELECT i % 5, TIMESTAMP '2026-01-01' + i * INTERVAL '37 seconds' FROM generate_series(1, 400) i")
	for _, n := range names {
		w.run(t, s, "CREATE MATERIALIZED VIEW "+n+" AS "+views[n])
	}
	check := func(when string) {
		t.Helper()
		for _, n := range names {
			got := slices.Clone(w.run(t, s, "SELECT * FROM "+n))
			want := w.run(t, s, views[n])
			if !slices.Equal(got, want) {
				t.Fatalf("%s: view %s has %d rows %v, its query %d rows %v", when, n, len(got), got, len(want), want)
			}
		}
	}
	check("before the restart")
	s.Close()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	e, s = open()
	if n := e.Replanned(); n != 0 {
		t.Fatalf("the same binary recomputed %d views at a restart", n)
	}
	// Changes after the restart are applied on the restored state.
	w.run(t, s, "UPDATE t SET v = v + 1 WHERE id % 3 = 0")
	w.run(t, s, "DELETE FROM t WHERE id % 11 = 0")
	w.run(t, s, "INSERT INTO e SELECT i % 5, TIMESTAMP '2026-01-01' + i * INTERVAL '41 seconds' FROM generate_series(1, 100) i")
	check("after a restart")
	// As if another kappa version had written the views' state.
	var stale []*catalog.Object
	for _, n := range []string{"agg", "sess"} {
		o, ok := e.Catalog().Lookup(n)
		if !ok {
			t.Fatalf("no view %s", n)
		}
		cp := *o
		cp.PlanHash = "written by another version"
		stale = append(stale, &cp)
	}
	if err := e.Catalog().UpdateObjects(stale); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	// The old state is not what the plan expects: here, agg has lost its
	// rows but kept its operator state and offsets, so only a
	// recomputation gives it its rows back.
	db, err := storage.Open(filepath.Join(dir, "state"), nil)
	if err != nil {
		t.Fatal(err)
	}
	b := db.NewBatch()
	if err := b.DeleteRange(storage.RelationSpan(stale[0].ID)); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	b.Close()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	e, s = open()
	defer e.Close()
	defer s.Close()
	if n := e.Replanned(); n != 2 {
		t.Fatalf("%d views recomputed at start, want the 2 with another plan's state", n)
	}
	check("after recomputing two views")
	w.run(t, s, "INSERT INTO t SELECT i, i % 4, i % 50, 'x' FROM generate_series(301, 400) i")
	check("after more writes")
}
