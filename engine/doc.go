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
// Transactions (txn.go, lock.go): a statement's writes are buffered in the
// session until its transaction ends — the block's COMMIT, or the end of
// the implicit transaction that the statements of one Query message (or of
// the extended protocol up to Sync) form. The session reads its own writes
// through an overlay of the committed rows. Writing a table with a primary
// key, or reading a table the transaction wrote, takes the table's write
// lock until the transaction ends; the lock waits for the table's dataflow
// to commit everything in its log, so checks see every earlier write.
// Inserts into a table without a primary key that the transaction never
// reads take the lock shared, only for their append, and share the log's
// group commit. Small inserts into a table with a primary key
// (pkwrite.go) take the lock without waiting for the dataflow, check
// keys through an overlay of the keys queued but not yet applied, and
// release the lock once their append is queued: they too share the group
// commit.
//
// Also: DDL takes effect when it runs; a block that has written rows
// refuses it (25001), and in an implicit transaction it commits the writes
// before it. Materialized views show committed rows only, also to the
// transaction that wrote them.
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
// batch (1024 rows) it happened in.
// A cursor reads the committed rows only, not its block's own writes.
package engine
