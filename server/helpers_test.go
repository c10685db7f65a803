package server_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/kappa-db/kappa/server"
)

// startServer starts kappa on a temporary data directory and a free
// loopback port (cfg's DataDir and Listen are filled in when empty), and
// closes it when the test ends.
func startServer(t testing.TB, cfg server.Config) *server.Server {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	srv, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	})
	return srv
}

// connect opens a connection to srv as the bootstrap superuser, closed when
// the test ends.
// startOn starts kappa on data directory dir and connects to it, for a
// test that stops and restarts it there: the caller closes both.
func startOn(t testing.TB, dir string) (*server.Server, *pgx.Conn) {
	t.Helper()
	ctx := context.Background()
	srv, err := server.Start(ctx, server.Config{DataDir: dir, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn(srv.Addr(), "kappa", "", ""))
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	return srv, conn
}

func connect(t testing.TB, srv *server.Server) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn(srv.Addr(), "kappa", "", ""))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	return conn
}
