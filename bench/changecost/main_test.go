package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/kappa-db/kappa/internal/pgtest"
)

// TestSmall runs the whole benchmark on small tables: it loads both
// servers, measures, and checks that kappa's view equals PostgreSQL's.
func TestSmall(t *testing.T) {
	if _, err := pgtest.BinDir(); errors.Is(err, pgtest.ErrNotInstalled) && os.Getenv(pgtest.RequireEnv) != "1" {
		t.Skip(err)
	}
	var out bytes.Buffer
	m := &Main{Stdout: &out}
	if err := m.Run(context.Background(), []string{"-rows", "3000", "-regions", "7", "-trials", "3", "-pg-trials", "2", "-dir", t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"read-your-writes", "another session", "REFRESH MATERIALIZED VIEW"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestDataIsAPermutation(t *testing.T) {
	_, orders := data(1000, 10)
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(orders)), "\n") {
		f := strings.Split(line, "\t")
		if seen[f[1]] {
			t.Fatalf("customer %s has two orders", f[1])
		}
		seen[f[1]] = true
	}
	if len(seen) != 1000 {
		t.Fatalf("%d customers", len(seen))
	}
}
