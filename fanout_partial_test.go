package redline

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/redline-go/redline/redistest"
)

// TestFanoutErrorCountsExecutedParts: a write sent to every primary (FLUSHALL) that one
// node refused (it never reached it) while the others executed it is neither safe to
// retry nor "not executed" (a *FanoutError: before, Do returned the refused node's
// error alone, which said both). The same for NodeResults.Err of per-node calls: a
// refused node listed before a node whose reply was lost after the write must not make
// the joined error "safe to retry".
func TestFanoutErrorCountsExecutedParts(t *testing.T) {
	t.Parallel()
	cl := redistest.Run(t, redistest.Config{Masters: 3})
	const timeout = 300 * time.Millisecond
	probe := newTestClient(t, cl, Options{CommandTimeout: timeout})
	ctx := t.Context()
	prims := slices.Sorted(slices.Values(probe.PrimaryAddrs()))
	refused, hung := prims[0], prims[1]
	for i := 0; i < 30; i++ {
		check(t, probe.Do(ctx, "SET", fmt.Sprintf("rev2a:fan:%d", i), i).Err())
	}
	if before, err := probe.DoOn(ctx, prims[2], "DBSIZE").Int64(); err != nil || before == 0 {
		t.Fatalf("DBSIZE on %s before: %d, %v", prims[2], before, err)
	}
	check(t, cl.NodeByAddr(refused).SetFault(redistest.Refuse))
	defer cl.NodeByAddr(refused).SetFault(redistest.Pass)
	var seeds []string
	for _, a := range cl.Addrs() {
		if a != refused {
			seeds = append(seeds, a)
		}
	}
	c := newTestClient(t, cl, Options{Addrs: seeds, CommandTimeout: timeout})

	// Do: one node refused, the others flushed.
	err := c.Do(ctx, "FLUSHALL").Err()
	n, _ := probe.DoOn(ctx, prims[2], "DBSIZE").Int64()
	t.Logf("Do FLUSHALL: %v; DBSIZE on a healthy primary now %d", err, n)
	if err == nil {
		t.Fatal("FLUSHALL with a refused primary succeeded")
	}
	if SafeToRetry(err) || !MayHaveExecuted(err) {
		t.Errorf("Do FLUSHALL ran on 2 of 3 primaries, yet SafeToRetry(err) = %v, MayHaveExecuted(err) = %v", SafeToRetry(err), MayHaveExecuted(err))
	}

	// NodeResults.Err: the refused node (first by address) and one whose reply is lost.
	check(t, c.DoOn(ctx, hung, "PING").Err()) // connected: the FLUSHALL will be written
	check(t, cl.NodeByAddr(hung).SetFault(redistest.Hang))
	defer cl.NodeByAddr(hung).SetFault(redistest.Pass)
	rs := c.DoOnEveryPrimary(ctx, "FLUSHALL")
	jerr := rs.Err()
	t.Logf("DoOnEveryPrimary FLUSHALL: %v", jerr)
	if !MayHaveExecuted(rs[hung].Err()) {
		t.Fatalf("the hung node's own error: %v (may have executed false)", rs[hung].Err())
	}
	if SafeToRetry(jerr) || !MayHaveExecuted(jerr) {
		t.Errorf("NodeResults.Err with a lost write on %s: SafeToRetry = %v, MayHaveExecuted = %v", hung, SafeToRetry(jerr), MayHaveExecuted(jerr))
	}
}
