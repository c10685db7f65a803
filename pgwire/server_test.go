package pgwire

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

func TestSimpleQuery(t *testing.T) {
	ts := startServer(t, Config{})
	conn := ts.connect(t, "")
	ctx := testCtx(t)

	var n int32
	if err := conn.QueryRow(ctx, "SELECT 1", pgx.QueryExecModeSimpleProtocol).Scan(&n); err != nil || n != 1 {
		t.Fatalf("SELECT 1 = %d, %v", n, err)
	}

	results, err := conn.PgConn().Exec(ctx, "SELECT 1; GENERATE 3; BEGIN; COMMIT").ReadAll()
	if err != nil {
		t.Fatalf("multi-statement: %v", err)
	}
	var tags []string
	for _, r := range results {
		tags = append(tags, r.CommandTag.String())
	}
	if got, want := strings.Join(tags, ","), "SELECT 1,SELECT 3,BEGIN,COMMIT"; got != want {
		t.Errorf("tags = %s, want %s", got, want)
	}
	if got := len(results[1].Rows); got != 3 {
		t.Errorf("GENERATE 3 returned %d rows", got)
	}
}

func TestMultiStatementErrorSkipsRest(t *testing.T) {
	ts := startServer(t, Config{})
	conn := ts.connect(t, "")
	ctx := testCtx(t)

	results, err := conn.PgConn().Exec(ctx, "GENERATE 2; FAIL 22012 division by zero; BEGIN").ReadAll()
	if pgCode(err) != "22012" {
		t.Fatalf("err = %v, want 22012", err)
	}
	if len(results) == 0 || len(results[0].Rows) != 2 {
		t.Fatalf("results = %+v", results)
	}
	// BEGIN after the error must not have run.
	if st := conn.PgConn().TxStatus(); st != 'I' {
		t.Errorf("tx status = %c, want I", st)
	}
	// The connection carries on.
	if _, err := conn.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatalf("after error: %v", err)
	}
}

