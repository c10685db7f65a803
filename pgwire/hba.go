package pgwire

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
)

// AuthMethod is how a client proves who it is.
type AuthMethod string

// Authentication methods, named as in pg_hba.conf.
const (
	// AuthTrust lets the client in as whatever role it names.
	AuthTrust AuthMethod = "trust"
	// AuthReject refuses the connection.
	AuthReject AuthMethod = "reject"
	// AuthSCRAM requires a password, proven with SCRAM-SHA-256.
	AuthSCRAM AuthMethod = "scram-sha-256"
	// AuthMD5 requires a password: an md5 challenge for a role whose
	// password is kept as an md5 hash, SCRAM-SHA-256 otherwise (as in
	// PostgreSQL).
	AuthMD5 AuthMethod = "md5"
	// AuthPassword requires the password in clear text (use it only over
	// TLS).
	AuthPassword AuthMethod = "password"
)

// HBARule is one line of a host-based authentication file: which
// connections it matches and how they authenticate.
type HBARule struct {
	// Line is the rule's line in its file (0 for built-in rules).
	Line int
	// Type is "host" (any TCP connection), "hostssl" (TLS only) or
	// "hostnossl" (plain only).
	Type string
	// Databases and Users are the names the rule matches; "all" matches any.
	Databases []string
	Users     []string
	// Addr is the client address range; AllAddrs matches any address and
	// SameHost any address of this machine.
	Addr     netip.Prefix
	AllAddrs bool
	SameHost bool
	Method   AuthMethod
}

// HBA is an ordered list of rules: the first rule that matches a connection
// decides; when none does, the connection is refused.
type HBA struct {
	Rules []HBARule
}

// DefaultHBA is used when no rules are configured: clients on the loopback
// interface are trusted, everyone else must give a password (SCRAM-SHA-256).
const DefaultHBA = `# TYPE  DATABASE  USER  ADDRESS       METHOD
host    all       all   127.0.0.1/32  trust
host    all       all   ::1/128       trust
host    all       all   all           scram-sha-256
`

var defaultHBA = func() *HBA {
	h, err := ParseHBA(DefaultHBA)
	if err != nil {
		panic(err)
	}
	return h
}()

// ParseHBA parses rules in pg_hba.conf's format: one rule a line,
// "TYPE DATABASE USER ADDRESS METHOD", '#' starting a comment. TYPE is host,
// hostssl or hostnossl; DATABASE and USER are "all" or comma-separated
// names; ADDRESS is a CIDR range, an address followed by a netmask, "all" or
// "samehost"; METHOD is trust, reject, scram-sha-256, md5 or password.
func ParseHBA(text string) (*HBA, error) {
	h := &HBA{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		r, err := parseHBARule(f)
		if err != nil {
			return nil, fmt.Errorf("hba line %d: %w", n, err)
		}
		r.Line = n
		h.Rules = append(h.Rules, r)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return h, nil
}

func parseHBARule(f []string) (HBARule, error) {
	var r HBARule
	switch f[0] {
	case "host", "hostssl", "hostnossl":
		r.Type = f[0]
	case "local":
		return r, fmt.Errorf("connection type \"local\" is not supported: kappa listens on TCP only")
	case "hostgssenc", "hostnogssenc":
		return r, fmt.Errorf("connection type %q is not supported: kappa has no GSSAPI", f[0])
	default:
		return r, fmt.Errorf("invalid connection type %q", f[0])
	}
	if len(f) < 5 {
		return r, fmt.Errorf("want TYPE DATABASE USER ADDRESS METHOD, got %d fields", len(f))
	}
	r.Databases = strings.Split(f[1], ",")
	r.Users = strings.Split(f[2], ",")
	for _, u := range r.Users {
		if strings.HasPrefix(u, "+") || strings.HasPrefix(u, "@") {
			return r, fmt.Errorf("user %q: group (+) and file (@) references are not supported", u)
		}
	}
	rest := f[3:]
	switch addr := rest[0]; {
	case addr == "all":
		r.AllAddrs = true
		rest = rest[1:]
	case addr == "samehost":
		r.SameHost = true
		rest = rest[1:]
	case strings.Contains(addr, "/"):
		p, err := netip.ParsePrefix(addr)
		if err != nil {
			return r, fmt.Errorf("invalid IP address range %q", addr)
		}
		r.Addr = p.Masked()
		rest = rest[1:]
	default:
		ip, err := netip.ParseAddr(addr)
		if err != nil {
			return r, fmt.Errorf("invalid IP address %q (host names are not supported)", addr)
		}
		if len(rest) < 3 {
			return r, fmt.Errorf("an address without a /prefix needs a netmask")
		}
		mask, err := netip.ParseAddr(rest[1])
		if err != nil || mask.BitLen() != ip.BitLen() {
			return r, fmt.Errorf("invalid IP mask %q", rest[1])
		}
		ones, bits := net.IPMask(mask.AsSlice()).Size()
		if bits == 0 {
			return r, fmt.Errorf("invalid IP mask %q", rest[1])
		}
		r.Addr = netip.PrefixFrom(ip, ones).Masked()
		rest = rest[2:]
	}
	if len(rest) == 0 {
		return r, fmt.Errorf("missing authentication method")
	}
	switch m := AuthMethod(rest[0]); m {
	case AuthTrust, AuthReject, AuthSCRAM, AuthMD5, AuthPassword:
		r.Method = m
	default:
		return r, fmt.Errorf("invalid authentication method %q (kappa supports trust, reject, scram-sha-256, md5, password)", rest[0])
	}
	if len(rest) > 1 {
		return r, fmt.Errorf("authentication options %q are not supported", strings.Join(rest[1:], " "))
	}
	return r, nil
}

// Match returns the first rule for a client at addr (tls: over TLS) logging
// in as user to database, or nil.
func (h *HBA) Match(addr net.Addr, tls bool, user, database string) *HBARule {
	ip := addrIP(addr)
	for i := range h.Rules {
		r := &h.Rules[i]
		if (r.Type == "hostssl" && !tls) || (r.Type == "hostnossl" && tls) {
			continue
		}
		if !matchName(r.Databases, database, user) || !matchName(r.Users, user, "") {
			continue
		}
		switch {
		case r.AllAddrs:
		case r.SameHost:
			if !ip.IsValid() || !isLocalAddr(ip) {
				continue
			}
		default:
			if !ip.IsValid() || !r.Addr.Contains(ip) {
				continue
			}
		}
		return r
	}
	return nil
}

func matchName(list []string, name, user string) bool {
	return slices.ContainsFunc(list, func(s string) bool {
		return s == "all" || s == name || (s == "sameuser" && user != "" && name == user)
	})
}

func addrIP(a net.Addr) netip.Addr {
	if ta, ok := a.(*net.TCPAddr); ok {
		ip, _ := netip.AddrFromSlice(ta.IP)
		return ip.Unmap()
	}
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// isLocalAddr reports whether ip is one of this machine's addresses.
func isLocalAddr(ip netip.Addr) bool {
	if ip.IsLoopback() {
		return true
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if x, ok := netip.AddrFromSlice(n.IP); ok && x.Unmap() == ip {
				return true
			}
		}
	}
	return false
}
