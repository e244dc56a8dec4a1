package redline_test

import (
	"context"
	"fmt"
	"log"
	"slices"

	"github.com/redline-go/redline"
	"github.com/redline-go/redline/redistest"
)

// Walk the fields of a hash and the members of a sorted set with their scores.
func ExampleClient_HScan() {
	ctx := context.Background()
	cluster, err := redistest.Start(ctx, redistest.Config{Masters: 1, NoProxy: true})
	if err != nil {
		log.Fatal(err)
	}
	defer cluster.Close()
	c, err := redline.NewClient(ctx, redline.Options{Addrs: cluster.Addrs()})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	c.Do(ctx, "HSET", "user:1", "name", "Ada", "lang", "en", "last_login", "2026-01-02")
	var fields []string
	it := c.HScan("user:1", redline.ScanOptions{Match: "la*"})
	for it.Next(ctx) {
		fields = append(fields, it.Field()+"="+it.Value())
	}
	if err := it.Err(); err != nil {
		log.Fatal(err)
	}
	slices.Sort(fields) // a scan returns them in no particular order
	fmt.Println(fields)

	c.ZAdd(ctx, "scores", nil, redline.Z{Member: "ada", Score: 3}, redline.Z{Member: "bob", Score: 1.5})
	total := 0.0
	zi := c.ZScan("scores", redline.ScanOptions{})
	for zi.Next(ctx) {
		total += zi.Score()
	}
	if err := zi.Err(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(total)
	// Output:
	// [lang=en last_login=2026-01-02]
	// 4.5
}
