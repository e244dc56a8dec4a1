package conn

// Adversarial review of the pooled request's persistent deadline timer (af5b772):
// a deadline that does not fit the timer's clock, an arm whose clock reading is old,
// and storms of calls with mixed deadlines sharing the request pool.

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
	"weak"
)

// busyConn starts a call on c that keeps a request in flight for about ms
// milliseconds and returns once it is in flight (bounded), so that the next call is
// neither written nor read by its caller alone (direct.go, solo.go): it waits on its
// request's timer. The returned channel gets the busy call's error.
func busyConn(t *testing.T, c *Conn, ms int) <-chan error {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		_, err := c.Do(ctxWithTimeout(t, 5*time.Second), "SLOW", strconv.Itoa(ms), "busy")
		errc <- err
	}()
	for end := time.Now().Add(2 * time.Second); !c.inflight.busy(); {
		if time.Now().After(end) {
			t.Fatal("the busy call never went in flight")
		}
		time.Sleep(100 * time.Microsecond)
	}
	return errc
}

// TestReviewRtimerHugeTimeout: a waiter deadline centuries away (a CommandTimeout of
// math.MaxInt64, "no timeout"; or a far wall-clock deadline) does not fit in the
// timer clock's int64 ns once added to the time since its epoch: the sum wrapped to
// a negative deadline, which the request's timer kept as armed (its Reset, dl - now,
// wrapped back to ~292 years). No later use of that pooled request could move the
// timer earlier (armed <= every deadline): a call with a 20ms deadline on a server
// that does not answer waited until the connection's health limit (ReplyTimeout).
func TestReviewRtimerHugeTimeout(t *testing.T) {
	for i, mk := range []func() Waiter{
		func() Waiter { return NewWaiterTimeout(context.Background(), math.MaxInt64) },
		func() Waiter { return NewWaiter(context.Background(), time.Date(2500, 1, 1, 0, 0, 0, 0, time.UTC)) },
	} {
		// A connection each: the unanswered call leaves it out of step (a sync
		// marker's reply comes in the HANG's place: it is torn down).
		_, c := serve(t, slowHandler, Options{ReplyTimeout: 2 * time.Second})
		// The huge deadline's call: it gets its reply.
		busy := busyConn(t, c, 20)
		w := mk()
		v, err := c.Exec(&w, 0, []any{"SLOW", "5", "mine"})
		w.Release()
		if err != nil || string(v.Str) != "mine" {
			t.Fatalf("waiter %d (deadline %v): got %q, %v; want its reply", i, w.dl, v.Str, err)
		}
		if err := <-busy; err != nil {
			t.Fatalf("the busy call failed: %v", err)
		}
		// The next call (same goroutine: most likely the same pooled request) has a
		// 20ms deadline and no reply: it must leave by then.
		const d = 20 * time.Millisecond
		busy = busyConn(t, c, 10)
		w = NewWaiterTimeout(context.Background(), d)
		start := time.Now()
		_, err = c.Exec(&w, 0, []any{"HANG"})
		took := time.Since(start)
		w.Release()
		if !errors.Is(err, context.DeadlineExceeded) || took > d+500*time.Millisecond { // the defect: 2s (ReplyTimeout)
			t.Fatalf("after waiter %d: a call with a %v deadline returned after %v: %v", i, d, took, err)
		}
		if err := <-busy; err != nil {
			t.Fatalf("the busy call failed: %v", err)
		}
	}
}

// TestReviewRtimerStaleArm: a caller reads the clock before writing its request and
// arms its request's timer after (roundTrip). The timer was reset for the deadline
// minus that older reading, so it fired late by the time in between (a preempted
// caller on a loaded machine: milliseconds), yet armed recorded the deadline itself.
// A later use of the pooled request whose deadline is at or after armed does not
// move the timer: it was woken as late as that firing, past its deadline + 2ms
// (at af5b772, simulated by passing waitBy a clock reading 200ms old: woken after
// 220ms for a 30ms deadline).
func TestReviewRtimerStaleArm(t *testing.T) {
	t.Parallel()
	const stale = 200 * time.Millisecond // how long the first caller took to arm
	r := &request{done: make(chan struct{}, 2)}

	// Use 1: its caller reads the clock, its deadline 300ms on, and is held up for
	// 200ms before it arms (a sleep stands for the preemption); it gets its reply at
	// once (settles: claims its wake-up).
	r.begin()
	read := sinceEpoch(time.Now())
	time.Sleep(stale)
	r.waitBy(read + int64(stale+100*time.Millisecond))
	if !r.claim() {
		t.Fatal("use 1's wake-up was claimed before it settled")
	}

	// Use 2: deadline 110ms from its start: later than armed, so it does not move
	// the timer; it must be woken by its deadline all the same.
	const d = 110 * time.Millisecond
	woke := timedUse(t, r, d, 0, 2*time.Second)
	// The stale arm's firing woke it ~190ms late: 150ms of slack for a busy machine.
	if woke < d || woke > d+150*time.Millisecond {
		t.Errorf("a use with a %v deadline after a use that armed late was woken after %v", d, woke)
	}
}

