// Package clienttest drives real PostgreSQL clients against kappa and
// against a real PostgreSQL holding the same schema, and compares what the
// clients show. The first client is psql (psql_test.go): its describe
// commands (\d, \dt, \dv, \dm, \d+ name, \l, \dn, \du, \df), \x and \copy
// exercise the virtual pg_catalog and the catalog functions the way users
// meet them. TestClients (clients_test.go) drives the application drivers
// — pgx (pgx_test.go), pgjdbc, psycopg2, SQLAlchemy and node-postgres, with
// programs under testdata/ — against one kappa and one PostgreSQL holding
// testdata/schema.sql, and compares what each driver printed; where kappa
// legitimately differs the check names the difference (difference).
//
// clienttest imports server and internal/pgtest (tests only); it talks to
// kappa over the wire, as the clients do.
//
// # Caveats
//
//   - Tests skip when psql or PostgreSQL's server binaries are missing
//     (set KAPPA_REQUIRE_PG=1 to make that a failure), and a driver's check
//     skips loudly when the driver is missing (KAPPA_REQUIRE_CLIENTS=1, which
//     scripts/test.sh sets after installing them, makes that a failure).
//     node-postgres is npm-installed into $HOME/.cache/kappa-clienttest/node
//     ($KAPPA_NODE_DIR) on first use.
//   - ROLLBACK is not checked: kappa cannot undo a transaction's writes yet.
//   - Outputs are normalised only where kappa and PostgreSQL must differ;
//     each normalisation says why next to the code.
package clienttest
