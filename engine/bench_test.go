package engine_test

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kappa-db/kappa/engine"
	"github.com/kappa-db/kappa/pgwire"
)

// rowCounter is a pgwire.ResultWriter that counts rows and feeds COPY data.
type rowCounter struct {
	rows    int
	copyIn  io.Reader
	lastRow [][]byte
}

func (w *rowCounter) Columns([]pgwire.Column) error { return nil }
func (w *rowCounter) Row(v [][]byte) error          { w.rows++; w.lastRow = v; return nil }
func (w *rowCounter) Notice(string, string, string) {}
func (w *rowCounter) SetParameter(string, string)   {}
func (w *rowCounter) CopyIn(int8, []int16) (io.Reader, error) {
	return w.copyIn, nil
}
func (w *rowCounter) CopyOut(int8, []int16) (io.Writer, error) { return io.Discard, nil }

func benchSession(b testing.TB) (*engine.Engine, pgwire.Session) {
	b.Helper()
	e, s := openSession(b, b.TempDir())
	b.Cleanup(func() { e.Close() })
	return e, s
}

// openSession opens an engine on dir and a session of the bootstrap
// superuser; the caller closes them (tests that restart close and reopen).
func openSession(tb testing.TB, dir string) (*engine.Engine, pgwire.Session) {
	tb.Helper()
	e, err := engine.Open(engine.Config{DataDir: dir})
	if err != nil {
		tb.Fatal(err)
	}
	s, err := e.NewSession(context.Background(), pgwire.SessionParams{User: "kappa", Database: "kappa"})
	if err != nil {
		e.Close()
		tb.Fatal(err)
	}
	return e, s
}

func run(b testing.TB, s pgwire.Session, w *rowCounter, query string) {
	b.Helper()
	stmts, err := s.Parse(context.Background(), query)
	if err != nil {
		b.Fatal(err)
	}
	for _, st := range stmts {
		if _, err := st.Execute(context.Background(), nil, nil, nil, w); err != nil {
			b.Fatalf("%s: %v", query, err)
		}
	}
	// As pgwire does at the end of a Query message.
	if err := s.EndImplicit(context.Background(), true); err != nil {
		b.Fatalf("%s: %v", query, err)
	}
}

// copyText is n rows of (id bigint, k int, v bigint, s text) COPY text, as
// bench/serverbench makes them.
func copyText(n int) string {
	var sb strings.Builder
	for i := range n {
		fmt.Fprintf(&sb, "%d\t%d\t%d\tpayload-%d\n", i, i%1000, int64(uint64(i)*2654435761%1_000_000)-500_000, i)
	}
	return sb.String()
}

// pointQuery prepares serverbench's point query over a materialized view
// of keys rows and returns a function that runs it for one key.
func pointQuery(tb testing.TB, keys int) func(key int) {
	_, s := benchSession(tb)
	w := &rowCounter{copyIn: strings.NewReader(copyText(keys))}
	run(tb, s, w, "CREATE TABLE point_src (id bigint, k int, v bigint, s text)")
	run(tb, s, w, "COPY point_src FROM STDIN")
	run(tb, s, w, "CREATE MATERIALIZED VIEW point_v AS SELECT id, k, v, s FROM point_src")
	ctx := context.Background()
	st, err := s.Prepare(ctx, "SELECT id, k, v, s FROM point_v WHERE id = $1", nil)
	if err != nil {
		tb.Fatal(err)
	}
	params := make([][]byte, 1)
	pf := []int16{0}
	rf := []int16{1, 1, 1, 1}
	return func(key int) {
		params[0] = strconv.AppendInt(params[0][:0], int64(key), 10)
		if _, _, err := st.Describe(ctx); err != nil {
			tb.Fatal(err)
		}
		w.rows = 0
		if _, err := st.Execute(ctx, params, pf, rf, w); err != nil {
			tb.Fatal(err)
		}
		if w.rows != 1 {
			tb.Fatalf("key %d: got %d rows", key, w.rows)
		}
	}
}

