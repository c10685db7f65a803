// Package exec owns kappa's dataflow runtime and its operators. It runs the
// physical plans the planner describes (plan.go: plain data, no code), both as
// long-running dataflows that keep materialized views up to date and as
// one-shot ad hoc queries. There is one engine: an ad hoc SELECT runs the same
// operators over a storage snapshot, as a single epoch in which every input
// row arrives with weight +1.
//
// Streams between operators carry deltas: Z-set batches of (row, weight)
// (batch.go). An operator's output, integrated over all epochs, equals the
// operator applied non-incrementally to its integrated input; the tests check
// exactly that.
//
// The Runtime (runtime.go) cuts epochs: at each barrier (every 20 ms by
// default, or sooner when a reader waits) it captures every source log's end
// offset, runs each dataflow over the records up to it, and commits operator
// state, view rows and the new source offsets in ONE storage batch. After a
// crash each dataflow resumes from its committed offsets.
//
// exec imports types, expr, storage, log and pgerr; never planner, catalog,
// sql or pgwire.
//
// Caveats: dataflows are single-input pipelines for now (joins arrive with
// binary operators); all dataflows run on the runtime's one goroutine, so a
// slow view delays the others' epochs.
package exec
