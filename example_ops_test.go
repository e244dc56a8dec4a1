package redline_test

import (
	"context"
	"fmt"

	"github.com/redline-go/redline"
)

// An operator script's calls: a user created on every node (ACL users are each node's
// own), the cluster as each primary sees it, a client's connections closed, a slot's
// keys counted on its primary (compiled, not run: see migrating_example_test.go).
func Example_operatorScript() {
	ctx := context.Background()
	c := newMigratingClient(ctx)
	defer c.Close()

	if err := c.ACLSetUserOn(ctx, redline.EveryNode, "reporting", "reset", "on", ">s3cret", "~report:*", "+@read"); err != nil {
		for addr, err := range redline.NodeErrors(err) {
			fmt.Println("ACL SETUSER failed on", addr, err)
		}
	}
	views, _ := c.ClusterNodesOn(ctx, redline.EveryPrimary)
	for addr, nodes := range views {
		for _, n := range nodes {
			if n.HasFlag("fail") || n.LinkState != "connected" {
				fmt.Println(addr, "sees", n.Addr, n.Flags, n.LinkState)
			}
		}
	}
	killed, _ := c.ClientKillOn(ctx, redline.EveryNode, redline.ClientKillFilter{User: "reporting"})
	n, _ := c.ClusterCountKeysInSlot(ctx, 42)
	used, _ := c.MemoryUsage(ctx, "report:today", &redline.MemoryUsageOptions{Samples: 10})
	fmt.Println(killed, n, used)
}
