package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime/metrics"
	"slices"
	"sync"
	"time"

	"github.com/kappa-db/kappa/internal/benchutil"
)

const pointQuery = "SELECT id, k, v, s FROM point_v WHERE id = $1"

// pointRun is what one server's point-query run measured.
type pointRun struct {
	queries int
	elapsed time.Duration
	lat     latencies
	// cpu is the CPU time used during the measured interval by the server
	// and the clients together (see cpuOf).
	cpu time.Duration
	// sched is the Go scheduler's latency histogram of this process over the
	// measured interval (runtime/metrics /sched/latencies:seconds): how long
	// goroutines waited between becoming runnable and running. For kappa it
	// covers its connections and the clients; for PostgreSQL the clients.
	sched schedLatencies
}

const schedLatencyMetric = "/sched/latencies:seconds"

// schedLatencies is a snapshot of the scheduler latency histogram.
type schedLatencies struct {
	counts  []uint64
	buckets []float64
}

func readSchedLatencies() schedLatencies {
	s := []metrics.Sample{{Name: schedLatencyMetric}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64Histogram {
		return schedLatencies{}
	}
	h := s[0].Value.Float64Histogram()
	return schedLatencies{counts: slices.Clone(h.Counts), buckets: h.Buckets}
}

// since is the histogram of what was recorded after old.
func (l schedLatencies) since(old schedLatencies) schedLatencies {
	out := schedLatencies{counts: slices.Clone(l.counts), buckets: l.buckets}
	for i := range out.counts {
		if i < len(old.counts) {
			out.counts[i] -= old.counts[i]
		}
	}
	return out
}

// percentile is the upper bound of the bucket holding quantile q.
func (l schedLatencies) percentile(q float64) time.Duration {
	var total uint64
	for _, c := range l.counts {
		total += c
	}
	if total == 0 {
		return 0
	}
	want := uint64(math.Ceil(q * float64(total)))
	var seen uint64
	for i, c := range l.counts {
		seen += c
		if seen >= want {
			return time.Duration(l.buckets[i+1] * float64(time.Second))
		}
	}
	return 0
}

// measurePoint runs the clients against one server: each has its own
// connection and runs pointQuery with random keys, pgx preparing it once per
// connection (its default statement cache) and then sending Bind/Execute.
//
// cpu returns the CPU time used so far by the server under test and the
// clients: for kappa the benchmark's own process (server and clients), for
// PostgreSQL that plus the postmaster's process tree. CPU per query is a
// figure that other work on the machine moves much less than queries/s.
func measurePoint(ctx context.Context, e *env, dsn string, cpu func() time.Duration) (*pointRun, error) {
	c := e.cfg
	type client struct {
		lat latencies
		err error
	}
	clients := make([]client, c.pointConns)
	var ready, wg sync.WaitGroup
	startGate := make(chan struct{})
	var measureFrom, measureTo time.Time
	for ci := range clients {
		ready.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := &clients[ci]
			conn, err := connect(ctx, dsn)
			ready.Done()
			if err != nil {
				cl.err = err
				return
			}
			defer conn.Close(ctx)
			rng := rand.New(rand.NewPCG(uint64(ci), 42))
			cl.lat = make(latencies, 0, 1<<16)
			<-startGate
			for {
				key := int64(rng.IntN(c.pointKeys))
				t0 := time.Now()
				if t0.After(measureTo) {
					return
				}
				var id, v int64
				var k int32
				var s string
				if err := conn.QueryRow(ctx, pointQuery, key).Scan(&id, &k, &v, &s); err != nil {
					cl.err = fmt.Errorf("key %d: %w", key, err)
					return
				}
				if id != key {
					cl.err = fmt.Errorf("key %d: got row %d", key, id)
					return
				}
				if t0.After(measureFrom) {
					cl.lat = append(cl.lat, time.Since(t0))
				}
			}
		}()
	}
	ready.Wait()
	measureFrom = time.Now().Add(c.pointWarm)
	measureTo = measureFrom.Add(c.pointDur)
	close(startGate)
	time.Sleep(time.Until(measureFrom))
	cpu0, sched0 := cpu(), readSchedLatencies()
	time.Sleep(time.Until(measureTo))
	cpu1, sched1 := cpu(), readSchedLatencies()
	wg.Wait()
	run := &pointRun{elapsed: c.pointDur, cpu: cpu1 - cpu0, sched: sched1.since(sched0)}
	var errs []error
	for _, cl := range clients {
		errs = append(errs, cl.err)
		run.lat = append(run.lat, cl.lat...)
	}
	run.queries = len(run.lat)
	return run, errors.Join(errs...)
}