// TestReviewRtimerMixedStorm: callers with different waiter deadlines (as clients
// with different CommandTimeouts share the request pool), replies that come around
// them, and a few context-bound calls in between: no call is woken before its
// deadline (a firing armed for another use or another deadline), none more than 500ms
// after it, every reply is the caller's own, and no request goes back to the pool
// with a token.
func TestReviewRtimerMixedStorm(t *testing.T) {
	// A wake-up the timer misses waits for the reply timeout (5s). Not 50ms: under
	// -race beside other packages' tests, 14 of 1,600 calls were woken 50ms+ late
	// (the runtime's timers themselves were); a timer armed too late by another use's
	// deadline (5–25ms here) is TestRequestTimerAcrossUses's to catch.
	const lateBound = 500 * time.Millisecond
	_, c := serve(t, waitHandler, Options{ReplyTimeout: 5 * time.Second})
	var mu sync.Mutex
	var early, late, wrong, ok, timedOut int
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				d := time.Duration(5+rand.IntN(20)) * time.Millisecond
				delay := 0 // the server sleeps in its loop: most replies come at once
				if rand.IntN(20) == 0 {
					delay = rand.IntN(int(d/time.Microsecond) * 2)
				}
				id := strconv.Itoa(g) + "." + strconv.Itoa(i)
				var w Waiter
				cancel := func() {}
				switch rand.IntN(5) {
				case 0: // the context's deadline decides
					ctx, cf := context.WithTimeout(context.Background(), d)
					w, cancel = NewWaiterTimeout(ctx, time.Hour), cf
				case 1: // the waiter's, with a context that can end: a select
					ctx, cf := context.WithTimeout(context.Background(), 2*d)
					w, cancel = NewWaiterTimeout(ctx, d), cf
				default:
					w = NewWaiterTimeout(context.Background(), d)
				}
				dl, _ := w.Deadline()
				v, err := c.Exec(&w, 0, []any{"DECHO", strconv.Itoa(delay), id})
				end := time.Now()
				w.Release()
				cancel()
				mu.Lock()
				switch {
				case err == nil && string(v.Str) != id:
					wrong++
					t.Errorf("call %s got %q", id, v.Str)
				case err == nil:
					ok++
				case errors.Is(err, context.DeadlineExceeded):
					timedOut++
					if end.Before(dl) {
						early++
						t.Errorf("call %s (deadline %v) woken %v before it: %v", id, d, dl.Sub(end), err)
					} else if end.Sub(dl) > lateBound {
						late++
					}
				default:
					t.Errorf("call %s: %v", id, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	t.Logf("%d ok, %d timed out (%d early, %d over %v late), %d wrong", ok, timedOut, early, late, lateBound, wrong)
	if late > 0 {
		t.Errorf("%d calls woken over %v after their deadline", late, lateBound)
	}
	if err := c.Err(); err != nil {
		t.Fatalf("the connection died: %v", err)
	}
	poolCheck(t)
}

// TestReviewRtimerRetention: a pooled request's timer stays armed after its use
// settles, until its deadline; while armed, the runtime's timer heap holds the
// request (the callback is its method). A request the pool lets go (a collection
// with the request unused since the one before) stays alive until its timer fires.
// Before af5b772 settle stopped the timer and such a request was garbage at once.
// The review found the retention unbounded with a long CommandTimeout (minutes, with
// bursts of concurrent calls); now a wait longer than maxRequestTimer uses its
// waiter's timer, which the call's end stops: a request's timer is never armed further
// ahead than that. A dropped request with no timer armed is garbage at once.
func TestReviewRtimerRetention(t *testing.T) {
	mk := func(arm bool) weak.Pointer[request] {
		r := &request{done: make(chan struct{}, 2), buf: make([]byte, 0, maxPooledBuf)}
		r.begin()
		if arm {
			r.waitBy(sinceEpoch(time.Now()) + int64(maxRequestTimer))
		}
		if !r.claim() { // its reply came: the use settled
			t.Fatal("the use's wake-up was claimed before it settled")
		}
		return weak.Make(r)
	}
	unarmed, armed := mk(false), mk(true)
	for range 3 {
		runtime.GC()
	}
	if unarmed.Value() != nil {
		t.Fatal("a dropped request with no timer armed is still alive after 3 collections")
	}
	if r := armed.Value(); r != nil {
		r.tmu.Lock()
		left := time.Duration(r.armed - sinceEpoch(time.Now()))
		r.tmu.Unlock()
		t.Logf("as designed: a dropped request whose timer is armed is alive after 3 collections (its timer fires in %v)", left.Round(time.Second))
	}

	// A wait of an hour (queued: the connection is busy) uses the waiter's timer.
	_, c := serve(t, slowHandler, Options{})
	busy := busyConn(t, c, 20)
	w := NewWaiterTimeout(context.Background(), time.Hour)
	v, err := c.Exec(&w, 0, []any{"SLOW", "5", "mine"})
	own := w.timer != nil
	w.Release()
	if err != nil || string(v.Str) != "mine" {
		t.Fatalf("got %q, %v; want its reply", v.Str, err)
	}
	if err := <-busy; err != nil {
		t.Fatalf("the busy call failed: %v", err)
	}
	if !own {
		t.Error("a queued call with an hour's deadline armed no timer of its waiter's: its request's timer holds the request for the hour")
	}
	// Whatever the pool holds now (the call's request most likely): armed no
	// further ahead than maxRequestTimer.
	now := sinceEpoch(time.Now())
	var seen []*request
	for range 1 << 16 {
		r, _ := requests.Get().(*request)
		if r == nil {
			break
		}
		seen = append(seen, r)
		r.tmu.Lock()
		if a := r.armed; a != 0 && time.Duration(a-now) > maxRequestTimer {
			t.Errorf("a pooled request's timer is armed %v ahead, past maxRequestTimer (%v)", time.Duration(a-now), maxRequestTimer)
		}
		r.tmu.Unlock()
	}
	for _, r := range seen {
		requests.Put(r)
	}
}
