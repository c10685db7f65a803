package pgwire

import (
	"context"
	"io"
	"net"
)

// Engine is what pgwire needs from the database: it opens one Session per
// connection. pgwire knows nothing of plans, catalogs or storage; values cross
// this boundary already encoded in the PostgreSQL wire formats.
type Engine interface {
	NewSession(ctx context.Context, p SessionParams) (Session, error)
}

// SessionParams are the startup parameters a client sent.
type SessionParams struct {
	User            string
	Database        string
	ApplicationName string
	// Options holds every startup parameter as sent (including user and
	// database), e.g. "client_encoding", "DateStyle", "options".
	Options    map[string]string
	RemoteAddr net.Addr
	// TLS says the connection is encrypted.
	TLS bool
	// AuthMethod is the method that admitted the client ("trust",
	// "scram-sha-256", "md5", "password"); the engine still checks that
	// the role exists and may log in.
	AuthMethod string
}

// Session is one client connection's state: settings, prepared statements
// belonging to the engine, and its transaction. pgwire calls a Session from one
// goroutine at a time, except CancelRequest, which cancels the ctx passed to a
// running call.
type Session interface {
	// Parse splits a query string into its statements (a simple Query message
	// may carry several, separated by semicolons). Statements are not bound to
	// the catalog yet: an earlier statement in the same string may create what a
	// later one uses. Zero statements means an empty query.
	Parse(ctx context.Context, query string) ([]Statement, error)
	// Prepare parses exactly one statement for the extended protocol
	// (a Parse message). paramTypes are the OIDs the client declared (0 =
	// unspecified); they may be fewer than the statement's parameters.
	Prepare(ctx context.Context, query string, paramTypes []uint32) (Statement, error)
	// TxStatus is the ReadyForQuery status: 'I' idle, 'T' in a transaction
	// block, 'E' in a failed transaction block.
	TxStatus() byte
	// EndImplicit ends the implicit transaction that the statements run
	// outside a transaction block form (PostgreSQL's rule): pgwire calls it
	// with commit true after the last statement of a simple Query message,
	// before its CommandComplete, and at every Sync; with commit false when
	// a Query message stops early (a parse error, a cancel). A session
	// commits there what those statements wrote; an error means it is rolled
	// back. A statement that fails rolls back its implicit transaction by
	// itself. Inside a block it does nothing.
	EndImplicit(ctx context.Context, commit bool) error
	// ParameterStatus returns the settings pgwire reports at startup
	// (server_version, server_encoding, client_encoding, DateStyle, TimeZone,
	// integer_datetimes, standard_conforming_strings, application_name, ...).
	ParameterStatus() map[string]string
	// Close releases the session; it is called once when the connection ends.
	Close() error
}

// Statement is one parsed statement.
type Statement interface {
	// SQL is the statement's text.
	SQL() string
	// Describe binds the statement and returns the OIDs of its parameters
	// ($1..$n, inferred where the client left them 0) and its result columns
	// (nil when it returns no rows). It answers Describe('S') and
	// Describe('P').
	Describe(ctx context.Context) (params []uint32, cols []Column, err error)
	// Execute runs the statement. params are the raw parameter values (nil
	// for SQL NULL) with their format codes already expanded to one per
	// parameter (0 text, 1 binary); resultFormats likewise has one code per
	// result column (or is empty for all-text). Rows go to w. The returned tag
	// is the CommandComplete tag ("SELECT 3", "INSERT 0 1", "CREATE TABLE").
	Execute(ctx context.Context, params [][]byte, paramFormats []int16, resultFormats []int16, w ResultWriter) (tag string, err error)
}

// Column describes one result column, as in RowDescription.
type Column struct {
	Name         string
	TableOID     uint32
	ColumnAttr   int16
	TypeOID      uint32
	TypeSize     int16
	TypeModifier int32
	// Format is the format code of the column's values in the simple query
	// protocol (1 binary: a BINARY cursor's FETCH); the extended protocol
	// uses the codes Bind asked for.
	Format int16
}

// ResultWriter receives what a statement produces. Calls happen on the
// goroutine that called Execute.
type ResultWriter interface {
	// Columns announces the result's columns before the first row. pgwire
	// sends a RowDescription for it only in the simple query protocol (in the
	// extended protocol Describe already did).
	Columns(cols []Column) error
	// Row sends one DataRow; values[i] is nil for NULL and is encoded in the
	// format asked for column i. pgwire copies what it needs before returning.
	Row(values [][]byte) error
	// Notice sends a NoticeResponse (severity NOTICE unless set).
	Notice(severity, code, message string)
	// SetParameter reports a changed setting (ParameterStatus).
	SetParameter(name, value string)
	// CopyIn sends CopyInResponse (format 0 text / 1 binary, one code per
	// column) and returns a reader over the CopyData payloads that follow.
	// The reader returns io.EOF at CopyDone and an error carrying the client's
	// message at CopyFail.
	CopyIn(format int8, columnFormats []int16) (io.Reader, error)
	// CopyOut sends CopyOutResponse and returns a writer; each Write becomes
	// one CopyData message. CopyDone is sent when Execute returns.
	CopyOut(format int8, columnFormats []int16) (io.Writer, error)
}
