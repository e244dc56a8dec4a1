package redline_test

// The redline side of every snippet in docs/MIGRATING.md, compiled (and checked by go vet)
// so that the guide cannot name an API redline does not have. These examples have no
// Output line: they compile but are not run (they would need a cluster at 10.0.0.1).

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/redline-go/redline"
)

// newMigratingClient is the construction section of docs/MIGRATING.md.
func newMigratingClient(ctx context.Context) *redline.Client {
	c, err := redline.NewClient(ctx, redline.Options{
		Addrs:          []string{"10.0.0.1:6379", "10.0.0.2:6379"},
		Username:       "app",
		Password:       redline.NewSecret("s3cret"),
		ClientName:     "billing",
		DialTimeout:    2 * time.Second,        // go-redis DialTimeout
		CommandTimeout: 500 * time.Millisecond, // bounds every call, redirects and retries included
		ReplyTimeout:   3 * time.Second,        // connection health, not a per-call bound
		MaxAttempts:    5,                      // go-redis MaxRedirects + MaxRetries, together
		ReadFrom:       redline.ReadPreferReplica,
	})
	if err != nil {
		log.Fatal(err)
	}
	return c
}

// Strings, keys and counters: the first table of docs/MIGRATING.md.
func Example_migratingStrings() {
	ctx := context.Background()
	c := newMigratingClient(ctx)
	defer c.Close()

	v, err := c.Get(ctx, "k")
	if errors.Is(err, redline.Nil) {
		fmt.Println("missing")
	}
	_ = v
	_ = c.Set(ctx, "k", "v", nil)                                             // Set(ctx, k, v, 0)
	_ = c.Set(ctx, "k", "v", &redline.SetOptions{TTL: time.Minute})           // Set(ctx, k, v, time.Minute)
	_ = c.Set(ctx, "k", "v", &redline.SetOptions{TTL: time.Minute, XX: true}) // SetXX
	ok, _ := c.SetNX(ctx, "lock", "me")                                       // SetNX without expiry
	err = c.Set(ctx, "lock", "me", &redline.SetOptions{NX: true, TTL: 10 * time.Second})
	ok = err == nil // SetNX with expiry: Nil when the key existed
	if err != nil && !errors.Is(err, redline.Nil) {
		log.Print(err)
	}
	_ = ok
	_ = c.SetEx(ctx, "k", time.Minute, "v") // ttl before value: go-redis has SetEx(ctx, k, v, ttl)
	n, _ := c.Del(ctx, "a", "b")
	n, _ = c.Exists(ctx, "a", "b")
	set, _ := c.Expire(ctx, "k", time.Minute)
	ttl, err := c.TTL(ctx, "k") // NoExpiry (-1) when no expiry; Nil when missing (go-redis: -2ns)
	n, _ = c.Incr(ctx, "n")
	n, _ = c.IncrBy(ctx, "n", 10)
	vals, _ := c.MGet(ctx, "a", "b") // []*string, nil where missing, in order
	_ = c.MSet(ctx, map[string]any{"a": 1, "b": 2})
	fmt.Println(n, set, ttl, vals)
}

// Hashes, lists, sets, sorted sets.
func Example_migratingCollections() {
	ctx := context.Background()
	c := newMigratingClient(ctx)
	defer c.Close()

	n, _ := c.HSet(ctx, "user:1", map[string]any{"name": "Ada", "born": 1815})
	name, err := c.HGet(ctx, "user:1", "name") // Nil when the field is missing
	all, _ := c.HGetAll(ctx, "user:1")
	some, _ := c.HMGet(ctx, "user:1", "name", "born") // []*string, nil for a missing field
	n, _ = c.HIncrBy(ctx, "user:1", "visits", 1)

	n, _ = c.LPush(ctx, "q", "a", "b")
	n, _ = c.RPush(ctx, "q", "c")
	last, err := c.RPop(ctx, "q")                     // Nil when empty
	key, val, err := c.BLPop(ctx, 5*time.Second, "q") // go-redis: []string{key, val}
	items, _ := c.LRange(ctx, "q", 0, -1)

	n, _ = c.SAdd(ctx, "s", "x", "y")
	members, _ := c.SMembers(ctx, "s")
	in, _ := c.SIsMember(ctx, "s", "x")

	n, _ = c.ZAdd(ctx, "z", nil, redline.Z{Score: 1, Member: "a"}, redline.Z{Score: 2, Member: "b"})
	top, _ := c.ZRange(ctx, "z", 0, -1, nil)
	withScores, _ := c.ZRangeWithScores(ctx, "z", 0, -1, nil)
	byScore, _ := c.ZRange(ctx, "z", "(1", "+inf", &redline.ZRangeOptions{ByScore: true, Offset: 0, Count: 10})
	score, err := c.ZScore(ctx, "z", "a")
	fmt.Println(n, name, all, some, last, key, val, items, members, in, top, withScores, byScore, score, err)
}

