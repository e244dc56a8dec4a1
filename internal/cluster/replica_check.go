package cluster

import (
	"context"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redline-go/redline/internal/topology"
	"github.com/redline-go/redline/resp"
)

// Reads sent to replicas get no MOVED when the replica has been promoted (a coordinated
// CLUSTER FAILOVER, or a failover after its primary died): they are served, by the new
// primary, and nothing would tell the client until its periodic refresh. So a client that
// reads from replicas asks the replicas it is connected to for their ROLE, every
// roleCheckEvery; one that answers "master" is made its shard's primary in the client's
// table at once, and a topology refresh is triggered. At most
// roleChecksPerTick replicas are asked per tick (in turn), so a large cluster costs at most
// that many commands a second; a client reading from primaries asks nothing.
const (
	roleCheckEvery    = 500 * time.Millisecond
	roleChecksPerTick = 25
	// maxSlotlessChecks bounds how many nodes one refresh asks for their ROLE, each for
	// at most slotlessCheckTimeout (see placeSlotless).
	maxSlotlessChecks    = 3
	slotlessCheckTimeout = 250 * time.Millisecond
	slotlessRetry        = 20 * time.Millisecond
	// slotlessWindow is how long after a promotion the client applied (ROLE, MOVED, or
	// a refresh's view in which a shard's slots went to another node of the shard) a
	// node the table has and a refresh's view leaves out is asked (Redis 6.0's CLUSTER
	// SLOTS leaves a just-demoted master out until the node asked has heard of it).
	slotlessWindow = 10 * time.Second
)

// roleCheckLoop runs the replica role checks until Close.
func (c *Engine) roleCheckLoop() {
	defer c.wg.Done()
	t := time.NewTicker(roleCheckEvery)
	defer t.Stop()
	next := 0 // where the last tick stopped, so every replica gets its turn
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		next = c.checkReplicaRoles(next)
	}
}

// checkReplicaRoles asks up to roleChecksPerTick connected replicas, from index start of
// the table's replicas, for their role; it returns where the next tick starts.
func (c *Engine) checkReplicaRoles(start int) int {
	tb := c.topo.Load()
	var replicas []*topology.Node
	for _, n := range tb.Nodes() {
		if n.Role == topology.RoleReplica {
			replicas = append(replicas, n)
		}
	}
	if len(replicas) == 0 {
		return 0
	}
	nodes := *c.nodes.Load()
	for k := 0; k < min(roleChecksPerTick, len(replicas)); k++ {
		r := replicas[(start+k)%len(replicas)]
		n := nodes[r.Addr]
		if n == nil || n.State() != StateUp { // not used for reads, or known down: nothing to ask
			continue
		}
		if d := c.lastDemotion.Load(); d != nil && d.addr == r.Addr && time.Since(d.at) < demotionGrace {
			continue // the primary a promotion just demoted may not know it yet: no flip back
		}
		if c.isPrimaryNow(n) {
			if c.cfg.Logger != nil {
				c.cfg.Logger.Info("redline: a replica answers as a primary; refreshing the topology", "addr", r.Addr)
			}
			c.applyPromoted(r.Addr)
			c.TriggerRefresh()
			return (start + k + 1) % len(replicas)
		}
	}
	return (start + roleChecksPerTick) % len(replicas)
}

// demotion is the primary the last promotion applied (ROLE, MOVED) demoted, and when.
type demotion struct {
	addr string
	at   time.Time
}

// demotionGrace is how long the role check leaves the primary a promotion demoted
// alone: until it has heard of the failover it still answers ROLE master, and asking
// it would promote it back, the reads of its shard going back and forth.
const demotionGrace = 2 * time.Second

// applyPromoted makes the replica at addr its shard's primary in the table at once (the
// refresh that follows learns the rest), so reads stop going to it now.
func (c *Engine) applyPromoted(addr string) {
	for _, s := range c.topo.Load().Shards() {
		c.notePromotion(s, addr)
	}
	c.swapTable(CauseRole, addr, func(t *topology.Table) *topology.Table { return t.WithPromoted(addr) })
}

// notePromotion records that addr, a replica of s in the table in use, takes s over
// (its ROLE says so, or a MOVED sends its slots there): the window in which a refresh
// asks nodes its view leaves out opens (slotlessWindow), and the role check leaves
// s's primary, demoted, alone for demotionGrace. Nothing when addr is not a replica of s.
func (c *Engine) notePromotion(s *topology.Shard, addr string) {
	if s == nil || s.Primary.Addr == addr || !inShard(s, addr) {
		return
	}
	now := time.Now()
	c.promotedAt.Store(now.UnixNano())
	c.lastDemotion.Store(&demotion{addr: s.Primary.Addr, at: now})
}

// isPrimaryNow reports whether n says, by ROLE, that it is a primary.
func (c *Engine) isPrimaryNow(n Node) bool {
	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.CommandTimeout)
	defer cancel()
	v, err := DoOn(ctx, n, "ROLE")
	return err == nil && roleOf(v) == "master"
}

// roleOf returns the role a ROLE reply names, lower-cased ("master", "slave",
// "sentinel"); "" for a reply that is not ROLE's (an error, say).
func roleOf(v resp.Value) string {
	if v.Err != nil || !v.IsList() || len(v.Elems) == 0 {
		return ""
	}
	return strings.ToLower(string(v.Elems[0].Str))
}

