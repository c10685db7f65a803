package pgwire

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// testServer is a Server on 127.0.0.1:0 serving a testEngine.
type testServer struct {
	*Server
	engine *testEngine
	addr   string
	served chan error
}

func startServer(t testing.TB, cfg Config) *testServer {
	t.Helper()
	eng := newTestEngine()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	ts := &testServer{Server: NewServer(eng, cfg), engine: eng, addr: ln.Addr().String(), served: make(chan error, 1)}
	go func() { ts.served <- ts.Serve(ln) }()
	t.Cleanup(func() {
		if err := ts.Close(); err != nil {
			t.Errorf("close server: %v", err)
		}
		select {
		case err := <-ts.served:
			if !errors.Is(err, ErrServerClosed) {
				t.Errorf("Serve returned %v, want ErrServerClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("Serve did not return after Close")
		}
	})
	return ts
}

func (ts *testServer) connString(extra string) string {
	host, port, _ := net.SplitHostPort(ts.addr)
	return fmt.Sprintf("host=%s port=%s user=tester dbname=test sslmode=disable connect_timeout=5 %s", host, port, extra)
}

// connect opens a pgx connection, closed at the end of the test.
func (ts *testServer) connect(t testing.TB, extra string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(ts.connString(extra))
	if err != nil {
		t.Fatalf("parse config: %v", err)
	}
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// pgCode returns the SQLSTATE of a pgx error, or "" if err is not one.
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// rawClient speaks the protocol by hand, for what pgx cannot do (row-limited
// Execute, garbage, odd startups).
type rawClient struct {
	t  testing.TB
	nc net.Conn
	fe *pgproto3.Frontend
}

// dialRaw connects without starting up.
func (ts *testServer) dialRaw(t testing.TB) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	return &rawClient{t: t, nc: nc, fe: pgproto3.NewFrontend(nc, nc)}
}

// startRaw connects and completes the startup, reading up to ReadyForQuery.
func (ts *testServer) startRaw(t testing.TB) *rawClient {
	t.Helper()
	c := ts.dialRaw(t)
	c.send(&pgproto3.StartupMessage{
		ProtocolVersion: pgproto3.ProtocolVersion30,
		Parameters:      map[string]string{"user": "tester", "database": "test"},
	})
	for _, m := range c.readUntil("ReadyForQuery") {
		if m == "<closed>" || m == "<timeout>" {
			t.Fatalf("startup failed: %v", m)
		}
	}
	return c
}

func (c *rawClient) send(msgs ...pgproto3.FrontendMessage) {
	c.t.Helper()
	for _, m := range msgs {
		c.fe.Send(m)
	}
	if err := c.fe.Flush(); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// readUntil reads and formats backend messages until one of type stop
// (by Go type name), the connection's end ("<closed>") or a timeout.
func (c *rawClient) readUntil(stop string) []string {
	var out []string
	if err := c.nc.SetReadDeadline(time.Now().Add(3 * time.Second)); err != nil {
		c.t.Fatalf("set deadline: %v", err)
	}
	for {
		msg, err := c.fe.Receive()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return append(out, "<timeout>")
			}
			return append(out, "<closed>")
		}
		out = append(out, formatBackend(msg))
		if msgType(msg) == stop {
			return out
		}
	}
}