// Streams.
func Example_migratingStreams() {
	ctx := context.Background()
	c := newMigratingClient(ctx)
	defer c.Close()

	id, _ := c.XAdd(ctx, redline.XAddArgs{
		Stream: "events",
		MaxLen: 10000,
		Approx: true,
		Values: map[string]any{"type": "click", "x": 10},
	})
	streams, err := c.XRead(ctx, redline.XReadArgs{
		Streams: map[string]string{"events": "0"},
		Count:   100,
		Block:   time.Second,
	})
	if errors.Is(err, redline.Nil) { // Block passed with nothing new
		streams = nil
	}
	_ = c.XGroupCreateMkStream(ctx, "events", "workers", "$")
	got, err := c.XReadGroup(ctx, "workers", "w1", redline.XReadGroupArgs{
		Streams: map[string]string{"events": ">"},
		Count:   10,
		Block:   time.Second,
	})
	for _, s := range got {
		for _, m := range s.Messages {
			_, _ = c.XAck(ctx, s.Stream, "workers", m.ID)
		}
	}
	fmt.Println(id, streams, err)
}

// Pub/sub.
func Example_migratingPubSub() {
	ctx := context.Background()
	c := newMigratingClient(ctx)
	defer c.Close()

	sub, err := c.Subscribe(ctx, "news")
	if err != nil {
		log.Fatal(err)
	}
	defer sub.Close()
	go func() { _, _ = c.Publish(ctx, "news", "hello") }()
	for m := range sub.Messages() {
		if m.Kind == redline.KindGap { // reconnected: messages may have been missed
			log.Print(m.Err)
			continue
		}
		fmt.Println(m.Channel, m.Payload)
		break
	}
}

// Pipelines, transactions and optimistic locking.
func Example_migratingPipelines() {
	ctx := context.Background()
	c := newMigratingClient(ctx)
	defer c.Close()

	// go-redis Pipelined: DoMulti, one Result per command, in order. Not a transaction.
	rs := c.DoMulti(ctx,
		redline.Cmd("INCR", "hits"),
		redline.Cmd("EXPIRE", "hits", 3600),
		redline.Cmd("GET", "other"),
	)
	hits, err := rs[0].Int64()
	other, err := rs[2].Text() // Nil when missing
	fmt.Println(hits, other, err)

	// go-redis TxPipelined: MULTI … EXEC, keys in one slot.
	rs, err = c.TxPipelined(ctx, func(p *redline.TxPipe) error {
		p.Do("INCR", "{user:1}:visits")
		p.Do("EXPIRE", "{user:1}:visits", 3600)
		return nil
	})
	if err == nil {
		visits, _ := rs[0].Int64()
		fmt.Println(visits)
	}

	// go-redis Watch: the same shape; reads with tx.Do, the transaction with tx.Exec.
	for i := 0; i < 10; i++ { // bounded retries on a conflict
		err = c.Watch(ctx, func(tx *redline.Tx) error {
			n, err := tx.Do(ctx, "GET", "{acct:1}:balance").Int64()
			if err != nil && !errors.Is(err, redline.Nil) {
				return err
			}
			_, err = tx.Exec(ctx, redline.Cmd("SET", "{acct:1}:balance", n+10))
			return err
		}, "{acct:1}:balance")
		if !errors.Is(err, redline.ErrTxFailed) {
			break
		}
	}
}

