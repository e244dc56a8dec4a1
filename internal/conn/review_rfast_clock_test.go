package conn

// Review of 0d9fc4e (roundTrip reads the monotonic clock alone; timerDeadline converts
// the waiter's deadline to the request timers' clock without a clock read when it has a
// monotonic reading): a waiter's deadline with or without a monotonic reading, and one
// whose monotonic reading overflowed, ends a queued wait on time, never early, on every
// path to that wait (a lone caller's read handed back at its deadline or after its
// slice, a pipelined call behind another).

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"
)

// rfastClocks are the ways a deadline d from now can be written.
var rfastClocks = []struct {
	name string
	at   func(d time.Duration) time.Time
}{
	{"monotonic", func(d time.Duration) time.Time { return time.Now().Add(d) }},
	{"wall", func(d time.Duration) time.Time { return time.Now().Add(d).Round(0) }},
	{"unix", func(d time.Duration) time.Time { return time.Unix(0, time.Now().Add(d).UnixNano()) }},
}

// rfastPath is a way a call reaches its queued wait.
type rfastPath struct {
	name string
	// prepare returns the call's context; busy says another call is in flight (the
	// call is pipelined, not read by its caller).
	prepare func(t *testing.T, c *Conn) (ctx context.Context, busy bool)
}

// ready readies c for the path and returns the call's context: busy, a call that the
// server answers after busyUS µs goes in flight first; else c's reader goroutine has
// parked for lone callers after a first call.
func (p rfastPath) ready(t *testing.T, c *Conn, busyUS string) context.Context {
	t.Helper()
	ctx, busy := p.prepare(t, c)
	if !busy {
		if _, err := c.Do(context.Background(), "DECHO", "0", "warm"); err != nil {
			t.Fatal(err)
		}
		lonely(t, c)
		return ctx
	}
	go func() {
		w := NewWaiter(context.Background(), time.Now().Add(2*time.Second))
		defer w.Release()
		c.Exec(&w, 0, []any{"DECHO", busyUS, "busy"})
	}()
	for i := 0; i < 200 && !c.inflight.busy(); i++ {
		time.Sleep(time.Millisecond)
	}
	return ctx
}

// rfastPaths are the ways a call reaches its queued wait.
var rfastPaths = []rfastPath{
	{"lone", func(t *testing.T, c *Conn) (context.Context, bool) { // reads until its deadline, hands back
		return context.Background(), false
	}},
	{"lone-cancelable", func(t *testing.T, c *Conn) (context.Context, bool) { // reads for soloSlice, then waits
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		return ctx, false
	}},
	{"pipelined", func(t *testing.T, c *Conn) (context.Context, bool) {
		return context.Background(), true
	}},
}

// lonely waits (bounded) until c's reader goroutine has parked for lone callers.
func lonely(t *testing.T, c *Conn) {
	t.Helper()
	for i := 0; i < 200 && c.readState.Load() != readParked; i++ {
		time.Sleep(time.Millisecond)
	}
}

// TestReviewRfastDeadlineClocks: a call to a server that never answers ends at its
// waiter's deadline (not before, at most 250ms after: a busy 2-core machine under -race
// wakes timers late; a conversion off by a clock is off by far more), whatever
// clock reading the deadline carries and however the call came to wait.
func TestReviewRfastDeadlineClocks(t *testing.T) {
	const d = 40 * time.Millisecond
	for _, ck := range rfastClocks {
		for _, p := range rfastPaths {
			t.Run(ck.name+"/"+p.name, func(t *testing.T) {
				_, c := serve(t, waitHandler, Options{ReplyTimeout: 5 * time.Second})
				ctx := p.ready(t, c, "300000")
				dl := ck.at(d)
				w := NewWaiter(ctx, dl)
				defer w.Release()
				_, err := c.Exec(&w, 0, []any{"HANG"})
				end := time.Now()
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("a call to a server that never answers: %v; want its deadline", err)
				}
				if end.Before(dl) {
					t.Fatalf("woken %v before its deadline", dl.Sub(end))
				}
				if late := end.Sub(dl); late > 250*time.Millisecond {
					t.Fatalf("woken %v after its deadline", late)
				}
			})
		}
	}
}

// TestReviewRfastFarDeadlines: a deadline centuries away (a monotonic reading that
// overflowed, so none; a wall time in 2500) or seconds away, with or without its
// monotonic reading, lets a call wait for its reply (100ms late) on every path: never
// an early wake-up (a wrapped conversion), and the request goes back to the pool
// without a token.
func TestReviewRfastFarDeadlines(t *testing.T) {
	deadlines := []struct {
		name string
		at   func() time.Time
	}{
		{"overflowed-monotonic", func() time.Time { return time.Now().Add(math.MaxInt64) }},
		{"year-2500", func() time.Time { return time.Date(2500, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"5s-monotonic", func() time.Time { return time.Now().Add(5 * time.Second) }},
		{"5s-wall", func() time.Time { return time.Now().Add(5 * time.Second).Round(0) }},
		{"9.99s-monotonic", func() time.Time { return time.Now().Add(maxRequestTimer - 10*time.Millisecond) }},
	}
	for _, dk := range deadlines {
		for _, p := range rfastPaths {
			t.Run(dk.name+"/"+p.name, func(t *testing.T) {
				_, c := serve(t, waitHandler, Options{ReplyTimeout: 5 * time.Second})
				ctx := p.ready(t, c, "20000")
				w := NewWaiter(ctx, dk.at())
				defer w.Release()
				v, err := c.Exec(&w, 0, []any{"DECHO", "100000", "mine"})
				if err != nil || string(v.Str) != "mine" {
					t.Fatalf("got %q, %v; want the reply, 100ms later", v.Str, err)
				}
			})
		}
	}
	poolCheck(t)
}
