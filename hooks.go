package redline

import (
	"context"
	"errors"
	"time"

	"github.com/redline-go/redline/internal/cluster"
)

// Hooks are callbacks for tracing, metrics and logs, set per client in Options.Hooks
// (there is no global state). Every field is optional; a nil one costs nothing (a
// predictable branch, no allocation: see BenchmarkHooks). Hooks run synchronously —
// the command hooks on the caller's goroutine, the others on redline's background
// goroutines — so they must be quick and must not block; they must not call the
// client's methods that wait on the cluster.
type Hooks struct {
	// BeforeCommand is called as a call starts (Do, a typed method, DoMulti, a
	// transaction's EXEC), with the caller's context. The context it returns is the one
	// AfterCommand gets: a tracer starts its span here and keeps it there. It is not
	// passed to the command (cancellation stays the caller's).
	BeforeCommand func(ctx context.Context, cmd CommandStart) context.Context
	// AfterCommand is called when the call ends, with what happened.
	AfterCommand func(ctx context.Context, cmd CommandEnd)
	// OnDial is called after every connection attempt to a node, shared or dedicated.
	OnDial func(DialInfo)
	// OnNodeState is called at every change of a node's state (idle, connecting, up,
	// down, closed).
	OnNodeState func(NodeStateChange)
	// OnTopology is called when the client starts using a different topology: after a
	// refresh that found a change, and when a MOVED reply moved a slot.
	OnTopology func(TopologyChange)
}

// commandHooks reports whether a command hook is set.
func (h *Hooks) commandHooks() bool { return h.BeforeCommand != nil || h.AfterCommand != nil }

// CommandStart describes a call as it starts.
type CommandStart struct {
	// Name is the command's name as the server's command table spells it, lower
	// case ("get", "cluster|shards" for a subcommand), or "pipeline" for DoMulti and
	// "multi" for a transaction.
	Name string
	// Commands is 1, or the number of commands of a pipeline or transaction.
	Commands int
}

// CommandEnd describes a call as it ends.
type CommandEnd struct {
	CommandStart
	// Node is the address of the node that answered (the last one tried); empty when
	// the call was spread over several nodes (fan-out, split, pipeline) or none was
	// reached.
	Node string
	// Zone is that node's availability zone ("" unknown; see ReadLocalZone).
	Zone string
	// Slot is the keys' hash slot, -1 for a keyless command or one spread over slots.
	Slot int
	// Attempts counts the tries (1 unless redirected or retried); Redirects the MOVED
	// and ASK replies followed, Asks the ASK replies among them (the rest were MOVED).
	Attempts, Redirects, Asks int
	// CacheHit is set for a cached read (DoCache, Cached) served from memory.
	CacheHit bool
	// Elapsed is the call's duration.
	Elapsed time.Duration
	// Err is the call's error: the server's error reply (a *resp.Error) or a failure
	// to get one (a *NodeError, *DeadlineError, …); for a pipeline, the first
	// command's error. nil on success.
	Err error
}

// DialInfo describes one connection attempt.
type DialInfo struct {
	// Addr is the node's address.
	Addr string
	// Phase is where the attempt failed (dial, tls or handshake); empty on success.
	Phase Phase
	// Elapsed is the attempt's duration.
	Elapsed time.Duration
	// Err is the failure (a *NodeError naming the phase and the cause); nil on success.
	Err error
	// Dedicated is set for a dedicated connection (blocking command, transaction,
	// pub/sub) rather than the node's shared one.
	Dedicated bool
	// Zone is the availability zone the server reported at the handshake (on success;
	// "" when it reports none, see ReadLocalZone).
	Zone string
}

// NodeState is a node's connection state, as Stats and OnNodeState report it.
type NodeState string

// The node states. A node starts idle and is dialed on first use.
const (
	NodeIdle       NodeState = "idle"       // not used yet
	NodeConnecting NodeState = "connecting" // an attempt is in flight
	NodeUp         NodeState = "up"         // its shared connection is up
	NodeDown       NodeState = "down"       // the last attempt failed: calls fail at once; retried in the background
	NodeClosed     NodeState = "closed"     // closed (client closed, or node left the topology)
)