// Scan, scripts, Ping.
func Example_migratingScanAndScripts() {
	ctx := context.Background()
	c := newMigratingClient(ctx)
	defer c.Close()

	// go-redis: ForEachMaster + Scan with a cursor loop. redline: one iterator, whole cluster.
	it := c.Scan(redline.ScanOptions{Match: "user:*", Count: 1000})
	for it.Next(ctx) {
		fmt.Println(it.Key())
	}
	if err := it.Err(); err != nil {
		log.Print(err)
	}
	hs := c.HScan("user:1", redline.ScanOptions{})
	for hs.Next(ctx) {
		fmt.Println(hs.Field(), hs.Value())
	}

	n, err := c.Eval(ctx, "return redis.call('INCR', KEYS[1])", []string{"n"}).Int64()
	sha, err := c.ScriptLoad(ctx, "return 1")
	r := c.EvalSha(ctx, sha, nil)
	incr := redline.NewScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
	n, err = incr.Run(ctx, c, []string{"n"}, 5).Int64()
	fmt.Println(n, r.Err(), err, c.Ping(ctx))
}

// Errors: what go-redis users test for, and what redline reports.
func Example_migratingErrors() {
	ctx := context.Background()
	c := newMigratingClient(ctx)
	defer c.Close()

	_, err := c.Incr(ctx, "counter")
	var ne *redline.NodeError
	var de *redline.DeadlineError
	var re *redline.RedisError
	var cs *redline.CrossSlotError
	var se *redline.SplitError
	switch {
	case err == nil:
	case errors.As(err, &re): // the server's error reply (WRONGTYPE…); go-redis: redis.Error
		fmt.Println(re.Code, re.Msg)
	case redline.MayHaveExecuted(err): // reply lost after the write: it may have run
		log.Printf("INCR may have run: %v", err)
	case redline.SafeToRetry(err): // certainly not sent: retrying cannot run it twice
		_, err = c.Incr(ctx, "counter")
	}
	if errors.As(err, &de) && de.Node != nil {
		log.Printf("deadline after %v waiting on %s (%s)", de.Elapsed, de.Node.Addr, de.Node.Phase)
	}
	if errors.As(err, &ne) {
		log.Printf("node %s failed in %s: %v", ne.Addr, ne.Phase, ne.Err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		log.Print("timed out")
	}

	err = c.MSet(ctx, map[string]any{"app:a": 1, "other:z": 2})
	if errors.As(err, &se) {
		log.Printf("applied %v, not applied %v", se.AppliedKeys(), se.FailedKeys())
	}
	_, _, err = c.BLPop(ctx, time.Second, "a", "b") // two slots: refused before sending
	if errors.As(err, &cs) {
		log.Printf("%s: %v in slots %v", cs.Command, cs.Keys, cs.Slots)
	}
}

// Options.Split keeps multi-key commands whole, as go-redis does.
func Example_migratingStrictSplit() {
	ctx := context.Background()
	c, err := redline.NewClient(ctx, redline.Options{
		Addrs: []string{"10.0.0.1:6379"},
		Split: redline.SplitNone, // MSET/DEL/MGET… across slots: *CrossSlotError, nothing sent
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
}

// Hooks: callbacks set once in Options, not a middleware chain.
func Example_migratingHooks() {
	ctx := context.Background()
	c, err := redline.NewClient(ctx, redline.Options{
		Addrs: []string{"10.0.0.1:6379"},
		Hooks: redline.Hooks{
			AfterCommand: func(ctx context.Context, cmd redline.CommandEnd) {
				if cmd.Err != nil {
					log.Printf("%s on %s after %v: %v", cmd.Name, cmd.Node, cmd.Elapsed, cmd.Err)
				}
			},
			OnDial: func(d redline.DialInfo) {
				if d.Err != nil {
					log.Printf("dial %s: %v", d.Addr, d.Err)
				}
			},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
}

// Per-node commands: go-redis ForEachMaster / ForEachShard.
func Example_migratingPerNode() {
	ctx := context.Background()
	c := newMigratingClient(ctx)
	defer c.Close()

	res := c.DoOnEveryPrimary(ctx, "INFO", "memory")
	for addr, r := range res {
		s, err := r.Text()
		fmt.Println(addr, len(s), err)
	}
	if err := res.Err(); err != nil {
		log.Print(err)
	}
	fmt.Println(c.DoOn(ctx, c.PrimaryAddrs()[0], "DBSIZE").Int64())
}

// The other names docs/MIGRATING.md mentions, as method expressions and composite
// literals, so that go vet checks them too.
var _ = []any{
	(*redline.Client).MGetMap, (*redline.Client).ExpireNX, (*redline.Client).ExpireXX,
	(*redline.Client).ExpireGT, (*redline.Client).ExpireLT, (*redline.Client).ExpireAt,
	(*redline.Client).PExpire, (*redline.Client).Persist, (*redline.Client).PTTL,
	(*redline.Client).RPopCount, (*redline.Client).LPop, (*redline.Client).LPopCount,
	(*redline.Client).BRPop, (*redline.Client).BLMove, (*redline.Client).BZPopMin,
	(*redline.Client).Wait, (*redline.Client).XPending, (*redline.Client).XPendingExt,
	(*redline.Client).XClaim, (*redline.Client).XAutoClaim, (*redline.Client).SPublish,
	(*redline.Client).PSubscribe, (*redline.Client).SSubscribe,
	(*redline.Subscription).Unsubscribe, (*redline.Client).SScan, (*redline.Client).ZScan,
	(*redline.Client).EvalRO, (*redline.Client).EvalShaRO, (*redline.Script).RunRO,
	(*redline.Client).FCall, (*redline.Client).DoOnEveryNode, (*redline.Client).NodeAddrs,
	redline.Result.Text, redline.Result.Int64, redline.Result.Float64, redline.Result.Bool,
	redline.Result.Strings, redline.Result.Slice, redline.Result.Bytes, redline.Result.Int64s,
	redline.Result.StringMap, redline.Result.IsNil, redline.Result.Value,
	redline.NoExpiry, redline.ErrClosed, redline.ReadReplicaOnly, redline.ReadNearest,
	redline.ReadLocalZone, redline.SplitAll, redline.SplitReads,
	redline.SetOptions{ExpireAt: time.Time{}, KeepTTL: true, NX: true, XX: true},
	redline.ZAddOptions{NX: true, XX: true, GT: true, LT: true, CH: true},
	redline.ZRangeOptions{ByScore: true, ByLex: true, Rev: true, Offset: 1, Count: 1},
	redline.XAddArgs{Stream: "s", NoMkStream: true, MaxLen: 1, MinID: "0", Approx: true, Limit: 1, ID: "*", Fields: []any{"f", "v"}},
	redline.Message{Kind: redline.KindMessage, Channel: "c", Pattern: "p", Payload: "x", Err: nil},
	redline.Options{
		Credentials:        func(ctx context.Context) (string, string, error) { return "", "", nil },
		TLSServerName:      func(addr, hostname string) string { return "" },
		Protocol:           3,
		RetryBackoff:       10 * time.Millisecond,
		RetryBackoffMax:    100 * time.Millisecond,
		RefreshInterval:    30 * time.Second,
		RefreshMinInterval: time.Second,
		MaxReplyBulkLen:    0,
		MaxReplyElems:      0,
		MaxReplyDepth:      0,
		Logger:             nil,
		Zone:               "us-east-1a",
		NodeZone:           func(addr string) string { return "" },
		Hooks: redline.Hooks{
			BeforeCommand: func(ctx context.Context, cmd redline.CommandStart) context.Context { return ctx },
			OnNodeState:   func(redline.NodeStateChange) {},
			OnTopology:    func(redline.TopologyChange) {},
		},
	},
	func(e redline.CommandEnd) any {
		return []any{e.Name, e.Node, e.Slot, e.Attempts, e.Redirects, e.Elapsed, e.Err}
	},
	func(e *redline.NodeError) any { return []any{e.Down, e.RetryIn} },
	func(e *redline.ConnStateError) any { return []any{e.Command, e.Use} },
	func(e *redline.SplitError) any {
		p := e.Parts[0]
		return []any{p.Slot, p.Keys, p.Err, e.MayHaveExecuted()}
	},
	func(e *redline.RedisError) any { return []any{e.Code, e.Msg} },
}
