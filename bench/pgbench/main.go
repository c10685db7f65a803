package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kappa-db/kappa/internal/benchutil"
	"github.com/kappa-db/kappa/internal/pgtest"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "pgbench:", err)
		os.Exit(1)
	}
}

type config struct {
	keys, rowsPerKey  int
	clients, threads  int
	duration          int // seconds, pgbench -T
	modes             []string
	pgbench, workDir  string
	skipKappa, skipPG bool
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pgbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	var modes string
	fs.IntVar(&c.keys, "keys", 100000, "distinct keys in the view (its rows)")
	fs.IntVar(&c.rowsPerKey, "rows-per-key", 2, "table rows per key (the view aggregates them)")
	fs.IntVar(&c.clients, "c", 16, "pgbench -c: clients")
	fs.IntVar(&c.threads, "j", 2, "pgbench -j: threads")
	fs.IntVar(&c.duration, "T", 20, "pgbench -T: seconds per run")
	fs.StringVar(&modes, "M", "prepared,simple", "pgbench -M query modes to run, comma-separated")
	fs.StringVar(&c.pgbench, "pgbench", "", "the pgbench binary (default: PostgreSQL 15's, or pgbench on PATH)")
	fs.StringVar(&c.workDir, "dir", os.TempDir(), "directory for kappa's data and the script")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c.modes = strings.Split(modes, ",")
	if c.keys < 1 || c.rowsPerKey < 1 || c.clients < 1 || c.threads < 1 || c.duration < 1 {
		return errors.New("-keys, -rows-per-key, -c, -j and -T must be positive")
	}
	if c.pgbench == "" {
		c.pgbench = "/usr/lib/postgresql/15/bin/pgbench"
		if _, err := os.Stat(c.pgbench); err != nil {
			p, err := exec.LookPath("pgbench")
			if err != nil {
				return fmt.Errorf("%w: pgbench not found (it comes with PostgreSQL's server package; or -pgbench PATH)", pgtest.ErrNotInstalled)
			}
			c.pgbench = p
		}
	}
	progress := func(format string, a ...any) {
		fmt.Fprintf(stderr, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, a...)...)
	}

	dir, err := os.MkdirTemp(c.workDir, "kappa-pgbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "read.sql")
	scriptText := fmt.Sprintf("\\set k random(1, %d)\nSELECT k, n, total FROM kv WHERE k = :k;\n", c.keys)
	if err := os.WriteFile(script, []byte(scriptText), 0o644); err != nil {
		return err
	}

	load0 := benchutil.LoadAverage()
	progress("building kappa")
	bin, err := benchutil.BuildKappa(ctx, dir)
	if err != nil {
		return err
	}
	k, err := benchutil.StartKappa(bin, filepath.Join(dir, "data"), time.Minute)
	if err != nil {
		return err
	}
	defer k.Stop()
	kHost, kPort, _ := strings.Cut(k.Addr, ":")

	pg, err := pgtest.StartProcess(pgtest.Options{Durable: true})
	if err != nil {
		return fmt.Errorf("start PostgreSQL: %w", err)
	}
	defer pg.Stop()
	progress("kappa (pid %d) at %s, PostgreSQL at %s:%d (fsync on)", k.PID(), k.Addr, pg.Host, pg.Port)

	servers := []struct {
		name, dsn, host, port, user, db string
		isPG                            bool
	}{
		{"kappa", k.DSN(), kHost, kPort, "kappa", "kappa", false},
		{"PostgreSQL", pg.DSN("postgres"), pg.Host, strconv.Itoa(pg.Port), pgtest.User, "postgres", true},
	}
	for _, s := range servers {
		t0 := time.Now()
		if err := load(ctx, s.dsn, c, s.isPG); err != nil {
			return fmt.Errorf("load %s: %w", s.name, err)
		}
		progress("%s: loaded %d rows, view of %d keys ready in %v", s.name, c.keys*c.rowsPerKey, c.keys, time.Since(t0).Round(time.Millisecond))
	}

	tps := map[string]map[string]float64{}
	for _, mode := range c.modes {
		tps[mode] = map[string]float64{}
		for _, s := range servers {
			args := []string{"-n", "-c", strconv.Itoa(c.clients), "-j", strconv.Itoa(c.threads), "-T", strconv.Itoa(c.duration),
				"-M", mode, "-f", script, "-h", s.host, "-p", s.port, "-U", s.user, s.db}
			progress("%s: pgbench %s", s.name, strings.Join(args, " "))
			cmd := exec.CommandContext(ctx, c.pgbench, args...)
			cmd.Env = append(os.Environ(), "PGSSLMODE=disable")
			out, err := cmd.CombinedOutput()
			if err != nil {
				return fmt.Errorf("pgbench against %s: %v\n%s", s.name, err, out)
			}
			v, err := parseTPS(string(out))
			if err != nil {
				return fmt.Errorf("pgbench against %s: %v\n%s", s.name, err, out)
			}
			if failed := failedLine.FindStringSubmatch(string(out)); failed != nil && failed[1] != "0" {
				return fmt.Errorf("pgbench against %s: %s transactions failed\n%s", s.name, failed[1], out)
			}
			tps[mode][s.name] = v
		}
	}

	fmt.Fprintf(stdout, "pgbench -n -c %d -j %d -T %d -f read.sql, view of %d keys (%d table rows):\n\n",
		c.clients, c.threads, c.duration, c.keys, c.keys*c.rowsPerKey)
	fmt.Fprintf(stdout, "  %s", strings.ReplaceAll(scriptText, "\n", "\n  "))
	fmt.Fprintln(stdout)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\tkappa tps\tPostgreSQL tps\tkappa/PostgreSQL\t")
	for _, mode := range c.modes {
		kv, pv := tps[mode]["kappa"], tps[mode]["PostgreSQL"]
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.2f\t\n", mode, kv, pv, kv/pv)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nmachine: %d CPUs shared by kappa, PostgreSQL and pgbench; 1-minute load average %s at the start, %s at the end.\n",
		runtime.NumCPU(), load0, benchutil.LoadAverage())
	return nil
}

