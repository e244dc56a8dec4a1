package redline

import (
	"context"
	"errors"
	"maps"
	"slices"
)

// Typed per-node commands: what an operator script runs on one node, on every primary
// or on every node (INFO, CONFIG GET/SET, SLOWLOG, MEMORY STATS, CLIENT LIST, LATENCY
// LATEST, DBSIZE), each node's reply decoded. Each method is DoOn, DoOnEveryPrimary or
// DoOnEveryNode (nodes.go) per its NodeSet, with the same rules: every node's call is
// bounded by the call's deadline (the earlier of ctx's and Options.CommandTimeout), runs
// at once with the others', is never redirected, and fails alone. A method returns the
// decoded replies of the nodes that answered, by address, and an error when any node
// failed (or its reply did not decode): the error names each failed node, NodeErrors
// returns them by address, and the map still holds the others' replies.

// NodeSet chooses the nodes a per-node method runs on: Addrs names them; EveryPrimary
// and EveryNode are the primaries that serve slots, or every node, as the client sees
// the topology when the call starts.
type NodeSet struct {
	addrs []string
	every nodeScope
}

type nodeScope uint8

const (
	namedNodes nodeScope = iota
	everyPrimary
	everyNode
)

// The node sets of the cluster's topology.
var (
	// EveryPrimary is every primary that serves slots (the nodes DoOnEveryPrimary runs on).
	EveryPrimary = NodeSet{every: everyPrimary}
	// EveryNode is every node: the primaries and their replicas (as DoOnEveryNode).
	EveryNode = NodeSet{every: everyNode}
)

// Addrs is the set of the nodes at addrs (host:port, as PrimaryAddrs, NodeAddrs or
// Stats name them). An address the topology does not list fails without being dialed;
// an address given twice runs once.
func Addrs(addrs ...string) NodeSet {
	s := slices.Clone(addrs)
	slices.Sort(s)
	return NodeSet{addrs: slices.Compact(s)}
}

// errNoNodes is the error of a per-node method given no node.
var errNoNodes = errors.New("redline: no node to run the command on (an empty NodeSet)")

// addrsOf returns the addresses of the nodes of s, now.
func (c *Client) addrsOf(s NodeSet) []string {
	switch s.every {
	case everyPrimary:
		return c.e.PrimaryAddrs()
	case everyNode:
		return c.e.NodeAddrs()
	}
	return s.addrs
}

// onNodes runs args on the nodes of s and decodes each node's reply: the decoded
// replies by address, and NodeResults.Err's error (a reply that did not decode counts
// as its node's error).
func onNodes[T any](c *Client, ctx context.Context, s NodeSet, decode func(Result) (T, error), args ...any) (map[string]T, error) {
	addrs := c.addrsOf(s)
	if len(addrs) == 0 {
		return nil, errNoNodes
	}
	rs := c.doOnNodes(ctx, addrs, args)
	out := make(map[string]T, len(rs))
	for addr, r := range rs {
		if r.Err() != nil {
			continue
		}
		v, err := decode(r)
		if err != nil {
			rs[addr] = Result{err: err}
			continue
		}
		out[addr] = v
	}
	return out, rs.Err()
}

// okOnNodes runs args on the nodes of s, whose replies are OK, and returns
// NodeResults.Err's error.
func okOnNodes(c *Client, ctx context.Context, s NodeSet, args ...any) error {
	_, err := onNodes(c, ctx, s, func(r Result) (struct{}, error) { return struct{}{}, decodeOK(r) }, args...)
	return err
}

// stringArgs returns the command words then the strings, as arguments.
func stringArgs(words []string, ss []string) []any {
	args := make([]any, 0, len(words)+len(ss))
	for _, w := range words {
		args = append(args, w)
	}
	for _, s := range ss {
		args = append(args, s)
	}
	return args
}

// InfoOn returns the INFO of each node of nodes as a map of field to value
// (redis_version, role, used_memory…): the default sections, or those named.
//
// Command: INFO [section ...], on each node of nodes.
func (c *Client) InfoOn(ctx context.Context, nodes NodeSet, sections ...string) (map[string]map[string]string, error) {
	return onNodes(c, ctx, nodes, decodeInfoMap, stringArgs([]string{"INFO"}, sections)...)
}

