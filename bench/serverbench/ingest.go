package main

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/kappa-db/kappa/internal/benchutil"
)

// ingestData returns n rows of COPY text for (id bigint, k int, v bigint,
// s text) with k in 0..999, and the sum of v. The same bytes go to both
// servers, made before any clock starts.
func ingestData(n int) (data []byte, sumV int64) {
	buf := make([]byte, 0, n*40)
	for i := range n {
		v := int64(uint64(i)*2654435761%1_000_000) - 500_000
		sumV += v
		buf = strconv.AppendInt(buf, int64(i), 10)
		buf = append(buf, '\t')
		buf = strconv.AppendInt(buf, int64(i%1000), 10)
		buf = append(buf, '\t')
		buf = strconv.AppendInt(buf, v, 10)
		buf = append(buf, "\tpayload-"...)
		buf = strconv.AppendInt(buf, int64(i), 10)
		buf = append(buf, '\n')
	}
	return buf, sumV
}

const (
	ingestTable = "CREATE TABLE ingest_%d (id bigint, k int, v bigint, s text)"
	ingestView  = "CREATE MATERIALIZED VIEW ingest_by_k_%d AS SELECT k, count(*) AS n, sum(v) AS total FROM ingest_%d GROUP BY k"
)

// runIngest runs kappa's and PostgreSQL's COPY -ingest-runs times, one after
// the other, each into new tables, and reports the medians.
func runIngest(ctx context.Context, e *env, res *results) error {
	n := e.cfg.rows
	data, sumV := ingestData(n)
	e.progress("ingest: %d rows, %.1f MB of COPY text, %d run(s)", n, float64(len(data))/1e6, e.cfg.ingestRuns)
	var kCopy, kVisible, pgCopy, kCPU, pgCPU []time.Duration
	for run := range e.cfg.ingestRuns {
		cpu0 := benchutil.SelfCPU()
		c, v, err := ingestKappa(ctx, e, run, data, sumV)
		if err != nil {
			return fmt.Errorf("kappa: %w", err)
		}
		kCPU = append(kCPU, benchutil.SelfCPU()-cpu0)
		kCopy, kVisible = append(kCopy, c), append(kVisible, v)
		e.progress("ingest: kappa acknowledged the COPY after %s, its view reflected all rows after %s",
			c.Round(time.Millisecond), v.Round(time.Millisecond))
		cpu0 = benchutil.SelfCPU() + benchutil.TreeCPU(e.pgPid)
		p, err := ingestPG(ctx, e, run, data)
		if err != nil {
			return fmt.Errorf("PostgreSQL: %w", err)
		}
		pgCPU = append(pgCPU, benchutil.SelfCPU()+benchutil.TreeCPU(e.pgPid)-cpu0)
		pgCopy = append(pgCopy, p)
		e.progress("ingest: PostgreSQL's COPY returned after %s", p.Round(time.Millisecond))
	}
	rate := func(d time.Duration) float64 { return float64(n) / d.Seconds() }
	med := func(ds []time.Duration) time.Duration { return latencies(ds).percentile(0.5) }
	res.addRatio("ingest", fmt.Sprintf("COPY %d rows until the GROUP BY view shows them (PG: until COPY returns)", n), "rows/s",
		rate(med(kVisible)), rate(med(pgCopy)), 1.0)
	res.addInfo("ingest", "COPY until acknowledged", "rows/s", rate(med(kCopy)), rate(med(pgCopy)))
	// CPU time is moved much less by other work on the machine than
	// elapsed time: it says how much work each side does for the rows.
	res.addInfo("ingest", "CPU per million rows, server and client (kappa: until the view shows them)", "ms",
		ms(med(kCPU))*1e6/float64(n), ms(med(pgCPU))*1e6/float64(n))
	secs := func(ds []time.Duration) string {
		var b []byte
		for i, d := range ds {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = strconv.AppendFloat(b, d.Seconds(), 'f', 2, 64)
		}
		return string(b)
	}
	res.note("ingest (medians of %d runs; seconds per run): kappa to acknowledge %s, until the view showed all %d rows %s; PostgreSQL (plain table, no view) %s.",
		len(kCopy), secs(kCopy), n, secs(kVisible), secs(pgCopy))
	return nil
}

