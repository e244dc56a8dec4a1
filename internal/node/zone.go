package node

import "github.com/redline-go/redline/internal/conn"

// Zone returns the node's availability zone: Options.Zone when set, else the zone its
// latest shared connection reported at the handshake (conn.Conn.Zone), kept while the
// node is down or reconnecting so that a zone-aware read policy knows where a node that
// comes back is. "" means unknown: never connected, or the server reports none (Redis;
// Valkey without availability-zone). A lock-free load: cheap on the call path.
func (n *Node) Zone() string {
	if n.opts.Zone != "" {
		return n.opts.Zone
	}
	if z := n.zone.Load(); z != nil {
		return *z
	}
	return ""
}

// learnZone records the zone c reported (the server's current setting, even if empty).
func (n *Node) learnZone(c *conn.Conn) {
	if n.opts.Zone != "" {
		return
	}
	if z, old := c.Zone(), n.zone.Load(); old == nil || *old != z {
		n.zone.Store(&z)
	}
}

// connZone is c's zone, "" for a failed attempt (nil).
func connZone(c *conn.Conn) string {
	if c == nil {
		return ""
	}
	return c.Zone()
}
