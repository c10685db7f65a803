package pgwire

import (
	"context"
	"crypto/tls"
)

// startTLS answers an SSLRequest with 'S' and runs the TLS handshake; from
// then on the connection speaks through TLS. It returns false when the
// connection must close. Nothing the client sent after the SSLRequest can
// have been read as plaintext: readStartupPacket reads exactly one packet,
// and whatever follows goes to the TLS handshake (CVE-2021-23214).
func (c *conn) startTLS() bool {
	if _, err := c.nc.Write([]byte{'S'}); err != nil {
		c.log.Debug("pgwire: accept TLS", "err", err)
		return false
	}
	tc := tls.Server(c.nc, c.srv.cfg.TLS)
	// The startup deadline set on the TCP connection bounds the handshake.
	if err := tc.HandshakeContext(context.Background()); err != nil {
		c.log.Debug("pgwire: TLS handshake", "err", err)
		return false
	}
	c.mu.Lock()
	c.nc, c.tls = tc, true
	c.mu.Unlock()
	return true
}
