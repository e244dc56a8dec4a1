package redistest

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/redline-go/redline/resp"
)

// TestHostnames: with Config.Hostnames and TLS, nodes (replicas too: their links need
// the certificates) announce their IP with their hostname as metadata, in CLUSTER
// SHARDS and CLUSTER SLOTS, and each certificate is valid for its node's hostname alone.
func TestHostnames(t *testing.T) {
	t.Parallel()
	if s, err := ProbeServer(""); err == nil && !s.AtLeast(7, 0) {
		t.Skipf("needs cluster-announce-hostname (Redis 7.0 or newer); the server is %s", s)
	}
	c := Run(t, Config{Masters: 2, ReplicasPerMaster: 1, TLS: true, Hostnames: true})
	ctx := testCtx(t, 30*time.Second)
	want := map[string]string{} // addr → hostname
	for _, n := range c.Nodes() {
		if h := fmt.Sprintf("node%d.redline.test", n.Index()); n.Hostname() != h {
			t.Errorf("node %d: Hostname %q, want %q", n.Index(), n.Hostname(), h)
		}
		want[n.Addr()] = n.Hostname()
	}

	v, err := c.Node(0).Do(ctx, "CLUSTER", "SHARDS")
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, shard := range v.Elems {
		nodes := field(shard, "nodes")
		for _, n := range nodes.Elems {
			ip, port, host := field(n, "ip"), field(n, "tls-port"), field(n, "hostname")
			endpoint := field(n, "endpoint")
			addr := fmt.Sprintf("%s:%d", ip.Str, port.Int)
			if string(endpoint.Str) != "127.0.0.1" || want[addr] == "" || string(host.Str) != want[addr] {
				t.Errorf("CLUSTER SHARDS: node endpoint %q, %s, hostname %q; want 127.0.0.1, %s", endpoint.Str, addr, host.Str, want[addr])
			}
			seen++
		}
	}
	if seen != len(c.Nodes()) {
		t.Errorf("CLUSTER SHARDS lists %d nodes, want %d", seen, len(c.Nodes()))
	}
	v, err = c.Node(0).Do(ctx, "CLUSTER", "SLOTS")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range v.Elems {
		for _, n := range r.Elems[2:] {
			addr := fmt.Sprintf("%s:%d", n.Elems[0].Str, n.Elems[1].Int)
			if len(n.Elems) < 4 || string(field(n.Elems[3], "hostname").Str) != want[addr] {
				t.Errorf("CLUSTER SLOTS: %s has no hostname metadata %q: %s", addr, want[addr], n.String())
			}
		}
	}

	for _, n := range c.Nodes() {
		if err := tlsDial(n.Addr(), c.TLSConfig(), n.Hostname()); err != nil {
			t.Errorf("node %d verified against %s: %v", n.Index(), n.Hostname(), err)
		}
		var he x509.HostnameError
		if err := tlsDial(n.Addr(), c.TLSConfig(), "127.0.0.1"); !errors.As(err, &he) {
			t.Errorf("node %d verified against its IP: %v, want a hostname error", n.Index(), err)
		}
		other := c.Node((n.Index() + 1) % len(c.Nodes())).Hostname()
		if err := tlsDial(n.Addr(), c.TLSConfig(), other); !errors.As(err, &he) {
			t.Errorf("node %d verified against %s: %v, want a hostname error", n.Index(), other, err)
		}
	}
}

// field returns the value of key in a RESP map (or flat array of pairs), or a zero
// Value.
func field(v resp.Value, key string) resp.Value {
	for i := 0; i+1 < len(v.Elems); i += 2 {
		if string(v.Elems[i].Str) == key {
			return v.Elems[i+1]
		}
	}
	return resp.Value{}
}

// tlsDial completes a TLS handshake with addr verifying name.
func tlsDial(addr string, conf *tls.Config, name string) error {
	conf.ServerName = name
	d := &net.Dialer{Timeout: 2 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", addr, conf)
	if err != nil {
		return err
	}
	return c.Close()
}
