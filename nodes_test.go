package redline

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/redistest"
)

// Tests of the commands on chosen nodes (nodes.go, internal/cluster/nodecall.go).

// TestDoOnNodes: each node answers for itself (CLUSTER MYID is the ID the topology
// gives its address; ROLE its role), on every primary, every node, or one.
func TestDoOnNodes(t *testing.T) {
	t.Parallel()
	forProtocols(t, func(t *testing.T, c *Client, p string) {
		ctx := t.Context()
		topo := c.e.Topology()
		prim := c.DoOnEveryPrimary(ctx, "CLUSTER", "MYID")
		if len(prim) != 3 || prim.Err() != nil {
			t.Fatalf("DoOnEveryPrimary: %d results, %v", len(prim), prim.Err())
		}
		all := c.DoOnEveryNode(ctx, []string{"CLUSTER", "MYID"}) // a slice, flattened
		if len(all) != 6 || all.Err() != nil {
			t.Fatalf("DoOnEveryNode: %d results, %v", len(all), all.Err())
		}
		for addr, r := range all {
			id, err := r.Text()
			if n := topo.NodeByAddr(addr); err != nil || n == nil || n.ID != id {
				t.Fatalf("%s answered %q, %v; the topology says %v", addr, id, err, n)
			}
			if _, primary := prim[addr]; primary {
				if pid, _ := prim[addr].Text(); pid != id {
					t.Fatalf("%s: %q on every primary, %q on every node", addr, pid, id)
				}
			}
		}
		for _, addr := range c.NodeAddrs() {
			role, err := c.DoOn(ctx, addr, "ROLE").Slice()
			_, primary := prim[addr]
			want := map[bool]string{true: "master", false: "slave"}[primary]
			if err != nil || len(role) == 0 {
				t.Fatalf("ROLE on %s: %v, %v", addr, role, err)
			}
			if got, err := role[0].Text(); err != nil || got != want {
				t.Fatalf("ROLE on %s = %v, %v; want %s", addr, role, err, want)
			}
		}
		if got := c.PrimaryAddrs(); len(got) != 3 {
			t.Fatalf("PrimaryAddrs = %v", got)
		}
		// Never redirected: a key read on a primary that does not own it answers MOVED.
		k := p + "k"
		owner, err := c.e.Pick(hashslot.Key(k), false)
		check(t, err)
		for addr := range prim {
			err := c.DoOn(ctx, addr, "GET", k).Err()
			var re *RedisError
			if moved := errors.As(err, &re) && re.Code == "MOVED"; moved == (addr == owner.Addr()) {
				t.Fatalf("GET on %s (owner %s): %v", addr, owner.Addr(), err)
			}
		}
		// Bad input: an unknown address (not dialed), a connection-state command, none.
		if err := c.DoOn(ctx, "127.0.0.1:1", "PING").Err(); err == nil || !strings.Contains(err.Error(), "not a node of the cluster") {
			t.Fatalf("an unknown address: %v", err)
		}
		var cse *ConnStateError
		if err := c.DoOnEveryNode(ctx, "SUBSCRIBE", "ch").Err(); !errors.As(err, &cse) {
			t.Fatalf("SUBSCRIBE on every node: %v", err)
		}
		if err := c.DoOn(ctx, c.NodeAddrs()[0]).Err(); err == nil {
			t.Fatal("an empty command was accepted")
		}
	})
}

// TestDoOnEveryPrimaryFaultyNode: on a 3-master cluster with one primary's traffic
// black-holed (then refused), that node's Result fails, naming it, and the others'
// replies are intact, all by the call's deadline.
func TestDoOnEveryPrimaryFaultyNode(t *testing.T) {
	t.Parallel()
	cl := redistest.Run(t, redistest.Config{Masters: 3})
	const timeout = 400 * time.Millisecond
	c := newTestClient(t, cl, Options{CommandTimeout: timeout})
	ctx := t.Context()
	if err := c.DoOnEveryPrimary(ctx, "PING").Err(); err != nil { // every node connected
		t.Fatal(err)
	}
	// A blocking command runs as with Do: WAIT 1 100 waits its 100ms on each primary
	// (none has a replica), past nothing but its own timeout.
	start := time.Now()
	waits := c.DoOnEveryPrimary(ctx, "WAIT", 1, 100)
	if el := time.Since(start); waits.Err() != nil || el < 100*time.Millisecond || el > timeout+100*time.Millisecond {
		t.Fatalf("WAIT on every primary: %v after %v", waits.Err(), el)
	}
	for addr, r := range waits {
		if n, err := r.Int64(); n != 0 || err != nil {
			t.Fatalf("WAIT on %s = %d, %v", addr, n, err)
		}
	}
	addrs := c.PrimaryAddrs()
	bad := addrs[1]
	nd := cl.NodeByAddr(bad)
	defer nd.SetFault(redistest.Pass)
	check(t, nd.SetFault(redistest.Blackhole))

	checkRun := func(what string, rs NodeResults, elapsed, limit time.Duration, badErr func(error) bool) {
		t.Helper()
		t.Logf("%s: returned after %v (deadline %v + 50ms)", what, elapsed, limit-50*time.Millisecond)
		if elapsed > limit {
			t.Errorf("%s: returned after %v, deadline %v", what, elapsed, limit)
		}
		if len(rs) != 3 {
			t.Fatalf("%s: %d results", what, len(rs))
		}
		for _, addr := range addrs {
			id, err := rs[addr].Text()
			if addr == bad {
				if err == nil || !badErr(err) || !strings.Contains(err.Error(), bad) {
					t.Errorf("%s: the faulty node %s: %v", what, bad, err)
				}
				continue
			}
			if n := c.e.Topology().NodeByAddr(addr); err != nil || n.ID != id {
				t.Errorf("%s: the healthy node %s: %q, %v", what, addr, id, err)
			}
		}
		if err := rs.Err(); err == nil || !strings.Contains(err.Error(), bad+": ") {
			t.Errorf("%s: Err() = %v, want the faulty node named", what, err)
		}
	}
	isDeadline := func(err error) bool {
		var de *DeadlineError
		return errors.As(err, &de)
	}
	start = time.Now()
	rs := c.DoOnEveryPrimary(ctx, "CLUSTER", "MYID")
	checkRun("black hole, CommandTimeout", rs, time.Since(start), timeout+50*time.Millisecond, isDeadline)

	// A context deadline earlier than CommandTimeout bounds every node's call too.
	sctx, cancel := context.WithTimeout(ctx, 150*time.Millisecond)
	start = time.Now()
	rs = c.DoOnEveryPrimary(sctx, "CLUSTER", "MYID")
	cancel()
	checkRun("black hole, ctx deadline", rs, time.Since(start), 150*time.Millisecond+50*time.Millisecond, isDeadline)

	start = time.Now()
	r := c.DoOn(ctx, bad, "PING")
	if el := time.Since(start); el > timeout+50*time.Millisecond || !isDeadline(r.Err()) {
		t.Errorf("DoOn the faulty node: %v after %v", r.Err(), el)
	}

	// Refused connections fail fast, with the node and the phase named.
	check(t, nd.SetFault(redistest.Refuse))
	start = time.Now()
	rs = c.DoOnEveryPrimary(ctx, "CLUSTER", "MYID")
	checkRun("refused", rs, time.Since(start), timeout+50*time.Millisecond, func(err error) bool {
		var ne *NodeError
		return errors.As(err, &ne) || isDeadline(err)
	})
}
