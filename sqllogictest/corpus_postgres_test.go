package sqllogictest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/kappa-db/kappa/internal/pgtest"
)

// TestSQLiteCorpusPostgres runs every file of SQLite's corpus against
// PostgreSQL, ad hoc and as views, and logs the counts. It takes minutes, so
// it runs only with KAPPA_SLT_SQLITE=1.
func TestSQLiteCorpusPostgres(t *testing.T) {
	if os.Getenv("KAPPA_SLT_SQLITE") != "1" {
		t.Skip("set KAPPA_SLT_SQLITE=1 to run SQLite's corpus")
	}
	dir := corpusDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.test"))
	if err != nil {
		t.Fatal(err)
	}
	pg := pgtest.Start(t)
	var total Result
	for _, mv := range []bool{false, true} {
		var sum Result
		for _, f := range files {
			r := &Runner{Connect: freshDatabase(t, pg), AsMaterializedViews: mv}
			res, err := r.RunFile(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s (mv=%v): %d passed, %d failed, %d skipped; views %d passed, %d failed",
				filepath.Base(f), mv, res.Passed, res.Failed, res.Skipped, res.MVPassed, res.MVFailed)
			for _, f := range res.Failures {
				t.Log(f.String())
			}
			sum.Add(res)
		}
		t.Logf("total (mv=%v): %d passed, %d failed, %d skipped; views %d passed, %d failed",
			mv, sum.Passed, sum.Failed, sum.Skipped, sum.MVPassed, sum.MVFailed)
		total.Add(sum)
	}
	if total.Failed > 0 {
		t.Logf("%d ad hoc failures on PostgreSQL: the corpus has no skipif postgresql annotations for them", total.Failed)
	}
}