// placeSlotless returns view with each live primary that serves no slot and says, by
// ROLE, that it is a replica of a primary of the view, listed as that primary's replica.
// A master demoted by a failover stays a slotless master in Redis 7.0's CLUSTER SHARDS
// (and out of CLUSTER SLOTS) on every node that has not yet heard of the demotion, for up
// to a second or so: a refresh in that window would leave its shard without the replica,
// and a client reading only from replicas without a node to read from until the next
// refresh. The node's own word settles it; a client reading from replicas may never
// have connected to the old primary, so it may be dialed (within the same bound). A node
// the table in use lists as a replica (a promotion the client just applied) that still
// says master — the refresh can come milliseconds after the promotion, before the
// demoted node heard of it — is asked again, every slotlessRetry, for
// slotlessCheckTimeout at most. Redis 6.0 has only CLUSTER SLOTS, which leaves such a
// node out: a node of the table in use that the view leaves out, from a shard whose
// slots the view gives to a node of that same shard — another one (a failover in the
// view), or the same within slotlessWindow of a promotion the client applied or saw — is
// asked too, and added as the replica it says it is (a replica removed from the cluster
// is asked by the one refresh that drops it; one forgotten by the cluster but still
// replicating is kept no longer than slotlessWindow). Only a client that reads from
// replicas asks, nodes known down are not asked, and at most maxSlotlessChecks of them
// per refresh, at the same time: nodes that do not answer hold the view (a failover,
// say) up by slotlessCheckTimeout, not by that once per node.
func (c *Engine) placeSlotless(ctx context.Context, view *topology.Table) *topology.Table {
	if c.cfg.ReadFrom == ReadPrimary {
		return view
	}
	checks := c.slotlessChecks(view)
	ask := func(k *slotlessCheck) { k.primary, k.ok = c.replicaOf(ctx, k.n, k.wait) }
	if len(checks) == 1 {
		ask(&checks[0])
	} else {
		var wg sync.WaitGroup
		for i := range checks {
			wg.Add(1)
			go func() { defer wg.Done(); ask(&checks[i]) }()
		}
		wg.Wait()
	}
	for _, k := range checks {
		switch {
		case !k.ok:
		case k.absent != nil:
			view = view.WithReplica(k.absent, k.primary)
		default:
			view = view.WithReplicaOf(k.node.Addr, k.primary)
		}
	}
	return view
}

// slotlessCheck is a node placeSlotless asks for its ROLE, and the answer.
type slotlessCheck struct {
	node    *topology.Node // as the view lists it (a slotless primary)
	absent  *topology.Node // or as the table in use lists it, when the view does not
	n       Node
	wait    bool // the table in use has it as a replica: ask again while it says master
	primary string
	ok      bool
}

// slotlessChecks returns the nodes placeSlotless asks (see there), maxSlotlessChecks at
// most: the live slotless primaries of view, then the nodes the table in use has in a
// shard whose slots view gives to a node of that shard, and view leaves out.
func (c *Engine) slotlessChecks(view *topology.Table) []slotlessCheck {
	nodes := *c.nodes.Load()
	cur := c.topo.Load()
	var checks []slotlessCheck
	add := func(tn *topology.Node, absent bool) {
		n := nodes[tn.Addr]
		if len(checks) == maxSlotlessChecks || tn.Failed() || n == nil || n.State() == StateDown || n.State() == StateClosed {
			return
		}
		k := slotlessCheck{node: tn, n: n}
		if absent {
			k.node, k.absent = nil, tn
		}
		if cur != nil {
			was := cur.NodeByAddr(tn.Addr)
			k.wait = was != nil && was.Role == topology.RoleReplica
		}
		checks = append(checks, k)
	}
	for _, s := range view.Shards() {
		if len(s.Ranges) == 0 {
			add(s.Primary, false)
		}
	}
	if cur == nil {
		return checks
	}
	for _, s := range cur.Shards() {
		if len(s.Ranges) == 0 {
			continue
		}
		vs := view.Slot(s.Ranges[0][0])
		if vs == nil || !inShard(s, vs.Primary.Addr) {
			continue
		}
		if vs.Primary.Addr != s.Primary.Addr {
			c.promotedAt.Store(time.Now().UnixNano()) // a failover in the view: the window opens
		} else if time.Since(time.Unix(0, c.promotedAt.Load())) > slotlessWindow {
			// Neither a failover in this view nor one applied lately: a node the view
			// leaves out has left (or was forgotten while it still replicates): it is
			// not kept by its own word.
			continue
		}
		for _, tn := range append([]*topology.Node{s.Primary}, s.Replicas...) {
			if view.NodeByAddr(tn.Addr) == nil {
				add(tn, true)
			}
		}
	}
	return checks
}

// inShard reports whether addr is the primary or a replica of s.
func inShard(s *topology.Shard, addr string) bool {
	return s.Primary.Addr == addr || slices.ContainsFunc(s.Replicas, func(n *topology.Node) bool { return n.Addr == addr })
}

// replicaOf asks n for its ROLE and returns the address of its primary when it says it
// is a replica. When it says master and wait is set, it asks again every slotlessRetry,
// for slotlessCheckTimeout in all.
func (c *Engine) replicaOf(ctx context.Context, n Node, wait bool) (string, bool) {
	ctx, cancel := context.WithTimeout(ctx, min(c.cfg.CommandTimeout, slotlessCheckTimeout))
	defer cancel()
	for {
		v, err := DoOn(ctx, n, "ROLE")
		if err != nil {
			return "", false
		}
		switch role := roleOf(v); {
		case role == "slave" && len(v.Elems) >= 3:
			host, port := string(v.Elems[1].Str), v.Elems[2].Int
			if host == "" || port <= 0 || port > 65535 {
				return "", false
			}
			return net.JoinHostPort(host, strconv.FormatInt(port, 10)), true
		case role == "master" && wait:
			t := time.NewTimer(slotlessRetry)
			select {
			case <-ctx.Done():
				t.Stop()
				return "", false
			case <-t.C:
			}
		default:
			return "", false
		}
	}
}
