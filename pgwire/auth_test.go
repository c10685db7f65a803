package pgwire

import (
	"context"
	"encoding/base64"
	"errors"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// authEngine is the test engine with roles that have passwords.
type authEngine struct {
	*testEngine
	creds map[string]Credentials
}

func (e *authEngine) Credentials(user string) (Credentials, bool) {
	c, ok := e.creds[user]
	return c, ok
}

func startAuthServer(t *testing.T, hba string, creds map[string]Credentials) *testServer {
	t.Helper()
	rules, err := ParseHBA(hba)
	if err != nil {
		t.Fatal(err)
	}
	eng := newTestEngine()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: NewServer(&authEngine{eng, creds}, Config{HBA: rules}), engine: eng, addr: ln.Addr().String(), served: make(chan error, 1)}
	go func() { ts.served <- ts.Serve(ln) }()
	t.Cleanup(func() {
		_ = ts.Close()
		<-ts.served
	})
	return ts
}

func mustVerifier(t *testing.T, pw string) string {
	t.Helper()
	v, err := SCRAMVerifier(pw)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestSCRAMRFC7677 runs the example exchange of RFC 7677 section 3 against a
// verifier made from its password and salt.
func TestSCRAMRFC7677(t *testing.T) {
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	v, err := scramVerifierWith("pencil", salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	sec, err := parseSCRAMVerifier(v)
	if err != nil {
		t.Fatal(err)
	}
	x := &scramExchange{secret: sec, serverNonce: "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"}
	first, err := x.first("n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
	if err != nil {
		t.Fatal(err)
	}
	if want := "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"; first != want {
		t.Fatalf("server-first %q, want %q", first, want)
	}
	final, ok, err := x.final("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
	if err != nil || !ok {
		t.Fatalf("final: %v %v", ok, err)
	}
	if want := "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="; final != want {
		t.Fatalf("server-final %q, want %q", final, want)
	}
	if !checkPlainPassword("user", "pencil", Credentials{SCRAM: v}) || checkPlainPassword("user", "pencil2", Credentials{SCRAM: v}) {
		t.Error("checkPlainPassword disagrees with the verifier")
	}
	// A verifier PostgreSQL 15 stored for the password "x".
	pg := "SCRAM-SHA-256$4096:I/4HcPW2Ebt34tQGLnIHIg==$1YyL40gEMUkSRdTmftZCkQNdq7uYoqARfB1CO7TKY0U=:5DR7qrQh8dWBp6qrqT1IKAqRXTM4cDLyHuBtgIUsviA="
	if !IsSCRAMVerifier(pg) || !checkPlainPassword("reader", "x", Credentials{SCRAM: pg}) {
		t.Error("a verifier from PostgreSQL does not check its password")
	}
	if checkPlainPassword("user", "", Credentials{SCRAM: mockVerifier}) {
		t.Error("the mock verifier matches the empty password")
	}
}

func TestMD5Password(t *testing.T) {
	// PostgreSQL: SELECT 'md5' || md5('secret' || 'bob').
	if got, want := MD5Password("bob", "secret"), "md521f3163f8f86fa10bdefbfbd502a8f06"; got != want || !IsMD5Password(got) {
		t.Errorf("MD5Password = %q, want %q", got, want)
	}
	if IsMD5Password("md5xyz") || IsSCRAMVerifier("SCRAM-SHA-256$4096:abc") {
		t.Error("malformed secrets accepted")
	}
}

func TestHBA(t *testing.T) {
	h, err := ParseHBA(`
# comment
hostssl  all      all          10.0.0.0/8     scram-sha-256
host     kappa    alice,bob    192.168.1.0 255.255.255.0  md5  # trailing comment
hostnossl all     all          samehost       trust
host     all      all          ::1/128        password
host     all      all          all            reject
`)
	if err != nil {
		t.Fatal(err)
	}
	addr := func(s string) net.Addr { return &net.TCPAddr{IP: net.ParseIP(s), Port: 5} }
	for _, c := range []struct {
		ip       string
		tls      bool
		user, db string
		line     int
	}{
		{"10.1.2.3", true, "x", "y", 3},
		{"10.1.2.3", false, "x", "y", 7},
		{"192.168.1.9", false, "bob", "kappa", 4},
		{"192.168.1.9", true, "bob", "kappa", 4},
		{"192.168.1.9", false, "carol", "kappa", 7},
		{"192.168.1.9", false, "bob", "other", 7},
		{"127.0.0.1", false, "x", "y", 5},
		{"127.0.0.1", true, "x", "y", 7},
		{"::ffff:10.0.0.1", true, "x", "y", 3},
		{"::1", true, "x", "y", 6},
	} {
		r := h.Match(addr(c.ip), c.tls, c.user, c.db)
		if r == nil || r.Line != c.line {
			t.Errorf("%+v: matched %+v, want line %d", c, r, c.line)
		}
	}
	for _, bad := range []string{
		"local all all trust",
		"host all all 10.0.0.0/33 trust",
		"host all all 10.0.0.1 trust",
		"host all all all ident",
		"host all all all md5 clientcert=verify-full",
		"host all +group all md5",
		"host all all",
	} {
		if _, err := ParseHBA(bad); err == nil {
			t.Errorf("ParseHBA(%q) succeeded", bad)
		}
	}
	if _, err := ParseHBA(DefaultHBA); err != nil {
		t.Errorf("DefaultHBA: %v", err)
	}
}

// TestAuthMethods logs in with pgx through each method and checks the
// failures: wrong passwords, unknown roles and expired passwords all fail
// alike with 28P01; no matching rule and reject give 28000.
func TestAuthMethods(t *testing.T) {
	creds := map[string]Credentials{
		"alice":   {SCRAM: mustVerifier(t, "wonder")},
		"old":     {MD5: MD5Password("old", "legacy")},
		"both":    {SCRAM: mustVerifier(t, "pw"), MD5: MD5Password("both", "pw")},
		"expired": {SCRAM: mustVerifier(t, "pw"), ValidUntil: time.Now().Add(-time.Hour)},
		"nopw":    {},
	}
	ts := startAuthServer(t, `
host test     all      127.0.0.1/32 md5
host plain    all      127.0.0.1/32 password
host scram    all      127.0.0.1/32 scram-sha-256
host trusted  all      127.0.0.1/32 trust
host rejected all      127.0.0.1/32 reject
`, creds)
	host, port, _ := net.SplitHostPort(ts.addr)
	conn := func(user, db, pw string) error {
		c, err := pgx.Connect(context.Background(), "host="+host+" port="+port+" sslmode=disable user="+user+" dbname="+db+" password="+pw)
		if err == nil {
			c.Close(context.Background())
		}
		return err
	}
	for _, c := range []struct{ user, db, pw, code string }{
		{"alice", "scram", "wonder", ""},
		{"alice", "test", "wonder", ""}, // md5 rule, SCRAM verifier: SCRAM
		{"old", "test", "legacy", ""},   // md5
		{"both", "test", "pw", ""},      // md5 (the role has an md5 hash)
		{"alice", "plain", "wonder", ""},
		{"old", "plain", "legacy", ""},
		{"anyone", "trusted", "", ""},
		{"alice", "scram", "wrong", "28P01"},
		{"old", "test", "wrong", "28P01"},
		{"old", "scram", "legacy", "28P01"}, // scram-sha-256 cannot use an md5 hash
		{"nobody", "scram", "x", "28P01"},
		{"nobody", "test", "x", "28P01"},
		{"nobody", "plain", "x", "28P01"},
		{"expired", "scram", "pw", "28P01"},
		{"nopw", "scram", "x", "28P01"},
		{"alice", "rejected", "wonder", "28000"},
		{"alice", "elsewhere", "wonder", "28000"},
	} {
		err := conn(c.user, c.db, c.pw)
		if got := pgCode(err); got != c.code {
			t.Errorf("%s@%s with %q: %v (code %q), want %q", c.user, c.db, c.pw, err, got, c.code)
		}
		var pe *pgconn.PgError
		if c.code == "28P01" && errors.As(err, &pe) && pe.Message != `password authentication failed for user "`+c.user+`"` {
			t.Errorf("%s: message %q", c.user, pe.Message)
		}
	}
}

// TestSCRAMNoOracle: the server-first message of an unknown role looks like
// a real one and is the same on every attempt, so that a client cannot tell
// that the role does not exist.
func TestSCRAMNoOracle(t *testing.T) {
	ts := startAuthServer(t, "host all all 127.0.0.1/32 scram-sha-256\n", map[string]Credentials{"alice": {SCRAM: mustVerifier(t, "x")}})
	serverFirst := func(user string) string {
		c := ts.dialRaw(t)
		c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": user}})
		if m := c.readUntil("AuthenticationSASL"); m[len(m)-1] != "AuthenticationSASL" && !strings.HasPrefix(m[len(m)-1], "AuthenticationSASL") {
			t.Fatalf("%s: %v", user, m)
		}
		c.send(&pgproto3.SASLInitialResponse{AuthMechanism: "SCRAM-SHA-256", Data: []byte("n,,n=,r=abcdef")})
		msg, err := c.fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		cont, ok := msg.(*pgproto3.AuthenticationSASLContinue)
		if !ok {
			t.Fatalf("%s: got %T", user, msg)
		}
		// Drop the nonce: it is random on every attempt.
		parts := strings.Split(string(cont.Data), ",")
		return strings.Join(parts[1:], ",")
	}
	a, b := serverFirst("nobody"), serverFirst("nobody")
	if a != b {
		t.Errorf("unknown role: salts differ between attempts: %q, %q", a, b)
	}
	real := serverFirst("alice")
	if len(a) != len(real) || !strings.HasSuffix(a, ",i=4096") {
		t.Errorf("unknown role %q does not look like a real one %q", a, real)
	}

	// A mechanism that was not offered is a protocol violation.
	c := ts.dialRaw(t)
	c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "alice"}})
	c.readUntil("AuthenticationSASL")
	c.send(&pgproto3.SASLInitialResponse{AuthMechanism: "SCRAM-SHA-256-PLUS", Data: []byte("p=tls-server-end-point,,n=,r=x")})
	out := strings.Join(c.readUntil("ErrorResponse"), "\n")
	if !strings.Contains(out, "08P01") {
		t.Errorf("SCRAM-SHA-256-PLUS: %s", out)
	}
}

// FuzzSCRAM feeds arbitrary client messages to the server side of SCRAM:
// it must never panic, and never accept a proof for the mock secret.
func FuzzSCRAM(f *testing.F) {
	f.Add("n,,n=user,r=rOprNGfwEbeRWgbNEkqO", "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
	f.Add("y,,n=,r=x", "c=eSws,r=x,p=")
	f.Add("p=tls-server-end-point,,n=,r=x", "")
	f.Fuzz(func(t *testing.T, first, final string) {
		x := &scramExchange{secret: mockSCRAMSecret(make([]byte, 32), "u"), mock: true, serverNonce: "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"}
		if _, err := x.first(first); err != nil {
			return
		}
		if _, ok, _ := x.final(final); ok {
			t.Fatalf("mock secret accepted %q", final)
		}
	})
}

// TestAuthTiming measures how long failed logins take for a wrong password
// and for an unknown role; they must not differ by more than the noise.
// Timings are noisy on a shared machine, so it only runs with
// KAPPA_AUTH_TIMING=1 and reports medians.
func TestAuthTiming(t *testing.T) {
	if os.Getenv("KAPPA_AUTH_TIMING") != "1" {
		t.Skip("set KAPPA_AUTH_TIMING=1 to measure")
	}
	ts := startAuthServer(t, "host all all 127.0.0.1/32 scram-sha-256\n", map[string]Credentials{"alice": {SCRAM: mustVerifier(t, "right")}})
	host, port, _ := net.SplitHostPort(ts.addr)
	median := func(user string) time.Duration {
		var ds []time.Duration
		for range 200 {
			start := time.Now()
			c, err := pgx.Connect(context.Background(), "host="+host+" port="+port+" sslmode=disable user="+user+" password=wrong")
			if err == nil {
				c.Close(context.Background())
				t.Fatal("logged in")
			}
			ds = append(ds, time.Since(start))
		}
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	// Interleave to spread the machine's noise over both.
	var wrong, unknown []time.Duration
	for range 3 {
		wrong = append(wrong, median("alice"))
		unknown = append(unknown, median("nobody"))
	}
	t.Logf("median failed login: wrong password %v, unknown role %v", wrong, unknown)
}
