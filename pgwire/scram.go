package pgwire

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// This file holds SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL uses it:
// the stored verifier, and the server side of the exchange. Channel binding
// (SCRAM-SHA-256-PLUS) is not offered.

// scramMechanism is the one SASL mechanism pgwire offers.
const scramMechanism = "SCRAM-SHA-256"

// SCRAMIterations is the PBKDF2 iteration count of new verifiers,
// PostgreSQL's scram_iterations default.
const SCRAMIterations = 4096

const scramSaltLen = 16

// SCRAMVerifier returns the SCRAM-SHA-256 verifier of password in
// PostgreSQL's pg_authid format:
// "SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>", all base64.
// The password is used as given (PostgreSQL also applies SASLprep, which
// changes only passwords with unusual Unicode characters).
func SCRAMVerifier(password string) (string, error) {
	salt := make([]byte, scramSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("pgwire: generate salt: %w", err)
	}
	return scramVerifierWith(password, salt, SCRAMIterations)
}

func scramVerifierWith(password string, salt []byte, iter int) (string, error) {
	stored, server, err := scramKeys(password, salt, iter)
	if err != nil {
		return "", err
	}
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("%s$%d:%s$%s:%s", scramMechanism, iter, b64(salt), b64(stored), b64(server)), nil
}

func scramKeys(password string, salt []byte, iter int) (stored, server []byte, err error) {
	salted, err := pbkdf2.Key(sha256.New, password, salt, iter, sha256.Size)
	if err != nil {
		return nil, nil, fmt.Errorf("pgwire: derive SCRAM keys: %w", err)
	}
	clientKey := hmacSHA256(salted, "Client Key")
	s := sha256.Sum256(clientKey)
	return s[:], hmacSHA256(salted, "Server Key"), nil
}

