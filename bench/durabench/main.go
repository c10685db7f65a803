package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kappa-db/kappa/internal/benchutil"
	"github.com/kappa-db/kappa/internal/pgtest"
	"github.com/kappa-db/kappa/server"
)

func main() {
	benchutil.Main("durabench", (&Main{Stdout: os.Stdout, Stderr: os.Stderr}).Run)
}

// Main is the program, separate from main so that tests can run it.
type Main struct {
	Stdout io.Writer
	Stderr io.Writer // progress; nil discards it
}

type config struct {
	only         map[string]bool
	dir          string
	clients      int
	smallDur     time.Duration
	rows         int
	padBytes     int
	partitions   int
	kappaBinary  string
	progress     func(format string, args ...any)
	startTimeout time.Duration
}

// Run parses args, runs the chosen benchmarks and prints the table.
func (m *Main) Run(ctx context.Context, args []string) error {
	fl := flag.NewFlagSet("durabench", flag.ContinueOnError)
	var c config
	only := fl.String("only", "small,backfill,recovery", "comma-separated benchmarks to run")
	fl.StringVar(&c.dir, "dir", os.TempDir(), "directory for kappa's data directories (on the disk to measure)")
	fl.IntVar(&c.clients, "clients", 16, "small: concurrent connections")
	fl.DurationVar(&c.smallDur, "small-duration", 10*time.Second, "small: how long each system inserts")
	fl.IntVar(&c.rows, "rows", 10_000_000, "backfill and recovery: rows in the table")
	fl.IntVar(&c.padBytes, "pad", 60, "backfill and recovery: bytes of text per row (about 100 B per row in all)")
	fl.IntVar(&c.partitions, "partitions", 1, "backfill and recovery: partitions of the table's log (CREATE TABLE ... WITH (partitions = N))")
	fl.StringVar(&c.kappaBinary, "kappa", "", "kappa binary for backfill and recovery (default: go build it)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	c.only = map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		switch s = strings.TrimSpace(s); s {
		case "small", "backfill", "recovery":
			c.only[s] = true
		case "":
		default:
			return fmt.Errorf("unknown benchmark %q in -only (small, backfill, recovery)", s)
		}
	}
	if c.clients < 1 || c.rows < 1 || c.padBytes < 0 || c.partitions < 1 {
		return errors.New("-clients, -rows and -partitions must be positive")
	}
	c.progress = func(string, ...any) {}
	if m.Stderr != nil {
		c.progress = func(format string, args ...any) {
			fmt.Fprintf(m.Stderr, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
		}
	}
	c.startTimeout = 5 * time.Minute

	var res table
	load0 := benchutil.LoadAverage()
	if c.only["small"] {
		if err := runSmall(ctx, &c, &res); err != nil {
			return fmt.Errorf("small: %w", err)
		}
	}
	if c.only["backfill"] || c.only["recovery"] {
		if err := runBackfillRecovery(ctx, &c, &res); err != nil {
			return fmt.Errorf("backfill/recovery: %w", err)
		}
	}
	res.notes = append(res.notes, fmt.Sprintf("machine: %d CPUs; 1-minute load average %s at the start, %s at the end.",
		runtime.NumCPU(), load0, benchutil.LoadAverage()))
	return res.print(m.Stdout)
}

// table is the printed result: one line per measure.
type table struct {
	lines []line
	notes []string
}

type line struct {
	bench, what, kappa, pg, ratio, target string
}

func (t *table) add(l line) { t.lines = append(t.lines, l) }

func (t *table) print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "benchmark\tmeasure\tkappa\tPostgreSQL\tratio\ttarget\n")
	for _, l := range t.lines {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", l.bench, l.what, l.kappa, l.pg, l.ratio, l.target)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range t.notes {
		fmt.Fprintf(w, "\n%s", n)
	}
	_, err := fmt.Fprintln(w)
	return err
}

func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) + " ms" }

// ---- small writes ----

