package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCrashLargeCopy kills the server in the middle of a COPY bigger than
// one log batch (the engine appends a statement in batches of at most 32 MiB,
// as one log.AppendGroup), at the moment the first part has reached the log,
// and checks that the COPY is all there or not there at all after the
// restart, in the table and in a view. It writes ~80 MiB.
func TestCrashLargeCopy(t *testing.T) {
	if testing.Short() {
		t.Skip("writes ~80 MiB and kills kappa")
	}
	bin := kappaBinary(t)
	dir := filepath.Join(t.TempDir(), "data")
	ctx := context.Background()
	p := startKappa(t, bin, dir)
	c := p.mustConnect(ctx)
	for _, s := range []string{
		`CREATE TABLE big (seq bigint, pad text)`,
		`CREATE MATERIALIZED VIEW big_n AS SELECT count(*) AS n FROM big`,
	} {
		if _, err := c.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	const rows = 1_000_000
	pad := strings.Repeat("x", 40)
	var sb strings.Builder
	for i := range rows {
		fmt.Fprintf(&sb, "%d\t%s\n", i, pad)
	}
	data := sb.String()
	logSize := func() int64 {
		var n int64
		_ = filepath.Walk(filepath.Join(dir, "log"), func(_ string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() {
				n += info.Size()
			}
			return nil
		})
		return n
	}
	before := logSize()
	done := make(chan error, 1)
	go func() {
		_, err := c.PgConn().CopyFrom(ctx, strings.NewReader(data), `COPY big FROM STDIN`)
		done <- err
	}()
	// Kill as soon as more than one append's worth is in the log.
	deadline := time.Now().Add(60 * time.Second)
	var size int64
	for {
		size = logSize() - before
		if size > 32<<20 || time.Now().After(deadline) {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("COPY ended (%v) before the log grew past 32 MiB (%d bytes)", err, size)
		default:
		}
		time.Sleep(200 * time.Microsecond)
	}
	p.kill()
	err := <-done
	t.Logf("killed with %d bytes of the COPY in the log; the COPY returned %v", size, err)
	c.Close(ctx)

	p = startKappa(t, bin, dir)
	c = p.mustConnect(ctx)
	defer c.Close(ctx)
	var n, mv int64
	if err := c.QueryRow(ctx, `SELECT count(*) FROM big`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if err := c.QueryRow(ctx, `SELECT n FROM big_n`).Scan(&mv); err != nil {
		t.Fatal(err)
	}
	if n != 0 && n != rows {
		t.Errorf("after the restart big holds %d of the in-flight COPY's %d rows: want all or none", n, rows)
	}
	if mv != n {
		t.Errorf("big_n says %d rows, the table has %d", mv, n)
	}
	if code := p.terminate(30 * time.Second); code != 0 {
		t.Errorf("kappa exited %d after SIGTERM", code)
	}
}
