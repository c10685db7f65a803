// Package sql owns kappa's SQL front end: the typed AST (ast.go), the parser
// that builds it (Parse), and the streaming pre-parser that recognises
// kappa's extensions to PostgreSQL's grammar (CREATE SOURCE, CREATE SINK,
// SUBSCRIBE, WATERMARK FOR, dotted WITH keys, FORMAT ... ENCODE ..., EMIT ON
// WINDOW CLOSE, APPEND ONLY, CREATE OR REPLACE MATERIALIZED VIEW, SHOW CREATE).
//
// The PostgreSQL grammar itself is pg_query (PostgreSQL's own parser through
// cgo); its protobuf nodes never leave this package. sql imports only pgerr
// from kappa: never catalog, planner, exec, storage, log or pgwire.
//
// The API: Parse(text) returns []Statement, each a pointer to one of the
// statement structs of ast.go with its original Text and Offset; the
// planner type-switches on them. Walk visits a tree, Format (and the
// String methods) turn expressions and queries back into SQL, and
// DefaultColumnName names an output column the way PostgreSQL does. CharPos
// turns a node's byte Pos into the character position of an ErrorResponse.
//
// Invariants:
//   - Every node's Pos is a 0-based byte offset into the string given to
//     Parse, or -1. The pre-parser only ever overwrites bytes in place (with
//     spaces or same-length keywords), so pg_query's locations are offsets
//     into the user's text.
//   - Every error Parse returns is a *pgerr.Error: 42601 for syntax errors
//     (PostgreSQL's message and position), 0A000 for statements and clauses
//     kappa does not support, with the 1-based character position of the
//     offending node.
//   - Parse never panics on any input (FuzzParse).
//
// Caveats:
//   - Identifiers are case-folded by PostgreSQL's rules (unquoted names are
//     lowercased); quoted names keep their case.
//   - Expressions are kept as written: no constant folding, no type
//     resolution. `x AT TIME ZONE z`, EXTRACT, SUBSTRING, TRIM, POSITION and
//     OVERLAY arrive as pg_catalog function calls because PostgreSQL's
//     grammar rewrites them.
//   - The pre-parser works on tokens, not on a grammar: a streaming clause in
//     an unexpected place is left for pg_query, which reports it as a syntax
//     error at the right position.
package sql
