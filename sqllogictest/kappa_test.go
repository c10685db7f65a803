package sqllogictest

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"

	"github.com/kappa-db/kappa/server"
)

// kappaEngines are the names kappa answers to in skipif/onlyif: it speaks
// PostgreSQL's dialect, plus its own.
var kappaEngines = []string{"postgresql", "kappa"}

// startKappa starts a kappa server on a fresh directory and a free port and
// returns a DSN for it; the server is shut down when the test ends.
func startKappa(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	srv, err := server.Start(ctx, server.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatalf("start kappa: %v", err)
	}
	t.Cleanup(func() {
		// Shutdown, not Close: Close cancels its own context and reports
		// that cancellation as an error.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shut down kappa: %v", err)
		}
	})
	return "postgres://kappa@" + srv.Addr() + "/kappa?sslmode=disable"
}

// unsupportedView reports whether f is a query that kappa refused to create
// as a materialized view because it cannot maintain it yet (SQLSTATE 0A000:
// LIMIT, a query that reads no table...), or because the role the file runs
// it as may not create anything (42501: testdata/slt/auth). Such a record
// still ran ad hoc; the view mode is a check of the answers kappa's views
// do give.
func unsupportedView(f Failure) bool {
	return f.MV && strings.HasPrefix(f.Message, "create view failed: ") &&
		(strings.HasSuffix(f.Message, "(SQLSTATE 0A000)") || strings.HasSuffix(f.Message, "(SQLSTATE 42501)"))
}

// TestSLT runs every testdata/slt file against kappa, each on a server of
// its own. Every query runs ad hoc and then, in views mode, as a
// materialized view that must give the same rows (sqllogictest's
// AsMaterializedViews); a view kappa cannot create yet (0A000) is logged,
// not failed. KAPPA_SLT_NOVIEWS=1 runs the ad hoc mode only.
func TestSLT(t *testing.T) {
	views := os.Getenv("KAPPA_SLT_NOVIEWS") != "1"
	for _, path := range sltFiles(t) {
		t.Run(subtestName(path), func(t *testing.T) {
			r := &Runner{DSN: startKappa(t), EngineNames: kappaEngines, AsMaterializedViews: views}
			res, err := r.RunFile(context.Background(), path)
			unsupported := 0
			kept := res.Failures[:0]
			for _, f := range res.Failures {
				if unsupportedView(f) {
					unsupported++
					continue
				}
				kept = append(kept, f)
			}
			res.Failures = kept
			reportFile(t, res, err)
			if views {
				t.Logf("views: %d passed, %d failed, of which %d not supported as a view yet",
					res.MVPassed, res.MVFailed, unsupported)
			}
		})
	}
}

// TestSQLiteCorpus runs SQLite's corpus against kappa, ad hoc and as
// materialized views, and logs the counts; it is a measure, not a gate, and
// runs only with KAPPA_SLT_SQLITE=1. The corpus is looked for where
// corpusDir says ($KAPPA_SLT_CORPUS, or ../shared/slt/sqlite beside the
// repository). KAPPA_SLT_TIMEOUT bounds one record (default 30s); with
// KAPPA_SLT_FAILURES=path, every failure is also written to that file, for
// classifying them.
//
// Each file runs on a kappa process of its own (cmd/kappa, built once),
// killed when the file is done: a query that ignores its cancellation (a
// many-table join) must not go on eating the CPU and memory of the files
// after it, as it would inside this test's process.
func TestSQLiteCorpus(t *testing.T) {
	if os.Getenv("KAPPA_SLT_SQLITE") != "1" {
		t.Skip("set KAPPA_SLT_SQLITE=1 to run SQLite's corpus")
	}
	files, err := filepath.Glob(filepath.Join(corpusDir(t), "*.test"))
	if err != nil {
		t.Fatal(err)
	}
	timeout := 30 * time.Second
	if v := os.Getenv("KAPPA_SLT_TIMEOUT"); v != "" {
		if timeout, err = time.ParseDuration(v); err != nil {
			t.Fatalf("KAPPA_SLT_TIMEOUT: %v", err)
		}
	}
	var out *os.File
	if p := os.Getenv("KAPPA_SLT_FAILURES"); p != "" {
		if out, err = os.Create(p); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := out.Close(); err != nil {
				t.Error(err)
			}
		}()
	}
	bin := buildKappa(t)
	for _, mv := range []bool{false, true} {
		var sum Result
		for _, path := range files {
			dsn, stop := startKappaProcess(t, bin)
			r := &Runner{Connect: cancelingConnect(dsn), EngineNames: kappaEngines,
				AsMaterializedViews: mv, RecordTimeout: timeout}
			start := time.Now()
			res, err := r.RunFile(context.Background(), path)
			logTail := stop()
			if err != nil {
				t.Logf("%s (mv=%v): stopped: %v; the end of kappa's log:\n%s", filepath.Base(path), mv, err, logTail)
			}
			t.Logf("%s (mv=%v): %d records: %d passed, %d failed, %d skipped; views %d passed, %d failed (%v)",
				filepath.Base(path), mv, res.Records, res.Passed, res.Failed, res.Skipped, res.MVPassed, res.MVFailed,
				time.Since(start).Round(time.Millisecond))
			if out != nil {
				for _, f := range res.Failures {
					if _, err := out.WriteString(f.String() + "\n"); err != nil {
						t.Fatal(err)
					}
				}
			}
			res.Failures = nil
			sum.Add(res)
		}
		t.Logf("SQLite corpus on kappa (mv=%v): %d records: %d passed, %d failed, %d skipped; views %d passed, %d failed",
			mv, sum.Records, sum.Passed, sum.Failed, sum.Skipped, sum.MVPassed, sum.MVFailed)
	}
}

