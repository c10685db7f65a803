package pgwire

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"
)

// DefaultMaxMessageSize is the largest frontend message body accepted when
// Config.MaxMessageSize is zero. PostgreSQL itself caps most messages at 1 GB;
// 64 MiB keeps one client from pinning that much memory per connection.
const DefaultMaxMessageSize = 64 << 20

// DefaultStartupTimeout bounds the startup handshake when
// Config.StartupTimeout is zero (PostgreSQL's authentication_timeout).
const DefaultStartupTimeout = 60 * time.Second

// DefaultMaxPortalBuffer bounds the rows buffered for one portal executed with
// a row limit when Config.MaxPortalBuffer is zero.
const DefaultMaxPortalBuffer = 256 << 20

// ErrServerClosed is returned by Serve after Close or Shutdown.
var ErrServerClosed = errors.New("pgwire: server closed")

// Config holds the server's limits. The zero value is usable.
type Config struct {
	// MaxMessageSize is the largest message body, in bytes, a client may send
	// (0 = DefaultMaxMessageSize). A larger message gets a FATAL 54000 and the
	// connection is closed; the body is never allocated.
	MaxMessageSize int
	// MaxConnections caps the sessions open at once (0 = unlimited). A client
	// over the cap gets FATAL 53300 after its startup message.
	MaxConnections int
	// StartupTimeout bounds the time from accept to the end of the startup
	// handshake (0 = DefaultStartupTimeout).
	StartupTimeout time.Duration
	// MaxPortalBuffer bounds the bytes of rows buffered for a portal executed
	// with a row limit (0 = DefaultMaxPortalBuffer); over it, Execute fails
	// with 54000.
	MaxPortalBuffer int
	// Logger receives connection-level events; nil discards them.
	Logger *slog.Logger
	// HBA decides how each client authenticates (nil: DefaultHBA).
	HBA *HBA
	// TLS, when set, lets clients switch to TLS (SSLRequest is answered
	// 'S'); nil refuses TLS.
	TLS *tls.Config
}

// Server serves the PostgreSQL wire protocol (v3.0) for an Engine.
type Server struct {
	engine Engine
	cfg    Config
	log    *slog.Logger
	hba    *HBA
	// mockKey derives the salts of mock SCRAM exchanges (auth.go).
	mockKey [32]byte

	// ctx is the parent of every connection's context; Close and Shutdown
	// cancel it, which cancels running calls into the engine.
	ctx    context.Context
	cancel context.CancelFunc

	mu struct {
		sync.Mutex
		closed    bool
		listeners map[net.Listener]struct{}
		// conns holds every accepted connection, sessions or not, so Close
		// can reach connections still in their startup.
		conns map[*conn]struct{}
		// sessions holds connections past startup by process id, for
		// CancelRequest and MaxConnections.
		sessions map[uint32]*conn
	}
	// wg counts connection goroutines.
	wg sync.WaitGroup
}

// NewServer returns a server for engine; cfg's zero fields take defaults.
func NewServer(engine Engine, cfg Config) *Server {
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = DefaultMaxMessageSize
	}
	if cfg.StartupTimeout <= 0 {
		cfg.StartupTimeout = DefaultStartupTimeout
	}
	if cfg.MaxPortalBuffer <= 0 {
		cfg.MaxPortalBuffer = DefaultMaxPortalBuffer
	}
	s := &Server{engine: engine, cfg: cfg, log: cfg.Logger, hba: cfg.HBA}
	if s.hba == nil {
		s.hba = defaultHBA
	}
	_, _ = rand.Read(s.mockKey[:]) // never fails (crypto/rand panics instead)
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.mu.listeners = make(map[net.Listener]struct{})
	s.mu.conns = make(map[*conn]struct{})
	s.mu.sessions = make(map[uint32]*conn)
	return s
}

