package redline

import (
	"slices"
	"strings"
	"time"

	"github.com/redline-go/redline/internal/topology"
)

// Stats is a snapshot of a client: every node it knows and its cluster-wide counters.
// Taking it costs a lock per node; it is meant for dashboards and debugging, not for
// every call.
type Stats struct {
	// Nodes are the nodes the client knows (the topology's and the seeds), by
	// address.
	Nodes []NodeStats
	// TopologyEpoch counts the topology changes the client installed: one per refresh
	// that found a change (the first topology included) and one per slot moved by a
	// MOVED reply.
	TopologyEpoch uint64
	// Shards and CoveredSlots describe the current topology.
	Shards, CoveredSlots int
	// LastRefresh is when the last topology refresh started (zero: none since
	// NewClient); Refreshes counts them.
	LastRefresh time.Time
	Refreshes   uint64
	// Moved and Ask count the MOVED and ASK replies followed.
	Moved, Ask uint64
	// Cache is the client-side cache's figures (zero when Options.Cache is off).
	Cache CacheStats
}

// NodeRole is a node's role in the topology (NodeStats.Role).
type NodeRole string

// The roles of a node.
const (
	RolePrimary NodeRole = "primary" // serves its shard's slots
	RoleReplica NodeRole = "replica" // copies a primary; serves reads when allowed
)

// NodeStats is a snapshot of one node.
type NodeStats struct {
	// Addr is the node's address.
	Addr string
	// Role is RolePrimary or RoleReplica per the current topology, empty for a seed
	// that is not in it.
	Role NodeRole
	// State is the node's connection state.
	State NodeState
	// InFlight counts the requests on its shared connection (queued or awaiting a
	// reply); Conns its open connections (shared and idle dedicated).
	InFlight, Conns int
	// Dials counts connection attempts, DialFailures the failed ones.
	Dials, DialFailures uint64
	// LastError is the node's last failure (a *NodeError), nil if none; LastErrorAt
	// when it happened.
	LastError   error
	LastErrorAt time.Time
	// DownSince and NextRetry are set while the node is down.
	DownSince, NextRetry time.Time
	// Latency is the moving average round trip on its shared connection (0: none yet).
	Latency time.Duration
	// Zone is the node's availability zone: Options.NodeZone's answer, or what the
	// server reported when last connected ("" unknown; see ReadLocalZone).
	Zone string
}

// Stats returns a snapshot of the client.
func (c *Client) Stats() Stats {
	t := c.e.Topology()
	ec := c.e.Counters()
	s := Stats{
		TopologyEpoch: ec.Epoch,
		Refreshes:     ec.Refreshes,
		Moved:         ec.Moved,
		Ask:           ec.Ask,
		LastRefresh:   ec.LastRefresh,
		Cache:         c.cacheStats(),
	}
	if t != nil {
		s.Shards, s.CoveredSlots = len(t.Shards()), t.Covered()
	}
	for _, n := range c.e.Nodes() {
		addr, ns := n.Addr(), n.Stats()
		st := NodeStats{Addr: addr, State: nodeState(ns.State), InFlight: ns.InFlight, Conns: ns.Conns,
			Dials: ns.Dials, DialFailures: ns.DialFailures, LastError: ns.LastError, LastErrorAt: ns.LastErrorAt,
			DownSince: ns.DownSince, NextRetry: ns.NextRetry, Latency: ns.Latency, Zone: ns.Zone}
		if t != nil {
			if tn := t.NodeByAddr(addr); tn != nil {
				st.Role = RolePrimary
				if tn.Role == topology.RoleReplica {
					st.Role = RoleReplica
				}
			}
		}
		s.Nodes = append(s.Nodes, st)
	}
	slices.SortFunc(s.Nodes, func(a, b NodeStats) int { return strings.Compare(a.Addr, b.Addr) })
	return s
}
