package redline

import (
	"errors"
	"fmt"
	"net"

	"github.com/redline-go/redline/internal/cluster"
)

// Shape says what the servers a Client talks to are (Options.Shape). The same Client,
// typed methods, pipelines, transactions, scripts, pub/sub, SCAN and blocking commands
// serve every shape, under the same deadline contract.
//
// On a standalone server every key is on the one server: nothing is split by slot or
// refused as cross-slot (multi-key commands, transactions and scripts go whole, as
// written), the topology is never polled, and command hooks report slot 0 for every
// keyed command. Options.DB selects a database there; Options.Replicas names replicas
// to read from (per Options.ReadFrom). A standalone server never redirects: a MOVED or
// ASK reply fails the call with a *NodeError in PhaseRedirect instead of being
// followed.
type Shape uint8

const (
	// ShapeAuto learns the shape from the first seed that answers (the default): a
	// cluster node answers CLUSTER SHARDS; a standalone server refuses it ("cluster
	// support disabled"), and the Client goes on with it as a standalone server (then
	// Options.Addrs must name it alone). Nothing more is asked of a cluster.
	ShapeAuto Shape = Shape(cluster.ShapeAuto)
	// ShapeCluster requires a cluster: a standalone seed fails NewClient.
	ShapeCluster Shape = Shape(cluster.ShapeCluster)
	// ShapeStandalone requires a standalone server, Options.Addrs's one address, and
	// never asks for a cluster topology. NewClient asks it INFO cluster, and fails if it
	// is a cluster node.
	ShapeStandalone Shape = Shape(cluster.ShapeStandalone)
)

// String returns auto, cluster or standalone.
func (s Shape) String() string { return cluster.Shape(s).String() }

// ParseShape parses a Shape name as String prints it.
func ParseShape(s string) (Shape, error) {
	for v := ShapeAuto; v <= ShapeStandalone; v++ {
		if v.String() == s {
			return v, nil
		}
	}
	return 0, fmt.Errorf("redline: unknown Shape %q (want auto, cluster or standalone)", s)
}

// Standalone reports whether the client talks to a standalone server (Options.Shape
// ShapeStandalone, detected by ShapeAuto, or the primary Options.Sentinel finds)
// rather than a cluster.
func (c *Client) Standalone() bool { return c.e.Single() }

// checkShape validates Shape, DB and Replicas.
func (o Options) checkShape() error {
	if o.Shape > ShapeStandalone {
		return fmt.Errorf("redline: Options.Shape: unknown value %d", o.Shape)
	}
	if o.DB < 0 {
		return fmt.Errorf("redline: Options.DB must not be negative (got %d)", o.DB)
	}
	if o.DB != 0 && o.Shape == ShapeCluster {
		return fmt.Errorf("redline: Options.DB is %d, but Options.Shape is cluster: a cluster has only database 0", o.DB)
	}
	if len(o.Replicas) > 0 && o.Shape == ShapeCluster {
		return errors.New("redline: Options.Replicas names a standalone server's replicas, but Options.Shape is cluster: a cluster's replicas come from its topology")
	}
	if len(o.Replicas) > 0 && len(o.Addrs) > 1 {
		return fmt.Errorf("redline: Options.Replicas names a standalone server's replicas, and Options.Addrs names %d addresses: a standalone server is given alone (a cluster's replicas come from its topology)", len(o.Addrs))
	}
	if o.Shape == ShapeStandalone && len(o.Addrs) > 1 {
		return fmt.Errorf("redline: Options.Shape is standalone, and Options.Addrs names %d addresses: a standalone server is given alone (its replicas go in Options.Replicas)", len(o.Addrs))
	}
	for _, a := range o.Replicas {
		if _, port, err := net.SplitHostPort(a); err != nil || port == "" {
			return fmt.Errorf("redline: Options.Replicas: %q is not host:port", a)
		}
	}
	return nil
}