func hmacSHA256(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

// IsSCRAMVerifier reports whether s is a well-formed SCRAM-SHA-256 verifier
// (a password given to CREATE ROLE already encrypted).
func IsSCRAMVerifier(s string) bool {
	_, err := parseSCRAMVerifier(s)
	return err == nil
}

// MD5Password returns PostgreSQL's md5 password hash: "md5" followed by the
// hex md5 of the password and the user name.
func MD5Password(user, password string) string {
	sum := md5.Sum([]byte(password + user))
	return "md5" + hex.EncodeToString(sum[:])
}

// IsMD5Password reports whether s is an md5 password hash.
func IsMD5Password(s string) bool {
	if len(s) != 35 || !strings.HasPrefix(s, "md5") {
		return false
	}
	_, err := hex.DecodeString(s[3:])
	return err == nil
}

// scramSecret is a parsed verifier.
type scramSecret struct {
	iter              int
	salt              []byte
	stored, serverKey []byte
}

func parseSCRAMVerifier(s string) (scramSecret, error) {
	bad := errors.New("invalid SCRAM-SHA-256 verifier")
	mech, rest, ok := strings.Cut(s, "$")
	if !ok || mech != scramMechanism {
		return scramSecret{}, bad
	}
	iterSalt, keys, ok := strings.Cut(rest, "$")
	if !ok {
		return scramSecret{}, bad
	}
	iterS, saltS, ok1 := strings.Cut(iterSalt, ":")
	storedS, serverS, ok2 := strings.Cut(keys, ":")
	if !ok1 || !ok2 {
		return scramSecret{}, bad
	}
	var sec scramSecret
	var err error
	if sec.iter, err = strconv.Atoi(iterS); err != nil || sec.iter <= 0 {
		return scramSecret{}, bad
	}
	dec := base64.StdEncoding.DecodeString
	if sec.salt, err = dec(saltS); err != nil || len(sec.salt) == 0 {
		return scramSecret{}, bad
	}
	if sec.stored, err = dec(storedS); err != nil || len(sec.stored) != sha256.Size {
		return scramSecret{}, bad
	}
	if sec.serverKey, err = dec(serverS); err != nil || len(sec.serverKey) != sha256.Size {
		return scramSecret{}, bad
	}
	return sec, nil
}

// mockSCRAMSecret stands in for the verifier of a role that does not exist
// or has no password, so that the exchange looks the same as for a real
// role: the salt is derived from the user name and a per-server key (the
// same name always gets the same salt), and no proof matches the random
// keys.
func mockSCRAMSecret(serverNonce []byte, user string) scramSecret {
	salt := hmacSHA256(serverNonce, "salt:"+user)[:scramSaltLen]
	sec := scramSecret{iter: SCRAMIterations, salt: salt, stored: make([]byte, sha256.Size), serverKey: make([]byte, sha256.Size)}
	_, _ = rand.Read(sec.stored) // a failed read leaves zeros, which match no proof either
	_, _ = rand.Read(sec.serverKey)
	return sec
}

// scramExchange is the server side of one SCRAM-SHA-256 authentication.
type scramExchange struct {
	secret scramSecret
	// mock: the role has no usable verifier; the exchange must fail.
	mock bool

	clientFirstBare string
	serverFirst     string
	nonce           string
	gs2Header       string
	// serverNonce, when set (by tests), replaces the random server nonce.
	serverNonce string
}

var errSCRAMProtocol = errors.New("malformed SCRAM message")

// first handles the client-first-message and returns the server-first-message.
func (x *scramExchange) first(clientFirst string) (string, error) {
	// gs2-header: "n,," (no channel binding), "y,," (client could bind but
	// thinks we cannot: true, we offer no -PLUS), or "p=..." (binding,
	// which we did not offer).
	var rest string
	switch {
	case strings.HasPrefix(clientFirst, "n,"), strings.HasPrefix(clientFirst, "y,"):
		rest = clientFirst[2:]
	case strings.HasPrefix(clientFirst, "p="):
		return "", fmt.Errorf("%w: channel binding was not offered", errSCRAMProtocol)
	default:
		return "", fmt.Errorf("%w: unexpected channel-binding flag", errSCRAMProtocol)
	}
	authzid, bare, ok := strings.Cut(rest, ",")
	if !ok {
		return "", errSCRAMProtocol
	}
	if authzid != "" {
		return "", fmt.Errorf("%w: client uses authorization identity, but it is not supported", errSCRAMProtocol)
	}
	x.gs2Header = clientFirst[:len(clientFirst)-len(bare)]
	x.clientFirstBare = bare
	// client-first-message-bare: [reserved-mext ","] username "," nonce ...
	// PostgreSQL ignores the username (the startup packet's user counts).
	attrs := strings.Split(bare, ",")
	if len(attrs) < 2 || !strings.HasPrefix(attrs[0], "n=") || !strings.HasPrefix(attrs[1], "r=") {
		return "", errSCRAMProtocol
	}
	clientNonce := attrs[1][2:]
	if clientNonce == "" || strings.ContainsAny(clientNonce, ",") {
		return "", errSCRAMProtocol
	}
	if x.serverNonce == "" {
		raw := make([]byte, 18)
		if _, err := rand.Read(raw); err != nil {
			return "", fmt.Errorf("pgwire: generate nonce: %w", err)
		}
		x.serverNonce = base64.StdEncoding.EncodeToString(raw)
	}
	x.nonce = clientNonce + x.serverNonce
	x.serverFirst = fmt.Sprintf("r=%s,s=%s,i=%d", x.nonce, base64.StdEncoding.EncodeToString(x.secret.salt), x.secret.iter)
	return x.serverFirst, nil
}

// final handles the client-final-message. It returns the server-final-message
// and whether the proof was right; a malformed message is an error.
func (x *scramExchange) final(clientFinal string) (serverFinal string, ok bool, err error) {
	withoutProof, proofAttr, found := strings.Cut(clientFinal, ",p=")
	if !found {
		return "", false, errSCRAMProtocol
	}
	attrs := strings.Split(withoutProof, ",")
	if len(attrs) < 2 || !strings.HasPrefix(attrs[0], "c=") || !strings.HasPrefix(attrs[1], "r=") {
		return "", false, errSCRAMProtocol
	}
	cbind, err := base64.StdEncoding.DecodeString(attrs[0][2:])
	if err != nil || string(cbind) != x.gs2Header {
		return "", false, fmt.Errorf("%w: unexpected SCRAM channel-binding attribute in client-final-message", errSCRAMProtocol)
	}
	if attrs[1][2:] != x.nonce {
		return "", false, fmt.Errorf("%w: nonce does not match", errSCRAMProtocol)
	}
	proof, err := base64.StdEncoding.DecodeString(proofAttr)
	if err != nil || len(proof) != sha256.Size {
		return "", false, fmt.Errorf("%w: malformed proof", errSCRAMProtocol)
	}
	authMessage := x.clientFirstBare + "," + x.serverFirst + "," + withoutProof
	clientSig := hmacSHA256(x.secret.stored, authMessage)
	clientKey := make([]byte, sha256.Size)
	for i := range clientKey {
		clientKey[i] = proof[i] ^ clientSig[i]
	}
	sum := sha256.Sum256(clientKey)
	match := subtle.ConstantTimeCompare(sum[:], x.secret.stored) == 1
	if !match || x.mock {
		return "", false, nil
	}
	serverSig := hmacSHA256(x.secret.serverKey, authMessage)
	return "v=" + base64.StdEncoding.EncodeToString(serverSig), true, nil
}

// checkPlainPassword checks a cleartext password (the "password" method)
// against a SCRAM verifier or an md5 hash.
func checkPlainPassword(user, password string, cred Credentials) bool {
	if cred.SCRAM != "" {
		sec, err := parseSCRAMVerifier(cred.SCRAM)
		if err != nil {
			return false
		}
		stored, server, err := scramKeys(password, sec.salt, sec.iter)
		if err != nil {
			return false
		}
		return subtle.ConstantTimeCompare(stored, sec.stored)&subtle.ConstantTimeCompare(server, sec.serverKey) == 1
	}
	if cred.MD5 != "" {
		return subtle.ConstantTimeCompare([]byte(MD5Password(user, password)), []byte(cred.MD5)) == 1
	}
	return false
}

// md5Response is what a client answers to an md5 challenge with salt for a
// role whose stored hash is md5hash.
func md5Response(md5hash string, salt [4]byte) string {
	sum := md5.Sum(append([]byte(md5hash[3:]), salt[:]...))
	return "md5" + hex.EncodeToString(sum[:])
}
