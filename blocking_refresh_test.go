package redline

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A blocking command that waits until its caller's deadline on a node that answers,
// as asked, is no sign that the node is slow or gone: no topology refresh, no suspect
// node (from review2: 5 BLPOPs ending at their deadlines caused 5 refreshes). A WAIT
// left waiting at its deadline takes nothing: SafeToRetry, not MayHaveExecuted.
func TestBlockingDeadlineTriggersNoRefresh(t *testing.T) {
	cl := plain(t)
	c := newTestClient(t, cl, Options{RefreshMinInterval: 10 * time.Millisecond, RefreshInterval: time.Hour})
	key := "{fix2}:blocking:refresh"
	c.Do(t.Context(), "DEL", key)
	time.Sleep(100 * time.Millisecond) // let the initial refreshes settle
	before := c.Stats().Refreshes
	calls := [][]any{
		{"BLPOP", key, 0}, // ended on the server (CLIENT UNBLOCK)
		{"BLPOP", key, 0}, //
		{"BLMOVE", key, key + ":to", "LEFT", "LEFT", 0},
		{"WAIT", 5, 0}, // takes nothing: left waiting
		{"WAIT", 5, 0}, //
	}
	for _, args := range calls {
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		err := c.Do(ctx, args...).Err()
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%v: %v, want a deadline error", args, err)
		}
		if args[0] == "WAIT" && (MayHaveExecuted(err) || !SafeToRetry(err)) {
			t.Fatalf("%v left at its deadline: %v: MayHaveExecuted %v, SafeToRetry %v; want safe (WAIT takes nothing)", args, err, MayHaveExecuted(err), SafeToRetry(err))
		}
		time.Sleep(30 * time.Millisecond) // > RefreshMinInterval: each trigger may run
	}
	got := c.Stats().Refreshes - before
	suspect := c.e.SuspectNode()
	if got > 1 || suspect != "" {
		t.Fatalf("%d blocking calls that ended at their callers' deadlines (the server answered) caused %d topology refreshes and marked %q as a suspect node; want none", len(calls), got, suspect)
	}
}
