package pgwire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/kappa-db/kappa/pgerr"
)

const (
	// flushThreshold is how much output is buffered before it is written
	// even without a flush point, so a large result streams in bounded
	// memory.
	flushThreshold = 64 << 10
	// maxIdleWriteBuffer is the largest write buffer kept between flushes;
	// one huge row should not pin its memory for the connection's life.
	maxIdleWriteBuffer = 1 << 20
	// lingerTimeout bounds how long a connection closed for a protocol error
	// keeps reading, so the client sees the error instead of a reset.
	lingerTimeout = 500 * time.Millisecond
)

// errShutdown is returned by receive when the server is shutting down.
var errShutdown = errors.New("pgwire: server shutting down")

type connPhase uint8

const (
	phaseStartup connPhase = iota // in the handshake
	phaseBusy                     // handling a message; only its goroutine writes
	phaseIdle                     // blocked reading the next message
)

// conn is one client connection. Its goroutine owns every field outside mu;
// the server reaches in only through mu (cancel, shutdown).
type conn struct {
	srv *Server
	// nc is the client's connection: the TCP connection, or a TLS
	// connection over it after startTLS (which swaps it under mu).
	nc  net.Conn
	tls bool
	be  *pgproto3.Backend // set after startup
	log *slog.Logger

	sess   Session
	pid    uint32
	secret uint32

	// ctx is cancelled when the server shuts down or the connection ends.
	ctx    context.Context
	cancel context.CancelFunc

	wbuf     []byte
	writeErr error // sticky: the client is gone
	// fatal ends the connection after the current message with a FATAL
	// ErrorResponse (an output message that cannot be encoded, a protocol
	// violation inside COPY).
	fatal error
	// recvErr ends the connection after the current message: input read
	// inside a COPY failed, so the stream cannot be resynchronized.
	recvErr error
	linger  bool

	stmts          map[string]Statement
	portals        map[string]*portal
	ignoreTillSync bool

	rw      resultWriter
	dataRow pgproto3.DataRow
	copyIn  copyInReader
	copyOut copyOutWriter

	// callCtx is the context of engine calls, reused from message to message
	// until a CancelRequest cancels it (a new one per message cost four
	// allocations per round trip of a point query).
	callCtx context.Context
	// unnamed is the unnamed portal, reused by every Bind to it.
	unnamed portal
	// rowDesc caches the last RowDescription sent for a portal: a prepared
	// statement described at every Bind sends the same bytes each time.
	rowDesc struct {
		first   *Column
		n       int
		formats []int16
		msg     []byte
	}
	tag []byte // CommandComplete's tag, reused
	// cmdComplete is the CommandComplete an Execute sends, reused: a new
	// one escapes to send's interface, an allocation per query.
	cmdComplete pgproto3.CommandComplete

	mu struct {
		sync.Mutex
		phase      connPhase
		closing    bool // the server is shutting down
		goodbye    bool // FATAL 57P01 already written by the server
		copyIn     bool // a COPY FROM read may block: cancel must interrupt it
		inCall     bool // an engine call is running: cancel reaches callCtx
		cancelCall context.CancelFunc
	}
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{
		srv:     s,
		nc:      nc,
		log:     s.log.With("remote", nc.RemoteAddr().String()),
		stmts:   make(map[string]Statement),
		portals: make(map[string]*portal),
	}
	c.ctx, c.cancel = context.WithCancel(s.ctx)
	c.rw.c = c
	c.copyIn.c = c
	c.copyOut.c = c
	return c
}

// serve runs the connection to its end. A panic in the engine ends only this
// connection, with a FATAL XX000.
func (c *conn) serve() {
	defer c.srv.forget(c)
	defer c.cancel()
	defer c.close()
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("pgwire: panic serving connection", "panic", r, "stack", string(debug.Stack()))
			c.fatal = nil
			c.sendFatal(pgerr.New(pgerr.InternalError, "internal error: %v", r))
		}
	}()
	if !c.startup() {
		return
	}
	c.be = pgproto3.NewBackend(c.nc, c.nc)
	c.be.SetMaxBodyLen(c.srv.cfg.MaxMessageSize)
	c.loop()
}

