package pgwire

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/kappa-db/kappa/pgerr"
)

// Authenticator is implemented by an Engine whose roles have passwords.
// pgwire asks it for a role's stored secrets when a rule requires a
// password; an Engine without it can only be reached through trust rules.
type Authenticator interface {
	// Credentials returns the stored secrets of role user; ok is false when
	// there is no such role. It must not block.
	Credentials(user string) (c Credentials, ok bool)
}

// Credentials are what a role's password is checked against. The password
// itself is never stored.
type Credentials struct {
	// SCRAM is a SCRAM-SHA-256 verifier (SCRAMVerifier), or empty.
	SCRAM string
	// MD5 is an md5 password hash (MD5Password), or empty.
	MD5 string
	// ValidUntil, when not zero, is when the password expires.
	ValidUntil time.Time
}

// maxAuthMessage bounds a password or SASL message, as PostgreSQL's
// PG_MAX_AUTH_TOKEN_LENGTH does.
const maxAuthMessage = 65535

// authenticate applies the first matching rule to the client. It returns
// false, after telling the client why, when the connection must close.
func (c *conn) authenticate(p *SessionParams) bool {
	rule := c.srv.hba.Match(p.RemoteAddr, p.TLS, p.User, p.Database)
	enc := "no encryption"
	if p.TLS {
		enc = "SSL encryption"
	}
	host := addrIP(p.RemoteAddr).String()
	if rule == nil {
		c.sendFatal(pgerr.New(pgerr.InvalidAuthorization, "no pg_hba.conf entry for host %q, user %q, database %q, %s", host, p.User, p.Database, enc))
		return false
	}
	p.AuthMethod = string(rule.Method)
	switch rule.Method {
	case AuthTrust:
		return true
	case AuthReject:
		c.sendFatal(pgerr.New(pgerr.InvalidAuthorization, "pg_hba.conf rejects connection for host %q, user %q, database %q, %s", host, p.User, p.Database, enc))
		return false
	}
	var cred Credentials
	found := false
	if a, ok := c.srv.engine.(Authenticator); ok {
		cred, found = a.Credentials(p.User)
	}
	// A role that does not exist, has no password, or whose password has
	// expired goes through the same exchange as any other and fails at the
	// same point, with the same error: the client cannot tell which.
	usable := found && (cred.ValidUntil.IsZero() || time.Now().Before(cred.ValidUntil))
	var ok bool
	var err error
	switch {
	case rule.Method == AuthPassword:
		ok, err = c.passwordAuth(p.User, cred, usable)
	case rule.Method == AuthMD5 && cred.MD5 != "":
		// The role was given an md5 password so that old clients can log
		// in: challenge with md5. Any other role gets SCRAM, as in
		// PostgreSQL.
		ok, err = c.md5Auth(cred, usable)
	default:
		ok, err = c.scramAuth(p.User, cred, usable)
	}
	switch {
	case err != nil:
		if !errors.Is(err, io.EOF) && !isConnError(err) {
			c.sendFatal(err)
		}
		return false
	case !ok:
		// The client learns nothing more; the log says why, as
		// PostgreSQL's DETAIL in its server log does.
		reason := "wrong password"
		switch {
		case !found:
			reason = "role does not exist"
		case cred.SCRAM == "" && cred.MD5 == "":
			reason = "role has no password"
		case !usable:
			reason = "password expired"
		case rule.Method == AuthSCRAM && cred.SCRAM == "":
			reason = "role has only an md5 password, and the rule requires scram-sha-256"
		}
		c.log.Info("pgwire: password authentication failed", "user", p.User, "method", rule.Method, "hba_line", rule.Line, "reason", reason)
		c.sendFatal(pgerr.New(pgerr.InvalidPassword, "password authentication failed for user %q", p.User))
		return false
	}
	return true
}

