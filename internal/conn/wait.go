package conn

import (
	"context"
	"time"
)

// Waiter is a call's end: its context and, optionally, an earlier deadline of its own
// (the client's command timeout), so that callers need not derive a context per call.
// The zero deadline means the context alone decides.
type Waiter struct {
	ctx   context.Context
	dl    time.Time
	timer *time.Timer
}

var timers freeList[time.Timer]

// NewWaiter returns a waiter for ctx and dl. Release it when the call ends.
func NewWaiter(ctx context.Context, dl time.Time) Waiter {
	w := Waiter{ctx: ctx}
	if dl.IsZero() {
		return w
	}
	if cd, ok := ctx.Deadline(); ok && !cd.After(dl) {
		return w // the context ends first anyway
	}
	w.dl = dl
	d := time.Until(dl)
	if t := timers.get(); t != nil {
		t.Reset(d)
		w.timer = t
	} else {
		w.timer = time.NewTimer(d)
	}
	return w
}

// Release returns the waiter's timer to the pool.
func (w *Waiter) Release() {
	if w.timer != nil {
		w.timer.Stop() // Go ≥1.23: no stale tick survives Stop
		timers.put(w.timer)
		w.timer = nil
	}
}

// Ctx returns the waiter's context.
func (w *Waiter) Ctx() context.Context { return w.ctx }

// Deadline returns the earlier of the context's deadline and the waiter's own.
func (w *Waiter) Deadline() (time.Time, bool) {
	if !w.dl.IsZero() {
		return w.dl, true
	}
	return w.ctx.Deadline()
}

// Expired returns the waiter's own timer channel (nil when the context decides).
func (w *Waiter) Expired() <-chan time.Time {
	if w.timer == nil {
		return nil
	}
	return w.timer.C
}

// Err returns why the wait ended: the context's error, or context.DeadlineExceeded
// when the waiter's own deadline passed; nil while neither has happened.
func (w *Waiter) Err() error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	if !w.dl.IsZero() && !time.Now().Before(w.dl) {
		return context.DeadlineExceeded
	}
	return nil
}
