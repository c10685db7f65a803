// Package planner binds kappa's SQL AST (package sql) against the catalog and
// turns it into a physical plan (exec's plan nodes: plain data). It resolves
// names and types (PostgreSQL's rules, through package expr), expands views,
// splits aggregation into pre-projection, Aggregate and post-projection, and
// decides how a materialized view's rows are keyed in storage.
//
// planner imports sql, catalog, expr, exec (for the plan description only),
// types and pgerr; never storage, log or pgwire.
//
// Representations: sql.Statement (AST) → exec.Node (physical plan, printed by
// EXPLAIN). There is no separate logical plan yet: the binder builds physical
// nodes directly, and the rewrites are view inlining, pushing filters into
// joins (join.go: keys, filters below, interval bounds into ON), point-lookup
// detection (lookup.go) and, in views, narrowing each join's inputs to the
// columns read above it (narrow.go).
package planner
