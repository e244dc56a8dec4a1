package testkit

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The canary is a goroutine that sleeps 1ms at a time and records how much later than
// that it woke: the process-wide scheduling stalls (CPU taken by other processes on a
// shared 2-core machine, the race detector, GC) that delay every goroutine alike. A call
// that returns late during such a stall shows the machine, not the client: tests fail
// a call only when it is later than the slack plus the stall seen around it.
var canary struct {
	once   sync.Once
	mu     sync.Mutex
	stalls []stall // the recent ones over 2ms, oldest first
	max    atomic.Int64
}

type stall struct {
	at time.Time // when the canary woke
	d  time.Duration
}

// StartCanary starts the canary once per test binary (it runs until the binary exits).
func StartCanary() {
	canary.once.Do(func() {
		go func() {
			for {
				t0 := time.Now()
				time.Sleep(time.Millisecond)
				now := time.Now()
				d := now.Sub(t0) - time.Millisecond
				if d <= 2*time.Millisecond {
					continue
				}
				canary.mu.Lock()
				if len(canary.stalls) >= 1<<16 {
					canary.stalls = append(canary.stalls[:0], canary.stalls[1<<15:]...)
				}
				canary.stalls = append(canary.stalls, stall{now, d})
				canary.mu.Unlock()
				if int64(d) > canary.max.Load() {
					canary.max.Store(int64(d))
				}
			}
		}()
	})
}

// StallDuring returns the longest stall the canary saw end in [from, to].
func StallDuring(from, to time.Time) time.Duration {
	canary.mu.Lock()
	defer canary.mu.Unlock()
	var m time.Duration
	for _, s := range canary.stalls {
		if !s.at.Before(from) && !s.at.After(to) && s.d > m {
			m = s.d
		}
	}
	return m
}

// CallStats counts the calls of a load phase and how far past its deadline each
// returned.
type CallStats struct {
	// AgainstTimer, set before the first call, arms beside each call a plain timer
	// (time.AfterFunc, as a context's deadline is) for the call's deadline and measures
	// each call's lateness also from when that timer's function ran: the process's own
	// timer and scheduling delay, which no client of the runtime beats, set apart from
	// the client's. Check then also fails a call more than 2ms late beyond both that
	// timer and the canary's stall around it (without the race detector).
	AgainstTimer bool

	calls, failed atomic.Int64
	over2ms       atomic.Int64 // returned more than 2ms after the deadline (the contract)
	maxOver       atomic.Int64 // nanoseconds
	own2ms        atomic.Int64 // AgainstTimer: more than 2ms after the deadline and the plain timer
	maxOwn        atomic.Int64 // nanoseconds
	mu            sync.Mutex
	late          []lateCall // returned more than DeadlineSlack (AgainstTimer: 2ms) after the deadline
}

// lateCall is a call that returned more than DeadlineSlack after its deadline (with
// AgainstTimer, more than 2ms).
type lateCall struct {
	end  time.Time
	over time.Duration
	own  time.Duration // past the deadline and the plain timer (AgainstTimer; else over)
	err  string
}

// Timed runs fn with a context that ends after timeout and records how the call ended.
func (s *CallStats) Timed(timeout time.Duration, fn func(ctx context.Context) error) error {
	StartCanary()
	var fired atomic.Int64 // unix nanoseconds when the plain timer's function ran
	var plain *time.Timer
	if s.AgainstTimer { // armed first: it can only be due earlier than the call's deadline
		plain = time.AfterFunc(timeout, func() { fired.Store(time.Now().UnixNano()) })
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	err := fn(ctx)
	end := time.Now()
	over := end.Sub(start) - timeout
	own := over
	if plain != nil {
		plain.Stop()
		own = 0 // the plain timer had not run when the call returned: the runtime was later
		if f := fired.Load(); f != 0 {
			own = min(over, end.Sub(time.Unix(0, f)))
		}
		storeMax(&s.maxOwn, own)
		if own > 2*time.Millisecond {
			s.own2ms.Add(1)
		}
	}
	s.calls.Add(1)
	if err != nil {
		s.failed.Add(1)
	}
	if over > 2*time.Millisecond {
		s.over2ms.Add(1)
	}
	if over > DeadlineSlack || s.AgainstTimer && over > 2*time.Millisecond {
		s.mu.Lock()
		s.late = append(s.late, lateCall{end, over, own, fmt.Sprint(err)})
		s.mu.Unlock()
	}
	storeMax(&s.maxOver, over)
	return err
}

// storeMax raises m to d.
func storeMax(m *atomic.Int64, d time.Duration) {
	for {
		v := m.Load()
		if int64(d) <= v || m.CompareAndSwap(v, int64(d)) {
			return
		}
	}
}

// Check fails the test if a call went past its deadline by more than the slack plus
// the longest process-wide stall the canary saw while that call was ending.
func (s *CallStats) Check(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var bad, badOwn int
	var first, firstOwn string
	for _, l := range s.late {
		st := StallDuring(l.end.Add(-l.over-50*time.Millisecond), l.end.Add(50*time.Millisecond))
		if l.over > DeadlineSlack+st {
			bad++
			if first == "" {
				first = fmt.Sprintf("%v past the deadline (process stall around it: %v): %s", l.over, st, l.err)
			}
		}
		if s.AgainstTimer && !Race && l.own > 2*time.Millisecond+st {
			badOwn++
			if firstOwn == "" {
				firstOwn = fmt.Sprintf("%v past the deadline, %v past a plain timer for it (process stall around it: %v): %s", l.over, l.own, st, l.err)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d calls returned more than %v after their deadline, beyond any scheduling stall of the process; first: %s", bad, DeadlineSlack, first)
	}
	if badOwn > 0 {
		t.Errorf("%d calls returned more than 2ms after their deadline and after a plain timer set for it, beyond any scheduling stall of the process; first: %s", badOwn, firstOwn)
	}
}

// String summarizes the calls for a FIGURE line.
func (s *CallStats) String() string {
	s.mu.Lock()
	late := 0
	for _, l := range s.late {
		if l.over > DeadlineSlack {
			late++
		}
	}
	s.mu.Unlock()
	own := ""
	if s.AgainstTimer {
		own = fmt.Sprintf(" (%d past deadline+2ms and a plain timer set for it, max %v)", s.own2ms.Load(), max(0, time.Duration(s.maxOwn.Load())).Round(10*time.Microsecond))
	}
	return fmt.Sprintf("%d calls, %d failed, %d past deadline+2ms%s (%d past deadline+%v), max past deadline %v, longest process stall seen by the canary %v",
		s.calls.Load(), s.failed.Load(), s.over2ms.Load(), own, late, DeadlineSlack, max(0, time.Duration(s.maxOver.Load())).Round(10*time.Microsecond),
		time.Duration(canary.max.Load()).Round(100*time.Microsecond))
}
