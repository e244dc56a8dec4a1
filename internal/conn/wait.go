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
// many waits came before and whichever of them saw the deadline pass — ends at once,
// as every wait on a done context does. (A timer's tick, by contrast, is seen once:
// a wait that consumed it would leave the next one waiting with no deadline.)
type Waiter struct {
	ctx   context.Context
	dl    time.Time
	start time.Time
	exp   *expiry
}

// expiry closes its channel at the waiter's deadline, for good. Expiries are reused
// while they have not fired; one that fired is left to the collector (its channel
// cannot be reopened), so only a call that reached its deadline allocates a new one.
type expiry struct {
	timer *time.Timer
	ch    chan struct{}
}

func (e *expiry) fire() { close(e.ch) }

var expiries freeList[expiry]

// NewWaiter returns a waiter for ctx and dl. Release it when the call ends.
func NewWaiter(ctx context.Context, dl time.Time) Waiter {
	now := time.Now()
	if dl.IsZero() {
		return Waiter{ctx: ctx, start: now}
	}
	return newWaiter(ctx, now, dl)
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
	d := dl.Sub(now)
	if e := expiries.get(); e != nil {
		e.timer.Reset(d)
		w.exp = e
	} else {
		e = &expiry{ch: make(chan struct{})}
		e.timer = time.AfterFunc(d, e.fire)
		w.exp = e
	}
	return w
}

// Release stops the waiter's timer and recycles it (unless it fired).
func (w *Waiter) Release() {
	if e := w.exp; e != nil {
		w.exp = nil
		if e.timer.Stop() { // not fired: its channel is still open
			expiries.put(e)
		}
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

// Expired returns a channel closed once the waiter's own deadline has passed (nil when
// the context decides). It stays closed: every later wait on it ends at once.
func (w *Waiter) Expired() <-chan struct{} {
	if w.exp == nil {
		return nil
	}
	return w.exp.ch
}

// Done reports whether the waiter has ended (its context, or its own deadline). It
// costs two non-blocking channel checks: cheap enough to ask before every attempt.
func (w *Waiter) Done() bool {
	select {
	case <-w.ctx.Done():
		return true
	default:
	}
	if w.exp == nil {
		return false
	}
	select {
	case <-w.exp.ch:
		return true
	default:
		return false
	}
}

// Err returns why the wait ended: the context's error, or context.DeadlineExceeded
// when the waiter's own deadline (or the context's, its timer not run yet) passed;
// nil while neither has happened.
func (w *Waiter) Err() error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	if dl, ok := w.Deadline(); ok && (w.Done() || !time.Now().Before(dl)) {
		return context.DeadlineExceeded
	}
	return nil
}

// DeadlineErr returns the error for a call that ended while waiting on node (nil: on
// no node), its elapsed time measured from the call's start.
func (w *Waiter) DeadlineErr(node *rerr.NodeError) *rerr.DeadlineError {
	return rerr.Deadline(w.ctx, time.Since(w.start), node)
}
