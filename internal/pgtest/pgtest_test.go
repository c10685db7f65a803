package pgtest

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestStartCreateDBStop(t *testing.T) {
	pg := Start(t)
	if err := pg.CreateDB("slt one"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.DSN("slt one"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := conn.Close(ctx); err != nil {
			t.Error(err)
		}
	}()
	var db string
	var fsync string
	if err := conn.QueryRow(ctx, "SELECT current_database(), current_setting('fsync')").Scan(&db, &fsync); err != nil {
		t.Fatal(err)
	}
	if db != "slt one" || fsync != "off" {
		t.Fatalf("got database %q fsync %q, want \"slt one\" off", db, fsync)
	}
}

func TestStopRemovesDir(t *testing.T) {
	if _, err := BinDir(); err != nil {
		t.Skip(err)
	}
	pg, err := StartProcess(Options{Durable: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.DSN("postgres"))
	if err != nil {
		t.Fatal(errors.Join(err, pg.Stop()))
	}
	var fsync string
	err = conn.QueryRow(ctx, "SELECT current_setting('fsync')").Scan(&fsync)
	if cerr := conn.Close(ctx); err == nil {
		err = cerr
	}
	if err != nil || fsync != "on" {
		t.Errorf("durable server: fsync %q, err %v", fsync, err)
	}
	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := pg.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if _, err := os.Stat(pg.Dir); !os.IsNotExist(err) {
		t.Fatalf("%s still exists after Stop (%v)", pg.Dir, err)
	}
}
