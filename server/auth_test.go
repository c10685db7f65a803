package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/kappa-db/kappa/pgwire"
	"github.com/kappa-db/kappa/server"
)

// The tests in this file drive authentication, TLS and privileges the way
// users meet them: with pgx, the real psql and (when installed) pgjdbc.

const psqlBin = "/usr/lib/postgresql/15/bin/psql"

func startSecure(t *testing.T, dir, listen, hba string, tlsConfig *tls.Config) *server.Server {
	t.Helper()
	rules, err := pgwire.ParseHBA(hba)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.Start(context.Background(), server.Config{DataDir: dir, Listen: listen, HBA: rules, TLS: tlsConfig})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

func stop(t *testing.T, srv *server.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Error(err)
	}
}

func dsn(addr, user, password, extra string) string {
	host, port, _ := net.SplitHostPort(addr)
	s := "host=" + host + " port=" + port + " user=" + user + " dbname=kappa connect_timeout=10"
	if password != "" {
		s += " password='" + strings.ReplaceAll(password, "'", `\'`) + "'"
	}
	if extra == "" {
		extra = "sslmode=disable"
	}
	return s + " " + extra
}

func mustExec(t *testing.T, conn *pgx.Conn, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := conn.Exec(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// connectErr connects and returns the server's error, which must be a
// *pgconn.PgError.
func connectErr(t *testing.T, connString string) *pgconn.PgError {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), connString)
	if err == nil {
		conn.Close(context.Background())
		t.Fatalf("connected with %q; want an error", connString)
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		t.Fatalf("connect %q: %v; want a server error", connString, err)
	}
	return pe
}

func whoami(t *testing.T, connString string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, connString)
	if err != nil {
		t.Fatalf("connect %q: %v", connString, err)
	}
	defer conn.Close(ctx)
	var cur, sess string
	if err := conn.QueryRow(ctx, "SELECT current_user, session_user").Scan(&cur, &sess); err != nil {
		t.Fatal(err)
	}
	if cur != sess {
		t.Errorf("current_user %q, session_user %q", cur, sess)
	}
	return cur
}

// psql runs psql with a connection string and commands, returning stdout and
// stderr.
func psql(t *testing.T, conninfo, password string, args ...string) (stdout, stderr string, err error) {
	return psqlInput(t, conninfo, password, "", args...)
}

// psqlInput is psql with input on its standard input.
func psqlInput(t *testing.T, conninfo, password, input string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	if _, err := os.Stat(psqlBin); err != nil {
		t.Skip("psql is not installed")
	}
	cmd := exec.Command(psqlBin, append([]string{"-X", "-A", "-t", "-d", conninfo}, args...)...)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+password, "PGCONNECT_TIMEOUT=10")
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Stdin = strings.NewReader(input)
	err = cmd.Run()
	return out.String(), errb.String(), err
}

