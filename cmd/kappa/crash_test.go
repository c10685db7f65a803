package main

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestCrashRecovery checks the durability promise of a kappa server: after
// `kill -9` at any moment and a restart on the same data directory, every
// acknowledged write is there exactly once, a statement that was in flight
// is there wholly or not at all, every materialized view equals its query,
// and the server takes new writes.
//
// Each cycle runs concurrent writers (single-row and multi-row INSERT, COPY,
// UPDATE and DELETE by key, on a table with a primary key and one without,
// both with partitioned logs;
// and transactions over both tables, by BEGIN ... COMMIT or as one
// multi-statement query, which must survive wholly or not at all)
// and a DDL writer (CREATE and DROP MATERIALIZED VIEW) against the server,
// kills it with SIGKILL after a random delay, sometimes kills it again while
// it recovers, restarts it and checks. The checks are exact; only the
// timing is random (KAPPA_CRASH_SEED repeats its choices).
//
//	go test ./cmd/kappa -run TestCrashRecovery -v                       # 20 cycles
//	KAPPA_CRASH_CYCLES=50 go test ./cmd/kappa -run TestCrashRecovery -timeout 30m
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds kappa and kills it repeatedly")
	}
	cycles := envInt(t, "KAPPA_CRASH_CYCLES", 20)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("KAPPA_CRASH_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("KAPPA_CRASH_SEED: %v", err)
		}
		seed = v
	}
	t.Logf("seed %d (KAPPA_CRASH_SEED=%d repeats the workload and the timing choices)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	bin := kappaBinary(t)
	dir := filepath.Join(t.TempDir(), "data")
	ctx := context.Background()

	// Each start picks its fsync mode and epoch length: a process crash
	// must lose nothing acknowledged in any mode.
	flags := func() []string {
		return []string{
			"--fsync", []string{"group", "always", "off"}[rng.IntN(3)],
			"--barrier-interval", []string{"10ms", "50ms", "200ms"}[rng.IntN(3)],
			// Small segments and frequent retention and compaction passes,
			// so that kills land during them too.
			"--log-segment-bytes", "4096",
			"--log-maintenance-interval", []string{"20ms", "200ms"}[rng.IntN(2)],
		}
	}
	p := startKappa(t, bin, dir, flags()...)
	createSchema(ctx, t, p)
	m := newModel()
	writers := newWriters(seed)
	ck := &checker{t: t, m: m}
	var totalAcked int64
	start := time.Now()
	for cycle := 1; cycle <= cycles; cycle++ {
		killAfter := time.Duration(30+rng.IntN(1200)) * time.Millisecond
		ddlAfter := time.Duration(rng.IntN(int(killAfter/time.Millisecond)+300)) * time.Millisecond
		acked, inflight := runCycle(ctx, t, p, m, writers, cycle, killAfter, ddlAfter, func() { p.kill() })
		totalAcked += acked
		again := ""
		if rng.IntN(4) == 0 {
			// Crash again while the server recovers: while it opens its
			// store, before or during its first epochs' replay of the logs.
			d := time.Duration(rng.IntN(150)) * time.Millisecond
			p = launchKappa(t, bin, dir, flags()...)
			time.Sleep(d)
			p.kill()
			again = ", killed again " + d.String() + " after relaunching"
		}
		args := flags()
		t0 := time.Now()
		p = startKappa(t, bin, dir, args...)
		restart := time.Since(t0)
		applied, pending := ck.applied, ck.pending
		ck.check(ctx, p, inflight, cycle)
		t.Logf("cycle %d: killed after %v%s; %d statements acknowledged, %d in flight (%d applied, %d not); restart %v with %v; %d acct rows, %d ev rows, %d dynamic views",
			cycle, killAfter, again, acked, len(inflight), ck.applied-applied, ck.pending-pending, restart.Round(time.Millisecond), args, len(m.acct), len(m.ev), len(m.views))
	}
	// What retention and compaction did to the logs over the run.
	c := p.mustConnect(ctx)
	rows, err := c.Query(ctx, `SELECT table_name, start_offset, end_offset, bytes, segments FROM kappa_catalog.kappa_logs`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		var start, end, bytes int64
		var segs int32
		if err := rows.Scan(&name, &start, &end, &bytes, &segs); err != nil {
			t.Fatal(err)
		}
		t.Logf("log of %s: offsets [%d, %d) kept, %d bytes in %d segments", name, start, end, bytes, segs)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	c.Close(ctx)
	if code := p.terminate(30 * time.Second); code != 0 {
		t.Fatalf("kappa exited %d after SIGTERM:\n%s", code, p.output())
	}
	t.Logf("%d cycles in %v: %d statements acknowledged; in flight at a kill: %d applied, %d not",
		cycles, time.Since(start).Round(time.Millisecond), totalAcked, ck.applied, ck.pending)
}

// TestGracefulShutdown stops a server with SIGTERM while writers run: it
// exits 0, and after a restart everything acknowledged is there (statements
// cut off by the shutdown wholly or not at all) and every view equals its
// query.
func TestGracefulShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds kappa and runs it")
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	bin := kappaBinary(t)
	dir := filepath.Join(t.TempDir(), "data")
	ctx := context.Background()
	p := startKappa(t, bin, dir)
	createSchema(ctx, t, p)
	m := newModel()
	ck := &checker{t: t, m: m}
	var code int
	acked, inflight := runCycle(ctx, t, p, m, newWriters(seed), 1, 700*time.Millisecond, 200*time.Millisecond, func() {
		code = p.terminate(30 * time.Second)
	})
	if code != 0 {
		t.Fatalf("kappa exited %d after SIGTERM:\n%s", code, p.output())
	}
	p = startKappa(t, bin, dir)
	ck.check(ctx, p, inflight, 1)
	for _, o := range inflight {
		t.Logf("cut off: %s (applied: %v): %v", o.desc, o.applied, o.err)
	}
	if code := p.terminate(30 * time.Second); code != 0 {
		t.Fatalf("kappa exited %d after SIGTERM:\n%s", code, p.output())
	}
	t.Logf("%d statements acknowledged, %d cut off by the shutdown (%d applied, %d not)", acked, len(inflight), ck.applied, ck.pending)
}