// close releases the session and the socket; with linger set it first lets
// the client read the error it was sent.
func (c *conn) close() {
	if c.sess != nil {
		if err := c.closeSession(); err != nil {
			c.log.Warn("pgwire: close session", "err", err)
		}
	}
	if c.linger {
		if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite() // best effort: the socket is closed next anyway
		}
		if c.nc.SetReadDeadline(time.Now().Add(lingerTimeout)) == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(c.nc, int64(c.srv.cfg.MaxMessageSize)+flushThreshold))
		}
	}
	if err := c.nc.Close(); err != nil && !isConnError(err) {
		c.log.Debug("pgwire: close connection", "err", err)
	}
}

func (c *conn) closeSession() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic in Session.Close: %v", r)
		}
	}()
	return c.sess.Close()
}

// loop reads and handles messages until the client leaves or the connection
// must end.
func (c *conn) loop() {
	for {
		msg, err := c.receive()
		if err != nil {
			c.receiveFailed(err)
			return
		}
		if c.ignoreTillSync {
			// After an error in the extended protocol everything up to Sync
			// is discarded, as PostgreSQL does.
			switch msg.(type) {
			case *pgproto3.Sync, *pgproto3.Terminate:
			default:
				continue
			}
		}
		if _, ok := msg.(*pgproto3.Terminate); ok {
			return
		}
		ctx := c.beginCall()
		c.handle(ctx, msg)
		c.endCall()
		switch {
		case c.recvErr != nil:
			c.receiveFailed(c.recvErr)
			return
		case c.fatal != nil:
			c.sendFatal(c.fatal)
			return
		case c.writeErr != nil:
			c.log.Debug("pgwire: client gone", "err", c.writeErr)
			return
		}
	}
}

func (c *conn) handle(ctx context.Context, msg pgproto3.FrontendMessage) {
	switch m := msg.(type) {
	case *pgproto3.Query:
		c.simpleQuery(ctx, m.String)
	case *pgproto3.Parse:
		c.parse(ctx, m)
	case *pgproto3.Bind:
		c.bind(ctx, m)
	case *pgproto3.Describe:
		c.describe(ctx, m)
	case *pgproto3.Execute:
		c.execute(ctx, m)
	case *pgproto3.Close:
		c.closeObject(m)
	case *pgproto3.Sync:
		c.ignoreTillSync = false
		if err := c.sess.EndImplicit(ctx, true); err != nil {
			c.sendError(err)
		}
		c.readyForQuery()
	case *pgproto3.Flush:
		if err := c.flush(); err != nil {
			return // sticky in writeErr; loop ends
		}
	case *pgproto3.CopyData, *pgproto3.CopyDone, *pgproto3.CopyFail:
		// Left over from a COPY FROM that failed; the protocol says to
		// ignore them.
	case *pgproto3.FunctionCall:
		c.sendError(pgerr.New(pgerr.FeatureNotSupported, "the function call protocol is not supported"))
		c.readyForQuery()
	default:
		c.fatal = pgerr.New(pgerr.ProtocolViolation, "unexpected message %s", messageName(msg))
		c.linger = true
	}
}

// messageName names a message for errors ("Parse").
func messageName(msg pgproto3.FrontendMessage) string {
	return strings.TrimPrefix(fmt.Sprintf("%T", msg), "*pgproto3.")
}

// receive reads the next message, marking the connection idle meanwhile so
// Shutdown may say goodbye on it.
func (c *conn) receive() (pgproto3.FrontendMessage, error) {
	c.mu.Lock()
	if c.mu.closing {
		c.mu.Unlock()
		return nil, errShutdown
	}
	c.mu.phase = phaseIdle
	c.mu.Unlock()

	msg, err := c.be.Receive()

	c.mu.Lock()
	c.mu.phase = phaseBusy
	closing := c.mu.closing
	c.mu.Unlock()
	if closing {
		return nil, errShutdown
	}
	return msg, err
}

// receiveFailed ends the connection after a failed read: quietly when the
// client went away, with a FATAL when it broke the protocol.
func (c *conn) receiveFailed(err error) {
	var tooBig *pgproto3.ExceededMaxBodyLenErr
	switch {
	case errors.Is(err, errShutdown):
		c.mu.Lock()
		said := c.mu.goodbye
		c.mu.Unlock()
		if !said {
			c.sendFatal(shutdownError())
		}
	case errors.As(err, &tooBig):
		c.linger = true
		c.sendFatal(pgerr.New(pgerr.ProgramLimitExceeded,
			"message of %d bytes exceeds the limit of %d bytes", tooBig.ActualBodyLen, tooBig.MaxExpectedBodyLen))
	case isConnError(err):
		c.log.Debug("pgwire: connection ended", "err", err)
	default:
		c.linger = true
		c.sendFatal(pgerr.New(pgerr.ProtocolViolation, "invalid frontend message: %v", err))
	}
}

