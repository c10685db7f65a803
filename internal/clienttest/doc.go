// Package clienttest drives real PostgreSQL clients against kappa and
// against a real PostgreSQL holding the same schema, and compares what the
// clients show. The first client is psql (psql_test.go): its describe
// commands (\d, \dt, \dv, \dm, \d+ name, \l, \dn, \du, \df), \x and \copy
// exercise the virtual pg_catalog and the catalog functions the way users
// meet them. TestClients (clients_test.go) drives the application drivers
// — pgx (pgx_test.go) and, as they are installed, pgjdbc, psycopg2,
// SQLAlchemy and node-postgres with programs under testdata/ — against one
// kappa and one PostgreSQL holding testdata/schema.sql, and compares what
// each driver printed.
//
// clienttest imports server and internal/pgtest (tests only); it talks to
// kappa over the wire, as the clients do.
//
// # Caveats
//
//   - Tests skip when psql or PostgreSQL's server binaries are missing
//     (set KAPPA_REQUIRE_PG=1 to make that a failure).
//   - Outputs are normalised only where kappa and PostgreSQL must differ;
//     each normalisation says why next to the code.
package clienttest
