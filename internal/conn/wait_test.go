package conn

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/rerr"
)

// expiredWithin waits up to d for the waiter's own deadline; false if it did not come.
func expiredWithin(w *Waiter, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-w.Expired():
		return true
	case <-t.C:
		return false
	}
}

// The waiter's end is sticky: once a wait has seen the deadline pass, every later
// wait on the same waiter ends at once (a timer's tick is seen once only).
func TestWaiterExpirySticky(t *testing.T) {
	w := NewWaiter(context.Background(), time.Now().Add(10*time.Millisecond))
	defer w.Release()
	if w.Done() || w.Err() != nil {
		t.Fatal("done before its deadline")
	}
	if !expiredWithin(&w, 2*time.Second) {
		t.Fatal("the deadline did not come")
	}
	for i := range 3 {
		if !expiredWithin(&w, 50*time.Millisecond) {
			t.Fatalf("wait %d after the deadline was seen did not end at once", i+2)
		}
	}
	if !w.Done() || !errors.Is(w.Err(), context.DeadlineExceeded) {
		t.Errorf("Done %v, Err %v after the deadline", w.Done(), w.Err())
	}
}

// A waiter whose timer fired is recycled: a later waiter must not start expired
// (no stale tick survives Release).
func TestWaiterFiredNotRecycled(t *testing.T) {
	for range 20 {
		w := NewWaiter(context.Background(), time.Now().Add(time.Millisecond))
		if !expiredWithin(&w, 2*time.Second) {
			t.Fatal("the deadline did not come")
		}
		w.Release()
		u := NewWaiter(context.Background(), time.Now().Add(time.Minute))
		v := NewWaiter(context.Background(), time.Now().Add(time.Minute))
		if u.Done() || v.Done() {
			t.Fatal("a new waiter started expired: a stale tick survived")
		}
		u.Release()
		v.Release()
	}
}

// The consumed-tick path: a wait saw the deadline pass, yet the call went on (its
// reply had come in the meantime, say, and it was then redirected). The next round
// trip on the same waiter must end at once with a deadline error and send nothing;
// it used to wait for the reply with no deadline at all and return it with success.
func TestRoundTripAfterObservedExpiry(t *testing.T) {
	s, c := serve(t, slowHandler, Options{})
	w := NewWaiter(context.Background(), time.Now().Add(20*time.Millisecond))
	defer w.Release()
	if !expiredWithin(&w, 2*time.Second) { // the tick is seen (and, with a timer, consumed)
		t.Fatal("the deadline did not come")
	}
	before := s.Commands()
	start := time.Now()
	_, err := c.Exec(&w, 0, []any{"SLOW", "300", "late"})
	el := time.Since(start)
	var de *rerr.DeadlineError
	if !errors.As(err, &de) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v after %v, want a deadline error", err, el)
	}
	if el > 50*time.Millisecond {
		t.Errorf("returned after %v, want at once", el)
	}
	if de.Node == nil || de.Node.Written || !de.SafeToRetry() {
		t.Errorf("error %v: want a node error saying nothing was written", err)
	}
	if de.Elapsed < 20*time.Millisecond {
		t.Errorf("elapsed %v: must count from the call's start (the waiter's), not the attempt's", de.Elapsed)
	}
	if n := s.Commands() - before; n != 0 {
		t.Errorf("the server got %d commands from a call past its deadline", n)
	}
}

// BenchmarkWaiter measures a call's waiter with the command timeout: made, asked
// whether it ended, released (its expiry recycled). It allocates nothing.
func BenchmarkWaiter(b *testing.B) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		w := NewWaiterTimeout(ctx, time.Second)
		if w.Done() {
			b.Fatal("done at once")
		}
		w.Release()
	}
}
