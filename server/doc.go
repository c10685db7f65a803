// Package server wires one kappa process together: it opens the engine on a
// data directory, listens for PostgreSQL clients and shuts both down cleanly
// (a final epoch committed, files synced). cmd/kappa and the tests that want
// a whole running server use it.
//
// server imports engine and pgwire; nothing imports server but cmd and tests.
package server
