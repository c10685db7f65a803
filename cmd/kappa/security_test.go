package main

import (
	"bytes"
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
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// syncBuffer is a bytes.Buffer safe for the server's logger and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServeSecurityFlags: kappa serve with --hba-file, --tls-cert and
// --tls-key serves TLS and applies the rules; bad values are refused at
// start with exit code 2.
func TestServeSecurityFlags(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cert := write("cert.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	keyFile := write("key.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})))
	hba := write("hba.conf", "hostssl all all 127.0.0.1/32 trust\n")
	badHBA := write("bad.conf", "host all all all ident\n")

	for _, args := range [][]string{
		{"--hba-file", badHBA},
		{"--hba-file", filepath.Join(dir, "missing")},
		{"--tls-cert", cert},
		{"--tls-cert", hba, "--tls-key", keyFile},
	} {
		var stderr syncBuffer
		m := &Main{Stdout: &stderr, Stderr: &stderr}
		if code := m.Run(context.Background(), append([]string{"serve", "--data-dir", filepath.Join(dir, "bad"), "--listen", "127.0.0.1:0"}, args...)); code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", args, code, stderr.String())
		}
	}

	var stderr syncBuffer
	m := &Main{Stdout: &stderr, Stderr: &stderr}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- m.Run(ctx, []string{"serve", "--data-dir", filepath.Join(dir, "data"), "--listen", "127.0.0.1:0",
			"--hba-file", hba, "--tls-cert", cert, "--tls-key", keyFile})
	}()
	var addr string
	for deadline := time.Now().Add(30 * time.Second); addr == ""; {
		if m := readyLine.FindStringSubmatch(stderr.String()); m != nil {
			addr = m[1]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("kappa did not start:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	conn, err := pgx.Connect(ctx, "postgres://kappa@"+addr+"/kappa?sslmode=require")
	if err != nil {
		t.Fatalf("sslmode=require: %v", err)
	}
	if _, ok := conn.PgConn().Conn().(*tls.Conn); !ok {
		t.Errorf("sslmode=require connected without TLS: %T", conn.PgConn().Conn())
	}
	conn.Close(ctx)
	_, err = pgx.Connect(ctx, "postgres://kappa@"+addr+"/kappa?sslmode=disable")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "28000" || !strings.Contains(pe.Message, "no pg_hba.conf entry") {
		t.Errorf("plaintext: %v", err)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d\n%s", code, stderr.String())
	}
}
