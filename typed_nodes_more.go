package redline

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"
)

// More per-node methods (typed_nodes.go): a node's identity, role, clock and advice.

// ReplicationRole is a node's ROLE: a primary with its replicas, or a replica with its
// primary.
type ReplicationRole struct {
	// Role is "master" or "slave" ("sentinel" for a Sentinel), as the server names it.
	Role string
	// Offset is the replication offset: a primary's, or what a replica has processed.
	Offset int64
	// Replicas are a primary's connected replicas (address and acknowledged offset).
	Replicas []ReplicaOffset
	// PrimaryAddr is a replica's primary (host:port); State its link to it: "connect",
	// "connecting", "sync" or "connected".
	PrimaryAddr, State string
	// Masters are the primaries a Sentinel monitors, by name.
	Masters []string
}

// ReplicaOffset is a replica a primary's ROLE lists, with the offset it acknowledged.
type ReplicaOffset struct {
	Addr   string // host:port
	Offset int64  // the offset it acknowledged
}

// RoleOn returns the replication role of each node of nodes.
//
// Command: ROLE, on each node of nodes.
func (c *Client) RoleOn(ctx context.Context, nodes NodeSet) (map[string]ReplicationRole, error) {
	return onNodes(c, ctx, nodes, decodeRole, "ROLE")
}

// ClusterInfoOn returns the CLUSTER INFO of each node of nodes as a map of field to
// value (cluster_state, cluster_current_epoch…): how each node sees the cluster.
//
// Command: CLUSTER INFO, on each node of nodes.
func (c *Client) ClusterInfoOn(ctx context.Context, nodes NodeSet) (map[string]map[string]string, error) {
	return onNodes(c, ctx, nodes, decodeInfoMap, "CLUSTER", "INFO")
}

// ClusterMyIDOn returns the node ID of each node of nodes.
//
// Command: CLUSTER MYID, on each node of nodes.
func (c *Client) ClusterMyIDOn(ctx context.Context, nodes NodeSet) (map[string]string, error) {
	return onNodes(c, ctx, nodes, Result.Text, "CLUSTER", "MYID")
}

// TimeOn returns the clock of each node of nodes (to the microsecond).
//
// Command: TIME, on each node of nodes.
func (c *Client) TimeOn(ctx context.Context, nodes NodeSet) (map[string]time.Time, error) {
	return onNodes(c, ctx, nodes, decodeTime, "TIME")
}

// LastSaveOn returns when each node of nodes last saved its data to disk successfully
// (to the second).
//
// Command: LASTSAVE, on each node of nodes.
func (c *Client) LastSaveOn(ctx context.Context, nodes NodeSet) (map[string]time.Time, error) {
	return onNodes(c, ctx, nodes, func(r Result) (time.Time, error) {
		n, err := r.Int64()
		return time.Unix(n, 0), err
	}, "LASTSAVE")
}

// ClientInfoOn returns, for each node of nodes, the connection this client sent the
// command on (its shared connection to that node).
//
// Command: CLIENT INFO, on each node of nodes.
func (c *Client) ClientInfoOn(ctx context.Context, nodes NodeSet) (map[string]ClientInfo, error) {
	return onNodes(c, ctx, nodes, func(r Result) (ClientInfo, error) {
		cs, err := decodeClientList(r)
		if err == nil && len(cs) != 1 {
			err = fmt.Errorf("redline: CLIENT INFO answered %d connections, want 1", len(cs))
		}
		if err != nil {
			return ClientInfo{}, err
		}
		return cs[0], nil
	}, "CLIENT", "INFO")
}

// MemoryDoctorOn returns the memory advice of each node of nodes, as text.
//
// Command: MEMORY DOCTOR, on each node of nodes.
func (c *Client) MemoryDoctorOn(ctx context.Context, nodes NodeSet) (map[string]string, error) {
	return onNodes(c, ctx, nodes, Result.Text, "MEMORY", "DOCTOR")
}

// LatencyDoctorOn returns the latency analysis of each node of nodes, as text.
//
// Command: LATENCY DOCTOR, on each node of nodes.
func (c *Client) LatencyDoctorOn(ctx context.Context, nodes NodeSet) (map[string]string, error) {
	return onNodes(c, ctx, nodes, Result.Text, "LATENCY", "DOCTOR")
}

// LatencyResetOn clears the latency events named (all of them when none is) on each
// node of nodes, and returns how many event series each node cleared.
//
// Command: LATENCY RESET [event ...], on each node of nodes.
func (c *Client) LatencyResetOn(ctx context.Context, nodes NodeSet, events ...string) (map[string]int64, error) {
	return onNodes(c, ctx, nodes, Result.Int64, stringArgs([]string{"LATENCY", "RESET"}, events)...)
}

// decodeRole decodes ROLE: [master, offset, [[ip, port, offset]…]], [slave, ip, port,
// state, offset] or [sentinel, [names…]].
func decodeRole(r Result) (ReplicationRole, error) {
	v, err := r.typed()
	if err != nil {
		return ReplicationRole{}, err
	}
	if !isList(v) || len(v.Elems) == 0 {
		return ReplicationRole{}, typeErr(v, "a ROLE array")
	}
	var out ReplicationRole
	if out.Role, err = valueText(v.Elems[0]); err != nil {
		return ReplicationRole{}, err
	}
	bad := func(err error) (ReplicationRole, error) {
		return ReplicationRole{}, fmt.Errorf("redline: ROLE %s: %w", out.Role, err)
	}
	e := v.Elems[1:]
	switch out.Role {
	case "master":
		if len(e) < 2 || !isList(e[1]) {
			return bad(fmt.Errorf("want an offset and replicas"))
		}
		if out.Offset, err = valueInt(e[0]); err != nil {
			return bad(err)
		}
		for _, rep := range e[1].Elems {
			if !isList(rep) || len(rep.Elems) < 3 {
				return bad(fmt.Errorf("a replica is not [ip, port, offset]"))
			}
			ip, err1 := valueText(rep.Elems[0])
			port, err2 := valueText(rep.Elems[1])
			off, err3 := valueInt(rep.Elems[2])
			if err1 != nil || err2 != nil || err3 != nil {
				return bad(fmt.Errorf("a replica is not [ip, port, offset]"))
			}
			out.Replicas = append(out.Replicas, ReplicaOffset{Addr: net.JoinHostPort(ip, port), Offset: off})
		}
	case "slave", "replica":
		if len(e) < 4 {
			return bad(fmt.Errorf("want the primary's ip, port, the state and an offset"))
		}
		ip, err1 := valueText(e[0])
		port, err2 := valueInt(e[1])
		state, err3 := valueText(e[2])
		off, err4 := valueInt(e[3])
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
			return bad(fmt.Errorf("want the primary's ip, port, the state and an offset"))
		}
		out.PrimaryAddr, out.State, out.Offset = net.JoinHostPort(ip, strconv.FormatInt(port, 10)), state, off
	case "sentinel":
		if len(e) < 1 || !isList(e[0]) {
			return bad(fmt.Errorf("want the monitored primaries' names"))
		}
		for _, n := range e[0].Elems {
			s, err := valueText(n)
			if err != nil {
				return bad(err)
			}
			out.Masters = append(out.Masters, s)
		}
	}
	return out, nil
}
