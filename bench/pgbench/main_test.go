package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/kappa-db/kappa/internal/pgtest"
)

func TestParseTPS(t *testing.T) {
	out := "number of failed transactions: 0 (0.000%)\nlatency average = 0.4 ms\ntps = 40071.123456 (without initial connection time)\n"
	if v, err := parseTPS(out); err != nil || v != 40071.123456 {
		t.Errorf("parseTPS = %v, %v", v, err)
	}
	if _, err := parseTPS("nothing"); err == nil {
		t.Error("parseTPS of no tps line succeeded")
	}
}

// TestRunSmall runs the benchmark for a second per mode on a small view,
// so that the command keeps working as kappa changes.
func TestRunSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds kappa, starts it and PostgreSQL")
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"-dir", t.TempDir(), "-keys", "200", "-T", "1", "-c", "2", "-j", "1"}, &out, io.Discard)
	if errors.Is(err, pgtest.ErrNotInstalled) && os.Getenv(pgtest.RequireEnv) != "1" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"kappa/PostgreSQL", "prepared", "simple", "random(1, 200)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
