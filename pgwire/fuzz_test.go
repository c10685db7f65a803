package pgwire

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// FuzzServerMessages feeds arbitrary bytes, after a valid startup, into a
// connection served on a net.Pipe with the test engine. The server must
// neither panic nor hang: every input ends with the connection closed within
// the deadline. Seeds live in testdata/fuzz/FuzzServerMessages.
func FuzzServerMessages(f *testing.F) {
	startup, err := (&pgproto3.StartupMessage{
		ProtocolVersion: pgproto3.ProtocolVersion30,
		Parameters:      map[string]string{"user": "fuzz", "database": "fuzz"},
	}).Encode(nil)
	if err != nil {
		f.Fatal(err)
	}
	// A pipe has no IP address: only an "all" rule matches it.
	trustAll, err := ParseHBA("host all all all trust")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		eng := newTestEngine()
		eng.maxSleep = 10 * time.Millisecond
		s := NewServer(eng, Config{MaxMessageSize: 1 << 16, StartupTimeout: time.Second, MaxPortalBuffer: 1 << 20, HBA: trustAll})
		defer s.Close()

		client, server := net.Pipe()
		defer client.Close()
		done := make(chan struct{})
		go func() {
			defer close(done)
			newConn(s, server).serve()
		}()
		if err := client.SetDeadline(time.Now().Add(2 * time.Second)); err != nil {
			t.Fatal(err)
		}
		// net.Pipe is synchronous: drain the server's output meanwhile.
		go func() { _, _ = io.Copy(io.Discard, client) }()
		// Write errors are expected: the server may close on bad input.
		if _, err := client.Write(startup); err == nil {
			_, _ = client.Write(data)
		}
		_ = client.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("connection still served 5s after the client closed")
		}
	})
}