func TestNoticesAndParameterStatus(t *testing.T) {
	ts := startServer(t, Config{})
	var mu sync.Mutex
	var notices []string
	cfg, err := pgx.ParseConfig(ts.connString("application_name=app1"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		mu.Lock()
		defer mu.Unlock()
		notices = append(notices, n.Severity+" "+n.Message)
	}
	ctx := testCtx(t)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if got := conn.PgConn().ParameterStatus("application_name"); got != "app1" {
		t.Errorf("application_name = %q", got)
	}
	if got := conn.PgConn().ParameterStatus("server_version"); got == "" {
		t.Errorf("no server_version reported")
	}
	if _, err := conn.Exec(ctx, "NOTICE careful now; SET search_path = s1", pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(notices) != 1 || notices[0] != "NOTICE careful now" {
		t.Errorf("notices = %q", notices)
	}
	if got := conn.PgConn().ParameterStatus("search_path"); got != "s1" {
		t.Errorf("search_path = %q after SET", got)
	}
}

func TestExtendedQuery(t *testing.T) {
	ts := startServer(t, Config{})
	conn := ts.connect(t, "")
	ctx := testCtx(t)

	// pgx's default mode: Parse/Describe, then Bind with binary int4
	// results.
	rows, err := conn.Query(ctx, "GENERATE 4")
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil || len(got) != 4 || got[3] != 3 {
		t.Fatalf("GENERATE 4 = %v, %v", got, err)
	}

	// Text parameters, described as text.
	var a, b string
	if err := conn.QueryRow(ctx, "ECHO $1, $2", "hello", "world").Scan(&a, &b); err != nil || a != "hello" || b != "world" {
		t.Fatalf("ECHO = %q %q, %v", a, b, err)
	}
	// NULL parameters.
	var s *string
	if err := conn.QueryRow(ctx, "ECHO $1", nil).Scan(&s); err != nil || s != nil {
		t.Fatalf("ECHO NULL = %v, %v", s, err)
	}

	// Declared binary int4 and int8 parameters, mixed result formats.
	pc := conn.PgConn()
	res := pc.ExecParams(ctx, "ECHO $1, $2, $3",
		[][]byte{{0, 0, 0, 42}, []byte("-7"), []byte("txt")},
		[]uint32{oidInt4, oidInt8, oidText},
		[]int16{1, 0, 0},
		[]int16{0, 1, 0}).Read()
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if len(res.Rows) != 1 {
		t.Fatalf("rows = %v", res.Rows)
	}
	row := res.Rows[0]
	if string(row[0]) != "42" || !bytes.Equal(row[1], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf9}) || string(row[2]) != "txt" {
		t.Errorf("row = %q", row)
	}
	if f := res.FieldDescriptions; len(f) != 3 || f[0].DataTypeOID != oidInt4 || f[1].Format != 1 {
		t.Errorf("fields = %+v", f)
	}

	// Prepared statements by name, described with their parameter types.
	sd, err := pc.Prepare(ctx, "echo2", "ECHO $1, $2", []uint32{oidInt4})
	if err != nil {
		t.Fatal(err)
	}
	if len(sd.ParamOIDs) != 2 || sd.ParamOIDs[0] != oidInt4 || sd.ParamOIDs[1] != oidText {
		t.Errorf("param OIDs = %v", sd.ParamOIDs)
	}
	res = pc.ExecPrepared(ctx, "echo2", [][]byte{{0, 0, 0, 5}, []byte("x")}, []int16{1, 0}, []int16{0, 1}).Read()
	if res.Err != nil || len(res.Rows) != 1 || string(res.Rows[0][0]) != "5" || string(res.Rows[0][1]) != "x" {
		t.Fatalf("echo2 = %q, %v", res.Rows, res.Err)
	}
	if err := pc.Deallocate(ctx, "echo2"); err != nil {
		t.Fatal(err)
	}

	// Every exec mode pgx has.
	for _, mode := range []pgx.QueryExecMode{
		pgx.QueryExecModeCacheStatement, pgx.QueryExecModeCacheDescribe,
		pgx.QueryExecModeDescribeExec, pgx.QueryExecModeExec, pgx.QueryExecModeSimpleProtocol,
	} {
		var v int32
		if err := conn.QueryRow(ctx, "SELECT 1", mode).Scan(&v); err != nil || v != 1 {
			t.Errorf("mode %v: SELECT 1 = %d, %v", mode, v, err)
		}
	}
}

func TestErrorWithPosition(t *testing.T) {
	ts := startServer(t, Config{})
	conn := ts.connect(t, "")
	ctx := testCtx(t)
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
		_, err := conn.Exec(ctx, "  BAD syntax", mode)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42601" || pe.Position != 3 || pe.Severity != "ERROR" {
			t.Errorf("mode %v: err = %#v", mode, err)
		}
	}
	_, err := conn.Exec(ctx, "FAIL 23505 duplicate key value")
	if pgCode(err) != "23505" || !strings.Contains(err.Error(), "duplicate key value") {
		t.Errorf("FAIL: %v", err)
	}
	if _, err := conn.Exec(ctx, "SELECT 1"); err != nil {
		t.Errorf("connection unusable after errors: %v", err)
	}
}

func TestCopyFromAndTo(t *testing.T) {
	ts := startServer(t, Config{})
	conn := ts.connect(t, "")
	ctx := testCtx(t)
	pc := conn.PgConn()

	data := "1\tone\n2\t\\N\n3\ttab\\there\n"
	tag, err := pc.CopyFrom(ctx, strings.NewReader(data), "COPY t FROM STDIN")
	if err != nil || tag.String() != "COPY 3" {
		t.Fatalf("CopyFrom = %q, %v", tag, err)
	}
	// A large copy crosses many CopyData messages and read buffers.
	var big strings.Builder
	for i := range 20000 {
		big.WriteString("row\t")
		big.WriteString(strings.Repeat("x", i%50))
		big.WriteString("\n")
	}
	tag, err = pc.CopyFrom(ctx, strings.NewReader(big.String()), "COPY big FROM STDIN")
	if err != nil || tag.String() != "COPY 20000" {
		t.Fatalf("big CopyFrom = %q, %v", tag, err)
	}

	var out bytes.Buffer
	tag, err = pc.CopyTo(ctx, &out, "COPY t TO STDOUT")
	if err != nil || tag.String() != "COPY 3" {
		t.Fatalf("CopyTo = %q, %v", tag, err)
	}
	if out.String() != data {
		t.Errorf("CopyTo wrote %q, want %q", out.String(), data)
	}

	// A failing source makes pgx send CopyFail.
	_, err = pc.CopyFrom(ctx, io.MultiReader(strings.NewReader("4\tfour\n"), errReader{}), "COPY t FROM STDIN")
	if pgCode(err) != "57014" {
		t.Fatalf("CopyFrom with failing reader: %v, want 57014", err)
	}
	var n int64
	if err := conn.QueryRow(ctx, "COUNT t").Scan(&n); err != nil || n != 3 {
		t.Fatalf("COUNT t = %d, %v (the failed copy must add nothing)", n, err)
	}
}

