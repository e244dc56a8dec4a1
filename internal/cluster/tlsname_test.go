package cluster

import (
	"context"
	"crypto/tls"
	"net"
	"strconv"
	"testing"

	"github.com/redline-go/redline/internal/topology"
	"github.com/redline-go/redline/resp"
)

// slotsTable builds a topology from a CLUSTER SLOTS reply of one shard per node
// (addr, hostname; "" announces none), the shards splitting the slots evenly.
func slotsTable(t *testing.T, nodes ...[2]string) *topology.Table {
	t.Helper()
	var ranges []slotRange
	per := 16384 / len(nodes)
	for i, n := range nodes {
		r := slotRange{lo: i * per, hi: (i+1)*per - 1, addr: n[0], hostname: n[1]}
		if i == len(nodes)-1 {
			r.hi = 16383
		}
		ranges = append(ranges, r)
	}
	return rangesTable(t, ranges...)
}

// slotRange is one entry of a CLUSTER SLOTS reply: slots lo..hi served by addr, which
// announces hostname ("" none).
type slotRange struct {
	lo, hi         int
	addr, hostname string
}

// rangesTable builds a topology from a CLUSTER SLOTS reply of these entries.
func rangesTable(t *testing.T, ranges ...slotRange) *topology.Table {
	t.Helper()
	bulk := func(s string) resp.Value { return resp.Value{Type: resp.TypeBulkString, Str: []byte(s)} }
	num := func(n int64) resp.Value { return resp.Value{Type: resp.TypeInteger, Int: n} }
	var entries []resp.Value
	for _, r := range ranges {
		host, port, err := net.SplitHostPort(r.addr)
		if err != nil {
			t.Fatal(err)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			t.Fatal(err)
		}
		meta := resp.Value{Type: resp.TypeMap}
		if r.hostname != "" {
			meta.Elems = []resp.Value{bulk("hostname"), bulk(r.hostname)}
		}
		node := resp.Value{Type: resp.TypeArray, Elems: []resp.Value{bulk(host), num(int64(p)), bulk(""), meta}}
		entries = append(entries, resp.Value{Type: resp.TypeArray, Elems: []resp.Value{num(int64(r.lo)), num(int64(r.hi)), node}})
	}
	tab, err := topology.ParseSlots(resp.Value{Type: resp.TypeArray, Elems: entries}, ranges[0].addr, true)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// tlsEngine is an engine with cfg that has asked nobody for a topology: install and
// NodeAt make its (real, never dialed) nodes.
func tlsEngine(t *testing.T, cfg Config) *Engine {
	c := &Engine{cfg: cfg, refreshCh: make(chan struct{}, 1)}
	c.connOpts.TLS = cfg.TLS
	c.newNode = c.realNode
	empty := map[string]Node{}
	c.nodes.Store(&empty)
	c.ctx, c.cancel = context.WithCancel(context.Background())
	t.Cleanup(func() { c.Close() })
	return c
}

// nameOf is the server name the node at addr verifies now.
func nameOf(t *testing.T, c *Engine, addr string) string {
	t.Helper()
	r, ok := (*c.nodes.Load())[addr].(realNode)
	if !ok {
		t.Fatalf("%s: no node", addr)
	}
	if r.TLS() == nil {
		t.Fatalf("%s: no TLS configuration", addr)
	}
	return r.TLS().ServerName
}

// TestTLSServerNameRules: the name each node verifies, by the documented order —
// function, TLSConfig.ServerName, announced hostname, host of the address.
func TestTLSServerNameRules(t *testing.T) {
	fn := func(addr, hostname string) string {
		if addr == "10.0.0.1:7000" {
			return "mapped.example"
		}
		return "" // the default rule
	}
	for _, tc := range []struct {
		name           string
		fixed          string
		fn             func(addr, hostname string) string
		addr, hostname string
		want           string
	}{
		{"hostname", "", nil, "10.0.0.1:7000", "n1.example", "n1.example"},
		{"no hostname: host of the address", "", nil, "10.0.0.1:7000", "", "10.0.0.1"},
		{"IPv6 host", "", nil, "[::1]:7000", "", "::1"},
		{"ServerName wins over the hostname", "cfg.example", nil, "10.0.0.1:7000", "n1.example", "cfg.example"},
		{"function wins", "cfg.example", fn, "10.0.0.1:7000", "n1.example", "mapped.example"},
		{"function's empty answer: default rule", "", fn, "10.0.0.2:7000", "n2.example", "n2.example"},
		{"function's empty answer: ServerName", "cfg.example", fn, "10.0.0.2:7000", "n2.example", "cfg.example"},
	} {
		c := &Engine{cfg: Config{TLS: &tls.Config{ServerName: tc.fixed}, TLSServerName: tc.fn}}
		if got := c.serverName(tc.addr, tc.hostname); got != tc.want {
			t.Errorf("%s: serverName(%q, %q) = %q, want %q", tc.name, tc.addr, tc.hostname, got, tc.want)
		}
	}
}

// TestTLSNamesFollowTopology: a node met before the topology lists it (a seed, a MOVED
// target) verifies its address's host, then the hostname the topology announces for
// it, even when the new table routes like the old one; a node made from the topology
// has its hostname at once; a node keeps one configuration while its name stays, and
// the engine's own when that names it already.
func TestTLSNamesFollowTopology(t *testing.T) {
	base := &tls.Config{MinVersion: tls.VersionTLS12}
	c := tlsEngine(t, Config{TLS: base, Addrs: []string{"10.0.0.1:7000"}})

	c.NodeAt("10.0.0.1:7000") // the seed
	if got := nameOf(t, c, "10.0.0.1:7000"); got != "10.0.0.1" {
		t.Fatalf("seed before the topology: %q, want 10.0.0.1", got)
	}
	c.install(nil, slotsTable(t, [2]string{"10.0.0.1:7000", "n1.example"}, [2]string{"10.0.0.2:7000", "n2.example"}))
	if got := nameOf(t, c, "10.0.0.1:7000"); got != "n1.example" {
		t.Errorf("seed after the topology: %q, want n1.example", got)
	}
	if got := nameOf(t, c, "10.0.0.2:7000"); got != "n2.example" {
		t.Errorf("node from the topology: %q, want n2.example", got)
	}
	kept := (*c.nodes.Load())["10.0.0.2:7000"].(realNode).TLS()
	if kept.MinVersion != base.MinVersion {
		t.Errorf("the node's configuration lost the client's settings")
	}

	// A MOVED target the table does not list: its address's host until a refresh.
	c.ApplyMoved(0, "10.0.0.3:7000")
	if got := nameOf(t, c, "10.0.0.3:7000"); got != "10.0.0.3" {
		t.Errorf("MOVED target: %q, want 10.0.0.3", got)
	}
	// The refresh routes as the MOVED did (Equal: not installed), but names it.
	before := c.Topology()
	c.install(nil, rangesTable(t,
		slotRange{0, 0, "10.0.0.3:7000", "n3.example"},
		slotRange{1, 8191, "10.0.0.1:7000", "n1.example"},
		slotRange{8192, 16383, "10.0.0.2:7000", "n2.example"}))
	if c.Topology() != before {
		t.Fatalf("the refresh's table was installed: the test means one that routes like the MOVED table")
	}
	if got := nameOf(t, c, "10.0.0.3:7000"); got != "n3.example" {
		t.Errorf("MOVED target after the refresh: %q, want n3.example", got)
	}
	if now := (*c.nodes.Load())["10.0.0.2:7000"].(realNode).TLS(); now != kept {
		t.Errorf("a node whose name stayed got a new configuration")
	}

	// With ServerName set, every node shares the client's configuration.
	fixed := &tls.Config{ServerName: "cfg.example"}
	c2 := tlsEngine(t, Config{TLS: fixed})
	c2.install(nil, slotsTable(t, [2]string{"10.0.0.1:7000", "n1.example"}))
	if r := (*c2.nodes.Load())["10.0.0.1:7000"].(realNode); r.TLS() != fixed {
		t.Errorf("ServerName set: the node got a copy (%q), want the client's configuration", r.TLS().ServerName)
	}

	// Without TLS, nodes stay plain.
	c3 := tlsEngine(t, Config{})
	c3.install(nil, slotsTable(t, [2]string{"10.0.0.1:7000", "n1.example"}))
	if r := (*c3.nodes.Load())["10.0.0.1:7000"].(realNode); r.TLS() != nil {
		t.Errorf("plain client: node has TLS")
	}
}
