// Package engine is kappa's session layer: it implements pgwire's Engine and
// Session over the catalog, the planner, the runtime and the logs. It owns
// the write path of tables (a statement's rows are validated, encoded as
// change records and appended to the table's log, and acknowledged once the
// log says they are durable), DDL orchestration (catalog record, log
// directory and dataflow changing together), session settings, and
// read-your-writes (a session's SELECT waits for the epoch that contains its
// last write to each table it reads, and for the epoch that replayed what the
// table's log held when the engine opened, so nothing acknowledged before a
// crash is missing after the restart).
//
// engine may import every kappa package except cmd; nothing imports engine
// but server and tests.
//
// Cursors (cursor.go) stream: each runs its query on its own goroutine over
// the snapshot of its DECLARE and hands rows over a small channel; CLOSE,
// the end of the block (without WITH HOLD), the end of the session and
// Engine.Close stop it.
//
// statement_timeout (timeout.go) bounds each statement's context; the
// cancellation it causes is reported as PostgreSQL's "canceling statement
// due to statement timeout". The ad hoc engine checks its context between
// batches of 1024 rows, so a CancelRequest or a timeout stops a query
// within one batch.
//
// SQL PREPARE (prepare.go) keeps an ordinary statement per name; EXECUTE
// evaluates its arguments and passes them as text parameters, so they are
// converted as a client's would be. Protocol-level prepared statements
// belong to pgwire and are not visible to EXECUTE or pg_prepared_statements.
//
// Caveats: a cursor declared without SCROLL moves forward only (PostgreSQL
// lets it move back when its plan can); only FETCH 0 (the current row) looks
// back. An error in a cursor's query surfaces at the FETCH that reaches the
// batch (1024 rows) it happened in. Transaction blocks (BEGIN ... COMMIT) are tracked for the
// protocol's sake, but each statement inside one takes effect on its own;
// ROLLBACK warns when it cannot undo writes. INSERT into a table with a
// primary key, UPDATE and DELETE wait for the table's pending appends to
// commit (an epoch is requested at once) so that they see every earlier
// write; appends to tables without a primary key do not wait.
package engine