// inCopyIn reports whether the session with pid is reading COPY data.
func (ts *testServer) inCopyIn(pid uint32) bool {
	ts.mu.Lock()
	c := ts.mu.sessions[pid]
	ts.mu.Unlock()
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.copyIn
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("source broke") }

func TestCancelRequest(t *testing.T) {
	ts := startServer(t, Config{})
	ts.engine.started = make(chan struct{}, 1)
	conn := ts.connect(t, "")
	ctx := testCtx(t)

	errc := make(chan error, 1)
	go func() {
		_, err := conn.Exec(context.Background(), "SLEEP", pgx.QueryExecModeSimpleProtocol)
		errc <- err
	}()
	select {
	case <-ts.engine.started:
	case <-ctx.Done():
		t.Fatal("SLEEP did not start")
	}
	if err := conn.PgConn().CancelRequest(ctx); err != nil {
		t.Fatalf("CancelRequest: %v", err)
	}
	select {
	case err := <-errc:
		if pgCode(err) != "57014" {
			t.Fatalf("SLEEP ended with %v, want 57014", err)
		}
	case <-ctx.Done():
		t.Fatal("SLEEP was not cancelled")
	}
	if _, err := conn.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatalf("after cancel: %v", err)
	}

	// A context cancel in pgx sends the CancelRequest itself.
	qctx, cancel := context.WithCancel(ctx)
	go func() {
		<-ts.engine.started
		cancel()
	}()
	_, err := conn.Exec(qctx, "SLEEP")
	if err == nil {
		t.Fatal("cancelled SLEEP succeeded")
	}
	if !conn.PgConn().IsClosed() {
		if _, err := conn.Exec(ctx, "SELECT 1"); err != nil {
			t.Fatalf("after ctx cancel: %v", err)
		}
	}

	// A wrong key cancels nothing.
	raw := ts.dialRaw(t)
	raw.send(&pgproto3.CancelRequest{ProcessID: conn.PgConn().PID(), SecretKey: []byte{1, 2, 3, 4}})
	if got := raw.readUntil("ReadyForQuery"); len(got) != 1 || got[0] != "<closed>" {
		t.Errorf("cancel connection got %v, want it closed", got)
	}
}

func TestCancelDuringCopyIn(t *testing.T) {
	ts := startServer(t, Config{})
	conn := ts.connect(t, "")
	ctx := testCtx(t)
	// The source blocks after one row; the cancel must interrupt the
	// server's read of the copy data.
	pr, pw := io.Pipe()
	defer pw.Close()
	errc := make(chan error, 1)
	go func() {
		_, err := conn.PgConn().CopyFrom(context.Background(), pr, "COPY t FROM STDIN")
		errc <- err
	}()
	if _, err := pw.Write([]byte("1\tone\n")); err != nil {
		t.Fatal(err)
	}
	// Cancel only once the server is inside the COPY.
	pid := conn.PgConn().PID()
	for deadline := time.Now().Add(5 * time.Second); !ts.inCopyIn(pid); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("server never entered COPY FROM")
		}
	}
	if err := conn.PgConn().CancelRequest(ctx); err != nil {
		t.Fatal(err)
	}
	// pgx waits for its source before it reports the server's error. Wait
	// for the server to leave the COPY; had the cancel not ended it, ending
	// the source would make the copy succeed.
	for deadline := time.Now().Add(5 * time.Second); ts.inCopyIn(pid); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("cancel did not end the COPY on the server")
		}
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if pgCode(err) != "57014" {
			t.Fatalf("copy ended with %v, want 57014", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("COPY was not cancelled")
	}
}

