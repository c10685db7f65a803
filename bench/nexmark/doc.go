// Command nexmark runs the Nexmark benchmark against an in-process kappa:
// for each query, N events (default 10,000,000) from the built-in Nexmark
// source into a materialized view, reporting events/s in total and per
// core (CPU time), freshness p50/p99 at half the maximum rate, and the
// generator alone so that the engine's share is visible.
//
//	go run ./bench/nexmark                     # every query, 10 M events
//	go run ./bench/nexmark -events 1000000 -queries q0,q5
//
// The queries are kappa SQL in queries/ (qN.sql); queries/postgres/ holds
// the plain-SQL form of those that use windows, which TestQueries runs in a
// real PostgreSQL over the same events to prove kappa's answers.
package main