// kappaMemoryKiB is the address space a corpus kappa process may use.
const kappaMemoryKiB = 6 << 20

// buildKappa builds cmd/kappa into a temporary directory.
func buildKappa(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kappa")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/kappa-db/kappa/cmd/kappa")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build cmd/kappa: %v\n%s", err, b)
	}
	return bin
}

// startKappaProcess runs "kappa serve" on a fresh directory and a free port
// and waits until it accepts connections. stop kills it (SIGKILL: what it
// was running is of no interest), waits for it and returns the end of its
// log, which says why it died if it died on its own.
func startKappaProcess(t *testing.T, bin string) (dsn string, stop func() string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	logf, err := os.Create(filepath.Join(dir, "kappa.log"))
	if err != nil {
		t.Fatal(err)
	}
	// The address-space limit keeps a runaway query from taking the
	// machine's memory (it dies with "out of memory" instead).
	cmd := exec.Command("sh", "-c", `ulimit -v `+strconv.Itoa(kappaMemoryKiB)+` && exec "$0" "$@"`,
		bin, "serve", "--data-dir", filepath.Join(dir, "data"), "--listen", addr)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start kappa: %v", err)
	}
	stopped := false
	stop = func() string {
		if stopped {
			return ""
		}
		stopped = true
		_ = cmd.Process.Kill() // it may have exited on its own; Wait reports that
		_ = cmd.Wait()         // a killed process exits non-zero: expected
		_ = logf.Close()
		b, _ := os.ReadFile(logf.Name()) // only a diagnostic
		return logEnd(string(b))
	}
	t.Cleanup(func() { stop() })
	dsn = "postgres://kappa@" + addr + "/kappa?sslmode=disable"
	deadline := time.Now().Add(time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conn, err := pgconn.Connect(ctx, dsn)
		cancel()
		if err == nil {
			_ = conn.Close(context.Background()) // a probe connection
			return dsn, stop
		}
		if time.Now().After(deadline) {
			stop()
			b, _ := os.ReadFile(logf.Name())
			t.Fatalf("kappa did not accept connections at %s: %v\n%s", addr, err, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// logEnd is what explains a dead kappa in its log: the Go crash message
// and the first frames of the goroutine that crashed, or else the last lines.
func logEnd(log string) string {
	lines := strings.Split(strings.TrimSpace(log), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "fatal error:") || strings.HasPrefix(l, "panic:") {
			from := max(0, i-1)
			return strings.Join(lines[from:min(len(lines), from+24)], "\n")
		}
	}
	return strings.Join(lines[max(0, len(lines)-20):], "\n")
}

// cancelingConnect connects so that a record's timeout sends the server a
// cancel request and waits a few seconds for the query to end, instead of
// closing the connection at once (pgx's default), which would end the file.
func cancelingConnect(dsn string) func(ctx context.Context, path string) (*pgx.Conn, error) {
	return func(ctx context.Context, _ string) (*pgx.Conn, error) {
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			return nil, err
		}
		cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
		cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
			return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: 5 * time.Second}
		}
		return pgx.ConnectConfig(ctx, cfg)
	}
}
