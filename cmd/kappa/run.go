package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/kappa-db/kappa/log"
	"github.com/kappa-db/kappa/server"
)

// Main is the kappa command line.
type Main struct {
	Stdout, Stderr io.Writer
}

const usage = `kappa: a SQL-first streaming database that speaks PostgreSQL

Usage:
  kappa serve [--data-dir DIR] [--listen ADDR] [flags]
  kappa serve --tls-cert CERT --tls-key KEY --hba-file RULES   (TLS, passwords: see README)

Then connect with: psql -h 127.0.0.1 -p 5433 -U kappa kappa
`

// Run runs the command and returns the exit code.
func (m *Main) Run(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(m.Stdout, usage)
		return 0
	}
	switch args[0] {
	case "serve":
		return m.serve(ctx, args[1:])
	case "version":
		fmt.Fprintln(m.Stdout, "kappa (PostgreSQL 15 protocol)")
		return 0
	}
	fmt.Fprintf(m.Stderr, "kappa: unknown command %q\n\n%s", args[0], usage)
	return 2
}

func (m *Main) serve(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	dataDir := fs.String("data-dir", server.DefaultDataDir, "data directory (created if missing)")
	listen := fs.String("listen", server.DefaultListen, "address to accept PostgreSQL clients on")
	barrier := fs.Duration("barrier-interval", 20*time.Millisecond, "how often an epoch commits (docs/freshness.md)")
	fsync := fs.String("fsync", "group", "when a write is acknowledged: always | group | off")
	maxConns := fs.Int("max-connections", 100, "sessions allowed at once, as PostgreSQL's max_connections (0: unlimited)")
	hbaFile := fs.String("hba-file", "", "client authentication rules in pg_hba.conf format (default: trust loopback, passwords elsewhere)")
	tlsCert := fs.String("tls-cert", "", "TLS certificate (PEM) offered to clients; needs --tls-key")
	tlsKey := fs.String("tls-key", "", "TLS private key (PEM)")
	queryMem := fs.String("query-memory", "1GB", "memory one ad hoc query may hold (sort buffers, hash tables), the default of the query_memory setting (-1: no bound)")
	segBytes := fs.Int64("log-segment-bytes", 0, "size at which a table's log starts a new segment (default 64 MiB); retention and compaction work on whole segments")
	logInterval := fs.Duration("log-maintenance-interval", 0, "how often log retention and compaction run (default 10s)")
	verbose := fs.Bool("v", false, "log debug messages")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var mode log.SyncMode
	switch *fsync {
	case "group":
		mode = log.SyncGroup
	case "always":
		mode = log.SyncAlways
	case "off":
		mode = log.SyncOff
	default:
		fmt.Fprintf(m.Stderr, "kappa: --fsync must be always, group or off, not %q\n", *fsync)
		return 2
	}
	qmem, err := server.ParseMemory(*queryMem)
	if err != nil {
		fmt.Fprintf(m.Stderr, "kappa: --query-memory: %v\n", err)
		return 2
	}
	hba, tlsConfig, err := server.LoadSecurity(*hbaFile, *tlsCert, *tlsKey)
	if err != nil {
		fmt.Fprintf(m.Stderr, "kappa: %v\n", err)
		return 2
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := server.Start(ctx, server.Config{DataDir: *dataDir, Listen: *listen, BarrierInterval: *barrier, Sync: mode, MaxConnections: *maxConns, Logger: logger, HBA: hba, TLS: tlsConfig,
		QueryMemory: qmem, LogSegmentBytes: *segBytes, RetentionInterval: *logInterval})
	if err != nil {
		logger.Error("kappa could not start", "err", err)
		return 1
	}
	logger.Info("kappa is ready", "listen", srv.Addr(), "data-dir", *dataDir, "connect", fmt.Sprintf("psql -h %s -p %s -U kappa kappa", host(srv.Addr()), port(srv.Addr())))
	<-ctx.Done()
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Error("shutdown", "err", err)
		return 1
	}
	return 0
}

func host(addr string) string {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[:i]
		}
	}
	return addr
}

func port(addr string) string {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[i+1:]
		}
	}
	return ""
}
