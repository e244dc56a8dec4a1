package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/internal/topology"
	"github.com/redline-go/redline/resp"
)

// Shape is what the servers are: a cluster, or a standalone server (with replicas
// named by the caller). The root package's Shape has the same values.
type Shape uint8

// The shapes (see redline.Shape).
const (
	ShapeAuto Shape = iota
	ShapeCluster
	ShapeStandalone
)

// String returns the shape's name: auto, cluster, standalone.
func (s Shape) String() string {
	switch s {
	case ShapeAuto:
		return "auto"
	case ShapeCluster:
		return "cluster"
	case ShapeStandalone:
		return "standalone"
	}
	return fmt.Sprintf("Shape(%d)", uint8(s))
}

// A topology source other than the cluster's own (CLUSTER SHARDS / SLOTS) plugs in here:
// New asks it for a table with one shard serving every slot (topology.Single) and marks
// the engine single. A single engine
//   - routes every key to slot 0, so that no slot check (SlotOf, a transaction's,
//     Watch's, DoMulti's written slots) finds two keys apart: a standalone server has
//     no CROSSSLOT; nothing is split by slot;
//   - runs no refresh loop (nothing to poll: TriggerRefresh's signal is never read;
//     with Sentinel, sentinelLoop reads it instead and asks the Sentinels);
//   - refuses a MOVED or ASK reply (a standalone server never sends one) with an error
//     naming the node, instead of following it.

// notClusterError is a seed's answer that it is not a cluster node ("ERR This
// instance has cluster support disabled" to CLUSTER SHARDS / SLOTS).
type notClusterError struct {
	addr string
	err  error
}

func (e *notClusterError) Error() string { return e.err.Error() }
func (e *notClusterError) Unwrap() error { return e.err }

// clusterDisabled reports whether err is a server's answer that cluster support is
// disabled, as CLUSTER SHARDS, CLUSTER SLOTS and READONLY get from a standalone server.
func clusterDisabled(err error) bool {
	var re *resp.Error
	return errors.As(err, &re) && strings.Contains(re.Msg, "cluster support disabled")
}

// asNotCluster returns err as a *notClusterError when it says the seed at addr is not a
// cluster node, else nil.
func asNotCluster(err error) *notClusterError {
	var re *topology.RefusedError
	if errors.As(err, &re) && clusterDisabled(re.Err) {
		return &notClusterError{addr: re.Addr, err: err}
	}
	return nil
}

// connect learns the shape of the servers (unless cfg.Shape says it) and returns the
// first table: the cluster's, asked of the seeds, or a standalone server's.
func (c *Engine) connect(ctx context.Context) (*topology.Table, error) {
	cfg := c.cfg
	if cfg.Sentinel != nil {
		t, err := c.discover(ctx, newClientLimits(ctx))
		c.single = err == nil
		return t, err
	}
	if cfg.Shape == ShapeStandalone {
		if err := c.checkStandalone(ctx, cfg.Addrs); err != nil {
			return nil, err
		}
		return c.standaloneTable(ctx)
	}
	t, err := c.fetchFromAny(ctx, cfg.Addrs)
	var nc *notClusterError
	switch {
	case err == nil:
		if cfg.DB != 0 { // refused whether or not the server has databases in cluster mode
			return nil, fmt.Errorf("redline: Options.DB is %d, but %s is a cluster node and a cluster has only database 0", cfg.DB, t.Source())
		}
		if len(cfg.Replicas) > 0 {
			return nil, fmt.Errorf("redline: Options.Replicas names replicas of a standalone server, but %s is a cluster node: a cluster's replicas come from its topology", t.Source())
		}
		return t, nil
	case errors.As(err, &nc) && cfg.Shape == ShapeCluster:
		return nil, fmt.Errorf("redline: %s is not a cluster node (cluster support disabled) but Options.Shape is cluster: use ShapeAuto or ShapeStandalone for a standalone server: %w", nc.addr, nc.err)
	case errors.As(err, &nc):
		if len(cfg.Addrs) > 1 {
			return nil, fmt.Errorf("redline: %s is a standalone server (cluster support disabled), and Options.Addrs names %d addresses: a standalone client takes the server's address alone (its replicas go in Options.Replicas)", nc.addr, len(cfg.Addrs))
		}
		return c.standaloneTable(ctx)
	case cfg.DB != 0 && strings.Contains(err.Error(), "SELECT is not allowed in cluster mode"):
		return nil, fmt.Errorf("redline: Options.DB is %d, but the server is a cluster node and a cluster has only database 0: %w", cfg.DB, err)
	case cfg.Shape == ShapeAuto && strings.Contains(strings.ToLower(err.Error()), "unknown command"):
		return nil, fmt.Errorf("redline: the server refuses the CLUSTER command (renamed or disabled?): for a standalone server set Options.Shape to ShapeStandalone: %w", err)
	}
	return nil, err
}

// standaloneTable makes the engine single and returns its table: the seed the primary,
// cfg.Replicas its replicas, once their roles are checked (standalone_roles.go).
func (c *Engine) standaloneTable(ctx context.Context) (*topology.Table, error) {
	t, err := topology.Single(c.cfg.Addrs[0], c.cfg.Replicas)
	if err != nil {
		return nil, fmt.Errorf("redline: standalone server: %w", err)
	}
	if err := c.checkRoles(ctx, c.cfg.Addrs[0], c.cfg.Replicas); err != nil {
		return nil, err
	}
	c.single = true
	return t, nil
}

// checkStandalone asks the server (the one address of addrs) whether it is a cluster
// node (INFO cluster): a cluster node taken for a standalone server would answer
// MOVED to most keys. A server that refuses INFO (an ACL) is taken at its word.
func (c *Engine) checkStandalone(ctx context.Context, addrs []string) error {
	if len(addrs) != 1 {
		return fmt.Errorf("redline: Options.Shape is standalone, and Options.Addrs names %d addresses: a standalone client takes the server's address alone (its replicas go in Options.Replicas)", len(addrs))
	}
	v, err := DoOn(ctx, c.NodeAt(addrs[0]), "INFO", "cluster")
	if err != nil {
		return err
	}
	if v.Err == nil && strings.Contains(string(v.Str), "cluster_enabled:1") {
		return fmt.Errorf("redline: %s is a cluster node (INFO cluster: cluster_enabled:1) but Options.Shape is standalone: use ShapeAuto or ShapeCluster", addrs[0])
	}
	return nil
}

// Single reports whether the engine serves a server that is not a cluster (one shard
// serving every slot: see connect).
func (c *Engine) Single() bool { return c.single }

// KeySlot returns the slot a key routes to: its hash slot, or 0 on a single engine
// (every key is on the one server; no two keys are ever in different slots).
func (c *Engine) KeySlot(key any) int {
	if c.single {
		return 0
	}
	return ArgSlot(key)
}

// redirectOnSingle is the error for a redirect (last, a MOVED or ASK reply from prev)
// on a single engine: a standalone server never sends one, so the server is not what
// the client takes it for; following it elsewhere could reach another data set.
func redirectOnSingle(prev Node, last Reply) error {
	addr := ""
	if prev != nil {
		addr = prev.Addr()
	}
	e := last.val.Err
	if e == nil {
		e = &resp.Error{Msg: "redirect", Slot: -1}
	}
	return &rerr.NodeError{Addr: addr, Phase: rerr.PhaseRedirect,
		Err: fmt.Errorf("not followed: a standalone server does not redirect; is it a cluster node? (Options.Shape): %w", e)}
}
