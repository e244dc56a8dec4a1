package redline

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/redistest"
)

// TestTypedOpsOwnCluster runs the operator commands that change a cluster — FLUSHDB and
// FLUSHALL's modes, SAVE, BGSAVE, BGREWRITEAOF, CONFIG REWRITE, ACL SAVE/LOAD/LOG RESET,
// CLIENT PAUSE/UNPAUSE, CLIENT KILL of this client's own connection — on a cluster of
// its own (3 primaries behind fault proxies), then a per-node method with one primary
// hung: that node's error, the others' answers, by the deadline.
func TestTypedOpsOwnCluster(t *testing.T) {
	t.Parallel()
	cl := redistest.Run(t, redistest.Config{Masters: 3})
	c := newTestClient(t, cl, Options{CommandTimeout: 5 * time.Second})
	ctx := t.Context()
	v62 := cl.Server().AtLeast(6, 2)

	for _, flush := range []struct {
		name string
		fn   func() error
		v62  bool
	}{
		{"FlushDB", func() error { return c.FlushDB(ctx) }, false},
		{"FlushDBAsync", func() error { return c.FlushDBAsync(ctx) }, false},
		{"FlushDBSync", func() error { return c.FlushDBSync(ctx) }, true},
		{"FlushAllAsync", func() error { return c.FlushAllAsync(ctx) }, false},
		{"FlushAllSync", func() error { return c.FlushAllSync(ctx) }, true},
	} {
		if flush.v62 && !v62 {
			continue
		}
		check(t, c.MSet(ctx, map[string]any{"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}))
		n, err := c.DBSize(ctx)
		eq(t, "DBSize before "+flush.name, n, err, 5)
		check(t, flush.fn())
		// ASYNC frees the values in the background; the keys are gone at once.
		n, err = c.DBSize(ctx)
		eq(t, "DBSize after "+flush.name, n, err, 0)
	}

	before := time.Now().Add(-time.Second)
	check(t, c.SaveOn(ctx, EveryPrimary))
	saved, err := c.LastSaveOn(ctx, EveryPrimary)
	check(t, err)
	for addr, at := range saved {
		if at.Before(before.Truncate(time.Second)) {
			t.Fatalf("LastSaveOn %s = %v after SaveOn at %v", addr, at, before)
		}
	}
	one := c.PrimaryAddrs()[0]
	started, err := c.BGSaveOn(ctx, Addrs(one))
	if err != nil || !strings.Contains(started[one], "ackground saving") {
		t.Fatalf("BGSaveOn = %v %v", started, err)
	}
	aof, err := c.BGRewriteAOFOn(ctx, Addrs(one)) // started, or scheduled after the BGSAVE
	if err != nil || !strings.Contains(aof[one], "ackground append only file rewriting") {
		t.Fatalf("BGRewriteAOFOn = %v %v", aof, err)
	}
	// The nodes run without a configuration or ACL file: each one says so.
	for name, err := range map[string]error{"ConfigRewriteOn": c.ConfigRewriteOn(ctx, EveryPrimary), "ACLSaveOn": c.ACLSaveOn(ctx, EveryPrimary), "ACLLoadOn": c.ACLLoadOn(ctx, Addrs(one))} {
		if errs := NodeErrors(err); errs[one] == nil || name != "ACLLoadOn" && len(errs) != 3 {
			t.Fatalf("%s without a file: %v", name, err)
		}
	}
	check(t, c.ACLLogResetOn(ctx, EveryNode))

	// CLIENT PAUSE WRITE: reads go on; CLIENT UNPAUSE ends it (Redis 6.2+).
	if v62 {
		check(t, c.ClientPauseOn(ctx, EveryPrimary, time.Minute, true))
		if _, err := c.Get(ctx, "a"); !errors.Is(err, Nil) {
			t.Fatalf("Get during a write pause: %v", err)
		}
		check(t, c.ClientUnpauseOn(ctx, EveryPrimary))
		check(t, c.Set(ctx, "a", "1", nil))
	}

	// CLIENT KILL spares the sender's connection unless told otherwise.
	ids, err := c.ClientIDOn(ctx, Addrs(one))
	check(t, err)
	killed, err := c.ClientKillOn(ctx, Addrs(one), ClientKillFilter{ID: ids[one]})
	if err != nil || killed[one] != 0 {
		t.Fatalf("ClientKillOn of its own connection, SKIPME yes: %v %v", killed, err)
	}
	killed, err = c.ClientKillOn(ctx, Addrs(one), ClientKillFilter{ID: ids[one], IncludeSelf: true})
	if err != nil || killed[one] != 1 {
		t.Fatalf("ClientKillOn of its own connection, SKIPME no: %v %v", killed, err)
	}
	// The client dials the node again.
	var id2 map[string]int64
	redistest.Eventually(t, 5*time.Second, func() bool {
		id2, err = c.ClientIDOn(ctx, Addrs(one))
		return err == nil
	}, "ClientIDOn after the connection was killed: %v", err)
	if id2[one] == ids[one] {
		t.Fatalf("the same connection ID %d after it was killed", ids[one])
	}

	// One primary hung: its error, the others' answers, by the deadline.
	hung := c.PrimaryAddrs()[1]
	c = newTestClient(t, cl, Options{CommandTimeout: 300 * time.Millisecond})
	redistest.Eventually(t, 5*time.Second, func() bool { return c.Ping(ctx) == nil }, "Ping") // connected to every primary
	nd := cl.NodeByAddr(hung)
	check(t, nd.SetFault(redistest.Hang))
	defer nd.SetFault(redistest.Pass)
	const timeout = 300 * time.Millisecond // c's CommandTimeout
	start := time.Now()
	views, err := c.ClusterNodesOn(ctx, EveryPrimary)
	elapsed := time.Since(start)
	errs := NodeErrors(err)
	if len(errs) != 1 || errs[hung] == nil || len(views) != 2 || len(views[one]) != 3 {
		t.Fatalf("ClusterNodesOn with %s hung: %d views, errors %v", hung, len(views), err)
	}
	if elapsed > timeout+150*time.Millisecond {
		t.Fatalf("ClusterNodesOn with a node hung took %v (CommandTimeout %v)", elapsed, timeout)
	}
	if !errors.Is(errs[hung], context.DeadlineExceeded) || !strings.Contains(errs[hung].Error(), hung) {
		t.Fatalf("the hung node's error is not a deadline naming it: %v", errs[hung])
	}
}