// Serve accepts connections on ln and serves each on its own goroutine. It
// returns ErrServerClosed after Close or Shutdown, or the listener's error if
// it fails otherwise; transient accept errors are retried with a backoff.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.mu.closed {
		s.mu.Unlock()
		_ = ln.Close() // already closing; its error says nothing new
		return ErrServerClosed
	}
	s.mu.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.mu.listeners, ln)
		s.mu.Unlock()
	}()

	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.closed() {
				return ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("pgwire: accept: %w", err)
			}
			// EMFILE and friends: wait and retry, as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("pgwire: accept failed; retrying", "err", err, "backoff", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		s.start(nc)
	}
}

func (s *Server) closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.closed
}

// start registers nc and serves it on a new goroutine.
func (s *Server) start(nc net.Conn) {
	c := newConn(s, nc)
	s.mu.Lock()
	if s.mu.closed {
		s.mu.Unlock()
		_ = nc.Close() // refused during shutdown
		return
	}
	s.mu.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		c.serve()
	}()
}

// forget removes c from the server's tables once its goroutine is done.
func (s *Server) forget(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.mu.conns, c)
	if c.pid != 0 && s.mu.sessions[c.pid] == c {
		delete(s.mu.sessions, c.pid)
	}
}

// register assigns c a unique process id and secret and counts it against
// MaxConnections. It returns false when the server is full or closing.
func (s *Server) register(c *conn) (ok bool, err error) {
	var key [8]byte
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closed {
		return false, nil
	}
	if s.cfg.MaxConnections > 0 && len(s.mu.sessions) >= s.cfg.MaxConnections {
		return false, nil
	}
	for {
		if _, err := rand.Read(key[:]); err != nil {
			return false, fmt.Errorf("pgwire: generate cancel key: %w", err)
		}
		// Positive and non-zero like a real backend pid: some clients keep
		// it in a signed int and treat 0 as "none".
		pid := binary.BigEndian.Uint32(key[:4]) & 0x7fffffff
		if pid == 0 || s.mu.sessions[pid] != nil {
			continue
		}
		c.pid = pid
		c.secret = binary.BigEndian.Uint32(key[4:])
		s.mu.sessions[pid] = c
		return true, nil
	}
}

// cancelRequest cancels the running call of the session with pid if secret
// matches; like PostgreSQL it says nothing either way.
func (s *Server) cancelRequest(pid uint32, secret []byte) {
	s.mu.Lock()
	c := s.mu.sessions[pid]
	s.mu.Unlock()
	if c == nil {
		s.log.Debug("pgwire: cancel request for unknown process", "pid", pid)
		return
	}
	var want [4]byte
	binary.BigEndian.PutUint32(want[:], c.secret)
	if subtle.ConstantTimeCompare(want[:], secret) != 1 {
		s.log.Debug("pgwire: cancel request with wrong key", "pid", pid)
		return
	}
	c.cancelCall()
}

// Close stops accepting, cancels running queries and closes every connection
// at once; idle clients are told FATAL 57P01 first. It does not wait for the
// connection goroutines: an engine call that ignores its context keeps its
// goroutine until it returns.
func (s *Server) Close() error {
	err := s.beginShutdown()
	s.mu.Lock()
	for c := range s.mu.conns {
		c.closeNow()
	}
	s.mu.Unlock()
	return err
}

// Shutdown stops accepting, cancels running queries, tells idle clients FATAL
// 57P01 and closes them, and waits for busy connections to finish their
// cancelled call and close. When ctx ends first it closes what is left and
// returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.beginShutdown()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return err
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.mu.conns {
			c.closeNow()
		}
		s.mu.Unlock()
		return ctx.Err()
	}
}

// beginShutdown closes the listeners, cancels every running call and says
// goodbye to idle connections. Busy ones notice at their next read.
func (s *Server) beginShutdown() error {
	s.mu.Lock()
	s.mu.closed = true
	var errs []error
	for ln := range s.mu.listeners {
		if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, fmt.Errorf("pgwire: close listener: %w", err))
		}
	}
	conns := make([]*conn, 0, len(s.mu.conns))
	for c := range s.mu.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	s.cancel()
	for _, c := range conns {
		c.shutdown()
	}
	return errors.Join(errs...)
}
