package clienttest

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestClients drives the application drivers — pgx, pgjdbc, psycopg2,
// SQLAlchemy, node-postgres — against one kappa and one PostgreSQL holding
// testdata/schema.sql. Each driver runs one program that prints what it
// saw, a line per fact; the program runs against both servers and the
// outputs must be equal, except for the differences each check names
// (kappaDiffers). A driver that is not installed skips its check loudly, or
// fails it under KAPPA_REQUIRE_CLIENTS=1 (scripts/test.sh sets it after
// installing them).
func TestClients(t *testing.T) {
	psql := psqlPath(t)
	schemaSQL, err := os.ReadFile(filepath.Join("testdata", "schema.sql"))
	if err != nil {
		t.Fatal(err)
	}
	kappa, pg := startBoth(t, psql, string(schemaSQL))
	t.Run("pgx", func(t *testing.T) { compareClient(t, pgxReport, kappa, pg, nil) })
	t.Run("pgjdbc", func(t *testing.T) { compareClient(t, jdbcReport(t), kappa, pg, jdbcDiffers) })
	t.Run("psycopg2", func(t *testing.T) {
		compareClient(t, pythonReport(t, "psycopg2_check.py", "psycopg2", "named"), kappa, pg, nil)
	})
	t.Run("sqlalchemy", func(t *testing.T) {
		compareClient(t, pythonReport(t, "sqlalchemy_check.py", "sqlalchemy, psycopg2"), kappa, pg, nil)
	})
	t.Run("node-pg", func(t *testing.T) { compareClient(t, nodeReport(t), kappa, pg, nil) })
}

// report runs one client program against a server and returns what it
// printed.
type report func(t *testing.T, tg target) string

// difference is a line where kappa legitimately answers otherwise than
// PostgreSQL: a PostgreSQL line matching pg is expected from kappa as
// kappa (a regexp replacement template over the PostgreSQL line).
type difference struct {
	why   string
	pg    *regexp.Regexp
	kappa string
}

func compareClient(t *testing.T, run report, kappa, pg target, diffs []difference) {
	t.Helper()
	t0 := time.Now()
	want := run(t, pg)
	t1 := time.Now()
	got := run(t, kappa)
	if testing.Verbose() {
		t.Logf("--- kappa (%v; PostgreSQL %v)\n%s", time.Since(t1).Round(time.Millisecond), t1.Sub(t0).Round(time.Millisecond), got)
	}
	if strings.TrimSpace(want) == "" {
		t.Fatalf("the client printed nothing against PostgreSQL")
	}
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i, l := range wl {
		for _, d := range diffs {
			if d.pg.MatchString(l) {
				wl[i] = d.pg.ReplaceAllString(l, d.kappa)
			}
		}
	}
	if strings.Join(wl, "\n") == got {
		return
	}
	var b strings.Builder
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			b.WriteString("line " + strconv.Itoa(i+1) + ":\n  PostgreSQL: " + w + "\n  kappa:      " + g + "\n")
		}
	}
	t.Errorf("the client saw different things (PostgreSQL's line adjusted by the named differences):\n%s", b.String())
}

// requireClients makes a missing client a failure rather than a skip.
func requireClients() bool { return os.Getenv("KAPPA_REQUIRE_CLIENTS") == "1" }

// missing skips (or, under KAPPA_REQUIRE_CLIENTS=1, fails) a check whose
// client is not installed.
func missing(t *testing.T, format string, args ...any) {
	t.Helper()
	if requireClients() {
		t.Fatalf("client not installed: "+format, args...)
	}
	t.Skipf("SKIPPED, client not installed: "+format, args...)
}

// programTimeout bounds one run of a client program (each takes a few
// seconds).
const programTimeout = 2 * time.Minute

// runProgram runs a client program and returns its standard output; a
// failing program fails the test with what it printed.
func runProgram(t *testing.T, tg target, cmd *exec.Cmd) string {
	t.Helper()
	cmd.Env = append(append(os.Environ(), cmd.Env...), "PGHOST="+tg.host, "PGPORT="+tg.port, "PGUSER="+tg.user,
		"PGDATABASE="+tg.db, "PGTZ=UTC", "TZ=UTC", "PGSSLMODE=disable", "KAPPA_TARGET="+tg.name)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", cmd.Args, err)
	}
	// A client that hangs fails its check rather than the whole run.
	timer := time.AfterFunc(programTimeout, func() { _ = cmd.Process.Kill() })
	err := cmd.Wait()
	if !timer.Stop() {
		t.Fatalf("%s against %s: killed after %v\n%s\n--- stderr\n%s", cmd.Args, tg.name, programTimeout, stdout.String(), stderr.String())
	}
	if err != nil {
		t.Fatalf("%s against %s: %v\n%s\n--- stderr\n%s", cmd.Args, tg.name, err, stdout.String(), stderr.String())
	}
	return stdout.String()
}
