package conn

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/rerr"
	"github.com/redline-go/redline/redistest"
)

// A lone caller (the reader goroutine parked) in every fault mode of the proxy in
// front of a real redis-server: it returns by its deadline (the waiter's own, or its
// context's), never with another call's reply; a call that reached the server and got
// no reply says it may have executed; after the fault heals, a call on the same
// connection (if it lives) gets its own reply (held).
func TestReviewSoloFaultModes(t *testing.T) {
	cl := redistest.Run(t, redistest.Config{Masters: 1})
	node := cl.Node(0)
	modes := []redistest.Mode{
		redistest.Hang, redistest.Blackhole, redistest.Slow(150 * time.Millisecond),
		redistest.Stall(300 * time.Millisecond), redistest.Dribble(1, time.Millisecond),
		redistest.ResetMidReply(3), redistest.CloseAfterRequest, redistest.Reset,
	}
	const d = 100 * time.Millisecond
	for _, m := range modes {
		for _, viaCtx := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/ctx=%v", m, viaCtx), func(t *testing.T) {
				t.Cleanup(func() { node.SetFault(redistest.Pass) })
				c, err := Dial(ctxWithTimeout(t, 5*time.Second), &Options{Addr: node.Addr(), ReplyTimeout: time.Second})
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				warmSolo(t, c)
				if err := node.SetFault(m); err != nil {
					t.Fatal(err)
				}
				want := "v-" + m.String()
				var w Waiter
				if viaCtx {
					w = NewWaiter(ctxWithTimeout(t, d), time.Time{})
				} else {
					w = NewWaiterTimeout(context.Background(), d)
				}
				start := time.Now()
				v, err := c.Exec(&w, 0, []any{"ECHO", want})
				el := time.Since(start)
				w.Release()
				if el > d+50*time.Millisecond {
					t.Errorf("returned after %v, deadline %v (%v)", el, d, err)
				}
				var ne *rerr.NodeError
				switch {
				case err == nil && string(v.Str) != want:
					t.Fatalf("got %q: another call's reply", v.Str)
				case err != nil && !errors.As(err, &ne):
					t.Fatalf("%v: want a NodeError", err)
				case err != nil && !ne.Written && m != redistest.Reset:
					// Reset resets the connection when set, before the call: a lone
					// caller who finds the reset before writing (its look at the
					// parked socket, solo.go parkedCheck) rightly reports the call
					// not written; one who writes first reports may-have-executed.
					t.Errorf("%v: written directly, yet not reported as may-have-executed", err)
				}
				t.Logf("%v after %v", err, el.Round(time.Millisecond))
				if err := node.SetFault(redistest.Pass); err != nil {
					t.Fatal(err)
				}
				if c.Err() != nil {
					return
				}
				after := ctxWithTimeout(t, 3*time.Second)
				v, err = c.Do(after, "ECHO", "after")
				if err == nil && string(v.Str) != "after" {
					t.Fatalf("after the fault: got %q", v.Str)
				}
			})
		}
	}
}
