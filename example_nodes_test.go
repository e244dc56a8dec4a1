package redline_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redline-go/redline"
)

// The per-node helpers and the struct forms of the hash commands named in
// docs/MIGRATING.md (compiled, not run: see migrating_example_test.go).
func Example_migratingNodesAndStructs() {
	ctx := context.Background()
	c := newMigratingClient(ctx)
	defer c.Close()

	// Every node's INFO memory section; a failed node is named, the others answer.
	infos, err := c.InfoOn(ctx, redline.EveryNode, "memory")
	for addr, err := range redline.NodeErrors(err) {
		fmt.Println("node", addr, "failed:", err)
	}
	for addr, info := range infos {
		fmt.Println(addr, info["used_memory_human"])
	}
	slow, _ := c.SlowLogGetOn(ctx, redline.EveryPrimary, 10)
	cfg, _ := c.ConfigGetOn(ctx, redline.Addrs("10.0.0.1:6379"), "maxmemory*")
	fmt.Println(len(slow), cfg)

	type user struct {
		Name  string    `redis:"name"`
		Born  int       `redis:"born"`
		Seen  time.Time `redis:"seen,omitempty"`
		Cache string    // untagged: not a hash field
	}
	_, _ = c.HSetFrom(ctx, "user:1", user{Name: "Ada", Born: 1815})
	var u user
	if err := c.HGetAllInto(ctx, "user:1", &u); errors.Is(err, redline.Nil) {
		fmt.Println("no such user")
	}
	vals, _ := c.HMGet(ctx, "user:1", "name", "missing") // [*"Ada", nil]
	byField, _ := c.HMGetMap(ctx, "user:1", "name", "missing")
	fmt.Println(u, vals, byField)

	// Hash-field expiration (Redis 7.4+).
	codes, _ := c.HExpire(ctx, "session:1", 30*time.Minute, "token")
	ttls, _ := c.HTTL(ctx, "session:1", "token")
	fmt.Println(codes, ttls)
}
