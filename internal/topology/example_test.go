package topology_test

import (
	"bytes"
	"fmt"
	"os"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/internal/topology"
	"github.com/redline-go/redline/resp"
)

// A CLUSTER SHARDS reply recorded from Redis 7.0.15, with cluster-preferred-endpoint-type
// unknown-endpoint: every endpoint is "", so nodes are reached at the host of the node
// asked.
func ExampleParseShards() {
	raw, err := os.ReadFile("testdata/unknown-endpoint-shards-resp3.resp")
	if err != nil {
		panic(err)
	}
	v, err := resp.NewReader(bytes.NewReader(raw), resp.Limits{}).ReadValue()
	if err != nil {
		panic(err)
	}
	table, err := topology.ParseShards(v, "redis.example:7101", false)
	if err != nil {
		panic(err)
	}
	for _, s := range table.Shards() {
		fmt.Println(s.Primary.Addr, s.Primary.Hostname, s.Ranges, len(s.Replicas), "replica(s)")
	}
	fmt.Println("covered:", table.Covered())
	fmt.Println("key foo:", table.Slot(hashslot.Key("foo")).Primary.Addr)

	// A MOVED redirection patches a copy.
	moved := table.WithMoved(hashslot.Key("foo"), "redis.example:7101")
	fmt.Println("after MOVED:", moved.Slot(hashslot.Key("foo")).Primary.Addr)
	// Output:
	// redis.example:7104  [] 0 replica(s)
	// redis.example:7102 node-b.redline.test [[5461 9999] [10011 16383]] 0 replica(s)
	// redis.example:7101 node-a.redline.test [[0 5460] [10000 10010]] 1 replica(s)
	// covered: 16384
	// key foo: redis.example:7102
	// after MOVED: redis.example:7101
}
