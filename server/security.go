package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"os"

	"github.com/kappa-db/kappa/pgwire"
)

// LoadSecurity loads the authentication rules (pg_hba.conf format, see
// pgwire.ParseHBA) and the TLS key pair (PEM files) for Config.HBA and
// Config.TLS; empty names keep the defaults (pgwire.DefaultHBA, no TLS).
func LoadSecurity(hbaFile, certFile, keyFile string) (*pgwire.HBA, *tls.Config, error) {
	var hba *pgwire.HBA
	if hbaFile != "" {
		text, err := os.ReadFile(hbaFile)
		if err != nil {
			return nil, nil, fmt.Errorf("--hba-file: %w", err)
		}
		if hba, err = pgwire.ParseHBA(string(text)); err != nil {
			return nil, nil, fmt.Errorf("--hba-file %s: %w", hbaFile, err)
		}
	}
	if (certFile == "") != (keyFile == "") {
		return nil, nil, errors.New("--tls-cert and --tls-key go together")
	}
	if certFile == "" {
		return hba, nil, nil
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("loading TLS key pair: %w", err)
	}
	return hba, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}
