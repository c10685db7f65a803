package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestRunSmall runs every benchmark at a tiny scale: the command works.
func TestRunSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and kappa")
	}
	var out bytes.Buffer
	err := (&Main{Stdout: &out}).Run(context.Background(), []string{
		"-dir", t.TempDir(), "-clients", "2", "-small-duration", "300ms", "-rows", "3000",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"small writes", "backfill", "recovery"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	t.Log("\n" + out.String())
}
