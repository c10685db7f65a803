package pgwire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/kappa-db/kappa/pgerr"
)

// Startup packet codes (the first int32 after the length). Protocol versions
// are major<<16 | minor.
const (
	cancelRequestCode = 80877102
	sslRequestCode    = 80877103
	gssEncRequestCode = 80877104

	// maxStartupPacket is PostgreSQL's MAX_STARTUP_PACKET_LENGTH.
	maxStartupPacket = 10000
)

// SQLSTATEs pgwire needs that pgerr does not name.
const (
	codeCannotConnectNow  = "57P03"
	codeDuplicatePrepared = "42P05"
	codeDuplicateCursor   = "42P03"
)

// errStartupProtocol marks a malformed startup packet.
var errStartupProtocol = errors.New("invalid startup packet")

// readStartupPacket reads one length-prefixed startup packet and returns its
// code and the rest of the body. It reads exactly the packet's bytes, so
// whatever the client sends next stays in the socket for the Backend.
func readStartupPacket(r io.Reader, buf []byte) (code uint32, body []byte, err error) {
	var hdr [8]byte
	if _, err := io.ReadFull(r, hdr[:4]); err != nil {
		return 0, nil, err
	}
	n := int(int32(binary.BigEndian.Uint32(hdr[:4])))
	if n < 8 || n > maxStartupPacket {
		return 0, nil, fmt.Errorf("%w: length %d", errStartupProtocol, n)
	}
	if _, err := io.ReadFull(r, hdr[4:8]); err != nil {
		return 0, nil, err
	}
	code = binary.BigEndian.Uint32(hdr[4:8])
	body = slices.Grow(buf[:0], n-8)[:n-8]
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, nil, err
	}
	return code, body, nil
}

// parseStartupParams decodes the name/value pairs of a StartupMessage: NUL
// terminated strings ending with an empty name.
func parseStartupParams(body []byte) (map[string]string, error) {
	params := make(map[string]string)
	for {
		i := bytes.IndexByte(body, 0)
		if i < 0 {
			return nil, fmt.Errorf("%w: expected terminator as last byte", errStartupProtocol)
		}
		name := string(body[:i])
		body = body[i+1:]
		if name == "" {
			if len(body) != 0 {
				return nil, fmt.Errorf("%w: data after terminator", errStartupProtocol)
			}
			return params, nil
		}
		j := bytes.IndexByte(body, 0)
		if j < 0 {
			return nil, fmt.Errorf("%w: missing value for parameter %q", errStartupProtocol, name)
		}
		params[name] = string(body[:j])
		body = body[j+1:]
	}
}