// isConnError reports whether err means the socket is gone (as opposed to
// the client sending something invalid).
func isConnError(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrClosedPipe) ||
		errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne)
}

func shutdownError() *pgerr.Error {
	e := pgerr.New(pgerr.AdminShutdown, "terminating connection due to administrator command")
	e.Severity = "FATAL"
	return e
}

// beginCall returns the context for the engine calls of one message; a
// CancelRequest cancels it. The context is reused until it is cancelled.
func (c *conn) beginCall() context.Context {
	if c.callCtx == nil || c.callCtx.Err() != nil {
		ctx, cancel := context.WithCancel(c.ctx)
		c.callCtx = ctx
		c.mu.Lock()
		c.mu.cancelCall = cancel
		c.mu.inCall = true
		c.mu.Unlock()
		return ctx
	}
	c.mu.Lock()
	c.mu.inCall = true
	c.mu.Unlock()
	return c.callCtx
}

func (c *conn) endCall() {
	c.mu.Lock()
	c.mu.inCall = false
	c.mu.Unlock()
}

// cancelCall cancels the running call, if any (CancelRequest). Between
// calls it does nothing, as in PostgreSQL.
func (c *conn) cancelCall() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.inCall && c.mu.cancelCall != nil {
		c.mu.cancelCall()
	}
}

// shutdown is the server's graceful stop: a connection in startup is closed,
// an idle one is told FATAL 57P01 and closed, a busy one finishes its
// (cancelled) call and says goodbye at its next read.
func (c *conn) shutdown() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.closing = true
	switch c.mu.phase {
	case phaseStartup:
		_ = c.nc.Close() // its goroutine sees the error and ends
	case phaseIdle:
		c.goodbyeLocked()
	}
}

// closeNow closes the connection whatever it is doing.
func (c *conn) closeNow() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.closing = true
	if c.mu.phase == phaseIdle {
		c.goodbyeLocked()
		return
	}
	_ = c.nc.Close() // its goroutine sees the error and ends
}

// goodbyeLocked writes FATAL 57P01 and closes the socket. Only while idle:
// then the connection's goroutine is blocked reading and writes nothing.
func (c *conn) goodbyeLocked() {
	if c.mu.goodbye {
		return
	}
	c.mu.goodbye = true
	msg, err := errorResponse(shutdownError()).Encode(nil)
	if err == nil && c.nc.SetWriteDeadline(time.Now().Add(100*time.Millisecond)) == nil {
		_, _ = c.nc.Write(msg) // best effort: the client may be gone
	}
	_ = c.nc.Close() // its goroutine sees the error and ends
}

// send buffers msg; output is written at flush points and whenever the
// buffer passes flushThreshold. An encoding failure (only possible with
// absurd engine output) ends the connection.
func (c *conn) send(msg pgproto3.BackendMessage) error {
	buf, err := msg.Encode(c.wbuf)
	if err != nil {
		err = fmt.Errorf("pgwire: encode %T: %w", msg, err)
		if c.fatal == nil {
			c.fatal = err
		}
		return err
	}
	c.wbuf = buf
	if len(c.wbuf) >= flushThreshold {
		return c.flush()
	}
	return c.writeErr
}

// sendRaw buffers already encoded messages.
func (c *conn) sendRaw(b []byte) error {
	c.wbuf = append(c.wbuf, b...)
	if len(c.wbuf) >= flushThreshold {
		return c.flush()
	}
	return c.writeErr
}

// flush writes the buffered output.
func (c *conn) flush() error {
	if c.writeErr != nil {
		return c.writeErr
	}
	if len(c.wbuf) == 0 {
		return nil
	}
	_, err := c.nc.Write(c.wbuf)
	if cap(c.wbuf) > maxIdleWriteBuffer {
		c.wbuf = nil
	} else {
		c.wbuf = c.wbuf[:0]
	}
	if err != nil {
		c.writeErr = fmt.Errorf("pgwire: write to client: %w", err)
	}
	return c.writeErr
}

