package planner_test

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/kappa-db/kappa/server"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected outputs in testdata/explain")

// TestExplain runs the data-driven files in testdata/explain against a real
// server. Each case is a command line, its SQL, "----", and the expected
// output:
//
//	statement      the SQL must succeed; no output
//	explain        the output is EXPLAIN of the SQL, one plan line per line
//	error          the output is "SQLSTATE message" of the error it must raise
//
// go test ./planner -run TestExplain -rewrite regenerates the outputs; review
// the diff.
func TestExplain(t *testing.T) {
	files, err := filepath.Glob("testdata/explain/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) { runFile(t, f) })
	}
}

type testCase struct {
	cmd, sql, want string
}

func parseFile(t *testing.T, path string) []testCase {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []testCase
	sc := bufio.NewScanner(f)
	var cur *testCase
	inOut := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case cur == nil:
			if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
				continue
			}
			cur = &testCase{cmd: strings.TrimSpace(line)}
		case !inOut && line == "----":
			inOut = true
		case !inOut:
			cur.sql += line + "\n"
		case line == "":
			cases = append(cases, *cur)
			cur, inOut = nil, false
		default:
			cur.want += line + "\n"
		}
	}
	if cur != nil {
		cases = append(cases, *cur)
	}
	return cases
}

func runFile(t *testing.T, path string) {
	ctx := context.Background()
	srv, err := server.Start(ctx, server.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	conn, err := pgx.Connect(ctx, "postgres://kappa@"+srv.Addr()+"/kappa?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	cases := parseFile(t, path)
	var out strings.Builder
	for i, c := range cases {
		got := ""
		switch c.cmd {
		case "statement":
			if _, err := conn.Exec(ctx, c.sql); err != nil {
				t.Fatalf("case %d: %s: %v", i, c.sql, err)
			}
		case "explain":
			rows, err := conn.Query(ctx, "EXPLAIN "+c.sql)
			if err != nil {
				t.Fatalf("case %d: %v", i, err)
			}
			lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				got = errorText(err)
			} else {
				got = strings.Join(lines, "\n") + "\n"
			}
		case "error":
			_, err := conn.Exec(ctx, c.sql)
			if err == nil {
				t.Fatalf("case %d: %s succeeded, want an error", i, c.sql)
			}
			got = errorText(err)
		default:
			t.Fatalf("case %d: unknown command %q", i, c.cmd)
		}
		if !*rewrite && got != c.want {
			t.Errorf("case %d (%s):\n%s\ngot:\n%s\nwant:\n%s", i, c.cmd, c.sql, got, c.want)
		}
		fmt.Fprintf(&out, "%s\n%s----\n%s\n", c.cmd, c.sql, got)
	}
	if *rewrite {
		if err := os.WriteFile(path, []byte(strings.TrimSuffix(out.String(), "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func errorText(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code + " " + pe.Message + "\n"
	}
	return err.Error() + "\n"
}