// ConfigGetOn returns the configuration parameters of each node of nodes that match
// params (glob patterns: "maxmemory*"), as a map of name to value.
//
// Command: CONFIG GET parameter [parameter ...], on each node of nodes.
func (c *Client) ConfigGetOn(ctx context.Context, nodes NodeSet, params ...string) (map[string]map[string]string, error) {
	return onNodes(c, ctx, nodes, Result.StringMap, stringArgs([]string{"CONFIG", "GET"}, params)...)
}

// ConfigSetOn sets configuration parameters on each node of nodes, name to value (all
// of them or none, on each node). NodeErrors says which nodes failed; on the others
// the parameters are set.
//
// Command: CONFIG SET parameter value [parameter value ...], on each node of nodes.
func (c *Client) ConfigSetOn(ctx context.Context, nodes NodeSet, params map[string]string) error {
	if len(params) == 0 {
		return errors.New("redline: ConfigSetOn: no parameter to set")
	}
	args := []any{"CONFIG", "SET"}
	for _, k := range slices.Sorted(maps.Keys(params)) {
		args = append(args, k, params[k])
	}
	return okOnNodes(c, ctx, nodes, args...)
}

// ConfigResetStatOn resets the statistics INFO reports (commandstats, errorstats,
// keyspace hits…) on each node of nodes.
//
// Command: CONFIG RESETSTAT, on each node of nodes.
func (c *Client) ConfigResetStatOn(ctx context.Context, nodes NodeSet) error {
	return okOnNodes(c, ctx, nodes, "CONFIG", "RESETSTAT")
}

// DBSizeOn returns the number of keys of each node of nodes (a replica's are its
// primary's, as far as it has replicated them). DBSize sums the primaries'.
//
// Command: DBSIZE, on each node of nodes.
func (c *Client) DBSizeOn(ctx context.Context, nodes NodeSet) (map[string]int64, error) {
	return onNodes(c, ctx, nodes, Result.Int64, "DBSIZE")
}

// SlowLogGetOn returns the latest count entries of the slow log of each node of nodes,
// newest first (count -1: all of them).
//
// Command: SLOWLOG GET count, on each node of nodes.
func (c *Client) SlowLogGetOn(ctx context.Context, nodes NodeSet, count int64) (map[string][]SlowLogEntry, error) {
	return onNodes(c, ctx, nodes, decodeSlowLog, "SLOWLOG", "GET", count)
}

// SlowLogLenOn returns the number of entries in the slow log of each node of nodes.
//
// Command: SLOWLOG LEN, on each node of nodes.
func (c *Client) SlowLogLenOn(ctx context.Context, nodes NodeSet) (map[string]int64, error) {
	return onNodes(c, ctx, nodes, Result.Int64, "SLOWLOG", "LEN")
}

// SlowLogResetOn empties the slow log of each node of nodes.
//
// Command: SLOWLOG RESET, on each node of nodes.
func (c *Client) SlowLogResetOn(ctx context.Context, nodes NodeSet) error {
	return okOnNodes(c, ctx, nodes, "SLOWLOG", "RESET")
}

// MemoryStatsOn returns the MEMORY STATS of each node of nodes as a map of field to
// value (peak.allocated, dataset.bytes…); a nested field's name joins its path with
// dots (db.0.overhead.hashtable.main).
//
// Command: MEMORY STATS, on each node of nodes.
func (c *Client) MemoryStatsOn(ctx context.Context, nodes NodeSet) (map[string]map[string]string, error) {
	return onNodes(c, ctx, nodes, decodeMemoryStats, "MEMORY", "STATS")
}

// ClientListOn returns the connections of each node of nodes (this client's among
// them), one ClientInfo each.
//
// Command: CLIENT LIST, on each node of nodes.
func (c *Client) ClientListOn(ctx context.Context, nodes NodeSet) (map[string][]ClientInfo, error) {
	return onNodes(c, ctx, nodes, decodeClientList, "CLIENT", "LIST")
}

// LatencyLatestOn returns the latest latency spike of each event of each node of nodes
// (events are recorded once latency-monitor-threshold is set).
//
// Command: LATENCY LATEST, on each node of nodes.
func (c *Client) LatencyLatestOn(ctx context.Context, nodes NodeSet) (map[string][]LatencyEvent, error) {
	return onNodes(c, ctx, nodes, decodeLatencyLatest, "LATENCY", "LATEST")
}