// TestAuthentication: SCRAM-SHA-256 and md5 logins with pgx and psql,
// wrong passwords and unknown roles refused as PostgreSQL refuses them,
// NOLOGIN roles, and roles and passwords that survive a restart.
func TestAuthentication(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const hba = `
host all kappa 127.0.0.1/32 trust
host all ghost 127.0.0.1/32 trust
host all old   127.0.0.1/32 md5
host all all   127.0.0.1/32 scram-sha-256
`
	srv := startSecure(t, dir, "127.0.0.1:0", hba, nil)
	admin, err := pgx.Connect(ctx, dsn(srv.Addr(), "kappa", "", ""))
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, admin,
		"CREATE ROLE alice WITH LOGIN PASSWORD 'correct horse'",
		"CREATE USER bob PASSWORD 'b0b'",
		"CREATE ROLE nologin PASSWORD 'x'",
		"SET password_encryption = 'md5'",
		"CREATE USER old PASSWORD 'legacy'",
	)

	if got := whoami(t, dsn(srv.Addr(), "alice", "correct horse", "")); got != "alice" {
		t.Errorf("alice logged in as %q", got)
	}
	if got := whoami(t, dsn(srv.Addr(), "bob", "b0b", "")); got != "bob" {
		t.Errorf("bob logged in as %q", got)
	}
	// md5: the rule for old asks for md5 and old has an md5 hash.
	if got := whoami(t, dsn(srv.Addr(), "old", "legacy", "")); got != "old" {
		t.Errorf("old logged in as %q", got)
	}

	for _, c := range []struct{ user, password, code, msg string }{
		{"alice", "wrong", "28P01", `password authentication failed for user "alice"`},
		{"old", "wrong", "28P01", `password authentication failed for user "old"`},
		// An unknown role under a password rule fails exactly like a
		// wrong password (PostgreSQL's behaviour: no oracle).
		{"mallory", "x", "28P01", `password authentication failed for user "mallory"`},
		{"ghost", "", "28000", `role "ghost" does not exist`},
		{"nologin", "x", "28000", `role "nologin" is not permitted to log in`},
	} {
		pe := connectErr(t, dsn(srv.Addr(), c.user, c.password, ""))
		if pe.Code != c.code || pe.Message != c.msg || pe.Severity != "FATAL" {
			t.Errorf("%s/%s: got %s %s %q, want FATAL %s %q", c.user, c.password, pe.Severity, pe.Code, pe.Message, c.code, c.msg)
		}
	}

	// psql, with PGPASSWORD, through SCRAM.
	out, stderr, err := psql(t, dsn(srv.Addr(), "alice", "", ""), "correct horse", "-c", "SELECT current_user")
	if err != nil || strings.TrimSpace(out) != "alice" {
		t.Errorf("psql as alice: %v %q %s", err, out, stderr)
	}
	_, stderr, err = psql(t, dsn(srv.Addr(), "alice", "", ""), "nope", "-c", "SELECT 1")
	if err == nil || !strings.Contains(stderr, `password authentication failed for user "alice"`) {
		t.Errorf("psql with a wrong password: %v %s", err, stderr)
	}
	// A user may change their own password.
	bob, err := pgx.Connect(ctx, dsn(srv.Addr(), "bob", "b0b", ""))
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, bob, "ALTER ROLE bob PASSWORD 'n3w'")
	bob.Close(ctx)
	if pe := connectErr(t, dsn(srv.Addr(), "bob", "b0b", "")); pe.Code != "28P01" {
		t.Errorf("old password after ALTER ROLE: %v", pe)
	}

	// A renamed role logs in with its new name and the same password
	// (SCRAM verifiers do not depend on the name).
	mustExec(t, admin, "ALTER ROLE bob RENAME TO robert")
	if got := whoami(t, dsn(srv.Addr(), "robert", "n3w", "")); got != "robert" {
		t.Errorf("robert logged in as %q", got)
	}
	mustExec(t, admin, "ALTER ROLE robert RENAME TO bob")

	// Only verifiers are stored.
	for _, r := range srv.Engine().Catalog().Roles() {
		if strings.Contains(r.SCRAM+r.MD5, "horse") || strings.Contains(r.SCRAM+r.MD5, "legacy") {
			t.Errorf("role %s stores its password in clear", r.Name)
		}
		if r.Name == "alice" && !strings.HasPrefix(r.SCRAM, "SCRAM-SHA-256$4096:") {
			t.Errorf("alice's verifier is %q", r.SCRAM)
		}
	}
	admin.Close(ctx)
	stop(t, srv)

	// Roles and passwords survive a restart.
	srv = startSecure(t, dir, "127.0.0.1:0", hba, nil)
	defer stop(t, srv)
	if got := whoami(t, dsn(srv.Addr(), "alice", "correct horse", "")); got != "alice" {
		t.Errorf("after restart alice logged in as %q", got)
	}
	if got := whoami(t, dsn(srv.Addr(), "bob", "n3w", "")); got != "bob" {
		t.Errorf("after restart bob logged in as %q", got)
	}
	if got := whoami(t, dsn(srv.Addr(), "old", "legacy", "")); got != "old" {
		t.Errorf("after restart old logged in as %q", got)
	}
	if pe := connectErr(t, dsn(srv.Addr(), "alice", "wrong", "")); pe.Code != "28P01" {
		t.Errorf("after restart, a wrong password: %v", pe)
	}
}

