package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kappa-db/kappa/internal/pgtest"
	"github.com/kappa-db/kappa/sqllogictest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := Main{Stdout: os.Stdout, Stderr: os.Stderr}.Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// Main is the program, with its output streams, so that tests can run it.
type Main struct {
	Stdout, Stderr io.Writer
}

// Exit statuses.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

// config is the parsed command line.
type config struct {
	dsn        string
	startPG    bool
	mv         bool
	engines    string
	createDB   bool
	rewrite    bool
	extended   bool
	verbose    bool
	threshold  int
	timeout    time.Duration
	paths      []string
	enginesSet bool
}

func (m Main) parse(args []string) (config, error) {
	var c config
	fl := flag.NewFlagSet("kappa-slt", flag.ContinueOnError)
	fl.SetOutput(m.Stderr)
	fl.StringVar(&c.dsn, "dsn", os.Getenv("KAPPA_SLT_DSN"), "server to run against (default $KAPPA_SLT_DSN)")
	fl.BoolVar(&c.startPG, "pg", false, "start a PostgreSQL (internal/pgtest) and run against it")
	fl.BoolVar(&c.mv, "mv", false, "also run every query as a materialized view")
	fl.StringVar(&c.engines, "engine", "postgresql,kappa", "engine names for skipif/onlyif, comma separated (default postgresql with -pg)")
	fl.BoolVar(&c.createDB, "createdb", false, "run each file in a database of its own, created and dropped (always on with -pg)")
	fl.BoolVar(&c.rewrite, "rewrite", false, "write the actual results into the files")
	fl.BoolVar(&c.extended, "extended", false, "use the extended query protocol instead of simple queries")
	fl.BoolVar(&c.verbose, "v", false, "print every failure in full (default: its first line)")
	fl.IntVar(&c.threshold, "ht", 0, "hash threshold for -rewrite (a file's hash-threshold overrides it)")
	fl.DurationVar(&c.timeout, "timeout", sqllogictest.DefaultRecordTimeout, "time limit of one record")
	fl.Usage = func() {
		fmt.Fprintln(m.Stderr, "usage: kappa-slt [-dsn postgres://...] [-pg] [-mv] [-engine names] [-createdb] [-rewrite] [-v] files-or-dirs...")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return c, err
	}
	fl.Visit(func(f *flag.Flag) { c.enginesSet = c.enginesSet || f.Name == "engine" })
	c.paths = fl.Args()
	switch {
	case len(c.paths) == 0:
		return c, errors.New("no files or directories given")
	case c.startPG == (c.dsn != ""):
		return c, errors.New("give exactly one of -dsn and -pg")
	}
	if c.startPG && !c.enginesSet {
		c.engines = "postgresql"
	}
	return c, nil
}

// Run runs the program and returns its exit status.
func (m Main) Run(ctx context.Context, args []string) int {
	c, err := m.parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(m.Stderr, "kappa-slt: %v\n", err)
		return exitUsage
	}
	files, err := collect(c.paths)
	if err != nil {
		fmt.Fprintf(m.Stderr, "kappa-slt: %v\n", err)
		return exitUsage
	}
	runner := &sqllogictest.Runner{
		DSN:                 c.dsn,
		EngineNames:         strings.Split(c.engines, ","),
		AsMaterializedViews: c.mv,
		Rewrite:             c.rewrite,
		ExtendedProtocol:    c.extended,
		HashThreshold:       c.threshold,
		RecordTimeout:       c.timeout,
	}
	if c.verbose {
		runner.Log = m.Stdout
	}
	if c.startPG {
		pg, err := pgtest.StartProcess(pgtest.Options{})
		if err != nil {
			fmt.Fprintf(m.Stderr, "kappa-slt: %v\n", err)
			return exitFailed
		}
		defer func() {
			if err := pg.Stop(); err != nil {
				fmt.Fprintf(m.Stderr, "kappa-slt: %v\n", err)
			}
		}()
		runner.DSN = pg.DSN("postgres")
		c.createDB = true
	}
	var dropDB func(ctx context.Context) error
	if c.createDB {
		runner.Connect = func(ctx context.Context, path string) (*pgx.Conn, error) {
			conn, drop, err := freshDatabase(ctx, runner.DSN)
			dropDB = drop
			return conn, err
		}
	}
	var total sqllogictest.Result
	failedFiles := 0
	for _, f := range files {
		res, err := runner.RunFile(ctx, f)
		if dropDB != nil {
			if derr := dropDB(ctx); derr != nil {
				err = errors.Join(err, derr)
			}
			dropDB = nil
		}
		total.Add(res)
		line := fmt.Sprintf("%s: %d passed, %d failed, %d skipped", f, res.Passed, res.Failed, res.Skipped)
		if c.mv {
			line += fmt.Sprintf("; views %d passed, %d failed", res.MVPassed, res.MVFailed)
		}
		if err != nil {
			failedFiles++
			line += fmt.Sprintf(" (stopped: %v)", err)
		}
		if !c.verbose {
			// The full reports are long; -v prints them as they happen.
			for _, f := range res.Failures {
				first, _, _ := strings.Cut(f.String(), "\n")
				fmt.Fprintln(m.Stdout, first)
			}
		}
		fmt.Fprintln(m.Stdout, line)
		if ctx.Err() != nil {
			break
		}
	}
	if failedFiles > 0 {
		fmt.Fprintf(m.Stdout, "files stopped early: %d\n", failedFiles)
	}
	if c.mv {
		fmt.Fprintf(m.Stdout, "views: %d passed, %d failed\n", total.MVPassed, total.MVFailed)
	}
	fmt.Fprintf(m.Stdout, "slt: %d passed, %d failed, %d skipped\n", total.Passed, total.Failed, total.Skipped)
	if total.Failed > 0 || total.MVFailed > 0 || failedFiles > 0 || ctx.Err() != nil {
		return exitFailed
	}
	return exitOK
}

// collect expands directories into their *.slt and *.test files, sorted.
func collect(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && (strings.HasSuffix(path, ".slt") || strings.HasSuffix(path, ".test")) {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("walk %s: %w", p, err)
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, nil
}

var dbSeq atomic.Int64

// freshDatabase creates a database on the server at dsn and connects to it;
// drop closes the connection's server side and drops the database.
func freshDatabase(ctx context.Context, dsn string) (*pgx.Conn, func(context.Context) error, error) {
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to create a database: %w", err)
	}
	name := fmt.Sprintf("slt_%d_%d", os.Getpid(), dbSeq.Add(1))
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		return nil, nil, errors.Join(fmt.Errorf("create database %s: %w", name, err), admin.Close(ctx))
	}
	drop := func(ctx context.Context) error {
		// WITH (FORCE) ends a connection the runner could not close.
		_, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)")
		if err != nil {
			err = fmt.Errorf("drop database %s: %w", name, err)
		}
		return errors.Join(err, admin.Close(ctx))
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("parse DSN: %w", err), drop(ctx))
	}
	cfg.Database = name
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("connect to %s: %w", name, err), drop(ctx))
	}
	return conn, drop, nil
}
