package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kappa-db/kappa/internal/benchutil"
	"github.com/kappa-db/kappa/internal/pgtest"
	"github.com/kappa-db/kappa/server"
)

func main() {
	benchutil.Main("serverbench", (&Main{Stdout: os.Stdout, Stderr: os.Stderr}).Run)
}

// Main is the program, separate from main so that tests can run it.
type Main struct {
	Stdout io.Writer
	Stderr io.Writer // progress lines; nil discards them
}

// config holds the parsed flags.
type config struct {
	only        map[string]bool
	dir         string
	barrier     time.Duration
	cpuprofile  string
	trace       string
	rows        int
	ingestRuns  int
	freshRate   int
	freshDur    time.Duration
	freshSample int
	pointKeys   int
	pointConns  int
	pointDur    time.Duration
	pointWarm   time.Duration
	// pointProcess runs the point benchmark against kappa in a process of
	// its own (go build + kappa serve).
	pointProcess bool
}

// env is what every benchmark gets: both servers and how to reach them.
type env struct {
	cfg      config
	kappa    *server.Server
	kappaDSN string
	pgDSN    string
	pgPid    int // PostgreSQL's postmaster
	progress func(format string, args ...any)
}

// Run parses args, starts kappa and PostgreSQL, runs the chosen benchmarks
// and prints the table.
func (m *Main) Run(ctx context.Context, args []string) error {
	fl := flag.NewFlagSet("serverbench", flag.ContinueOnError)
	var c config
	only := fl.String("only", "ingest,freshness,point", "comma-separated benchmarks to run")
	fl.StringVar(&c.dir, "dir", os.TempDir(), "directory for kappa's temporary data directory (PostgreSQL's is under /tmp)")
	fl.DurationVar(&c.barrier, "barrier", 0, "kappa's barrier interval (0: the default, 20ms)")
	fl.StringVar(&c.cpuprofile, "cpuprofile", "", "write a CPU profile of each kappa phase to PREFIX-<benchmark>.pprof")
	fl.StringVar(&c.trace, "trace", "", "write an execution trace (go tool trace) of each kappa phase to PREFIX-<benchmark>.trace")
	fl.IntVar(&c.rows, "rows", 1_000_000, "ingest: rows in the COPY")
	fl.IntVar(&c.ingestRuns, "ingest-runs", 3, "ingest: runs on each server (the table shows medians)")
	fl.IntVar(&c.freshRate, "fresh-rate", 2000, "freshness: inserts per second")
	fl.DurationVar(&c.freshDur, "fresh-duration", 10*time.Second, "freshness: how long to insert")
	fl.IntVar(&c.freshSample, "fresh-sample", 10, "freshness: poll the view for every Nth row")
	fl.IntVar(&c.pointKeys, "point-keys", 100_000, "point: rows in the view")
	fl.IntVar(&c.pointConns, "point-clients", 8, "point: concurrent clients")
	fl.DurationVar(&c.pointDur, "point-duration", 10*time.Second, "point: how long to query")
	fl.DurationVar(&c.pointWarm, "point-warmup", time.Second, "point: queries run before measuring")
	fl.BoolVar(&c.pointProcess, "point-process", false, "point: run kappa as its own `kappa serve` process, as PostgreSQL is, rather than in the benchmark's process beside its clients")
	if err := fl.Parse(args); err != nil {
		return err
	}
	c.only = map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		s = strings.TrimSpace(s)
		switch s {
		case "ingest", "freshness", "point":
			c.only[s] = true
		case "":
		default:
			return fmt.Errorf("unknown benchmark %q in -only (ingest, freshness, point)", s)
		}
	}
	switch {
	case c.rows < 1 || c.ingestRuns < 1 || c.pointKeys < 1 || c.pointConns < 1 || c.freshRate < 1 || c.freshSample < 1:
		return errors.New("-rows, -ingest-runs, -point-keys, -point-clients, -fresh-rate and -fresh-sample must be positive")
	}

	e := &env{cfg: c, progress: func(string, ...any) {}}
	if m.Stderr != nil {
		e.progress = func(format string, args ...any) {
			fmt.Fprintf(m.Stderr, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
		}
	}

	dataDir, err := os.MkdirTemp(c.dir, "kappa-serverbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dataDir)
	srv, err := server.Start(ctx, server.Config{DataDir: dataDir, Listen: "127.0.0.1:0", BarrierInterval: c.barrier})
	if err != nil {
		return fmt.Errorf("start kappa: %w", err)
	}
	defer srv.Close()
	e.kappa = srv
	e.kappaDSN = fmt.Sprintf("postgres://kappa@%s/kappa?sslmode=disable", srv.Addr())

	pg, err := pgtest.StartProcess(pgtest.Options{Durable: true})
	if err != nil {
		return fmt.Errorf("start PostgreSQL: %w", err)
	}
	defer pg.Stop()
	e.pgDSN = pg.DSN("postgres")
	e.pgPid = pg.Pid()
	e.progress("kappa at %s (data in %s), PostgreSQL at %s:%d (fsync=on, synchronous_commit=on)", srv.Addr(), dataDir, pg.Host, pg.Port)

	var res results
	load0 := benchutil.LoadAverage()
	if c.only["ingest"] {
		if err := runIngest(ctx, e, &res); err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
	}
	if c.only["freshness"] {
		if err := runFreshness(ctx, e, &res); err != nil {
			return fmt.Errorf("freshness: %w", err)
		}
	}
	if c.only["point"] {
		if err := runPoint(ctx, e, &res); err != nil {
			return fmt.Errorf("point: %w", err)
		}
	}
	res.note("machine: %d CPUs shared by kappa, PostgreSQL and the clients; 1-minute load average %s at the start, %s at the end.",
		runtime.NumCPU(), load0, benchutil.LoadAverage())
	return res.print(m.Stdout)
}

func connect(ctx context.Context, dsn string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	return pgx.ConnectConfig(ctx, cfg)
}

// profile starts a CPU profile and an execution trace of one kappa phase
// when -cpuprofile or -trace is set and returns the function that stops them.
func (e *env) profile(name string) (stop func() error, err error) {
	var stops []func() error
	stop = func() error {
		var errs []error
		for _, s := range stops {
			errs = append(errs, s())
		}
		return errors.Join(errs...)
	}
	if e.cfg.cpuprofile != "" {
		path := e.cfg.cpuprofile + "-" + name + ".pprof"
		f, err := os.Create(path)
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, err
		}
		e.progress("CPU profile of kappa's %s phase goes to %s", name, path)
		stops = append(stops, func() error {
			pprof.StopCPUProfile()
			return f.Close()
		})
	}
	if e.cfg.trace != "" {
		path := e.cfg.trace + "-" + name + ".trace"
		f, err := os.Create(path)
		if err != nil {
			_ = stop()
			return nil, err
		}
		if err := trace.Start(f); err != nil {
			f.Close()
			_ = stop()
			return nil, err
		}
		e.progress("execution trace of kappa's %s phase goes to %s", name, path)
		stops = append(stops, func() error {
			trace.Stop()
			return f.Close()
		})
	}
	return stop, nil
}

// execAll runs statements in order.
func execAll(ctx context.Context, conn *pgx.Conn, stmts ...string) error {
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}
