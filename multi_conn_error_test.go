package redline

import (
	"context"
	"testing"
	"time"

	"github.com/redline-go/redline/redistest"
)

// TestDoMultiConnErrorRedo: the split's deliberate change — a DoMulti part whose
// node's connection could not be had is now redone (as Do would) instead of failing
// with the connection error. Checked: a write to a refusing node is not executed, the
// call returns by its deadline, and the error says it was not written.
func TestDoMultiConnErrorRedo(t *testing.T) {
	cl := plain(t)
	c := newTestClient(t, cl, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const k = "rv:connerr:k"
	if err := c.Do(ctx, "SET", k, 10).Err(); err != nil {
		t.Fatal(err)
	}
	owner := keyOwner(t, cl, c, k)
	var seeds []string
	for _, n := range cl.Nodes() {
		if n != owner {
			seeds = append(seeds, n.Addr())
		}
	}
	if err := owner.SetFault(redistest.Refuse); err != nil {
		t.Fatal(err)
	}
	var attempts int
	const timeout = 400 * time.Millisecond
	c2 := newTestClient(t, cl, Options{Addrs: seeds, CommandTimeout: timeout, RefreshInterval: -1,
		Hooks: Hooks{AfterCommand: func(_ context.Context, e CommandEnd) { attempts = e.Attempts }}})
	for i := range 3 {
		start := time.Now()
		rs := c2.DoMulti(ctx, Cmd("INCR", k), Cmd("PING"))
		el := time.Since(start)
		err := rs[0].Err()
		t.Logf("try %d: %v after %v, attempts %d, MayHaveExecuted %v", i, err, el.Round(time.Millisecond), attempts, MayHaveExecuted(err))
		if err == nil || MayHaveExecuted(err) || el > timeout+50*time.Millisecond {
			t.Fatalf("INCR on a refusing node: %v after %v (MayHaveExecuted %v)", err, el, MayHaveExecuted(err))
		}
	}
	owner.SetFault(redistest.Pass)
	var n int64
	var err error
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if n, err = c.Do(ctx, "GET", k).Int64(); err == nil { // the node's backoff may hold it a while
			break
		}
	}
	if err != nil || n != 10 {
		t.Fatalf("GET %s = %d, %v; want 10 (no INCR ran)", k, n, err)
	}
	if attempts != 1 {
		t.Logf("note: the hooks' Attempts for the DoMulti is %d; a2b9883 reported 1 (the part was not redone)", attempts)
	}
}
