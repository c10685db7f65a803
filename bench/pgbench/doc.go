// Command pgbench runs PostgreSQL's own pgbench with a custom read script
// against kappa and against PostgreSQL holding the same data, and prints
// their transactions per second side by side.
//
// kappa gets a table and a materialized view over it, maintained as rows
// arrive; PostgreSQL gets the same table and the same materialized view,
// refreshed once after the load, with a unique index on its key (what
// PostgreSQL needs to answer the read by key without a scan). The script
// reads one random key of the view:
//
//	\set k random(1, KEYS)
//	SELECT k, n, total FROM kv WHERE k = :k;
//
// and runs as `pgbench -n -c 16 -j 2 -T 20 -f read.sql` with -M prepared and
// -M simple against each server in turn. kappa runs as a process of its own
// (built from this tree), as PostgreSQL does; PostgreSQL runs with fsync on.
//
//	go run ./bench/pgbench                 # the defaults above, about 2 minutes
//	go run ./bench/pgbench -T 5 -keys 1000 # a quick look
package main