// runSmall inserts single rows from c.clients connections into kappa
// (in process, default group commit) and PostgreSQL (fsync and
// synchronous_commit on), for tables with and without a primary key.
func runSmall(ctx context.Context, c *config, res *table) error {
	dataDir, err := os.MkdirTemp(c.dir, "kappa-durabench-small-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dataDir)
	srv, err := server.Start(ctx, server.Config{DataDir: dataDir, Listen: "127.0.0.1:0"})
	if err != nil {
		return fmt.Errorf("start kappa: %w", err)
	}
	defer srv.Close()
	kdsn := fmt.Sprintf("postgres://kappa@%s/kappa?sslmode=disable", srv.Addr())
	pg, err := pgtest.StartProcess(pgtest.Options{Durable: true})
	if err != nil {
		return fmt.Errorf("start PostgreSQL: %w", err)
	}
	defer pg.Stop()
	pdsn := pg.DSN("postgres")
	c.progress("small: kappa at %s, PostgreSQL at %s:%d (fsync=on, synchronous_commit=on)", srv.Addr(), pg.Host, pg.Port)
	for _, pk := range []bool{false, true} {
		ddl := "CREATE TABLE small_nopk (id bigint, c int, v bigint, note text)"
		table := "small_nopk"
		what := "single-row INSERT, no primary key"
		if pk {
			ddl = "CREATE TABLE small_pk (id bigint PRIMARY KEY, c int, v bigint, note text)"
			table = "small_pk"
			what = "single-row INSERT, primary key"
		}
		var rates [2]float64
		var lats [2][]time.Duration
		for i, dsn := range []string{kdsn, pdsn} {
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				return err
			}
			_, err = conn.Exec(ctx, ddl)
			conn.Close(ctx)
			if err != nil {
				return fmt.Errorf("%s: %w", ddl, err)
			}
			n, l, err := insertLoop(ctx, dsn, table, c.clients, c.smallDur)
			if err != nil {
				return err
			}
			rates[i], lats[i] = float64(n)/c.smallDur.Seconds(), l
			c.progress("small: %s on %s: %d rows, p99 %s", what, []string{"kappa", "PostgreSQL"}[i], n, ms(percentile(l, 0.99)))
		}
		res.add(line{"small writes", fmt.Sprintf("%s, %d clients, rows/s", what, c.clients),
			strconv.FormatFloat(rates[0], 'f', 0, 64), strconv.FormatFloat(rates[1], 'f', 0, 64),
			strconv.FormatFloat(rates[0]/rates[1], 'f', 2, 64), map[bool]string{false: ">= 1.0", true: "-"}[pk]})
		for _, q := range []float64{0.5, 0.99} {
			res.add(line{"small writes", fmt.Sprintf("%s, latency p%g", what, q*100),
				ms(percentile(lats[0], q)), ms(percentile(lats[1], q)), "", ""})
		}
	}
	return nil
}

// insertLoop runs clients connections that each INSERT one row at a time
// (extended protocol, prepared once) for d, and returns the rows inserted
// and every statement's latency.
func insertLoop(ctx context.Context, dsn, table string, clients int, d time.Duration) (int, []time.Duration, error) {
	var mu sync.Mutex
	var all []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	sql := "INSERT INTO " + table + " (id, c, v, note) VALUES ($1, $2, $3, $4)"
	for cl := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				mu.Lock()
				firstErr = cmp(firstErr, err)
				mu.Unlock()
				return
			}
			defer conn.Close(ctx)
			var lat []time.Duration
			for i := int64(0); time.Now().Before(deadline); i++ {
				t0 := time.Now()
				if _, err := conn.Exec(ctx, sql, int64(cl)<<40|i, cl, i, "small write"); err != nil {
					mu.Lock()
					firstErr = cmp(firstErr, err)
					mu.Unlock()
					return
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return len(all), all, firstErr
}

func cmp(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// ---- backfill and recovery ----

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return nil
	})
	return n
}

