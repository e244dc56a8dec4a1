package redline

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Per-node operator methods (see typed_nodes.go for the rules they share): the commands
// whose answer or effect belongs to one node — its connections, its view of the
// cluster, its ACL users and log, its persistence — run on the nodes of a NodeSet.
//
// ACL users are not shared between the nodes of a cluster: each node keeps its own, so
// a user is created, changed or deleted on EveryNode (ACLSetUserOn, ACLDelUserOn) and
// saved to each node's ACL file with ACLSaveOn.

// ClientIDOn returns, for each node of nodes, the ID of this client's shared connection
// to it.
//
// Command: CLIENT ID, on each node of nodes.
func (c *Client) ClientIDOn(ctx context.Context, nodes NodeSet) (map[string]int64, error) {
	return onNodes(c, ctx, nodes, Result.Int64, "CLIENT", "ID")
}

// ClientKillOn closes the connections that match filter on each node of nodes and
// returns how many each node closed. An empty filter fails, unsent.
//
// Command: CLIENT KILL [ID id] [ADDR addr] [LADDR laddr] [USER user] [TYPE type]
// [MAXAGE seconds] [SKIPME no], on each node of nodes.
func (c *Client) ClientKillOn(ctx context.Context, nodes NodeSet, filter ClientKillFilter) (map[string]int64, error) {
	args, err := filter.args()
	if err != nil {
		return nil, err
	}
	return onNodes(c, ctx, nodes, Result.Int64, args...)
}

// ClientPauseOn suspends the commands of the clients of each node of nodes for d (to
// the millisecond): every command, or, with writesOnly, those that may write (CLIENT
// PAUSE … WRITE: reads go on). ClientUnpauseOn ends it early.
//
// Command: CLIENT PAUSE timeout [WRITE|ALL], on each node of nodes.
func (c *Client) ClientPauseOn(ctx context.Context, nodes NodeSet, d time.Duration, writesOnly bool) error {
	mode := "ALL"
	if writesOnly {
		mode = "WRITE"
	}
	return okOnNodes(c, ctx, nodes, "CLIENT", "PAUSE", msArg(d), mode)
}

// ClientUnpauseOn ends a pause of ClientPauseOn on each node of nodes.
//
// Command: CLIENT UNPAUSE, on each node of nodes.
func (c *Client) ClientUnpauseOn(ctx context.Context, nodes NodeSet) error {
	return okOnNodes(c, ctx, nodes, "CLIENT", "UNPAUSE")
}

// ClusterNodesOn returns the CLUSTER NODES of each node of nodes: every node of the
// cluster as that node sees it (its own line has the flag "myself").
//
// Command: CLUSTER NODES, on each node of nodes.
func (c *Client) ClusterNodesOn(ctx context.Context, nodes NodeSet) (map[string][]ClusterNodeInfo, error) {
	return onNodes(c, ctx, nodes, decodeClusterNodes, "CLUSTER", "NODES")
}

// ClusterSlotsOn returns the CLUSTER SLOTS of each node of nodes: the slot ranges and
// the nodes that serve them as that node sees them (during a failover or a slot's
// migration, nodes may disagree).
//
// Command: CLUSTER SLOTS, on each node of nodes.
func (c *Client) ClusterSlotsOn(ctx context.Context, nodes NodeSet) (map[string][]ClusterSlotRange, error) {
	return onNodes(c, ctx, nodes, decodeClusterSlots, "CLUSTER", "SLOTS")
}

// ClusterReplicasOn returns the replicas of the primary nodeID as each node of nodes
// sees them.
//
// Command: CLUSTER REPLICAS node-id, on each node of nodes.
func (c *Client) ClusterReplicasOn(ctx context.Context, nodes NodeSet, nodeID string) (map[string][]ClusterNodeInfo, error) {
	return onNodes(c, ctx, nodes, decodeClusterNodes, "CLUSTER", "REPLICAS", nodeID)
}

// ClusterLinksOn returns the cluster bus links of each node of nodes (Redis 7.0+).
//
// Command: CLUSTER LINKS, on each node of nodes.
func (c *Client) ClusterLinksOn(ctx context.Context, nodes NodeSet) (map[string][]ClusterLink, error) {
	return onNodes(c, ctx, nodes, decodeClusterLinks, "CLUSTER", "LINKS")
}

