package redline_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"slices"
	"time"

	"github.com/redline-go/redline"
	"github.com/redline-go/redline/redistest"
)

// The examples run against a throwaway one-node cluster of real redis-server processes
// that package redistest starts; point Options.Addrs at your own cluster instead.

// Connect, set and get keys with the typed methods, tell a missing key from an error, and
// walk the keys of the whole cluster.
func Example() {
	ctx := context.Background()
	cluster, err := redistest.Start(ctx, redistest.Config{Masters: 1, NoProxy: true})
	if err != nil {
		log.Fatal(err)
	}
	defer cluster.Close()

	c, err := redline.NewClient(ctx, redline.Options{
		Addrs:          cluster.Addrs(),        // seeds: any nodes of the cluster
		CommandTimeout: 500 * time.Millisecond, // every call's upper bound
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	if err := c.Set(ctx, "greeting", "hello", &redline.SetOptions{TTL: time.Minute}); err != nil {
		log.Fatal(err)
	}
	s, err := c.Get(ctx, "greeting")
	fmt.Println(s, err)

	_, err = c.Get(ctx, "no-such-key")
	fmt.Println("missing:", errors.Is(err, redline.Nil))

	c.HSet(ctx, "user:1", map[string]any{"name": "Ada", "born": 1815})
	c.HSet(ctx, "user:2", map[string]any{"name": "Alan", "born": 1912})
	u, err := c.HGetAll(ctx, "user:1")
	fmt.Println(u["name"], u["born"], err)

	var users []string
	it := c.Scan(redline.ScanOptions{Match: "user:*"})
	for it.Next(ctx) {
		users = append(users, it.Key())
	}
	if err := it.Err(); err != nil {
		log.Fatal(err)
	}
	slices.Sort(users) // SCAN returns keys in no particular order
	fmt.Println(users)
	// Output:
	// hello <nil>
	// missing: true
	// Ada 1815 <nil>
	// [user:1 user:2]
}

// DoMulti sends several commands at once, pipelined per node, and returns one Result
// per command, in order: each succeeds or fails by itself.
func ExampleClient_DoMulti() {
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

	rs := c.DoMulti(ctx,
		redline.Cmd("SET", "visits", 10),
		redline.Cmd("INCR", "visits"),
		redline.Cmd("GET", "nobody"),
		redline.Cmd("LPUSH", "visits", "x"), // a string is not a list
	)
	n, err := rs[1].Int64()
	fmt.Println("INCR:", n, err)
	_, err = rs[2].Text()
	fmt.Println("GET of a missing key:", errors.Is(err, redline.Nil))
	var re *redline.RedisError
	if errors.As(rs[3].Err(), &re) {
		fmt.Println("LPUSH:", re.Code)
	}
	// Output:
	// INCR: 11 <nil>
	// GET of a missing key: true
	// LPUSH: WRONGTYPE
}

// Watch runs an optimistic transaction: the function reads under WATCH, then Exec
// applies MULTI … EXEC, which fails with ErrTxFailed if a watched key changed meanwhile
// (retry then).
func ExampleClient_Watch() {
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

	// Move 30 from one account to another, both in the slot of the hash tag {alice}.
	c.Set(ctx, "{alice}:checking", 100, nil)
	transfer := func(tx *redline.Tx) error {
		balance, err := tx.Do(ctx, "GET", "{alice}:checking").Int64()
		if err != nil {
			return err
		}
		if balance < 30 {
			return errors.New("insufficient funds")
		}
		_, err = tx.Exec(ctx,
			redline.Cmd("DECRBY", "{alice}:checking", 30),
			redline.Cmd("INCRBY", "{alice}:savings", 30))
		return err
	}
	for {
		err := c.Watch(ctx, transfer, "{alice}:checking")
		if errors.Is(err, redline.ErrTxFailed) {
			continue // the balance changed under us: read it again
		}
		if err != nil {
			log.Fatal(err)
		}
		break
	}
	m, err := c.MGetMap(ctx, "{alice}:checking", "{alice}:savings")
	fmt.Println(m, err)
	// Output: map[{alice}:checking:70 {alice}:savings:30] <nil>
}

// A Script runs by its SHA1 (EVALSHA) and sends its source only to a node that does not
// have it cached yet.
func ExampleScript() {
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

	// Add to a counter, but never past a cap.
	addCapped := redline.NewScript(`
		local n = redis.call('INCRBY', KEYS[1], ARGV[1])
		if n > tonumber(ARGV[2]) then
			redis.call('SET', KEYS[1], ARGV[2])
			return tonumber(ARGV[2])
		end
		return n`)
	for _, add := range []int{40, 40, 40} {
		n, err := addCapped.Run(ctx, c, []string{"tokens"}, add, 100).Int64()
		fmt.Println(n, err)
	}
	// Output:
	// 40 <nil>
	// 80 <nil>
	// 100 <nil>
}

// SSubscribe subscribes to shard channels: each on the node that owns its slot,
// following the slot when it moves. SPUBLISH goes to that node too.
func ExampleClient_SSubscribe() {
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

	sub, err := c.SSubscribe(ctx, "orders:{eu}")
	if err != nil {
		log.Fatal(err)
	}
	defer sub.Close()
	if err := c.Do(ctx, "SPUBLISH", "orders:{eu}", "order 42 placed").Err(); err != nil {
		log.Fatal(err)
	}
	select {
	case m := <-sub.Messages():
		fmt.Println(m.Kind, m.Channel, m.Payload)
	case <-time.After(5 * time.Second):
		fmt.Println("no message")
	}
	// Output: smessage orders:{eu} order 42 placed
}

// TxPipelined runs MULTI … EXEC without WATCH: all or nothing, on the node of the keys'
// slot (here the hash tag {u1}). The same transaction can be written inside DoMulti:
// Cmd("MULTI"), the commands, Cmd("EXEC").
func ExampleClient_TxPipelined() {
	ctx := context.Background()
	c, err := redline.NewClient(ctx, redline.Options{Addrs: []string{"127.0.0.1:7000"}})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	var visits redline.Future[int64]
	_, err = c.TxPipelined(ctx, func(p *redline.TxPipe) error {
		p.Set("{u1}:name", "ann", nil)
		visits = p.Incr("{u1}:visits")
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	n, _ := visits.Result()
	fmt.Println("visits:", n)
}

// Pipelined sends the commands queued on a Pipe together, grouped by node (keys in any
// slots), under one deadline; each typed method returns a Future, read after Pipelined
// returns.
func ExampleClient_Pipelined() {
	ctx := context.Background()
	c, err := redline.NewClient(ctx, redline.Options{Addrs: []string{"127.0.0.1:7000"}})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	var (
		hits  redline.Future[int64]
		name  redline.Future[string]
		top   redline.Future[[]redline.Z]
		fresh redline.Future[bool]
	)
	err = c.Pipelined(ctx, func(p *redline.Pipe) error {
		hits = p.Incr("page:home:hits")
		name = p.Get("user:42:name")
		top = p.ZRangeWithScores("leaderboard", 0, 2, &redline.ZRangeOptions{Rev: true})
		fresh = p.SetNX("lock:report", "worker-7")
		return nil
	})
	if err != nil {
		log.Fatal(err) // the first failed command's error (a missing key is not one)
	}
	n, _ := hits.Result()
	s, err := name.Result()
	if errors.Is(err, redline.Nil) {
		s = "(none)"
	}
	fmt.Println(n, s, top.Val(), fresh.Val())
}
