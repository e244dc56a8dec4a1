package cluster

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redline-go/redline/resp"
)

// The view after a coordinated failover of shard 1 seen by a node that has not heard
// of the demotion: r1 serves its slots, p1 is a master of no slot.
var failedOver1 = []shardSpec{
	{0, 5460, r1, nil, nil},
	{-1, -1, p1, nil, nil},
	{5461, 10922, p2, []string{r2}, nil},
	{10923, 16383, p3, []string{r3}, nil},
}

// roleReplicaOf is ROLE's reply of a replica of host:port.
func roleReplicaOf(host string, port int64) resp.Value {
	return arrV(bulkV("slave"), bulkV(host), intV(port), bulkV("connected"), intV(100))
}

func roleMaster() resp.Value { return arrV(bulkV("master"), intV(100), arrV()) }

// roleAnswer answers ROLE with v (and everything else OK).
func roleAnswer(v resp.Value) handler {
	return func(_ *Waiter, ws []string, _ bool) (resp.Value, error) {
		if strings.EqualFold(ws[0], "ROLE") {
			return v, nil
		}
		return okValue(), nil
	}
}

func rolesSent(fc *fakeCluster, addr string) int {
	n := 0
	for _, s := range fc.sentTo(addr) {
		if s == "ROLE" {
			n++
		}
	}
	return n
}

// TestSlotlessPlaced: a replica-reading client's refresh places the demoted master,
// which says it replicates r1, as r1's replica; a ReadPrimary client asks nobody.
func TestSlotlessPlaced(t *testing.T) {
	for _, rf := range []ReadFrom{ReadPrimary, ReadReplicaOnly} {
		fc := newFakeCluster(t)
		cfg := testConfig(fc)
		cfg.ReadFrom = rf
		c := newEngine(t, cfg, threeShards)
		fc.handle(p1, roleAnswer(roleReplicaOf("127.0.0.1", 7101)))
		fc.setTopo(failedOver1)
		c.refresh()
		s := c.topo.Load().Slot(s1)
		if s.Primary.Addr != r1 {
			t.Fatalf("ReadFrom %d: slot %d served by %s", rf, s1, s.Primary.Addr)
		}
		placed := len(s.Replicas) == 1 && s.Replicas[0].Addr == p1
		if want := rf != ReadPrimary; placed != want || rolesSent(fc, p1) != map[bool]int{false: 0, true: 1}[want] {
			t.Fatalf("ReadFrom %d: replicas %v, ROLEs %d", rf, s.Replicas, rolesSent(fc, p1))
		}
	}
}

// TestSlotlessEmptyMaster: a known master serving no slot (added to the cluster, or
// emptied) that says master stays a slotless primary, asked once by a refresh that
// changed the view, not at all by one that confirms it; one that says it replicates an
// address spelled otherwise (a host name), a replica's address, a node not in the view,
// or answers oddly, is not placed. (A node the client does not know yet is not asked.)
func TestSlotlessEmptyMaster(t *testing.T) {
	const p4, r4 = "127.0.0.1:7004", "127.0.0.1:7104"
	withP4 := append(append([]shardSpec(nil), threeShards...), shardSpec{-1, -1, p4, nil, nil})
	changed := append([]shardSpec(nil), withP4...) // shard 3 got another replica
	changed[2].replicas = []string{r3, r4}
	for _, role := range []resp.Value{
		roleMaster(),
		roleReplicaOf("localhost", 7001),
		roleReplicaOf("127.0.0.1", 7101),
		roleReplicaOf("127.0.0.1", 7009),
		roleReplicaOf("127.0.0.1", 0),
		roleReplicaOf("127.0.0.1", 7004),
		arrV(bulkV("slave")),
		errV("NOPERM"),
	} {
		fc := newFakeCluster(t)
		cfg := testConfig(fc)
		cfg.ReadFrom = ReadReplicaOnly
		c := newEngine(t, cfg, withP4)
		fc.handle(p4, roleAnswer(role))
		fc.setTopo(changed)
		c.refresh()
		tab := c.topo.Load()
		if n := tab.NodeByAddr(p4); n == nil || len(tab.Shards()) != 4 || !tab.Equal(tableOf(t, changed)) {
			t.Fatalf("ROLE %v: %d shards, %s %+v", role, len(tab.Shards()), p4, n)
		}
		if n := rolesSent(fc, p4); n != 1 {
			t.Fatalf("ROLE %v: asked %d times", role, n)
		}
		c.refresh()
		if n := rolesSent(fc, p4); n != 1 {
			t.Fatalf("ROLE %v: a confirming refresh asked again (%d)", role, n)
		}
	}
}

