package redline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/hashslot"
	"github.com/redline-go/redline/internal/node"
	"github.com/redline-go/redline/redistest"
)

func TestDoBasics(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	if err := c.Do(ctx, "SET", "basics:k", "v").Err(); err != nil {
		t.Fatal(err)
	}
	if s, err := c.Do(ctx, "GET", "basics:k").Text(); err != nil || s != "v" {
		t.Fatalf("GET: %q %v", s, err)
	}
	if _, err := c.Do(ctx, "GET", "basics:missing").Text(); !errors.Is(err, Nil) {
		t.Fatalf("GET missing: %v, want Nil", err)
	}
	c.Do(ctx, "DEL", "basics:n")
	for i := 1; i <= 3; i++ {
		if n, err := c.Do(ctx, "INCR", "basics:n").Int64(); err != nil || n != int64(i) {
			t.Fatalf("INCR: %d %v", n, err)
		}
	}
	if err := c.Do(ctx, "SET", []byte("basics:b"), 42).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Do(ctx, "GET", "basics:b").Int64(); err != nil || n != 42 {
		t.Fatalf("GET int: %d %v", n, err)
	}
	var re *RedisError
	if err := c.Do(ctx, "LPUSH", "basics:k", "x").Err(); !errors.As(err, &re) || re.Code != "WRONGTYPE" {
		t.Fatalf("WRONGTYPE: %v", err)
	}
	if err := c.Do(ctx, "GET", struct{}{}).Err(); err == nil {
		t.Fatal("an unsupported argument type was accepted")
	}
}

func TestCrossSlotError(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	a, b := "cross:a", "cross:b"
	if hashslot.Key(a) == hashslot.Key(b) {
		t.Fatal("test keys share a slot")
	}
	err := c.Do(t.Context(), "RENAME", a, b).Err()
	var ce *CrossSlotError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "hash tag") {
		t.Fatalf("got %v, want a CrossSlotError", err)
	}
	if err := c.Do(t.Context(), "SET", "{same}a", 1).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Do(t.Context(), "RENAME", "{same}a", "{same}b").Err(); err != nil {
		t.Fatalf("same-slot RENAME: %v", err)
	}
}

func TestMultiKeySplit(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	const n = 200
	mset := []any{"MSET"}
	mget := []any{"MGET"}
	del := []any{"DEL"}
	slots := map[int]bool{}
	for i := range n {
		k := fmt.Sprintf("split:%d", i)
		slots[hashslot.Key(k)] = true
		mset = append(mset, k, fmt.Sprint(i))
		mget = append(mget, k)
		del = append(del, k)
	}
	mget = append(mget, "split:missing")
	if len(slots) < 100 {
		t.Fatalf("keys span only %d slots", len(slots))
	}
	if s, err := c.Do(ctx, mset...).Text(); err != nil || s != "OK" {
		t.Fatalf("MSET: %q %v", s, err)
	}
	vals, err := c.Do(ctx, mget...).Slice()
	if err != nil || len(vals) != n+1 {
		t.Fatalf("MGET: %d values, %v", len(vals), err)
	}
	for i := range n {
		if s, err := vals[i].Text(); err != nil || s != fmt.Sprint(i) {
			t.Fatalf("MGET value %d: %q %v", i, s, err)
		}
	}
	if !vals[n].IsNil() {
		t.Errorf("missing key: %v", vals[n])
	}
	if got, err := c.Do(ctx, append([]any{"EXISTS"}, del[1:]...)...).Int64(); err != nil || got != n {
		t.Fatalf("EXISTS: %d %v", got, err)
	}
	if got, err := c.Do(ctx, del...).Int64(); err != nil || got != n {
		t.Fatalf("DEL: %d %v", got, err)
	}
}

