package server_test

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kappa-db/kappa/server"
)

// TestJoinStateLargerThanHeap runs a join view whose operator state is more
// than ten times the Go heap limit set for the test (debug.SetMemoryLimit,
// what GOMEMLIMIT sets), and checks that the view stays right and the live
// heap stays far below the state: join state lives in pebble, not in Go
// maps (issue 3, "Memory").
//
// KAPPA_MEMTEST_LIMIT_MIB sets the heap limit (default 16); the state grows to
// eleven times it.
func TestJoinStateLargerThanHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a few hundred MB of join state")
	}
	limitMiB := 16
	if s := os.Getenv("KAPPA_MEMTEST_LIMIT_MIB"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			t.Fatalf("KAPPA_MEMTEST_LIMIT_MIB=%q", s)
		}
		limitMiB = v
	}
	limit := int64(limitMiB) << 20
	ctx := context.Background()
	srv := startServer(t, server.Config{})
	conn := connect(t, srv)
	for _, s := range []string{
		`CREATE TABLE l (id bigint PRIMARY KEY, k bigint NOT NULL, v bigint NOT NULL, pad text)`,
		`CREATE TABLE r (id bigint PRIMARY KEY, k bigint NOT NULL, v bigint NOT NULL, pad text)`,
		// Each l row meets two r rows; the state holds every row of both
		// (width reads the pads, so that the join keeps them).
		`CREATE MATERIALIZED VIEW lr AS SELECT l.k % 100 AS g, count(*) AS n, sum(l.v + r.v) AS total,
		   min(length(l.pad) + length(r.pad)) AS width
		   FROM l JOIN r ON r.k = l.k GROUP BY l.k % 100`,
	} {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	view, ok := srv.Engine().Catalog().Lookup("lr")
	if !ok {
		t.Fatal("no view lr")
	}

	old := debug.SetMemoryLimit(limit)
	defer debug.SetMemoryLimit(old)
	var peak atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// The heap marked live by the last GC: what the process holds,
		// not the garbage a CPU-starved collector has not swept yet
		// (heap/objects counted that and failed on loaded machines).
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			if v := int64(sample[0].Value.Uint64()); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()

	pad := strings.Repeat("p", 800)
	const chunk = 2000
	var nextL, nextR int64
	var wantN, wantTotal int64
	copyRows := func(table string, next *int64, rowsPerKey int) {
		var sb strings.Builder
		for range chunk {
			id := *next
			*next++
			k := id / int64(rowsPerKey)
			fmt.Fprintf(&sb, "%d\t%d\t%d\t%s\n", id, k, id%1000, pad)
		}
		if _, err := conn.PgConn().CopyFrom(ctx, strings.NewReader(sb.String()), "COPY "+table+" FROM STDIN"); err != nil {
			t.Fatalf("COPY %s: %v", table, err)
		}
	}
	var state int64
	for state < 11*limit {
		copyRows("l", &nextL, 1)
		copyRows("r", &nextR, 2)
		copyRows("r", &nextR, 2)
		if nextL%(20*chunk) == 0 {
			var err error
			if err = waitView(ctx, conn); err != nil {
				t.Fatal(err)
			}
			if state, err = srv.Engine().Runtime().StateBytes(view.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := waitView(ctx, conn); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	state, err := srv.Engine().Runtime().StateBytes(view.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Every l row k meets the r rows 2k and 2k+1 (ids), k = id for l.
	for id := range nextL {
		for _, rid := range []int64{2 * id, 2*id + 1} {
			wantN++
			wantTotal += id%1000 + rid%1000
		}
	}
	var n, total int64
	if err := conn.QueryRow(ctx, `SELECT sum(n)::bigint, sum(total)::bigint FROM lr`).Scan(&n, &total); err != nil {
		t.Fatal(err)
	}
	if n != wantN || total != wantTotal {
		t.Errorf("view lr sums to n=%d total=%d, want %d and %d", n, total, wantN, wantTotal)
	}
	t.Logf("heap limit %d MiB; join state %d MiB (%d l rows, %d r rows); peak live heap %d MiB",
		limitMiB, state>>20, nextL, nextR, peak.Load()>>20)
	if state < 10*limit {
		t.Errorf("join state is %d bytes, less than ten times the heap limit", state)
	}
	if p := peak.Load(); p > state/3 {
		t.Errorf("peak live heap %d MiB is more than a third of the state's %d MiB: is state held in memory?", p>>20, state>>20)
	}
}

// waitView waits until the view has consumed this session's writes (a
// session's read waits for its own earlier writes).
func waitView(ctx context.Context, conn *pgx.Conn) error {
	var n int64
	return conn.QueryRow(ctx, `SELECT count(*) FROM lr`).Scan(&n)
}