// runBackfillRecovery loads c.rows rows into a table with a live view,
// creates a second GROUP BY view over them (backfill), then kills the server
// and restarts it (recovery).
func runBackfillRecovery(ctx context.Context, c *config, res *table) error {
	work, err := os.MkdirTemp(c.dir, "kappa-durabench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	bin := c.kappaBinary
	if bin == "" {
		if bin, err = benchutil.BuildKappa(ctx, work); err != nil {
			return err
		}
	}
	dataDir := filepath.Join(work, "data")
	p, err := benchutil.StartKappa(bin, dataDir, c.startTimeout)
	if err != nil {
		return err
	}
	defer func() { p.Kill() }()
	conn, err := pgx.Connect(ctx, p.DSN())
	if err != nil {
		return err
	}
	for _, s := range []string{
		fmt.Sprintf("CREATE TABLE big (id bigint, g int, v bigint, pad text) WITH (partitions = %d)", c.partitions),
		"CREATE MATERIALIZED VIEW live AS SELECT g, count(*) AS n, sum(v) AS total FROM big GROUP BY g",
	} {
		if _, err := conn.Exec(ctx, s); err != nil {
			conn.Close(ctx)
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	pad := strings.Repeat("x", c.padBytes)
	const chunk = 200_000
	t0 := time.Now()
	var sumV int64
	for start := 0; start < c.rows; start += chunk {
		var sb strings.Builder
		for i := start; i < min(start+chunk, c.rows); i++ {
			v := int64(i*7919%100_000) - 50_000
			sumV += v
			fmt.Fprintf(&sb, "%d\t%d\t%d\t%s\n", i, i%1000, v, pad)
		}
		if _, err := conn.PgConn().CopyFrom(ctx, strings.NewReader(sb.String()), "COPY big FROM STDIN"); err != nil {
			conn.Close(ctx)
			return fmt.Errorf("COPY: %w", err)
		}
	}
	var n, total int64
	if err := conn.QueryRow(ctx, "SELECT sum(n)::bigint, sum(total)::bigint FROM live").Scan(&n, &total); err != nil {
		conn.Close(ctx)
		return err
	}
	if n != int64(c.rows) || total != sumV {
		conn.Close(ctx)
		return fmt.Errorf("view live holds %d rows summing to %d, want %d and %d", n, total, c.rows, sumV)
	}
	c.progress("loaded %d rows in %s; data directory %.1f MB", c.rows, time.Since(t0).Round(time.Millisecond), float64(dirSize(dataDir))/1e6)

	if c.only["backfill"] {
		pid := p.PID()
		cpu0, t0 := benchutil.TreeCPU(pid), time.Now()
		q := "CREATE MATERIALIZED VIEW backfilled AS SELECT g, count(*) AS n, sum(v) AS total, min(v) AS lo, max(v) AS hi FROM big GROUP BY g"
		if _, err := conn.Exec(ctx, q); err != nil {
			conn.Close(ctx)
			return fmt.Errorf("%s: %w", q, err)
		}
		wall, cpu := time.Since(t0), benchutil.TreeCPU(pid)-cpu0
		if err := conn.QueryRow(ctx, "SELECT sum(n)::bigint, sum(total)::bigint FROM backfilled").Scan(&n, &total); err != nil {
			conn.Close(ctx)
			return err
		}
		if n != int64(c.rows) || total != sumV {
			conn.Close(ctx)
			return fmt.Errorf("backfilled view holds %d rows summing to %d, want %d and %d", n, total, c.rows, sumV)
		}
		c.progress("backfill: %d rows in %s, %s of CPU", c.rows, wall.Round(time.Millisecond), cpu.Round(time.Millisecond))
		res.add(line{"backfill", fmt.Sprintf("CREATE MATERIALIZED VIEW ... GROUP BY over %d rows in %d log partitions, rows/s", c.rows, c.partitions),
			strconv.FormatFloat(float64(c.rows)/wall.Seconds(), 'f', 0, 64), "", "", ""})
		perCore := "-"
		if cpu > 0 {
			perCore = strconv.FormatFloat(float64(c.rows)/cpu.Seconds(), 'f', 0, 64)
		}
		res.add(line{"backfill", "rows per CPU-second of the kappa process", perCore, "", "", ">= 1,000,000"})
	}
	conn.Close(ctx)

	if c.only["recovery"] {
		size := dirSize(dataDir)
		p.Kill()
		t0 := time.Now()
		p, err = benchutil.StartKappa(bin, dataDir, c.startTimeout)
		if err != nil {
			return fmt.Errorf("restart: %w", err)
		}
		ready := p.Ready
		conn, err := pgx.Connect(ctx, p.DSN())
		if err != nil {
			return err
		}
		err = conn.QueryRow(ctx, "SELECT sum(n)::bigint FROM live").Scan(&n)
		answered := time.Since(t0)
		conn.Close(ctx)
		if err != nil {
			return err
		}
		if n != int64(c.rows) {
			return fmt.Errorf("after the restart view live holds %d rows, want %d", n, c.rows)
		}
		c.progress("recovery: %.1f MB of log and state; ready after %s, a view answered after %s", float64(size)/1e6, ready.Round(time.Millisecond), answered.Round(time.Millisecond))
		res.add(line{"recovery", fmt.Sprintf("SIGKILL, restart with %.0f MB of log and state: until it accepts connections", float64(size)/1e6),
			ms(ready), "", "", "<= 2 s"})
		res.add(line{"recovery", "... until a view answers", ms(answered), "", "", "<= 2 s"})
		p.Stop()
	}
	return nil
}
