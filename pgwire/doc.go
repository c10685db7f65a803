// Package pgwire owns kappa's PostgreSQL wire protocol (v3.0) server: the
// startup handshake (TLS when configured, GSS encryption refused), client
// authentication (hba.go: rules per address in pg_hba.conf's format;
// auth.go: trust, SCRAM-SHA-256, md5 and password; scram.go: SCRAM and the
// stored verifier format), the simple and extended query protocols (statements,
// portals, row-limited Execute), COPY FROM STDIN and COPY TO STDOUT, cancel
// requests, notices, limits and shutdown. It also owns the COPY text and CSV
// codecs (CopyDecoder, CopyEncoder) that the engine uses on COPY data. The
// database behind it is the Engine interface declared in engine.go; pgwire
// knows nothing of plans, catalogs or storage.
//
// pgwire imports no kappa package except pgerr. Messages are encoded and
// decoded by github.com/jackc/pgx/v5/pgproto3.
//
// Invariants:
//   - A connection's Session is called from that connection's goroutine only;
//     the one exception is CancelRequest, which cancels the context of the
//     call in progress (each frontend message gets its own context).
//   - A frontend message body larger than Config.MaxMessageSize is refused
//     from its header, before any memory is allocated for it.
//   - Output is buffered and written at ReadyForQuery, Flush, CopyInResponse
//     and PortalSuspended, or when the buffer passes 64 KiB: never once per
//     row. DataRows are encoded straight into that buffer.
//   - After an error in the extended protocol, messages are discarded until
//     Sync, as in PostgreSQL.
//   - A panic in the engine ends only the connection it happened on (FATAL
//     XX000); the server keeps serving.
//
// # Caveats
//
//   - Authentication failures are PostgreSQL's: under a password rule an
//     unknown role, a role without a password and a wrong password all fail
//     with 28P01 after the same exchange (a mock SCRAM salt is derived from
//     the name), so a client cannot tell them apart. Under an md5 rule a role
//     with an md5 hash gets an md5 challenge and every other name SCRAM, so
//     the challenge shows which names have md5 passwords (as in
//     PostgreSQL); use scram-sha-256 rules where that matters. SCRAM
//     channel binding (SCRAM-SHA-256-PLUS) is not offered, and passwords are
//     not SASLprep'd (only passwords with unusual Unicode characters
//     differ).
//   - TLS is only the SSLRequest kind (no direct TLS negotiation of
//     PostgreSQL 17) and client certificates are not checked.
//   - Only protocol 3.0. A client asking for 3.2 (or protocol extensions) is
//     answered with NegotiateProtocolVersion and continues on 3.0.
//   - An Execute with a row limit runs the statement to completion and buffers
//     its encoded rows in the portal (up to Config.MaxPortalBuffer), because
//     the engine interface cannot resume a statement. The final
//     CommandComplete of such a portal counts the rows of that last Execute,
//     as PostgreSQL does.
//   - Portals are dropped at ReadyForQuery when the session reports 'I' (no
//     transaction block), standing in for PostgreSQL's end-of-transaction
//     cleanup. SQL cursors (DECLARE, FETCH) belong to the engine, in a
//     namespace of their own: FETCH cannot name a protocol portal.
//   - Cancel interrupts an engine call through its context (the engine must
//     watch it) and a COPY FROM blocked reading the client. A connection
//     blocked writing to a client that does not read is only freed by
//     Close or an expired Shutdown.
//   - The COPY codecs do not support the binary format, FORCE_QUOTE,
//     FORCE_NOT_NULL, FORCE_NULL or HEADER MATCH, and do not validate the
//     encoding of the bytes they decode. A bare "\r" is not a line end.
package pgwire