// NodeStateChange describes a node's change of state.
type NodeStateChange struct {
	// Addr is the node's address.
	Addr string
	// From and To are the states before and after.
	From, To NodeState
	// Err is the cause, for down (and for a lost connection).
	Err error
	// Attempt counts the consecutive failed attempts, for down; NextRetry is when the
	// next one starts.
	Attempt   int
	NextRetry time.Time
}

// TopologyCause says what made the client change its topology (TopologyChange.Cause).
type TopologyCause string

// The causes of a topology change.
const (
	// CauseRefresh: a refresh found a change (also the first topology).
	CauseRefresh TopologyCause = "refresh"
	// CauseMoved: a MOVED reply moved one slot, or a shard when it names a replica of
	// the slot's shard (a failover).
	CauseMoved TopologyCause = "moved"
	// CauseRole: a replica read from answered ROLE as a primary.
	CauseRole TopologyCause = "role"
)

// TopologyChange describes a change of the topology the client uses.
type TopologyChange struct {
	// Cause is what made the change: CauseRefresh, CauseMoved or CauseRole.
	Cause TopologyCause
	// Epoch is the client's topology epoch after the change (see Stats).
	Epoch uint64
	// Source is the node whose view was installed (for a refresh), the slot's new owner
	// (for a MOVED), or the promoted replica (for a role change).
	Source string
	// Shards and Nodes count the new topology's shards and nodes.
	Shards, Nodes int
	// Added and Removed list the nodes that joined or left (addresses).
	Added, Removed []string
	// SlotsMoved counts the slots whose primary changed (including slots that became
	// served or unserved).
	SlotsMoved int
}

// aroundCommand runs call between the command hooks: BeforeCommand first, its context
// handed to AfterCommand with the end call filled in (call sets what it knows; Elapsed
// is set here). Only for a client with a command hook: call is a closure.
func (c *Client) aroundCommand(ctx context.Context, start CommandStart, call func(end *CommandEnd)) {
	h := &c.opts.Hooks
	hctx := ctx
	if h.BeforeCommand != nil {
		hctx = h.BeforeCommand(ctx, start)
	}
	t0 := time.Now()
	end := CommandEnd{CommandStart: start, Slot: -1, Attempts: 1}
	call(&end)
	end.Elapsed = time.Since(t0)
	if h.AfterCommand != nil {
		h.AfterCommand(hctx, end)
	}
}

func nodeState(s cluster.NodeState) NodeState { return NodeState(s.String()) }

// engineHooks adapts the hooks to the engine's callbacks.
func (h *Hooks) engineHooks(cfg *cluster.Config) {
	if f := h.OnDial; f != nil {
		cfg.OnDial = func(ev cluster.DialEvent) {
			d := DialInfo{Addr: ev.Addr, Elapsed: ev.Elapsed, Err: ev.Err, Dedicated: ev.Dedicated, Zone: ev.Zone}
			var ne *NodeError
			if errors.As(ev.Err, &ne) {
				d.Phase = ne.Phase
			}
			f(d)
		}
	}
	if f := h.OnNodeState; f != nil {
		cfg.OnNodeState = func(ev cluster.NodeEvent) {
			f(NodeStateChange{Addr: ev.Addr, From: nodeState(ev.From), To: nodeState(ev.To),
				Err: ev.Err, Attempt: ev.Attempt, NextRetry: ev.NextRetry})
		}
	}
	if f := h.OnTopology; f != nil {
		cfg.OnTopology = func(ev cluster.TopologyEvent) {
			f(TopologyChange{Cause: TopologyCause(ev.Cause), Epoch: ev.Epoch, Source: ev.Source, Shards: ev.Shards,
				Nodes: ev.Nodes, Added: ev.Added, Removed: ev.Removed, SlotsMoved: ev.SlotsMoved})
		}
	}
}