func TestFanout(t *testing.T) {
	// Not parallel: DBSIZE and KEYS see the whole keyspace.
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	if err := c.Do(ctx, "FLUSHALL").Err(); err != nil {
		t.Fatal(err)
	}
	args := []any{"MSET"}
	for i := range 50 {
		args = append(args, fmt.Sprintf("fan:%d", i), i)
	}
	if err := c.Do(ctx, args...).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Do(ctx, "DBSIZE").Int64(); err != nil || n != 50 {
		t.Fatalf("DBSIZE: %d %v, want 50 (summed over primaries)", n, err)
	}
	keys, err := c.Do(ctx, "KEYS", "fan:*").Strings()
	if err != nil || len(keys) != 50 {
		t.Fatalf("KEYS: %d keys, %v", len(keys), err)
	}
	sha, err := c.Do(ctx, "SCRIPT", "LOAD", "return 1").Text()
	if err != nil || len(sha) != 40 {
		t.Fatalf("SCRIPT LOAD: %q %v", sha, err)
	}
	ex, err := c.Do(ctx, "SCRIPT", "EXISTS", sha, strings.Repeat("0", 40)).Int64s()
	if err != nil || len(ex) != 2 || ex[0] != 1 || ex[1] != 0 {
		t.Fatalf("SCRIPT EXISTS on every node: %v %v", ex, err)
	}
	if err := c.Do(ctx, "FLUSHALL").Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Do(ctx, "DBSIZE").Int64(); err != nil || n != 0 {
		t.Fatalf("DBSIZE after FLUSHALL: %d %v", n, err)
	}
}

func TestDoMulti(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	var cmds []Command
	for i := range 100 {
		cmds = append(cmds, Cmd("SET", fmt.Sprintf("multi:%d", i), i))
	}
	for i, r := range c.DoMulti(ctx, cmds...) {
		if err := r.Err(); err != nil {
			t.Fatalf("SET %d: %v", i, err)
		}
	}
	cmds = cmds[:0]
	for i := range 100 {
		cmds = append(cmds, Cmd("GET", fmt.Sprintf("multi:%d", i)))
	}
	cmds = append(cmds, Cmd("MGET", "multi:1", "multi:2"), Cmd("RENAME", "multi:1", "multi:2"), Cmd("DBSIZE"))
	rs := c.DoMulti(ctx, cmds...)
	for i := range 100 {
		if n, err := rs[i].Int64(); err != nil || n != int64(i) {
			t.Fatalf("GET %d: %d %v", i, n, err)
		}
	}
	if vs, err := rs[100].Strings(); err != nil || len(vs) != 2 || vs[0] != "1" || vs[1] != "2" {
		t.Errorf("MGET in DoMulti: %v %v", vs, err)
	}
	var ce *CrossSlotError
	if !errors.As(rs[101].Err(), &ce) {
		t.Errorf("cross-slot in DoMulti: %v", rs[101].Err())
	}
	if n, err := rs[102].Int64(); err != nil || n < 100 {
		t.Errorf("DBSIZE in DoMulti: %d %v", n, err)
	}
}

func TestReplicaReads(t *testing.T) {
	t.Parallel()
	cl := plain(t)
	c := newTestClient(t, cl, Options{ReadFrom: ReadReplicaOnly})
	ctx := t.Context()
	if err := c.Do(ctx, "SET", "replica:k", "v").Err(); err != nil {
		t.Fatal(err)
	}
	// Replication is asynchronous: WAIT for the replica before reading from it.
	if err := c.Do(ctx, "WAIT", 1, 1000).Err(); err != nil {
		t.Logf("WAIT: %v", err)
	}
	topo, err := cl.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	owner := topo.Owner(hashslot.Key("replica:k"))
	replica := topo.ReplicasOf(owner.ID)[0].Node
	before := replica.Proxy().Stats().BytesOut
	deadline := time.Now().Add(5 * time.Second)
	for {
		s, err := c.Do(ctx, "GET", "replica:k").Text()
		if err == nil && s == "v" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET from replica: %q %v", s, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if after := replica.Proxy().Stats().BytesOut; after <= before {
		t.Error("the read did not go through the replica's proxy")
	}
	// Writes still go to the primary.
	if err := c.Do(ctx, "SET", "replica:k", "w").Err(); err != nil {
		t.Fatalf("write with replica-only reads: %v", err)
	}
}

func TestOptionsValidationAndRedaction(t *testing.T) {
	for _, o := range []Options{
		{},
		{Addrs: []string{"nohost"}},
		{Addrs: []string{"127.0.0.1:1"}, MaxAttempts: -1},
		{Addrs: []string{"127.0.0.1:1"}, Protocol: 4},
		{Addrs: []string{"127.0.0.1:1"}, DialTimeout: -time.Second},
		{Addrs: []string{"127.0.0.1:1"}, ReadFrom: 9},
		{Addrs: []string{"127.0.0.1:1"}, TLSServerName: func(string, string) string { return "" }}, // without TLSConfig
	} {
		if _, err := NewClient(context.Background(), o); err == nil {
			t.Errorf("NewClient(%v) accepted", o)
		}
	}
	o := Options{Addrs: []string{"127.0.0.1:1"}, Password: NewSecret("hunter2")}
	for _, s := range []string{fmt.Sprint(o), fmt.Sprintf("%+v", o), fmt.Sprintf("%#v", o), o.String()} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("password printed: %s", s)
		}
	}
	// No seed answers: a clear error naming the seed, within the context.
	start := time.Now()
	_, err := NewClient(t.Context(), Options{Addrs: []string{"127.0.0.1:1"}})
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") || time.Since(start) > time.Second {
		t.Errorf("unreachable seed: %v after %v", err, time.Since(start))
	}
}

