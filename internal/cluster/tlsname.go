package cluster

import (
	"crypto/tls"
	"net"

	"github.com/redline-go/redline/internal/topology"
)

// TLS server names per node. A node's certificate is verified against one name, chosen
// when the node is made and again at each topology the engine installs (so a node first
// met before the topology knew it gets its hostname then):
//
//  1. Config.TLSServerName(addr, hostname), when set and not "";
//  2. else Config.TLS.ServerName, when set: one name for every node;
//  3. else the hostname the topology says the node announces (CLUSTER SHARDS "hostname",
//     CLUSTER SLOTS metadata), when it says one;
//  4. else the host of the node's address.
//
// A seed, and a MOVED target the topology does not list yet, have no hostname: rule 4
// (or the function) names them until a topology lists them. A node keeps one
// configuration (a copy of Config.TLS with its name, made only when the name differs
// from Config.TLS's) for all its connection attempts until its name changes: no copy per
// dial.

// serverName is the TLS server name of the node at addr, whose announced hostname is
// hostname ("" when unknown), by the rules above.
func (c *Engine) serverName(addr, hostname string) string {
	if f := c.cfg.TLSServerName; f != nil {
		if name := f(addr, hostname); name != "" {
			return name
		}
	}
	if c.cfg.TLS.ServerName != "" {
		return c.cfg.TLS.ServerName
	}
	if hostname != "" {
		return hostname
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return host
}

// tlsNamed returns Config.TLS verifying name: Config.TLS itself when it already does,
// else a copy.
func (c *Engine) tlsNamed(name string) *tls.Config {
	if c.cfg.TLS.ServerName == name {
		return c.cfg.TLS
	}
	t := c.cfg.TLS.Clone()
	t.ServerName = name
	return t
}

// nodeTLS is the TLS configuration of a new node at addr (nil without TLS), named from
// what the topology in use says of it.
func (c *Engine) nodeTLS(addr string) *tls.Config {
	if c.cfg.TLS == nil {
		return nil
	}
	return c.tlsNamed(c.serverName(addr, hostnameOf(c.topo.Load(), addr)))
}

// hostnameOf is the hostname t says the node at addr announces ("" when t is nil, does
// not list addr, or lists it with none).
func hostnameOf(t *topology.Table, addr string) string {
	if t == nil {
		return ""
	}
	if n := t.NodeByAddr(addr); n != nil {
		return n.Hostname
	}
	return ""
}

// nameNodes gives each known node of t whose server name t changes (a hostname
// learned, changed or gone) a configuration with its new name, for its next connection
// attempts; connections open already are kept. Nothing without TLS.
func (c *Engine) nameNodes(t *topology.Table) {
	if c.cfg.TLS == nil || t == nil {
		return
	}
	nodes := *c.nodes.Load()
	for _, tn := range t.Nodes() {
		r, ok := nodes[tn.Addr].(realNode)
		if !ok {
			continue
		}
		name := c.serverName(tn.Addr, tn.Hostname)
		if cur := r.TLS(); cur == nil || cur.ServerName != name {
			r.SetTLS(c.tlsNamed(name))
		}
	}
}
