package sqllogictest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/kappa-db/kappa/internal/pgtest"
)

// corpusDir locates SQLite's corpus: $KAPPA_SLT_CORPUS, or shared/slt/sqlite
// beside the repository (where CI puts it).
func corpusDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("KAPPA_SLT_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "slt", "sqlite")
	}
	if _, err := os.Stat(filepath.Join(dir, "select1.test")); err != nil {
		t.Skipf("SQLite corpus not found at %s (set KAPPA_SLT_CORPUS): %v", dir, err)
	}
	return dir
}

var dbSeq atomic.Int64

// freshDatabase returns a Connect that gives each file its own database.
func freshDatabase(t *testing.T, pg *pgtest.PG) func(ctx context.Context, path string) (*pgx.Conn, error) {
	return func(ctx context.Context, path string) (*pgx.Conn, error) {
		name := fmt.Sprintf("slt_%d", dbSeq.Add(1))
		if err := pg.CreateDB(name); err != nil {
			return nil, err
		}
		cfg, err := pgx.ParseConfig(pg.DSN(name))
		if err != nil {
			return nil, err
		}
		cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
		return pgx.ConnectConfig(ctx, cfg)
	}
}

func TestSelect1Postgres(t *testing.T) {
	dir := corpusDir(t)
	pg := pgtest.Start(t)
	for _, mv := range []bool{false, true} {
		r := &Runner{Connect: freshDatabase(t, pg), AsMaterializedViews: mv, Log: testLog{t}}
		res, err := r.RunFile(context.Background(), filepath.Join(dir, "select1.test"))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("select1.test (mv=%v): %d records, %d passed, %d failed, %d skipped; views %d passed, %d failed",
			mv, res.Records, res.Passed, res.Failed, res.Skipped, res.MVPassed, res.MVFailed)
		if res.Failed > 0 || res.MVFailed > 0 {
			t.Errorf("select1.test: %d failed, %d failed as views", res.Failed, res.MVFailed)
		}
	}
}

// testLog writes the runner's log through t.Log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Helper()
	l.t.Log(string(p))
	return len(p), nil
}
