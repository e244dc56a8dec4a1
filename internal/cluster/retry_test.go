package cluster

import (
	"context"
	"testing"
	"time"
)

// TestRetryBackoff: retries the server asked for (CLUSTERDOWN here) are spaced by a
// backoff that starts at RetryBackoff and doubles up to RetryBackoffMax, each jittered
// within [d/2, d]; only lower bounds are checked (the machine may be slow, never fast).
func TestRetryBackoff(t *testing.T) {
	fc := newFakeCluster(t)
	cfg := testConfig(fc)
	cfg.MaxAttempts, cfg.RetryBackoff, cfg.RetryBackoffMax = 6, 2*time.Millisecond, 8*time.Millisecond
	c := newEngine(t, cfg, threeShards)
	fc.handle(p1, script(step{v: clusterDn}, step{v: clusterDn}, step{v: clusterDn}, step{v: clusterDn}, step{v: vV}))
	start := time.Now()
	r, tr := do(t, c, context.Background(), "GET", k1)
	value("v")(t, r)
	if tr.Attempts != 5 {
		t.Fatalf("%d attempts; want 5", tr.Attempts)
	}
	es := fc.entries()
	// backoffs 2, 4, 8, 8 ms: at least half of each.
	for i, least := range []time.Duration{time.Millisecond, 2 * time.Millisecond, 4 * time.Millisecond, 4 * time.Millisecond} {
		if gap := es[i+1].at.Sub(es[i].at); gap < least {
			t.Errorf("retry %d came %v after the previous try; the backoff is at least %v", i+1, gap, least)
		}
	}
	if el := time.Since(start); el > time.Second {
		t.Fatalf("took %v", el)
	}
}

// TestJitter: Jitter(d) is within [d/2, d].
func TestJitter(t *testing.T) {
	for _, d := range []time.Duration{0, 1, 2, 3, time.Millisecond, 100 * time.Millisecond} {
		for range 100 {
			if j := Jitter(d); j < d/2 || j > d {
				t.Fatalf("Jitter(%v) = %v", d, j)
			}
		}
	}
}

// TestSleepBounded: Sleep never outlasts the waiter: it refuses a wait that would end
// after the deadline, and a canceled context ends one at once.
func TestSleepBounded(t *testing.T) {
	ctx := ctxFor(t, 20*time.Millisecond)
	w := NewWaiter(ctx, time.Time{})
	defer w.Release()
	start := time.Now()
	if Sleep(&w, time.Second) {
		t.Fatal("a 1s sleep within a 20ms deadline was granted")
	}
	if el := time.Since(start); el > 15*time.Millisecond {
		t.Fatalf("a refused sleep took %v", el)
	}
	cctx, cancel := context.WithCancel(context.Background())
	w2 := NewWaiter(cctx, time.Time{})
	defer w2.Release()
	cancel()
	if Sleep(&w2, time.Millisecond) {
		t.Fatal("a sleep on a canceled waiter was granted")
	}
}
