package command_test

import (
	"fmt"

	"github.com/redline-go/redline/internal/command"
)

func Example() {
	args := []any{"XREAD", "COUNT", "10", "STREAMS", "orders", "payments", "0", "0"}
	in := command.Lookup(args)
	keys, ok := in.KeyIndexes(args, nil)
	fmt.Println(in.Name, in.ReadOnly(), in.Has(command.FlagBlocking), keys, ok)

	dbsize := command.Lookup([]any{"dbsize"})
	fmt.Println(dbsize.Request, dbsize.Response)

	sub := command.Lookup([]any{"CONFIG", "SET", "maxmemory", "1gb"})
	fmt.Println(sub.Name, sub.Request, sub.Response)
	// Output:
	// xread true true [4 5] true
	// all_shards agg_sum
	// config|set all_nodes all_succeeded
}

func ExampleInfo_KeyIndexes() {
	args := []any{"EVAL", "return redis.call('GET', KEYS[1])", 1, "user:{42}", "extra"}
	keys, ok := command.Lookup(args).KeyIndexes(args, make([]int, 0, 8))
	fmt.Println(keys, ok)

	args = []any{"MIGRATE", "10.0.0.2", "6379", "", "0", "5000", "KEYS", "a", "b"}
	keys, ok = command.Lookup(args).KeyIndexes(args, nil)
	fmt.Println(keys, ok)
	// Output:
	// [3] true
	// [7 8] true
}
