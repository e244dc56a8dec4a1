package redline

import (
	"context"
	"strings"
	"time"

	"github.com/redline-go/redline/internal/node"
	"github.com/redline-go/redline/internal/topology"
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
)

// roleCheckLoop runs the replica role checks until Close.
func (c *Client) roleCheckLoop() {
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
func (c *Client) checkReplicaRoles(start int) int {
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
		if n == nil || n.State() != node.StateUp { // not used for reads, or known down: nothing to ask
			continue
		}
		if c.isPrimaryNow(n) {
			if c.opts.Logger != nil {
				c.opts.Logger.Info("redline: a replica answers as a primary; refreshing the topology", "addr", r.Addr)
			}
			c.applyPromoted(r.Addr)
			c.triggerRefresh()
			return (start + k + 1) % len(replicas)
		}
	}
	return (start + roleChecksPerTick) % len(replicas)
}

// applyPromoted makes the replica at addr its shard's primary in the table at once (the
// refresh that follows learns the rest), so reads stop going to it now.
func (c *Client) applyPromoted(addr string) {
	c.swapTable(CauseRole, addr, func(t *topology.Table) *topology.Table { return t.WithPromoted(addr) })
}

// isPrimaryNow reports whether n says, by ROLE, that it is a primary.
func (c *Client) isPrimaryNow(n *node.Node) bool {
	ctx, cancel := context.WithTimeout(c.ctx, c.opts.CommandTimeout)
	defer cancel()
	v, err := n.Do(ctx, "ROLE")
	if err != nil || v.Err != nil || len(v.Elems) == 0 {
		return false
	}
	return strings.EqualFold(string(v.Elems[0].Str), "master")
}
