// Command serverbench measures a whole kappa (server.Start in-process, on a
// temporary data directory, listening on 127.0.0.1) side by side with a real
// PostgreSQL 15 running with durable settings (fsync and synchronous_commit
// on), both reached over TCP with pgx, and prints one table with a kappa/PG
// ratio and the target of each figure. Usage:
//
//	go run ./bench/serverbench                       # all three, ~1-2 minutes
//	go run ./bench/serverbench -rows 200000 -only ingest -cpuprofile /tmp/sb
//
// The three benchmarks:
//
//   - ingest: one COPY of -rows rows (id bigint, k int, v bigint, s text),
//     k in 0..999, into a kappa table that feeds a live materialized view
//     SELECT k, count(*), sum(v) FROM t GROUP BY k, timed from the start of
//     the COPY until another connection sees the view's count reach -rows;
//     against PostgreSQL's COPY of the same bytes into a plain table, timed
//     until the COPY returns.
//   - freshness: one writer inserts single rows with a unique id at
//     -fresh-rate rows/s for -fresh-duration; a second connection polls a
//     view keyed by id with a point query for every -fresh-sample'th row and
//     records the time from the INSERT's acknowledgement until the row is
//     visible. In-process, the epoch-level figure comes from
//     exec.Runtime.WaitFor on the view's dataflow for every row. PostgreSQL's
//     column polls a plain view over an indexed table, so it shows the floor
//     of the method (a committed row is visible at once there).
//   - point: -point-clients connections run SELECT ... FROM view WHERE id = $1
//     as a prepared statement (pgx's statement cache, extended protocol) with
//     random keys over -point-keys rows for -point-duration; PostgreSQL runs
//     the same query over a table with a primary key holding the same rows.
//
// Both servers share the machine with the client goroutines, and kappa shares
// the process with them too, so -cpuprofile (which profiles kappa's phases
// only, one file per benchmark) shows the pgx client's work next to kappa's.
//
// serverbench is a program, not a package to import; it may import any kappa
// package.
package main
