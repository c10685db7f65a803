// Command changecost measures the cost of a change against the cost of the
// input (issue 3, point 3): two tables of -rows rows each, a view joining
// and aggregating them, one row updated, and the time until the view shows
// it, in kappa (an incrementally maintained materialized view) and in
// PostgreSQL (REFRESH MATERIALIZED VIEW of the same query on the same
// data). Usage:
//
//	go run ./bench/changecost                      # 1,000,000 rows a table, a few minutes
//	go run ./bench/changecost -rows 100000 -trials 50
//
// The tables and the view:
//
//	CREATE TABLE customers (id bigint PRIMARY KEY, region int NOT NULL, name text NOT NULL);
//	CREATE TABLE orders (id bigint PRIMARY KEY, customer bigint NOT NULL, amount bigint NOT NULL);
//	CREATE MATERIALIZED VIEW region_sales AS
//	  SELECT c.region, count(*) AS orders, sum(o.amount) AS total
//	  FROM orders o JOIN customers c ON o.customer = c.id GROUP BY c.region;
//
// Every order has one customer (a permutation of the ids), so the join
// produces -rows rows, aggregated into -regions groups. kappa's view exists
// before the COPY, so it is built as the rows stream in; the clock of each
// trial runs from the start of
//
//	UPDATE orders SET amount = amount + 1 WHERE id = $1
//
// until the view shows the new total of that order's region, in two ways:
// "read-your-writes" (the writing session reads the view; it waits for the
// epoch that holds its write, which it starts at once) and "another
// session" (a second connection polls the view from before the UPDATE; it
// sees the change when the next epoch commits, so the barrier interval
// bounds it). PostgreSQL's figure is UPDATE plus REFRESH MATERIALIZED VIEW
// until it returns, on a server with fsync and synchronous_commit on.
package main
