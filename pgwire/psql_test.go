package pgwire

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestPsql runs the real psql (libpq) against the server: startup with
// sslmode=prefer (and GSS encryption where libpq has it), a simple query and
// COPY FROM STDIN.
func TestPsql(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not on PATH; install postgresql-client to run this test")
	}
	ts := startServer(t, Config{})
	host, port, _ := net.SplitHostPort(ts.addr)
	dsn := "host=" + host + " port=" + port + " user=tester dbname=test sslmode=prefer application_name=psqltest"

	run := func(stdin string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, psql, append([]string{"-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", dsn}, args...)...)
		cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=5", "PGPASSWORD=")
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("psql %q: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}

	if got := run("", "-c", "select 1"); got != "1" {
		t.Errorf("psql -c 'select 1' printed %q, want 1", got)
	}
	if got := run("1\tone\n2\t\\N\n\\.\n", "-c", "COPY p FROM STDIN"); got != "COPY 2" {
		t.Errorf("psql COPY printed %q, want COPY 2", got)
	}
	if got := run("", "-c", "COUNT p"); got != "2" {
		t.Errorf("psql COUNT printed %q, want 2", got)
	}
}