func TestCloseLeavesNoGoroutine(t *testing.T) {
	cl := plain(t)
	redistest.NoGoroutineLeak(t) // after the cluster's own goroutines
	for range 3 {
		c, err := NewClient(t.Context(), Options{Addrs: cl.Addrs()})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 20 {
			c.Do(t.Context(), "SET", fmt.Sprintf("leak:%d", i), i)
		}
		c.Close()
		if err := c.Do(context.Background(), "GET", "x").Err(); !errors.Is(err, ErrClosed) {
			t.Errorf("after Close: %v", err)
		}
	}
}

func TestReplicaFailureFallsBackToPrimary(t *testing.T) {
	cl := plain(t)
	c := newTestClient(t, cl, Options{ReadFrom: ReadPreferReplica, CommandTimeout: 500 * time.Millisecond})
	ctx := t.Context()
	const key = "fallback:k"
	if err := c.Do(ctx, "SET", key, "v").Err(); err != nil {
		t.Fatal(err)
	}
	topo, err := cl.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	replica := topo.ReplicasOf(topo.Owner(hashslot.Key(key)).ID)[0].Node
	if err := replica.SetFault(redistest.Refuse); err != nil {
		t.Fatal(err)
	}
	defer replica.SetFault(redistest.Pass)
	for i := range 20 {
		start := time.Now()
		s, err := c.Do(context.Background(), "GET", key).Text()
		if err != nil || s != "v" {
			t.Fatalf("read %d with the replica refusing: %q %v", i, s, err)
		}
		if el := time.Since(start); el > 100*time.Millisecond {
			t.Errorf("read %d took %v", i, el)
		}
	}
	n := c.e.NodeAt(replica.Addr())
	if n.State() != node.StateDown {
		t.Errorf("replica node state %v, want down", n.State())
	}
	// Nearest reads work too (they measure and pick the lowest latency).
	near := newTestClient(t, cl, Options{ReadFrom: ReadNearest})
	for range 10 {
		if s, err := near.Do(ctx, "GET", key).Text(); err != nil || s != "v" {
			t.Fatalf("nearest read: %q %v", s, err)
		}
	}
}

func TestRefreshIsRateLimited(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{RefreshMinInterval: 300 * time.Millisecond, RefreshInterval: -1})
	start := time.Now()
	for time.Since(start) < time.Second {
		c.e.TriggerRefresh() // a storm of triggers (MOVED, failures, uncovered slots)
		time.Sleep(time.Millisecond)
	}
	// Spaced by at least 300ms (plus jitter): at most 4 refreshes in a second.
	if n := c.e.Counters().Refreshes; n < 1 || n > 4 {
		t.Errorf("%d refreshes in 1s of constant triggers, want 1..4", n)
	}
}

func TestSplitAndFanoutAcceptEveryArgumentType(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	// Keys in different slots: the split path copies the arguments.
	err := c.Do(ctx, "MSET", "argt:a", true, "argt:b", float32(1.5), "argt:c", int8(-3), "argt:d", uint16(7), "argt:e", []byte("x")).Err()
	if err != nil {
		t.Fatalf("MSET with mixed argument types across slots: %v", err)
	}
	vals, err := c.Do(ctx, "MGET", "argt:a", "argt:b", "argt:c", "argt:d", "argt:e").Strings()
	if err != nil || strings.Join(vals, ",") != "1,1.5,-3,7,x" {
		t.Fatalf("MGET: %v %v", vals, err)
	}
	if err := c.Do(ctx, "MSET", "argt:a", struct{}{}, "argt:b", 1).Err(); err == nil || !strings.Contains(err.Error(), "unsupported type struct {}") {
		t.Fatalf("unsupported type across slots: %v", err)
	}
	if err := c.Do(ctx, "MSET", "{argt}a", struct{}{}).Err(); err == nil || !strings.Contains(err.Error(), "unsupported type") {
		t.Fatalf("unsupported type in one slot: %v", err)
	}
}