// BenchmarkPointQuery runs serverbench's point query on a prepared
// statement (Describe, then Execute with a text parameter and binary
// results, as pgx does), without the wire: the engine's share of a point
// query, with its allocations.
func BenchmarkPointQuery(b *testing.B) {
	const keys = 20_000
	query := pointQuery(b, keys)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	for i := 0; b.Loop(); i++ {
		query(i * 7919 % keys)
	}
	b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// TestPointQueryAllocations guards the point query's allocations: a
// prepared statement reuses its plan, buffers and encoder, and the store
// reuses its pebble iterator until the next commit, so what is left is the
// row's text value (1 allocation; 2 before iterators were reused, 46 before
// the prepared pipeline).
func TestPointQueryAllocations(t *testing.T) {
	const keys = 1000
	query := pointQuery(t, keys)
	i := 0
	allocs := testing.AllocsPerRun(2000, func() {
		query(i * 7919 % keys)
		i++
	})
	if allocs > 2 {
		t.Errorf("a prepared point query allocates %.1f times; want at most 2", allocs)
	}
}

// BenchmarkCopyIngest is serverbench's ingest without the wire: one COPY of
// 100,000 rows into a table that feeds a GROUP BY view, then a read of the
// view, which waits (read-your-writes) until the view's epoch holding the
// COPY has committed.
func BenchmarkCopyIngest(b *testing.B) {
	const rows = 100_000
	_, s := benchSession(b)
	text := copyText(rows)
	w := &rowCounter{}
	run(b, s, w, "CREATE TABLE ingest (id bigint, k int, v bigint, s text)")
	run(b, s, w, "CREATE MATERIALIZED VIEW ingest_by_k AS SELECT k, count(*) AS n, sum(v) AS total FROM ingest GROUP BY k")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w.copyIn = strings.NewReader(text)
		run(b, s, w, "COPY ingest FROM STDIN")
		w.rows = 0
		run(b, s, w, "SELECT sum(n) FROM ingest_by_k")
		if w.rows != 1 {
			b.Fatalf("got %d rows", w.rows)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkSimplePointQuery is pgbench -M simple's script without the wire:
// a new text for every key, parsed, planned and run (the simple protocol's
// per-statement cost).
func BenchmarkSimplePointQuery(b *testing.B) {
	const keys = 20_000
	_, s := benchSession(b)
	w := &rowCounter{copyIn: strings.NewReader(copyText(keys))}
	run(b, s, w, "CREATE TABLE point_src (id bigint, k int, v bigint, s text)")
	run(b, s, w, "COPY point_src FROM STDIN")
	run(b, s, w, "CREATE MATERIALIZED VIEW point_v AS SELECT id, k, v, s FROM point_src")
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	for i := 0; b.Loop(); i++ {
		w.rows = 0
		run(b, s, w, "SELECT id, k, v, s FROM point_v WHERE id = "+strconv.Itoa(i*7919%keys))
		if w.rows != 1 {
			b.Fatalf("got %d rows", w.rows)
		}
	}
	// CPU time (all threads, GC included) is steadier than ns/op on a
	// shared machine.
	b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// processCPU is the process's user and system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkBackfillPartitions creates a GROUP BY materialized view over a
// table of 1,000,000 rows (ten COPYs of 100,000, so that a partitioned
// table gets them round-robin) with its log in 1, 2 or 4 partitions: the
// backfill reads and decodes the partitions on parallel goroutines
// (docs/partitions.md). Reported: rows/s, and rows per CPU-second of the
// whole process (getrusage), which includes the epochs' commits.
//
//	go test ./engine -run '^$' -bench BackfillPartitions -benchtime 3x
func BenchmarkBackfillPartitions(b *testing.B) {
	const copies, perCopy = 10, 100_000
	text := copyText(perCopy)
	for _, parts := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("partitions=%d", parts), func(b *testing.B) {
			_, s := benchSession(b)
			w := &rowCounter{}
			run(b, s, w, fmt.Sprintf("CREATE TABLE big (id bigint, k int, v bigint, s text) WITH (partitions = %d)", parts))
			for range copies {
				w.copyIn = strings.NewReader(text)
				run(b, s, w, "COPY big FROM STDIN")
			}
			run(b, s, w, "SELECT count(*) FROM big")
			var cpu time.Duration
			b.ResetTimer()
			i := 0
			for b.Loop() {
				c0 := cpuTime()
				run(b, s, w, fmt.Sprintf("CREATE MATERIALIZED VIEW v%d AS SELECT k, count(*) AS n, sum(v) AS total, min(v) AS lo, max(v) AS hi FROM big GROUP BY k", i))
				cpu += cpuTime() - c0
				b.StopTimer()
				run(b, s, w, fmt.Sprintf("DROP MATERIALIZED VIEW v%d", i))
				i++
				b.StartTimer()
			}
			rows := float64(copies*perCopy) * float64(b.N)
			b.ReportMetric(rows/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(rows/cpu.Seconds(), "rows/cpu-s")
		})
	}
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