func TestGarbageOnOneConnection(t *testing.T) {
	ts := startServer(t, Config{})
	good := ts.connect(t, "")
	ctx := testCtx(t)

	// Garbage instead of a startup packet.
	raw := ts.dialRaw(t)
	if _, err := raw.nc.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	got := raw.readUntil("ReadyForQuery")
	if len(got) != 2 || !strings.Contains(got[0], "08P01") || got[1] != "<closed>" {
		t.Errorf("garbage startup got %v", got)
	}

	// Garbage after a valid startup.
	raw = ts.startRaw(t)
	if _, err := raw.nc.Write([]byte{'Q', 0, 0, 0, 2, 'x', 'y', 0}); err != nil {
		t.Fatal(err)
	}
	got = raw.readUntil("ReadyForQuery")
	if len(got) != 2 || !strings.Contains(got[0], "FATAL 08P01") || got[1] != "<closed>" {
		t.Errorf("garbage message got %v", got)
	}

	// A connection that closes mid-message.
	raw = ts.startRaw(t)
	if _, err := raw.nc.Write([]byte{'Q', 0, 0, 1, 0, 'S'}); err != nil {
		t.Fatal(err)
	}
	raw.nc.Close()

	var n int32
	if err := good.QueryRow(ctx, "SELECT 1").Scan(&n); err != nil || n != 1 {
		t.Fatalf("good connection: %d, %v", n, err)
	}
}

func TestStartupVariants(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := testCtx(t)

	// sslmode=prefer sends SSLRequest first; the 'N' makes pgx go on in
	// plain text.
	cfg, err := pgx.ParseConfig(strings.Replace(ts.connString(""), "sslmode=disable", "sslmode=prefer", 1))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("sslmode=prefer: %v", err)
	}
	conn.Close(ctx)

	// sslmode=require must fail: the server has no TLS.
	cfg, err = pgx.ParseConfig(strings.Replace(ts.connString(""), "sslmode=disable", "sslmode=require", 1))
	if err != nil {
		t.Fatal(err)
	}
	if conn, err := pgx.ConnectConfig(ctx, cfg); err == nil {
		conn.Close(ctx)
		t.Fatal("sslmode=require connected without TLS")
	}

	// Raw SSLRequest then GSSEncRequest: each answered 'N', then the real
	// startup goes through.
	raw := ts.dialRaw(t)
	for _, code := range []uint32{sslRequestCode, gssEncRequestCode} {
		pkt := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 8), code)
		if _, err := raw.nc.Write(pkt); err != nil {
			t.Fatal(err)
		}
		var b [1]byte
		if _, err := io.ReadFull(raw.nc, b[:]); err != nil || b[0] != 'N' {
			t.Fatalf("encryption request %d answered %q, %v", code, b[0], err)
		}
	}
	raw.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "u"}})
	if got := raw.readUntil("ReadyForQuery"); got[len(got)-1] != "ReadyForQuery I" {
		t.Errorf("startup after refusals got %v", got)
	}

	// Protocol 2.0 is refused.
	raw = ts.dialRaw(t)
	raw.send(&pgproto3.StartupMessage{ProtocolVersion: 2 << 16, Parameters: map[string]string{"user": "u"}})
	if got := raw.readUntil("ReadyForQuery"); len(got) != 2 || !strings.Contains(got[0], "0A000") {
		t.Errorf("protocol 2.0 got %v", got)
	}

	// Protocol 3.2 with an extension negotiates down to 3.0.
	raw = ts.dialRaw(t)
	raw.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion32,
		Parameters: map[string]string{"user": "u", "_pq_.ext": "on"}})
	got := raw.readUntil("ReadyForQuery")
	if len(got) == 0 || got[0] != "NegotiateProtocolVersion 0 [_pq_.ext]" || got[len(got)-1] != "ReadyForQuery I" {
		t.Errorf("protocol 3.2 got %v", got)
	}

	// No user name.
	raw = ts.dialRaw(t)
	raw.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{}})
	if got := raw.readUntil("ReadyForQuery"); len(got) != 2 || !strings.Contains(got[0], "FATAL 28000") {
		t.Errorf("no user got %v", got)
	}

	// The engine refuses the session.
	cfg, err = pgx.ParseConfig(strings.Replace(ts.connString(""), "dbname=test", "dbname=nosuchdb", 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pgx.ConnectConfig(ctx, cfg); pgCode(err) != "3D000" {
		t.Errorf("nosuchdb: %v, want 3D000", err)
	}
}

func TestStartupTimeout(t *testing.T) {
	ts := startServer(t, Config{StartupTimeout: 100 * time.Millisecond})
	raw := ts.dialRaw(t)
	start := time.Now()
	if got := raw.readUntil("ReadyForQuery"); len(got) != 1 || got[0] != "<closed>" {
		t.Errorf("silent client got %v", got)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("silent client kept for %v", d)
	}
}

func TestOversizeMessage(t *testing.T) {
	ts := startServer(t, Config{MaxMessageSize: 1024})
	conn := ts.connect(t, "")
	ctx := testCtx(t)
	_, err := conn.Exec(ctx, "ECHO $1", strings.Repeat("x", 4096))
	if code := pgCode(err); code != "54000" {
		t.Fatalf("oversize: %v (code %q), want 54000", err, code)
	}
	if !conn.PgConn().IsClosed() {
		// pgx notices at the next use at the latest.
		if _, err := conn.Exec(ctx, "SELECT 1"); err == nil {
			t.Error("connection still usable after oversize message")
		}
	}
	other := ts.connect(t, "")
	if _, err := other.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatalf("server unusable after oversize message: %v", err)
	}
}

