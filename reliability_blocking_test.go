package redline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redline-go/redline/redistest"
)

// TestReliabilityBlockingPopLosesNothing: a BLPOP whose server-side timeout is longer
// than the caller's deadline, while the server stalls for 50ms right at that deadline
// (DEBUG SLEEP) and an element is pushed just before it. If the server still had the
// BLPOP waiting then, it would hand it the element when it wakes, after the caller had
// left: the element would be lost. The client ends the wait on the server shortly
// before the deadline (CLIENT UNBLOCK), so the element stays in the list, and the
// caller gets a deadline error that says nothing was taken (SafeToRetry). Every pushed
// element is either returned to a caller or still in the list.
func TestReliabilityBlockingPopLosesNothing(t *testing.T) {
	heavyTest(t)
	cl := redistest.Run(t, redistest.Config{Masters: 1, NoProxy: true})
	c := newTestClient(t, cl, Options{})
	pusher := newTestClient(t, cl, Options{}) // its own connection: not queued behind the stall's
	srv := cl.Node(0)
	ctx := ctxT(t, time.Minute)
	const budget = 400 * time.Millisecond
	trials := soakOr(10, 50)
	if err := pusher.Do(ctx, "PING").Err(); err != nil { // connected before the first trial
		t.Fatal(err)
	}
	var popped, left, pushed, unblocked int
	for i := range trials {
		key := fmt.Sprintf("blpop:%d", i)
		start := time.Now()
		dl := start.Add(budget)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { // the stall and the push, right at the caller's deadline
			defer wg.Done()
			time.Sleep(time.Until(dl.Add(-6 * time.Millisecond)))
			go srv.Do(ctx, "DEBUG", "SLEEP", "0.05")
			time.Sleep(3 * time.Millisecond)
			if err := pusher.Do(ctx, "RPUSH", key, "e").Err(); err != nil {
				t.Error(err)
			}
		}()
		cctx, cancel := context.WithDeadline(ctx, dl)
		vals, err := c.Do(cctx, "BLPOP", key, 5).Strings()
		el := time.Since(start)
		cancel()
		wg.Wait()
		pushed++
		switch {
		case err == nil && len(vals) == 2:
			popped++
		case errors.Is(err, context.DeadlineExceeded):
			if SafeToRetry(err) {
				unblocked++
			}
		default:
			t.Fatalf("trial %d: %v %v", i, vals, err)
		}
		if el > budget+deadlineSlack {
			t.Errorf("trial %d: returned %v after its start, deadline %v", i, el, budget)
		}
		// Wait for the server to wake, then count what is left.
		n, err := c.Do(ctxT(t, 2*time.Second), "LLEN", key).Int64()
		if err != nil {
			t.Fatal(err)
		}
		left += int(n)
	}
	if lost := pushed - popped - left; lost != 0 {
		t.Errorf("%d of %d elements lost: pushed at the deadline, taken by a BLPOP whose caller had left", lost, pushed)
	}
	figure(t, "BLPOP cut by its deadline while the server stalls at that moment, %d trials: %d elements returned, %d left in the list, %d lost; %d calls ended on the server before the deadline (SafeToRetry)",
		trials, popped, left, pushed-popped-left, unblocked)
}
