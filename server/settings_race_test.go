package server_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/kappa-db/kappa/server"
)

// TestPlaceholderSettingsPerSession sets placeholder settings (my.x) in
// one session while others plan queries, which read every setting for
// pg_settings. (Bug: placeholders went into a map shared by all sessions,
// so a SET in one session raced with every other session's planning — Go
// aborts the whole server on that — and one session's placeholder showed
// in the others'.)
func TestPlaceholderSettingsPerSession(t *testing.T) {
	srv := startServer(t, server.Config{})
	ctx := context.Background()
	setter, reader := connect(t, srv), connect(t, srv)
	var wg sync.WaitGroup
	wg.Add(2)
	errs := make(chan error, 2)
	go func() {
		defer wg.Done()
		for i := 0; i < 300; i++ {
			if _, err := setter.Exec(ctx, fmt.Sprintf("SET app.v%d = 'x'", i)); err != nil {
				errs <- err
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 300; i++ {
			var n int
			if err := reader.QueryRow(ctx, "SELECT count(*) FROM pg_settings").Scan(&n); err != nil {
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var mine, theirs string
	if err := setter.QueryRow(ctx, "SHOW app.v7").Scan(&mine); err != nil || mine != "x" {
		t.Errorf("SHOW app.v7 in the session that set it = %q, %v", mine, err)
	}
	err := reader.QueryRow(ctx, "SHOW app.v7").Scan(&theirs)
	if err == nil {
		t.Errorf("SHOW app.v7 in another session = %q, want unrecognized configuration parameter", theirs)
	}
	var n int
	if err := reader.QueryRow(ctx, "SELECT count(*) FROM pg_settings WHERE name LIKE 'app.%'").Scan(&n); err != nil || n != 0 {
		t.Errorf("another session's pg_settings shows %d of its placeholders (%v)", n, err)
	}
}
