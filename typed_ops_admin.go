package redline

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
)

// Per-node methods an operator uses to change a cluster's shape (CLUSTER SETSLOT,
// ADDSLOTS, MEET, FORGET, FAILOVER…) and a node's state (CLIENT UNBLOCK, MODULE LOAD),
// (see typed_nodes.go for the rules they share). They do what
// redis-cli --cluster does step by step; the client learns the resulting topology by
// its refreshes (a MOVED reply triggers one at once).

// SlotState is the state CLUSTER SETSLOT gives a slot.
type SlotState string

// The states of ClusterSetSlotOn.
const (
	SlotImporting SlotState = "IMPORTING" // the slot comes from the node nodeID
	SlotMigrating SlotState = "MIGRATING" // the slot goes to the node nodeID
	SlotNode      SlotState = "NODE"      // the slot belongs to the node nodeID
	SlotStable    SlotState = "STABLE"    // clears IMPORTING or MIGRATING (nodeID unused)
)

// ClusterFailoverMode is how CLUSTER FAILOVER runs.
type ClusterFailoverMode string

// The modes of ClusterFailoverOn.
const (
	// FailoverDefault is a manual failover: the replica catches up with its primary,
	// which stops its clients meanwhile, then takes over.
	FailoverDefault ClusterFailoverMode = ""
	// FailoverForce does not wait for the primary (one that is down).
	FailoverForce ClusterFailoverMode = "FORCE"
	// FailoverTakeover does not wait for the other primaries' agreement either.
	FailoverTakeover ClusterFailoverMode = "TAKEOVER"
)

// ClusterSetSlotOn sets the state of slot on each node of nodes: importing from or
// migrating to the node nodeID, owned by nodeID, or stable.
//
// Command: CLUSTER SETSLOT slot IMPORTING|MIGRATING|NODE node-id | STABLE, on each node
// of nodes.
func (c *Client) ClusterSetSlotOn(ctx context.Context, nodes NodeSet, slot int, state SlotState, nodeID string) error {
	if _, err := slotNumber(strconv.Itoa(slot)); err != nil {
		return err
	}
	switch state {
	case SlotStable:
		return okOnNodes(c, ctx, nodes, "CLUSTER", "SETSLOT", slot, "STABLE")
	case SlotImporting, SlotMigrating, SlotNode:
		if nodeID == "" {
			return fmt.Errorf("redline: ClusterSetSlotOn %s: no node ID", state)
		}
		return okOnNodes(c, ctx, nodes, "CLUSTER", "SETSLOT", slot, string(state), nodeID)
	}
	return fmt.Errorf("redline: ClusterSetSlotOn: unknown slot state %q", state)
}

// slotArgs returns the command words then the slots, checked.
func slotArgs(words []string, slots []int) ([]any, error) {
	if len(slots) == 0 {
		return nil, errors.New("redline: no slot given")
	}
	args := stringArgs(words, nil)
	for _, s := range slots {
		if _, err := slotNumber(strconv.Itoa(s)); err != nil {
			return nil, err
		}
		args = append(args, s)
	}
	return args, nil
}

// rangeArgs returns the command words then each range's start and end, checked.
func rangeArgs(words []string, ranges []SlotRange) ([]any, error) {
	if len(ranges) == 0 {
		return nil, errors.New("redline: no slot range given")
	}
	args := stringArgs(words, nil)
	for _, r := range ranges {
		_, err1 := slotNumber(strconv.Itoa(r.Start))
		_, err2 := slotNumber(strconv.Itoa(r.End))
		if err1 != nil || err2 != nil || r.End < r.Start {
			return nil, fmt.Errorf("redline: %d-%d is not a slot range", r.Start, r.End)
		}
		args = append(args, r.Start, r.End)
	}
	return args, nil
}

// ClusterAddSlotsOn assigns slots to each node of nodes (slots no node serves).
//
// Command: CLUSTER ADDSLOTS slot [slot ...], on each node of nodes.
func (c *Client) ClusterAddSlotsOn(ctx context.Context, nodes NodeSet, slots ...int) error {
	args, err := slotArgs([]string{"CLUSTER", "ADDSLOTS"}, slots)
	if err != nil {
		return err
	}
	return okOnNodes(c, ctx, nodes, args...)
}