// TestSlotlessCloseDuringCheck: Close while a refresh waits for a slotless node's ROLE
// (a node that does not answer) returns at once and the refresh with it.
func TestSlotlessCloseDuringCheck(t *testing.T) {
	fc := newFakeCluster(t)
	cfg := testConfig(fc)
	cfg.ReadFrom = ReadReplicaOnly
	c := newEngine(t, cfg, threeShards)
	asked := make(chan struct{}, 1)
	fc.handle(p1, func(w *Waiter, ws []string, _ bool) (resp.Value, error) {
		select {
		case asked <- struct{}{}:
		default:
		}
		return resp.Value{}, untilDeadline(w, p1)
	})
	fc.setTopo(failedOver1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); c.Refresh() }()
	select {
	case <-asked:
	case <-time.After(5 * time.Second):
		t.Fatal("ROLE never asked")
	}
	start := time.Now()
	c.Close()
	wg.Wait()
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Fatalf("Close and the refresh took %v", took)
	}
}

// TestSlotlessHungNodes: slotless primaries that do not answer ROLE, or that the table
// in use lists as replicas and keep saying master, hold the install of a refresh's view
// (here the failover of shard 1, which callers of its slots wait for) up by
// slotlessCheckTimeout, not by that once per node.
func TestSlotlessHungNodes(t *testing.T) {
	const p4, p5 = "127.0.0.1:7004", "127.0.0.1:7005"
	cur := append([]shardSpec(nil), threeShards...) // p4, p5: replicas, now emptied masters
	cur[1].replicas = []string{r2, p4}
	cur[2].replicas = []string{r3, p5}
	view := append(append([]shardSpec(nil), failedOver1...), shardSpec{-1, -1, p4, nil, nil}, shardSpec{-1, -1, p5, nil, nil})
	for _, hang := range []bool{true, false} {
		fc := newFakeCluster(t)
		cfg := testConfig(fc)
		cfg.ReadFrom = ReadReplicaOnly
		c := newEngine(t, cfg, cur)
		for _, a := range []string{p1, p4, p5} {
			fc.handle(a, func(w *Waiter, ws []string, _ bool) (resp.Value, error) {
				switch {
				case !strings.EqualFold(ws[0], "ROLE"):
					return okValue(), nil
				case hang || a == p1:
					return resp.Value{}, untilDeadline(w, a)
				}
				return roleMaster(), nil
			})
		}
		fc.setTopo(view)
		start := time.Now()
		c.refresh()
		took := time.Since(start)
		if c.topo.Load().Slot(s1).Primary.Addr != r1 {
			t.Fatal("the failover was not installed")
		}
		t.Logf("hang %v: refresh installed after %v", hang, took)
		if bound := slotlessCheckTimeout + 100*time.Millisecond; took > bound {
			t.Errorf("hang %v: the refresh installed its view after %v, want ≤ %v", hang, took, bound)
		}
	}
}

