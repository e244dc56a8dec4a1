package topology

import (
	"net"
	"net/netip"
	"strconv"
)

// Role is the replication role of a node in its shard.
type Role uint8

// The roles. A node of CLUSTER SHARDS whose role is "master" (or "primary") is a
// RolePrimary, "replica" (or "slave") a RoleReplica; in CLUSTER SLOTS the first node of an
// entry is the primary and the others are replicas.
const (
	RolePrimary Role = iota
	RoleReplica
)

// String returns "primary", "replica", or "Role(n)" for an unknown value.
func (r Role) String() string {
	switch r {
	case RolePrimary:
		return "primary"
	case RoleReplica:
		return "replica"
	}
	return "Role(" + strconv.Itoa(int(r)) + ")"
}

// Health values that CLUSTER SHARDS reports. Redis 7.0 sends HealthFail for a node the
// cluster has marked failed; the Redis documentation (and later servers) spell it
// HealthFailed. Node.Health holds whatever the server sent.
const (
	HealthOnline  = "online"
	HealthFail    = "fail"
	HealthFailed  = "failed"
	HealthLoading = "loading"
)

// Node is one Redis node as a topology reply describes it. Nodes are shared by the tables
// that contain them and must not be modified.
type Node struct {
	// ID is the 40-character node ID, or "" when the reply has none (CLUSTER SLOTS of
	// servers before 4.0).
	ID string
	// Addr is the "host:port" a client connects to: the node's preferred endpoint (or, when
	// the server does not know it, the host of the node that was asked) and its client port
	// (its TLS port for a TLS client of CLUSTER SHARDS). IPv6 hosts are bracketed.
	Addr string
	// Role is the node's role in its shard.
	Role Role
	// Health is what CLUSTER SHARDS reports: "online", "fail" (Redis 7.0) or "failed",
	// "loading"; "" from CLUSTER SLOTS, which does not say. Failed nodes are kept in the
	// table: the client decides what to do with them.
	Health string
	// Offset is the replication offset that CLUSTER SHARDS reports, 0 if unknown.
	Offset int64
	// Hostname is the hostname the node announces (cluster-announce-hostname), "" if none.
	Hostname string
}

// Failed reports whether the cluster considers n failed (health "fail" or "failed").
func (n *Node) Failed() bool { return n.Health == HealthFail || n.Health == HealthFailed }

// failed reports whether the reply says the cluster failed the node.
func (n *rawNode) failed() bool { return n.health == HealthFail || n.health == HealthFailed }

// rawNode is a node as read from a reply, before its strings are allocated: the byte
// slices alias the reply.
type rawNode struct {
	id       []byte
	host     []byte // endpoint, or the source's host when the endpoint is unknown
	port     int64
	role     Role
	health   string // interned when it is one of the known values
	healthB  []byte // otherwise the bytes
	offset   int64
	hostname []byte
	tlsOnly  int64 // the tls-port of a node with no plain port, for the message
	index    int   // position in the shard (SHARDS) or entry (SLOTS), for messages
}

// label returns a name of the node for messages: host:port as the reply gave them (the
// port unchecked), else its ID, else its position.
func (n *rawNode) label() string {
	if len(n.host) > 0 && n.port != 0 {
		return printable(appendHostPort(nil, n.host, n.port))
	}
	if len(n.id) > 0 {
		return printable(n.id)
	}
	return "#" + strconv.Itoa(n.index)
}

// checkAddr validates the node's host and port.
func (n *rawNode) checkAddr() error {
	if n.port < 1 || n.port > 65535 {
		if n.port == 0 && n.tlsOnly != 0 {
			return nodeErr(n, "no plain port, only tls-port "+strconv.FormatInt(n.tlsOnly, 10)+
				" (connect with TLS)")
		}
		if n.port == 0 {
			return nodeErr(n, "no client port (port 0 or none)")
		}
		return nodeErr(n, "port out of range")
	}
	if msg := checkHost(n.host); msg != "" {
		return nodeErr(n, msg)
	}
	return nil
}

// appendAddr appends host:port to dst, bracketing an IPv6 host.
func (n *rawNode) appendAddr(dst []byte) []byte { return appendHostPort(dst, n.host, n.port) }

// makeNode allocates the Node that n describes; addr is its address, already built.
func (n *rawNode) makeNode(dst *Node, addr string) {
	*dst = Node{
		ID:     string(n.id),
		Addr:   addr,
		Role:   n.role,
		Health: n.health,
		Offset: n.offset,
	}
	if n.health == "" && len(n.healthB) > 0 {
		dst.Health = string(n.healthB)
	}
	if len(n.hostname) > 0 {
		dst.Hostname = string(n.hostname)
	}
}

// internHealth returns the constant equal to b, or "" when b is not a known value.
func internHealth(b []byte) string {
	switch string(b) {
	case HealthOnline:
		return HealthOnline
	case HealthFail:
		return HealthFail
	case HealthFailed:
		return HealthFailed
	case HealthLoading:
		return HealthLoading
	}
	return ""
}

// maxHostLen bounds an endpoint: a DNS name has at most 253 characters.
const maxHostLen = 255

// checkHost returns why h cannot be the host of an address, or "" if it can: it must be a
// DNS name or IPv4 address (letters, digits, '.', '-', '_') or an IPv6 address.
func checkHost[S ~string | ~[]byte](h S) string {
	if len(h) == 0 {
		return "empty endpoint"
	}
	if len(h) > maxHostLen {
		return "endpoint longer than " + strconv.Itoa(maxHostLen) + " bytes"
	}
	colon := false
	for i := range len(h) {
		c := h[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '-', c == '_':
		case c == ':' || c == '%': // IPv6, possibly with a zone
			colon = true
		default:
			return "endpoint " + quoteCut(h) + " is not a host name or IP address"
		}
	}
	if colon {
		if a, err := netip.ParseAddr(string(h)); err != nil || !a.Is6() {
			return "endpoint " + quoteCut(h) + " is not a host name or IP address"
		}
	}
	return ""
}

// appendHostPort appends host:port, like net.JoinHostPort, without allocating when dst
// has room.
func appendHostPort(dst, host []byte, port int64) []byte {
	v6 := false
	for _, c := range host {
		if c == ':' {
			v6 = true
			break
		}
	}
	if v6 {
		dst = append(dst, '[')
		dst = append(dst, host...)
		dst = append(dst, ']')
	} else {
		dst = append(dst, host...)
	}
	dst = append(dst, ':')
	return strconv.AppendInt(dst, port, 10)
}

// maxShown bounds the bytes of a reply that a message quotes.
const maxShown = 64

// printable returns b for a message: as it is when short and plain, else quoted (and cut)
// by quoteCut.
func printable[S ~string | ~[]byte](b S) string {
	if len(b) > maxShown {
		return quoteCut(b)
	}
	for i := range len(b) {
		if c := b[i]; c <= ' ' || c >= 0x7f || c == '"' {
			return quoteCut(b)
		}
	}
	return string(b)
}

// quoteCut returns b quoted, cut to maxShown bytes (then followed by "...").
func quoteCut[S ~string | ~[]byte](b S) string {
	if len(b) > maxShown {
		return strconv.Quote(string(b[:maxShown])) + "..."
	}
	return strconv.Quote(string(b))
}

// hostOf returns the host of a "host:port" address, or nil when addr is not one.
func hostOf(addr string) []byte {
	h, _, err := net.SplitHostPort(addr)
	if err != nil || checkHost(h) != "" {
		return nil
	}
	return []byte(h)
}
