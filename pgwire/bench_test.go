package pgwire

import (
	"context"
	"net"
	"testing"
	"time"
)

// BenchmarkSimpleQueryRows measures a 1000-row simple query through pgx,
// client included. Run with -benchmem.
func BenchmarkSimpleQueryRows(b *testing.B) {
	ts := startServer(b, Config{})
	conn := ts.connect(b, "")
	pc := conn.PgConn()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		mrr := pc.Exec(ctx, "GENERATE 1000")
		rows := 0
		for mrr.NextResult() {
			rr := mrr.ResultReader()
			for rr.NextRow() {
				rows++
			}
			if _, err := rr.Close(); err != nil {
				b.Fatal(err)
			}
		}
		if err := mrr.Close(); err != nil {
			b.Fatal(err)
		}
		if rows != 1000 {
			b.Fatalf("got %d rows", rows)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/row")
}

// TestRowDoesNotAllocate guards the hot path: a DataRow is encoded into the
// connection's buffer with no allocation, in every result mode but the
// buffering one (whose buffer grows amortized).
func TestRowDoesNotAllocate(t *testing.T) {
	s := NewServer(newTestEngine(), Config{})
	c := newConn(s, discardConn{})
	values := [][]byte{[]byte("12345"), nil, []byte("some text value")}
	for _, mode := range []resultMode{modeSimple, modeExtended} {
		c.rw.begin(context.Background(), mode, nil)
		allocs := testing.AllocsPerRun(10000, func() {
			if err := c.rw.Row(values); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("mode %d: Row allocates %.2f times per row", mode, allocs)
		}
	}
}

// discardConn is a net.Conn that swallows writes.
type discardConn struct{}

func (discardConn) Read([]byte) (int, error)         { return 0, net.ErrClosed }
func (discardConn) Write(p []byte) (int, error)      { return len(p), nil }
func (discardConn) Close() error                     { return nil }
func (discardConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (discardConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (discardConn) SetDeadline(time.Time) error      { return nil }
func (discardConn) SetReadDeadline(time.Time) error  { return nil }
func (discardConn) SetWriteDeadline(time.Time) error { return nil }