// sendFatal sends err as a FATAL ErrorResponse and flushes; the caller then
// ends the connection.
func (c *conn) sendFatal(err error) {
	pe := c.pgError(err)
	c.logError(pe, err)
	fe := *pe
	fe.Severity = "FATAL"
	if c.send(errorResponse(&fe)) != nil {
		return
	}
	if err := c.flush(); err != nil {
		c.log.Debug("pgwire: send fatal error", "err", err)
	}
}

// sendError sends err as an ErrorResponse. A FATAL error (a call cut short
// by shutdown, or an engine error marked FATAL) is instead kept to end the
// connection once the current message is done, as PostgreSQL ends a session
// on FATAL without another ReadyForQuery.
func (c *conn) sendError(err error) {
	pe := c.pgError(err)
	if pe.Severity == "FATAL" {
		if c.fatal == nil {
			c.fatal = pe
		}
		return
	}
	c.logError(pe, err)
	_ = c.send(errorResponse(pe)) // a failure is sticky in fatal/writeErr
}

func (c *conn) logError(pe *pgerr.Error, err error) {
	if pe.Code == pgerr.InternalError {
		c.log.Error("pgwire: internal error", "err", err)
	}
}

// pgError is the user-visible form of err: the *pgerr.Error it wraps, a
// cancellation, or an internal error.
func (c *conn) pgError(err error) *pgerr.Error {
	var pe *pgerr.Error
	if errors.As(err, &pe) {
		return pe
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		if c.srv.closed() {
			return shutdownError()
		}
		return pgerr.New(pgerr.QueryCanceled, "canceling statement due to user request")
	}
	return pgerr.As(err)
}

func errorResponse(e *pgerr.Error) *pgproto3.ErrorResponse {
	sev := e.Severity
	if sev == "" {
		sev = "ERROR"
	}
	code := e.Code
	if code == "" {
		code = pgerr.InternalError
	}
	return &pgproto3.ErrorResponse{
		Severity:            sev,
		SeverityUnlocalized: sev,
		Code:                code,
		Message:             e.Message,
		Detail:              e.Detail,
		Hint:                e.Hint,
		Position:            e.Position,
	}
}

// readyForQuery ends a simple query or a Sync: it reports the transaction
// status and flushes. Outside a transaction block no portal survives, as in
// PostgreSQL where portals end with their transaction.
func (c *conn) readyForQuery() {
	if c.fatal != nil {
		return // the connection ends with a FATAL instead
	}
	status := c.sess.TxStatus()
	if status == 'I' {
		clear(c.portals)
	}
	if c.send(&pgproto3.ReadyForQuery{TxStatus: status}) != nil {
		return
	}
	_ = c.flush() // a failure is sticky in writeErr; the loop ends
}

// simpleQuery handles a Query message: every statement runs in turn with text
// formats; the first error skips the rest.
func (c *conn) simpleQuery(ctx context.Context, query string) {
	// PostgreSQL drops the unnamed statement and portal at a simple query.
	delete(c.stmts, "")
	delete(c.portals, "")
	stmts, err := c.sess.Parse(ctx, query)
	failed := false
	switch {
	case err != nil:
		c.sendError(err)
		failed = true
	case len(stmts) == 0:
		_ = c.send(&pgproto3.EmptyQueryResponse{}) // failure is sticky
	default:
		for i, st := range stmts {
			if err := ctx.Err(); err != nil {
				c.sendError(err)
				failed = true
				break
			}
			c.rw.begin(ctx, modeSimple, nil)
			tag, err := st.Execute(ctx, nil, nil, nil, &c.rw)
			if err == nil && i == len(stmts)-1 {
				// The implicit transaction commits before the last
				// statement is reported done.
				err = c.sess.EndImplicit(ctx, true)
			}
			if err = c.rw.end(err); err != nil {
				c.sendError(err)
				failed = true
				break
			}
			if c.send(&pgproto3.CommandComplete{CommandTag: []byte(tag)}) != nil {
				break
			}
		}
	}
	if failed {
		_ = c.sess.EndImplicit(ctx, false)
	}
	c.readyForQuery()
}
