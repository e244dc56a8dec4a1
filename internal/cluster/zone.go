package cluster

import (
	"time"

	"github.com/redline-go/redline/internal/topology"
)

// Availability-zone-aware reads (ReadLocalZone). A read goes, in this order, to:
//
//  1. a replica of the slot's shard in the client's zone (Config.Zone), chosen at
//     random among them to spread the load;
//  2. the shard's primary, if it is in the zone;
//  3. any replica of the shard (as ReadPreferReplica: a replica in another zone still
//     spares the primary);
//  4. the primary.
//
// At each step a node known down, a replica the cluster reports failed, and the node
// the call just failed on (ex) are skipped, so a read whose in-zone replica dies
// goes on within its deadline, like every read. Writes go to primaries whatever the
// zones. This is valkey-glide's AZAffinityReplicasAndPrimary followed by its AZAffinity
// fallback (any replica before the primary); rueidis leaves the choice to a user
// function.
//
// A node's zone comes from Config.NodeZone, or else from its server, once per
// connection at the handshake (conn.Options.AskZone: HELLO on Valkey 8.1+, INFO server
// on Valkey 8.0). A node's zone is unknown until the client has connected to it, so
// with ReadLocalZone every node of a new topology that has never been dialed is dialed
// at once, in the background (learnZones): a replica that no call would pick while its
// zone is unknown would otherwise never become known.

// pickLocal is Pick for ReadLocalZone: the node for a read of shard s (see above).
// No allocation: it runs on every read.
func (c *Engine) pickLocal(s *topology.Shard, primary Node, ex *excluded) Node {
	zone := c.cfg.Zone
	n := len(s.Replicas)
	start := randN(max(1, n))
	for i := range n {
		r := s.Replicas[(start+i)%n]
		if nd := c.NodeAt(r.Addr); nd.Zone() == zone && usableReplica(nd, r, ex) {
			return nd
		}
	}
	primaryOK := !ex.has(primary) && primary.State() != StateDown
	if primaryOK && primary.Zone() == zone {
		return primary
	}
	for i := range n {
		r := s.Replicas[(start+i)%n]
		if nd := c.NodeAt(r.Addr); usableReplica(nd, r, ex) {
			return nd
		}
	}
	return primary
}

// usableReplica reports whether replica r (node n) may serve a read now: not the node
// the call just failed on, not known down, not reported failed by the cluster.
func usableReplica(n Node, r *topology.Node, ex *excluded) bool {
	return !ex.has(n) && n.State() != StateDown && !r.Failed()
}

// learnZones dials, in the background, every node of t never dialed whose zone is
// unknown, so that ReadLocalZone learns where each node is (see above). A no-op for
// other ReadFrom choices and when Config.NodeZone gives the zones.
func (c *Engine) learnZones(t *topology.Table) {
	if c.cfg.ReadFrom != ReadLocalZone || c.cfg.NodeZone != nil {
		return
	}
	for _, tn := range t.Nodes() {
		n := c.NodeAt(tn.Addr)
		if n.Zone() != "" || n.State() != StateIdle || !c.GoAdd() {
			continue
		}
		go func() {
			defer c.GoDone()
			w := NewWaiter(c.ctx, time.Now().Add(c.cfg.DialTimeout+c.cfg.CommandTimeout))
			defer w.Release()
			checkOn(n, &w, 0) // a PING: the connection's handshake learns the zone
		}()
	}
}

// NodeZone is the availability zone of the last node tried ("" if none or unknown).
func (t *Trace) NodeZone() string {
	if t.node == nil {
		return ""
	}
	return t.node.Zone()
}
