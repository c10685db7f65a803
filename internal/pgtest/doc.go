// Package pgtest starts a real PostgreSQL server for tests and benchmark
// programs: it finds the installed binaries, runs initdb in a fresh directory
// under /tmp, starts postgres on 127.0.0.1 with a free port and trust
// authentication, waits until it accepts connections, and stops it and removes
// the directory when the test ends. Tests use it to check that the expected
// outputs in kappa's .slt files are what PostgreSQL says, and benchmarks use it
// as the baseline. It imports no kappa package.
//
// Invariants: every server Start launched is stopped by the test's cleanup
// (or by Stop), and its directory removed; a server is only returned once it
// accepts connections.
//
// # Caveats
//
//   - initdb and postgres refuse to run as root, so as root they run as the
//     "postgres" operating-system user, which must exist (the Debian package
//     creates it), and the directory is owned by that user.
//   - The free port is chosen by binding and closing a listener, so another
//     process can take it in between; Start retries a few times.
//   - By default the server runs with fsync=off and synchronous_commit=off,
//     which is right for correctness tests and wrong for benchmarks: set
//     Options.Durable for those.
//   - Missing binaries skip the test unless KAPPA_REQUIRE_PG=1 (CI), in which
//     case they fail it.
package pgtest