func TestMaxConnections(t *testing.T) {
	ts := startServer(t, Config{MaxConnections: 1})
	ctx := testCtx(t)
	first := ts.connect(t, "")
	cfg, err := pgx.ParseConfig(ts.connString(""))
	if err != nil {
		t.Fatal(err)
	}
	if c, err := pgx.ConnectConfig(ctx, cfg); pgCode(err) != "53300" {
		if c != nil {
			c.Close(ctx)
		}
		t.Fatalf("second connection: %v, want 53300", err)
	}
	// Cancel requests do not count against the limit.
	if err := first.PgConn().CancelRequest(ctx); err != nil {
		t.Fatalf("cancel at the limit: %v", err)
	}
	if err := first.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// The slot frees once the server has seen the Terminate.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := pgx.ConnectConfig(ctx, cfg)
		if err == nil {
			c.Close(ctx)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("slot never freed: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPanicEndsOnlyItsConnection(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := testCtx(t)
	bad := ts.connect(t, "")
	good := ts.connect(t, "")
	_, err := bad.Exec(ctx, "PANIC")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "XX000" || pe.Severity != "FATAL" {
		t.Fatalf("PANIC: %v", err)
	}
	if _, err := good.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatalf("other connection after panic: %v", err)
	}
}

func TestShutdown(t *testing.T) {
	ts := startServer(t, Config{})
	ts.engine.started = make(chan struct{}, 1)
	ctx := testCtx(t)
	idle := ts.startRaw(t)
	busy := ts.connect(t, "")
	errc := make(chan error, 1)
	go func() {
		_, err := busy.Exec(context.Background(), "SLEEP", pgx.QueryExecModeSimpleProtocol)
		errc <- err
	}()
	<-ts.engine.started

	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := ts.Shutdown(sctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if got := idle.readUntil("ReadyForQuery"); len(got) != 2 || !strings.Contains(got[0], "FATAL 57P01") || got[1] != "<closed>" {
		t.Errorf("idle client got %v", got)
	}
	if err := <-errc; pgCode(err) != "57P01" {
		t.Errorf("busy client got %v, want 57P01", err)
	}
	if _, err := pgx.Connect(ctx, ts.connString("")); err == nil {
		t.Error("connected after Shutdown")
	}
}