// TestSlotlessSlotsPath: Redis 6.0 (CLUSTER SLOTS, no SHARDS) leaves a master demoted by
// a failover out of a stale node's reply altogether (SLOTS lists masters serving slots
// and their replicas; it is still a master of no slot there). A refresh in that window,
// before or right after the client applied the promotion, dropped the demoted master
// from the table: a replica-only client had no replica for the shard until the next
// refresh. Now it is asked and placed; a replica the view leaves out (r2, removed) that
// says master is left out, asked by the refresh that left it out only (for
// slotlessCheckTimeout, as it might be the demoted master not yet told).
func TestSlotlessSlotsPath(t *testing.T) {
	stale := append([]shardSpec(nil), failedOver1...)
	stale[2].replicas = nil // r2 left the cluster
	for _, promoted := range []bool{false, true} {
		fc := newFakeCluster(t)
		cfg := testConfig(fc)
		cfg.ReadFrom = ReadReplicaOnly
		c := newEngine(t, cfg, threeShards)
		if promoted {
			c.applyPromoted(r1) // the role check saw r1 answer master: p1 is r1's replica now
		}
		for _, a := range []string{p1, p2, p3, r1, r2, r3} {
			fc.handle(a, func(_ *Waiter, ws []string, _ bool) (resp.Value, error) {
				switch {
				case strings.EqualFold(ws[0], "ROLE") && a == p1:
					return roleReplicaOf("127.0.0.1", 7101), nil
				case strings.EqualFold(ws[0], "ROLE"):
					return roleMaster(), nil
				case len(ws) == 2 && strings.EqualFold(ws[1], "SHARDS"):
					return errV("ERR Unknown subcommand or wrong number of arguments for 'SHARDS'. Try CLUSTER HELP."), nil
				case len(ws) == 2 && strings.EqualFold(ws[1], "SLOTS"):
					return slotsValue(stale), nil
				}
				return okValue(), nil
			})
		}
		c.refresh()
		tab := c.topo.Load()
		if s := tab.Slot(s1); s.Primary.Addr != r1 || len(s.Replicas) != 1 || s.Replicas[0].Addr != p1 {
			t.Fatalf("promoted %v: after the refresh, the shard of slot %d: primary %s, replicas %v (ROLEs asked of %s: %d)",
				promoted, s1, s.Primary.Addr, s.Replicas, p1, rolesSent(fc, p1))
		}
		// r2, out of shard 2, is asked too: within slotlessWindow of a failover the
		// client applied or saw (TestSlotlessForgottenReplica: not otherwise).
		asked := rolesSent(fc, r2)
		if tab.NodeByAddr(r2) != nil || asked == 0 || rolesSent(fc, r3) != 0 {
			t.Fatalf("promoted %v: r2 %+v, ROLEs asked of r2 %d, of r3 %d", promoted, tab.NodeByAddr(r2), rolesSent(fc, r2), rolesSent(fc, r3))
		}
		c.refresh() // the same stale view again: the table stays, r2 is not asked again
		if s := c.topo.Load().Slot(s1); len(s.Replicas) != 1 || s.Replicas[0].Addr != p1 || rolesSent(fc, r2) != asked {
			t.Fatalf("promoted %v: second refresh: replicas %v, ROLEs asked of r2 %d", promoted, s.Replicas, rolesSent(fc, r2))
		}
	}
}

// TestSlotlessForgottenReplica: a replica the cluster forgot that still replicates (it
// answers ROLE slave of its primary) is left out of every view; with no failover in the
// view nor a promotion applied within slotlessWindow, it is neither asked nor kept.
func TestSlotlessForgottenReplica(t *testing.T) {
	forgot := append([]shardSpec(nil), threeShards...)
	forgot[0].replicas = nil // r1 forgotten
	fc := newFakeCluster(t)
	cfg := testConfig(fc)
	cfg.ReadFrom = ReadReplicaOnly
	c := newEngine(t, cfg, threeShards)
	fc.handle(r1, roleAnswer(roleReplicaOf("127.0.0.1", 7001)))
	fc.setTopo(forgot)
	c.refresh()
	if n := c.topo.Load().NodeByAddr(r1); n != nil || rolesSent(fc, r1) != 0 {
		t.Fatalf("r1 kept (%+v) or asked (%d ROLEs) though no failover was seen", n, rolesSent(fc, r1))
	}
}

// TestRoleCheckNoFlipBack: after the role check promoted r1, the demoted p1 still
// answers ROLE master until it hears of the failover; the next tick must not promote it
// back (reads of the shard would go back and forth).
// The same after a MOVED to r1 (a write redirected by the failover) made it the primary.
func TestRoleCheckNoFlipBack(t *testing.T) {
	for _, how := range []string{"ROLE", "MOVED"} {
		fc := newFakeCluster(t)
		cfg := testConfig(fc)
		cfg.ReadFrom = ReadReplicaOnly
		c := newEngine(t, cfg, threeShards)
		fc.handle(p1, roleAnswer(roleMaster()))
		DoOn(t.Context(), c.NodeAt(p1), "PING") // connected: the check asks only nodes that are up
		if how == "ROLE" {
			c.applyPromoted(r1)
		} else {
			c.ApplyMoved(s1, r1)
		}
		c.checkReplicaRoles(0)
		if s := c.topo.Load().Slot(s1); s.Primary.Addr != r1 {
			t.Fatalf("%s: the shard's primary is %s again, want r1 %s (ROLEs asked of p1: %d)", how, s.Primary.Addr, r1, rolesSent(fc, p1))
		}
	}
}
