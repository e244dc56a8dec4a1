package redline

import (
	"context"
	"crypto/x509"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/internal/testkit"
	"github.com/redline-go/redline/redistest"
	"github.com/redline-go/redline/resp"
)

// TestManagedService runs on a cluster set up as managed services are: TLS-only nodes
// (3 masters, 3 replicas) announcing IP endpoints with hostname metadata
// (cluster-announce-hostname, preferred endpoint type ip), each presenting a
// certificate naming only its own hostname, and clients logging in as an ACL user.
//
// TLS: each node is verified against the hostname the topology announces for it
// (GET/SET on every shard, a MOVED followed); without a name for the seeds, or with a
// wrong name, the caller gets a *NodeError in phase tls with the x509 cause, fast and
// within its deadline; an explicit TLSConfig.ServerName names every node.
//
// ACL: a user allowed exactly the commands the README's "Managed services" section
// lists (and its data commands) is never refused one the client sends by itself —
// topology, READONLY, ROLE, PING, ASKING, the blocking commands' CLIENT UNBLOCK,
// CLIENT ID, MULTI/EXEC — as ACL LOG shows on every node; a user without
// cluster|shards and cluster|slots fails at NewClient with NOPERM and the hint.
func TestManagedService(t *testing.T) {
	t.Parallel()
	if s, err := redistest.ProbeServer(""); err == nil && !s.AtLeast(7, 0) {
		t.Skipf("needs cluster-announce-hostname (Redis 7.0 or newer); the server is %s", s)
	}
	cl := redistest.Run(t, redistest.Config{Masters: 3, ReplicasPerMaster: 1, TLS: true, Hostnames: true})
	ctx := t.Context()
	topo, err := cl.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	masters := topo.Masters()
	var keys []string // one key on each master, in Masters order
	for _, m := range masters {
		keys = append(keys, topo.KeyOn(t, m.Node, "tlsh"))
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
		c, err := NewClient(t.Context(), o)
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
			if err := c.Do(t.Context(), "SET", k, k).Err(); err != nil {
				t.Fatalf("SET on %s (%s): %v", masters[i].Addr, masters[i].Node.Hostname(), err)
			}
			if v, err := c.Do(t.Context(), "GET", k).Text(); err != nil || v != k {
				t.Fatalf("GET on %s: %q, %v", masters[i].Addr, v, err)
			}
		}
		// Move keys[1]'s slot to the third master: the client learns it from MOVED.
		slot := hashslot.Key(keys[1])
		if err := cl.MigrateSlot(ctx, slot, masters[2].Node); err != nil {
			t.Fatal(err)
		}
		before := c.Stats().Moved
		if v, err := c.Do(t.Context(), "GET", keys[1]).Text(); err != nil || v != keys[1] {
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
		testkit.Figure(t, "seed by IP, certificates naming hostnames only: %v in %v", err, elapsed.Round(time.Millisecond))
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
		err = c.Do(t.Context(), "GET", keys[1]).Err()
		elapsed := time.Since(start)
		tlsFailure(t, err, masters[1].Addr, "wrong.redline.test")
		if elapsed > time.Second+50*time.Millisecond {
			t.Errorf("the call returned after %v, past its 1s deadline", elapsed)
		}
		testkit.Figure(t, "node verified against a wrong name: %v in %v", err, elapsed.Round(time.Millisecond))
	})

	t.Run("an explicit ServerName names every node", func(t *testing.T) {
		conf := cl.TLSConfig()
		conf.ServerName = seed.Hostname()
		c, err := NewClient(t.Context(), Options{Addrs: []string{seed.Addr()}, TLSConfig: conf, CommandTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Do(t.Context(), "SET", keys[0], "v").Err(); err != nil {
			t.Fatal(err)
		}
		err = c.Do(t.Context(), "GET", keys[1]).Err()
		tlsFailure(t, err, masters[1].Addr, seed.Hostname())
		if !strings.Contains(err.Error(), masters[1].Node.Hostname()) {
			t.Errorf("the error does not say which name the certificate has: %v", err)
		}
	})

	t.Run("ACL: what the client needs", func(t *testing.T) {
		acl := func(args ...any) {
			for _, n := range cl.Nodes() { // ACLs are per node
				if v, err := n.Do(ctx, append([]any{"ACL"}, args...)...); err != nil || v.Err != nil {
					t.Fatalf("ACL %v on node %d: %v %v", args, n.Index(), err, v.Err)
				}
			}
		}
		// The README's list, and the application's own commands.
		acl(append([]any{"SETUSER", "app", "reset", "on", ">app-pw", "~*", "&*", "-@all", "+get", "+set", "+blpop"},
			managedACL...)...)
		acl(append([]any{"SETUSER", "noshards", "reset", "on", ">noshards-pw", "~*", "&*", "-@all", "+get", "+set", "-cluster|shards", "-cluster|slots"},
			managedACL[2:]...)...)
		acl("LOG", "RESET")
		opts := func(user, pw string, proto int) Options {
			return Options{Username: user, Password: NewSecret(pw), Protocol: proto, TLSServerName: dns, ReadFrom: ReadPreferReplica}
		}

		for _, proto := range []int{2, 3} {
			c, err := open(opts("app", "app-pw", proto))
			if err != nil {
				t.Fatalf("RESP%d: %v", proto, err)
			}
			for _, k := range keys { // writes on primaries, READONLY reads on replicas
				if err := c.Do(t.Context(), "SET", k, "v").Err(); err != nil {
					t.Fatalf("RESP%d: SET: %v", proto, err)
				}
				if err := c.Do(t.Context(), "GET", k).Err(); err != nil {
					t.Fatalf("RESP%d: GET: %v", proto, err)
				}
			}
			// A blocking command ended on the server at the deadline (CLIENT UNBLOCK; CLIENT
			// ID under RESP2), and one too short for that (polled in MULTI/EXEC).
			for _, d := range []time.Duration{300 * time.Millisecond, 10 * time.Millisecond} {
				ctx, cancel := context.WithTimeout(t.Context(), d)
				err := c.Do(ctx, "BLPOP", "{managed}:empty", 5).Err()
				cancel()
				var de *DeadlineError
				if !errors.As(err, &de) || strings.Contains(err.Error(), "NOPERM") {
					t.Errorf("RESP%d: BLPOP in %v: %v, want a deadline error", proto, d, err)
				}
			}
			// An ASK redirect: a slot being migrated, a key only on the target (ASKING).
			slot := hashslot.Key("{managed}:ask")
			src, dst := topo.Owner(slot).Node, masters[0].Node
			if src == dst {
				dst = masters[1].Node
			}
			m, err := cl.BeginMigration(ctx, slot, dst)
			if err != nil {
				t.Fatal(err)
			}
			before := c.Stats().Ask
			askKey := "{managed}:ask" + strconv.Itoa(proto) // on neither node yet
			if err := c.Do(t.Context(), "SET", askKey, "v").Err(); err != nil {
				t.Errorf("RESP%d: SET during a migration: %v", proto, err)
			}
			if c.Stats().Ask == before {
				t.Errorf("RESP%d: no ASK followed: the check means nothing", proto)
			}
			if err := m.Finish(ctx); err != nil {
				t.Fatal(err)
			}
			if err := cl.MigrateSlot(ctx, slot, src); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Second) // two replica ROLE checks: there is no event to await
			c.Close()
		}
		for _, n := range cl.Nodes() {
			v, err := n.Do(ctx, "ACL", "LOG")
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range v.Elems {
				if string(field(e, "username").Str) == "app" {
					t.Errorf("node %d refused the client %s (%s)", n.Index(), field(e, "object").Str, field(e, "reason").Str)
				}
			}
		}

		start := time.Now()
		_, err := open(opts("noshards", "noshards-pw", 3))
		elapsed := time.Since(start)
		var re *RedisError
		if !errors.As(err, &re) || re.Code != "NOPERM" || !strings.Contains(err.Error(), "refused CLUSTER SHARDS") ||
			!strings.Contains(err.Error(), "the ACL user needs cluster|shards") {
			t.Fatalf("a user without cluster|shards and cluster|slots: %v, want NOPERM and what the user needs", err)
		}
		if elapsed > time.Second {
			t.Errorf("NewClient took %v to report the refusal", elapsed)
		}
		testkit.Figure(t, "NewClient as a user without cluster|shards and cluster|slots: %q", err.Error())
	})
}

// managedACL is what the README's "Managed services" section says an ACL user needs
// (cluster|shards and cluster|slots first), as ACL SETUSER rules.
var managedACL = []any{"+cluster|shards", "+cluster|slots", "+readonly", "+role", "+ping", "+asking",
	"+client|unblock", "+client|id", "+multi", "+exec", "+command|info"}

// field returns the value of key in a RESP map (or RESP2 array of pairs), or a zero
// Value.
func field(v resp.Value, key string) resp.Value {
	for i := 0; i+1 < len(v.Elems); i += 2 {
		if string(v.Elems[i].Str) == key {
			return v.Elems[i+1]
		}
	}
	return resp.Value{}
}