// TestReadOnlyRole: a role granted SELECT on a view and a materialized view
// reads them, and is refused (42501, PostgreSQL's messages) every write and
// every DDL, through psql over SCRAM.
func TestReadOnlyRole(t *testing.T) {
	ctx := context.Background()
	const hba = "host all kappa 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n"
	srv := startSecure(t, t.TempDir(), "127.0.0.1:0", hba, nil)
	defer stop(t, srv)
	admin, err := pgx.Connect(ctx, dsn(srv.Addr(), "kappa", "", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	mustExec(t, admin,
		"CREATE TABLE t (k int PRIMARY KEY, v text)",
		"INSERT INTO t VALUES (1, 'a'), (2, 'b')",
		"CREATE VIEW v AS SELECT k, v FROM t WHERE k > 1",
		"CREATE MATERIALIZED VIEW m AS SELECT count(*) AS n FROM t",
		"CREATE ROLE reader LOGIN PASSWORD 'r'",
		"GRANT SELECT ON v, m TO reader",
	)
	script := `\set VERBOSITY verbose
SELECT k, v FROM v;
SELECT n FROM m;
SELECT current_user;
SELECT * FROM t;
INSERT INTO t VALUES (3, 'c');
UPDATE t SET v = 'x';
DELETE FROM t;
CREATE TABLE x (a int);
CREATE VIEW w AS SELECT 1;
DROP VIEW v;
DROP TABLE t;
DROP MATERIALIZED VIEW m;
GRANT SELECT ON t TO reader;
CREATE ROLE sneaky;
COPY t TO STDOUT;
COPY (SELECT k FROM v) TO STDOUT;
`
	out, stderr, err := psqlInput(t, dsn(srv.Addr(), "reader", "", ""), "r", script, "-f", "-")
	_ = err // psql exits 1 after the errors; the output says what happened
	for _, want := range []string{"2|b", "2", "reader\n2"} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	wantErrors := []string{
		"42501: permission denied for table t", // SELECT
		"42501: permission denied for table t", // INSERT
		"42501: permission denied for table t", // UPDATE
		"42501: permission denied for table t", // DELETE
		"42501: permission denied for schema public",
		"42501: permission denied for schema public",
		"42501: must be owner of view v",
		"42501: must be owner of table t",
		"42501: must be owner of materialized view m",
		"42501: permission denied for table t", // GRANT
		"42501: permission denied to create role",
		"42501: permission denied for table t", // COPY t TO
	}
	var got []string
	for _, l := range strings.Split(stderr, "\n") {
		if _, msg, ok := strings.Cut(l, "ERROR:  "); ok {
			got = append(got, msg)
		}
	}
	if strings.Join(got, "\n") != strings.Join(wantErrors, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s\nstderr:\n%s", strings.Join(got, "\n"), strings.Join(wantErrors, "\n"), stderr)
	}
	// Nothing changed.
	var n int
	if err := admin.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 2 {
		t.Errorf("t has %d rows (%v), want 2", n, err)
	}
}

// testCA makes a CA and a server certificate for localhost and ips.
func testCA(t *testing.T, dir string, ips ...net.IP) (caFile, certFile, keyFile string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kappa test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: ips,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("server.pem", "CERTIFICATE", leafDER), write("server.key", "PRIVATE KEY", keyDER)
}

// nonLoopbackIP returns an IPv4 address of this machine that is not
// loopback, or nil.
func nonLoopbackIP() net.IP {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil && !n.IP.IsLinkLocalUnicast() {
			return n.IP
		}
	}
	return nil
}

// TestTLS: with --tls-cert/--tls-key and a hostssl rule for non-loopback
// clients, psql and pgx connect with sslmode=require and verify-full (a CA
// made here), and a plaintext client from that address is refused.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	ip := nonLoopbackIP()
	if ip == nil {
		// No other address: the rule is tested on the loopback address.
		ip = net.IPv4(127, 0, 0, 1)
		t.Log("no non-loopback address: testing hostssl on 127.0.0.1")
	}
	caFile, certFile, keyFile := testCA(t, dir, ip)
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	hba := "hostssl all kappa " + ip.String() + "/32 trust\n" +
		"hostssl all all " + ip.String() + "/32 scram-sha-256\n"
	srv := startSecure(t, dir, net.JoinHostPort(ip.String(), "0"), hba, &tls.Config{Certificates: []tls.Certificate{cert}})
	defer stop(t, srv)

	ctx := context.Background()
	admin, err := pgx.Connect(ctx, dsn(srv.Addr(), "kappa", "", "sslmode=verify-full sslrootcert="+caFile))
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, admin, "CREATE ROLE alice LOGIN PASSWORD 'pw'")
	admin.Close(ctx)

	if got := whoami(t, dsn(srv.Addr(), "alice", "pw", "sslmode=require")); got != "alice" {
		t.Errorf("pgx sslmode=require: %q", got)
	}
	for _, mode := range []string{"sslmode=require", "sslmode=verify-full sslrootcert=" + caFile} {
		out, stderr, err := psql(t, dsn(srv.Addr(), "alice", "", mode), "pw", "-c", "SELECT current_user", "-c", `\conninfo`)
		if err != nil || !strings.HasPrefix(out, "alice\n") || !strings.Contains(out, "SSL connection (protocol: TLSv1.3") {
			t.Errorf("psql %s: %v\n%s%s", mode, err, out, stderr)
		}
	}
	// verify-full against a CA that did not sign the server's certificate.
	otherCA, _, _ := testCA(t, t.TempDir(), ip)
	if _, stderr, err := psql(t, dsn(srv.Addr(), "alice", "", "sslmode=verify-full sslrootcert="+otherCA), "pw", "-c", "SELECT 1"); err == nil || !strings.Contains(stderr, "SSL error") && !strings.Contains(stderr, "certificate verify failed") {
		t.Errorf("psql verify-full with the wrong CA: %v %s", err, stderr)
	}
	// Plaintext from a non-loopback address matches no rule.
	want := `no pg_hba.conf entry for host "` + ip.String() + `", user "alice", database "kappa", no encryption`
	pe := connectErr(t, dsn(srv.Addr(), "alice", "pw", "sslmode=disable"))
	if pe.Code != "28000" || pe.Message != want {
		t.Errorf("plaintext: %s %q, want 28000 %q", pe.Code, pe.Message, want)
	}
	if _, stderr, err := psql(t, dsn(srv.Addr(), "alice", "", "sslmode=disable"), "pw", "-c", "SELECT 1"); err == nil || !strings.Contains(stderr, want) {
		t.Errorf("psql sslmode=disable: %v %s", err, stderr)
	}

	// pgjdbc: SCRAM over TLS, checking the server against the CA.
	if out, err := pgjdbc(t, dir, "jdbc:postgresql://"+srv.Addr()+"/kappa?sslmode=verify-full&sslrootcert="+caFile, "alice", "pw"); err != nil || out != "alice" {
		t.Errorf("pgjdbc: %v %q", err, out)
	}
	if out, err := pgjdbc(t, dir, "jdbc:postgresql://"+srv.Addr()+"/kappa?sslmode=require", "alice", "wrong"); err == nil || !strings.Contains(out, "28P01") {
		t.Errorf("pgjdbc with a wrong password: %v %q", err, out)
	}
}