// ClusterDelSlotsOn makes each node of nodes forget it serves slots (or knows who does).
//
// Command: CLUSTER DELSLOTS slot [slot ...], on each node of nodes.
func (c *Client) ClusterDelSlotsOn(ctx context.Context, nodes NodeSet, slots ...int) error {
	args, err := slotArgs([]string{"CLUSTER", "DELSLOTS"}, slots)
	if err != nil {
		return err
	}
	return okOnNodes(c, ctx, nodes, args...)
}

// ClusterAddSlotsRangeOn is ClusterAddSlotsOn for ranges of slots (Redis 7.0+).
//
// Command: CLUSTER ADDSLOTSRANGE start end [start end ...], on each node of nodes.
func (c *Client) ClusterAddSlotsRangeOn(ctx context.Context, nodes NodeSet, ranges ...SlotRange) error {
	args, err := rangeArgs([]string{"CLUSTER", "ADDSLOTSRANGE"}, ranges)
	if err != nil {
		return err
	}
	return okOnNodes(c, ctx, nodes, args...)
}

// ClusterDelSlotsRangeOn is ClusterDelSlotsOn for ranges of slots (Redis 7.0+).
//
// Command: CLUSTER DELSLOTSRANGE start end [start end ...], on each node of nodes.
func (c *Client) ClusterDelSlotsRangeOn(ctx context.Context, nodes NodeSet, ranges ...SlotRange) error {
	args, err := rangeArgs([]string{"CLUSTER", "DELSLOTSRANGE"}, ranges)
	if err != nil {
		return err
	}
	return okOnNodes(c, ctx, nodes, args...)
}

// ClusterMeetOn makes each node of nodes join the node at host:port (its client
// port) into its cluster.
//
// Command: CLUSTER MEET ip port, on each node of nodes.
func (c *Client) ClusterMeetOn(ctx context.Context, nodes NodeSet, host string, port int) error {
	return okOnNodes(c, ctx, nodes, "CLUSTER", "MEET", host, port)
}

// ClusterForgetOn makes each node of nodes forget the node nodeID for a minute: run it
// on every node but nodeID to remove a node from the cluster.
//
// Command: CLUSTER FORGET node-id, on each node of nodes.
func (c *Client) ClusterForgetOn(ctx context.Context, nodes NodeSet, nodeID string) error {
	return okOnNodes(c, ctx, nodes, "CLUSTER", "FORGET", nodeID)
}

// ClusterReplicateOn makes each node of nodes a replica of the primary nodeID (a node
// that serves slots or holds keys refuses).
//
// Command: CLUSTER REPLICATE node-id, on each node of nodes.
func (c *Client) ClusterReplicateOn(ctx context.Context, nodes NodeSet, nodeID string) error {
	return okOnNodes(c, ctx, nodes, "CLUSTER", "REPLICATE", nodeID)
}

// ClusterFailoverOn makes each node of nodes, a replica, take over from its primary,
// per mode. It returns when the failover has started; ClusterNodesOn or RoleOn show
// when it is done.
//
// Command: CLUSTER FAILOVER [FORCE|TAKEOVER], on each node of nodes.
func (c *Client) ClusterFailoverOn(ctx context.Context, nodes NodeSet, mode ClusterFailoverMode) error {
	switch mode {
	case FailoverDefault:
		return okOnNodes(c, ctx, nodes, "CLUSTER", "FAILOVER")
	case FailoverForce, FailoverTakeover:
		return okOnNodes(c, ctx, nodes, "CLUSTER", "FAILOVER", string(mode))
	}
	return fmt.Errorf("redline: ClusterFailoverOn: unknown mode %q", mode)
}

// ClusterFlushSlotsOn makes each node of nodes, whose database must be empty, forget
// every slot it serves.
//
// Command: CLUSTER FLUSHSLOTS, on each node of nodes.
func (c *Client) ClusterFlushSlotsOn(ctx context.Context, nodes NodeSet) error {
	return okOnNodes(c, ctx, nodes, "CLUSTER", "FLUSHSLOTS")
}

