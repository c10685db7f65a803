package server_test

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kappa-db/kappa/server"
)

// BenchmarkPointQueryWire is serverbench's point query over the wire with
// one client: pgx in this process prepares SELECT ... FROM view WHERE id = $1
// once and then sends Bind/Execute/Sync for random keys. cpu-ns/op and
// allocs/op count the server and the pgx client together (the client's
// share does not change with kappa); ns/op is one round trip.
func BenchmarkPointQueryWire(b *testing.B) {
	const keys = 20_000
	srv := startServer(b, server.Config{})
	conn := connect(b, srv)
	ctx := context.Background()
	var sb strings.Builder
	for i := range keys {
		fmt.Fprintf(&sb, "%d\t%d\t%d\tpayload-%d\n", i, i%1000, i*7, i)
	}
	for _, q := range []string{
		"CREATE TABLE point_src (id bigint, k int, v bigint, s text)",
		"CREATE MATERIALIZED VIEW point_v AS SELECT id, k, v, s FROM point_src",
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := conn.PgConn().CopyFrom(ctx, strings.NewReader(sb.String()), "COPY point_src FROM STDIN"); err != nil {
		b.Fatal(err)
	}
	const query = "SELECT id, k, v, s FROM point_v WHERE id = $1"
	var id, v int64
	var k int32
	var s string
	// Waits for the view to catch up with the COPY (read your writes).
	if err := conn.QueryRow(ctx, query, 1).Scan(&id, &k, &v, &s); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	for i := 0; b.Loop(); i++ {
		key := int64(i * 7919 % keys)
		if err := conn.QueryRow(ctx, query, key).Scan(&id, &k, &v, &s); err != nil {
			b.Fatal(err)
		}
		if id != key {
			b.Fatalf("key %d: got %d", key, id)
		}
	}
	b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// processCPU is the process's user and system CPU time so far: steadier
// than ns/op on a shared machine.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
