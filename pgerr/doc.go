// Package pgerr owns the one error type that users see: an error with a
// PostgreSQL SQLSTATE, a message and, for SQL, a 1-based character position in
// the statement text. Every layer (sql, planner, exec, catalog, log, storage)
// returns *Error for anything a user can cause; pgwire turns it into an
// ErrorResponse. Any other error reaching pgwire is reported as XX000
// (internal_error).
//
// pgerr imports nothing from kappa.
package pgerr
