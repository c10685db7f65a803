// Package sqllogictest owns kappa's runner for sqllogictest files: it parses
// the format of SQLite's corpus (statement ok|error, query <types> <sort mode>,
// ----, hash-threshold, skipif/onlyif, halt; plus CockroachDB's statement
// count N, query error and pgcode patterns), runs each file on a fresh
// PostgreSQL-protocol connection through pgx, and compares what the server
// returns with the expected values, formatted as SQLite's reference runner
// formats them. It runs the same files against kappa and against a real
// PostgreSQL, which is how the expected outputs in testdata/slt are proven
// right. It imports no kappa package except in its tests (the server under
// test and internal/pgtest).
//
// Invariants: every record that is read is counted exactly once as passed,
// failed or skipped; a file never shares a connection with another file; the
// materialized-view mode never changes what the ad hoc mode counts.
//
// # Values
//
// Results are read as text (the simple query protocol, or text result formats
// in the extended protocol) and formatted per the column's type letter:
//
//   - NULL prints as "NULL" and the empty string as "(empty)".
//   - I: an integer prints as is; a number with a fraction (numeric, float) is
//     truncated toward zero; a boolean prints as 1 or 0, which is what SQLite,
//     which has no booleans, would have returned.
//   - R: any number prints with "%.3f"; a boolean as 1.000 or 0.000.
//   - T and any other letter: the text as the server sent it (booleans as
//     PostgreSQL's t and f).
//
// Under every letter, control characters are printed as "@" (so that a value
// stays on one line) and text that is not a number under I or R prints as is.
//
// # Expected values
//
// Expected values are given one per line (SQLite's form), or one row per line
// with the values separated by spaces or tabs (the form of Materialize's and
// CockroachDB's files); a result matches if it matches either. A result whose
// expected block is "N values hashing to H" matches when it has N values whose
// MD5, over each value followed by a newline in sort-mode order, is H.
//
// # Caveats
//
//   - In row-per-line form, values that contain spaces are compared after
//     collapsing runs of white space; such files should prefer one value per
//     line.
//   - query labels are parsed and ignored.
//   - loop ... endloop blocks (DuckDB) are skipped and counted as one skipped
//     record.
package sqllogictest