// startup runs the handshake: switches to TLS when asked and configured
// (refuses it otherwise, and GSS encryption always), answers a
// CancelRequest, reads the StartupMessage, authenticates the client
// (auth.go), opens the Session and reports AuthenticationOk, ParameterStatus, BackendKeyData and ReadyForQuery. It
// returns false when the connection must close.
func (c *conn) startup() bool {
	// A deadline guards against clients that connect and say nothing.
	if err := c.nc.SetDeadline(time.Now().Add(c.srv.cfg.StartupTimeout)); err != nil {
		c.log.Debug("pgwire: set startup deadline", "err", err)
		return false
	}
	var buf []byte
	var params map[string]string
	for refusals := 0; params == nil; {
		code, body, err := readStartupPacket(c.nc, buf)
		buf = body
		if err != nil {
			if errors.Is(err, errStartupProtocol) {
				c.sendFatal(pgerr.New(pgerr.ProtocolViolation, "%v", err))
			} else if !isConnError(err) {
				c.log.Debug("pgwire: read startup packet", "err", err)
			}
			return false
		}
		switch {
		case code == sslRequestCode && c.srv.cfg.TLS != nil && !c.tls:
			if !c.startTLS() {
				return false
			}
		case code == sslRequestCode || code == gssEncRequestCode:
			// A client asks at most once for each; more is a confused or
			// hostile client looping.
			if refusals++; refusals > 2 {
				c.sendFatal(pgerr.New(pgerr.ProtocolViolation, "too many encryption requests"))
				return false
			}
			if _, err := c.nc.Write([]byte{'N'}); err != nil {
				c.log.Debug("pgwire: refuse encryption", "err", err)
				return false
			}
		case code == cancelRequestCode:
			if len(body) != 8 {
				c.log.Debug("pgwire: malformed cancel request", "len", len(body))
				return false
			}
			c.srv.cancelRequest(binary.BigEndian.Uint32(body[:4]), body[4:8])
			return false
		case code>>16 == 3:
			params, err = parseStartupParams(body)
			if err != nil {
				c.sendFatal(pgerr.New(pgerr.ProtocolViolation, "%v", err))
				return false
			}
			if !c.negotiateVersion(code, params) {
				return false
			}
		default:
			c.sendFatal(pgerr.New(pgerr.FeatureNotSupported,
				"unsupported frontend protocol %d.%d: server supports 3.0 to 3.0", code>>16, code&0xffff))
			return false
		}
	}

	if params["user"] == "" {
		c.sendFatal(pgerr.New(pgerr.InvalidAuthorization, "no PostgreSQL user name specified in startup packet"))
		return false
	}
	sp := SessionParams{
		User:            params["user"],
		Database:        params["database"],
		ApplicationName: params["application_name"],
		Options:         params,
		RemoteAddr:      c.nc.RemoteAddr(),
		TLS:             c.tls,
	}
	if sp.Database == "" {
		sp.Database = sp.User
	}
	if !c.authenticate(&sp) {
		return false
	}

	ok, err := c.srv.register(c)
	switch {
	case err != nil:
		c.sendFatal(err)
		return false
	case !ok && c.srv.closed():
		c.sendFatal(pgerr.New(codeCannotConnectNow, "the database system is shutting down"))
		return false
	case !ok:
		c.sendFatal(pgerr.New(pgerr.TooManyConnections, "sorry, too many clients already"))
		return false
	}
	c.log = c.log.With("pid", c.pid, "user", sp.User)

	sess, err := c.srv.engine.NewSession(c.ctx, sp)
	if err != nil {
		c.sendFatal(err)
		return false
	}
	c.sess = sess

	c.send(&pgproto3.AuthenticationOk{})
	status := sess.ParameterStatus()
	for _, name := range slices.Sorted(maps.Keys(status)) {
		c.send(&pgproto3.ParameterStatus{Name: name, Value: status[name]})
	}
	var secret [4]byte
	binary.BigEndian.PutUint32(secret[:], c.secret)
	c.send(&pgproto3.BackendKeyData{ProcessID: c.pid, SecretKey: secret[:]})
	// Past startup before the client can know it: a Shutdown between this
	// ReadyForQuery and the first read must say goodbye (57P01, at that
	// read) instead of closing the socket as it does in startup.
	c.mu.Lock()
	c.mu.phase = phaseBusy
	c.mu.Unlock()
	c.send(&pgproto3.ReadyForQuery{TxStatus: sess.TxStatus()})
	if err := c.flush(); err != nil {
		return false
	}
	if err := c.nc.SetDeadline(time.Time{}); err != nil {
		c.log.Debug("pgwire: clear startup deadline", "err", err)
		return false
	}
	c.log.Debug("pgwire: session started", "database", sp.Database)
	return true
}

// negotiateVersion answers a 3.x StartupMessage asking for a newer minor
// version or for protocol extensions ("_pq_." options) with
// NegotiateProtocolVersion, which makes the client fall back to 3.0. The
// extensions are removed from params.
func (c *conn) negotiateVersion(code uint32, params map[string]string) bool {
	var unknown []string
	for name := range params {
		if strings.HasPrefix(name, "_pq_.") {
			unknown = append(unknown, name)
			delete(params, name)
		}
	}
	if code&0xffff == 0 && len(unknown) == 0 {
		return true
	}
	slices.Sort(unknown)
	c.send(&pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: 0, UnrecognizedOptions: unknown})
	return c.fatal == nil
}