// readAuthMessage reads one password message ('p') during authentication.
// A client that hangs up to ask its user for a password (psql does) gives
// io.EOF.
func (c *conn) readAuthMessage(what string) ([]byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(c.nc, hdr[:]); err != nil {
		return nil, err
	}
	if hdr[0] != 'p' {
		return nil, pgerr.New(pgerr.ProtocolViolation, "expected %s response, got message type %d", what, hdr[0])
	}
	n := int(int32(binary.BigEndian.Uint32(hdr[1:]))) - 4
	if n < 0 || n > maxAuthMessage {
		return nil, pgerr.New(pgerr.ProtocolViolation, "invalid %s message length %d", what, n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(c.nc, body); err != nil {
		return nil, err
	}
	return body, nil
}

func (c *conn) sendAuth(msg pgproto3.BackendMessage) error {
	if err := c.send(msg); err != nil {
		return err
	}
	return c.flush()
}

// scramAuth runs a SCRAM-SHA-256 exchange. ok reports a correct proof; err
// a protocol failure or a lost client.
func (c *conn) scramAuth(user string, cred Credentials, usable bool) (ok bool, err error) {
	x := &scramExchange{}
	if usable && cred.SCRAM != "" {
		x.secret, err = parseSCRAMVerifier(cred.SCRAM)
		if err != nil {
			c.log.Warn("pgwire: stored SCRAM verifier is invalid", "user", user)
		}
	}
	if !usable || cred.SCRAM == "" || err != nil {
		x.secret, x.mock = mockSCRAMSecret(c.srv.mockKey[:], user), true
	}
	if err := c.sendAuth(&pgproto3.AuthenticationSASL{AuthMechanisms: []string{scramMechanism}}); err != nil {
		return false, err
	}
	body, err := c.readAuthMessage("SASL")
	if err != nil {
		return false, err
	}
	var init pgproto3.SASLInitialResponse
	if err := init.Decode(body); err != nil {
		return false, pgerr.New(pgerr.ProtocolViolation, "malformed SASL message: %v", err)
	}
	if init.AuthMechanism != scramMechanism {
		return false, pgerr.New(pgerr.ProtocolViolation, "client selected an invalid SASL authentication mechanism")
	}
	serverFirst, err := x.first(string(init.Data))
	if err != nil {
		return false, scramError(err)
	}
	if err := c.sendAuth(&pgproto3.AuthenticationSASLContinue{Data: []byte(serverFirst)}); err != nil {
		return false, err
	}
	if body, err = c.readAuthMessage("SASL"); err != nil {
		return false, err
	}
	var resp pgproto3.SASLResponse
	if err := resp.Decode(body); err != nil {
		return false, pgerr.New(pgerr.ProtocolViolation, "malformed SASL message: %v", err)
	}
	serverFinal, ok, err := x.final(string(resp.Data))
	if err != nil || !ok {
		return false, scramError(err)
	}
	return true, c.send(&pgproto3.AuthenticationSASLFinal{Data: []byte(serverFinal)})
}

func scramError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, errSCRAMProtocol) {
		return pgerr.New(pgerr.ProtocolViolation, "malformed SCRAM message: %v", err)
	}
	return err
}

// md5Auth runs an md5 challenge against the role's md5 hash.
func (c *conn) md5Auth(cred Credentials, usable bool) (bool, error) {
	var salt [4]byte
	if _, err := rand.Read(salt[:]); err != nil {
		return false, fmt.Errorf("pgwire: generate salt: %w", err)
	}
	if err := c.sendAuth(&pgproto3.AuthenticationMD5Password{Salt: salt}); err != nil {
		return false, err
	}
	body, err := c.readAuthMessage("password")
	if err != nil {
		return false, err
	}
	var pw pgproto3.PasswordMessage
	if err := pw.Decode(body); err != nil {
		return false, pgerr.New(pgerr.ProtocolViolation, "invalid password packet")
	}
	want := md5Response(cred.MD5, salt)
	return subtle.ConstantTimeCompare([]byte(want), []byte(pw.Password)) == 1 && usable, nil
}

// passwordAuth asks for the password in clear text.
func (c *conn) passwordAuth(user string, cred Credentials, usable bool) (bool, error) {
	if err := c.sendAuth(&pgproto3.AuthenticationCleartextPassword{}); err != nil {
		return false, err
	}
	body, err := c.readAuthMessage("password")
	if err != nil {
		return false, err
	}
	var pw pgproto3.PasswordMessage
	if err := pw.Decode(body); err != nil {
		return false, pgerr.New(pgerr.ProtocolViolation, "invalid password packet")
	}
	if !usable {
		// The same work as a real check, against a mock verifier.
		checkPlainPassword(user, pw.Password, Credentials{SCRAM: mockVerifier})
		return false, nil
	}
	return checkPlainPassword(user, pw.Password, cred), nil
}

// mockVerifier is a verifier no password matches (its ServerKey is altered,
// so no password gives both keys), for failures of the password method that
// take as long as real checks.
var mockVerifier = func() string {
	v, _ := scramVerifierWith("", make([]byte, scramSaltLen), SCRAMIterations)
	return v[:len(v)-4] + "AAA="
}()
