#!/usr/bin/env bash
# The project's test command (the README's, and CI's through .ci/run): installs
# what the tests need when it is missing, then vets and tests every package.
# Works from a fresh clone in any directory. Arguments narrow the packages
# (default ./...), e.g. scripts/test.sh ./sqllogictest/...
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

apt_updated=0
apt_install() {
	if [ "$(id -u)" != 0 ]; then
		echo "test.sh: missing $*, and not root to install it" >&2
		return 0
	fi
	if [ "$apt_updated" = 0 ]; then
		apt-get update -qq >/dev/null
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# PostgreSQL: internal/pgtest starts its own servers from these binaries.
if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || ! command -v psql >/dev/null; then
	echo "test.sh: installing PostgreSQL"
	apt_install postgresql postgresql-client
fi

# --- Client installs (node-postgres, pgjdbc, psycopg, ...) go here. ---------
# Add each as: if <missing>; then apt_install <packages>; fi

# pgjdbc (Debian's build of 42.5) and a JRE: server's TestTLS logs in with it.
if [ ! -f /usr/share/java/postgresql.jar ]; then
	echo "test.sh: installing pgjdbc"
	apt_install libpostgresql-jdbc-java
fi
if ! command -v java >/dev/null || ! command -v javac >/dev/null; then
	echo "test.sh: installing a JDK (internal/clienttest compiles its pgjdbc program)"
	apt_install default-jdk-headless
fi
# psycopg2 and SQLAlchemy 1.4 for /usr/bin/python3 (internal/clienttest).
if ! /usr/bin/python3 -c 'import psycopg2, sqlalchemy' 2>/dev/null; then
	echo "test.sh: installing psycopg2 and SQLAlchemy"
	apt_install python3-psycopg2 python3-sqlalchemy
fi
# node and npm: internal/clienttest npm-installs pg and pg-copy-streams into
# $HOME/.cache/kappa-clienttest/node itself.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "test.sh: installing node and npm"
	apt_install nodejs npm
fi
# What was installed above must run: a missing client fails its check.
export KAPPA_REQUIRE_CLIENTS=1

# Missing PostgreSQL fails the tests that need it instead of skipping them.
export KAPPA_REQUIRE_PG=1

pkgs=("$@")
if [ ${#pkgs[@]} = 0 ]; then
	pkgs=(./...)
fi

go vet "${pkgs[@]}"

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
go test "${pkgs[@]}" -count=1 -timeout 25m 2>&1 | tee "$log" || status=$?

# Per package: "ok <pkg>" or "FAIL <pkg>" (including [build failed]).
passed=$(grep -Ec '^ok[[:space:]]' "$log" || true)
failed=$(grep -Ec '^FAIL[[:space:]]' "$log" || true)
echo
echo "== go test summary =="
grep -E '^(ok|FAIL)[[:space:]]' "$log" || true
echo "packages: ${passed} passed, ${failed} failed"
exit "$status"
