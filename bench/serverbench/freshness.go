package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// freshRun is what one server's freshness run measured.
type freshRun struct {
	inserted int
	elapsed  time.Duration
	ack      latencies // INSERT sent until acknowledged, every row
	visible  latencies // acknowledged until a point query on the view finds it, sampled rows
	epoch    latencies // acknowledged until the view's epoch committed, every row (kappa only)
}

// waitFunc blocks until row i (0-based, the i'th record of the table's log)
// is in the view's committed state.
type waitFunc func(ctx context.Context, i int) error

// measureFreshness runs the paced writer, the polling reader and, when wait
// is set, the epoch tracker against one server. The table and view named
// fresh and fresh_v must exist.
func measureFreshness(ctx context.Context, e *env, dsn string, wait waitFunc) (*freshRun, error) {
	c := e.cfg
	total := int(float64(c.freshRate) * c.freshDur.Seconds())
	if total < 1 {
		total = 1
	}
	writer, err := connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer writer.Close(ctx)
	reader, err := connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer reader.Close(ctx)

	type acked struct {
		i  int
		at time.Time
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	samples := make(chan acked, total/c.freshSample+1)
	epochs := make(chan acked, total)
	run := &freshRun{ack: make(latencies, 0, total)}
	readerDone := make(chan error, 1)
	go func() {
		defer close(readerDone)
		for s := range samples {
			for {
				var v int64
				err := reader.QueryRow(ctx, "SELECT v FROM fresh_v WHERE id = $1", int64(s.i)).Scan(&v)
				if err == nil {
					run.visible = append(run.visible, time.Since(s.at))
					break
				}
				if !errors.Is(err, pgx.ErrNoRows) {
					readerDone <- fmt.Errorf("polling the view: %w", err)
					cancel()
					return
				}
				if time.Since(s.at) > time.Minute {
					readerDone <- fmt.Errorf("row %d not visible a minute after its INSERT was acknowledged", s.i)
					cancel()
					return
				}
			}
		}
	}()
	epochDone := make(chan error, 1)
	go func() {
		defer close(epochDone)
		if wait == nil {
			for range epochs {
			}
			return
		}
		for a := range epochs {
			if err := wait(ctx, a.i); err != nil {
				epochDone <- err
				cancel()
				return
			}
			run.epoch = append(run.epoch, time.Since(a.at))
		}
	}()

	interval := time.Second / time.Duration(c.freshRate)
	start := time.Now()
	// A writer that cannot keep the pace (a machine busy with other work)
	// stops at three times the planned duration; the table shows the rate
	// it reached.
	deadline := start.Add(3 * c.freshDur)
	var werr error
	for i := range total {
		if time.Now().After(deadline) {
			break
		}
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		sent := time.Now()
		if _, err := writer.Exec(ctx, "INSERT INTO fresh VALUES ($1, $2)", int64(i), int64(i)*7); err != nil {
			werr = fmt.Errorf("INSERT: %w", err)
			break
		}
		at := time.Now()
		run.ack = append(run.ack, at.Sub(sent))
		run.inserted++
		epochs <- acked{i, at}
		if i%c.freshSample == 0 {
			samples <- acked{i, at}
		}
	}
	run.elapsed = time.Since(start)
	close(samples)
	close(epochs)
	err = errors.Join(werr, <-readerDone, <-epochDone)
	return run, err
}

func runFreshness(ctx context.Context, e *env, res *results) error {
	c := e.cfg
	e.progress("freshness: %d inserts/s for %s, polling every %dth row", c.freshRate, c.freshDur, c.freshSample)

	// kappa: a materialized view keyed by id over the table.
	admin, err := connect(ctx, e.kappaDSN)
	if err != nil {
		return err
	}
	defer admin.Close(ctx)
	if err := execAll(ctx, admin,
		"CREATE TABLE fresh (id bigint, v bigint)",
		"CREATE MATERIALIZED VIEW fresh_v AS SELECT id, v FROM fresh"); err != nil {
		return err
	}
	view, ok := e.kappa.Engine().Catalog().Lookup("fresh_v")
	if !ok {
		return errors.New("fresh_v is not in the catalog")
	}
	rt := e.kappa.Engine().Runtime()
	// Each INSERT of one row into the new table appends one record, so row
	// i is the log's offset i and is in the view once its dataflow has
	// committed past it.
	wait := func(ctx context.Context, i int) error { return rt.WaitFor(ctx, view.ID, view.Sources[0], uint64(i)+1) }
	stop, err := e.profile("freshness")
	if err != nil {
		return err
	}
	k, err := measureFreshness(ctx, e, e.kappaDSN, wait)
	if err != nil {
		return fmt.Errorf("kappa: %w", err)
	}
	if err := stop(); err != nil {
		return err
	}
	if off, _ := rt.Committed(view.ID, view.Sources[0]); off != uint64(k.inserted) {
		return fmt.Errorf("the view's dataflow committed to offset %d after %d single-row inserts: the epoch figure assumed one record per row", off, k.inserted)
	}
	e.progress("freshness: kappa done, %d rows in %s", k.inserted, k.elapsed.Round(time.Millisecond))

	// PostgreSQL: a plain view over an indexed table.
	pgAdmin, err := connect(ctx, e.pgDSN)
	if err != nil {
		return err
	}
	defer pgAdmin.Close(ctx)
	if err := execAll(ctx, pgAdmin,
		"CREATE TABLE fresh (id bigint PRIMARY KEY, v bigint)",
		"CREATE VIEW fresh_v AS SELECT id, v FROM fresh"); err != nil {
		return err
	}
	p, err := measureFreshness(ctx, e, e.pgDSN, nil)
	if err != nil {
		return fmt.Errorf("PostgreSQL: %w", err)
	}
	e.progress("freshness: PostgreSQL done, %d rows in %s", p.inserted, p.elapsed.Round(time.Millisecond))

	pct := func(l latencies, q float64) float64 { return ms(l.percentile(q)) }
	res.addInfo("freshness", "INSERT acknowledgement p50", "ms", pct(k.ack, 0.5), pct(p.ack, 0.5))
	res.addInfo("freshness", "INSERT acknowledgement p99", "ms", pct(k.ack, 0.99), pct(p.ack, 0.99))
	res.addInfo("freshness", "inserts achieved (one writer)", "rows/s",
		float64(k.inserted)/k.elapsed.Seconds(), float64(p.inserted)/p.elapsed.Seconds())
	res.addInfo("freshness", "ack -> visible to another connection p50 (view point query)", "ms", pct(k.visible, 0.5), pct(p.visible, 0.5))
	res.addMax("freshness", "ack -> visible to another connection p99 (view point query)", pct(k.visible, 0.99), pct(p.visible, 0.99), 100*time.Millisecond)
	res.addInfo("freshness", "ack -> view's epoch committed p50 (every row, in-process)", "ms", pct(k.epoch, 0.5), nan())
	res.addMax("freshness", "ack -> view's epoch committed p99 (every row, in-process)", pct(k.epoch, 0.99), nan(), 100*time.Millisecond)
	res.note("freshness: %d rows at %d/s; %d sampled rows polled (every %dth); max ack -> visible kappa %.1f ms, PostgreSQL %.1f ms; PostgreSQL's view is a plain view (visible at commit), so its column is the floor of the polling method.",
		k.inserted, c.freshRate, len(k.visible), c.freshSample, pct(k.visible, 1), pct(p.visible, 1))
	return nil
}
