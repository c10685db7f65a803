// Package nexmark is kappa's built-in Nexmark event generator: the online
// auction workload of the Nexmark benchmark (persons register, open auctions
// and bid), following the generator rules of the Beam and Flink Nexmark
// projects as ../shared/NEXMARK.md states them.
//
// The generator is a pure function of the event id: every random draw of
// event e comes from a generator seeded by (Seed, e), and event time is
// BaseTime + e × 1e6/Rate µs. So the event at an id is the same in every run,
// whatever the partitioning and however fast events are produced; a source
// built on it is a replayable log whose offset is the event id, and a copy of
// the events in PostgreSQL agrees with kappa exactly.
//
// A Generator produces one kind of event (person, auction or bid) out of the
// one event stream: event ids are numbered over all kinds (e % 50 picks the
// kind), and a generator of bids skips the ids of persons and auctions.
// Reads are split across partitions: partition p of N generates the ids
// ≡ p (mod N), in parallel, each row straight into its place in id order.
// A reader may say which columns it needs (ReadOptions): the padding column
// is drawn last, so leaving it out changes no other value.
//
// nexmark imports types and pgerr only; the engine adapts a Generator to the
// dataflow runtime's input interface.
//
// Caveats: the out-of-order groups and the rate shapes (sine, square) of the
// Beam generator are not implemented: events arrive in id order at a
// constant rate of event time.
package nexmark