var (
	tpsLine    = regexp.MustCompile(`(?m)^tps = ([0-9.]+) \(without initial connection time\)`)
	failedLine = regexp.MustCompile(`(?m)^number of failed transactions: (\d+)`)
)

func parseTPS(out string) (float64, error) {
	m := tpsLine.FindStringSubmatch(out)
	if m == nil {
		return 0, errors.New("no tps line in pgbench's output")
	}
	return strconv.ParseFloat(m[1], 64)
}

// load creates the table and the view and fills the table: COPY of
// rowsPerKey rows per key. On PostgreSQL the view is refreshed after the
// load and gets a unique index on its key; on kappa it is maintained as the
// rows arrive, and load waits until it holds every key.
func load(ctx context.Context, dsn string, c config, isPG bool) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	const view = "CREATE MATERIALIZED VIEW kv AS SELECT k, count(*) AS n, sum(v) AS total FROM events GROUP BY k"
	if _, err := conn.Exec(ctx, "CREATE TABLE events (id bigint PRIMARY KEY, k int NOT NULL, v bigint NOT NULL)"); err != nil {
		return err
	}
	if !isPG {
		if _, err := conn.Exec(ctx, view); err != nil {
			return err
		}
	}
	rows := make([][]any, 0, c.keys*c.rowsPerKey)
	for i := 0; i < c.keys*c.rowsPerKey; i++ {
		rows = append(rows, []any{int64(i), int32(i%c.keys + 1), int64(i * 7 % 1000)})
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"events"}, []string{"id", "k", "v"}, pgx.CopyFromRows(rows)); err != nil {
		return err
	}
	if isPG {
		for _, q := range []string{view, "CREATE UNIQUE INDEX kv_k ON kv (k)", "VACUUM ANALYZE events", "ANALYZE kv"} {
			if _, err := conn.Exec(ctx, q); err != nil {
				return err
			}
		}
		return nil
	}
	deadline := time.Now().Add(5 * time.Minute)
	for {
		var n, rows int
		if err := conn.QueryRow(ctx, "SELECT count(*), coalesce(sum(n), 0) FROM kv").Scan(&n, &rows); err != nil {
			return err
		}
		if n == c.keys && rows == c.keys*c.rowsPerKey {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the view holds %d of %d keys after 5 minutes", n, c.keys)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
