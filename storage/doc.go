// Package storage owns kappa's state on disk in pebble: the catalog records,
// every relation's rows (table contents and materialized view rows), operator
// state, and the log offsets each dataflow has consumed. It defines the key
// layout (keys.go) so that no other package builds raw pebble keys.
//
// The contract with exec: everything one epoch produces — state, view rows and
// the offsets that produced them — is written in one Batch and committed
// atomically, so after a crash the store is exactly at some epoch boundary and
// replaying the log from the stored offsets reproduces the rest.
//
// storage imports no kappa package except types and pgerr.
//
// Caveats: pebble writes through its own vfs (the OS one); crash simulation
// of the log lives in package vfs. Epoch batches are committed without fsync
// (pebble's WAL keeps batches atomic, and the log is the durable source of
// truth); catalog changes are committed with fsync.
package storage
