// Command durabench measures the durability benchmarks of issue 4 side by
// side with PostgreSQL where there is a PostgreSQL figure to compare:
//
//   - small: single-row INSERTs from many connections (16 by default) with
//     group commit, rows/s and latency, against PostgreSQL with fsync and
//     synchronous_commit on, on the same disk; with and without a primary
//     key.
//   - backfill: a GROUP BY materialized view created over a table that
//     already holds N rows (10,000,000 by default): rows/s, and rows per
//     CPU-second of the kappa process. -partitions N splits the table's
//     log into N partitions, which the backfill reads in parallel (each
//     COPY of 200,000 rows goes to one partition, round-robin).
//   - recovery: the same server, with its log and state, killed with
//     SIGKILL and started again: time until it accepts connections and until
//     a view answers.
//
// Usage:
//
//	go run ./bench/durabench [-only small,backfill,recovery] [-rows N] [-partitions N] [-dir DIR]
//
// backfill and recovery run `kappa serve` as a subprocess (built with go
// build), so that it can be killed. durabench must not import kappa's
// internals beyond server, internal/pgtest, internal/benchutil and what a
// client uses.
package main
