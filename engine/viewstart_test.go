package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/kappa-db/kappa/catalog"
	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/pgwire"
	"github.com/kappa-db/kappa/storage"
)

// startViews are global aggregates: over the empty tables below, each has
// exactly one row (the grouping set view one per empty grouping set).
var startViews = []struct{ name, query, want string }{
	{"n", "SELECT count(*) AS n FROM t", "[[0]]"},
	{"j", "SELECT count(*), max(t.a) FROM t JOIN u ON t.a = u.k", "[[0 ]]"},
	{"gs", "SELECT a, count(*) FROM t GROUP BY GROUPING SETS ((a), ())", "[[ 0]]"},
}

// TestViewReadWaitsForFirstEpoch: a read of a materialized view whose
// dataflow has not committed an epoch yet waits for that epoch instead of
// reading the empty relation. A global aggregate over an empty table has
// one row, never none (cmd/kappa TestCrashLargeCopy once read no row from
// `SELECT n FROM big_n` right after a restart: the view's first epoch,
// committed without an fsync before the COPY, died with the process, and
// the table's log was empty, so no read waited for anything).
func TestViewReadWaitsForFirstEpoch(t *testing.T) {
	// How a view comes to start without committed state: its first
	// epoch lost with the process (pebble had not written it), or its
	// plan changed since it was stored (refreshPlan), or it is still
	// being created.
	for _, how := range []string{"first epoch lost", "plan changed", "being created"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			cfg := Config{DataDir: dir}
			if how == "being created" {
				// Epochs only when kicked, so that none is under way
				// when the test holds the barrier.
				cfg.BarrierInterval = time.Hour
			}
			e, err := Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			s := startSession(t, e)
			mustExec(t, s, "CREATE TABLE t (a int)")
			mustExec(t, s, "CREATE TABLE u (k int PRIMARY KEY)")
			if how == "being created" {
				defer e.Close()
				testCreateWhileRead(t, e, s)
				return
			}
			var ids []uint64
			for _, v := range startViews {
				mustExec(t, s, "CREATE MATERIALIZED VIEW "+v.name+" AS "+v.query)
				o, _ := e.cat.Lookup(v.name)
				ids = append(ids, o.ID)
			}
			if how == "plan changed" {
				var stale []*catalog.Object
				for _, id := range ids {
					o, _ := e.cat.Get(id)
					cp := *o
					cp.PlanHash = "written by another version"
					stale = append(stale, &cp)
				}
				if err := e.cat.UpdateObjects(stale); err != nil {
					t.Fatal(err)
				}
			}
			s.Close()
			if err := e.Close(); err != nil {
				t.Fatal(err)
			}
			if how == "first epoch lost" {
				// What a SIGKILL leaves when the views' first epoch was
				// still in pebble's WAL buffer: catalog entries (synced)
				// without rows, state or offsets.
				editStore(t, dir, func(b *storage.Batch) error {
					for _, id := range ids {
						if err := exec.DeleteRelationData(b, id); err != nil {
							return err
						}
					}
					return nil
				})
			}
			// The first epoch after the restart waits at the barrier until
			// the reads have been tried.
			var held *Engine
			e, err = Open(Config{DataDir: dir, beforeStart: func(e *Engine) {
				e.commitMu.RLock()
				held = e
			}})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			released := false
			release := func() {
				if !released {
					released = true
					held.commitMu.RUnlock()
				}
			}
			defer release()
			if how == "plan changed" && e.Replanned() != len(startViews) {
				t.Fatalf("%d views recomputed, want %d", e.Replanned(), len(startViews))
			}
			var queries []string
			for _, v := range startViews {
				queries = append(queries, "SELECT * FROM "+v.name)
			}
			got := readBeforeEpoch(t, e, queries, release)
			s = startSession(t, e)
			for i, v := range startViews {
				if got[i] != v.want {
					t.Errorf("view %s (%s) = %s, want %s", v.name, v.query, got[i], v.want)
				}
				if q, _ := readRows(s, v.query); q != v.want {
					t.Errorf("query %s = %s, want %s", v.query, q, v.want)
				}
			}
		})
	}
}

// testCreateWhileRead reads a view from a second session while the
// CREATE MATERIALIZED VIEW that makes it waits for its first epoch.
func testCreateWhileRead(t *testing.T, e *Engine, s pgwire.Session) {
	v := startViews[0]
	// The epochs the tables' creation kicked are over by now; the next
	// one, the view's first, waits at its barrier.
	time.Sleep(100 * time.Millisecond)
	e.commitMu.RLock()
	released := false
	release := func() {
		if !released {
			released = true
			e.commitMu.RUnlock()
		}
	}
	defer release()
	created := make(chan error, 1)
	go func() {
		_, _, err := execQ(s, "CREATE MATERIALIZED VIEW "+v.name+" AS "+v.query)
		created <- err
	}()
	// Once the view is in the catalog, other sessions may read it.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Microsecond) {
		if _, ok := e.cat.Lookup(v.name); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the view did not appear in the catalog")
		}
	}
	if got := readBeforeEpoch(t, e, []string{"SELECT * FROM " + v.name}, release); got[0] != v.want {
		t.Errorf("view %s read during its creation = %s, want %s", v.name, got[0], v.want)
	}
	if err := <-created; err != nil {
		t.Fatal(err)
	}
}

// readBeforeEpoch runs each query on a session of its own while no epoch
// can commit: none may answer before release lets the first one through.
func readBeforeEpoch(t *testing.T, e *Engine, queries []string, release func()) []string {
	t.Helper()
	type result struct {
		i    int
		rows string
		err  error
	}
	done := make(chan result, len(queries))
	for i, q := range queries {
		s := startSession(t, e)
		go func() {
			rows, err := readRows(s, q)
			done <- result{i, rows, err}
		}()
	}
	select {
	case r := <-done:
		t.Fatalf("%s answered %s (%v) before the view's first epoch", queries[r.i], r.rows, r.err)
	case <-time.After(100 * time.Millisecond):
	}
	release()
	out := make([]string, len(queries))
	for range queries {
		r := <-done
		if r.err != nil {
			t.Fatalf("%s: %v", queries[r.i], r.err)
		}
		out[r.i] = r.rows
	}
	return out
}

func readRows(s pgwire.Session, query string) (string, error) {
	_, rows, err := execQ(s, query)
	return fmt.Sprint(rows), err
}

func startSession(t *testing.T, e *Engine) pgwire.Session {
	t.Helper()
	s, err := e.NewSession(context.Background(), pgwire.SessionParams{User: "kappa", Database: "kappa"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustExec(t *testing.T, s pgwire.Session, query string) {
	t.Helper()
	if _, _, err := execQ(s, query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// editStore commits edit's writes to the store of the closed data
// directory dir, as a crash or another version might have left it.
func editStore(t *testing.T, dir string, edit func(*storage.Batch) error) {
	t.Helper()
	db, err := storage.Open(filepath.Join(dir, "state"), nil)
	if err != nil {
		t.Fatal(err)
	}
	b := db.NewBatch()
	if err := edit(b); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	b.Close()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}