// ClusterResetOn resets each node of nodes to a cluster of its own (a primary holding
// keys refuses): it forgets the other nodes and its slots, and a replica becomes an
// empty primary. hard also gives it a new node ID and sets its epochs to 0.
//
// Command: CLUSTER RESET [HARD|SOFT], on each node of nodes.
func (c *Client) ClusterResetOn(ctx context.Context, nodes NodeSet, hard bool) error {
	how := "SOFT"
	if hard {
		how = "HARD"
	}
	return okOnNodes(c, ctx, nodes, "CLUSTER", "RESET", how)
}

// ClusterSaveConfigOn makes each node of nodes write its cluster configuration
// (nodes.conf) to disk.
//
// Command: CLUSTER SAVECONFIG, on each node of nodes.
func (c *Client) ClusterSaveConfigOn(ctx context.Context, nodes NodeSet) error {
	return okOnNodes(c, ctx, nodes, "CLUSTER", "SAVECONFIG")
}

// ClusterBumpEpochOn gives each node of nodes a new configuration epoch when its own is
// not already the greatest, and returns each node's answer ("BUMPED 7" or "STILL 6").
//
// Command: CLUSTER BUMPEPOCH, on each node of nodes.
func (c *Client) ClusterBumpEpochOn(ctx context.Context, nodes NodeSet) (map[string]string, error) {
	return onNodes(c, ctx, nodes, Result.Text, "CLUSTER", "BUMPEPOCH")
}

// ClusterSetConfigEpochOn sets the configuration epoch of each node of nodes, a new
// node that knows no other yet (others refuse).
//
// Command: CLUSTER SET-CONFIG-EPOCH config-epoch, on each node of nodes.
func (c *Client) ClusterSetConfigEpochOn(ctx context.Context, nodes NodeSet, epoch int64) error {
	return okOnNodes(c, ctx, nodes, "CLUSTER", "SET-CONFIG-EPOCH", epoch)
}

// ClientUnblockOn ends the blocking command (BLPOP, XREAD BLOCK…) of the connection id
// on each node of nodes, as if it timed out, or, with withError, failing it with an
// UNBLOCKED error. It returns, per node, whether such a connection was blocked there.
//
// Command: CLIENT UNBLOCK client-id [TIMEOUT|ERROR], on each node of nodes.
func (c *Client) ClientUnblockOn(ctx context.Context, nodes NodeSet, id int64, withError bool) (map[string]bool, error) {
	how := "TIMEOUT"
	if withError {
		how = "ERROR"
	}
	return onNodes(c, ctx, nodes, Result.Bool, "CLIENT", "UNBLOCK", id, how)
}

// ModuleLoadOn loads the module at path, with args, on each node of nodes.
//
// Command: MODULE LOAD path [arg ...], on each node of nodes.
func (c *Client) ModuleLoadOn(ctx context.Context, nodes NodeSet, path string, args ...string) error {
	return okOnNodes(c, ctx, nodes, stringArgs([]string{"MODULE", "LOAD", path}, args)...)
}

// ModuleLoadExOn loads the module at path on each node of nodes with the module
// configuration parameters configs (name to value) and args (Redis 7.0+).
//
// Command: MODULE LOADEX path [CONFIG name value ...] [ARGS arg ...], on each node of
// nodes.
func (c *Client) ModuleLoadExOn(ctx context.Context, nodes NodeSet, path string, configs map[string]string, args ...string) error {
	cmd := []any{"MODULE", "LOADEX", path}
	for _, k := range slices.Sorted(maps.Keys(configs)) {
		cmd = append(cmd, "CONFIG", k, configs[k])
	}
	if len(args) > 0 {
		cmd = append(cmd, stringArgs([]string{"ARGS"}, args)...)
	}
	return okOnNodes(c, ctx, nodes, cmd...)
}

// ModuleUnloadOn unloads the module name on each node of nodes.
//
// Command: MODULE UNLOAD name, on each node of nodes.
func (c *Client) ModuleUnloadOn(ctx context.Context, nodes NodeSet, name string) error {
	return okOnNodes(c, ctx, nodes, "MODULE", "UNLOAD", name)
}