func envInt(t *testing.T, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive number", name, s)
	}
	return n
}

func createSchema(ctx context.Context, t *testing.T, p *kappaProc) {
	t.Helper()
	c := p.mustConnect(ctx)
	defer c.Close(ctx)
	for _, s := range schema {
		if _, err := c.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	for _, v := range staticViews {
		if _, err := c.Exec(ctx, "CREATE MATERIALIZED VIEW "+v.name+" AS "+v.query); err != nil {
			t.Fatalf("CREATE MATERIALIZED VIEW %s: %v", v.name, err)
		}
	}
}

func newWriters(seed uint64) []*writer {
	var ws []*writer
	for i := range acctWriters {
		ws = append(ws, &writer{id: i + 1, table: "acct", rng: rand.New(rand.NewPCG(seed, uint64(100+i)))})
	}
	for i := range evWriters {
		ws = append(ws, &writer{id: i + 1, table: "ev", rng: rand.New(rand.NewPCG(seed, uint64(200+i)))})
	}
	for i := range txnWriters {
		ws = append(ws, &writer{id: txnWriterID + i, table: "txn", rng: rand.New(rand.NewPCG(seed, uint64(300+i)))})
	}
	return ws
}

// runCycle runs the writers and the DDL writer against p until stop (which
// kills or stops the server) has been called after stopAfter. It returns how
// many statements were acknowledged and those that were in flight.
func runCycle(ctx context.Context, t *testing.T, p *kappaProc, m *model, writers []*writer, cycle int,
	stopAfter, ddlAfter time.Duration, stop func()) (int64, []*op) {
	t.Helper()
	conns := make([]*pgx.Conn, len(writers)+1)
	for i := range conns {
		conns[i] = p.mustConnect(ctx)
	}
	defer func() {
		for _, c := range conns {
			c.Close(context.Background())
		}
	}()
	var down atomic.Bool
	var acked atomic.Int64
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var inflight []*op
	for i, w := range writers {
		wg.Go(func() {
			if o := w.run(wctx, t, conns[i], m, &down, &acked); o != nil {
				mu.Lock()
				inflight = append(inflight, o)
				mu.Unlock()
			}
		})
	}
	wg.Go(func() {
		ops := ddlWriter(wctx, t, conns[len(writers)], m, cycle, ddlAfter, &down)
		mu.Lock()
		inflight = append(inflight, ops...)
		mu.Unlock()
	})
	time.Sleep(stopAfter)
	down.Store(true)
	stop()
	// The writers see their connections fail; a writer still waiting to
	// start a statement stops here.
	cancel()
	wg.Wait()
	return acked.Load(), inflight
}
