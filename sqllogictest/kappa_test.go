//go:build kappa_server

// The kappa_server tag keeps this file out of the build until package server
// exists; drop it then.

package sqllogictest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/kappa-db/kappa/server"
)

// kappaEngines are the names kappa answers to in skipif/onlyif: it speaks
// PostgreSQL's dialect, plus its own.
var kappaEngines = []string{"postgresql", "kappa"}

// startKappa starts a kappa server on a fresh directory and a free port and
// returns a DSN for it; the server is closed when the test ends.
func startKappa(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	srv, err := server.Start(ctx, server.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatalf("start kappa: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close kappa: %v", err)
		}
	})
	return "postgres://kappa@" + srv.Addr() + "/kappa?sslmode=disable"
}

// TestSLT runs every testdata/slt file against kappa, each on a server of
// its own, as ad hoc queries.
func TestSLT(t *testing.T) {
	for _, path := range sltFiles(t) {
		t.Run(subtestName(path), func(t *testing.T) {
			r := &Runner{DSN: startKappa(t), EngineNames: kappaEngines}
			res, err := r.RunFile(context.Background(), path)
			reportFile(t, res, err)
		})
	}
}

// TestSQLiteCorpus runs SQLite's corpus against kappa, ad hoc and as
// materialized views, and logs the counts; it is a measure, not a gate, and
// runs only with KAPPA_SLT_SQLITE=1.
func TestSQLiteCorpus(t *testing.T) {
	if os.Getenv("KAPPA_SLT_SQLITE") != "1" {
		t.Skip("set KAPPA_SLT_SQLITE=1 to run SQLite's corpus")
	}
	files, err := filepath.Glob(filepath.Join(corpusDir(t), "*.test"))
	if err != nil {
		t.Fatal(err)
	}
	for _, mv := range []bool{false, true} {
		var sum Result
		for _, path := range files {
			r := &Runner{DSN: startKappa(t), EngineNames: kappaEngines, AsMaterializedViews: mv}
			res, err := r.RunFile(context.Background(), path)
			if err != nil {
				t.Logf("%s (mv=%v): stopped: %v", filepath.Base(path), mv, err)
			}
			t.Logf("%s (mv=%v): %d passed, %d failed, %d skipped; views %d passed, %d failed",
				filepath.Base(path), mv, res.Passed, res.Failed, res.Skipped, res.MVPassed, res.MVFailed)
			sum.Add(res)
		}
		t.Logf("SQLite corpus on kappa (mv=%v): %d passed, %d failed, %d skipped; views %d passed, %d failed",
			mv, sum.Passed, sum.Failed, sum.Skipped, sum.MVPassed, sum.MVFailed)
	}
}