const pgjdbcJar = "/usr/share/java/postgresql.jar"

// pgjdbc connects with pgjdbc (Debian's libpostgresql-jdbc-java) and prints
// current_user, or the SQLSTATE and message of the failure.
func pgjdbc(t *testing.T, dir, url, user, password string) (string, error) {
	t.Helper()
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("java is not installed")
	}
	if _, err := os.Stat(pgjdbcJar); err != nil {
		t.Skip("pgjdbc is not installed (apt-get install libpostgresql-jdbc-java)")
	}
	src := filepath.Join(dir, "Who.java")
	const prog = `import java.sql.*;
public class Who {
  public static void main(String[] a) throws Exception {
    try (Connection c = DriverManager.getConnection(a[0], a[1], a[2]);
         ResultSet rs = c.createStatement().executeQuery("SELECT current_user")) {
      rs.next();
      System.out.print(rs.getString(1));
    } catch (SQLException e) {
      System.out.print(e.getSQLState() + " " + e.getMessage());
      System.exit(1);
    }
  }
}
`
	if err := os.WriteFile(src, []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(java, "-cp", pgjdbcJar, src, url, user, password).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// TestConnectionLimit: past --max-connections a client gets 53300.
func TestConnectionLimit(t *testing.T) {
	ctx := context.Background()
	srv, err := server.Start(ctx, server.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", MaxConnections: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer stop(t, srv)
	first, err := pgx.Connect(ctx, dsn(srv.Addr(), "kappa", "", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close(ctx)
	pe := connectErr(t, dsn(srv.Addr(), "kappa", "", ""))
	if pe.Code != "53300" || pe.Message != "sorry, too many clients already" {
		t.Errorf("got %s %q", pe.Code, pe.Message)
	}
	// The limit shows as PostgreSQL's max_connections, which cannot be SET.
	var max string
	if err := first.QueryRow(ctx, "SHOW max_connections").Scan(&max); err != nil || max != "1" {
		t.Errorf("SHOW max_connections: %q %v", max, err)
	}
	if _, err := first.Exec(ctx, "SET max_connections = 5"); err == nil {
		t.Error("SET max_connections succeeded")
	} else {
		t.Logf("SET max_connections: %v", err)
	}
}

// TestRoleConnectionLimit: CONNECTION LIMIT caps a role's sessions (53300);
// superusers are not limited; a closed session frees its place.
func TestRoleConnectionLimit(t *testing.T) {
	ctx := context.Background()
	srv, err := server.Start(ctx, server.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer stop(t, srv)
	admin, err := pgx.Connect(ctx, dsn(srv.Addr(), "kappa", "", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	mustExec(t, admin, "CREATE ROLE lim LOGIN CONNECTION LIMIT 1", "ALTER ROLE kappa CONNECTION LIMIT 0")
	first, err := pgx.Connect(ctx, dsn(srv.Addr(), "lim", "", ""))
	if err != nil {
		t.Fatal(err)
	}
	pe := connectErr(t, dsn(srv.Addr(), "lim", "", ""))
	if pe.Code != "53300" || pe.Message != `too many connections for role "lim"` {
		t.Errorf("got %s %q", pe.Code, pe.Message)
	}
	first.Close(ctx)
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := pgx.Connect(ctx, dsn(srv.Addr(), "lim", "", ""))
		if err == nil {
			c.Close(ctx)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the first session closed: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := whoami(t, dsn(srv.Addr(), "kappa", "", "")); got != "kappa" {
		t.Errorf("superuser: %q", got)
	}
}

// TestPasswordVerifiersHidden: pg_authid (password verifiers) is refused to
// non-superusers even through a statement a superuser prepared in the same
// session before SET ROLE (the plan holds the rows).
func TestPasswordVerifiersHidden(t *testing.T) {
	ctx := context.Background()
	srv, err := server.Start(ctx, server.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer stop(t, srv)
	conn, err := pgx.Connect(ctx, dsn(srv.Addr(), "kappa", "", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	mustExec(t, conn, "CREATE ROLE plain LOGIN PASSWORD 'p'")
	const q = "SELECT rolpassword FROM pg_authid WHERE rolname = 'plain'"
	var v string
	if err := conn.QueryRow(ctx, q).Scan(&v); err != nil || !strings.HasPrefix(v, "SCRAM-SHA-256$") {
		t.Fatalf("superuser reads %q, %v", v, err)
	}
	mustExec(t, conn, "SET ROLE plain")
	err = conn.QueryRow(ctx, q).Scan(&v)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "42501" || pe.Message != "permission denied for table pg_authid" {
		t.Errorf("after SET ROLE: %v %q", err, v)
	}
}