func runPoint(ctx context.Context, e *env, res *results) error {
	c := e.cfg
	data, _ := ingestData(c.pointKeys)
	e.progress("point: %d keys, %d clients, %s (after %s of warm-up)", c.pointKeys, c.pointConns, c.pointDur, c.pointWarm)

	// kappa: a materialized view over a table, keyed by id first.
	dsn, cpu := e.kappaDSN, benchutil.SelfCPU
	if c.pointProcess {
		p, err := startKappaProcess(ctx, e)
		if err != nil {
			return err
		}
		defer p.stop()
		dsn = p.DSN()
		cpu = func() time.Duration { return benchutil.SelfCPU() + benchutil.TreeCPU(p.PID()) }
		e.progress("point: kappa runs as its own process (pid %d) at %s", p.PID(), p.Addr)
	}
	admin, err := connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer admin.Close(ctx)
	if err := execAll(ctx, admin, "CREATE TABLE point_src (id bigint, k int, v bigint, s text)"); err != nil {
		return err
	}
	if _, err := admin.PgConn().CopyFrom(ctx, bytes.NewReader(data), "COPY point_src FROM STDIN"); err != nil {
		return fmt.Errorf("kappa COPY: %w", err)
	}
	if err := execAll(ctx, admin, "CREATE MATERIALIZED VIEW point_v AS SELECT id, k, v, s FROM point_src"); err != nil {
		return err
	}
	// CREATE MATERIALIZED VIEW returns once the view has caught up with
	// the rows that were there; check it.
	var n int64
	if err := admin.QueryRow(ctx, "SELECT count(*) FROM point_v").Scan(&n); err != nil {
		return err
	}
	if n != int64(c.pointKeys) {
		return fmt.Errorf("point_v holds %d rows, want %d", n, c.pointKeys)
	}
	stop, err := e.profile("point")
	if err != nil {
		return err
	}
	k, err := measurePoint(ctx, e, dsn, cpu)
	if err != nil {
		return fmt.Errorf("kappa: %w", err)
	}
	if err := stop(); err != nil {
		return err
	}
	e.progress("point: kappa ran %d queries", k.queries)

	// PostgreSQL: the same rows in a table with a primary key.
	pgAdmin, err := connect(ctx, e.pgDSN)
	if err != nil {
		return err
	}
	defer pgAdmin.Close(ctx)
	if err := execAll(ctx, pgAdmin, "CREATE TABLE point_v (id bigint PRIMARY KEY, k int, v bigint, s text)"); err != nil {
		return err
	}
	if _, err := pgAdmin.PgConn().CopyFrom(ctx, bytes.NewReader(data), "COPY point_v FROM STDIN"); err != nil {
		return fmt.Errorf("PostgreSQL COPY: %w", err)
	}
	if err := execAll(ctx, pgAdmin, "VACUUM ANALYZE point_v"); err != nil {
		return err
	}
	p, err := measurePoint(ctx, e, e.pgDSN, func() time.Duration { return benchutil.SelfCPU() + benchutil.TreeCPU(e.pgPid) })
	if err != nil {
		return fmt.Errorf("PostgreSQL: %w", err)
	}
	e.progress("point: PostgreSQL ran %d queries", p.queries)

	qps := func(r *pointRun) float64 { return float64(r.queries) / r.elapsed.Seconds() }
	res.addRatio("point", fmt.Sprintf("%s, %d clients, %d keys", pointQuery, c.pointConns, c.pointKeys), "q/s", qps(k), qps(p), 1.0)
	res.addInfo("point", "latency p50", "ms", ms(k.lat.percentile(0.5)), ms(p.lat.percentile(0.5)))
	res.addInfo("point", "latency p99", "ms", ms(k.lat.percentile(0.99)), ms(p.lat.percentile(0.99)))
	cpuPerQuery := func(r *pointRun) float64 { return float64(r.cpu.Microseconds()) / float64(r.queries) }
	res.addInfo("point", "CPU per query, server and clients", "µs", cpuPerQuery(k), cpuPerQuery(p))
	// Only the benchmark's process: kappa's connections and the clients, or
	// PostgreSQL's clients alone.
	res.addInfo("point", "Go scheduler latency p50 (this process)", "µs", us(k.sched.percentile(0.5)), us(p.sched.percentile(0.5)))
	res.addInfo("point", "Go scheduler latency p99 (this process)", "µs", us(k.sched.percentile(0.99)), us(p.sched.percentile(0.99)))
	return nil
}
