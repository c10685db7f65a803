// Command nexmark runs the Nexmark benchmark against an in-process kappa:
// for each query, N events (default 10,000,000) from the built-in Nexmark
// source into a materialized view, reporting events/s in total and per
// core (CPU time), freshness p50/p99 at half the maximum rate, and the
// generator alone so that the engine's share is visible.
//
//	go run ./bench/nexmark                     # every query, 10 M events
//	go run ./bench/nexmark -events 1000000 -queries q0,q5
//
// The queries are kappa SQL in queries/ (qN.sql; statements before the
// query, each ending with a semicolon at the end of a line, set up what it
// needs, as q13's side table); queries/postgres/ holds the plain-SQL form
// of those that use windows, which TestQueries runs in a real PostgreSQL
// over the same events to prove kappa's answers. queries/check/ holds, for
// a query whose answer depends on when it runs (q12, processing time), the
// query over its rows (relation q) that is compared instead.
package main