// ClusterCountFailureReportsOn returns, for each node of nodes, how many other nodes
// currently report the node nodeID as failing to it.
//
// Command: CLUSTER COUNT-FAILURE-REPORTS node-id, on each node of nodes.
func (c *Client) ClusterCountFailureReportsOn(ctx context.Context, nodes NodeSet, nodeID string) (map[string]int64, error) {
	return onNodes(c, ctx, nodes, Result.Int64, "CLUSTER", "COUNT-FAILURE-REPORTS", nodeID)
}

// slotOwner returns the address of the primary that serves slot, as the client sees
// the topology now.
func (c *Client) slotOwner(slot int) (string, error) {
	if slot < 0 || slot > 16383 {
		return "", fmt.Errorf("redline: slot %d is not in 0..16383", slot)
	}
	n, err := c.e.Pick(slot, false)
	if err != nil {
		return "", err
	}
	return n.Addr(), nil
}

// ClusterCountKeysInSlot returns the number of keys in slot, asked of the primary that
// serves it (another node would answer 0). The call is bounded by its deadline like
// DoOn's and is not redirected: during a slot's migration the count is the source's.
//
// Command: CLUSTER COUNTKEYSINSLOT slot, on the slot's primary.
func (c *Client) ClusterCountKeysInSlot(ctx context.Context, slot int) (int64, error) {
	addr, err := c.slotOwner(slot)
	if err != nil {
		return 0, err
	}
	return c.DoOn(ctx, addr, "CLUSTER", "COUNTKEYSINSLOT", slot).Int64()
}

// ClusterGetKeysInSlot returns at most count keys of slot, asked of the primary that
// serves it, like ClusterCountKeysInSlot.
//
// Command: CLUSTER GETKEYSINSLOT slot count, on the slot's primary.
func (c *Client) ClusterGetKeysInSlot(ctx context.Context, slot int, count int64) ([]string, error) {
	addr, err := c.slotOwner(slot)
	if err != nil {
		return nil, err
	}
	return c.DoOn(ctx, addr, "CLUSTER", "GETKEYSINSLOT", slot, count).Strings()
}

// ACLListOn returns the ACL users of each node of nodes, one rule line each ("user
// default on nopass ~* &* +@all").
//
// Command: ACL LIST, on each node of nodes.
func (c *Client) ACLListOn(ctx context.Context, nodes NodeSet) (map[string][]string, error) {
	return onNodes(c, ctx, nodes, Result.Strings, "ACL", "LIST")
}

// ACLUsersOn returns the names of the ACL users of each node of nodes.
//
// Command: ACL USERS, on each node of nodes.
func (c *Client) ACLUsersOn(ctx context.Context, nodes NodeSet) (map[string][]string, error) {
	return onNodes(c, ctx, nodes, Result.Strings, "ACL", "USERS")
}

// ACLGetUserOn returns the rules of the user username on each node of nodes. A node
// that has no such user fails with Nil (NodeErrors says which).
//
// Command: ACL GETUSER username, on each node of nodes.
func (c *Client) ACLGetUserOn(ctx context.Context, nodes NodeSet, username string) (map[string]ACLUser, error) {
	return onNodes(c, ctx, nodes, decodeACLUser, "ACL", "GETUSER", username)
}

// ACLSetUserOn creates the user username on each node of nodes, or changes its rules,
// applying rules in order ("on", ">password", "~app:*", "+@read", "reset"…). Each node
// keeps its own users: run it on EveryNode so that failovers and every node's clients
// see the same user. NodeErrors says which nodes failed; the others applied the rules.
//
// Command: ACL SETUSER username [rule ...], on each node of nodes.
func (c *Client) ACLSetUserOn(ctx context.Context, nodes NodeSet, username string, rules ...string) error {
	return okOnNodes(c, ctx, nodes, stringArgs([]string{"ACL", "SETUSER", username}, rules)...)
}

