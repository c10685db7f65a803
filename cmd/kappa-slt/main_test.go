package main

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/kappa-db/kappa/internal/pgtest"
)

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut strings.Builder
	code := Main{Stdout: &out, Stderr: &errOut}.Run(context.Background(), args)
	return code, out.String(), errOut.String()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-pg"},
		{"-pg", "-dsn", "postgres://x", "f.slt"},
		{"f.slt"},
		{"-nope", "f.slt"},
	} {
		if code, _, _ := run(t, args...); code != exitUsage {
			t.Errorf("kappa-slt %v: exit %d, want %d", args, code, exitUsage)
		}
	}
}

func TestRunAgainstPostgres(t *testing.T) {
	if _, err := pgtest.BinDir(); err != nil && os.Getenv(pgtest.RequireEnv) != "1" {
		t.Skip(err)
	}
	code, out, errOut := run(t, "-pg", "-mv", "../../sqllogictest/testdata/postgres.slt")
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if got, want := lastLine(out), "slt: 15 passed, 0 failed, 2 skipped"; got != want {
		t.Errorf("last line %q, want %q\n%s", got, want, out)
	}
	if !strings.Contains(out, "views: 6 passed, 0 failed\n") {
		t.Errorf("no views line in\n%s", out)
	}

	// A directory is searched for files; failures set the exit status.
	code, out, _ = run(t, "-pg", "../../sqllogictest/testdata/")
	if code != exitFailed {
		t.Errorf("exit %d on testdata/ (with failures.slt), want %d\n%s", code, exitFailed, out)
	}
	for _, f := range []string{"postgres.slt: 15 passed", "failures.slt: 2 passed, 11 failed"} {
		if !strings.Contains(out, f) {
			t.Errorf("output lacks %q:\n%s", f, out)
		}
	}
}

func TestCreateDBAgainstDSN(t *testing.T) {
	pg := pgtest.Start(t)
	args := []string{"-dsn", pg.DSN("postgres"), "-createdb", "-engine", "postgresql",
		"../../sqllogictest/testdata/postgres.slt", "../../sqllogictest/testdata/postgres.slt"}
	code, out, errOut := run(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if got, want := lastLine(out), "slt: 30 passed, 0 failed, 4 skipped"; got != want {
		t.Errorf("last line %q, want %q", got, want)
	}
}
