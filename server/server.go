package server

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/kappa-db/kappa/engine"
	"github.com/kappa-db/kappa/log"
	"github.com/kappa-db/kappa/pgwire"
)

// Defaults for a server started with zero values.
const (
	DefaultDataDir = "./kappa-data"
	DefaultListen  = "127.0.0.1:5433"
)

// Config configures a server.
type Config struct {
	DataDir         string
	Listen          string
	BarrierInterval time.Duration
	Sync            log.SyncMode
	MaxConnections  int
	Logger          *slog.Logger
	// HBA decides how clients authenticate (nil: pgwire.DefaultHBA,
	// loopback trusted, passwords elsewhere).
	HBA *pgwire.HBA
	// TLS, when set, lets clients connect with TLS.
	TLS *tls.Config
	// ProgressInterval: see engine.Config.
	ProgressInterval time.Duration
	// RetentionInterval and LogSegmentBytes: see engine.Config.
	RetentionInterval time.Duration
	LogSegmentBytes   int64
	// QueryMemory: see engine.Config; ParseMemory reads it from a flag.
	QueryMemory int64
}

// Server is a running kappa.
type Server struct {
	cfg    Config
	engine *engine.Engine
	wire   *pgwire.Server
	ln     net.Listener
	done   chan error
}

// Start opens the data directory and starts serving.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.DataDir == "" {
		cfg.DataDir = DefaultDataDir
	}
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	eng, err := engine.Open(engine.Config{DataDir: cfg.DataDir, BarrierInterval: cfg.BarrierInterval, Sync: cfg.Sync, Logger: cfg.Logger,
		ProgressInterval: cfg.ProgressInterval, RetentionInterval: cfg.RetentionInterval, LogSegmentBytes: cfg.LogSegmentBytes,
		QueryMemory: cfg.QueryMemory, MaxConnections: cfg.MaxConnections})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		eng.Close()
		return nil, err
	}
	s := &Server{cfg: cfg, engine: eng, ln: ln, done: make(chan error, 1)}
	s.wire = pgwire.NewServer(eng, pgwire.Config{MaxConnections: cfg.MaxConnections, Logger: cfg.Logger, HBA: cfg.HBA, TLS: cfg.TLS})
	go func() { s.done <- s.wire.Serve(ln) }()
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Engine is the server's engine.
func (s *Server) Engine() *engine.Engine { return s.engine }

// Shutdown stops accepting clients, ends sessions (waiting for running
// statements until ctx ends), then commits a final epoch and closes the data
// directory.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.shutdown(ctx, false)
}

// Close shuts down without waiting for running statements.
func (s *Server) Close() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return s.shutdown(ctx, true)
}

func (s *Server) shutdown(ctx context.Context, now bool) error {
	werr := s.wire.Shutdown(ctx)
	if now && errors.Is(werr, context.Canceled) {
		werr = nil // cutting statements short is what Close asked for
	}
	<-s.done
	eerr := s.engine.Close()
	return errors.Join(werr, eerr)
}

// ParseMemory parses a memory size as PostgreSQL's memory settings are
// written ("64MB", "1GB", a bare number of kB, -1 for no bound) and returns
// bytes; the command line uses it for --query-memory.
func ParseMemory(value string) (int64, error) { return engine.ParseMemory(value) }
