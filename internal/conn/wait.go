package conn

import (
	"context"
	"time"

	"github.com/redline-go/redline/internal/rerr"
)

// Waiter is a call's end: its context and, optionally, an earlier deadline of its own
// (the client's command timeout), so that callers need not derive a context per call.
// The zero deadline means the context alone decides.
//
// Its end is sticky: once the deadline has passed, every wait on the waiter — however
// many waits came before, and whichever of them took the timer's one tick — ends at
// once, as every wait on a done context does: Expired hands out a closed channel from
// then on.
type Waiter struct {
	ctx   context.Context
	dl    time.Time
	start time.Time
	timer *time.Timer
}

var timers freeList[time.Timer]

// expired is the channel Expired returns once the deadline has passed: closed, so
// every receive from it succeeds at once.
var expired = func() chan time.Time {
	ch := make(chan time.Time)
	close(ch)
	return ch
}()

// NewWaiter returns a waiter for ctx and dl. Release it when the call ends.
func NewWaiter(ctx context.Context, dl time.Time) Waiter {
	now := time.Now()
	if dl.IsZero() {
		return Waiter{ctx: ctx, start: now}
	}
	return newWaiter(ctx, now, dl)
}

// NewWaiterSince is NewWaiter for one step of a call that started at start (a
// pipeline after a DoMulti's barrier, say): its errors count the time elapsed since
// the call's start, not the step's. A zero or later start means now.
func NewWaiterSince(ctx context.Context, dl, start time.Time) Waiter {
	w := NewWaiter(ctx, dl)
	if !start.IsZero() && start.Before(w.start) {
		w.start = start
	}
	return w
}

// NewWaiterTimeout returns a waiter for ctx and a deadline timeout from now (the
// client's command timeout). Release it when the call ends.
func NewWaiterTimeout(ctx context.Context, timeout time.Duration) Waiter {
	now := time.Now()
	return newWaiter(ctx, now, now.Add(timeout))
}

func newWaiter(ctx context.Context, now, dl time.Time) Waiter {
	w := Waiter{ctx: ctx, start: now}
	if cd, ok := ctx.Deadline(); ok && !cd.After(dl) {
		return w // the context ends first anyway
	}
	w.dl = dl
	return w
}

// timerFor returns a running timer that fires at dl, recycled when one is free.
func timerFor(d time.Duration) *time.Timer {
	if t := timers.get(); t != nil {
		t.Reset(d)
		return t
	}
	return time.NewTimer(d)
}

// Release returns the waiter's timer, if a wait armed one, to the pool.
func (w *Waiter) Release() {
	if w.timer != nil {
		w.timer.Stop() // Go ≥1.23: no stale tick survives Stop
		timers.put(w.timer)
		w.timer = nil
	}
}

// Ctx returns the waiter's context.
func (w *Waiter) Ctx() context.Context { return w.ctx }

// Start returns when the waiter was made: the call's start.
func (w *Waiter) Start() time.Time { return w.start }

// Deadline returns the earlier of the context's deadline and the waiter's own.
func (w *Waiter) Deadline() (time.Time, bool) {
	if !w.dl.IsZero() {
		return w.dl, true
	}
	return w.ctx.Deadline()
}

// Expired returns a channel that delivers once the waiter's own deadline has passed
// (nil when the context decides): the timer's, or, once the deadline has passed, a
// closed one, so that a wait after another took the tick still ends at once.
func (w *Waiter) Expired() <-chan time.Time {
	ch, _ := w.expiry()
	return ch
}

// expiry returns Expired's channel and whether the own deadline has passed. The timer
// is armed by the first wait that needs it: a call whose only wait is for its reply
// uses its request's timer instead (roundTrip), and never takes one here.
func (w *Waiter) expiry() (<-chan time.Time, bool) {
	if w.dl.IsZero() {
		return nil, false
	}
	d := time.Until(w.dl)
	if d <= 0 {
		return expired, true
	}
	if w.timer == nil {
		w.timer = timerFor(d)
	}
	return w.timer.C, false
}

// Done reports whether the waiter has ended: its context, or its own deadline.
func (w *Waiter) Done() bool {
	if ctxDone(w.ctx) {
		return true
	}
	return !w.dl.IsZero() && !time.Now().Before(w.dl)
}

// Err returns why the wait ended: the context's error, or context.DeadlineExceeded
// when the waiter's own deadline (or the context's, its timer not run yet) passed;
// nil while neither has happened.
func (w *Waiter) Err() error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	if dl, ok := w.Deadline(); ok && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return nil
}

// DeadlineErr returns the error for a call that ended while waiting on node (nil: on
// no node), its elapsed time measured from the call's start.
func (w *Waiter) DeadlineErr(node *rerr.NodeError) *rerr.DeadlineError {
	return rerr.Deadline(w.ctx, time.Since(w.start), node)
}
