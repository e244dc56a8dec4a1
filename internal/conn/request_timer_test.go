package conn

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// timedUse is one use of r that waits with a deadline d from now: it waits for a
// wake-up until leave (0: as long as it takes, up to bound), then settles as roundTrip
// does (claims the wake-up, takes a token owed). It returns when the wake-up came (0:
// none came, the use left at leave).
func timedUse(t *testing.T, r *request, d, leave, bound time.Duration) time.Duration {
	t.Helper()
	r.begin()
	start := time.Now()
	r.waitBy(sinceEpoch(start) + int64(d))
	limit := bound
	if leave > 0 {
		limit = leave
	}
	var woke time.Duration
	select {
	case <-r.done:
		woke = time.Since(start)
		if r.claim() {
			t.Fatalf("a wake-up came %v into a use, yet its claim was still free", woke)
		}
	case <-time.After(limit):
		if leave == 0 {
			t.Fatalf("no wake-up %v after a use whose deadline was %v", bound, d)
		}
		if !r.claim() {
			<-r.done // claimed by the timer as the use left: its token is owed
			woke = time.Since(start)
		}
	}
	if n := len(r.done); n != 0 {
		t.Fatalf("%d token(s) left in done after a use settled", n)
	}
	return woke
}

// TestRequestTimerAcrossUses: a pooled request's timer outlives its uses. A use whose
// deadline is earlier than the one the timer is armed for moves it earlier; a use
// whose deadline is later is not woken by a firing armed for an earlier use (the timer
// re-arms itself); a use that left early leaves nothing behind for the next.
func TestRequestTimerAcrossUses(t *testing.T) {
	t.Parallel()
	const bound = 2 * time.Second // generous: a busy machine's timers can be late
	r := &request{done: make(chan struct{}, 2)}

	// Armed for 5s by a use that left at once; the next use's 50ms must hold.
	timedUse(t, r, 5*time.Second, time.Millisecond, bound)
	if woke := timedUse(t, r, 50*time.Millisecond, 0, bound); woke < 50*time.Millisecond {
		t.Errorf("a 50ms use after a 5s one was woken after %v, before its deadline", woke)
	}

	// Armed for 30ms by a use that left at once; the firing at 30ms is the next use's
	// (300ms) too early: it must re-arm, not wake it.
	timedUse(t, r, 30*time.Millisecond, time.Millisecond, bound)
	if woke := timedUse(t, r, 300*time.Millisecond, 0, bound); woke < 300*time.Millisecond {
		t.Errorf("a 300ms use after a 30ms one was woken after %v, before its deadline", woke)
	}

	// Many uses, deadlines 1–20ms, each waited out or left at a random moment: a use is
	// never woken before its deadline, and every use waited out is woken.
	for i := range 300 {
		d := time.Duration(1+rand.IntN(20)) * time.Millisecond
		var leave time.Duration
		if rand.IntN(2) == 0 {
			leave = time.Duration(rand.IntN(int(2 * d)))
			if leave == 0 {
				leave = time.Microsecond
			}
		}
		if woke := timedUse(t, r, d, leave, bound); woke != 0 && woke < d {
			t.Fatalf("use %d: woken after %v, before its deadline %v", i, woke, d)
		}
	}

	// A use with no deadline between two with one: the timer disarms, the next arms it.
	timedUse(t, r, 10*time.Millisecond, time.Microsecond, bound)
	r.begin()
	r.claim()
	armed := func() int64 { r.tmu.Lock(); defer r.tmu.Unlock(); return r.armed }
	for end := time.Now().Add(bound); armed() != 0; { // the 10ms firing finds no deadline
		if time.Now().After(end) {
			t.Fatalf("the timer is still armed %v after its firing, with no use waiting", bound)
		}
		time.Sleep(time.Millisecond)
	}
	if woke := timedUse(t, r, 20*time.Millisecond, 0, bound); woke < 20*time.Millisecond {
		t.Errorf("a 20ms use after an unarmed timer was woken after %v", woke)
	}
}

// TestTimerDeadline: a deadline converts to the timers' clock whether it carries a
// monotonic reading or not, and saturates instead of wrapping.
func TestTimerDeadline(t *testing.T) {
	now := time.Now()
	mono := now.Add(time.Second)
	wall := mono.Round(0)
	a, b := timerDeadline(mono), timerDeadline(wall)
	if d := time.Duration(a - sinceEpoch(now)); d != time.Second {
		t.Errorf("a monotonic deadline 1s ahead converts to %v ahead", d)
	}
	if d := time.Duration(b - a); d < -50*time.Millisecond || d > 50*time.Millisecond {
		t.Errorf("the same deadline without its monotonic reading converts %v apart", d)
	}
	for _, dl := range []time.Time{now.Add(math.MaxInt64), time.Date(2500, 1, 1, 0, 0, 0, 0, time.UTC)} {
		if got := timerDeadline(dl); got < sinceEpoch(now)+int64(100*365*24*time.Hour) {
			t.Errorf("a deadline centuries away (%v) converts to %d: wrapped", dl, got)
		}
	}
}
