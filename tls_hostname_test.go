package redline

import (
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/redistest"
)

// TestTLSHostnames runs on a TLS cluster whose nodes announce IP endpoints with hostname
// metadata (cluster-announce-hostname, preferred endpoint type ip) and present
// certificates naming only their own hostname, as managed services do: each node is
// verified against the hostname the topology announces for it (GET/SET on every shard,
// a MOVED followed to a node met through the topology); without a name for the seeds,
// or with a wrong name, the caller gets a *NodeError in phase tls with the x509 cause,
// fast and within its deadline.
func TestTLSHostnames(t *testing.T) {
	t.Parallel()
	cl := redistest.Run(t, redistest.Config{Masters: 3, TLS: true, Hostnames: true})
	ctx := ctxT(t, 2*time.Minute)
	topo, err := cl.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	masters := topo.Masters()
	var keys []string // one key on each master, in Masters order
	for _, m := range masters {
		keys = append(keys, keyOnNode(t, topo, m.Node, "tlsh"))
	}
	seed := masters[0].Node
	// The names do not resolve here, so the seeds are listed by IP; a resolver would give
	// the seed's hostname in real use. dns plays it: the seed is met before any topology
	// (hostname ""), every other name is the default rule's.
	dns := func(addr, hostname string) string {
		if n := cl.NodeByAddr(addr); hostname == "" && n != nil {
			return n.Hostname()
		}
		return ""
	}
	open := func(o Options) (*Client, error) {
		o.Addrs = []string{seed.Addr()}
		o.TLSConfig = cl.TLSConfig()
		if o.CommandTimeout == 0 {
			o.CommandTimeout = 2 * time.Second
		}
		c, err := NewClient(ctxT(t, 5*time.Second), o)
		if err == nil {
			t.Cleanup(func() { c.Close() })
		}
		return c, err
	}
	// tlsFailure checks err is a *NodeError in phase tls naming want's hostname error.
	tlsFailure := func(t *testing.T, err error, addr, name string) {
		t.Helper()
		var ne *NodeError
		var he x509.HostnameError
		if !errors.As(err, &ne) || ne.Phase != PhaseTLS || !errors.As(err, &he) {
			t.Fatalf("got %v, want a *NodeError in phase tls with an x509.HostnameError", err)
		}
		if ne.Addr != addr || he.Host != name {
			t.Errorf("node %s, name %q; want node %s, name %q: %v", ne.Addr, he.Host, addr, name, err)
		}
	}

	t.Run("verified against the announced hostnames", func(t *testing.T) {
		c, err := open(Options{TLSServerName: dns})
		if err != nil {
			t.Fatal(err)
		}
		for i, k := range keys {
			if err := c.Do(ctxT(t, 2*time.Second), "SET", k, k).Err(); err != nil {
				t.Fatalf("SET on %s (%s): %v", masters[i].Addr, masters[i].Node.Hostname(), err)
			}
			if v, err := c.Do(ctxT(t, 2*time.Second), "GET", k).Text(); err != nil || v != k {
				t.Fatalf("GET on %s: %q, %v", masters[i].Addr, v, err)
			}
		}
		// Move keys[1]'s slot to the third master: the client learns it from MOVED.
		slot := hashslot.Key(keys[1])
		if err := cl.MigrateSlot(ctx, slot, masters[2].Node); err != nil {
			t.Fatal(err)
		}
		before := c.Stats().Moved
		if v, err := c.Do(ctxT(t, 2*time.Second), "GET", keys[1]).Text(); err != nil || v != keys[1] {
			t.Fatalf("GET after the slot moved: %q, %v", v, err)
		}
		if c.Stats().Moved == before {
			t.Errorf("the call followed no MOVED")
		}
		if err := cl.MigrateSlot(ctx, slot, masters[1].Node); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("no name for the seed", func(t *testing.T) {
		start := time.Now()
		_, err := open(Options{DialTimeout: time.Second})
		elapsed := time.Since(start)
		tlsFailure(t, err, seed.Addr(), "127.0.0.1")
		if elapsed > time.Second {
			t.Errorf("NewClient took %v to fail on a rejected certificate", elapsed)
		}
		figure(t, "seed by IP, certificates naming hostnames only: %v in %v", err, elapsed.Round(time.Millisecond))
	})

	t.Run("a wrong name", func(t *testing.T) {
		wrong := func(addr, hostname string) string {
			if hostname == "" {
				return dns(addr, hostname)
			}
			return "wrong.redline.test"
		}
		c, err := open(Options{TLSServerName: wrong, CommandTimeout: time.Second})
		if err != nil {
			t.Fatal(err) // the seed verified its own name
		}
		start := time.Now()
		err = c.Do(ctxT(t, 5*time.Second), "GET", keys[1]).Err()
		elapsed := time.Since(start)
		tlsFailure(t, err, masters[1].Addr, "wrong.redline.test")
		if elapsed > time.Second+50*time.Millisecond {
			t.Errorf("the call returned after %v, past its 1s deadline", elapsed)
		}
		figure(t, "node verified against a wrong name: %v in %v", err, elapsed.Round(time.Millisecond))
	})

	t.Run("an explicit ServerName names every node", func(t *testing.T) {
		conf := cl.TLSConfig()
		conf.ServerName = seed.Hostname()
		c, err := NewClient(ctxT(t, 5*time.Second), Options{Addrs: []string{seed.Addr()}, TLSConfig: conf, CommandTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Do(ctxT(t, 2*time.Second), "SET", keys[0], "v").Err(); err != nil {
			t.Fatal(err)
		}
		err = c.Do(ctxT(t, 2*time.Second), "GET", keys[1]).Err()
		tlsFailure(t, err, masters[1].Addr, seed.Hostname())
		if !strings.Contains(err.Error(), masters[1].Node.Hostname()) {
			t.Errorf("the error does not say which name the certificate has: %v", err)
		}
	})
}
