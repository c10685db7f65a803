package sqllogictest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kappa-db/kappa/internal/pgtest"
)

func TestRunnerPostgres(t *testing.T) {
	pg := pgtest.Start(t)
	for _, tc := range []struct {
		name         string
		extended, mv bool
	}{{"simple", false, false}, {"extended", true, false}, {"views", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Runner{Connect: freshDatabase(t, pg), ExtendedProtocol: tc.extended, AsMaterializedViews: tc.mv}
			res, err := r.RunFile(context.Background(), "testdata/postgres.slt")
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range res.Failures {
				t.Error(f.String())
			}
			want := Result{Records: 17, Passed: 15, Skipped: 2}
			if tc.mv {
				want.MVPassed = 6
			}
			if !equalCounts(res, want) {
				t.Errorf("got %+v, want %+v", res, want)
			}
		})
	}
}

func equalCounts(a, b Result) bool {
	a.Failures, b.Failures = nil, nil
	return a.Records == b.Records && a.Passed == b.Passed && a.Failed == b.Failed &&
		a.Skipped == b.Skipped && a.MVPassed == b.MVPassed && a.MVFailed == b.MVFailed
}

func TestRunnerFailuresPostgres(t *testing.T) {
	pg := pgtest.Start(t)
	var log strings.Builder
	r := &Runner{Connect: freshDatabase(t, pg), Log: &log}
	res, err := r.RunFile(context.Background(), "testdata/failures.slt")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, f := range res.Failures {
		b.WriteString(f.String())
	}
	if log.String() != b.String() {
		t.Errorf("Log got:\n%s\nwant the failures:\n%s", log.String(), b.String())
	}
	checkGolden(t, "failures.golden", b.String())
	if want := (Result{Records: 13, Passed: 2, Failed: 11}); !equalCounts(res, want) {
		t.Errorf("got %+v, want %+v", res, want)
	}
}

func TestRewritePostgres(t *testing.T) {
	pg := pgtest.Start(t)
	src, err := os.ReadFile("testdata/rewrite.slt")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rewrite.slt")
	if err := os.WriteFile(path, src, 0o644); err != nil {
		t.Fatal(err)
	}
	r := &Runner{Connect: freshDatabase(t, pg), Rewrite: true}
	if _, err := r.RunFile(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "rewrite.golden", string(got))

	// The rewritten file passes, but for the two failing records at its end.
	r = &Runner{Connect: freshDatabase(t, pg)}
	res, err := r.RunFile(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Result{Records: 10, Passed: 8, Failed: 2}); !equalCounts(res, want) {
		t.Errorf("rerun of the rewritten file: got %+v, want %+v", res, want)
	}
}
