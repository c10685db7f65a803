// Command kappa-slt runs sqllogictest files (*.slt, *.test, found
// recursively in the directories given) against a server that speaks the
// PostgreSQL protocol, and prints per-file and total counts; the last line is
// "slt: N passed, N failed, N skipped". With -pg it starts its own PostgreSQL
// (internal/pgtest) to check expected outputs against the real thing, and with
// -rewrite it writes the actual results into the files. It owns only flag
// handling and printing; running files is package sqllogictest's.
//
//	kappa-slt [-dsn postgres://...] [-pg] [-mv] [-engine postgresql,kappa]
//	          [-createdb] [-rewrite] [-extended] [-v] files-or-dirs...
//
// The exit status is 0 when every record passed, 1 when any failed, 2 for bad
// usage.
package main