// ACLDelUserOn deletes the users named on each node of nodes (closing their
// connections) and returns how many users each node deleted.
//
// Command: ACL DELUSER username [username ...], on each node of nodes.
func (c *Client) ACLDelUserOn(ctx context.Context, nodes NodeSet, usernames ...string) (map[string]int64, error) {
	if len(usernames) == 0 {
		return nil, errors.New("redline: ACLDelUserOn: no user named")
	}
	return onNodes(c, ctx, nodes, Result.Int64, stringArgs([]string{"ACL", "DELUSER"}, usernames)...)
}

// ACLLogOn returns the latest count entries of the ACL log of each node of nodes,
// newest first: the commands, keys, channels and logins that ACL denied there.
//
// Command: ACL LOG count, on each node of nodes.
func (c *Client) ACLLogOn(ctx context.Context, nodes NodeSet, count int64) (map[string][]ACLLogEntry, error) {
	return onNodes(c, ctx, nodes, decodeACLLog, "ACL", "LOG", count)
}

// ACLLogResetOn empties the ACL log of each node of nodes.
//
// Command: ACL LOG RESET, on each node of nodes.
func (c *Client) ACLLogResetOn(ctx context.Context, nodes NodeSet) error {
	return okOnNodes(c, ctx, nodes, "ACL", "LOG", "RESET")
}

// ACLSaveOn writes the ACL users of each node of nodes to its ACL file (a node
// configured without aclfile fails).
//
// Command: ACL SAVE, on each node of nodes.
func (c *Client) ACLSaveOn(ctx context.Context, nodes NodeSet) error {
	return okOnNodes(c, ctx, nodes, "ACL", "SAVE")
}

// ACLLoadOn replaces the ACL users of each node of nodes by those of its ACL file (a
// node configured without aclfile fails).
//
// Command: ACL LOAD, on each node of nodes.
func (c *Client) ACLLoadOn(ctx context.Context, nodes NodeSet) error {
	return okOnNodes(c, ctx, nodes, "ACL", "LOAD")
}

// ConfigRewriteOn writes the running configuration of each node of nodes to its
// configuration file.
//
// Command: CONFIG REWRITE, on each node of nodes.
func (c *Client) ConfigRewriteOn(ctx context.Context, nodes NodeSet) error {
	return okOnNodes(c, ctx, nodes, "CONFIG", "REWRITE")
}

// BGSaveOn starts a snapshot (RDB) in the background on each node of nodes and returns
// each node's answer ("Background saving started"). LastSaveOn says when it ended.
//
// Command: BGSAVE, on each node of nodes.
func (c *Client) BGSaveOn(ctx context.Context, nodes NodeSet) (map[string]string, error) {
	return onNodes(c, ctx, nodes, Result.Text, "BGSAVE")
}

// SaveOn writes a snapshot (RDB) on each node of nodes, blocking each node's clients
// until it is written; BGSaveOn does it in the background.
//
// Command: SAVE, on each node of nodes.
func (c *Client) SaveOn(ctx context.Context, nodes NodeSet) error {
	return okOnNodes(c, ctx, nodes, "SAVE")
}

// BGRewriteAOFOn starts a rewrite of the append-only file in the background on each
// node of nodes and returns each node's answer.
//
// Command: BGREWRITEAOF, on each node of nodes.
func (c *Client) BGRewriteAOFOn(ctx context.Context, nodes NodeSet) (map[string]string, error) {
	return onNodes(c, ctx, nodes, Result.Text, "BGREWRITEAOF")
}

// ModuleListOn returns the modules loaded on each node of nodes.
//
// Command: MODULE LIST, on each node of nodes.
func (c *Client) ModuleListOn(ctx context.Context, nodes NodeSet) (map[string][]ModuleInfo, error) {
	return onNodes(c, ctx, nodes, decodeModuleList, "MODULE", "LIST")
}

// MemoryMallocStatsOn returns the allocator's statistics of each node of nodes, as text.
//
// Command: MEMORY MALLOC-STATS, on each node of nodes.
func (c *Client) MemoryMallocStatsOn(ctx context.Context, nodes NodeSet) (map[string]string, error) {
	return onNodes(c, ctx, nodes, Result.Text, "MEMORY", "MALLOC-STATS")
}