// ingestKappa COPYs data into a new kappa table with a live aggregate view
// over it, and returns when the COPY was acknowledged and when the view,
// polled from another connection, showed every row.
func ingestKappa(ctx context.Context, e *env, run int, data []byte, sumV int64) (copied, visible time.Duration, err error) {
	n := e.cfg.rows
	conn, err := connect(ctx, e.kappaDSN)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close(ctx)
	poll, err := connect(ctx, e.kappaDSN)
	if err != nil {
		return 0, 0, err
	}
	defer poll.Close(ctx)
	if err := execAll(ctx, conn, fmt.Sprintf(ingestTable, run), fmt.Sprintf(ingestView, run, run)); err != nil {
		return 0, 0, err
	}
	stop := func() error { return nil }
	if run == 0 {
		if stop, err = e.profile("ingest"); err != nil {
			return 0, 0, err
		}
	}
	pollSQL := fmt.Sprintf("SELECT coalesce(sum(n), 0), coalesce(sum(total), 0) FROM ingest_by_k_%d", run)
	start := time.Now()
	type copyResult struct {
		at  time.Time
		err error
	}
	done := make(chan copyResult, 1)
	go func() {
		_, err := conn.PgConn().CopyFrom(ctx, bytes.NewReader(data), fmt.Sprintf("COPY ingest_%d FROM STDIN", run))
		done <- copyResult{time.Now(), err}
	}()
	var seenN, seenTotal int64
	for visible == 0 {
		select {
		case c := <-done:
			if c.err != nil {
				return 0, 0, fmt.Errorf("COPY: %w", c.err)
			}
			copied = c.at.Sub(start)
			done = nil
		case <-time.After(5 * time.Millisecond):
		}
		// Sums over the view's 1000 rows: a cheap poll.
		if err := poll.QueryRow(ctx, pollSQL).Scan(&seenN, &seenTotal); err != nil {
			return 0, 0, fmt.Errorf("polling the view: %w", err)
		}
		if seenN >= int64(n) {
			visible = time.Since(start)
		} else if time.Since(start) > 10*time.Minute {
			return 0, 0, fmt.Errorf("the view still shows %d of %d rows after 10 minutes", seenN, n)
		}
	}
	if done != nil {
		c := <-done
		if c.err != nil {
			return 0, 0, fmt.Errorf("COPY: %w", c.err)
		}
		copied = c.at.Sub(start)
	}
	if err := stop(); err != nil {
		return 0, 0, err
	}
	if seenN != int64(n) || seenTotal != sumV {
		return 0, 0, fmt.Errorf("the view shows count %d, sum %d; want %d, %d", seenN, seenTotal, n, sumV)
	}
	return copied, visible, nil
}

// ingestPG COPYs data into a new plain PostgreSQL table and returns how long
// the COPY took to return.
func ingestPG(ctx context.Context, e *env, run int, data []byte) (time.Duration, error) {
	conn, err := connect(ctx, e.pgDSN)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	if err := execAll(ctx, conn, fmt.Sprintf(ingestTable, run)); err != nil {
		return 0, err
	}
	start := time.Now()
	tag, err := conn.PgConn().CopyFrom(ctx, bytes.NewReader(data), fmt.Sprintf("COPY ingest_%d FROM STDIN", run))
	if err != nil {
		return 0, fmt.Errorf("COPY: %w", err)
	}
	d := time.Since(start)
	if tag.RowsAffected() != int64(e.cfg.rows) {
		return 0, fmt.Errorf("copied %d rows, want %d", tag.RowsAffected(), e.cfg.rows)
	}
	return d, nil
}
