package redline_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/redline-go/redline"
	"github.com/redline-go/redline/redistest"
)

// Serve hot keys from the client's memory: a second read is a hit, and another
// client's write reaches the cache as an invalidation from the server.
func ExampleClient_Cached() {
	ctx := context.Background()
	cluster, err := redistest.Start(ctx, redistest.Config{Masters: 1, NoProxy: true})
	if err != nil {
		log.Fatal(err)
	}
	defer cluster.Close()

	c, err := redline.NewClient(ctx, redline.Options{
		Addrs: cluster.Addrs(),
		Cache: redline.CacheOptions{MaxBytes: 64 << 20}, // entries, keys and overhead
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	other, err := redline.NewClient(ctx, redline.Options{Addrs: cluster.Addrs()})
	if err != nil {
		log.Fatal(err)
	}
	defer other.Close()

	other.Set(ctx, "greeting", "hello", nil)
	cached := c.Cached(time.Minute)     // at most a minute, less if the key expires sooner
	v, _ := cached.Get(ctx, "greeting") // a miss: read from the server, tracked
	v, _ = cached.Get(ctx, "greeting")  // a hit: no round trip, no allocation
	fmt.Println(v, c.Stats().Cache.Hits)

	other.Set(ctx, "greeting", "bonjour", nil)  // the server invalidates the entry
	for i := 0; v == "hello" && i < 1000; i++ { // (within a fraction of a millisecond)
		time.Sleep(time.Millisecond)
		v, _ = cached.Get(ctx, "greeting")
	}
	fmt.Println(v)
	// Output:
	// hello 1
	// bonjour
}
